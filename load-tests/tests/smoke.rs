//! The smoke run in the test command: every scenario, small and short, against a node in
//! this process. It asserts that nothing is lost and every client got its snapshot; it
//! asserts no timing (timing is what `BENCHMARKS.md` records).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use plenary_load::Context;
use plenary_load::conn::Target;
use plenary_load::probe::Probe;
use plenary_load::report::Report;
use plenary_load::scenarios::{churn, expo, fanout, idle, join_storm, qa_storm, stage};
use plenary_load::tokens::TokenSource;
use plenary_proto::RoomId;
use plenary_server::Application;
use plenary_server::config::Settings;
use serde_json::Value;
use tokio::sync::oneshot;

const SECRET: &str = "smoke-test-secret-0123456789abcdef0123";

/// A node with the chat limits raised as the benchmarks run it, unless `limited`.
async fn node(limited: bool) -> (Context, oneshot::Sender<()>) {
    let mut settings = Settings {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        jwt_secret: Some(SECRET.to_owned()),
        attendance_interval_ms: 200,
        database_url: Some("memory".to_owned()),
        ..Settings::default()
    };
    if !limited {
        settings.chat_per_minute = 1_000_000;
        settings.chat_burst = 100_000;
        settings.commands_per_second = 100_000;
        settings.command_burst = 100_000;
    }
    let app = Application::build(settings).await.unwrap();
    let url = format!("ws://{}/ws", app.local_addr());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let ctx = Context {
        target: Arc::new(Target::new(vec![url]).unwrap()),
        tokens: Arc::new(TokenSource::from_secret(SECRET, None, None).unwrap()),
        connect_rate: 2000.0,
        // The node runs in this process: its figures are this process's.
        probe: Some(Probe::this_process()),
        progress: false,
    };
    (ctx, stop)
}

fn number(report: &Report, name: &str) -> f64 {
    match report.get(name) {
        Some(Value::Number(n)) => n.as_f64().unwrap(),
        other => panic!("{name} is {other:?} in {}", report.to_table()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keynote_loses_nothing() {
    let (ctx, _stop) = node(false).await;
    let args = fanout::KeynoteArgs {
        viewers: 200,
        rate: 40.0,
        duration: Duration::from_secs(2),
        payload: 200,
        chatters: 3,
        stage_every: 5,
        room: RoomId::session("smoke-keynote").unwrap(),
        drain: Duration::from_secs(20),
    };
    let report = fanout::keynote(&ctx, &args).await.unwrap();
    eprintln!("{}", report.to_table());
    assert_eq!(number(&report, "joined"), 200.0);
    assert_eq!(number(&report, "join_failures"), 0.0);
    assert_eq!(number(&report, "events_accepted"), 80.0, "every event was accepted");
    assert_eq!(number(&report, "deliveries_expected"), 80.0 * 200.0);
    assert_eq!(number(&report, "lost"), 0.0);
    assert_eq!(number(&report, "viewer_errors"), 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_storm_counts_rate_limited_messages_and_loses_none_accepted() {
    let (ctx, _stop) = node(true).await;
    let args = fanout::ChatStormArgs {
        room_size: 100,
        chatters: 4,
        rate: 10.0,
        duration: Duration::from_secs(2),
        payload: 80,
        room: RoomId::session("smoke-chat").unwrap(),
        drain: Duration::from_secs(20),
    };
    let report = fanout::chat_storm(&ctx, &args).await.unwrap();
    eprintln!("{}", report.to_table());
    let sent = number(&report, "events_sent");
    let accepted = number(&report, "events_accepted");
    let limited = number(&report, "rate_limited");
    assert_eq!(sent, 80.0);
    assert_eq!(accepted + limited, sent, "every message was answered");
    assert!(limited > 0.0, "the default chat limit refuses a 10/s chatter");
    assert_eq!(number(&report, "lost"), 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_storm_every_client_gets_its_snapshot_and_the_full_count() {
    let (ctx, _stop) = node(false).await;
    let args = join_storm::JoinStormArgs {
        clients: 300,
        within: Duration::from_secs(1),
        room: RoomId::session("smoke-storm").unwrap(),
        settle: Duration::from_secs(10),
    };
    let report = join_storm::run(&ctx, &args).await.unwrap();
    eprintln!("{}", report.to_table());
    assert_eq!(number(&report, "joined"), 300.0);
    assert_eq!(number(&report, "failures"), 0.0);
    assert_eq!(number(&report, "heard_everyone"), 300.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_churn_run_clean() {
    let (ctx, _stop) = node(false).await;
    let args =
        idle::IdleArgs { clients: 200, hold: Duration::from_millis(200), room: RoomId::session("smoke-idle").unwrap() };
    let report = idle::run(&ctx, &args).await.unwrap();
    eprintln!("{}", report.to_table());
    assert_eq!(number(&report, "joined"), 200.0);
    assert!(number(&report, "server_bytes_per_connection") >= 0.0);

    let args = churn::ChurnArgs {
        workers: 4,
        duration: Duration::from_secs(1),
        max_cycles: 200,
        room: RoomId::session("smoke-churn").unwrap(),
    };
    let report = churn::run(&ctx, &args).await.unwrap();
    eprintln!("{}", report.to_table());
    assert!(number(&report, "cycles") > 0.0);
    assert_eq!(number(&report, "errors"), 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qa_storm_counts_are_exact() {
    let (ctx, _stop) = node(false).await;
    let args = qa_storm::QaStormArgs {
        viewers: 100,
        questions: 20,
        votes: 100,
        askers: 4,
        voters: 10,
        duration: Duration::from_secs(3),
        room: RoomId::session("smoke-qa").unwrap(),
        drain: Duration::from_secs(20),
    };
    let report = qa_storm::run(&ctx, &args).await.unwrap();
    eprintln!("{}", report.to_table());
    assert_eq!(number(&report, "asked"), 20.0);
    assert_eq!(number(&report, "approved"), 20.0, "each question approved once");
    assert_eq!(number(&report, "approval_conflicts"), 20.0, "the other moderator lost every race");
    assert_eq!(number(&report, "deliveries"), number(&report, "deliveries_expected"));
    assert_eq!(report.get("counts_exact"), Some(&Value::Bool(true)));
    assert!(number(&report, "votes_acked") > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expo_counts_settle_exactly_and_each_request_is_accepted_once() {
    let (ctx, _stop) = node(false).await;
    let args = expo::ExpoArgs {
        visitors: 60,
        booths: 5,
        staff: 2,
        stay: Duration::from_millis(300),
        request_every: 3,
        toggle: Duration::from_millis(700),
        duration: Duration::from_secs(3),
        drain: Duration::from_secs(15),
        prefix: "smoke-expo-".into(),
    };
    let report = expo::run(&ctx, &args).await.unwrap();
    eprintln!("{}", report.to_table());
    assert_eq!(report.get("counts_exact"), Some(&Value::Bool(true)), "the hall matches where everyone is");
    assert_eq!(number(&report, "double_accepts"), 0.0);
    assert_eq!(number(&report, "accepts_acked"), number(&report, "accepted"));
    assert!(number(&report, "requests") > 0.0 && number(&report, "status_changes") > 0.0);
    assert_eq!(number(&report, "visitor_errors") + number(&report, "staff_errors"), 0.0);
}

/// Sends one HTTP request to the node and returns its status (the tool speaks no HTTP
/// otherwise; this is only to load a programme).
async fn put_json(addr: SocketAddr, path: &str, token: &str, body: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stage_viewers_receive_the_speaker_through_the_sfu() {
    let dir = std::env::temp_dir().join(format!("plenary-stage-smoke-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let settings = Settings {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        jwt_secret: Some(SECRET.to_owned()),
        database_url: Some(format!("sqlite://{}?mode=rwc", dir.join("smoke.db").display())),
        demo_event: Some(false),
        ..Settings::default()
    };
    let app = Application::build(settings).await.unwrap();
    let addr = app.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let node = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let tokens = TokenSource::from_secret(SECRET, None, None).unwrap();
    let organiser = tokens.token(0, plenary_proto::Role::Organiser).unwrap();
    let event = r#"{"name":"Smoke","time_zone":"UTC","starts_on":"2026-07-07","ends_on":"2026-07-08"}"#;
    assert_eq!(put_json(addr, "/api/event", &organiser, event).await, 200);
    let session = r#"{"id":"stage-load","title":"Stage load","kind":"keynote","starts_at":"2026-07-07T08:00:00Z","ends_at":"2026-07-07T09:00:00Z","stage":{"kind":"webrtc"}}"#;
    assert_eq!(put_json(addr, "/api/sessions/stage-load", &organiser, session).await, 200);
    let ctx = Context {
        target: Arc::new(Target::new(vec![format!("ws://{addr}/ws")]).unwrap()),
        tokens: Arc::new(tokens),
        connect_rate: 2000.0,
        probe: Some(Probe::this_process()),
        progress: false,
    };
    for quality in [plenary_proto::StageQuality::Auto, plenary_proto::StageQuality::AudioOnly] {
        let args = stage::StageArgs {
            viewers: 3,
            duration: Duration::from_secs(2),
            room: RoomId::parse("session:stage-load").unwrap(),
            quality,
            bitrate: 300_000,
        };
        let report = stage::run(&ctx, &args).await.unwrap();
        assert_eq!(number(&report, "viewer_failures"), 0.0, "{}", report.to_table());
        assert!(number(&report, "audio_frames_per_viewer_per_second") > 10.0, "{}", report.to_table());
        let video = number(&report, "video_frames_per_viewer_per_second");
        if quality == plenary_proto::StageQuality::AudioOnly {
            assert_eq!(video, 0.0, "audio-only viewers got video: {}", report.to_table());
        } else {
            assert!(video > 10.0, "{}", report.to_table());
        }
    }
    let _ = stop.send(());
    node.await.unwrap().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
