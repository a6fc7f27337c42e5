//! Which simulcast layer a viewer receives, and keeping its media clock continuous when the
//! layer changes: pure functions, tested as such.

use std::time::Duration;

/// What a viewer asked to receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quality {
    /// The best layer the viewer's bandwidth estimate allows.
    #[default]
    Auto,
    /// The lowest layer whatever the bandwidth.
    Low,
    /// No video at all: not a packet of it.
    AudioOnly,
}

/// Headroom a layer needs over its measured rate before a viewer moves up to it.
const UPGRADE_HEADROOM: f64 = 1.25;
/// How long the estimate must allow a higher layer before moving up (moving down is at once).
pub const UPGRADE_AFTER: Duration = Duration::from_secs(3);

/// A layer the publisher sends: its name (`rid`) and its measured rate, bits per second.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub rid: String,
    pub bitrate: f64,
}

/// The layer to send: `layers` are ordered lowest first (as measured, not as named). With
/// no estimate yet, the lowest, so a viewer starts on what any link carries.
pub fn choose(layers: &[Layer], quality: Quality, estimate_bps: Option<f64>) -> Option<&str> {
    let lowest = layers.first()?;
    match quality {
        Quality::AudioOnly => None,
        Quality::Low => Some(&lowest.rid),
        Quality::Auto => {
            let Some(estimate) = estimate_bps else { return Some(&lowest.rid) };
            let fits = layers.iter().rev().find(|l| l.bitrate * UPGRADE_HEADROOM <= estimate);
            Some(&fits.unwrap_or(lowest).rid)
        }
    }
}

/// Orders layers by measured rate, lowest first; layers not measured yet keep their names'
/// usual order (`l`, `m`, `h`, or `q`, `h`, `f`).
pub fn ordered(mut layers: Vec<Layer>) -> Vec<Layer> {
    let rank = |rid: &str| match rid {
        "l" | "q" | "0" => 0,
        "m" | "1" => 1,
        "h" => 2,
        "f" | "2" => 3,
        _ => 1,
    };
    layers.sort_by(|a, b| a.bitrate.total_cmp(&b.bitrate).then(rank(&a.rid).cmp(&rank(&b.rid))));
    layers
}

/// A viewer's media clock for one track: each layer has its own RTP time base, so on a
/// switch the new layer's times are shifted to follow the last written time by one frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    offset: i64,
    last: Option<u64>,
}

/// One frame at 30 frames a second, in the 90 kHz video clock.
const FRAME_90KHZ: i64 = 3_000;

impl Clock {
    /// The time to write for a frame of the layer being sent, taken at `time`.
    pub fn write(&mut self, time: u64) -> u64 {
        let out = (i64::try_from(time).unwrap_or(i64::MAX) + self.offset).max(0) as u64;
        let out = match self.last {
            Some(last) if out <= last => last + 1,
            _ => out,
        };
        self.last = Some(out);
        out
    }

    /// The next frame comes from another layer whose clock reads `time` at it.
    pub fn switch(&mut self, time: u64) {
        if let Some(last) = self.last {
            self.offset = i64::try_from(last).unwrap_or(i64::MAX) + FRAME_90KHZ - i64::try_from(time).unwrap_or(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layers() -> Vec<Layer> {
        ordered(vec![
            Layer { rid: "h".into(), bitrate: 1_200_000.0 },
            Layer { rid: "l".into(), bitrate: 150_000.0 },
            Layer { rid: "m".into(), bitrate: 450_000.0 },
        ])
    }

    #[test]
    fn a_viewer_gets_the_best_layer_its_estimate_carries_with_headroom() {
        let layers = layers();
        let cases: &[(Quality, Option<f64>, Option<&str>)] = &[
            (Quality::Auto, None, Some("l")),
            (Quality::Auto, Some(100_000.0), Some("l")),
            (Quality::Auto, Some(560_000.0), Some("l")),
            (Quality::Auto, Some(570_000.0), Some("m")),
            (Quality::Auto, Some(1_499_999.0), Some("m")),
            (Quality::Auto, Some(1_500_000.0), Some("h")),
            (Quality::Auto, Some(10_000_000.0), Some("h")),
            (Quality::Low, Some(10_000_000.0), Some("l")),
            (Quality::AudioOnly, Some(10_000_000.0), None),
        ];
        for (quality, estimate, expected) in cases {
            assert_eq!(choose(&layers, *quality, *estimate), *expected, "{quality:?} at {estimate:?}");
        }
    }

    #[test]
    fn a_track_without_layers_has_nothing_to_choose() {
        assert_eq!(choose(&[], Quality::Auto, Some(1e9)), None);
    }

    #[test]
    fn unmeasured_layers_keep_the_order_of_their_names() {
        let names = |layers: Vec<Layer>| ordered(layers).into_iter().map(|l| l.rid).collect::<Vec<_>>();
        let unmeasured = |rids: &[&str]| rids.iter().map(|r| Layer { rid: (*r).into(), bitrate: 0.0 }).collect();
        assert_eq!(names(unmeasured(&["h", "m", "l"])), ["l", "m", "h"]);
        assert_eq!(names(unmeasured(&["f", "q", "h"])), ["q", "h", "f"]);
    }

    #[test]
    fn the_clock_stays_continuous_and_increasing_across_a_switch() {
        let mut clock = Clock::default();
        assert_eq!(clock.write(1_000), 1_000);
        assert_eq!(clock.write(4_000), 4_000);
        // The next layer's clock is far behind: its frames follow on, one frame later.
        clock.switch(500);
        assert_eq!(clock.write(500), 7_000);
        assert_eq!(clock.write(3_500), 10_000);
        // Far ahead: the same.
        clock.switch(9_000_000);
        assert_eq!(clock.write(9_000_000), 13_000);
        // A frame out of order never makes the clock run back.
        assert_eq!(clock.write(8_999_000), 13_001);
    }
}
