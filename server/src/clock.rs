//! Wall-clock time as the protocol carries it (Unix seconds and milliseconds). Durations
//! and deadlines use `tokio::time::Instant` instead, so tests can pause time.

use std::time::{SystemTime, UNIX_EPOCH};

pub fn unix_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)).unwrap_or(0)
}

pub fn unix_secs() -> i64 {
    unix_millis() / 1000
}
