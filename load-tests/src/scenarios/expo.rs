//! `expo`: the virtual exhibition under load. Visitors move between booths (join one, stay,
//! leave, join the next) and now and then ask to talk; each booth's staff toggle their
//! status and race each other to accept every request; one client watches the hall.
//! Reports the latency from a staff member's status change to each visitor at that booth,
//! how requests were decided (every accepted request accepted exactly once), and whether
//! the hall's counts match where everyone is once the movement stops.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use plenary_proto::{
    BoothCounts, ClientMsg, ContactState, ErrorCode, RequestId, Role, RoomEvent, RoomId, ServerMsg, StaffStatus,
};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::{Usage, progress};
use crate::Context;
use crate::conn::{Client, Pacer};
use crate::report::Report;
use crate::stats::Latencies;

#[derive(Debug, Clone, clap::Args)]
pub struct ExpoArgs {
    /// Visitors moving between booths.
    #[arg(long, default_value_t = 3_000)]
    pub visitors: usize,
    /// Booths, named `<prefix><k>`; the node serves them (a programme listing them, or a node
    /// without one).
    #[arg(long, default_value_t = 50)]
    pub booths: usize,
    /// Staff members per booth.
    #[arg(long, default_value_t = 2)]
    pub staff: usize,
    /// How long a visitor stays at a booth before moving on.
    #[arg(long, default_value = "3s", value_parser = humantime::parse_duration)]
    pub stay: Duration,
    /// Every this many moves, a visitor asks to talk (visitors at different moves).
    #[arg(long, default_value_t = 5)]
    pub request_every: usize,
    /// How often a staff member switches between available and busy.
    #[arg(long, default_value = "7s", value_parser = humantime::parse_duration)]
    pub toggle: Duration,
    /// How long visitors move.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// How long the hall may take to show the final counts.
    #[arg(long, default_value = "15s", value_parser = humantime::parse_duration)]
    pub drain: Duration,
    #[arg(long, default_value = "expo-load-")]
    pub prefix: String,
}

#[derive(Debug, Default)]
struct Counts {
    moves: AtomicU64,
    requests: AtomicU64,
    nobody_available: AtomicU64,
    /// Requests refused because the booth's stream kept moving while the node decided them.
    request_races_lost: AtomicU64,
    accepts_acked: AtomicU64,
    accept_conflicts: AtomicU64,
    double_accepts: AtomicU64,
    status_changes: AtomicU64,
    refused: AtomicU64,
}

/// What every task shares: the latest status each staff member set (for latency), and the
/// requests accepted.
#[derive(Debug, Default)]
struct Shared {
    status_sent: Mutex<HashMap<String, (StaffStatus, Instant)>>,
    accepted: Mutex<HashSet<String>>,
}

pub async fn run(ctx: &Context, args: &ExpoArgs) -> anyhow::Result<Report> {
    anyhow::ensure!(args.booths > 0 && args.staff > 0, "need booths and staff");
    let booths: Vec<RoomId> =
        (0..args.booths).map(|k| RoomId::booth(&format!("{}{k}", args.prefix))).collect::<Result<_, _>>()?;
    let mut report = Report::new("expo");
    report
        .add("visitors", args.visitors)
        .add("booths", args.booths)
        .add("staff_per_booth", args.staff)
        .add("stay_s", args.stay.as_secs_f64())
        .add("duration_s", args.duration.as_secs_f64());
    let pacer = Arc::new(Pacer::new(ctx.connect_rate));
    let bar = progress(ctx, (args.visitors + args.booths * args.staff + 1) as u64, "connecting");

    // The hall watcher, then the staff at their booths, then the visitors (connected, not yet in a booth).
    let mut hall = Client::connect(ctx.target.next_url()).await?;
    hall.hello(&ctx.tokens.token(0, Role::Attendee)?).await?;
    hall.join(&RoomId::expo(), None).await?;
    let (summary_tx, summary_rx) = watch::channel(Vec::<BoothCounts>::new());
    let hall_task = tokio::spawn(watch_hall(hall, summary_tx));

    let mut staff_clients = Vec::new();
    let mut set = JoinSet::new();
    for (b, room) in booths.iter().enumerate() {
        for k in 0..args.staff {
            let n = 1 + b * args.staff + k;
            let (ctx, pacer, room, slug, bar) =
                (ctx.clone(), pacer.clone(), room.clone(), room.name().to_owned(), bar.clone());
            set.spawn(async move {
                pacer.wait().await;
                let token = ctx.tokens.token_with_scopes(n, Role::Exhibitor, &[format!("staff:{slug}")])?;
                let mut client = Client::connect(ctx.target.next_url()).await?;
                client.hello(&token).await?;
                let answer = client.join(&room, None).await?;
                anyhow::ensure!(
                    matches!(&answer, ServerMsg::Snapshot { you, .. } if you.booth_staff),
                    "staff join answered with {answer:?}"
                );
                bar.inc(1);
                Ok::<_, anyhow::Error>((n, b, client))
            });
        }
    }
    while let Some(result) = set.join_next().await {
        staff_clients.push(result??);
    }
    let first_visitor = 1 + booths.len() * args.staff;
    let mut visitor_clients = Vec::new();
    let mut set = JoinSet::new();
    for n in first_visitor..first_visitor + args.visitors {
        let (ctx, pacer, bar) = (ctx.clone(), pacer.clone(), bar.clone());
        set.spawn(async move {
            pacer.wait().await;
            let mut client = Client::connect(ctx.target.next_url()).await?;
            client.hello(&ctx.tokens.token(n, Role::Attendee)?).await?;
            bar.inc(1);
            Ok::<_, anyhow::Error>((n, client))
        });
    }
    let mut failures = 0usize;
    while let Some(result) = set.join_next().await {
        match result {
            Ok(Ok(pair)) => visitor_clients.push(pair),
            _ => failures += 1,
        }
    }
    bar.finish_and_clear();
    report.add("connected", visitor_clients.len() + staff_clients.len()).add("connect_failures", failures);

    let usage = Usage::start(ctx);
    let counts = Arc::new(Counts::default());
    let shared = Arc::new(Shared::default());
    let latencies = Latencies::new();
    let (stop, stopped) = watch::channel(false);
    let (finish, finished) = watch::channel(false);
    let (release, released) = watch::channel(false);
    let (settled_tx, mut settled_rx) = mpsc::unbounded_channel::<Settled>();
    let mut staff_tasks = JoinSet::new();
    for (n, b, client) in staff_clients {
        staff_tasks.spawn(staff(
            client,
            n,
            booths[b].clone(),
            args.toggle,
            counts.clone(),
            shared.clone(),
            Signals { stopped: stopped.clone(), finished: finished.clone(), released: released.clone() },
            settled_tx.clone(),
        ));
    }
    let staff_count = staff_tasks.len();
    let mut visitor_tasks = JoinSet::new();
    for (n, client) in visitor_clients {
        let plan = Plan { booths: booths.clone(), stay: args.stay, request_every: args.request_every.max(1) };
        visitor_tasks.spawn(visit(
            client,
            n,
            plan,
            counts.clone(),
            shared.clone(),
            latencies.recorder(n),
            Signals { stopped: stopped.clone(), finished: finished.clone(), released: released.clone() },
            settled_tx.clone(),
        ));
    }
    let visitor_count = visitor_tasks.len();
    drop(settled_tx);

    tokio::time::sleep(args.duration).await;
    let _ = stop.send(true);
    // Movement stops: every visitor's last join and every staff member's last status are
    // answered; then the hall must show exactly where everyone is.
    let settle_started = Instant::now();
    let deadline = settle_started + args.drain;
    let expected = |finals: &[(usize, Option<usize>)], statuses: &HashMap<String, (StaffStatus, Instant)>| {
        let mut visitors = vec![0u32; booths.len()];
        for (_, booth) in finals {
            if let Some(b) = booth {
                visitors[*b] += 1;
            }
        }
        booths
            .iter()
            .enumerate()
            .map(|(b, room)| BoothCounts {
                booth: room.name().to_owned(),
                visitors: visitors[b],
                staff_on_duty: (0..args.staff)
                    .filter(|k| {
                        let user = format!("load-{}", 1 + b * args.staff + k);
                        statuses.get(&user).is_none_or(|(s, _)| *s == StaffStatus::Available)
                    })
                    .count() as u32,
            })
            .collect::<Vec<_>>()
    };
    // Visitors report where they ended once their last join is answered, staff once their
    // last status is; all stay connected until the hall has been checked.
    let _ = finish.send(true);
    let mut finals = Vec::new();
    let mut staff_settled = 0usize;
    while finals.len() < visitor_count || staff_settled < staff_count {
        match tokio::time::timeout_at(deadline, settled_rx.recv()).await {
            Ok(Some(Settled::Visitor { n, booth })) => finals.push((n, booth)),
            Ok(Some(Settled::Staff)) => staff_settled += 1,
            // A task ended early (its error is counted below) or the drain ran out.
            Ok(None) | Err(_) => break,
        }
    }
    let statuses = shared.status_sent.lock().expect("statuses").clone();
    let mut want = expected(&finals, &statuses);
    // The hall lists booths by id, as strings.
    want.sort_by(|a, b| a.booth.cmp(&b.booth));
    let mut summary_rx = summary_rx;
    let mut exact = false;
    while Instant::now() < deadline {
        if *summary_rx.borrow_and_update() == want {
            exact = true;
            break;
        }
        let _ = tokio::time::timeout_at(deadline, summary_rx.changed()).await;
    }
    let settle_s = settle_started.elapsed().as_secs_f64();
    let last = summary_rx.borrow().clone();
    hall_task.abort();
    let _ = release.send(true);
    let mut visitor_errors = 0usize;
    while let Some(result) = visitor_tasks.join_next().await {
        if !matches!(result, Ok(Ok(()))) {
            visitor_errors += 1;
        }
    }
    let mut staff_errors = 0usize;
    while let Some(result) = staff_tasks.join_next().await {
        if !matches!(result, Ok(Ok(()))) {
            staff_errors += 1;
        }
    }
    if !exact {
        let wrong = want.iter().zip(&last).find(|(a, b)| a != b).map(|(a, b)| format!("want {a:?}, hall {b:?}"));
        report.add("first_mismatch", wrong.unwrap_or_else(|| format!("hall lists {} booths", last.len())));
    }

    let summary = latencies.summary();
    report
        .add("moves", counts.moves.load(Ordering::Relaxed))
        .add("status_changes", counts.status_changes.load(Ordering::Relaxed))
        .add("presence_latency", summary.line())
        .add("p50_ms", summary.p50_ms)
        .add("p99_ms", summary.p99_ms)
        .add("max_ms", summary.max_ms)
        .add("requests", counts.requests.load(Ordering::Relaxed))
        .add("nobody_available", counts.nobody_available.load(Ordering::Relaxed))
        .add("request_races_lost", counts.request_races_lost.load(Ordering::Relaxed))
        .add("accepted", shared.accepted.lock().expect("accepted").len())
        .add("accepts_acked", counts.accepts_acked.load(Ordering::Relaxed))
        .add("accept_conflicts", counts.accept_conflicts.load(Ordering::Relaxed))
        .add("double_accepts", counts.double_accepts.load(Ordering::Relaxed))
        .add("refused", counts.refused.load(Ordering::Relaxed))
        .add("settle_s", settle_s)
        .add("counts_exact", exact)
        .add("visitor_errors", visitor_errors)
        .add("staff_errors", staff_errors);
    usage.report(&mut report);
    Ok(report)
}

/// Keeps the latest `booth_summary` the hall received.
async fn watch_hall(mut hall: Client, latest: watch::Sender<Vec<BoothCounts>>) -> anyhow::Result<()> {
    while let Some(text) = hall.next_text().await? {
        if !text.as_str().starts_with(r#"{"type":"booth_summary""#) {
            continue;
        }
        if let Ok(ServerMsg::BoothSummary { booths }) = serde_json::from_str(text.as_str()) {
            let _ = latest.send(booths);
        }
    }
    Ok(())
}

/// What a client tells the run once it stopped moving and its last request was answered.
#[derive(Debug)]
enum Settled {
    Visitor { n: usize, booth: Option<usize> },
    Staff,
}

/// The run's phases, as each client task sees them: stop moving, settle, disconnect.
#[derive(Debug, Clone)]
struct Signals {
    stopped: watch::Receiver<bool>,
    finished: watch::Receiver<bool>,
    released: watch::Receiver<bool>,
}

#[derive(Debug, Clone)]
struct Plan {
    booths: Vec<RoomId>,
    stay: Duration,
    request_every: usize,
}

/// Where in its first gap worker `n` starts (the golden ratio spreads workers evenly).
fn offset(n: usize) -> f64 {
    (n as f64 * 0.618_033_988_75).fract()
}

/// A visitor: moves to a new booth every `stay` until stopped, asks to talk every
/// `request_every` moves, and records how long staff status changes take to reach it.
/// Tells the run the booth it ended at once its last join was answered, and stays until
/// released.
#[allow(clippy::too_many_arguments)]
async fn visit(
    client: Client,
    n: usize,
    plan: Plan,
    counts: Arc<Counts>,
    shared: Arc<Shared>,
    mut recorder: crate::stats::Recorder,
    mut signals: Signals,
    settled: mpsc::UnboundedSender<Settled>,
) -> anyhow::Result<()> {
    let (mut sink, mut stream) = client.ws.split();
    let mut next_move = Instant::now() + plan.stay.mul_f64(offset(n));
    let mut current: Option<usize> = None;
    let mut joined_at: Option<usize> = None;
    let mut pending_join: Option<u64> = None;
    let mut moves = 0usize;
    let mut rid = 0u64;
    let mut requests: HashSet<u64> = HashSet::new();
    let mut moving = true;
    let mut finishing = false;
    let mut reported = false;
    loop {
        // Only once it has stopped moving: a move after the report would make it wrong.
        if finishing && !moving && pending_join.is_none() && !reported {
            reported = true;
            recorder.flush();
            let _ = settled.send(Settled::Visitor { n, booth: joined_at });
        }
        tokio::select! {
            _ = signals.released.changed() => {
                let _ = sink.close().await;
                return Ok(());
            }
            _ = tokio::time::sleep_until(next_move), if moving && !finishing => {
                next_move += plan.stay;
                if let Some(b) = current {
                    rid += 1;
                    let msg = ClientMsg::Leave { rid: RequestId(rid), room: plan.booths[b].clone() };
                    sink.send(Message::text(msg.to_json())).await?;
                }
                let b = (n * 13 + moves * 7) % plan.booths.len();
                moves += 1;
                rid += 1;
                let msg = ClientMsg::Join { rid: RequestId(rid), room: plan.booths[b].clone(), since: None };
                sink.send(Message::text(msg.to_json())).await?;
                current = Some(b);
                joined_at = None;
                pending_join = Some(rid);
                counts.moves.fetch_add(1, Ordering::Relaxed);
                // Spread over the visitors, so requests do not all fall at the same moments.
                if (moves + n).is_multiple_of(plan.request_every) {
                    rid += 1;
                    requests.insert(rid);
                    let msg = ClientMsg::BoothRequest { rid: RequestId(rid), room: plan.booths[b].clone(), message: None };
                    sink.send(Message::text(msg.to_json())).await?;
                    counts.requests.fetch_add(1, Ordering::Relaxed);
                }
            }
            _ = signals.stopped.changed(), if moving => moving = false,
            _ = signals.finished.changed(), if !finishing => finishing = true,
            frame = stream.next() => {
                let Some(frame) = frame else { anyhow::bail!("the node closed a visitor") };
                let Message::Text(text) = frame? else { continue };
                let text = text.as_str();
                if text.starts_with(r#"{"type":"event""#) && text.contains(r#""type":"booth""#) {
                    let Ok(ServerMsg::Event { event: RoomEvent::Booth { staff, .. }, .. }) = serde_json::from_str(text) else { continue };
                    let sent = shared.status_sent.lock().expect("statuses");
                    for view in staff {
                        if let Some((status, at)) = sent.get(view.user.as_str()) && *status == view.status {
                            recorder.record(u64::try_from(at.elapsed().as_micros()).unwrap_or(u64::MAX));
                        }
                    }
                } else if text.starts_with(r#"{"type":"snapshot""#) {
                    if let Ok(ServerMsg::Snapshot { rid: r, .. }) = serde_json::from_str(text) && pending_join == Some(r.0) {
                        pending_join = None;
                        joined_at = current;
                    }
                } else if text.starts_with(r#"{"type":"error""#) {
                    let Ok(ServerMsg::Error { rid: Some(r), code, message, .. }) = serde_json::from_str(text) else { continue };
                    if requests.remove(&r.0) && code == ErrorCode::Conflict {
                        if message.contains("kept changing") {
                            counts.request_races_lost.fetch_add(1, Ordering::Relaxed);
                        } else {
                            counts.nobody_available.fetch_add(1, Ordering::Relaxed);
                        }
                    } else {
                        counts.refused.fetch_add(1, Ordering::Relaxed);
                        if pending_join == Some(r.0) {
                            pending_join = None;
                        }
                    }
                }
            }
        }
    }
}

/// A staff member: switches between available and busy every `toggle` until stopped (ending
/// on a status it keeps), and tries to accept every waiting request it sees.
#[allow(clippy::too_many_arguments)]
async fn staff(
    client: Client,
    n: usize,
    room: RoomId,
    toggle: Duration,
    counts: Arc<Counts>,
    shared: Arc<Shared>,
    mut signals: Signals,
    settled: mpsc::UnboundedSender<Settled>,
) -> anyhow::Result<()> {
    let (mut sink, mut stream) = client.ws.split();
    let user = format!("load-{n}");
    let mut next_toggle = Instant::now() + toggle.mul_f64(1.0 + offset(n));
    let mut status = StaffStatus::Available;
    let mut rid = 0u64;
    let mut tried: HashSet<String> = HashSet::new();
    let mut accepts: HashMap<u64, String> = HashMap::new();
    let mut status_pending: Option<u64> = None;
    let mut moving = true;
    let mut finishing = false;
    let mut reported = false;
    loop {
        if finishing && !moving && status_pending.is_none() && !reported {
            reported = true;
            let _ = settled.send(Settled::Staff);
        }
        tokio::select! {
            _ = signals.released.changed() => {
                let _ = sink.close().await;
                return Ok(());
            }
            _ = tokio::time::sleep_until(next_toggle), if moving && !finishing => {
                next_toggle += toggle;
                status = if status == StaffStatus::Available { StaffStatus::Busy } else { StaffStatus::Available };
                rid += 1;
                status_pending = Some(rid);
                shared.status_sent.lock().expect("statuses").insert(user.clone(), (status, Instant::now()));
                let msg = ClientMsg::BoothStatus { rid: RequestId(rid), room: room.clone(), status };
                sink.send(Message::text(msg.to_json())).await?;
                counts.status_changes.fetch_add(1, Ordering::Relaxed);
            }
            _ = signals.stopped.changed(), if moving => moving = false,
            _ = signals.finished.changed(), if !finishing => finishing = true,
            frame = stream.next() => {
                let Some(frame) = frame else { anyhow::bail!("the node closed a staff member") };
                let Message::Text(text) = frame? else { continue };
                let text = text.as_str();
                if text.starts_with(r#"{"type":"event""#) && text.contains(r#""type":"booth""#) {
                    let Ok(ServerMsg::Event { event: RoomEvent::Booth { requests, .. }, .. }) = serde_json::from_str(text) else { continue };
                    for request in requests {
                        if request.state == ContactState::Waiting && tried.insert(request.id.to_string()) && moving {
                            rid += 1;
                            accepts.insert(rid, request.id.to_string());
                            let msg = ClientMsg::BoothAccept { rid: RequestId(rid), room: room.clone(), id: request.id };
                            sink.send(Message::text(msg.to_json())).await?;
                        }
                    }
                } else if text.starts_with(r#"{"type":"ack""#) {
                    let Ok(ServerMsg::Ack { rid: r }) = serde_json::from_str(text) else { continue };
                    if status_pending == Some(r.0) {
                        status_pending = None;
                    }
                    if let Some(id) = accepts.remove(&r.0) {
                        counts.accepts_acked.fetch_add(1, Ordering::Relaxed);
                        if !shared.accepted.lock().expect("accepted").insert(id) {
                            counts.double_accepts.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                } else if text.starts_with(r#"{"type":"error""#) {
                    let Ok(ServerMsg::Error { rid: Some(r), code, .. }) = serde_json::from_str(text) else { continue };
                    if status_pending == Some(r.0) {
                        status_pending = None;
                    }
                    if accepts.remove(&r.0).is_some() && code == ErrorCode::Conflict {
                        counts.accept_conflicts.fetch_add(1, Ordering::Relaxed);
                    } else {
                        counts.refused.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
    }
}
