//! `qa-storm`: a moderated Q&A under load. N viewers watch one session; askers ask Q
//! questions; two moderators race to approve each one (one wins, the other is told
//! `conflict`), stamping the approved text with the approval time; voters cast V votes on
//! published questions. Reports the latency from approval to every viewer, the vote
//! acknowledgement latency, and whether the final counts are exact.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use plenary_proto::{ClientMsg, QaAction, QuestionState, RequestId, Role, RoomEvent, RoomId, ServerMsg};
use tokio::sync::{Mutex, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::fanout::watch_deliveries;
use super::{Clock, Latest, Usage, join_members, progress};
use crate::Context;
use crate::conn::{Client, Pacer};
use crate::report::Report;
use crate::stats::Latencies;

#[derive(Debug, Clone, clap::Args)]
pub struct QaStormArgs {
    /// Viewers in the session (they only watch).
    #[arg(long, default_value_t = 10_000)]
    pub viewers: usize,
    /// Questions asked, all askers together.
    #[arg(long, default_value_t = 500)]
    pub questions: usize,
    /// Votes cast, all voters together (each voter votes for distinct questions).
    #[arg(long, default_value_t = 20_000)]
    pub votes: usize,
    /// Connections asking the questions.
    #[arg(long, default_value_t = 50)]
    pub askers: usize,
    /// Connections casting the votes.
    #[arg(long, default_value_t = 200)]
    pub voters: usize,
    /// How long questions are asked and votes cast.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// The session room (its Q&A must be moderated, the node's default).
    #[arg(long, default_value = "session:qa-storm-load")]
    pub room: RoomId,
    /// How long to wait for the last deliveries after the last vote.
    #[arg(long, default_value = "15s", value_parser = humantime::parse_duration)]
    pub drain: Duration,
}

#[derive(Debug, Default)]
struct Counts {
    asked: AtomicU64,
    approvals: AtomicU64,
    conflicts: AtomicU64,
    votes_acked: AtomicU64,
    refused: AtomicU64,
}

pub async fn run(ctx: &Context, args: &QaStormArgs) -> anyhow::Result<Report> {
    anyhow::ensure!(args.askers > 0 && args.voters > 0, "need askers and voters");
    anyhow::ensure!(
        args.votes.div_ceil(args.voters) <= args.questions,
        "each voter votes for distinct questions: votes / voters must not exceed questions"
    );
    let mut report = Report::new("qa-storm");
    report
        .add("viewers", args.viewers)
        .add("questions", args.questions)
        .add("votes", args.votes)
        .add("duration_s", args.duration.as_secs_f64());
    let pacer = Arc::new(Pacer::new(ctx.connect_rate));
    let bar = progress(ctx, (args.viewers + args.askers + args.voters + 2) as u64, "joining");
    let viewers = join_members(ctx, &pacer, &args.room, 0, args.viewers, Role::Attendee, &bar).await;
    let mut first = args.viewers;
    let askers = join_members(ctx, &pacer, &args.room, first, args.askers, Role::Attendee, &bar).await;
    first += args.askers;
    let voters = join_members(ctx, &pacer, &args.room, first, args.voters, Role::Attendee, &bar).await;
    first += args.voters;
    let moderators = join_members(ctx, &pacer, &args.room, first, 2, Role::Moderator, &bar).await;
    first += 2;
    bar.finish_and_clear();
    let failures: Vec<String> =
        [&viewers, &askers, &voters, &moderators].iter().flat_map(|j| j.failures.iter().cloned()).collect();
    report.add("joined", viewers.clients.len()).add("join_failures", failures.len());
    if let Some(first) = failures.first() {
        report.add("first_failure", first.clone());
    }
    anyhow::ensure!(moderators.clients.len() == 2, "both moderators must join: {:?}", failures.first());

    let clock = Clock::start();
    let usage = Usage::start(ctx);
    let (stop, stopped) = watch::channel(false);
    let latencies = Latencies::new();
    let delivered = Arc::new(AtomicU64::new(0));
    let last_delivery = Arc::new(Latest::default());
    let viewer_count = viewers.clients.len() as u64;
    let mut viewer_tasks = JoinSet::new();
    for (n, client) in viewers.clients.into_iter().enumerate() {
        let (latencies, delivered, last, stopped) =
            (latencies.clone(), delivered.clone(), last_delivery.clone(), stopped.clone());
        viewer_tasks.spawn(watch_deliveries(client, n, clock, latencies, delivered, last, stopped));
    }

    let counts = Arc::new(Counts::default());
    let published: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut workers = JoinSet::new();
    for client in moderators.clients {
        workers.spawn(moderate(client, args.room.clone(), clock, counts.clone(), published.clone(), stopped.clone()));
    }
    let per_asker = args.questions.div_ceil(args.askers);
    let mut remaining = args.questions;
    for (n, client) in askers.clients.into_iter().enumerate() {
        let count = per_asker.min(remaining);
        remaining -= count;
        workers.spawn(ask(client, n, args.room.clone(), count, args.duration.mul_f64(0.8), counts.clone()));
    }
    let vote_latency = Latencies::new();
    let per_voter = args.votes.div_ceil(args.voters);
    let mut remaining = args.votes;
    for (n, client) in voters.clients.into_iter().enumerate() {
        let count = per_voter.min(remaining);
        remaining -= count;
        workers.spawn(vote(
            client,
            args.room.clone(),
            n,
            count,
            args.duration,
            published.clone(),
            counts.clone(),
            vote_latency.clone(),
        ));
    }

    // Askers and voters finish on their own (bounded by the duration and the drain); then
    // the viewers get the drain to receive every approval.
    let deadline = Instant::now() + args.duration + args.drain;
    tokio::time::sleep_until(Instant::now() + args.duration).await;
    let expected = || counts.approvals.load(Ordering::Relaxed) * viewer_count;
    while (delivered.load(Ordering::Relaxed) < expected()
        || counts.votes_acked.load(Ordering::Relaxed) + counts.refused.load(Ordering::Relaxed) < args.votes as u64)
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop.send(true);
    workers.abort_all();
    let mut viewer_errors = 0usize;
    while let Some(result) = viewer_tasks.join_next().await {
        if matches!(result, Ok(Err(_))) {
            viewer_errors += 1;
        }
    }

    // The counts at rest, from a fresh moderator's snapshot (the whole desk).
    let token = ctx.tokens.token(first, Role::Moderator)?;
    let mut check = Client::connect(ctx.target.next_url()).await?;
    check.hello(&token).await?;
    let ServerMsg::Snapshot { questions, .. } = check.join(&args.room, None).await? else {
        anyhow::bail!("the checker did not get a snapshot");
    };
    let votes_at_rest: u64 = questions.iter().map(|q| u64::from(q.votes)).sum();
    let published_at_rest = questions.iter().filter(|q| q.state == QuestionState::Published).count() as u64;
    check.close().await;

    let summary = latencies.summary();
    let votes_acked = counts.votes_acked.load(Ordering::Relaxed);
    let approvals = counts.approvals.load(Ordering::Relaxed);
    report
        .add("asked", counts.asked.load(Ordering::Relaxed))
        .add("approved", approvals)
        .add("approval_conflicts", counts.conflicts.load(Ordering::Relaxed))
        .add("votes_acked", votes_acked)
        .add("refused", counts.refused.load(Ordering::Relaxed))
        .add("deliveries_expected", expected())
        .add("deliveries", delivered.load(Ordering::Relaxed))
        .add("question_latency", summary.line())
        .add("p50_ms", summary.p50_ms)
        .add("p99_ms", summary.p99_ms)
        .add("max_ms", summary.max_ms)
        .add("vote_ack_latency", vote_latency.summary().line())
        .add("votes_at_rest", votes_at_rest)
        .add("published_at_rest", published_at_rest)
        .add("counts_exact", votes_at_rest == votes_acked && published_at_rest == approvals)
        .add("viewer_errors", viewer_errors);
    usage.report(&mut report);
    Ok(report)
}

/// Where in its first gap worker `n` starts (the golden ratio spreads workers evenly).
fn offset(n: usize) -> f64 {
    (n as f64 * 0.618_033_988_75).fract()
}

/// Asks `count` questions, evenly over `within`.
async fn ask(
    client: Client,
    n: usize,
    room: RoomId,
    count: usize,
    within: Duration,
    counts: Arc<Counts>,
) -> anyhow::Result<()> {
    let (mut sink, mut stream) = client.ws.split();
    let gap = within.checked_div(u32::try_from(count.max(1)).unwrap_or(u32::MAX)).unwrap_or_default();
    let start = Instant::now();
    for k in 0..count {
        tokio::time::sleep_until(start + gap.mul_f64(k as f64 + offset(n))).await;
        let text = format!("Question {k} from load asker {n}: how will this scale to {k} more countries?");
        let msg = ClientMsg::QaAsk { rid: RequestId(k as u64 + 1), room: room.clone(), text, anonymous: false };
        sink.send(Message::text(msg.to_json())).await?;
        counts.asked.fetch_add(1, Ordering::Relaxed);
    }
    // Keep reading so the node never sees this connection as slow.
    while let Some(frame) = stream.next().await {
        frame?;
    }
    Ok(())
}

/// A moderator: approves every pending question it sees, with the text stamped at the
/// approval time; the other moderator races it for each one.
async fn moderate(
    client: Client,
    room: RoomId,
    clock: Clock,
    counts: Arc<Counts>,
    published: Arc<Mutex<Vec<String>>>,
    mut stopped: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let (mut sink, mut stream) = client.ws.split();
    let mut rid = 0u64;
    loop {
        let frame = tokio::select! {
            _ = stopped.changed() => return Ok(()),
            frame = stream.next() => frame,
        };
        let Some(frame) = frame else { anyhow::bail!("the node closed a moderator") };
        let Message::Text(text) = frame? else { continue };
        let Ok(msg) = serde_json::from_str::<ServerMsg>(text.as_str()) else { continue };
        match msg {
            ServerMsg::Event { event: RoomEvent::Questions { changed, .. }, .. } => {
                for q in changed {
                    match q.state {
                        QuestionState::Pending => {
                            rid += 1;
                            let msg = ClientMsg::QaModerate {
                                rid: RequestId(rid),
                                room: room.clone(),
                                id: q.id.clone(),
                                version: q.version,
                                action: QaAction::Approve,
                                text: Some(format!("{} {}", clock.stamp(), q.text)),
                                reason: None,
                                into: None,
                                into_version: None,
                                rank: None,
                            };
                            sink.send(Message::text(msg.to_json())).await?;
                        }
                        QuestionState::Published => {
                            let mut list = published.lock().await;
                            if !list.contains(&q.id.to_string()) {
                                list.push(q.id.to_string());
                            }
                        }
                        _ => {}
                    }
                }
            }
            ServerMsg::Ack { .. } => {
                counts.approvals.fetch_add(1, Ordering::Relaxed);
            }
            ServerMsg::Error { code, .. } => {
                if code == plenary_proto::ErrorCode::Conflict {
                    counts.conflicts.fetch_add(1, Ordering::Relaxed);
                } else {
                    counts.refused.fetch_add(1, Ordering::Relaxed);
                }
            }
            _ => {}
        }
    }
}

/// A voter: casts `count` votes evenly over `within`, each for a different published
/// question.
#[allow(clippy::too_many_arguments)]
async fn vote(
    client: Client,
    room: RoomId,
    n: usize,
    count: usize,
    within: Duration,
    published: Arc<Mutex<Vec<String>>>,
    counts: Arc<Counts>,
    latencies: Arc<Latencies>,
) -> anyhow::Result<()> {
    let (mut sink, mut stream) = client.ws.split();
    let mut recorder = latencies.recorder(n);
    let gap = within.checked_div(u32::try_from(count.max(1)).unwrap_or(u32::MAX)).unwrap_or_default();
    let start = Instant::now();
    let mut voted: HashSet<String> = HashSet::new();
    let mut sent_at = std::collections::HashMap::new();
    let mut next_vote = start + gap.mul_f64(offset(n));
    let mut rid = 0u64;
    while voted.len() < count || !sent_at.is_empty() {
        tokio::select! {
            _ = tokio::time::sleep_until(next_vote), if voted.len() < count => {
                next_vote += gap;
                let choice = {
                    let list = published.lock().await;
                    // Walk the list from a voter-specific offset to the first question not yet voted.
                    (0..list.len()).map(|k| &list[(n * 7 + k) % list.len()]).find(|id| !voted.contains(*id)).cloned()
                };
                let Some(id) = choice else { continue };
                let Ok(message_id) = plenary_proto::MessageId::parse(id.clone()) else { continue };
                rid += 1;
                voted.insert(id);
                sent_at.insert(rid, Instant::now());
                let msg = ClientMsg::QaVote { rid: RequestId(rid), room: room.clone(), id: message_id, up: true };
                sink.send(Message::text(msg.to_json())).await?;
            }
            frame = stream.next() => {
                let Some(frame) = frame else { anyhow::bail!("the node closed a voter") };
                let Message::Text(text) = frame? else { continue };
                let text = text.as_str();
                if !text.starts_with(r#"{"type":"ack""#) && !text.starts_with(r#"{"type":"error""#) {
                    continue;
                }
                let Ok(msg) = serde_json::from_str::<ServerMsg>(text) else { continue };
                let (ServerMsg::Ack { rid: r } | ServerMsg::Error { rid: Some(r), .. }) = &msg else { continue };
                if let Some(sent) = sent_at.remove(&r.0) {
                    recorder.record(u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX));
                    if matches!(msg, ServerMsg::Ack { .. }) {
                        counts.votes_acked.fetch_add(1, Ordering::Relaxed);
                    } else {
                        counts.refused.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
    }
    recorder.flush();
    let _ = sink.close().await;
    Ok(())
}
