//! Moderated Q&A as pure functions: a command and the board's state give the events to
//! publish or the reason it is refused ([`decide`]); events change the state ([`apply`]).
//! Rooms run `decide` against the board as the room's stream has it and publish the events
//! only on top of that state (`Bus::publish_if`), so two moderators on two nodes can never
//! both approve, highlight or merge the same question.
//!
//! Question life cycle: `pending` (moderated sessions) or `published` on asking;
//! moderators approve (optionally editing), dismiss (with a reason), restore, hide/unhide,
//! highlight (`live`: at most one per session; the previous one returns to `published` in
//! the same step), unhighlight, mark answered, reopen, merge a duplicate into another
//! question (votes move without double counting), star, rank and delete; speakers with the
//! grant highlight starred questions and mark answered; the asker withdraws before `live`;
//! when the session ends, voting freezes and the `live` question becomes `answered`.
//! Every moderator write names the version it saw; a stale one is a conflict.

use std::collections::{BTreeMap, BTreeSet};

use plenary_proto::{MessageId, QuestionView, UserId, UserProfile};
use serde::{Deserialize, Serialize};

use crate::domain::text::{has_control, normalise_line, normalise_text};

/// Longest question, in characters (the limit clients learn from `plenary_proto::input`).
pub const MAX_QUESTION_CHARS: usize = plenary_proto::input::QUESTION_MAX_CHARS;
/// Longest dismissal reason code.
pub const MAX_REASON_CHARS: usize = 40;

pub use plenary_proto::QuestionState;

/// What a question's state means for who sees it and whether it takes votes.
pub trait StateRules {
    /// Whether the whole room sees the question (else only moderators and the asker).
    fn is_public(&self) -> bool;
    /// Whether attendees may vote on it.
    fn takes_votes(&self) -> bool;
}

impl StateRules for QuestionState {
    fn is_public(&self) -> bool {
        matches!(self, QuestionState::Published | QuestionState::Live | QuestionState::Answered)
    }

    fn takes_votes(&self) -> bool {
        matches!(self, QuestionState::Published | QuestionState::Live)
    }
}

/// One question as the room keeps it (and as the bus carries it between nodes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: MessageId,
    pub asker: UserId,
    pub asker_name: String,
    /// Hidden from the audience; the asker is still stored.
    pub anonymous: bool,
    pub text: String,
    pub state: QuestionState,
    /// Raised by every change; moderator writes must name the current one.
    pub version: u64,
    pub votes: BTreeSet<UserId>,
    pub starred: bool,
    /// Position in the moderators' shortlist, lowest first.
    pub rank: Option<i64>,
    pub dismiss_reason: Option<String>,
    pub merged_into: Option<MessageId>,
    pub asked_at: i64,
    pub updated_at: i64,
    pub answered_by: Option<UserId>,
}

/// What the actor may do, from its membership in the room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user: UserId,
    pub name: String,
    pub moderator: bool,
    /// A speaker granted Q&A rights: highlight starred questions and mark answered.
    pub speaker: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QaCommand {
    Ask {
        id: MessageId,
        text: String,
        anonymous: bool,
    },
    Approve {
        id: MessageId,
        version: u64,
        text: Option<String>,
    },
    Dismiss {
        id: MessageId,
        version: u64,
        reason: Option<String>,
    },
    Restore {
        id: MessageId,
        version: u64,
    },
    Hide {
        id: MessageId,
        version: u64,
    },
    Unhide {
        id: MessageId,
        version: u64,
    },
    Highlight {
        id: MessageId,
        version: u64,
    },
    Unhighlight {
        id: MessageId,
        version: u64,
    },
    MarkAnswered {
        id: MessageId,
        version: u64,
    },
    Reopen {
        id: MessageId,
        version: u64,
    },
    Merge {
        id: MessageId,
        version: u64,
        into: MessageId,
        into_version: u64,
    },
    Star {
        id: MessageId,
        version: u64,
        starred: bool,
    },
    Rank {
        id: MessageId,
        version: u64,
        rank: Option<i64>,
    },
    Delete {
        id: MessageId,
        version: u64,
    },
    Withdraw {
        id: MessageId,
    },
    Vote {
        id: MessageId,
        up: bool,
    },
    /// The session ended: voting freezes, a `live` question becomes `answered`.
    SessionEnded,
}

/// A change to the board. Question changes carry the whole question, so applying one is
/// the same on every node whatever it held before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QaEvent {
    Put(Question),
    Removed { id: MessageId },
    Voted { id: MessageId, user: UserId, up: bool },
    VotingClosed,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QaError {
    #[error("no question \"{0}\"")]
    NotFound(MessageId),
    #[error("only moderators may do this")]
    Forbidden,
    #[error("the question changed meanwhile (now version {current}); reload it")]
    Stale { current: u64 },
    #[error("a {from:?} question cannot be {action}")]
    InvalidTransition { from: QuestionState, action: &'static str },
    #[error("voting has closed")]
    VotingClosed,
    #[error("the question must not be empty")]
    Empty,
    #[error("the question is longer than {0} characters")]
    TooLong(usize),
    #[error("the text contains control characters")]
    ControlCharacters,
    #[error("a question id is already taken")]
    DuplicateId,
    #[error("a question cannot be merged into itself or into a question that is not open")]
    InvalidMerge,
}

/// A session's questions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QaBoard {
    pub questions: BTreeMap<MessageId, Question>,
    /// Questions go to `pending` first.
    pub moderated: bool,
    pub voting_closed: bool,
}

impl QaBoard {
    pub fn new(moderated: bool) -> QaBoard {
        QaBoard { moderated, ..QaBoard::default() }
    }

    pub fn live(&self) -> Option<&Question> {
        self.questions.values().find(|q| q.state == QuestionState::Live)
    }

    fn get(&self, id: &MessageId) -> Result<&Question, QaError> {
        self.questions.get(id).ok_or_else(|| QaError::NotFound(id.to_owned()))
    }

    /// A question the actor may act on as a moderator, at the version it saw.
    fn moderated_question(&self, actor: &Actor, id: &MessageId, version: u64) -> Result<&Question, QaError> {
        if !actor.moderator {
            return Err(QaError::Forbidden);
        }
        self.current(id, version)
    }

    fn current(&self, id: &MessageId, version: u64) -> Result<&Question, QaError> {
        let question = self.get(id)?;
        if question.version != version {
            return Err(QaError::Stale { current: question.version });
        }
        Ok(question)
    }
}

/// Normalises a question (the text rules) and checks its length. A question has line
/// breaks but no other control character (a tab included).
fn validate_text(text: &str) -> Result<String, QaError> {
    if has_control(text) {
        return Err(QaError::ControlCharacters);
    }
    let text = normalise_text(text);
    if text.is_empty() {
        return Err(QaError::Empty);
    }
    if text.chars().count() > MAX_QUESTION_CHARS {
        return Err(QaError::TooLong(MAX_QUESTION_CHARS));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(QaError::ControlCharacters);
    }
    Ok(text)
}

/// The question moved to `state` (and otherwise as `change` says), one version on.
fn moved(question: &Question, state: QuestionState, now: i64, change: impl FnOnce(&mut Question)) -> QaEvent {
    let mut next = question.clone();
    next.state = state;
    next.version += 1;
    next.updated_at = now;
    change(&mut next);
    QaEvent::Put(next)
}

fn invalid(from: QuestionState, action: &'static str) -> QaError {
    QaError::InvalidTransition { from, action }
}

/// Decides what `command` by `actor` does to `board` at time `now` (Unix ms).
pub fn decide(board: &QaBoard, actor: &Actor, command: QaCommand, now: i64) -> Result<Vec<QaEvent>, QaError> {
    use QuestionState::*;
    Ok(match command {
        QaCommand::Ask { id, text, anonymous } => {
            if board.voting_closed {
                return Err(QaError::VotingClosed);
            }
            if board.questions.contains_key(&id) {
                return Err(QaError::DuplicateId);
            }
            let text = validate_text(&text)?;
            vec![QaEvent::Put(Question {
                id,
                asker: actor.user.clone(),
                asker_name: actor.name.clone(),
                anonymous,
                text,
                state: if board.moderated { Pending } else { Published },
                version: 1,
                votes: BTreeSet::new(),
                starred: false,
                rank: None,
                dismiss_reason: None,
                merged_into: None,
                asked_at: now,
                updated_at: now,
                answered_by: None,
            })]
        }
        QaCommand::Approve { id, version, text } => {
            let q = board.moderated_question(actor, &id, version)?;
            if q.state != Pending {
                return Err(invalid(q.state, "approved"));
            }
            let text = text.map(|t| validate_text(&t)).transpose()?;
            vec![moved(q, Published, now, |n| {
                if let Some(text) = text {
                    n.text = text;
                }
            })]
        }
        QaCommand::Dismiss { id, version, reason } => {
            let q = board.moderated_question(actor, &id, version)?;
            if !matches!(q.state, Pending | Published | Hidden) {
                return Err(invalid(q.state, "dismissed"));
            }
            let reason = reason.map(|r| normalise_line(&r).chars().take(MAX_REASON_CHARS).collect::<String>());
            vec![moved(q, Dismissed, now, |n| n.dismiss_reason = reason.filter(|r| !r.is_empty()))]
        }
        QaCommand::Restore { id, version } => {
            let q = board.moderated_question(actor, &id, version)?;
            if q.state != Dismissed {
                return Err(invalid(q.state, "restored"));
            }
            vec![moved(q, Pending, now, |n| n.dismiss_reason = None)]
        }
        QaCommand::Hide { id, version } => {
            let q = board.moderated_question(actor, &id, version)?;
            if q.state != Published {
                return Err(invalid(q.state, "hidden"));
            }
            vec![moved(q, Hidden, now, |_| {})]
        }
        QaCommand::Unhide { id, version } => {
            let q = board.moderated_question(actor, &id, version)?;
            if q.state != Hidden {
                return Err(invalid(q.state, "unhidden"));
            }
            vec![moved(q, Published, now, |_| {})]
        }
        QaCommand::Highlight { id, version } => {
            if !actor.moderator && !actor.speaker {
                return Err(QaError::Forbidden);
            }
            let q = board.current(&id, version)?;
            if !actor.moderator && !q.starred {
                // Speakers pick from the moderators' shortlist only.
                return Err(QaError::Forbidden);
            }
            if q.state != Published {
                return Err(invalid(q.state, "highlighted"));
            }
            let mut events = Vec::with_capacity(2);
            if let Some(previous) = board.live() {
                events.push(moved(previous, Published, now, |_| {}));
            }
            events.push(moved(q, Live, now, |_| {}));
            events
        }
        QaCommand::Unhighlight { id, version } => {
            let q = board.moderated_question(actor, &id, version)?;
            if q.state != Live {
                return Err(invalid(q.state, "unhighlighted"));
            }
            vec![moved(q, Published, now, |_| {})]
        }
        QaCommand::MarkAnswered { id, version } => {
            if !actor.moderator && !actor.speaker {
                return Err(QaError::Forbidden);
            }
            let q = board.current(&id, version)?;
            if !matches!(q.state, Published | Live) {
                return Err(invalid(q.state, "marked answered"));
            }
            let by = actor.user.clone();
            vec![moved(q, Answered, now, |n| n.answered_by = Some(by))]
        }
        QaCommand::Reopen { id, version } => {
            let q = board.moderated_question(actor, &id, version)?;
            if q.state != Answered {
                return Err(invalid(q.state, "reopened"));
            }
            vec![moved(q, Published, now, |n| n.answered_by = None)]
        }
        QaCommand::Merge { id, version, into, into_version } => {
            let q = board.moderated_question(actor, &id, version)?;
            let target = board.current(&into, into_version)?;
            if id == into
                || !matches!(q.state, Pending | Published | Hidden)
                || !matches!(target.state, Published | Live)
            {
                return Err(QaError::InvalidMerge);
            }
            let votes: BTreeSet<UserId> = target.votes.union(&q.votes).cloned().collect();
            let into_id = into.clone();
            vec![
                moved(q, Merged, now, |n| {
                    n.merged_into = Some(into_id);
                    n.votes.clear();
                }),
                moved(target, target.state, now, |n| n.votes = votes),
            ]
        }
        QaCommand::Star { id, version, starred } => {
            let q = board.moderated_question(actor, &id, version)?;
            if !matches!(q.state, Pending | Published | Live) {
                return Err(invalid(q.state, "starred"));
            }
            vec![moved(q, q.state, now, |n| n.starred = starred)]
        }
        QaCommand::Rank { id, version, rank } => {
            let q = board.moderated_question(actor, &id, version)?;
            vec![moved(q, q.state, now, |n| n.rank = rank)]
        }
        QaCommand::Delete { id, version } => {
            let q = board.moderated_question(actor, &id, version)?;
            vec![QaEvent::Removed { id: q.id.clone() }]
        }
        QaCommand::Withdraw { id } => {
            let q = board.get(&id)?;
            if q.asker != actor.user {
                return Err(QaError::Forbidden);
            }
            if !matches!(q.state, Pending | Published | Hidden | Dismissed) {
                return Err(invalid(q.state, "withdrawn"));
            }
            vec![moved(q, Withdrawn, now, |_| {})]
        }
        QaCommand::Vote { id, up } => {
            if board.voting_closed {
                return Err(QaError::VotingClosed);
            }
            let q = board.get(&id)?;
            if !q.state.takes_votes() {
                return Err(invalid(q.state, "voted on"));
            }
            // A repeated vote (or unvote) changes nothing and publishes nothing.
            if q.votes.contains(&actor.user) == up {
                return Ok(Vec::new());
            }
            vec![QaEvent::Voted { id, user: actor.user.clone(), up }]
        }
        QaCommand::SessionEnded => {
            let mut events = Vec::new();
            if let Some(live) = board.live() {
                events.push(moved(live, Answered, now, |_| {}));
            }
            if !board.voting_closed {
                events.push(QaEvent::VotingClosed);
            }
            events
        }
    })
}

/// Applies an event to the board.
pub fn apply(board: &mut QaBoard, event: &QaEvent) {
    match event {
        QaEvent::Put(question) => {
            board.questions.insert(question.id.clone(), question.clone());
        }
        QaEvent::Removed { id } => {
            board.questions.remove(id);
        }
        QaEvent::Voted { id, user, up } => {
            if let Some(q) = board.questions.get_mut(id) {
                if *up {
                    q.votes.insert(user.clone());
                } else {
                    q.votes.remove(user);
                }
            }
        }
        QaEvent::VotingClosed => board.voting_closed = true,
    }
}

/// Whether `viewer` sees `question`: public states for everyone; the rest for moderators
/// and the asker only (withdrawn and merged questions only for moderators and the asker).
pub fn visible_to(question: &Question, viewer: &UserId, moderator: bool) -> bool {
    question.state.is_public() || moderator || question.asker == *viewer
}

/// Who a view is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Moderators see the shortlist and reasons; the asker of an anonymous question only
    /// when the event allows it.
    Moderators { reveal_anonymous: bool },
    /// The asker sees its own question, itself named.
    Asker,
    /// Everyone else.
    Public,
}

/// The question as `audience` sees it.
pub fn view(question: &Question, audience: Audience) -> QuestionView {
    let named = match audience {
        Audience::Moderators { reveal_anonymous } => !question.anonymous || reveal_anonymous,
        Audience::Asker => true,
        Audience::Public => !question.anonymous,
    };
    let moderators = matches!(audience, Audience::Moderators { .. });
    QuestionView {
        id: question.id.clone(),
        text: question.text.clone(),
        state: question.state,
        version: question.version,
        votes: u32::try_from(question.votes.len()).unwrap_or(u32::MAX),
        asker: named.then(|| UserProfile {
            id: question.asker.clone(),
            name: question.asker_name.clone(),
            country: None,
        }),
        starred: moderators && question.starred,
        rank: if moderators { question.rank } else { None },
        dismiss_reason: if audience == Audience::Public { None } else { question.dismiss_reason.clone() },
        merged_into: question.merged_into.clone(),
        asked_at: question.asked_at,
        updated_at: question.updated_at,
        answered_by: question.answered_by.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mid;
    use QuestionState::*;

    fn user(name: &str) -> UserId {
        UserId::parse(name).unwrap()
    }

    fn attendee(name: &str) -> Actor {
        Actor { user: user(name), name: name.to_owned(), moderator: false, speaker: false }
    }

    fn moderator() -> Actor {
        Actor { user: user("mod"), name: "Mod".into(), moderator: true, speaker: false }
    }

    fn run(board: &mut QaBoard, actor: &Actor, command: QaCommand) -> Result<Vec<QaEvent>, QaError> {
        let events = decide(board, actor, command, 1_000)?;
        for event in &events {
            apply(board, event);
        }
        Ok(events)
    }

    fn ask(board: &mut QaBoard, asker: &str, id: &str) {
        run(board, &attendee(asker), QaCommand::Ask { id: mid(id), text: format!("question {id}"), anonymous: false })
            .unwrap();
    }

    #[test]
    fn moderated_questions_wait_for_approval_and_only_moderators_approve() {
        let mut board = QaBoard::new(true);
        ask(&mut board, "ada", "q1");
        assert_eq!(board.questions[&mid("q1")].state, Pending);
        let approve = QaCommand::Approve { id: mid("q1"), version: 1, text: Some("Edited?".into()) };
        assert_eq!(run(&mut board, &attendee("ada"), approve.clone()), Err(QaError::Forbidden));
        run(&mut board, &moderator(), approve.clone()).unwrap();
        assert_eq!(
            (board.questions[&mid("q1")].state, board.questions[&mid("q1")].text.as_str()),
            (Published, "Edited?")
        );
        assert_eq!(
            run(&mut board, &moderator(), approve),
            Err(QaError::Stale { current: 2 }),
            "a second approval is stale"
        );
    }

    #[test]
    fn highlighting_moves_the_previous_live_question_back_in_one_step() {
        let mut board = QaBoard::new(false);
        ask(&mut board, "ada", "q1");
        ask(&mut board, "lin", "q2");
        run(&mut board, &moderator(), QaCommand::Highlight { id: mid("q1"), version: 1 }).unwrap();
        let events = run(&mut board, &moderator(), QaCommand::Highlight { id: mid("q2"), version: 1 }).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!((board.questions[&mid("q1")].state, board.questions[&mid("q2")].state), (Published, Live));
    }

    #[test]
    fn merging_moves_votes_without_counting_anyone_twice() {
        let mut board = QaBoard::new(false);
        ask(&mut board, "ada", "q1");
        ask(&mut board, "lin", "q2");
        for (voter, id) in [("x", "q1"), ("y", "q1"), ("y", "q2"), ("z", "q2")] {
            run(&mut board, &attendee(voter), QaCommand::Vote { id: mid(id), up: true }).unwrap();
        }
        let merge = QaCommand::Merge { id: mid("q2"), version: 1, into: mid("q1"), into_version: 1 };
        run(&mut board, &moderator(), merge).unwrap();
        assert_eq!(board.questions[&mid("q1")].votes.len(), 3, "x, y and z, y once");
        assert_eq!(board.questions[&mid("q2")].state, Merged);
        assert_eq!(board.questions[&mid("q2")].merged_into, Some(mid("q1")));
    }

    #[test]
    fn votes_toggle_once_per_user_and_only_on_open_questions() {
        let mut board = QaBoard::new(true);
        ask(&mut board, "ada", "q1");
        let vote = QaCommand::Vote { id: mid("q1"), up: true };
        assert!(matches!(run(&mut board, &attendee("x"), vote.clone()), Err(QaError::InvalidTransition { .. })));
        run(&mut board, &moderator(), QaCommand::Approve { id: mid("q1"), version: 1, text: None }).unwrap();
        run(&mut board, &attendee("x"), vote.clone()).unwrap();
        assert_eq!(run(&mut board, &attendee("x"), vote).unwrap(), vec![], "a second vote is a no-op");
        assert_eq!(board.questions[&mid("q1")].votes.len(), 1);
        run(&mut board, &attendee("x"), QaCommand::Vote { id: mid("q1"), up: false }).unwrap();
        assert!(board.questions[&mid("q1")].votes.is_empty());
    }

    #[test]
    fn askers_withdraw_their_own_questions_before_they_go_live() {
        let mut board = QaBoard::new(false);
        ask(&mut board, "ada", "q1");
        assert_eq!(run(&mut board, &attendee("lin"), QaCommand::Withdraw { id: mid("q1") }), Err(QaError::Forbidden));
        run(&mut board, &moderator(), QaCommand::Highlight { id: mid("q1"), version: 1 }).unwrap();
        assert!(matches!(
            run(&mut board, &attendee("ada"), QaCommand::Withdraw { id: mid("q1") }),
            Err(QaError::InvalidTransition { from: Live, .. })
        ));
    }

    #[test]
    fn speakers_highlight_only_from_the_shortlist() {
        let mut board = QaBoard::new(false);
        ask(&mut board, "ada", "q1");
        let speaker = Actor { user: user("spk"), name: "Speaker".into(), moderator: false, speaker: true };
        let highlight = |v| QaCommand::Highlight { id: mid("q1"), version: v };
        assert_eq!(run(&mut board, &speaker, highlight(1)), Err(QaError::Forbidden));
        run(&mut board, &moderator(), QaCommand::Star { id: mid("q1"), version: 1, starred: true }).unwrap();
        run(&mut board, &speaker, highlight(2)).unwrap();
        run(&mut board, &speaker, QaCommand::MarkAnswered { id: mid("q1"), version: 3 }).unwrap();
        assert_eq!(board.questions[&mid("q1")].answered_by, Some(user("spk")));
    }

    #[test]
    fn the_session_ending_answers_the_live_question_and_freezes_votes() {
        let mut board = QaBoard::new(false);
        ask(&mut board, "ada", "q1");
        run(&mut board, &moderator(), QaCommand::Highlight { id: mid("q1"), version: 1 }).unwrap();
        run(&mut board, &moderator(), QaCommand::SessionEnded).unwrap();
        assert_eq!(board.questions[&mid("q1")].state, Answered);
        assert_eq!(
            run(&mut board, &attendee("x"), QaCommand::Vote { id: mid("q1"), up: true }),
            Err(QaError::VotingClosed)
        );
    }

    #[test]
    fn hidden_questions_are_seen_by_moderators_and_askers_only() {
        let mut board = QaBoard::new(false);
        ask(&mut board, "ada", "q1");
        run(&mut board, &moderator(), QaCommand::Hide { id: mid("q1"), version: 1 }).unwrap();
        let q = &board.questions[&mid("q1")];
        assert!(!visible_to(q, &user("lin"), false));
        assert!(visible_to(q, &user("ada"), false));
        assert!(visible_to(q, &user("mod"), true));
        assert_eq!(q.state, Hidden);
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        const IDS: [&str; 4] = ["q0", "q1", "q2", "q3"];
        const USERS: [&str; 4] = ["u0", "u1", "u2", "u3"];

        /// A command with ids and versions drawn near the board's, so many succeed.
        fn any_step() -> impl Strategy<Value = (u8, u8, u8, u8, u8, bool)> {
            (0u8..17, 0u8..4, 0u8..4, 0u8..4, 0u8..3, any::<bool>())
        }

        fn command(board: &QaBoard, (kind, a, b, user, skew, flag): (u8, u8, u8, u8, u8, bool)) -> (Actor, QaCommand) {
            let id = mid(IDS[a as usize]);
            let into = mid(IDS[b as usize]);
            // Usually the current version, sometimes a stale or future one.
            let version = |id: &MessageId| {
                let current = board.questions.get(id).map_or(1, |q| q.version);
                match skew {
                    1 => current + 1,
                    2 => current.saturating_sub(1),
                    _ => current,
                }
            };
            let v = version(&id);
            let actor = if kind >= 2 && kind != 14 && kind != 15 && flag {
                moderator()
            } else {
                Actor { user: user_id(user), name: "User".into(), moderator: false, speaker: flag }
            };
            let command = match kind {
                0 | 1 => QaCommand::Ask { id, text: "Why?".into(), anonymous: flag },
                2 => QaCommand::Approve { id, version: v, text: None },
                3 => QaCommand::Dismiss { id, version: v, reason: Some("off-topic".into()) },
                4 => QaCommand::Restore { id, version: v },
                5 => QaCommand::Hide { id, version: v },
                6 => QaCommand::Unhide { id, version: v },
                7 => QaCommand::Highlight { id, version: v },
                8 => QaCommand::Unhighlight { id, version: v },
                9 => QaCommand::MarkAnswered { id, version: v },
                10 => QaCommand::Reopen { id, version: v },
                11 => QaCommand::Merge { id, version: v, into: into.clone(), into_version: version(&into) },
                12 => QaCommand::Star { id, version: v, starred: flag },
                13 => QaCommand::Delete { id, version: v },
                14 => QaCommand::Withdraw { id },
                15 => QaCommand::Vote { id, up: flag || skew != 0 },
                _ => QaCommand::SessionEnded,
            };
            (actor, command)
        }

        fn user_id(n: u8) -> UserId {
            UserId::parse(USERS[n as usize]).unwrap()
        }

        fn total_votes(board: &QaBoard) -> usize {
            board.questions.values().map(|q| q.votes.len()).sum()
        }

        proptest! {
            /// Whatever anyone sends, in any order: at most one question is live, a vote is
            /// counted once per user (sets) and only while its question takes votes or was
            /// merged into one, merging never loses a voter, versions only grow, and a
            /// refused command changes nothing.
            #[test]
            fn any_sequence_keeps_the_invariants(moderated in any::<bool>(), steps in proptest::collection::vec(any_step(), 0..60)) {
                let mut board = QaBoard::new(moderated);
                for step in steps {
                    let (actor, command) = command(&board, step);
                    let before = board.clone();
                    match decide(&board, &actor, command.clone(), 1_000) {
                        Ok(events) => {
                            for event in &events {
                                apply(&mut board, event);
                            }
                            if let QaCommand::Merge { id, into, .. } = &command {
                                let voters: BTreeSet<UserId> =
                                    before.questions[id].votes.union(&before.questions[into].votes).cloned().collect();
                                prop_assert_eq!(&board.questions[into].votes, &voters, "merged votes conserved");
                                prop_assert!(total_votes(&board) <= total_votes(&before));
                            }
                        }
                        Err(_) => prop_assert_eq!(&board, &before, "a refusal changes nothing"),
                    }
                    prop_assert!(board.questions.values().filter(|q| q.state == Live).count() <= 1, "one live at most");
                    for q in board.questions.values() {
                        if let Some(old) = before.questions.get(&q.id) {
                            prop_assert!(q.version >= old.version, "versions only grow");
                        }
                        if q.state == Merged {
                            prop_assert!(q.votes.is_empty(), "a merged question's votes moved");
                        }
                    }
                }
            }
        }
    }
}
