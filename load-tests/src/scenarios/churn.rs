//! `churn`: workers loop connect → hello → join → leave → close. Measures cycles per
//! second and the latency of a whole cycle.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use plenary_proto::{ClientMsg, Role, RoomId, ServerMsg};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::{Usage, progress};
use crate::Context;
use crate::conn::Client;
use crate::report::Report;
use crate::stats::Latencies;

#[derive(Debug, Clone, clap::Args)]
pub struct ChurnArgs {
    /// Concurrent workers.
    #[arg(long, default_value_t = 64)]
    pub workers: usize,
    /// How long the workers loop.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// At most this many cycles per worker.
    #[arg(long, default_value_t = 1_000_000)]
    pub max_cycles: u64,
    /// The session room.
    #[arg(long, default_value = "session:churn-load")]
    pub room: RoomId,
}

pub async fn run(ctx: &Context, args: &ChurnArgs) -> anyhow::Result<Report> {
    let cycles = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let latencies = Latencies::new();
    let usage = Usage::start(ctx);
    let started = Instant::now();
    let deadline = started + args.duration;
    let bar = progress(ctx, args.duration.as_secs(), "churning");
    let mut set = JoinSet::new();
    for w in 0..args.workers {
        let token = ctx.tokens.token(w, Role::Attendee)?;
        let (ctx, room, cycles, errors, latencies) =
            (ctx.clone(), args.room.clone(), cycles.clone(), errors.clone(), latencies.clone());
        let max = args.max_cycles;
        set.spawn(async move {
            let mut recorder = latencies.recorder(w);
            let mut first_error = None;
            for _ in 0..max {
                if Instant::now() >= deadline {
                    break;
                }
                let began = Instant::now();
                match cycle(&ctx, &token, &room).await {
                    Ok(()) => {
                        recorder.record(u64::try_from(began.elapsed().as_micros()).unwrap_or(u64::MAX));
                        cycles.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        first_error.get_or_insert_with(|| format!("{e:#}"));
                    }
                }
            }
            first_error
        });
    }
    let ticker = async {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            bar.set_position(started.elapsed().as_secs());
        }
    };
    let mut first_error = None;
    tokio::select! {
        _ = ticker => {}
        _ = async {
            while let Some(result) = set.join_next().await {
                if let Ok(Some(e)) = result {
                    first_error.get_or_insert(e);
                }
            }
        } => {}
    }
    bar.finish_and_clear();
    let elapsed = started.elapsed();
    let done = cycles.load(Ordering::Relaxed);
    let mut report = Report::new("churn");
    report
        .add("workers", args.workers)
        .add("duration_s", elapsed.as_secs_f64())
        .add("cycles", done)
        .add("cycles_per_second", done as f64 / elapsed.as_secs_f64())
        .add("errors", errors.load(Ordering::Relaxed))
        .add("cycle_latency", latencies.summary().line());
    if let Some(e) = first_error {
        report.add("first_error", e);
    }
    usage.report(&mut report);
    Ok(report)
}

async fn cycle(ctx: &Context, token: &str, room: &RoomId) -> anyhow::Result<()> {
    let mut client = Client::connect(ctx.target.next_url()).await?;
    client.hello(token).await?;
    let answer = client.join(room, None).await?;
    anyhow::ensure!(matches!(answer, ServerMsg::Snapshot { .. }), "join answered with {answer:?}");
    let rid = client.rid();
    client.send(&ClientMsg::Leave { rid, room: room.clone() }).await?;
    client.answer(rid).await?;
    client.close().await;
    Ok(())
}
