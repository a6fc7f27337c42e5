//! A token bucket for per-connection command limits and per-user chat limits. Written
//! here rather than taken from `governor` because it must run on `tokio::time::Instant`
//! (so tests can pause time) and live inside a room actor's plain state.

use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Clone)]
pub struct TokenBucket {
    capacity: f64,
    tokens: f64,
    per_second: f64,
    updated: Instant,
}

impl TokenBucket {
    /// A full bucket holding `burst` tokens, refilled at `per_second`.
    pub fn new(burst: u32, per_second: f64, now: Instant) -> Self {
        let capacity = f64::from(burst.max(1));
        TokenBucket { capacity, tokens: capacity, per_second, updated: now }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        self.updated = now;
    }

    /// Takes one token, or says how long until one is available.
    pub fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.per_second))
        }
    }

    /// Whether the bucket is full, i.e. forgetting it changes nothing.
    pub fn is_full(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.tokens >= self.capacity
    }
}

/// A token bucket per key (a client address, say), forgetting full buckets when the map
/// grows past `max_keys` so it stays bounded.
#[derive(Debug)]
pub struct KeyedBuckets<K> {
    buckets: std::sync::Mutex<std::collections::HashMap<K, TokenBucket>>,
    burst: u32,
    per_second: f64,
    max_keys: usize,
}

impl<K: std::hash::Hash + Eq> KeyedBuckets<K> {
    pub fn new(burst: u32, per_second: f64, max_keys: usize) -> Self {
        KeyedBuckets { buckets: Default::default(), burst, per_second, max_keys }
    }

    /// Takes a token for `key`, or says how long until one is available.
    pub fn try_take(&self, key: K) -> Result<(), Duration> {
        let now = Instant::now();
        // A std Mutex: held for this synchronous section only.
        let mut buckets = self.buckets.lock().expect("bucket lock");
        if buckets.len() >= self.max_keys {
            buckets.retain(|_, bucket| !bucket.is_full(now));
        }
        buckets.entry(key).or_insert_with(|| TokenBucket::new(self.burst, self.per_second, now)).try_take(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn burst_then_refill() {
        let mut bucket = TokenBucket::new(3, 1.0, Instant::now());
        for _ in 0..3 {
            assert!(bucket.try_take(Instant::now()).is_ok());
        }
        let wait = bucket.try_take(Instant::now()).unwrap_err();
        assert!(wait <= Duration::from_secs(1) && wait > Duration::from_millis(900), "{wait:?}");
        tokio::time::advance(Duration::from_millis(1001)).await;
        assert!(bucket.try_take(Instant::now()).is_ok());
        assert!(bucket.try_take(Instant::now()).is_err());
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(bucket.is_full(Instant::now()));
    }

    #[tokio::test(start_paused = true)]
    async fn keys_have_their_own_buckets() {
        let buckets = KeyedBuckets::new(2, 1.0, 100);
        assert!(buckets.try_take("a").is_ok());
        assert!(buckets.try_take("a").is_ok());
        assert!(buckets.try_take("a").is_err());
        assert!(buckets.try_take("b").is_ok(), "another key is not limited by the first");
    }
}
