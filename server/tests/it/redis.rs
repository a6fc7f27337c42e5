//! Nodes on a real Redis behave as one: one order per room, attendance summed over nodes,
//! resume on another node; and they survive a killed node and a Redis that restarts empty.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use plenary_proto::Role::{Attendee, Moderator};
use plenary_proto::{ErrorCode, RoomEvent, ServerMsg, StreamPosition};

use crate::redis_support::{PrivateRedis, TestRedis};
use crate::support::*;

pub async fn node_on(url: &str, prefix: &str) -> TestServer {
    let (url, prefix) = (url.to_owned(), prefix.to_owned());
    TestServer::spawn_with(move |s| {
        s.redis_url = Some(url);
        s.redis_prefix = prefix;
        s.attendance_interval_ms = 200;
        // A killed node drops out of the others' totals after this.
        s.presence_ttl_ms = 3_000;
        s.chat_burst = 50;
        s.command_burst = 100;
    })
    .await
}

/// The chat events a client receives until it has `count`, as (seq, text).
async fn chats(client: &mut TestClient, count: usize) -> Vec<(u64, String)> {
    let mut seen = Vec::new();
    while seen.len() < count {
        if let ServerMsg::Event { seq, event: RoomEvent::Chat { message }, .. } = client.recv().await {
            seen.push((seq.0, message.text));
        }
    }
    seen
}

async fn wait_for_present(client: &mut TestClient, present: u32) {
    client
        .recv_until(
            &format!("attendance of {present}"),
            |m| matches!(m, ServerMsg::Attendance { attendance, .. } if attendance.present == present),
        )
        .await;
}

#[tokio::test]
async fn three_nodes_deliver_one_order_and_sum_attendance() {
    let redis = TestRedis::new();
    let nodes = [
        node_on(&redis.url, &redis.prefix).await,
        node_on(&redis.url, &redis.prefix).await,
        node_on(&redis.url, &redis.prefix).await,
    ];
    let room = session("plenary");
    let mut clients = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        let mut client = node.client(&format!("user{n}"), &[Attendee]).await;
        client.join(&room).await;
        clients.push(client);
    }
    for client in &mut clients {
        wait_for_present(client, 3).await;
    }
    // Every node's client writes at once; every client sees one order.
    for (n, client) in clients.iter_mut().enumerate() {
        for m in 0..5 {
            let rid = client.rid();
            client.send(&chat(&room, &format!("node{n} message{m}"))(rid)).await;
        }
    }
    let mut orders = Vec::new();
    for client in &mut clients {
        orders.push(chats(client, 15).await);
    }
    assert_eq!(orders[0], orders[1]);
    assert_eq!(orders[1], orders[2]);
    let seqs: Vec<u64> = orders[0].iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, (1..=15).collect::<Vec<_>>());

    // A node's share leaves with its clients.
    let leaving = clients.pop().unwrap();
    drop(leaving);
    wait_for_present(&mut clients[0], 2).await;
    for node in nodes {
        node.shutdown().await;
    }
}

#[tokio::test]
async fn a_client_resumes_on_another_node_with_exactly_what_it_missed() {
    let redis = TestRedis::new();
    let node_a = node_on(&redis.url, &redis.prefix).await;
    let node_b = node_on(&redis.url, &redis.prefix).await;
    let room = session("resume");
    let mut mo = node_b.client("mo", &[Moderator]).await;
    mo.join(&room).await;

    let mut ada = node_a.client("ada", &[Attendee]).await;
    let ServerMsg::Snapshot { epoch, .. } = ada.join(&room).await else { panic!("snapshot") };
    mo.request(chat(&room, "before")).await;
    let seen = chats(&mut ada, 1).await;
    let last = seen[0].0;
    drop(ada);

    for text in ["missed one", "missed two"] {
        mo.request(chat(&room, text)).await;
    }
    // Back, on the other node.
    let mut ada = node_b.client("ada", &[Attendee]).await;
    let since = StreamPosition { epoch: epoch.clone(), seq: plenary_proto::Seq(last) };
    let reply = ada.join_since(&room, Some(since)).await;
    let ServerMsg::Resumed { replayed, epoch: resumed_epoch, .. } = reply else {
        panic!("expected resumed, got {reply:?}")
    };
    assert_eq!((replayed, resumed_epoch), (2, epoch));
    let replay = chats(&mut ada, 2).await;
    assert_eq!(replay, vec![(last + 1, "missed one".to_owned()), (last + 2, "missed two".to_owned())]);
    node_a.shutdown().await;
    node_b.shutdown().await;
}

/// Two moderators on two nodes change the stage at the same moment: the transitions are
/// applied one after the other, each validated against the stage the other left, so the
/// room never goes from `ended` to anything.
#[tokio::test]
async fn racing_stage_changes_on_two_nodes_stay_valid() {
    use plenary_proto::StageState::{Break, Ended, Live};
    let redis = TestRedis::new();
    let node_a = node_on(&redis.url, &redis.prefix).await;
    let node_b = node_on(&redis.url, &redis.prefix).await;
    let room = session("race");
    let mut watcher = node_a.client("watcher", &[Attendee]).await;
    watcher.join(&room).await;
    let mut mo_a = node_a.client("mo-a", &[Moderator]).await;
    mo_a.join(&room).await;
    let mut mo_b = node_b.client("mo-b", &[Moderator]).await;
    mo_b.join(&room).await;
    for round in 0..5 {
        let r = session(&format!("race-{round}"));
        for client in [&mut watcher, &mut mo_a, &mut mo_b] {
            client.join(&r).await;
        }
        let live = mo_a.request(set_stage(&r, Live)).await;
        assert!(matches!(live, ServerMsg::Ack { .. }), "{live:?}");
        // Both nodes must know the stage is live before the race.
        mo_b.recv_until(
            "live on b",
            |m| matches!(m, ServerMsg::Event { event: RoomEvent::Stage { stage, .. }, .. } if stage.state == Live),
        )
        .await;
        let (rid_a, rid_b) = (mo_a.rid(), mo_b.rid());
        mo_a.send(&set_stage(&r, Ended)(rid_a)).await;
        mo_b.send(&set_stage(&r, Break)(rid_b)).await;
        let a = mo_a.answer(rid_a).await;
        let b = mo_b.answer(rid_b).await;
        let ended_ok = matches!(a, ServerMsg::Ack { .. });
        let break_ok = matches!(b, ServerMsg::Ack { .. });
        assert!(ended_ok, "ending a live or paused stage is always valid: {a:?}");
        // The watcher's order: live, then either break then ended, or ended alone.
        let mut states = Vec::new();
        while states.last() != Some(&Ended) {
            if let ServerMsg::Event { room: er, event: RoomEvent::Stage { stage, .. }, .. } = watcher.recv().await
                && er == r
            {
                states.push(stage.state);
            }
        }
        if break_ok {
            assert_eq!(states, vec![Live, Break, Ended], "the break came first, then the end");
        } else {
            assert_eq!(states, vec![Live, Ended], "the break was refused after the end: {b:?}");
            assert!(matches!(b, ServerMsg::Error { code: ErrorCode::Conflict, .. }), "{b:?}");
        }
        for client in [&mut watcher, &mut mo_a, &mut mo_b] {
            let rr = r.clone();
            client.request(move |rid| plenary_proto::ClientMsg::Leave { rid, room: rr }).await;
        }
    }
    node_a.shutdown().await;
    node_b.shutdown().await;
}

/// A node in a process of its own, killed with SIGKILL: its share of the attendance goes
/// within the presence TTL, and the other node serves on.
#[tokio::test]
async fn a_killed_nodes_attendance_disappears() {
    let redis = TestRedis::new();
    let (url, killer) = child_node(&redis, &[("PLENARY_ATTENDANCE_INTERVAL_MS", "200")]).await;

    let node_b = node_on(&redis.url, &redis.prefix).await;
    let room = session("killed");
    let mut far = TestClient::connect_url(&format!("{}/ws", url.replace("http://", "ws://"))).await;
    far.hello(&token("far", &[Attendee])).await;
    far.join(&room).await;
    let mut near = node_b.client("near", &[Attendee]).await;
    near.join(&room).await;
    wait_for_present(&mut near, 2).await;

    killer.kill();
    // The surviving node's presence TTL is 3 s: the count must drop within it (plus a
    // report interval); 30 s bounds the wait.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let message = near.try_recv(std::time::Duration::from_secs(1)).await;
        if matches!(message, Some(ServerMsg::Attendance { attendance, .. }) if attendance.present == 1) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the killed node's share was still counted after 30 s");
    }
    near.request(chat(&room, "still here")).await;
    node_b.shutdown().await;
}

/// A node in a process of its own on `redis`, with extra environment `env`: its URL, and the
/// guard that kills it.
pub async fn child_node(redis: &TestRedis, env: &[(&str, &str)]) -> (String, ChildGuard) {
    let mut all = vec![("DATABASE_URL", "memory"), ("REDIS_URL", redis.url.as_str())];
    all.push(("PLENARY_REDIS_PREFIX", redis.prefix.as_str()));
    all.extend_from_slice(env);
    process_node(&all).await
}

/// A node in a process of its own with environment `env` (no Redis unless `REDIS_URL` is
/// in it): its URL, and the guard that kills it.
pub async fn process_node(env: &[(&str, &str)]) -> (String, ChildGuard) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_plenary"));
    command
        .env("PLENARY_LISTEN", "127.0.0.1:0")
        .env("PLENARY_JWT_SECRET", SECRET)
        .env("PLENARY_LOG", "warn")
        .env_remove("PLENARY_CONFIG")
        .env_remove("REDIS_URL")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let guard = scopeguard(child);
    let url = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stdout).lines();
        let line = lines.next().expect("the node prints its URL").unwrap();
        let url = line.strip_prefix("Plenary is serving on ").expect("the URL line").split_whitespace().next().unwrap();
        // What the node says shows with a failing test's output.
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(|line| eprintln!("node: {line}")));
        url.to_owned()
    })
    .await
    .unwrap();
    (url, guard)
}

pub struct ChildGuard(std::process::Child);

impl ChildGuard {
    pub fn kill(mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn scopeguard(child: std::process::Child) -> ChildGuard {
    ChildGuard(child)
}

/// Redis dies: the node stays up for its clients, reports not ready and refuses writes
/// with `unavailable`. Redis comes back empty: the node reconnects, the room's stream has a
/// new epoch, clients are told to resync, get a fresh snapshot, and chat works again.
#[tokio::test]
async fn the_node_survives_redis_restarting_empty() {
    let mut redis = PrivateRedis::start();
    let node = node_on(&redis.url(), "plenary-restart:").await;
    let http = reqwest::Client::new();
    let ready = |http: reqwest::Client, url: String| async move {
        http.get(url).send().await.map(|r| r.status().as_u16()).unwrap_or(0)
    };
    assert_eq!(ready(http.clone(), node.http_url("/readyz")).await, 200);
    let room = session("outage");
    let mut ada = node.client("ada", &[Moderator]).await;
    let ServerMsg::Snapshot { epoch: old_epoch, .. } = ada.join(&room).await else { panic!("snapshot") };
    let sent = ada.request(chat(&room, "before the outage")).await;
    assert!(matches!(sent, ServerMsg::Ack { .. }), "{sent:?}");

    redis.kill();
    eventually("not ready while Redis is down", || ready(http.clone(), node.http_url("/readyz")).then_eq(503)).await;
    let metrics = http.get(node.http_url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("plenary_bus_up 0"), "the outage is metered:\n{metrics}");
    let refused = ada.request(chat(&room, "during the outage")).await;
    assert!(
        matches!(refused, ServerMsg::Error { code: ErrorCode::Unavailable, .. }),
        "writes are refused, not queued: {refused:?}"
    );

    redis.restart();
    eventually("ready again", || ready(http.clone(), node.http_url("/readyz")).then_eq(200)).await;
    let resync = ada.recv_until("resync", |m| matches!(m, ServerMsg::Resync { .. })).await;
    let ServerMsg::Resync { epoch: new_epoch, .. } = resync else { unreachable!() };
    assert_ne!(new_epoch, old_epoch);
    let since = StreamPosition { epoch: old_epoch, seq: plenary_proto::Seq(1) };
    let reply = ada.join_since(&room, Some(since)).await;
    let ServerMsg::Snapshot { recovered, chat: history, .. } = reply else {
        panic!("expected a snapshot, got {reply:?}")
    };
    assert_eq!(recovered, Some(false));
    assert!(history.iter().any(|m| m.text == "before the outage"), "the room kept its state");
    let ok = ada.request(chat(&room, "after the outage")).await;
    assert!(matches!(ok, ServerMsg::Ack { .. }), "{ok:?}");
    node.shutdown().await;
}

trait ThenEq {
    async fn then_eq(self, expected: u16) -> bool;
}

impl<F: Future<Output = u16>> ThenEq for F {
    async fn then_eq(self, expected: u16) -> bool {
        self.await == expected
    }
}
