//! `join-storm`: N clients join one session within T seconds. Measures join-to-snapshot
//! latency and how many attendance messages each client receives until it hears that
//! everyone is there: coalescing keeps that O(1) per client per second, O(N) in total.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use plenary_proto::{Role, RoomId, ServerMsg};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::{Usage, progress};
use crate::Context;
use crate::conn::{Client, Pacer};
use crate::report::Report;
use crate::stats::Latencies;

#[derive(Debug, Clone, clap::Args)]
pub struct JoinStormArgs {
    /// Clients that join.
    #[arg(long, default_value_t = 2000)]
    pub clients: usize,
    /// The time over which they arrive (sets the connect rate to clients / within).
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub within: Duration,
    /// The session room.
    #[arg(long, default_value = "session:join-storm-load")]
    pub room: RoomId,
    /// How long clients wait, after the last join, to hear the full count.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub settle: Duration,
}

pub async fn run(ctx: &Context, args: &JoinStormArgs) -> anyhow::Result<Report> {
    anyhow::ensure!(args.clients > 0, "at least one client");
    let pacer = Arc::new(Pacer::new(args.clients as f64 / args.within.as_secs_f64().max(1e-3)));
    let join_latency = Latencies::new();
    let connect_latency = Latencies::new();
    let attendance_messages = Arc::new(AtomicU64::new(0));
    let heard_everyone = Arc::new(AtomicU64::new(0));
    let most_per_client = Arc::new(AtomicU64::new(0));
    let joined = Arc::new(AtomicU64::new(0));
    let (stop, stopped) = watch::channel(false);
    let usage = Usage::start(ctx);
    let bar = progress(ctx, args.clients as u64, "joining");
    let started = Instant::now();
    let last_snapshot = Arc::new(super::Latest::default());
    let clock = super::Clock::start();

    let mut set = JoinSet::new();
    for n in 0..args.clients {
        let ctx = ctx.clone();
        let (pacer, room, bar) = (pacer.clone(), args.room.clone(), bar.clone());
        let (join_latency, connect_latency) = (join_latency.clone(), connect_latency.clone());
        let (messages, heard, most, joined, last) = (
            attendance_messages.clone(),
            heard_everyone.clone(),
            most_per_client.clone(),
            joined.clone(),
            last_snapshot.clone(),
        );
        let mut stopped = stopped.clone();
        let everyone = args.clients as u32;
        set.spawn(async move {
            pacer.wait().await;
            let token = ctx.tokens.token(n, Role::Attendee)?;
            let began = Instant::now();
            let mut client = Client::connect(ctx.target.next_url()).await?;
            client.hello(&token).await?;
            let sent = Instant::now();
            let answer = client.join(&room, None).await?;
            anyhow::ensure!(matches!(answer, ServerMsg::Snapshot { .. }), "join answered with {answer:?}");
            let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
            join_latency.recorder(n).record(micros(sent.elapsed()));
            connect_latency.recorder(n).record(micros(began.elapsed()));
            last.observe(clock.micros());
            joined.fetch_add(1, Ordering::Relaxed);
            bar.inc(1);
            let mut mine = 0u64;
            loop {
                tokio::select! {
                    _ = stopped.changed() => break,
                    msg = client.recv() => {
                        if let ServerMsg::Attendance { attendance, .. } = msg? {
                            mine += 1;
                            if attendance.present >= everyone {
                                heard.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                        }
                    }
                }
            }
            messages.fetch_add(mine, Ordering::Relaxed);
            most.fetch_max(mine, Ordering::Relaxed);
            // Stay joined until everyone has heard (or the settle time ends).
            let _ = stopped.changed().await;
            client.close().await;
            Ok::<_, anyhow::Error>(())
        });
    }

    // Wait until every client joined and heard the full count, bounded in time.
    let deadline = Instant::now() + args.within * 2 + args.settle + Duration::from_secs(30);
    while heard_everyone.load(Ordering::Relaxed) < args.clients as u64 && Instant::now() < deadline {
        if set.len() < args.clients && set.try_join_next().is_some_and(|r| !matches!(r, Ok(Ok(())))) {
            break; // a client failed: it can never hear everyone
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bar.finish_and_clear();
    let storm = Duration::from_micros(last_snapshot.get());
    let _ = stop.send(true);
    let mut failures = Vec::new();
    while let Some(result) = set.join_next().await {
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.push(format!("{e:#}")),
            Err(e) => failures.push(e.to_string()),
        }
    }
    let total_attendance = attendance_messages.load(Ordering::Relaxed);
    let joined = joined.load(Ordering::Relaxed);
    let mut report = Report::new("join-storm");
    let join = join_latency.summary();
    report
        .add("clients", args.clients)
        .add("within_s", args.within.as_secs_f64())
        .add("joined", joined)
        .add("failures", failures.len())
        .add("storm_s", storm.as_secs_f64())
        .add("join_to_snapshot", join.line())
        .add("join_p99_ms", join.p99_ms)
        .add("connect_to_snapshot", connect_latency.summary().line())
        .add("heard_everyone", heard_everyone.load(Ordering::Relaxed))
        .add("attendance_messages", total_attendance)
        .add("attendance_per_client_avg", total_attendance as f64 / joined.max(1) as f64)
        .add("attendance_per_client_max", most_per_client.load(Ordering::Relaxed))
        .add("elapsed_s", started.elapsed().as_secs_f64());
    if let Some(first) = failures.first() {
        report.add("first_failure", first.clone());
    }
    usage.report(&mut report);
    Ok(report)
}
