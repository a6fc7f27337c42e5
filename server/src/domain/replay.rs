//! The resume window: the last N events of a room, so a client that reconnects with the
//! last sequence number it saw gets exactly what it missed, or learns it cannot.

use std::collections::VecDeque;

use plenary_proto::Seq;

#[derive(Debug)]
pub struct ReplayWindow<F> {
    events: VecDeque<(Seq, F)>,
    capacity: usize,
}

impl<F: Clone> ReplayWindow<F> {
    pub fn new(capacity: usize) -> Self {
        ReplayWindow { events: VecDeque::new(), capacity: capacity.max(1) }
    }

    /// Records an event; sequence numbers must arrive in order without gaps (a gap means
    /// the window restarted, see [`ReplayWindow::clear`]).
    pub fn push(&mut self, seq: Seq, frame: F) {
        debug_assert!(self.events.back().is_none_or(|(last, _)| last.next() == seq));
        if self.events.len() == self.capacity {
            self.events.pop_front();
        }
        self.events.push_back((seq, frame));
    }

    /// Forgets every event, when the stream's continuity is lost.
    pub fn clear(&mut self) {
        self.events.clear();
    }

    /// Every event after `seen`, given that `latest` is the room's newest sequence number;
    /// `None` when the window cannot tell the whole story (some events were evicted, or
    /// `seen` lies in the future). Never a partial answer.
    pub fn since(&self, seen: Seq, latest: Seq) -> Option<Vec<F>> {
        if seen > latest {
            return None;
        }
        if seen == latest {
            return Some(Vec::new());
        }
        let (first, _) = self.events.front()?;
        if seen.0 + 1 < first.0 {
            return None;
        }
        let skip = usize::try_from(seen.0 + 1 - first.0).ok()?;
        let frames: Vec<F> = self.events.iter().skip(skip).map(|(_, f)| f.clone()).collect();
        (frames.len() as u64 == latest.0 - seen.0).then_some(frames)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(range: std::ops::RangeInclusive<u64>, capacity: usize) -> ReplayWindow<u64> {
        let mut w = ReplayWindow::new(capacity);
        for s in range {
            w.push(Seq(s), s);
        }
        w
    }

    #[test]
    fn replays_exactly_the_missed_events() {
        let w = window(1..=10, 100);
        assert_eq!(w.since(Seq(7), Seq(10)), Some(vec![8, 9, 10]));
        assert_eq!(w.since(Seq(0), Seq(10)), Some((1..=10).collect()));
        assert_eq!(w.since(Seq(10), Seq(10)), Some(vec![]));
    }

    #[test]
    fn refuses_when_the_window_does_not_reach_back() {
        let w = window(1..=10, 4); // keeps 7..=10
        assert_eq!(w.since(Seq(6), Seq(10)), Some(vec![7, 8, 9, 10]));
        assert_eq!(w.since(Seq(5), Seq(10)), None);
        assert_eq!(w.since(Seq(11), Seq(10)), None, "from the future");
    }

    #[test]
    fn empty_window_only_serves_the_current_position() {
        let w: ReplayWindow<u64> = ReplayWindow::new(4);
        assert_eq!(w.since(Seq(0), Seq(0)), Some(vec![]));
        assert_eq!(w.since(Seq(2), Seq(3)), None);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// A resume is all or nothing: either exactly the events after `seen`, in
            /// order, or `None`; never a partial list.
            #[test]
            fn since_is_exact_or_nothing(capacity in 1usize..20, events in 0u64..60, seen in 0u64..70) {
                let mut w = ReplayWindow::new(capacity);
                for s in 1..=events {
                    w.push(Seq(s), s);
                }
                match w.since(Seq(seen), Seq(events)) {
                    Some(frames) => prop_assert_eq!(frames, ((seen + 1)..=events).collect::<Vec<_>>()),
                    None => prop_assert!(seen > events || events - seen > capacity as u64),
                }
            }
        }
    }
}
