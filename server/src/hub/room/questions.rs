//! A session's Q&A: commands decided against the board as the stream has it, steps applied
//! and framed per audience, votes coalesced, the pages of questions a member may see, and
//! the record of questions, votes and audits.

use std::ops::Bound;

use plenary_proto::{MessageId, QaAction, QuestionView, QuestionVotes, Role};

use super::session::{SessionRoom, VOTE_FLUSH_INTERVAL};
use super::*;
use crate::domain::page::{self, PAGE_BYTES, PAGE_ITEMS};
use crate::domain::qa::{self, Actor, Audience, QaCommand, Question, QuestionState, StateRules};
use crate::domain::qa_views;
use crate::store::Record;

impl SessionRoom {
    /// Applies a Q&A step (`qa_views::apply_step` says what each audience sees) and encodes
    /// each audience's frame once.
    pub(super) fn apply_qa(&mut self, core: &RoomCore, seq: Seq, events: &[QaEvent]) -> Frames {
        let views = qa_views::apply_step(&mut self.qa, events, core.ctx.settings.qa_reveal_anonymous);
        if !views.votes_changed.is_empty() {
            self.votes_dirty.extend(views.votes_changed.iter().cloned());
            self.votes_due.get_or_insert_with(|| Instant::now() + VOTE_FLUSH_INTERVAL);
        }
        if views.voting_closed {
            self.votes_due = Some(Instant::now());
        }
        let frame = |change: qa_views::ViewChange| {
            (!change.is_empty()).then(|| {
                let event = RoomEvent::Questions { changed: change.changed, removed: change.removed };
                core.event_frame(seq, event)
            })
        };
        let users = views.askers.into_iter().map(|(asker, change)| (asker, frame(change))).collect();
        Frames { everyone: frame(views.audience), moderators: frame(views.moderators), users }
    }

    /// Sends the counts of the questions whose votes changed since the last time, and the
    /// results of the polls whose answers changed.
    pub(super) fn flush_votes(&mut self, core: &mut RoomCore) {
        self.flush_tallies(core);
        self.votes_due = None;
        let dirty = std::mem::take(&mut self.votes_dirty);
        let votes: Vec<QuestionVotes> = dirty
            .iter()
            .filter_map(|id| self.qa.questions.get(id))
            .filter(|q| q.state.is_public())
            .filter_map(vote_count)
            .collect();
        if votes.is_empty() {
            return;
        }
        let frame = Utf8Bytes::from(ServerMsg::QaVotes { room: core.id.clone(), votes }.to_json());
        core.broadcast(&frame);
    }

    /// Every public question's count, for a member that resumed.
    pub(super) fn all_votes_frame(&self, core: &RoomCore) -> Option<Utf8Bytes> {
        let votes: Vec<QuestionVotes> =
            self.qa.questions.values().filter(|q| q.state.is_public()).filter_map(vote_count).collect();
        (!votes.is_empty()).then(|| Utf8Bytes::from(ServerMsg::QaVotes { room: core.id.clone(), votes }.to_json()))
    }

    /// A Q&A command: decided against the board as the stream has it, published on top of
    /// that state (moderator actions and withdrawals), and acknowledged.
    pub(super) async fn qa_request(
        &mut self,
        core: &mut RoomCore,
        peer: &Arc<Peer>,
        identity: &Identity,
        rid: RequestId,
        request: QaRequest,
    ) -> Result<(), Refusal> {
        let you = self.membership(core, identity);
        let settings = Self::qa_settings(core);
        self.qa.moderated = settings.moderated;
        let actor = Actor {
            user: identity.user().clone(),
            name: identity.profile.name.clone(),
            moderator: you.can_moderate,
            speaker: identity.has(Role::Speaker),
        };
        let now = unix_millis();
        let (command, conditional) = match request {
            QaRequest::Ask { text, anonymous } => {
                if core.is_muted(identity.user(), now) {
                    // The same code as muted chat: one answer for "a moderator muted you".
                    return Err(Refusal::new(ErrorCode::Muted, "a moderator muted you in this room"));
                }
                if !you.can_chat {
                    return Err(Refusal::new(ErrorCode::Forbidden, "you cannot ask questions in this session"));
                }
                if anonymous && !settings.anonymous {
                    return Err(Refusal::new(ErrorCode::Invalid, "this session does not take anonymous questions"));
                }
                // Questions count against the same per-user budget as chat messages.
                core.take_chat_token(identity.user())?;
                let id = crate::domain::new_id();
                (QaCommand::Ask { id, text, anonymous }, false)
            }
            QaRequest::Vote { id, up } => (QaCommand::Vote { id, up }, false),
            QaRequest::Withdraw { id } => (QaCommand::Withdraw { id }, true),
            QaRequest::Moderate { id, version, action, text, reason, into, into_version, rank } => {
                let command = match action {
                    QaAction::Approve => QaCommand::Approve { id, version, text },
                    QaAction::Dismiss => QaCommand::Dismiss { id, version, reason },
                    QaAction::Restore => QaCommand::Restore { id, version },
                    QaAction::Hide => QaCommand::Hide { id, version },
                    QaAction::Unhide => QaCommand::Unhide { id, version },
                    QaAction::Highlight => QaCommand::Highlight { id, version },
                    QaAction::Unhighlight => QaCommand::Unhighlight { id, version },
                    QaAction::Answered => QaCommand::MarkAnswered { id, version },
                    QaAction::Reopen => QaCommand::Reopen { id, version },
                    QaAction::Star => QaCommand::Star { id, version, starred: true },
                    QaAction::Unstar => QaCommand::Star { id, version, starred: false },
                    QaAction::Rank => QaCommand::Rank { id, version, rank },
                    QaAction::Delete => QaCommand::Delete { id, version },
                    QaAction::Merge => {
                        let (Some(into), Some(into_version)) = (into, into_version) else {
                            return Err(Refusal::new(ErrorCode::BadRequest, "merge needs into and into_version"));
                        };
                        QaCommand::Merge { id, version, into, into_version }
                    }
                };
                (command, true)
            }
        };
        let merge = matches!(command, QaCommand::Merge { .. });
        let decide = |session: &SessionRoom, core: &RoomCore| {
            let events = qa::decide(&session.qa, &actor, command.clone(), now).map_err(Refusal::from)?;
            let records = qa_records(core, &events, identity.user(), merge, now);
            Ok((!events.is_empty()).then_some((StreamEvent::Qa { qa: events }, records)))
        };
        core.publish_decided(self, peer, rid, conditional, "questions", decide).await
    }

    /// The session's Q&A settings from the programme (the node's defaults without one).
    fn qa_settings(core: &RoomCore) -> crate::programme::model::QaSettings {
        core.ctx.sessions.as_ref().and_then(|s| s.qa(Self::slug(core))).unwrap_or(crate::programme::model::QaSettings {
            moderated: core.ctx.settings.qa_moderated,
            anonymous: true,
        })
    }

    /// The session ended: voting freezes and the live question counts as answered.
    pub(super) async fn end_qa(&mut self, core: &mut RoomCore, identity: &Identity) {
        let actor = Actor {
            user: identity.user().clone(),
            name: identity.profile.name.clone(),
            moderator: true,
            speaker: false,
        };
        let now = unix_millis();
        let Ok(events) = qa::decide(&self.qa, &actor, QaCommand::SessionEnded, now) else { return };
        if events.is_empty() {
            return;
        }
        let records = qa_records(core, &events, identity.user(), false, now);
        match core.publish_stream(self, StreamEvent::Qa { qa: events }).await {
            Ok(()) => {
                for record in records {
                    core.record(record);
                }
            }
            Err(refusal) => tracing::warn!(room = %core.id, error = %refusal.message, "could not close the Q&A"),
        }
    }

    /// The questions a joining member sees, whether it may see more, and which of them it
    /// voted for. Moderators get the newest page of the desk; others the top public
    /// questions by votes, the newest and their own, within one page's bytes.
    pub(super) fn snapshot_questions(
        &self,
        core: &RoomCore,
        user: &UserId,
        moderator: bool,
    ) -> (Vec<QuestionView>, bool, Vec<MessageId>) {
        let visible: Vec<&Question> = self.qa.questions.values().rev().filter(|q| shown(q, user, moderator)).collect();
        let chosen: Vec<&Question> = if moderator {
            visible.clone()
        } else {
            let mut by_votes = visible.clone();
            // Stable: among equal votes the newest stays first.
            by_votes.sort_by_key(|q| std::cmp::Reverse(q.votes.len()));
            let mut chosen: Vec<&Question> = by_votes.into_iter().take(PAGE_ITEMS).collect();
            let newest = visible.iter().take(PAGE_ITEMS);
            let own = visible.iter().filter(|q| q.asker == *user);
            for q in newest.chain(own) {
                if !chosen.iter().any(|c| c.id == q.id) {
                    chosen.push(q);
                }
            }
            chosen
        };
        let max_items = if moderator { PAGE_ITEMS } else { chosen.len() };
        let page =
            page::take(chosen.into_iter().map(|q| question_view(core, q, user, moderator)), max_items, PAGE_BYTES);
        let more = page.more || page.items.len() < visible.len();
        let votes = self.votes_among(&page.items, user);
        (page.items, more, votes)
    }

    /// Answers `qa_page`: the questions the caller may see, older than `before` (or the
    /// newest), newest first.
    pub(super) fn questions_page(
        &self,
        core: &RoomCore,
        peer: &Arc<Peer>,
        identity: &Identity,
        rid: RequestId,
        before: Option<&MessageId>,
    ) -> Result<(), Refusal> {
        let user = identity.user();
        let moderator = self.privileged(&self.membership(core, identity));
        let upper = before.map_or(Bound::Unbounded, |id| Bound::Excluded(id.clone()));
        let older = self.qa.questions.range((Bound::Unbounded, upper)).rev().map(|(_, q)| q);
        let page = page::take(
            older.filter(|q| shown(q, user, moderator)).map(|q| question_view(core, q, user, moderator)),
            PAGE_ITEMS,
            PAGE_BYTES,
        );
        let my_votes = self.votes_among(&page.items, user);
        let answer =
            ServerMsg::QuestionsPage { rid, room: core.id.clone(), questions: page.items, my_votes, more: page.more };
        let _ = peer.send_msg(&answer);
        Ok(())
    }

    /// Which of `questions` `user` has voted for.
    fn votes_among(&self, questions: &[QuestionView], user: &UserId) -> Vec<MessageId> {
        questions
            .iter()
            .filter(|view| self.qa.questions.get(&view.id).is_some_and(|q| q.votes.contains(user)))
            .map(|view| view.id.clone())
            .collect()
    }
}

/// Whether a member sees a question in its lists: withdrawn and merged ones only their
/// asker, the rest as `qa::visible_to` says.
fn shown(question: &Question, user: &UserId, moderator: bool) -> bool {
    (!matches!(question.state, QuestionState::Withdrawn | QuestionState::Merged) || question.asker == *user)
        && qa::visible_to(question, user, moderator)
}

/// A question as `user` sees it.
fn question_view(core: &RoomCore, question: &Question, user: &UserId, moderator: bool) -> QuestionView {
    let audience = if moderator {
        Audience::Moderators { reveal_anonymous: core.ctx.settings.qa_reveal_anonymous }
    } else if question.asker == *user {
        Audience::Asker
    } else {
        Audience::Public
    };
    qa::view(question, audience)
}

/// What the record keeps of a Q&A step this node published.
fn qa_records(core: &RoomCore, events: &[QaEvent], by: &UserId, votes_changed: bool, at: i64) -> Vec<Record> {
    let room = &core.id;
    events
        .iter()
        .filter_map(|event| match event {
            QaEvent::Put(question) => Some(Record::QuestionPut {
                room: room.clone(),
                question: question.clone(),
                by: by.clone(),
                votes_changed,
            }),
            QaEvent::Removed { id } => {
                Some(Record::QuestionRemoved { room: room.clone(), id: id.clone(), by: by.clone(), at })
            }
            QaEvent::Voted { id, user, up } => Some(Record::QuestionVote {
                room: room.clone(),
                question: id.clone(),
                voter: user.clone(),
                up: *up,
                at,
            }),
            QaEvent::VotingClosed => None,
        })
        .collect()
}

/// A question's vote count as clients get it.
fn vote_count(question: &Question) -> Option<QuestionVotes> {
    Some(QuestionVotes { id: question.id.clone(), votes: u32::try_from(question.votes.len()).unwrap_or(u32::MAX) })
}
