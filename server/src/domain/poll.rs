//! Polls as pure functions, like the Q&A board: [`decide`] turns a command into events or a
//! refusal, [`apply`] applies an event. A poll is drafted by a moderator, opened, and
//! closed (`draft → open → closed`); each user has at most one answer per poll (one option,
//! or several for a multiple-choice poll), which it may change while the poll is open if the
//! poll allows; the moderator chooses whether the audience sees the results live, after the
//! poll closes, or not at all. Moderator writes name the version they saw.

use std::collections::{BTreeMap, BTreeSet};

use plenary_proto::{MessageId, UserId};
use serde::{Deserialize, Serialize};

use crate::domain::text::{has_control, normalise_line};

/// Options per poll.
pub const MAX_OPTIONS: usize = 10;
/// Longest poll question or option, in characters.
pub const MAX_POLL_TEXT_CHARS: usize = plenary_proto::input::POLL_TEXT_MAX_CHARS;

pub use plenary_proto::{PollResults, PollState};

/// A poll's definition and state (its answers are kept beside it, in [`PollBoard`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Poll {
    pub id: MessageId,
    pub question: String,
    pub options: Vec<String>,
    pub multiple: bool,
    /// Whether a user may change its answer while the poll is open.
    pub changeable: bool,
    pub results: PollResults,
    pub state: PollState,
    pub version: u64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Poll {
    /// Whether the audience sees the results now.
    pub fn results_public(&self) -> bool {
        match self.results {
            PollResults::Live => self.state != PollState::Draft,
            PollResults::AfterClose => self.state == PollState::Closed,
            PollResults::Hidden => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollCommand {
    Create {
        id: MessageId,
        question: String,
        options: Vec<String>,
        multiple: bool,
        changeable: bool,
        results: PollResults,
    },
    Open {
        id: MessageId,
        version: u64,
    },
    Close {
        id: MessageId,
        version: u64,
    },
    SetResults {
        id: MessageId,
        version: u64,
        results: PollResults,
    },
    Delete {
        id: MessageId,
        version: u64,
    },
    Answer {
        id: MessageId,
        choices: Vec<u8>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PollEvent {
    Put(Poll),
    Removed { id: MessageId },
    Answered { id: MessageId, user: UserId, choices: BTreeSet<u8> },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PollError {
    #[error("no poll \"{0}\"")]
    NotFound(MessageId),
    #[error("only moderators may do this")]
    Forbidden,
    #[error("the poll changed meanwhile (now version {current}); reload it")]
    Stale { current: u64 },
    #[error("a {from:?} poll cannot be {action}")]
    InvalidTransition { from: PollState, action: &'static str },
    #[error("you have answered this poll, and its answers cannot be changed")]
    AlreadyAnswered,
    #[error("{0}")]
    Invalid(String),
    #[error("a poll id is already taken")]
    DuplicateId,
}

/// A session's polls and their answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollBoard {
    pub polls: BTreeMap<MessageId, Poll>,
    pub answers: BTreeMap<MessageId, BTreeMap<UserId, BTreeSet<u8>>>,
}

impl PollBoard {
    fn current(&self, moderator: bool, id: &MessageId, version: u64) -> Result<&Poll, PollError> {
        if !moderator {
            return Err(PollError::Forbidden);
        }
        let poll = self.polls.get(id).ok_or_else(|| PollError::NotFound(id.to_owned()))?;
        if poll.version != version {
            return Err(PollError::Stale { current: poll.version });
        }
        Ok(poll)
    }

    /// Voters per option, and voters in all.
    pub fn tally(&self, id: &MessageId) -> Option<(Vec<u32>, u32)> {
        let poll = self.polls.get(id)?;
        let mut counts = vec![0u32; poll.options.len()];
        let answers = self.answers.get(id);
        for choices in answers.into_iter().flat_map(|a| a.values()) {
            for choice in choices {
                if let Some(count) = counts.get_mut(usize::from(*choice)) {
                    *count += 1;
                }
            }
        }
        let voters = answers.map_or(0, |a| u32::try_from(a.len()).unwrap_or(u32::MAX));
        Some((counts, voters))
    }
}

fn text(value: &str, what: &str) -> Result<String, PollError> {
    let control = has_control(value);
    let value = normalise_line(value);
    if control || value.is_empty() || value.chars().count() > MAX_POLL_TEXT_CHARS {
        return Err(PollError::Invalid(format!(
            "the {what} must be 1 to {MAX_POLL_TEXT_CHARS} characters without control characters"
        )));
    }
    Ok(value)
}

fn moved(poll: &Poll, now: i64, change: impl FnOnce(&mut Poll)) -> PollEvent {
    let mut next = poll.clone();
    next.version += 1;
    next.updated_at = now;
    change(&mut next);
    PollEvent::Put(next)
}

/// Decides what `command` by `user` (a moderator or not) does to `board` at `now`.
pub fn decide(
    board: &PollBoard,
    user: &UserId,
    moderator: bool,
    command: PollCommand,
    now: i64,
) -> Result<Vec<PollEvent>, PollError> {
    Ok(match command {
        PollCommand::Create { id, question, options, multiple, changeable, results } => {
            if !moderator {
                return Err(PollError::Forbidden);
            }
            if board.polls.contains_key(&id) {
                return Err(PollError::DuplicateId);
            }
            let question = text(&question, "question")?;
            if !(2..=MAX_OPTIONS).contains(&options.len()) {
                return Err(PollError::Invalid(format!("a poll has 2 to {MAX_OPTIONS} options")));
            }
            let options = options.iter().map(|o| text(o, "option")).collect::<Result<Vec<_>, _>>()?;
            vec![PollEvent::Put(Poll {
                id,
                question,
                options,
                multiple,
                changeable,
                results,
                state: PollState::Draft,
                version: 1,
                created_at: now,
                updated_at: now,
            })]
        }
        PollCommand::Open { id, version } => {
            let poll = board.current(moderator, &id, version)?;
            if poll.state != PollState::Draft {
                return Err(PollError::InvalidTransition { from: poll.state, action: "opened" });
            }
            vec![moved(poll, now, |p| p.state = PollState::Open)]
        }
        PollCommand::Close { id, version } => {
            let poll = board.current(moderator, &id, version)?;
            if poll.state != PollState::Open {
                return Err(PollError::InvalidTransition { from: poll.state, action: "closed" });
            }
            vec![moved(poll, now, |p| p.state = PollState::Closed)]
        }
        PollCommand::SetResults { id, version, results } => {
            let poll = board.current(moderator, &id, version)?;
            vec![moved(poll, now, |p| p.results = results)]
        }
        PollCommand::Delete { id, version } => {
            let poll = board.current(moderator, &id, version)?;
            vec![PollEvent::Removed { id: poll.id.clone() }]
        }
        PollCommand::Answer { id, choices } => {
            let poll = board.polls.get(&id).ok_or_else(|| PollError::NotFound(id.clone()))?;
            if poll.state != PollState::Open {
                return Err(PollError::InvalidTransition { from: poll.state, action: "answered" });
            }
            let choices: BTreeSet<u8> = choices.into_iter().collect();
            if choices.is_empty() || choices.iter().any(|c| usize::from(*c) >= poll.options.len()) {
                return Err(PollError::Invalid(format!("choose among options 0 to {}", poll.options.len() - 1)));
            }
            if !poll.multiple && choices.len() != 1 {
                return Err(PollError::Invalid("this poll takes exactly one choice".into()));
            }
            match board.answers.get(&id).and_then(|a| a.get(user)) {
                Some(previous) if *previous == choices => return Ok(Vec::new()),
                Some(_) if !poll.changeable => return Err(PollError::AlreadyAnswered),
                _ => {}
            }
            vec![PollEvent::Answered { id, user: user.clone(), choices }]
        }
    })
}

impl PollBoard {
    /// The results of poll `id` on the wire.
    pub fn tally_view(&self, id: &MessageId) -> Option<plenary_proto::PollTally> {
        let (counts, voters) = self.tally(id)?;
        Some(plenary_proto::PollTally { id: id.clone(), counts, voters })
    }

    /// Poll `id` as a moderator (`moderator`) or a member of the audience sees it.
    pub fn view(&self, id: &MessageId, moderator: bool) -> Option<plenary_proto::PollView> {
        let poll = self.polls.get(id)?;
        Some(plenary_proto::PollView {
            id: poll.id.clone(),
            question: poll.question.clone(),
            options: poll.options.clone(),
            multiple: poll.multiple,
            changeable: poll.changeable,
            results: poll.results,
            state: poll.state,
            version: poll.version,
            created_at: poll.created_at,
            updated_at: poll.updated_at,
            tally: if moderator || poll.results_public() { self.tally_view(id) } else { None },
        })
    }
}

pub fn apply(board: &mut PollBoard, event: &PollEvent) {
    match event {
        PollEvent::Put(poll) => {
            board.polls.insert(poll.id.clone(), poll.clone());
        }
        PollEvent::Removed { id } => {
            board.polls.remove(id);
            board.answers.remove(id);
        }
        PollEvent::Answered { id, user, choices } => {
            board.answers.entry(id.clone()).or_default().insert(user.clone(), choices.clone());
        }
    }
}

/// What each audience sees of a poll step: the audience never sees a draft (nor hears of a
/// draft's removal); moderators see every poll.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollStepViews {
    pub audience: (Vec<plenary_proto::PollView>, Vec<MessageId>),
    pub moderators: (Vec<plenary_proto::PollView>, Vec<MessageId>),
    /// Polls whose answers changed (their results go out coalesced).
    pub answers_changed: BTreeSet<MessageId>,
}

/// Applies `events` to `board` and returns what each audience sees of them.
pub fn apply_step(board: &mut PollBoard, events: &[PollEvent]) -> PollStepViews {
    let mut views = PollStepViews::default();
    let (mut changed, mut removed, mut removed_public) = (Vec::new(), Vec::new(), Vec::new());
    for event in events {
        match event {
            PollEvent::Put(p) => changed.push(p.id.clone()),
            PollEvent::Removed { id } => {
                removed.push(id.clone());
                if board.polls.get(id).is_some_and(|p| p.state != PollState::Draft) {
                    removed_public.push(id.clone());
                }
            }
            PollEvent::Answered { id, .. } => {
                views.answers_changed.insert(id.clone());
            }
        }
        apply(board, event);
    }
    let public = changed
        .iter()
        .filter(|id| board.polls.get(*id).is_some_and(|p| p.state != PollState::Draft))
        .filter_map(|id| board.view(id, false))
        .collect();
    views.audience = (public, removed_public);
    views.moderators = (changed.iter().filter_map(|id| board.view(id, true)).collect(), removed);
    views
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mid;

    fn user(name: &str) -> UserId {
        UserId::parse(name).unwrap()
    }

    fn run(board: &mut PollBoard, who: &str, moderator: bool, command: PollCommand) -> Result<(), PollError> {
        for event in decide(board, &user(who), moderator, command, 1_000)? {
            apply(board, &event);
        }
        Ok(())
    }

    fn create(board: &mut PollBoard, multiple: bool, changeable: bool) {
        run(
            board,
            "mod",
            true,
            PollCommand::Create {
                id: mid("p"),
                question: "Which action line first?".into(),
                options: vec!["C1".into(), "C3".into(), "C7".into()],
                multiple,
                changeable,
                results: PollResults::AfterClose,
            },
        )
        .unwrap();
    }

    #[test]
    fn a_poll_goes_from_draft_to_open_to_closed_and_counts_one_answer_per_user() {
        let mut board = PollBoard::default();
        create(&mut board, false, true);
        let answer = |c: Vec<u8>| PollCommand::Answer { id: mid("p"), choices: c };
        assert!(matches!(run(&mut board, "ada", false, answer(vec![0])), Err(PollError::InvalidTransition { .. })));
        assert_eq!(
            run(&mut board, "ada", false, PollCommand::Open { id: mid("p"), version: 1 }),
            Err(PollError::Forbidden)
        );
        run(&mut board, "mod", true, PollCommand::Open { id: mid("p"), version: 1 }).unwrap();
        run(&mut board, "ada", false, answer(vec![0])).unwrap();
        run(&mut board, "ada", false, answer(vec![1])).unwrap();
        run(&mut board, "lin", false, answer(vec![1])).unwrap();
        assert_eq!(board.tally(&mid("p")), Some((vec![0, 2, 0], 2)), "ada's changed answer counts once");
        assert!(matches!(run(&mut board, "lin", false, answer(vec![0, 1])), Err(PollError::Invalid(_))));
        assert!(matches!(run(&mut board, "lin", false, answer(vec![7])), Err(PollError::Invalid(_))));
        assert!(!board.polls[&mid("p")].results_public(), "after close only");
        run(&mut board, "mod", true, PollCommand::Close { id: mid("p"), version: 2 }).unwrap();
        assert!(board.polls[&mid("p")].results_public());
        assert!(matches!(run(&mut board, "ada", false, answer(vec![2])), Err(PollError::InvalidTransition { .. })));
    }

    #[test]
    fn fixed_answers_and_multiple_choice() {
        let mut board = PollBoard::default();
        create(&mut board, true, false);
        run(&mut board, "mod", true, PollCommand::Open { id: mid("p"), version: 1 }).unwrap();
        let answer = |c: Vec<u8>| PollCommand::Answer { id: mid("p"), choices: c };
        run(&mut board, "ada", false, answer(vec![0, 2])).unwrap();
        assert_eq!(run(&mut board, "ada", false, answer(vec![0, 2])), Ok(()), "the same answer again changes nothing");
        assert_eq!(run(&mut board, "ada", false, answer(vec![1])), Err(PollError::AlreadyAnswered));
        assert_eq!(board.tally(&mid("p")), Some((vec![1, 0, 1], 1)));
        assert_eq!(
            run(&mut board, "mod", true, PollCommand::Close { id: mid("p"), version: 1 }),
            Err(PollError::Stale { current: 2 })
        );
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        proptest! {
            /// Whatever is sent in whatever order: each user's answer counts once, no option
            /// count exceeds the number of voters, a single-choice poll's counts add up to
            /// its voters, and answers arrive only while the poll is open.
            #[test]
            fn tallies_stay_consistent(
                multiple in any::<bool>(),
                changeable in any::<bool>(),
                steps in proptest::collection::vec((0u8..6, 0u8..4, proptest::collection::vec(0u8..4, 0..4)), 0..60),
            ) {
                let mut board = PollBoard::default();
                create(&mut board, multiple, changeable);
                for (kind, who, choices) in steps {
                    let version = board.polls.get(&mid("p")).map_or(1, |p| p.version);
                    let name = format!("u{who}");
                    let (moderator, command) = match kind {
                        0 => (true, PollCommand::Open { id: mid("p"), version }),
                        1 => (true, PollCommand::Close { id: mid("p"), version }),
                        _ => (false, PollCommand::Answer { id: mid("p"), choices }),
                    };
                    let before = board.clone();
                    let state_before = before.polls.get(&mid("p")).map(|p| p.state);
                    match decide(&board, &user(&name), moderator, command.clone(), 1_000) {
                        Ok(events) => {
                            for e in &events { apply(&mut board, e); }
                            if matches!(command, PollCommand::Answer { .. }) && !events.is_empty() {
                                prop_assert_eq!(state_before, Some(PollState::Open));
                            }
                        }
                        Err(_) => prop_assert_eq!(&board, &before),
                    }
                    let (counts, voters) = board.tally(&mid("p")).unwrap();
                    prop_assert!(counts.iter().all(|c| *c <= voters));
                    if !multiple {
                        prop_assert_eq!(counts.iter().sum::<u32>(), voters);
                    }
                }
            }
        }
    }

    #[test]
    fn a_draft_reaches_moderators_only_and_the_audience_once_it_opens() {
        let mut board = PollBoard::default();
        let draft = Poll {
            id: mid("p1"),
            question: "Which action line first?".into(),
            options: vec!["C1".into(), "C3".into()],
            multiple: false,
            changeable: true,
            results: PollResults::Live,
            state: PollState::Draft,
            version: 1,
            created_at: 0,
            updated_at: 0,
        };
        let shown = |views: &PollStepViews| {
            let ids = |(changed, removed): &(Vec<plenary_proto::PollView>, Vec<MessageId>)| {
                (changed.iter().map(|p| p.id.to_string()).collect::<Vec<_>>(), removed.len())
            };
            (ids(&views.audience), ids(&views.moderators))
        };
        let views = apply_step(&mut board, &[PollEvent::Put(draft.clone())]);
        assert_eq!(shown(&views), ((vec![], 0), (vec!["p1".to_owned()], 0)), "a draft: moderators only");
        let open = Poll { state: PollState::Open, version: 2, ..draft.clone() };
        let views = apply_step(&mut board, &[PollEvent::Put(open)]);
        assert_eq!(shown(&views), ((vec!["p1".to_owned()], 0), (vec!["p1".to_owned()], 0)), "open: everyone");
        let views = apply_step(&mut board, &[PollEvent::Removed { id: mid("p1") }]);
        assert_eq!(shown(&views), ((vec![], 1), (vec![], 1)), "an open poll's removal reaches everyone");
        apply_step(&mut board, &[PollEvent::Put(draft)]);
        let views = apply_step(&mut board, &[PollEvent::Removed { id: mid("p1") }]);
        assert_eq!(shown(&views), ((vec![], 0), (vec![], 1)), "a draft's removal: moderators only");
        let views = apply_step(
            &mut board,
            &[PollEvent::Answered { id: mid("p1"), user: user("ada"), choices: BTreeSet::from([0]) }],
        );
        assert_eq!(views.answers_changed.iter().collect::<Vec<_>>(), ["p1"]);
    }
}
