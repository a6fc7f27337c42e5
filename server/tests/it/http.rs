//! HTTP endpoints: guest sign-in, health, readiness and metrics.

use plenary_proto::Role::Attendee;
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn guests_sign_in_and_connect() {
    let server = TestServer::spawn().await;
    let http = reqwest::Client::new();
    let response = http
        .post(server.http_url("/api/guest"))
        .json(&json!({"name": "  Amina  ", "country": "ke"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let token = body["token"].as_str().unwrap().to_owned();
    let mut client = TestClient::connect(&server).await;
    let plenary_proto::ServerMsg::Welcome { user, roles, .. } = client.hello(&token).await else { unreachable!() };
    assert_eq!(user.name, "Amina");
    assert_eq!(user.country.as_deref(), Some("KE"));
    assert_eq!(roles, vec![Attendee]);

    for (body, status) in [
        (json!({"name": ""}), 422),
        (json!({"name": "Amina", "country": "Kenya"}), 422),
        (json!({"nom": "Amina"}), 422),
    ] {
        let response = http.post(server.http_url("/api/guest")).json(&body).send().await.unwrap();
        assert_eq!(response.status(), status, "{body}");
        let error: Value = response.json().await.unwrap();
        assert!(error["detail"].is_string(), "{error}");
    }
}

#[tokio::test]
async fn guest_sign_in_is_off_unless_configured() {
    let server = TestServer::spawn_with(|s| s.guest_signin = None).await;
    let response = reqwest::Client::new()
        .post(server.http_url("/api/guest"))
        .json(&json!({"name": "Amina"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let server = TestServer::spawn().await;
    let mut client = server.client("ada", &[Attendee]).await;
    client.join(&session("metered")).await;
    let http = reqwest::Client::new();
    assert_eq!(http.get(server.http_url("/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(http.get(server.http_url("/readyz")).send().await.unwrap().status(), 200);
    let metrics = http.get(server.http_url("/metrics")).send().await.unwrap().text().await.unwrap();
    for name in ["plenary_connections 1", "plenary_rooms 1", "plenary_messages_in_total", "plenary_bytes_out_total"] {
        assert!(metrics.contains(name), "{name} missing from\n{metrics}");
    }
    assert_eq!(http.get(server.http_url("/nope")).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn guest_sign_ins_are_limited_per_address() {
    let server = TestServer::spawn().await;
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    for n in 0..25 {
        let response =
            http.post(server.http_url("/api/guest")).json(&json!({"name": format!("Guest {n}")})).send().await.unwrap();
        if response.status() == 429 {
            assert!(response.headers().get("retry-after").is_some());
        }
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 20, "{statuses:?}");
    assert_eq!(statuses.last(), Some(&429));
}
