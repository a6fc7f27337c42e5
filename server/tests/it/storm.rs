//! A join storm: 2,000 clients join one session; attendance is coalesced, so each client
//! hears at most about two attendance messages per second, and the total stays O(N).

use std::sync::Arc;
use std::time::Duration;

use plenary_proto::Role::Attendee;
use plenary_proto::ServerMsg;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::support::*;

const CLIENTS: usize = 2_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_storm_costs_linear_attendance_traffic() {
    let server = Arc::new(TestServer::spawn().await);
    let room = session("storm");
    let connecting = Arc::new(Semaphore::new(64));
    let mut tasks = Vec::with_capacity(CLIENTS);
    for n in 0..CLIENTS {
        let (server, room, connecting) = (server.clone(), room.clone(), connecting.clone());
        tasks.push(tokio::spawn(async move {
            let mut client = {
                let _permit = connecting.acquire().await.unwrap();
                let mut client = server.client(&format!("user{n}"), &[Attendee]).await;
                client.join(&room).await;
                client
            };
            let joined_at = Instant::now();
            // Every client stays until it has heard that all have joined.
            let mut attendance_messages = 0u32;
            loop {
                if let ServerMsg::Attendance { attendance, .. } = client.recv().await {
                    attendance_messages += 1;
                    if attendance.present as usize == CLIENTS {
                        break;
                    }
                }
            }
            (attendance_messages, joined_at.elapsed())
        }));
    }
    let mut total = 0u64;
    let mut worst = 0f64;
    for task in tasks {
        let (messages, elapsed) = tokio::time::timeout(Duration::from_secs(120), task).await.unwrap().unwrap();
        total += u64::from(messages);
        let allowed = 2.0 * elapsed.as_secs_f64() + 2.0;
        worst = f64::max(worst, f64::from(messages) / allowed);
        assert!(f64::from(messages) <= allowed, "a client got {messages} attendance messages in {elapsed:?}");
    }
    // Linear, not quadratic: a few messages per client in total.
    assert!(total < (CLIENTS as u64) * 40, "{total} attendance messages for {CLIENTS} joins");
    eprintln!(
        "join storm: {total} attendance messages to {CLIENTS} clients; worst client at {worst:.2} of its allowance"
    );
}
