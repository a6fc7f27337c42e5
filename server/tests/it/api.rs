//! The REST API over HTTP: public programme reads and filters, organiser writes with
//! validation as problem details, the authorisation matrix, role grants reaching the
//! WebSocket, analytics and exports, and the OpenAPI document.

use plenary_proto::Role::{self, Attendee, Exhibitor, Moderator, Organiser, Speaker};
use plenary_proto::{ClientMsg, RoomEvent, ServerMsg, StageState};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::databases::{Kind, TestDatabase};
use crate::support::*;

struct Api {
    server: TestServer,
    db: Option<TestDatabase>,
    http: reqwest::Client,
}

impl Api {
    async fn start() -> Api {
        let db = TestDatabase::create(Kind::Sqlite).await;
        let url = db.url.clone();
        let server = TestServer::spawn_with(move |s| s.database_url = Some(url)).await;
        Api { server, db: Some(db), http: reqwest::Client::new() }
    }

    async fn call(&self, method: Method, path: &str, role: Option<Role>, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.http.request(method, self.server.http_url(path));
        if let Some(role) = role {
            request = request.bearer_auth(token(&format!("{}-user", role.as_str()), &[role]));
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        if status.is_client_error() || status.is_server_error() {
            assert_eq!(content_type.as_deref(), Some("application/problem+json"), "{status} {text}");
        }
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn finish(mut self) {
        self.server.shutdown().await;
        if let Some(db) = self.db.take() {
            db.drop_database().await;
        }
    }
}

fn track(id: &str, name: &str) -> Value {
    json!({"id": id, "name": name})
}

fn session(id: &str, starts: &str, ends: &str, track: &str, tags: &[&str], languages: &[&str]) -> Value {
    json!({
        "id": id, "title": format!("Session {id}"), "description": "About digital inclusion",
        "kind": "workshop", "starts_at": starts, "ends_at": ends, "track": track,
        "tags": tags, "languages": languages,
        "stage": {"kind": "hls", "url": "https://stream.example/live.m3u8"}
    })
}

async fn seed(api: &Api) {
    let event =
        json!({"name": "WSIS Forum", "time_zone": "Europe/Zurich", "starts_on": "2025-07-07", "ends_on": "2025-07-11"});
    assert_eq!(api.call(Method::PUT, "/api/event", Some(Organiser), Some(event)).await.0, StatusCode::OK);
    for (id, name) in [("youth", "ICTs and Youth"), ("accessibility", "Accessibility")] {
        let (status, body) =
            api.call(Method::PUT, &format!("/api/tracks/{id}"), Some(Organiser), Some(track(id, name))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let sessions = [
        // 23:30 UTC on the 7th is 01:30 on the 8th in Zurich.
        session("late-night", "2025-07-07T23:30:00Z", "2025-07-08T00:30:00Z", "youth", &["C1", "SDG4"], &["en"]),
        session("morning", "2025-07-08T07:00:00Z", "2025-07-08T08:00:00Z", "accessibility", &["C3"], &["fr", "en"]),
        session("opening", "2025-07-07T08:00:00Z", "2025-07-07T09:00:00Z", "youth", &["SDG9"], &["en"]),
    ];
    for s in sessions {
        let id = s["id"].as_str().unwrap().to_owned();
        let (status, body) = api.call(Method::PUT, &format!("/api/sessions/{id}"), Some(Organiser), Some(s)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

fn ids(body: &Value) -> Vec<&str> {
    body.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn the_programme_is_read_and_filtered() {
    let api = Api::start().await;
    seed(&api).await;
    let (status, all) = api.call(Method::GET, "/api/sessions", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&all), ["opening", "late-night", "morning"], "by start time");
    assert_eq!(all[0]["room"], "session:opening");
    assert_eq!(all[0]["starts_at"], "2025-07-07T08:00:00Z");

    let filtered = |q: &'static str| {
        let api = &api;
        async move { api.call(Method::GET, &format!("/api/sessions?{q}"), None, None).await.1 }
    };
    assert_eq!(ids(&filtered("day=2025-07-08").await), ["late-night", "morning"], "days are the event's days");
    assert_eq!(ids(&filtered("track=youth").await), ["opening", "late-night"]);
    assert_eq!(ids(&filtered("tag=sdg4").await), ["late-night"]);
    assert_eq!(ids(&filtered("language=fr").await), ["morning"]);
    assert_eq!(ids(&filtered("q=session+morning").await), ["morning"]);
    assert_eq!(api.call(Method::GET, "/api/sessions?day=July", None, None).await.0, StatusCode::BAD_REQUEST);

    // A session going live shows up as live now, with its attendance.
    let mut mo = api.server.client("mo", &[Moderator]).await;
    mo.join(&session_room("morning")).await;
    mo.request(|rid| ClientMsg::StageUpdate {
        rid,
        room: session_room("morning"),
        state: Some(StageState::Live),
        title: None,
        speaker: None,
    })
    .await;
    let live = filtered("live=true").await;
    assert_eq!(ids(&live), ["morning"]);
    assert_eq!(live[0]["live"], json!({"state": "live", "present": 1}));

    let (status, one) = api.call(Method::GET, "/api/sessions/opening", None, None).await;
    assert_eq!((status, one["title"].as_str()), (StatusCode::OK, Some("Session opening")));
    assert_eq!(api.call(Method::GET, "/api/sessions/nope", None, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        api.call(Method::GET, "/api/tracks", None, None).await.1[0]["id"],
        "accessibility",
        "by position, then id"
    );
    assert_eq!(api.call(Method::GET, "/api/event", None, None).await.1["time_zone"], "Europe/Zurich");
    drop(mo);
    api.finish().await;
}

fn session_room(id: &str) -> plenary_proto::RoomId {
    plenary_proto::RoomId::session(id).unwrap()
}

#[tokio::test]
async fn invalid_records_are_refused_with_every_field_named_and_nothing_written() {
    let api = Api::start().await;
    seed(&api).await;
    let bad = json!({
        "id": "broken", "title": " ", "kind": "workshop", "starts_at": "2025-07-08T10:00:00Z",
        "ends_at": "2025-07-08T09:00:00Z", "track": "astronomy", "languages": ["english"],
        "stage": {"kind": "embed", "url": "https://evil.example/player"}
    });
    let (status, problem) = api.call(Method::PUT, "/api/sessions/broken", Some(Organiser), Some(bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let locations: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["location"].as_str().unwrap()).collect();
    for expected in [
        "sessions[0].title",
        "sessions[0].ends_at",
        "sessions[0].languages[0]",
        "sessions[0].stage.url",
        "sessions[0].track",
    ] {
        assert!(locations.contains(&expected), "{expected} missing from {locations:?}");
    }
    assert_eq!(api.call(Method::GET, "/api/sessions/broken", None, None).await.0, StatusCode::NOT_FOUND);

    let mismatch = session("other", "2025-07-08T10:00:00Z", "2025-07-08T11:00:00Z", "youth", &[], &[]);
    assert_eq!(
        api.call(Method::PUT, "/api/sessions/this", Some(Organiser), Some(mismatch)).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let (status, problem) = api.call(Method::PUT, "/api/event", Some(Organiser), Some(json!({"name": "x"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    api.finish().await;
}

#[tokio::test]
async fn every_organiser_endpoint_is_authorised_by_role() {
    let api = Api::start().await;
    seed(&api).await;
    let grant = json!({"user": "someone", "role": "moderator", "scope": "opening"});
    let endpoints: Vec<(Method, &str, Option<Value>)> = vec![
        (
            Method::PUT,
            "/api/event",
            Some(json!({"name": "WSIS Forum", "time_zone": "UTC", "starts_on": "2025-07-07", "ends_on": "2025-07-11"})),
        ),
        (Method::PUT, "/api/tracks/youth", Some(track("youth", "Youth"))),
        (Method::PUT, "/api/speakers/doreen", Some(json!({"id": "doreen", "name": "Doreen"}))),
        (
            Method::PUT,
            "/api/sessions/opening",
            Some(session("opening", "2025-07-07T08:00:00Z", "2025-07-07T09:00:00Z", "youth", &[], &[])),
        ),
        (Method::PUT, "/api/booths/itu", Some(json!({"id": "itu", "organisation": "ITU"}))),
        (Method::GET, "/api/grants", None),
        (Method::POST, "/api/grants", Some(grant.clone())),
        (Method::DELETE, "/api/grants", Some(grant)),
        (Method::GET, "/api/sessions/opening/attendance", None),
        (Method::GET, "/api/sessions/opening/transcript.csv", None),
        (Method::GET, "/api/analytics/sessions", None),
        (Method::GET, "/api/analytics/sessions.csv", None),
        (Method::GET, "/api/analytics/event", None),
        (Method::DELETE, "/api/booths/itu", None),
        (Method::DELETE, "/api/speakers/doreen", None),
        (Method::DELETE, "/api/sessions/late-night", None),
        (Method::DELETE, "/api/tracks/accessibility", None),
    ];
    for (method, path, body) in endpoints {
        let (status, _) = api.call(method.clone(), path, None, body.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} without a token");
        for role in [Attendee, Speaker, Exhibitor, Moderator] {
            let (status, _) = api.call(method.clone(), path, Some(role), body.clone()).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path} as {role:?}");
        }
        let (status, body) = api.call(method.clone(), path, Some(Organiser), body).await;
        assert!(status.is_success(), "{method} {path} as organiser: {status} {body}");
    }
    // Public reads need no token.
    for path in ["/api/event", "/api/tracks", "/api/speakers", "/api/sessions", "/api/booths", "/api/openapi.json"] {
        assert_eq!(api.call(Method::GET, path, None, None).await.0, StatusCode::OK, "{path}");
    }
    api.finish().await;
}

#[tokio::test]
async fn a_grant_makes_an_attendee_moderator_of_one_session() {
    let api = Api::start().await;
    seed(&api).await;
    let grant = json!({"user": "volunteer", "role": "moderator", "scope": "opening"});
    assert_eq!(
        api.call(Method::POST, "/api/grants", Some(Organiser), Some(grant.clone())).await.0,
        StatusCode::CREATED
    );
    let bad = json!({"user": "volunteer", "role": "moderator", "scope": "no-such-session"});
    assert_eq!(
        api.call(Method::POST, "/api/grants", Some(Organiser), Some(bad)).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let (_, grants) = api.call(Method::GET, "/api/grants", Some(Organiser), None).await;
    assert_eq!(grants[0]["user"], "volunteer");
    assert_eq!(grants[0]["granted_by"], "organiser-user");

    let mut volunteer = api.server.client("volunteer", &[Attendee]).await;
    let ServerMsg::Snapshot { you, .. } = volunteer.join(&session_room("opening")).await else { unreachable!() };
    assert!(you.can_manage_stage, "the grant applies in its session");
    let ServerMsg::Snapshot { you, .. } = volunteer.join(&session_room("morning")).await else { unreachable!() };
    assert!(!you.can_manage_stage, "and nowhere else");

    assert_eq!(
        api.call(Method::DELETE, "/api/grants", Some(Organiser), Some(grant.clone())).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(api.call(Method::DELETE, "/api/grants", Some(Organiser), Some(grant)).await.0, StatusCode::NOT_FOUND);
    let mut again = api.server.client("volunteer", &[Attendee]).await;
    let ServerMsg::Snapshot { you, .. } = again.join(&session_room("opening")).await else { unreachable!() };
    assert!(!you.can_manage_stage, "revoked for the next connection");
    drop((volunteer, again));
    api.finish().await;
}

#[tokio::test]
async fn attendance_and_transcripts_are_reported() {
    let api = Api::start().await;
    seed(&api).await;
    let room = session_room("opening");
    let mut mo = api.server.client("mo", &[Moderator]).await;
    mo.join(&room).await;
    let mut ada = api.server.client("ada", &[Attendee]).await;
    ada.join(&room).await;
    let r = room.clone();
    ada.request(|rid| ClientMsg::ChatSend { rid, room: r, text: "Hello, Geneva".into() }).await;
    let r = room.clone();
    ada.request(|rid| ClientMsg::ChatSend { rid, room: r, text: "Oops".into() }).await;
    let deleted = mo
        .recv_until(
            "the second message",
            |m| matches!(m, ServerMsg::Event { event: RoomEvent::Chat { message }, .. } if message.text == "Oops"),
        )
        .await;
    let ServerMsg::Event { event: RoomEvent::Chat { message }, .. } = deleted else { unreachable!() };
    let r = room.clone();
    mo.request(|rid| ClientMsg::ChatDelete { rid, room: r, id: message.id }).await;
    let r = room.clone();
    ada.request(|rid| ClientMsg::Leave { rid, room: r }).await;
    drop(ada);

    // Records are written in batches: wait until they are in.
    let metrics = api.server.state.metrics.clone();
    eventually("the records to be written", || async { metrics.store_records.get() >= 6 }).await;
    let (status, report) = api.call(Method::GET, "/api/sessions/opening/attendance", Some(Organiser), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["unique_attendees"], 2);
    assert_eq!(report["peak_concurrent"], 2);
    assert_eq!(report["top_countries"], json!([{"country": "CH", "attendees": 2}]));

    let transcript = api
        .http
        .get(api.server.http_url("/api/sessions/opening/transcript.csv"))
        .bearer_auth(token("boss", &[Organiser]))
        .send()
        .await
        .unwrap();
    assert_eq!(transcript.headers()["content-type"], "text/csv; charset=utf-8");
    let text = transcript.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[1].contains("Hello, Geneva"));
    assert!(lines[2].contains("Oops") && lines[2].ends_with(",mo"), "the deletion is marked: {}", lines[2]);

    let (_, event) = api.call(Method::GET, "/api/analytics/event", Some(Organiser), None).await;
    assert_eq!(event["total"]["unique_attendees"], 2);
    assert_eq!(event["by_day"][0]["key"], "2025-07-07");
    assert_eq!(event["by_track"][0]["key"], "youth");
    let csv = api
        .http
        .get(api.server.http_url("/api/analytics/sessions.csv"))
        .bearer_auth(token("boss", &[Organiser]))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.lines().any(|l| l.starts_with("opening,Session opening,") && l.contains(",2,2,")), "{csv}");
    drop(mo);
    api.finish().await;
}

#[tokio::test]
async fn the_openapi_document_describes_every_endpoint() {
    let api = Api::start().await;
    let (status, doc) = api.call(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/api/event", &["get", "put"][..]),
        ("/api/tracks", &["get"]),
        ("/api/tracks/{id}", &["put", "delete"]),
        ("/api/speakers", &["get"]),
        ("/api/speakers/{id}", &["put", "delete"]),
        ("/api/sessions", &["get"]),
        ("/api/sessions/{id}", &["get", "put", "delete"]),
        ("/api/sessions/{id}/attendance", &["get"]),
        ("/api/sessions/{id}/transcript.csv", &["get"]),
        ("/api/booths", &["get"]),
        ("/api/booths/{id}", &["get", "put", "delete"]),
        ("/api/grants", &["get", "post", "delete"]),
        ("/api/analytics/sessions", &["get"]),
        ("/api/analytics/sessions.csv", &["get"]),
        ("/api/analytics/event", &["get"]),
        ("/api/guest", &["post"]),
    ] {
        for method in methods {
            assert!(paths.get(path).and_then(|p| p.get(*method)).is_some(), "{method} {path} is not documented");
        }
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    api.finish().await;
}
