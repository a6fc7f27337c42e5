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

    // A PUT may not take over another record's external id.
    let mut first = session("first", "2025-07-08T10:00:00Z", "2025-07-08T11:00:00Z", "youth", &[], &[]);
    first["external_id"] = json!("cfp-1");
    assert_eq!(
        api.call(Method::PUT, "/api/sessions/first", Some(Organiser), Some(first.clone())).await.0,
        StatusCode::OK
    );
    assert_eq!(api.call(Method::PUT, "/api/sessions/first", Some(Organiser), Some(first)).await.0, StatusCode::OK);
    let mut second = session("second", "2025-07-08T10:00:00Z", "2025-07-08T11:00:00Z", "youth", &[], &[]);
    second["external_id"] = json!("cfp-1");
    let (status, problem) = api.call(Method::PUT, "/api/sessions/second", Some(Organiser), Some(second)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["location"], "external_id");

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
        (Method::GET, "/api/analytics/event.csv", None),
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
    ada.request(chat(&room, "Hello, Geneva")).await;
    ada.request(chat(&room, "=Oops")).await;
    let deleted = mo
        .recv_until(
            "the second message",
            |m| matches!(m, ServerMsg::Event { event: RoomEvent::Chat { message }, .. } if message.text == "=Oops"),
        )
        .await;
    let ServerMsg::Event { event: RoomEvent::Chat { message }, .. } = deleted else { unreachable!() };
    let r = room.clone();
    mo.request(|rid| ClientMsg::ChatDelete { rid, room: r, id: message.id }).await;
    let r = room.clone();
    ada.request(|rid| ClientMsg::Leave { rid, room: r }).await;
    drop(ada);
    let r = room.clone();
    mo.request(|rid| ClientMsg::Leave { rid, room: r }).await;

    // Records are written in batches: wait until they are in.
    let metrics = api.server.state.metrics.clone();
    eventually("the records to be written", || async { metrics.store_records.get() >= 7 }).await;
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
    assert!(lines[2].contains("'=Oops") && lines[2].ends_with(",mo"), "deleted, and never a formula: {}", lines[2]);

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
        ("/api/analytics/event.csv", &["get"]),
        ("/api/import", &["post"]),
        ("/api/guest", &["post"]),
    ] {
        for method in methods {
            assert!(paths.get(path).and_then(|p| p.get(*method)).is_some(), "{method} {path} is not documented");
        }
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    api.finish().await;
}

#[tokio::test]
async fn imports_are_all_or_nothing_and_idempotent() {
    let api = Api::start().await;
    let programme = json!({
        "event": {"name": "Imported Forum", "time_zone": "America/New_York", "starts_on": "2025-09-01", "ends_on": "2025-09-03"},
        "tracks": [{"id": "gender", "name": "ICTs and Gender Mainstreaming"}],
        "speakers": [{"id": "ana", "external_id": "ext-ana", "name": "Ana"}],
        "sessions": [
            {"id": "first", "external_id": "ext-1", "title": "First", "kind": "workshop", "starts_at": "2025-09-01T14:00:00Z",
             "ends_at": "2025-09-01T15:00:00Z", "track": "gender", "speakers": ["ana"]},
            {"id": "second", "external_id": "ext-2", "title": "Second", "kind": "keynote", "starts_at": "2025-09-02T14:00:00Z",
             "ends_at": "2025-09-02T15:00:00Z"}
        ]
    });
    let import = |format: &'static str, body: String| {
        let api = &api;
        async move {
            let response = api
                .http
                .post(api.server.http_url(&format!("/api/import?{format}")))
                .bearer_auth(token("boss", &[Organiser]))
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let (status, summary) = import("format=json", programme.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary, json!({"tracks": 1, "speakers": 1, "sessions": 2, "booths": 0}));

    // Re-importing with a changed title and slug updates the same records (by external id).
    let mut changed = programme.clone();
    changed["sessions"][0]["id"] = json!("first-renamed");
    changed["sessions"][0]["title"] = json!("First, renamed");
    assert_eq!(import("format=json", changed.to_string()).await.0, StatusCode::OK);
    let (_, sessions) = api.call(Method::GET, "/api/sessions", None, None).await;
    assert_eq!(ids(&sessions), ["first", "second"], "no duplicate");
    assert_eq!(sessions[0]["title"], "First, renamed");

    // A file with problems is refused whole, each problem named; nothing is written.
    let mut broken = programme.clone();
    broken["sessions"][1]["title"] = json!("Second, changed");
    broken["sessions"].as_array_mut().unwrap().push(json!({"id": "third", "title": "", "kind": "party",
        "starts_at": "2025-09-03T10:00:00Z", "ends_at": "2025-09-03T11:00:00Z"}));
    let (status, problem) = import("format=json", broken.to_string()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(problem["errors"][0]["location"].as_str().unwrap().starts_with("line "), "{problem}");
    let locations = |problem: &Value| -> Vec<String> {
        problem["errors"].as_array().unwrap().iter().map(|e| e["location"].as_str().unwrap().to_owned()).collect()
    };
    let mut broken = programme.clone();
    broken["sessions"][1]["title"] = json!("Second, changed");
    broken["sessions"][0]["ends_at"] = json!("2025-09-01T13:00:00Z");
    broken["sessions"][0]["languages"] = json!(["english"]);
    let (status, problem) = import("format=json", broken.to_string()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(locations(&problem), ["sessions[0].ends_at", "sessions[0].languages[0]"]);
    // References are checked against the file and the stored programme.
    let mut broken = programme.clone();
    broken["sessions"][1]["title"] = json!("Second, changed");
    broken["sessions"][1]["speakers"] = json!(["nobody"]);
    broken["sessions"][1]["track"] = json!("nowhere");
    let (status, problem) = import("format=json", broken.to_string()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(locations(&problem), ["sessions[1].track", "sessions[1].speakers[0]"]);
    let (_, sessions) = api.call(Method::GET, "/api/sessions", None, None).await;
    assert_eq!(sessions[1]["title"], "Second", "nothing of the refused file was written");

    // CSV, one kind per file.
    let csv = "id,title,kind,starts_at,ends_at,tags,languages\nfourth,Fourth,workshop,2025-09-03T10:00:00Z,2025-09-03T11:00:00Z,C1;SDG5,en;fr\n";
    let (status, summary) = import("format=csv&kind=sessions", csv.to_owned()).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    let bad_csv = "id,title,kind,starts_at,ends_at\nfifth,,workshop,2025-09-03T10:00:00Z,2025-09-03T11:00:00Z\nsixth,Sixth,gala,soon,2025-09-03T11:00:00Z\n";
    let (status, problem) = import("format=csv&kind=sessions", bad_csv.to_owned()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let located: Vec<(String, String)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["location"].as_str().unwrap().to_owned(), e["field"].as_str().unwrap_or("").to_owned()))
        .collect();
    assert!(located.contains(&("line 2".into(), "title".into())), "{located:?}");
    assert!(located.contains(&("line 3".into(), "kind".into())), "{located:?}");
    assert!(located.contains(&("line 3".into(), "starts_at".into())), "{located:?}");
    assert_eq!(import("format=csv", csv.to_owned()).await.0, StatusCode::BAD_REQUEST, "csv needs a kind");
    assert_eq!(import("format=xml", String::new()).await.0, StatusCode::BAD_REQUEST);

    // A pretalx export, imported twice: the second time changes nothing.
    let pretalx = include_str!("../fixtures/pretalx-schedule.json").to_owned();
    let (status, first) = import("format=pretalx", pretalx.clone()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (_, before) = api.call(Method::GET, "/api/sessions", None, None).await;
    let (status, second) = import("format=pretalx", pretalx).await;
    assert_eq!((status, &second), (StatusCode::OK, &first));
    let (_, after) = api.call(Method::GET, "/api/sessions", None, None).await;
    assert_eq!(before, after);
    assert_eq!(api.call(Method::GET, "/api/event", None, None).await.1["time_zone"], "Europe/Zurich");

    // Imported sessions have rooms; made-up ones do not.
    let mut client = api.server.client("ada", &[Attendee]).await;
    client.join(&session_room("fourth")).await;
    let room = session_room("made-up");
    let answer = client.request(|rid| ClientMsg::Join { rid, room, since: None }).await;
    assert_eq!(error_code(&answer), 404);
    drop(client);
    api.finish().await;
}

/// A session's Q&A settings come from the programme: an unmoderated session publishes at
/// once, and a session without anonymous asking refuses anonymous questions.
#[tokio::test]
async fn q_and_a_follows_the_sessions_settings() {
    let api = Api::start().await;
    let mut open = session("open-qa", "2025-07-07T08:00:00Z", "2025-07-07T09:00:00Z", "youth", &[], &["en"]);
    open["qa"] = json!({"moderated": false, "anonymous": false});
    open.as_object_mut().unwrap().remove("track");
    let (status, body) = api.call(Method::PUT, "/api/sessions/open-qa", Some(Organiser), Some(open)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, read) = api.call(Method::GET, "/api/sessions/open-qa", None, None).await;
    assert_eq!(read["qa"], json!({"moderated": false, "anonymous": false}), "the REST view carries the settings");

    let room = plenary_proto::RoomId::session("open-qa").unwrap();
    let mut ada = api.server.client("ada", &[Attendee]).await;
    ada.join(&room).await;
    let (r, text) = (room.clone(), "Anonymous, please?".to_owned());
    let refused = ada.request(move |rid| ClientMsg::QaAsk { rid, room: r, text, anonymous: true }).await;
    assert!(matches!(refused, ServerMsg::Error { code: plenary_proto::ErrorCode::Invalid, .. }), "{refused:?}");
    let (r, text) = (room.clone(), "Straight to the audience?".to_owned());
    let rid = ada.rid();
    ada.send(&ClientMsg::QaAsk { rid, room: r, text, anonymous: false }).await;
    let seen = ada
        .recv_until("the question", |m| matches!(m, ServerMsg::Event { event: RoomEvent::Questions { .. }, .. }))
        .await;
    let ServerMsg::Event { event: RoomEvent::Questions { changed, .. }, .. } = seen else { unreachable!() };
    assert_eq!(changed[0].state, plenary_proto::QuestionState::Published, "unmoderated: published at once");
    api.finish().await;
}
