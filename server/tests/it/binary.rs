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
    let (url, token, rest) = tokio::task::spawn_blocking(move || {
        let mut url = None;
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(rest) = line.strip_prefix("Plenary is serving on ") {
                url = Some(rest.split_whitespace().next().unwrap().to_owned());
            }
            if let Some(token) = line.strip_prefix("Moderator token (12 h): ") {
                return (url.expect("the URL is printed first"), token.to_owned(), lines);
            }
        }
        panic!("the binary never printed a token");
    })
    .await
    .unwrap();
    // Keep reading what the node prints, as a terminal would.
    let drain = std::thread::spawn(move || rest.count());

    let ws_url = format!("{}/ws", url.replace("http://", "ws://"));
    let (ws, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();
    let mut moderator = TestClient::from_socket(ws);
    moderator.hello(&token).await;
    moderator.join(&session("opening")).await;
    let answer = moderator
        .request(|rid| ClientMsg::StageUpdate {
            rid,
            room: session("opening"),
            state: Some(StageState::Live),
            title: None,
            speaker: None,
        })
        .await;
    assert!(matches!(answer, ServerMsg::Ack { .. }), "{answer:?}");

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

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    assert_eq!(moderator.ended().await, Ended::Closed(1001));
    let exit = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    assert!(exit.success(), "exit status {exit}");
    drain.join().unwrap();
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
