//! A session's polls: commands, steps applied and framed per audience, tallies coalesced,
//! and the record of polls and answers.

use plenary_proto::MessageId;

use super::session::{SessionRoom, VOTE_FLUSH_INTERVAL};
use super::*;
use crate::domain::poll::{self, PollCommand};
use crate::store::Record;

impl SessionRoom {
    /// Applies a poll step (`poll::apply_step` says what each audience sees) and encodes each
    /// audience's frame once.
    pub(super) fn apply_polls(&mut self, core: &RoomCore, seq: Seq, events: &[PollEvent]) -> Frames {
        let views = poll::apply_step(&mut self.polls, events);
        if !views.answers_changed.is_empty() {
            self.tallies_dirty.extend(views.answers_changed.iter().cloned());
            self.votes_due.get_or_insert_with(|| Instant::now() + VOTE_FLUSH_INTERVAL);
        }
        let frame = |(changed, removed): (Vec<plenary_proto::PollView>, Vec<MessageId>)| {
            (!changed.is_empty() || !removed.is_empty())
                .then(|| core.event_frame(seq, RoomEvent::Polls { changed, removed }))
        };
        Frames { everyone: frame(views.audience), moderators: frame(views.moderators), users: HashMap::new() }
    }

    /// Every poll's results as `audience` may see them, for a member that resumed.
    pub(super) fn all_tallies_frame(&self, core: &RoomCore, moderator: bool) -> Option<Utf8Bytes> {
        let tallies: Vec<_> = self
            .polls
            .polls
            .values()
            .filter(|p| moderator || p.results_public())
            .filter_map(|p| self.polls.tally_view(&p.id))
            .collect();
        (!tallies.is_empty())
            .then(|| Utf8Bytes::from(ServerMsg::PollResults { room: core.id.clone(), tallies }.to_json()))
    }

    pub(super) fn snapshot_polls(&self, moderator: bool) -> Vec<plenary_proto::PollView> {
        self.polls
            .polls
            .values()
            .filter(|p| moderator || p.state != poll::PollState::Draft)
            .filter_map(|p| self.polls.view(&p.id, moderator))
            .collect()
    }

    pub(super) fn answers_of(&self, user: &UserId) -> Vec<plenary_proto::PollChoice> {
        self.polls
            .answers
            .iter()
            .filter_map(|(id, answers)| {
                let choices = answers.get(user)?;
                Some(plenary_proto::PollChoice { id: id.clone(), choices: choices.iter().copied().collect() })
            })
            .collect()
    }

    pub(super) fn flush_tallies(&mut self, core: &mut RoomCore) {
        let dirty = std::mem::take(&mut self.tallies_dirty);
        if dirty.is_empty() {
            return;
        }
        let tallies = |moderator: bool| -> Vec<plenary_proto::PollTally> {
            dirty
                .iter()
                .filter(|id| self.polls.polls.get(*id).is_some_and(|p| moderator || p.results_public()))
                .filter_map(|id| self.polls.tally_view(id))
                .collect()
        };
        let frame = |tallies: Vec<plenary_proto::PollTally>| {
            (!tallies.is_empty())
                .then(|| Utf8Bytes::from(ServerMsg::PollResults { room: core.id.clone(), tallies }.to_json()))
        };
        let frames =
            Frames { everyone: frame(tallies(false)), moderators: frame(tallies(true)), users: HashMap::new() };
        core.broadcast_frames(&frames);
    }

    /// A poll command: decided against the polls as the stream has them and published (on
    /// top of that state for moderator actions and answers that cannot change).
    pub(super) async fn poll_request(
        &mut self,
        core: &mut RoomCore,
        peer: &Arc<Peer>,
        identity: &Identity,
        rid: RequestId,
        request: PollRequest,
    ) -> Result<(), Refusal> {
        let moderator = self.membership(core, identity).can_moderate;
        let now = unix_millis();
        let (command, conditional) = match request {
            PollRequest::Create { question, options, multiple, changeable, results } => {
                let id = crate::domain::new_id();
                (PollCommand::Create { id, question, options, multiple, changeable, results }, false)
            }
            PollRequest::Control { id, version, action, results } => {
                let command = match action {
                    plenary_proto::PollAction::Open => PollCommand::Open { id, version },
                    plenary_proto::PollAction::Close => PollCommand::Close { id, version },
                    plenary_proto::PollAction::Delete => PollCommand::Delete { id, version },
                    plenary_proto::PollAction::SetResults => {
                        let Some(results) = results else {
                            return Err(Refusal::new(ErrorCode::BadRequest, "set_results needs results"));
                        };
                        PollCommand::SetResults { id, version, results }
                    }
                };
                (command, true)
            }
            PollRequest::Answer { id, choices } => {
                let fixed = self.polls.polls.get(&id).is_some_and(|p| !p.changeable);
                (PollCommand::Answer { id, choices }, fixed)
            }
        };
        let decide = |session: &SessionRoom, core: &RoomCore| {
            let events = poll::decide(&session.polls, identity.user(), moderator, command.clone(), now)
                .map_err(Refusal::from)?;
            let records = poll_records(core, &events, identity.user(), now);
            Ok((!events.is_empty()).then_some((StreamEvent::Polls { polls: events }, records)))
        };
        core.publish_decided(self, peer, rid, conditional, "polls", decide).await
    }
}

/// What the record keeps of a poll step this node published.
fn poll_records(core: &RoomCore, events: &[PollEvent], by: &UserId, at: i64) -> Vec<Record> {
    let room = &core.id;
    events
        .iter()
        .map(|event| match event {
            PollEvent::Put(poll) => Record::PollPut { room: room.clone(), poll: poll.clone(), by: by.clone() },
            PollEvent::Removed { id } => Record::PollRemoved { room: room.clone(), id: id.clone(), by: by.clone(), at },
            PollEvent::Answered { id, user, choices } => Record::PollAnswer {
                room: room.clone(),
                poll: id.clone(),
                voter: user.clone(),
                choices: choices.clone(),
                at,
            },
        })
        .collect()
}
