//! What each audience sees of a Q&A step: applying a step to the board and saying, for the
//! audience, the moderators and every asker involved, which questions changed (as that
//! audience may see them) and which left its view. Pure: the room only encodes the result.
//!
//! The rules: the audience sees public questions only, and a question that stops being
//! public leaves its view; moderators see every question (anonymous askers named only when
//! the event allows it); an asker sees its own questions in full, whatever their state, and
//! the others as the audience does.

use std::collections::{BTreeSet, HashMap};

use plenary_proto::{MessageId, QuestionView, UserId};

use super::qa::{self, Audience, QaBoard, QaEvent, StateRules};

/// One audience's view of a step: questions changed and questions gone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ViewChange {
    pub changed: Vec<QuestionView>,
    pub removed: Vec<MessageId>,
}

impl ViewChange {
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.removed.is_empty()
    }
}

/// What a step changed, per audience.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepViews {
    pub audience: ViewChange,
    pub moderators: ViewChange,
    /// Each asker involved (a question of theirs changed or left), with its own view.
    pub askers: Vec<(UserId, ViewChange)>,
    /// Questions whose votes changed (their counts go out coalesced).
    pub votes_changed: BTreeSet<MessageId>,
    /// Voting closed in this step.
    pub voting_closed: bool,
}

impl StepViews {
    /// Whether the step changed no question (votes aside).
    pub fn no_questions(&self) -> bool {
        self.audience.is_empty() && self.moderators.is_empty() && self.askers.is_empty()
    }
}

/// Applies `events` to `board` and returns what each audience sees of them.
pub fn apply_step(board: &mut QaBoard, events: &[QaEvent], reveal_anonymous: bool) -> StepViews {
    // Who could see each question before the step (for removals from a view).
    let mut before: HashMap<MessageId, (bool, UserId)> = HashMap::new();
    let mut put = Vec::new();
    let mut removed = Vec::new();
    let mut views = StepViews::default();
    for event in events {
        match event {
            QaEvent::Put(q) => {
                if let Some(old) = board.questions.get(&q.id) {
                    before.entry(q.id.clone()).or_insert((old.state.is_public(), old.asker.clone()));
                }
                put.push(q.id.clone());
            }
            QaEvent::Removed { id } => {
                if let Some(old) = board.questions.get(id) {
                    before.entry(id.clone()).or_insert((old.state.is_public(), old.asker.clone()));
                }
                removed.push(id.clone());
            }
            QaEvent::Voted { id, .. } => {
                views.votes_changed.insert(id.clone());
            }
            QaEvent::VotingClosed => views.voting_closed = true,
        }
        qa::apply(board, event);
    }
    if put.is_empty() && removed.is_empty() {
        return views;
    }
    let was_public = |id: &MessageId| before.get(id).is_some_and(|(public, _)| *public);
    let current: Vec<&qa::Question> = put.iter().filter_map(|id| board.questions.get(id)).collect();

    views.audience = ViewChange {
        changed: current.iter().filter(|q| q.state.is_public()).map(|q| qa::view(q, Audience::Public)).collect(),
        removed: current
            .iter()
            .filter(|q| !q.state.is_public() && was_public(&q.id))
            .map(|q| &q.id)
            .chain(removed.iter().filter(|id| was_public(id)))
            .cloned()
            .collect(),
    };
    views.moderators = ViewChange {
        changed: current.iter().map(|q| qa::view(q, Audience::Moderators { reveal_anonymous })).collect(),
        removed: removed.clone(),
    };
    let mut askers: Vec<UserId> = current.iter().map(|q| q.asker.clone()).collect();
    askers.extend(before.values().map(|(_, asker)| asker.clone()));
    askers.sort();
    askers.dedup();
    views.askers = askers
        .into_iter()
        .map(|asker| {
            let changed = current
                .iter()
                .filter(|q| q.asker == asker || q.state.is_public())
                .map(|q| qa::view(q, if q.asker == asker { Audience::Asker } else { Audience::Public }))
                .collect();
            let gone = current
                .iter()
                .filter(|q| q.asker != asker && !q.state.is_public() && was_public(&q.id))
                .map(|q| &q.id)
                .chain(
                    removed
                        .iter()
                        .filter(|id| before.get(*id).is_some_and(|(public, owner)| *public || *owner == asker)),
                )
                .cloned()
                .collect();
            (asker, ViewChange { changed, removed: gone })
        })
        .collect();
    views
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};
    use plenary_proto::QuestionState;

    use super::*;
    use crate::domain::mid;
    use crate::domain::qa::Question;

    fn user(id: &str) -> UserId {
        UserId::parse(id).unwrap()
    }

    fn question(id: &str, asker: &str, state: QuestionState) -> Question {
        Question {
            id: mid(id),
            asker: user(asker),
            asker_name: asker.to_uppercase(),
            anonymous: false,
            text: format!("question {id}"),
            state,
            version: 1,
            votes: BTreeSet::new(),
            starred: false,
            rank: None,
            dismiss_reason: None,
            merged_into: None,
            asked_at: 0,
            updated_at: 0,
            answered_by: None,
        }
    }

    /// One line per audience: the ids (and states) it is sent, and the ids it is told left.
    fn render(views: &StepViews) -> String {
        let line = |who: &str, change: &ViewChange| {
            let changed: Vec<String> = change
                .changed
                .iter()
                .map(|q| format!("{}:{:?}{}", q.id, q.state, if q.asker.is_some() { "" } else { ":anonymous" }))
                .collect();
            let removed: Vec<&str> = change.removed.iter().map(MessageId::as_str).collect();
            format!("{who}: changed {changed:?} removed {removed:?}\n")
        };
        let mut out = line("audience", &views.audience) + &line("moderators", &views.moderators);
        for (asker, change) in &views.askers {
            out += &line(&format!("asker {asker}"), change);
        }
        out
    }

    fn check(board: &mut QaBoard, events: &[QaEvent], expected: Expect) {
        expected.assert_eq(&render(&apply_step(board, events, false)));
    }

    #[test]
    fn a_pending_question_reaches_moderators_and_its_asker_only() {
        let mut board = QaBoard::new(true);
        check(
            &mut board,
            &[QaEvent::Put(question("q1", "ada", QuestionState::Pending))],
            expect![[r#"
                audience: changed [] removed []
                moderators: changed ["q1:Pending"] removed []
                asker ada: changed ["q1:Pending"] removed []
            "#]],
        );
    }

    #[test]
    fn a_published_question_reaches_everyone_and_hiding_it_takes_it_from_the_audience() {
        let mut board = QaBoard::new(true);
        check(
            &mut board,
            &[QaEvent::Put(question("q1", "ada", QuestionState::Published))],
            expect![[r#"
                audience: changed ["q1:Published"] removed []
                moderators: changed ["q1:Published"] removed []
                asker ada: changed ["q1:Published"] removed []
            "#]],
        );
        check(
            &mut board,
            &[QaEvent::Put(question("q1", "ada", QuestionState::Hidden))],
            expect![[r#"
                audience: changed [] removed ["q1"]
                moderators: changed ["q1:Hidden"] removed []
                asker ada: changed ["q1:Hidden"] removed []
            "#]],
        );
    }

    #[test]
    fn a_deleted_question_leaves_the_views_that_had_it() {
        let mut board = QaBoard::new(true);
        apply_step(&mut board, &[QaEvent::Put(question("q1", "ada", QuestionState::Pending))], false);
        check(
            &mut board,
            &[QaEvent::Removed { id: mid("q1") }],
            expect![[r#"
                audience: changed [] removed []
                moderators: changed [] removed ["q1"]
                asker ada: changed [] removed ["q1"]
            "#]],
        );
    }

    #[test]
    fn an_anonymous_question_names_nobody_to_the_audience_or_to_moderators_by_default() {
        let mut board = QaBoard::new(false);
        let mut q = question("q1", "ada", QuestionState::Published);
        q.anonymous = true;
        check(
            &mut board,
            &[QaEvent::Put(q)],
            expect![[r#"
                audience: changed ["q1:Published:anonymous"] removed []
                moderators: changed ["q1:Published:anonymous"] removed []
                asker ada: changed ["q1:Published"] removed []
            "#]],
        );
    }

    #[test]
    fn votes_and_closing_change_no_view() {
        let mut board = QaBoard::new(false);
        apply_step(&mut board, &[QaEvent::Put(question("q1", "ada", QuestionState::Published))], false);
        let views = apply_step(
            &mut board,
            &[QaEvent::Voted { id: mid("q1"), user: user("grace"), up: true }, QaEvent::VotingClosed],
            false,
        );
        assert!(views.no_questions());
        assert_eq!(views.votes_changed.iter().collect::<Vec<_>>(), ["q1"]);
        assert!(views.voting_closed);
    }
}
