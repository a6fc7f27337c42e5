//! The room's Q&A: commands decided against the board as the stream has it, steps applied
//! and framed per audience, votes coalesced, and the record of questions, votes and audits.

use super::*;
use crate::domain::qa_views;

impl Room {
    /// Applies a Q&A step (`qa_views::apply_step` says what each audience sees) and encodes
    /// each audience's frame once.
    pub(super) fn apply_qa(&mut self, seq: Seq, events: &[QaEvent]) -> Frames {
        let views = qa_views::apply_step(&mut self.qa, events, self.ctx.settings.qa_reveal_anonymous);
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
                self.event_frame(seq, event)
            })
        };
        let users = views.askers.into_iter().map(|(asker, change)| (asker, frame(change))).collect();
        Frames { everyone: frame(views.audience), moderators: frame(views.moderators), users }
    }

    /// Sends the counts of the questions whose votes changed since the last time, and the
    /// results of the polls whose answers changed.
    pub(super) fn flush_votes(&mut self) {
        self.flush_tallies();
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
        let frame = Utf8Bytes::from(ServerMsg::QaVotes { room: self.id.clone(), votes }.to_json());
        self.broadcast(&frame);
    }

    /// Every public question's count, for a member that resumed.
    pub(super) fn all_votes_frame(&self) -> Option<Utf8Bytes> {
        let votes: Vec<QuestionVotes> =
            self.qa.questions.values().filter(|q| q.state.is_public()).filter_map(vote_count).collect();
        (!votes.is_empty()).then(|| Utf8Bytes::from(ServerMsg::QaVotes { room: self.id.clone(), votes }.to_json()))
    }

    /// A Q&A command: decided against the board as the stream has it, published on top of
    /// that state (moderator actions and withdrawals), and acknowledged.
    pub(super) async fn qa_request(
        &mut self,
        peer: &Arc<Peer>,
        identity: &Identity,
        rid: RequestId,
        request: QaRequest,
    ) -> Result<(), Refusal> {
        if self.kind != RoomKind::Session {
            return Err(Refusal::new(ErrorCode::NotFound, format!("{} has no Q&A", self.id)));
        }
        let you = self.you(identity);
        let settings = self.qa_settings();
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
                if self.is_muted(identity.user(), now) {
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
                self.take_chat_token(identity.user())?;
                let id = uuid::Uuid::now_v7().simple().to_string();
                (QaCommand::Ask { id, text, anonymous }, false)
            }
            QaRequest::Vote { id, up } => (QaCommand::Vote { id: id.as_str().to_owned(), up }, false),
            QaRequest::Withdraw { id } => (QaCommand::Withdraw { id: id.as_str().to_owned() }, true),
            QaRequest::Moderate { id, version, action, text, reason, into, into_version, rank } => {
                let id = id.as_str().to_owned();
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
                        QaCommand::Merge { id, version, into: into.as_str().to_owned(), into_version }
                    }
                };
                (command, true)
            }
        };
        let merge = matches!(command, QaCommand::Merge { .. });
        let decide = |room: &Room| {
            let events = qa::decide(&room.qa, &actor, command.clone(), now).map_err(Refusal::from)?;
            let records = room.qa_records(&events, identity.user(), merge, now);
            Ok((!events.is_empty()).then_some((StreamEvent::Qa { qa: events }, records)))
        };
        self.publish_decided(peer, rid, conditional, "questions", decide).await
    }

    /// The session's Q&A settings from the programme (the node's defaults without one).
    pub(super) fn qa_settings(&self) -> crate::programme::model::QaSettings {
        let slug = self.id.as_str().strip_prefix("session:").unwrap_or(self.id.as_str());
        self.ctx.sessions.as_ref().and_then(|s| s.qa(slug)).unwrap_or(crate::programme::model::QaSettings {
            moderated: self.ctx.settings.qa_moderated,
            anonymous: true,
        })
    }

    /// What the record keeps of a Q&A step this node published.
    pub(super) fn qa_records(&self, events: &[QaEvent], by: &UserId, votes_changed: bool, at: i64) -> Vec<Record> {
        events
            .iter()
            .filter_map(|event| match event {
                QaEvent::Put(question) => Some(Record::QuestionPut {
                    room: self.id.clone(),
                    question: question.clone(),
                    by: by.clone(),
                    votes_changed,
                }),
                QaEvent::Removed { id } => {
                    Some(Record::QuestionRemoved { room: self.id.clone(), id: id.clone(), by: by.clone(), at })
                }
                QaEvent::Voted { id, user, up } => Some(Record::QuestionVote {
                    room: self.id.clone(),
                    question: id.clone(),
                    voter: user.clone(),
                    up: *up,
                    at,
                }),
                QaEvent::VotingClosed => None,
            })
            .collect()
    }

    /// The session ended: voting freezes and the live question counts as answered.
    pub(super) async fn end_qa(&mut self, identity: &Identity) {
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
        let records = self.qa_records(&events, identity.user(), false, now);
        match self.publish_stream(StreamEvent::Qa { qa: events }).await {
            Ok(()) => {
                for record in records {
                    self.record(record);
                }
            }
            Err(refusal) => tracing::warn!(room = %self.id, error = %refusal.message, "could not close the Q&A"),
        }
    }
}

/// A question's vote count as clients get it.
fn vote_count(question: &qa::Question) -> Option<QuestionVotes> {
    Some(QuestionVotes {
        id: MessageId::parse(question.id.clone()).ok()?,
        votes: u32::try_from(question.votes.len()).unwrap_or(u32::MAX),
    })
}
