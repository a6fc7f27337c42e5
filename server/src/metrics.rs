//! Prometheus metrics for `/metrics`: connections, rooms, messages and bytes in and out,
//! slow-consumer closes, rejected commands and close codes.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabel {
    pub code: u16,
}

/// Every metric of a node. Cheap to update from any task: each is an atomic.
#[derive(Debug, Default)]
pub struct Metrics {
    pub connections: Gauge,
    pub connections_opened: Counter,
    pub rooms: Gauge,
    pub messages_in: Counter,
    pub messages_out: Counter,
    pub bytes_in: Counter,
    pub bytes_out: Counter,
    pub slow_consumer_closes: Counter,
    /// Frames over the frame limit, replaced by an error (paging should make this zero).
    pub oversized_frames: Counter,
    pub rejected_commands: Family<ReasonLabel, Counter>,
    pub closes: Family<CodeLabel, Counter>,
    pub rejected_upgrades: Family<ReasonLabel, Counter>,
    pub store_records: Counter,
    pub store_errors: Counter,
    pub store_refused: Counter,
    /// 1 while the bus serves requests, 0 during an outage (Redis unreachable).
    pub bus_up: Gauge,
    /// Bus requests that failed (synced from the bus at each scrape).
    pub bus_failures: Counter,
    /// The WebRTC stage's media plane (synced from it at each scrape).
    pub stage: StageMetrics,
}

/// The stage's media plane as `/metrics` shows it.
#[derive(Debug, Default)]
pub struct StageMetrics {
    pub publishers: Gauge,
    pub viewers: Gauge,
    pub tracks: Gauge,
    pub frames_in: Counter,
    pub frames_out: Counter,
    pub bytes_in: Counter,
    pub bytes_out: Counter,
    pub keyframe_requests: Counter,
    pub layer_switches: Counter,
    pub worker_cpu_milliseconds: Counter,
}

impl StageMetrics {
    /// Takes the plane's figures: gauges as they are, counters by what they grew.
    pub fn sync(&self, stats: &plenary_media::Stats) {
        let gauge = |gauge: &Gauge, value: u64| gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
        gauge(&self.publishers, stats.publishers);
        gauge(&self.viewers, stats.subscribers);
        gauge(&self.tracks, stats.tracks);
        for (counter, total) in [
            (&self.frames_in, stats.frames_in),
            (&self.frames_out, stats.frames_out),
            (&self.bytes_in, stats.bytes_in),
            (&self.bytes_out, stats.bytes_out),
            (&self.keyframe_requests, stats.keyframe_requests),
            (&self.layer_switches, stats.layer_switches),
            (&self.worker_cpu_milliseconds, stats.cpu_millis),
        ] {
            let counted = counter.get();
            if total > counted {
                counter.inc_by(total - counted);
            }
        }
    }
}

impl Metrics {
    /// Encodes every metric in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut registry = Registry::with_prefix("plenary");
        registry.register("connections", "Open WebSocket connections", self.connections.clone());
        registry.register("connections_opened", "WebSocket connections accepted", self.connections_opened.clone());
        registry.register("rooms", "Rooms held in memory", self.rooms.clone());
        registry.register("bus_up", "1 while the event bus (Redis) serves requests", self.bus_up.clone());
        registry.register("bus_failures", "Event bus requests that failed", self.bus_failures.clone());
        registry.register("messages_in", "Frames received from clients", self.messages_in.clone());
        registry.register("messages_out", "Frames queued to clients", self.messages_out.clone());
        registry.register("bytes_in", "Bytes received from clients", self.bytes_in.clone());
        registry.register("bytes_out", "Bytes queued to clients", self.bytes_out.clone());
        registry.register(
            "slow_consumer_closes",
            "Connections closed because their outbox overflowed",
            self.slow_consumer_closes.clone(),
        );
        registry.register(
            "oversized_frames",
            "Frames over the frame limit, replaced by an error",
            self.oversized_frames.clone(),
        );
        registry.register("rejected_commands", "Commands answered with an error", self.rejected_commands.clone());
        registry.register("closes", "Connections closed by the node, by close code", self.closes.clone());
        registry.register("rejected_upgrades", "WebSocket upgrades refused", self.rejected_upgrades.clone());
        registry.register("store_records", "Records written to the database", self.store_records.clone());
        registry.register("store_errors", "Failed database writes (retried)", self.store_errors.clone());
        registry.register(
            "store_refused",
            "Records the database refused and the node set aside",
            self.store_refused.clone(),
        );
        let stage = &self.stage;
        registry.register("stage_publishers", "Speakers publishing to a WebRTC stage here", stage.publishers.clone());
        registry.register("stage_viewers", "Viewers of a WebRTC stage served here", stage.viewers.clone());
        registry.register("stage_tracks", "Tracks on the WebRTC stages here", stage.tracks.clone());
        registry.register("stage_frames_in", "Media frames received from speakers", stage.frames_in.clone());
        registry.register("stage_frames_out", "Media frames forwarded to viewers", stage.frames_out.clone());
        registry.register("stage_bytes_in", "UDP bytes received by the media plane", stage.bytes_in.clone());
        registry.register("stage_bytes_out", "UDP bytes sent by the media plane", stage.bytes_out.clone());
        registry.register(
            "stage_keyframe_requests",
            "Keyframe requests sent to speakers (PLI)",
            stage.keyframe_requests.clone(),
        );
        registry.register("stage_layer_switches", "Simulcast layer switches of viewers", stage.layer_switches.clone());
        registry.register(
            "stage_worker_cpu_milliseconds",
            "CPU time of the media worker thread",
            stage.worker_cpu_milliseconds.clone(),
        );
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &registry).expect("writing to a String cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.connections.inc();
        m.rejected_commands.get_or_create(&ReasonLabel { reason: "forbidden" }).inc();
        let text = m.render();
        assert!(text.contains("plenary_connections 1"), "{text}");
        assert!(text.contains("plenary_rejected_commands_total{reason=\"forbidden\"} 1"), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }
}
