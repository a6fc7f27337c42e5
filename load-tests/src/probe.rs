//! The server's CPU time and memory, read from `/proc/<pid>` when the node runs on this
//! machine (`--server-pid`). The load tool reads its own the same way.

use std::time::Instant;

use anyhow::Context as _;

/// Clock ticks per second in `/proc/<pid>/stat` (USER_HZ, 100 on Linux x86 and arm).
const TICKS_PER_SECOND: f64 = 100.0;

#[derive(Debug, Clone, Copy)]
pub struct Probe {
    pid: u32,
}

/// CPU seconds used and resident memory at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    at: Instant,
    cpu_seconds: f64,
    pub rss_bytes: u64,
}

impl Probe {
    /// A probe of `pid`, checked to exist now.
    pub fn new(pid: u32) -> anyhow::Result<Probe> {
        let probe = Probe { pid };
        probe.sample().with_context(|| format!("reading /proc/{pid}: is the node running here?"))?;
        Ok(probe)
    }

    pub fn this_process() -> Probe {
        Probe { pid: std::process::id() }
    }

    pub fn sample(&self) -> anyhow::Result<Sample> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid))?;
        // The command name may contain spaces: fields are counted after its closing ')'.
        let after = stat.rsplit_once(')').context("malformed stat")?.1;
        let fields: Vec<&str> = after.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of stat, i.e. 12 and 13 after the name.
        let utime: f64 = fields.get(11).context("no utime")?.parse()?;
        let stime: f64 = fields.get(12).context("no stime")?.parse()?;
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        let rss_kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .context("no VmRSS")?
            .parse()?;
        Ok(Sample { at: Instant::now(), cpu_seconds: (utime + stime) / TICKS_PER_SECOND, rss_bytes: rss_kib * 1024 })
    }
}

impl Sample {
    /// Average CPU use between `earlier` and this sample, in percent of one core.
    pub fn cpu_percent_since(&self, earlier: &Sample) -> f64 {
        let wall = self.at.duration_since(earlier.at).as_secs_f64();
        if wall <= 0.0 {
            return 0.0;
        }
        100.0 * (self.cpu_seconds - earlier.cpu_seconds) / wall
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let probe = Probe::this_process();
        let a = probe.sample().unwrap();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_add(i * i);
        }
        std::hint::black_box(x);
        let b = probe.sample().unwrap();
        assert!(b.rss_bytes > 0);
        assert!(b.cpu_percent_since(&a) >= 0.0);
    }
}
