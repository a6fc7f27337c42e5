//! The `plenary` binary as a newcomer runs it: no configuration, a development secret, a
//! printed moderator token that works, `plenary token`, and a clean exit on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use plenary_proto::{ClientMsg, ServerMsg, StageState};

use crate::support::*;

struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("plenary-it-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Kills the node if the test fails before stopping it, so no process outlives the test.
struct KillOnDrop(Option<std::process::Child>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn plenary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_plenary"));
    // Only what this test sets: no PLENARY_* from the environment running the tests.
    for (key, _) in std::env::vars() {
        if key.starts_with("PLENARY_") {
            command.env_remove(key);
        }
    }
    command
}

#[tokio::test]
async fn the_binary_runs_a_development_event_out_of_the_box() {
    let dir = TempDir::new("dev");
    let mut child = plenary()
        .env("PLENARY_LISTEN", "127.0.0.1:0")
        .env("PLENARY_DATA_DIR", &dir.0)
        .env("PLENARY_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let child = KillOnDrop(Some(child));
    let (url, token, rest) = tokio::task::spawn_blocking(move || {
        let mut url = None;
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(rest) = line.strip_prefix("Plenary is serving on ") {
                url = Some(rest.split_whitespace().next().unwrap().to_owned());
            }
            if let Some(link) = line.strip_prefix("Moderator and organiser link (12 h): ") {
                let url = url.expect("the URL is printed first");
                let token = link.strip_prefix(&format!("{url}/?token=")).expect("a link to this node");
                return (url, token.to_owned(), lines);
            }
        }
        panic!("the binary never printed a token");
    })
    .await
    .unwrap();
    // Keep reading what the node prints, as a terminal would.
    let drain = std::thread::spawn(move || rest.count());

    // The demo event is loaded on first run, with sessions live now.
    let live: serde_json::Value =
        reqwest::get(format!("{url}/api/sessions?live=true")).await.unwrap().json().await.unwrap();
    let live_ids: Vec<&str> = live.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(live_ids, ["opening-ceremony", "youth-skills-workshop"]);
    let all: serde_json::Value = reqwest::get(format!("{url}/api/sessions")).await.unwrap().json().await.unwrap();
    assert!(all.as_array().unwrap().len() > 10);

    let ws_url = format!("{}/ws", url.replace("http://", "ws://"));
    let (ws, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();
    let mut moderator = TestClient::from_socket(ws);
    moderator.hello(&token).await;
    let ServerMsg::Snapshot { stage, .. } = moderator.join(&session("opening-ceremony")).await else { unreachable!() };
    let stage = stage.unwrap();
    assert_eq!(stage.state, StageState::Live);
    assert!(stage.title.starts_with("Opening Ceremony"), "{}", stage.title);
    let answer = moderator
        .request(|rid| ClientMsg::StageUpdate {
            rid,
            room: session("opening-ceremony"),
            state: Some(StageState::Break),
            title: None,
            speaker: None,
        })
        .await;
    assert!(matches!(answer, ServerMsg::Ack { .. }), "{answer:?}");
    // Rooms that are not in the programme do not exist.
    let room = session("made-up");
    let answer = moderator.request(|rid| ClientMsg::Join { rid, room, since: None }).await;
    assert_eq!(error_code(&answer), 404);

    // `plenary token` signs with the same development secret.
    let output = plenary()
        .env("PLENARY_DATA_DIR", &dir.0)
        .args(["token", "--sub", "ada", "--name", "Ada", "--role", "attendee", "--ttl", "10m"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let minted = String::from_utf8(output.stdout).unwrap();
    let (ws, _) = tokio_tungstenite::connect_async(format!("{}/ws", url.replace("http://", "ws://"))).await.unwrap();
    let mut ada = TestClient::from_socket(ws);
    ada.hello(minted.trim()).await;

    let mut child = child;
    let pid = child.0.as_ref().unwrap().id();
    let status = Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    assert!(status.success());
    assert_eq!(moderator.ended().await, Ended::Closed(1001));
    let mut process = child.0.take().unwrap();
    let exit = tokio::task::spawn_blocking(move || process.wait()).await.unwrap().unwrap();
    assert!(exit.success(), "exit status {exit}");
    drain.join().unwrap();
}

#[test]
fn plenary_demo_loads_the_demo_event() {
    let dir = TempDir::new("demo");
    let output = plenary().env("PLENARY_DATA_DIR", &dir.0).arg("demo").output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.starts_with("Loaded the demo event: 9 tracks, 10 speakers, 15 sessions, 5 booths."), "{stdout}");
    // Loading it again updates the same records.
    let again = plenary().env("PLENARY_DATA_DIR", &dir.0).arg("demo").output().unwrap();
    assert!(again.status.success());
}

#[test]
fn bad_configuration_is_refused_with_a_clear_message() {
    let output =
        plenary().env("PLENARY_JWT_SECRET", "short").arg("token").args(["--sub", "a", "--name", "A"]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("jwt_secret must be at least 32 bytes"), "{stderr}");

    let output = plenary().args(["--listen", "not-an-address"]).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--listen"));
}
