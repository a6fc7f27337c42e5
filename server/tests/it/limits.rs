//! Protection: slow consumers, oversize frames, malformed input, foreign origins, rate and
//! room limits.

use futures_util::SinkExt;
use plenary_proto::Role::Attendee;
use plenary_proto::{ClientMsg, RequestId, ServerMsg};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::support::*;

#[tokio::test]
async fn a_client_that_never_reads_is_closed_as_slow_while_others_keep_receiving() {
    let server = TestServer::spawn_with(|s| {
        s.outbox_frames = 16;
        s.chat_burst = 10_000;
        s.chat_per_minute = 1_000_000;
        s.command_burst = 10_000;
        s.commands_per_second = 100_000;
    })
    .await;
    let room = session("firehose");
    let mut slow = TestClient::connect_with_small_buffer(&server).await;
    slow.hello(&token("slow", &[Attendee])).await;
    slow.join(&room).await;
    let mut fast = server.client("fast", &[Attendee]).await;
    fast.join(&room).await;
    let mut other = server.client("other", &[Attendee]).await;
    other.join(&room).await;

    let text = "x".repeat(900);
    let metrics = server.state.metrics.clone();
    let mut sent = 0;
    // Bounded: far more than a loopback socket buffer holds.
    while metrics.slow_consumer_closes.get() == 0 {
        assert!(sent < 20_000, "the slow client was never closed");
        let (r, t) = (room.clone(), text.clone());
        let answer = fast.request(|rid| ClientMsg::ChatSend { rid, room: r, text: t }).await;
        assert!(matches!(answer, ServerMsg::Ack { .. }), "{answer:?}");
        sent += 1;
    }
    // The others still receive new messages.
    let (r, t) = (room.clone(), "still here".to_owned());
    fast.request(|rid| ClientMsg::ChatSend { rid, room: r, text: t }).await;
    other
        .recv_until("the latest message", |m| {
            matches!(m, ServerMsg::Event { event: plenary_proto::RoomEvent::Chat { message }, .. } if message.text == "still here")
        })
        .await;
    assert_eq!(slow.ended().await, Ended::Closed(4000));
    assert_eq!(metrics.slow_consumer_closes.get(), 1);
}

#[tokio::test]
async fn an_oversize_frame_closes_with_1009() {
    let server = TestServer::spawn().await;
    let mut client = server.client("ada", &[Attendee]).await;
    client
        .send_raw(&format!(r#"{{"type":"chat_send","rid":1,"room":"session:a","text":"{}"}}"#, "x".repeat(20_000)))
        .await;
    assert_eq!(client.ended().await, Ended::Closed(1009));
}

#[tokio::test]
async fn malformed_and_unknown_messages_get_errors_and_the_connection_survives() {
    let server = TestServer::spawn().await;
    let mut client = server.client("ada", &[Attendee]).await;
    client.send_raw("{not json").await;
    let msg = client.recv().await;
    assert_eq!(error_code(&msg), 400);
    assert!(matches!(msg, ServerMsg::Error { rid: None, .. }));

    client.send_raw(r#"{"type":"dance","rid":7}"#).await;
    let msg = client.recv().await;
    assert_eq!(error_code(&msg), 400);
    assert!(matches!(msg, ServerMsg::Error { rid: Some(RequestId(7)), .. }), "{msg:?}");

    client.send_raw(r#"{"type":"join","rid":8,"room":"has spaces"}"#).await;
    assert_eq!(error_code(&client.recv().await), 400);

    client.ws.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    assert_eq!(error_code(&client.recv().await), 400);

    client.join(&session("still-alive")).await;
}

#[tokio::test]
async fn a_foreign_origin_is_refused_before_the_upgrade() {
    let server = TestServer::spawn().await;
    let mut request = server.ws_url().into_client_request().unwrap();
    request.headers_mut().insert("origin", "https://evil.example".parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("expected 403, got {other:?}"),
    }
    let mut request = server.ws_url().into_client_request().unwrap();
    let own = format!("http://{}", server.addr);
    request.headers_mut().insert("origin", own.parse().unwrap());
    assert!(tokio_tungstenite::connect_async(request).await.is_ok(), "the node's own origin is allowed");
}

#[tokio::test]
async fn command_rate_and_room_limits() {
    let server = TestServer::spawn_with(|s| {
        s.commands_per_second = 2;
        s.command_burst = 4;
        s.max_rooms_per_connection = 2;
    })
    .await;
    let mut client = server.client("ada", &[Attendee]).await;
    client.join(&session("a")).await;
    client.join(&session("b")).await;
    let too_many = client.request(|rid| ClientMsg::Join { rid, room: session("c"), since: None }).await;
    assert_eq!(error_code(&too_many), 428);
    // Burst exhausted: the next commands are refused with a retry hint.
    let mut limited = 0;
    for _ in 0..6 {
        let answer =
            client.request(|rid| ClientMsg::ChatHistory { rid, room: session("a"), before: None, limit: None }).await;
        if let ServerMsg::Error { code, retry_after_ms, .. } = answer {
            assert_eq!(code.as_u16(), 429);
            assert!(retry_after_ms.is_some());
            limited += 1;
        }
    }
    assert!(limited >= 4, "only {limited} of 6 commands were limited");
}

#[tokio::test]
async fn a_silent_client_is_closed_after_the_idle_timeout() {
    let server = TestServer::spawn_with(|s| {
        s.ping_interval_ms = 50;
        s.idle_timeout_ms = 300;
    })
    .await;
    // A client that never reads never answers pings either.
    let mut silent = server.client("silent", &[Attendee]).await;
    let metrics = server.state.metrics.clone();
    eventually("the idle close", || async {
        metrics.closes.get_or_create(&plenary_server::metrics::CodeLabel { code: 4001 }).get() == 1
    })
    .await;
    assert_eq!(silent.ended().await, Ended::Closed(4001));
}

#[tokio::test]
async fn a_full_node_closes_new_connections_with_4003() {
    let server = TestServer::spawn_with(|s| s.max_connections = 2).await;
    let _a = server.client("a", &[Attendee]).await;
    let _b = server.client("b", &[Attendee]).await;
    let mut c = TestClient::connect(&server).await;
    assert_eq!(c.ended().await, Ended::Closed(4003));
}

#[tokio::test]
async fn a_client_close_is_answered_with_a_close_frame() {
    let server = TestServer::spawn().await;
    let mut client = server.client("ada", &[Attendee]).await;
    client.ws.close(None).await.unwrap();
    assert_eq!(client.ended().await, Ended::Closed(1005), "the node echoed the close (no code given)");
}
