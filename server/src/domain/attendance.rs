//! Attendance coalescing: a room's count may change thousands of times a second during a
//! join storm, but members hear about it at most once per interval, and only when the value
//! they last heard differs from the current one. A storm of N joins therefore costs O(N)
//! messages per interval in total, not O(N²).

use std::time::Duration;

use plenary_proto::Attendance;
use tokio::time::Instant;

#[derive(Debug)]
pub struct AttendanceCoalescer {
    interval: Duration,
    current: Attendance,
    last_sent: Attendance,
    last_sent_at: Option<Instant>,
}

impl AttendanceCoalescer {
    pub fn new(interval: Duration) -> Self {
        let zero = Attendance { present: 0, unique: 0 };
        AttendanceCoalescer { interval, current: zero, last_sent: zero, last_sent_at: None }
    }

    pub fn current(&self) -> Attendance {
        self.current
    }

    /// Records the room's attendance now.
    pub fn set(&mut self, attendance: Attendance) {
        self.current = attendance;
    }

    /// When the next broadcast is due, if one is pending.
    pub fn deadline(&self) -> Option<Instant> {
        if self.current == self.last_sent {
            return None;
        }
        Some(match self.last_sent_at {
            Some(at) => at + self.interval,
            // Nothing sent yet: the first change goes out straight away.
            None => Instant::now(),
        })
    }

    /// The value to broadcast now, if one is due; records it as sent.
    pub fn take_due(&mut self, now: Instant) -> Option<Attendance> {
        if self.current == self.last_sent {
            return None;
        }
        if self.last_sent_at.is_some_and(|at| now < at + self.interval) {
            return None;
        }
        self.last_sent = self.current;
        self.last_sent_at = Some(now);
        Some(self.current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn present(n: u32) -> Attendance {
        Attendance { present: n, unique: n }
    }

    #[tokio::test(start_paused = true)]
    async fn at_most_one_broadcast_per_interval() {
        let second = Duration::from_secs(1);
        let mut c = AttendanceCoalescer::new(second);
        assert_eq!(c.deadline(), None);
        c.set(present(1));
        let first_due = c.deadline().expect("a change is pending");
        tokio::time::sleep_until(first_due).await;
        assert_eq!(c.take_due(Instant::now()), Some(present(1)));
        for n in 2..=500 {
            c.set(present(n));
            assert_eq!(c.take_due(Instant::now()), None, "coalesced within the interval");
        }
        assert_eq!(c.deadline(), Some(Instant::now() + second));
        tokio::time::advance(second).await;
        assert_eq!(c.take_due(Instant::now()), Some(present(500)));
        assert_eq!(c.deadline(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_is_sent_when_the_value_came_back() {
        let mut c = AttendanceCoalescer::new(Duration::from_secs(1));
        c.set(present(3));
        c.take_due(Instant::now());
        c.set(present(4));
        c.set(present(3));
        assert_eq!(c.deadline(), None);
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(c.take_due(Instant::now()), None);
    }
}
