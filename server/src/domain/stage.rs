//! The stage state machine: `scheduled → live ⇄ break → ended`, with a title and the
//! current speaker. An ended stage accepts no further change.

use plenary_proto::{Stage, StageState};

use crate::domain::text::{has_control, normalise_line};

/// Longest stage title, in characters.
pub const MAX_TITLE_CHARS: usize = plenary_proto::input::STAGE_TITLE_MAX_CHARS;
/// Longest speaker line, in characters.
pub const MAX_SPEAKER_CHARS: usize = plenary_proto::input::STAGE_SPEAKER_MAX_CHARS;

/// A requested change; a field left `None` stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StageChange {
    pub state: Option<StageState>,
    pub title: Option<String>,
    /// `Some("")` clears the speaker.
    pub speaker: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StageError {
    #[error("the stage cannot go from {from:?} to {to:?}")]
    InvalidTransition { from: StageState, to: StageState },
    #[error("the stage has ended and can no longer change")]
    Ended,
    #[error("the change changes nothing")]
    NoChange,
    #[error("the {field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("the title must not be empty")]
    EmptyTitle,
    #[error("the {field} contains control characters")]
    ControlCharacters { field: &'static str },
}

/// Whether the state machine allows `from → to` (a state to itself is not a transition).
pub fn transition_allowed(from: StageState, to: StageState) -> bool {
    use StageState::*;
    matches!((from, to), (Scheduled, Live) | (Live, Break) | (Break, Live) | (Live, Ended) | (Break, Ended))
}

/// A fresh stage for a room that has none yet.
pub fn initial(title: &str, now_ms: i64) -> Stage {
    Stage {
        state: StageState::Scheduled,
        title: title.to_owned(),
        speaker: None,
        started_at: None,
        ended_at: None,
        updated_at: now_ms,
    }
}

/// Applies `change` to `current`, returning the new stage or why it is refused.
pub fn apply(current: &Stage, change: StageChange, now_ms: i64) -> Result<Stage, StageError> {
    if current.state == StageState::Ended {
        return Err(StageError::Ended);
    }
    let mut next = current.clone();
    if let Some(to) = change.state
        && to != current.state
    {
        if !transition_allowed(current.state, to) {
            return Err(StageError::InvalidTransition { from: current.state, to });
        }
        next.state = to;
        match to {
            StageState::Live if next.started_at.is_none() => next.started_at = Some(now_ms),
            StageState::Ended => next.ended_at = Some(now_ms),
            _ => {}
        }
    }
    if let Some(title) = change.title {
        if has_control(&title) {
            return Err(StageError::ControlCharacters { field: "title" });
        }
        let title = normalise_line(&title);
        if title.is_empty() {
            return Err(StageError::EmptyTitle);
        }
        if title.chars().count() > MAX_TITLE_CHARS {
            return Err(StageError::TooLong { field: "title", max: MAX_TITLE_CHARS });
        }
        next.title = title;
    }
    if let Some(speaker) = change.speaker {
        if has_control(&speaker) {
            return Err(StageError::ControlCharacters { field: "speaker" });
        }
        let speaker = normalise_line(&speaker);
        if speaker.chars().count() > MAX_SPEAKER_CHARS {
            return Err(StageError::TooLong { field: "speaker", max: MAX_SPEAKER_CHARS });
        }
        next.speaker = (!speaker.is_empty()).then_some(speaker);
    }
    next.updated_at = now_ms;
    if (Stage { updated_at: current.updated_at, ..next.clone() }) == *current {
        return Err(StageError::NoChange);
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use StageState::*;

    const ALL: [StageState; 4] = [Scheduled, Live, Break, Ended];

    fn stage_in(state: StageState) -> Stage {
        Stage { state, ..initial("Opening", 0) }
    }

    fn to(state: StageState) -> StageChange {
        StageChange { state: Some(state), ..Default::default() }
    }

    #[test]
    fn every_transition_is_allowed_or_refused_as_specified() {
        let allowed = [(Scheduled, Live), (Live, Break), (Break, Live), (Live, Ended), (Break, Ended)];
        for from in ALL {
            for target in ALL {
                if from == target {
                    continue;
                }
                let result = apply(&stage_in(from), to(target), 10);
                if allowed.contains(&(from, target)) {
                    assert_eq!(result.unwrap().state, target, "{from:?} -> {target:?}");
                } else if from == Ended {
                    assert_eq!(result, Err(StageError::Ended));
                } else {
                    assert_eq!(result, Err(StageError::InvalidTransition { from, to: target }));
                }
            }
        }
    }

    #[test]
    fn timestamps_follow_the_state() {
        let live = apply(&initial("T", 0), to(Live), 100).unwrap();
        assert_eq!(live.started_at, Some(100));
        let on_break = apply(&live, to(Break), 200).unwrap();
        let live_again = apply(&on_break, to(Live), 300).unwrap();
        assert_eq!(live_again.started_at, Some(100), "first start is kept");
        let ended = apply(&live_again, to(Ended), 400).unwrap();
        assert_eq!(ended.ended_at, Some(400));
        assert_eq!(ended.updated_at, 400);
    }

    #[test]
    fn title_and_speaker() {
        let s = initial("T", 0);
        let change = StageChange { speaker: Some("  Doreen  ".into()), ..Default::default() };
        let s = apply(&s, change, 1).unwrap();
        assert_eq!(s.speaker.as_deref(), Some("Doreen"));
        let clear = StageChange { speaker: Some(String::new()), ..Default::default() };
        assert_eq!(apply(&s, clear, 2).unwrap().speaker, None);
        let empty = StageChange { title: Some(" ".into()), ..Default::default() };
        assert_eq!(apply(&s, empty, 2), Err(StageError::EmptyTitle));
        let nul = StageChange { title: Some("a\u{0}b".into()), ..Default::default() };
        assert_eq!(apply(&s, nul, 2), Err(StageError::ControlCharacters { field: "title" }));
        let long = StageChange { title: Some("x".repeat(201)), ..Default::default() };
        assert!(matches!(apply(&s, long, 2), Err(StageError::TooLong { .. })));
    }

    #[test]
    fn a_change_that_changes_nothing_is_refused() {
        let s = stage_in(Live);
        assert_eq!(apply(&s, StageChange::default(), 5), Err(StageError::NoChange));
        assert_eq!(apply(&s, to(Live), 5), Err(StageError::NoChange));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn any_state() -> impl Strategy<Value = StageState> {
            prop_oneof![Just(Scheduled), Just(Live), Just(Break), Just(Ended)]
        }

        fn any_change() -> impl Strategy<Value = StageChange> {
            (
                proptest::option::of(any_state()),
                proptest::option::of("[ a-z]{0,8}"),
                proptest::option::of("[ a-z]{0,8}"),
            )
                .prop_map(|(state, title, speaker)| StageChange { state, title, speaker })
        }

        proptest! {
            /// Whatever moderators send, the stage only moves along allowed transitions,
            /// `ended` is final, the first start time is never rewritten and the clock
            /// only moves forward.
            #[test]
            fn any_sequence_of_changes_keeps_the_invariants(changes in proptest::collection::vec(any_change(), 0..40)) {
                let mut stage = initial("Opening", 0);
                for (n, change) in changes.into_iter().enumerate() {
                    let now = n as i64 + 1;
                    match apply(&stage, change, now) {
                        Ok(next) => {
                            prop_assert!(stage.state != Ended);
                            prop_assert!(next.state == stage.state || transition_allowed(stage.state, next.state));
                            if stage.started_at.is_some() {
                                prop_assert_eq!(next.started_at, stage.started_at);
                            }
                            prop_assert_eq!(next.started_at.is_some(), next.state != Scheduled);
                            prop_assert_eq!(next.ended_at.is_some(), next.state == Ended);
                            prop_assert!(!next.title.trim().is_empty());
                            prop_assert_eq!(next.updated_at, now);
                            stage = next;
                        }
                        Err(StageError::Ended) => prop_assert_eq!(stage.state, Ended),
                        Err(_) => {}
                    }
                }
            }
        }
    }
}
