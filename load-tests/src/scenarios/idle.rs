//! `idle`: N idle joined connections. Measures the node's memory per connection (from
//! `/proc/<pid>` with `--server-pid`) and the connect rate reached.

use std::sync::Arc;
use std::time::Duration;

use plenary_proto::{Role, RoomId};

use super::{Usage, join_members, progress};
use crate::Context;
use crate::conn::Pacer;
use crate::report::Report;

#[derive(Debug, Clone, clap::Args)]
pub struct IdleArgs {
    /// Connections to open and keep.
    #[arg(long, default_value_t = 5000)]
    pub clients: usize,
    /// How long to hold them once all are joined.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub hold: Duration,
    /// The session room every client joins.
    #[arg(long, default_value = "session:idle-load")]
    pub room: RoomId,
}

pub async fn run(ctx: &Context, args: &IdleArgs) -> anyhow::Result<Report> {
    let usage = Usage::start(ctx);
    let rss_before = usage.server_rss();
    let pacer = Arc::new(Pacer::new(ctx.connect_rate));
    let bar = progress(ctx, args.clients as u64, "connecting");
    let joined = join_members(ctx, &pacer, &args.room, 0, args.clients, Role::Attendee, &bar).await;
    bar.finish_and_clear();
    // Let the node settle (attendance broadcasts, allocator) before reading its memory.
    tokio::time::sleep(args.hold).await;
    let rss_after = ctx.probe.and_then(|p| p.sample().ok()).map(|s| s.rss_bytes);
    let count = joined.clients.len();
    let mut report = Report::new("idle");
    report
        .add("clients", args.clients)
        .add("joined", count)
        .add("failures", joined.failures.len())
        .add("connect_seconds", joined.elapsed.as_secs_f64())
        .add("connects_per_second", count as f64 / joined.elapsed.as_secs_f64().max(1e-9))
        .add("join_latency", joined.join_latency.summary().line());
    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        let per = after.saturating_sub(before) as f64 / count.max(1) as f64;
        report.add("server_rss_before_mib", before as f64 / 1048576.0);
        report.add("server_rss_after_mib", after as f64 / 1048576.0);
        report.add("server_bytes_per_connection", per.round());
    } else {
        report.add("server_bytes_per_connection", "unknown: pass --server-pid");
    }
    if let Some(first) = joined.failures.first() {
        report.add("first_failure", first.clone());
    }
    usage.report(&mut report);
    for client in joined.clients {
        client.close().await;
    }
    Ok(report)
}
