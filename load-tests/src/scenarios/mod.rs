//! The scenarios, one module each, and what they share: connecting many members to a room
//! at the paced rate, stamping events with their send time, and reading the node's CPU.

pub mod churn;
pub mod expo;
pub mod fanout;
pub mod idle;
pub mod join_storm;
pub mod qa_storm;
pub mod stage;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use plenary_proto::{Role, RoomId, ServerMsg};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::Context;
use crate::conn::{Client, Pacer};
use crate::probe::{Probe, Sample};
use crate::report::Report;
use crate::stats::Latencies;

/// The marker that carries an event's send time: `lt:` and 16 digits of microseconds
/// since the run's [`Clock`] started.
const STAMP_PREFIX: &str = "lt:";
const STAMP_DIGITS: usize = 16;

/// The run's time base: every stamp and latency is measured from it.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: Instant,
}

impl Clock {
    pub fn start() -> Clock {
        Clock { start: Instant::now() }
    }

    pub fn micros(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// A stamp for an event sent now.
    pub fn stamp(&self) -> String {
        format!("{STAMP_PREFIX}{:0width$}", self.micros(), width = STAMP_DIGITS)
    }
}

/// The send time carried by a frame, if it has a stamp. Scans the raw text instead of
/// decoding JSON, so measuring costs the tool little next to the node it shares a
/// machine with.
pub fn find_stamp(frame: &str) -> Option<u64> {
    let at = frame.find(STAMP_PREFIX)? + STAMP_PREFIX.len();
    frame.get(at..at + STAMP_DIGITS)?.parse().ok()
}

/// A progress bar on stderr, or a hidden one.
pub fn progress(ctx: &Context, len: u64, what: &str) -> ProgressBar {
    if !ctx.progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} {per_sec} {elapsed}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

/// Members connected to a room.
#[derive(Debug)]
pub struct Joined {
    pub clients: Vec<Client>,
    pub failures: Vec<String>,
    /// Time from sending `join` to receiving the snapshot.
    pub join_latency: Arc<Latencies>,
    pub elapsed: Duration,
}

/// Connects `count` members (users `first..first+count`, with `role`) to `room` at the
/// context's connect rate: connect, hello, join, snapshot.
pub async fn join_members(
    ctx: &Context,
    pacer: &Arc<Pacer>,
    room: &RoomId,
    first: usize,
    count: usize,
    role: Role,
    bar: &ProgressBar,
) -> Joined {
    let started = Instant::now();
    let join_latency = Latencies::new();
    let mut set = JoinSet::new();
    for n in first..first + count {
        let (ctx, pacer, room, latencies, bar) =
            (ctx.clone(), pacer.clone(), room.clone(), join_latency.clone(), bar.clone());
        set.spawn(async move {
            pacer.wait().await;
            let token = ctx.tokens.token(n, role)?;
            let mut client = Client::connect(ctx.target.next_url()).await?;
            client.hello(&token).await?;
            let sent = Instant::now();
            let answer = client.join(&room, None).await?;
            anyhow::ensure!(matches!(answer, ServerMsg::Snapshot { .. }), "join answered with {answer:?}");
            latencies.recorder(n).record(u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX));
            bar.inc(1);
            Ok::<_, anyhow::Error>((n, client))
        });
    }
    let mut clients = Vec::with_capacity(count);
    let mut failures = Vec::new();
    while let Some(result) = set.join_next().await {
        match result {
            Ok(Ok((n, client))) => clients.push((n, client)),
            Ok(Err(e)) => failures.push(format!("{e:#}")),
            Err(e) => failures.push(e.to_string()),
        }
    }
    clients.sort_by_key(|(n, _)| *n);
    Joined {
        clients: clients.into_iter().map(|(_, c)| c).collect(),
        failures,
        join_latency,
        elapsed: started.elapsed(),
    }
}

/// CPU and memory of the node (when `--server-pid` was given) and of this tool.
#[derive(Debug)]
pub struct Usage {
    server: Option<(Probe, Sample)>,
    tool: Option<Sample>,
}

impl Usage {
    pub fn start(ctx: &Context) -> Usage {
        Usage {
            server: ctx.probe.and_then(|p| p.sample().ok().map(|s| (p, s))),
            tool: Probe::this_process().sample().ok(),
        }
    }

    pub fn server_rss(&self) -> Option<u64> {
        self.server.map(|(_, s)| s.rss_bytes)
    }

    /// Adds CPU figures since [`Usage::start`] to the report.
    pub fn report(&self, report: &mut Report) {
        if let Some((probe, start)) = self.server
            && let Ok(now) = probe.sample()
        {
            report.add("server_cpu_percent", now.cpu_percent_since(&start));
            report.add("server_rss_mib", now.rss_bytes as f64 / (1024.0 * 1024.0));
        }
        if let Some(start) = self.tool
            && let Ok(now) = Probe::this_process().sample()
        {
            report.add("tool_cpu_percent", now.cpu_percent_since(&start));
        }
    }
}

/// The latest of many timestamps, kept without a lock.
#[derive(Debug, Default)]
pub struct Latest(AtomicU64);

impl Latest {
    pub fn observe(&self, micros: u64) {
        self.0.fetch_max(micros, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_found_in_frames() {
        let clock = Clock::start();
        let stamp = clock.stamp();
        let frame = format!(r#"{{"type":"event","event":{{"text":"{stamp} xxxx"}}}}"#);
        assert_eq!(find_stamp(&frame), Some(stamp[3..].parse().unwrap()));
        assert_eq!(find_stamp(r#"{"type":"attendance"}"#), None);
        assert_eq!(find_stamp("lt:12"), None);
    }
}
