//! Latency statistics. Client tasks record into a small local buffer and flush it into
//! one of a few shared HdrHistograms, so thousands of tasks neither contend on one lock
//! nor each hold a histogram of their own.

use std::sync::{Arc, Mutex};

use hdrhistogram::Histogram;
use serde::Serialize;

const SHARDS: usize = 8;
const LOCAL_BATCH: usize = 256;
/// Highest latency recorded, in microseconds (10 minutes); longer values are clamped.
const MAX_MICROS: u64 = 600_000_000;

/// Latencies in microseconds, shared by every client task of a run.
#[derive(Debug)]
pub struct Latencies {
    shards: Vec<Mutex<Histogram<u64>>>,
}

impl Default for Latencies {
    fn default() -> Self {
        let histogram = Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("valid histogram bounds");
        Latencies { shards: (0..SHARDS).map(|_| Mutex::new(histogram.clone())).collect() }
    }
}

impl Latencies {
    pub fn new() -> Arc<Latencies> {
        Arc::new(Latencies::default())
    }

    /// A recorder for one task; `n` spreads tasks over the shards.
    pub fn recorder(self: &Arc<Self>, n: usize) -> Recorder {
        Recorder { latencies: self.clone(), shard: n % SHARDS, buffer: Vec::with_capacity(LOCAL_BATCH) }
    }

    fn absorb(&self, shard: usize, values: &[u64]) {
        let mut histogram = self.shards[shard].lock().expect("histogram lock");
        for &v in values {
            histogram.saturating_record(v.clamp(1, MAX_MICROS));
        }
    }

    /// Every recorded value, merged.
    pub fn merged(&self) -> Histogram<u64> {
        let mut all = Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("valid histogram bounds");
        for shard in &self.shards {
            all.add(&*shard.lock().expect("histogram lock")).expect("same bounds");
        }
        all
    }

    pub fn summary(&self) -> LatencySummary {
        LatencySummary::of(&self.merged())
    }
}

/// A task's local buffer; flushes when full and when dropped.
#[derive(Debug)]
pub struct Recorder {
    latencies: Arc<Latencies>,
    shard: usize,
    buffer: Vec<u64>,
}

impl Recorder {
    pub fn record(&mut self, micros: u64) {
        self.buffer.push(micros);
        if self.buffer.len() == LOCAL_BATCH {
            self.flush();
        }
    }

    pub fn flush(&mut self) {
        if !self.buffer.is_empty() {
            self.latencies.absorb(self.shard, &self.buffer);
            self.buffer.clear();
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct LatencySummary {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl LatencySummary {
    pub fn of(h: &Histogram<u64>) -> Self {
        let ms = |micros: u64| micros as f64 / 1000.0;
        LatencySummary {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
        }
    }

    /// `p50 / p90 / p99 / max` for the table.
    pub fn line(&self) -> String {
        if self.count == 0 {
            return "no samples".to_owned();
        }
        format!(
            "p50 {:.2} ms / p90 {:.2} ms / p99 {:.2} ms / max {:.2} ms ({} samples)",
            self.p50_ms, self.p90_ms, self.p99_ms, self.max_ms, self.count
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorders_flush_into_the_shared_histogram() {
        let latencies = Latencies::new();
        {
            let mut a = latencies.recorder(0);
            let mut b = latencies.recorder(1);
            for v in 1..=1000 {
                a.record(v);
                b.record(v * 10);
            }
        }
        let summary = latencies.summary();
        assert_eq!(summary.count, 2000);
        assert!((summary.max_ms - 10.0).abs() < 0.1, "{summary:?}");
        assert!(summary.p50_ms > 0.9 && summary.p50_ms < 1.1, "{summary:?}");
    }
}
