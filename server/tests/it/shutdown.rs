//! Graceful shutdown closes every client with "going away" and waits for every task.

use plenary_proto::Role::Attendee;

use crate::support::*;

#[tokio::test]
async fn shutdown_closes_every_client_with_going_away() {
    let server = TestServer::spawn().await;
    let mut clients = Vec::new();
    for n in 0..5 {
        let mut c = server.client(&format!("u{n}"), &[Attendee]).await;
        c.join(&session("closing")).await;
        clients.push(c);
    }
    let tracker = server.state.tracker.clone();
    let shutdown = tokio::spawn(server.shutdown());
    for c in &mut clients {
        assert_eq!(c.ended().await, Ended::Closed(1001));
    }
    shutdown.await.unwrap();
    assert!(tracker.is_empty(), "every connection and room task finished");
}
