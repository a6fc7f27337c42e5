//! Fan-out scenarios: `keynote` (N viewers; a moderator and a few chatters produce a mix
//! of stage and chat events at R events/s) and `chat-storm` (K chatters in a room of N,
//! each at its own rate). Every event carries its send time; every viewer measures every
//! delivery; loss is what was accepted times the viewers, minus what arrived.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use plenary_proto::{ClientMsg, RequestId, Role, RoomId};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;

use super::{Clock, Latest, Usage, find_stamp, join_members, progress};
use crate::Context;
use crate::conn::{Client, Pacer};
use crate::report::Report;
use crate::stats::{Latencies, Recorder};

/// `keynote`: one session, N viewers, a moderator and chatters producing events.
#[derive(Debug, Clone, clap::Args)]
pub struct KeynoteArgs {
    /// Viewers in the session (they only watch).
    #[arg(long, default_value_t = 1000)]
    pub viewers: usize,
    /// Events per second, all producers together.
    #[arg(long, default_value_t = 50.0)]
    pub rate: f64,
    /// How long events are produced.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// Approximate size of each chat message, in bytes.
    #[arg(long, default_value_t = 200)]
    pub payload: usize,
    /// Chatting connections producing the chat events.
    #[arg(long, default_value_t = 4)]
    pub chatters: usize,
    /// Every Nth event is a stage change by the moderator (0: chat only).
    #[arg(long, default_value_t = 10)]
    pub stage_every: u64,
    /// The session room.
    #[arg(long, default_value = "session:keynote-load")]
    pub room: RoomId,
    /// How long to wait for the last deliveries after the last event was sent.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub drain: Duration,
}

/// `chat-storm`: K chatters in a room of N, each sending at its own rate.
#[derive(Debug, Clone, clap::Args)]
pub struct ChatStormArgs {
    /// Members of the room, chatters included.
    #[arg(long, default_value_t = 1000)]
    pub room_size: usize,
    /// Members who chat.
    #[arg(long, default_value_t = 50)]
    pub chatters: usize,
    /// Messages per second per chatter.
    #[arg(long, default_value_t = 1.0)]
    pub rate: f64,
    /// How long the chatters chat.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// Approximate size of each message, in bytes.
    #[arg(long, default_value_t = 100)]
    pub payload: usize,
    /// The session room.
    #[arg(long, default_value = "session:chat-storm-load")]
    pub room: RoomId,
    /// How long to wait for the last deliveries after the last message was sent.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub drain: Duration,
}

/// What the engine runs; both scenarios translate their flags into one.
#[derive(Debug, Clone)]
struct Plan {
    room: RoomId,
    viewers: usize,
    chatters: usize,
    /// Every Nth event is a stage change (0: none, and no moderator connects).
    stage_every: u64,
    rate: f64,
    duration: Duration,
    payload: usize,
    drain: Duration,
}

pub async fn keynote(ctx: &Context, args: &KeynoteArgs) -> anyhow::Result<Report> {
    let plan = Plan {
        room: args.room.clone(),
        viewers: args.viewers,
        chatters: args.chatters.max(usize::from(args.stage_every != 1)),
        stage_every: args.stage_every,
        rate: args.rate,
        duration: args.duration,
        payload: args.payload,
        drain: args.drain,
    };
    let mut report = Report::new("keynote");
    report.add("viewers", args.viewers).add("rate", args.rate).add("duration_s", args.duration.as_secs_f64());
    run(ctx, &plan, report).await
}

pub async fn chat_storm(ctx: &Context, args: &ChatStormArgs) -> anyhow::Result<Report> {
    anyhow::ensure!(args.chatters >= 1 && args.chatters <= args.room_size, "need 1 ≤ chatters ≤ room size");
    let plan = Plan {
        room: args.room.clone(),
        viewers: args.room_size - args.chatters,
        chatters: args.chatters,
        stage_every: 0,
        rate: args.rate * args.chatters as f64,
        duration: args.duration,
        payload: args.payload,
        drain: args.drain,
    };
    let mut report = Report::new("chat-storm");
    report
        .add("room_size", args.room_size)
        .add("chatters", args.chatters)
        .add("rate_per_chatter", args.rate)
        .add("duration_s", args.duration.as_secs_f64());
    run(ctx, &plan, report).await
}

/// What producers learned from the node's answers.
#[derive(Debug, Default)]
struct Answers {
    sent: AtomicU64,
    accepted: AtomicU64,
    rate_limited: AtomicU64,
    refused: AtomicU64,
}

async fn run(ctx: &Context, plan: &Plan, mut report: Report) -> anyhow::Result<Report> {
    anyhow::ensure!(plan.rate > 0.0, "the rate must be positive");
    let total_events = (plan.rate * plan.duration.as_secs_f64()).round() as u64;
    let pacer = Arc::new(Pacer::new(ctx.connect_rate));
    let producers = plan.chatters + usize::from(plan.stage_every > 0);

    let bar = progress(ctx, (plan.viewers + producers) as u64, "joining");
    let viewers = join_members(ctx, &pacer, &plan.room, 0, plan.viewers, Role::Attendee, &bar).await;
    let chatters = join_members(ctx, &pacer, &plan.room, plan.viewers, plan.chatters, Role::Attendee, &bar).await;
    let moderator = if plan.stage_every > 0 {
        Some(join_members(ctx, &pacer, &plan.room, plan.viewers + plan.chatters, 1, Role::Moderator, &bar).await)
    } else {
        None
    };
    bar.finish_and_clear();
    let mut failures = viewers.failures.clone();
    failures.extend(chatters.failures.iter().cloned());
    if let Some(m) = &moderator {
        failures.extend(m.failures.iter().cloned());
    }
    report.add("joined", viewers.clients.len());
    report.add("join_failures", failures.len());
    report.add("join_latency", viewers.join_latency.summary().line());
    if let Some(first) = failures.first() {
        report.add("first_failure", first.clone());
    }
    anyhow::ensure!(!viewers.clients.is_empty(), "no viewer joined: {}", failures.first().cloned().unwrap_or_default());

    let clock = Clock::start();
    let usage = Usage::start(ctx);
    let latencies = Latencies::new();
    let delivered = Arc::new(AtomicU64::new(0));
    let last_delivery = Arc::new(Latest::default());
    let (stop, stopped) = watch::channel(false);
    let viewer_count = viewers.clients.len() as u64;

    let mut viewer_tasks = JoinSet::new();
    for (n, client) in viewers.clients.into_iter().enumerate() {
        let (latencies, delivered, last, stopped) =
            (latencies.clone(), delivered.clone(), last_delivery.clone(), stopped.clone());
        viewer_tasks.spawn(watch_deliveries(client, n, clock, latencies, delivered, last, stopped));
    }

    // Producers: one task per connection, fed by the scheduler, counting the answers.
    let answers = Arc::new(Answers::default());
    let acks = Latencies::new();
    let mut senders = Vec::new();
    let mut producer_tasks = JoinSet::new();
    let stage_sender = moderator.and_then(|m| m.clients.into_iter().next()).map(|client| {
        let (tx, rx) = mpsc::channel::<()>(1024);
        let recorder = acks.recorder(0);
        producer_tasks.spawn(produce(client, Kind::Stage, plan.clone(), clock, rx, answers.clone(), recorder));
        tx
    });
    for (n, client) in chatters.clients.into_iter().enumerate() {
        let (tx, rx) = mpsc::channel::<()>(1024);
        let recorder = acks.recorder(n + 1);
        producer_tasks.spawn(produce(client, Kind::Chat, plan.clone(), clock, rx, answers.clone(), recorder));
        senders.push(tx);
    }
    anyhow::ensure!(!senders.is_empty() || stage_sender.is_some(), "no producer joined");

    let bar = progress(ctx, total_events, "producing");
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / plan.rate));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let production_started = Instant::now();
    for k in 0..total_events {
        ticker.tick().await;
        let stage_turn = plan.stage_every > 0 && (k + 1) % plan.stage_every == 0;
        let sender = match (&stage_sender, stage_turn || senders.is_empty()) {
            (Some(stage), true) => stage,
            _ => &senders[(k as usize) % senders.len()],
        };
        if sender.send(()).await.is_err() {
            break;
        }
        bar.inc(1);
    }
    let production = production_started.elapsed();
    bar.finish_and_clear();
    drop(senders);
    drop(stage_sender);
    // Producers stop once every request they sent is answered (bounded by the drain).
    let _ = tokio::time::timeout(plan.drain, async { while producer_tasks.join_next().await.is_some() {} }).await;
    producer_tasks.abort_all();

    let accepted = answers.accepted.load(Ordering::Relaxed);
    let expected = accepted * viewer_count;
    let drain_deadline = Instant::now() + plan.drain;
    while delivered.load(Ordering::Relaxed) < expected && Instant::now() < drain_deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(true);
    let mut viewer_errors = Vec::new();
    while let Some(result) = viewer_tasks.join_next().await {
        if let Ok(Err(e)) = result {
            viewer_errors.push(format!("{e:#}"));
        }
    }

    let delivered = delivered.load(Ordering::Relaxed);
    let window = Duration::from_micros(last_delivery.get()).max(production);
    let sent = answers.sent.load(Ordering::Relaxed);
    let rate_limited = answers.rate_limited.load(Ordering::Relaxed);
    let refused = answers.refused.load(Ordering::Relaxed);
    // Requests still unanswered when the producers gave up (an overloaded node, or a
    // producer closed as a slow consumer): they may or may not have been delivered, so
    // `lost` is then a lower bound.
    let unanswered = sent.saturating_sub(accepted + rate_limited + refused);
    report
        .add("events_planned", total_events)
        .add("events_sent", sent)
        .add("events_accepted", accepted)
        .add("rate_limited", rate_limited)
        .add("refused_other", refused)
        .add("unanswered", unanswered)
        .add("deliveries_expected", expected)
        .add("deliveries", delivered)
        .add("lost", expected.saturating_sub(delivered))
        .add("deliveries_per_second", delivered as f64 / window.as_secs_f64().max(1e-9))
        .add("latency", latencies.summary().line())
        // Send to `ack`: with a database the node acknowledges once the event is committed.
        .add("ack_latency", acks.summary().line());
    let ack_summary = acks.summary();
    report.add("ack_p50_ms", ack_summary.p50_ms).add("ack_p99_ms", ack_summary.p99_ms);
    let summary = latencies.summary();
    report.add("p50_ms", summary.p50_ms).add("p99_ms", summary.p99_ms).add("max_ms", summary.max_ms);
    report.add("viewer_errors", viewer_errors.len());
    report.add("viewers_closed_slow", viewer_errors.iter().filter(|e| e.contains("4000")).count());
    if let Some(first) = viewer_errors.first() {
        report.add("first_viewer_error", first.clone());
    }
    usage.report(&mut report);
    Ok(report)
}

/// A viewer: counts and times every stamped event until told to stop.
pub(super) async fn watch_deliveries(
    mut client: Client,
    n: usize,
    clock: Clock,
    latencies: Arc<Latencies>,
    delivered: Arc<AtomicU64>,
    last: Arc<Latest>,
    mut stopped: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut recorder = latencies.recorder(n);
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            frame = client.next_text() => {
                let Some(text) = frame? else { anyhow::bail!("the node closed the connection") };
                if let Some(sent) = find_stamp(text.as_str()) {
                    let now = clock.micros();
                    recorder.record(now.saturating_sub(sent));
                    delivered.fetch_add(1, Ordering::Relaxed);
                    last.observe(now);
                }
            }
        }
    }
    recorder.flush();
    client.close().await;
    Ok(())
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Stage,
    Chat,
}

/// A producer connection: sends one event per tick from the scheduler and counts the
/// answers; ends when the scheduler is done and every request is answered.
async fn produce(
    client: Client,
    kind: Kind,
    plan: Plan,
    clock: Clock,
    mut ticks: mpsc::Receiver<()>,
    answers: Arc<Answers>,
    mut acks: Recorder,
) -> anyhow::Result<()> {
    let (mut sink, mut stream) = client.ws.split();
    let padding = "x".repeat(plan.payload.saturating_sub(24));
    let mut rid = 0u64;
    let mut outstanding = 0u64;
    // When each request still unanswered was sent, by rid.
    let mut sent_at: std::collections::HashMap<u64, u64> = std::collections::HashMap::new();
    let mut ticks_open = true;
    while ticks_open || outstanding > 0 {
        tokio::select! {
            tick = ticks.recv(), if ticks_open => {
                if tick.is_none() {
                    ticks_open = false;
                    continue;
                }
                rid += 1;
                let stamp = clock.stamp();
                let msg = match kind {
                    Kind::Stage => ClientMsg::StageUpdate {
                        rid: RequestId(rid),
                        room: plan.room.clone(),
                        // A stage that is already live only changes its speaker.
                        state: (rid == 1).then_some(plenary_proto::StageState::Live),
                        title: None,
                        speaker: Some(stamp),
                    },
                    Kind::Chat => ClientMsg::ChatSend {
                        rid: RequestId(rid),
                        room: plan.room.clone(),
                        text: format!("{stamp} {padding}"),
                    },
                };
                sent_at.insert(rid, clock.micros());
                sink.send(Message::text(msg.to_json())).await?;
                answers.sent.fetch_add(1, Ordering::Relaxed);
                outstanding += 1;
            }
            frame = stream.next() => {
                let Some(frame) = frame else { anyhow::bail!("the node closed a producer") };
                let Message::Text(text) = frame? else { continue };
                let text = text.as_str();
                if text.starts_with(r#"{"type":"ack""#) {
                    if let Some(sent) = answer_rid(text).and_then(|rid| sent_at.remove(&rid)) {
                        acks.record(clock.micros().saturating_sub(sent));
                    }
                    answers.accepted.fetch_add(1, Ordering::Relaxed);
                    outstanding = outstanding.saturating_sub(1);
                } else if text.starts_with(r#"{"type":"error""#) {
                    if text.contains(r#""code":429"#) {
                        answers.rate_limited.fetch_add(1, Ordering::Relaxed);
                    } else {
                        answers.refused.fetch_add(1, Ordering::Relaxed);
                    }
                    outstanding = outstanding.saturating_sub(1);
                }
            }
        }
    }
    acks.flush();
    let _ = sink.close().await;
    Ok(())
}

/// The `rid` of an answer (`{"type":"ack","rid":12}`), read without decoding the frame.
fn answer_rid(text: &str) -> Option<u64> {
    let rest = &text[text.find(r#""rid":"#)? + 6..];
    let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    rest[..end].parse().ok()
}
