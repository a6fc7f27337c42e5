//! Defects found from outside (issue 14): spoofing characters in names, chat and the
//! stage are cleaned, names in every script come through intact, tokens issued in the
//! future are refused, and every REST error is problem+json with the security headers.

use plenary_proto::Role::{Attendee, Moderator};
use plenary_proto::{ClientMsg, RoomEvent, ServerMsg};
use serde_json::{Value, json};

use crate::support::*;

async fn welcomed_name(server: &TestServer, name: &str) -> String {
    let mut claims = claims("spoof", &[Attendee], 600);
    claims.name = name.to_owned();
    let mut client = TestClient::connect(server).await;
    let ServerMsg::Welcome { user, .. } = client.hello(&sign(&claims, SECRET)).await else { unreachable!() };
    user.name
}

#[tokio::test]
async fn names_lose_spoofing_characters_and_keep_every_script() {
    let server = TestServer::spawn().await;
    assert_eq!(welcomed_name(&server, "Ada\u{202E}\u{200B} Love\u{2066}lace\u{2069}").await, "Ada Lovelace");
    for name in ["نور الهدى", "می\u{200C}خواهم", "अनुष्का क्\u{200D}ष", "👩\u{200D}💻 Amina", "👨\u{200D}👩\u{200D}👧 🇰🇪"]
    {
        let got = welcomed_name(&server, name).await;
        assert_eq!(got.as_bytes(), name.as_bytes(), "{name:?} came back as {got:?}");
    }

    // Guest names follow the same rules.
    let http = reqwest::Client::new();
    let response = http
        .post(server.http_url("/api/guest"))
        .json(&json!({"name": "\u{202E}Amina\u{200B}\u{2028}K."}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let token = response.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    let mut guest = TestClient::connect(&server).await;
    let ServerMsg::Welcome { user, .. } = guest.hello(&token).await else { unreachable!() };
    assert_eq!(user.name, "Amina K.");
}

#[tokio::test]
async fn chat_and_stage_lose_spoofing_characters() {
    let server = TestServer::spawn().await;
    let room = session("keynote");
    let mut ada = server.client("ada", &[Attendee]).await;
    let mut mo = server.client("mo", &[Moderator]).await;
    ada.join(&room).await;
    mo.join(&room).await;

    let sent = "\u{2066}hello\u{2069}\u{2028}\u{2067}world\u{2068} \u{FEFF}";
    assert!(matches!(ada.request(chat(&room, sent)).await, ServerMsg::Ack { .. }));
    let msg = mo.recv_until("chat", |m| matches!(m, ServerMsg::Event { event: RoomEvent::Chat { .. }, .. })).await;
    let ServerMsg::Event { event: RoomEvent::Chat { message }, .. } = msg else { unreachable!() };
    assert_eq!(message.text, "hello\nworld");

    let speaker = Some("Doreen\u{202E} Bogdan\u{200B}-Martin\u{2029}".to_owned());
    let answer =
        mo.request(|rid| ClientMsg::StageUpdate { rid, room: room.clone(), state: None, title: None, speaker }).await;
    assert!(matches!(answer, ServerMsg::Ack { .. }), "{answer:?}");
    let msg = ada.recv_until("stage", |m| matches!(m, ServerMsg::Event { event: RoomEvent::Stage { .. }, .. })).await;
    let ServerMsg::Event { event: RoomEvent::Stage { stage, .. }, .. } = msg else { unreachable!() };
    assert_eq!(stage.speaker.as_deref(), Some("Doreen Bogdan-Martin"));
}

#[tokio::test]
async fn a_token_issued_in_the_future_is_refused() {
    let server = TestServer::spawn().await;
    let mut future = claims("ada", &[Attendee], 2 * 86_400);
    future.iat = Some(plenary_server::clock::unix_secs() + 86_400);
    let mut client = TestClient::connect(&server).await;
    client.send(&ClientMsg::Hello { protocol: vec![1], token: sign(&future, SECRET) }).await;
    assert_eq!(client.ended().await, Ended::Closed(4502));
}

/// Checks a response is a problem with `status` and the security headers; returns it.
async fn problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_security_headers(&headers);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert!(body["detail"].is_string(), "{body}");
    body
}

fn assert_security_headers(headers: &reqwest::header::HeaderMap) {
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["cross-origin-resource-policy"], "same-origin");
    assert!(headers["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
}

#[tokio::test]
async fn rest_errors_are_problems_with_security_headers() {
    let server = TestServer::spawn().await;
    let http = reqwest::Client::new();
    problem(http.get(server.http_url("/api/nope")).send().await.unwrap(), 404).await;
    problem(http.get(server.http_url("/nope")).send().await.unwrap(), 404).await;
    problem(http.delete(server.http_url("/api/client")).send().await.unwrap(), 405).await;

    // Just over axum's default body limit (2 MiB), so the whole body fits the loopback
    // socket's buffers and the client reads the answer rather than a reset.
    let name = "x".repeat(2 * 1024 * 1024 + 1024);
    let response = http.post(server.http_url("/api/guest")).json(&json!({ "name": name })).send().await.unwrap();
    problem(response, 413).await;
    let body = problem(http.post(server.http_url("/api/guest")).json(&json!({"name": ""})).send().await.unwrap(), 422);
    assert_eq!(body.await["errors"][0]["location"], "name");

    for path in ["/healthz", "/metrics", "/api/client"] {
        let response = http.get(server.http_url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_security_headers(response.headers());
    }

    let closed = TestServer::spawn_with(|s| s.guest_signin = None).await;
    let response = http.post(closed.http_url("/api/guest")).json(&json!({"name": "Amina"})).send().await.unwrap();
    problem(response, 403).await;
}
