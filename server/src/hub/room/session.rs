//! A session room (`session:<slug>`): the stage with its state and title, the moderated
//! Q&A board (`questions`) and the polls (`polls`), with their vote counts and results
//! coalesced and sent at most every [`VOTE_FLUSH_INTERVAL`].

use std::collections::BTreeSet;

use plenary_proto::{MessageId, RaisedHand, Stage, StageMember, StageState, StageTrack};

use super::kinds::{KindSnapshot, RoomKindState, unsupported};
use super::*;
use crate::domain::poll::PollBoard;
use crate::domain::qa::QaBoard;
use crate::domain::stage;
use crate::store::StoredRoom;

/// How long vote counts are gathered before they go out.
pub(super) const VOTE_FLUSH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(250);

/// A session room's own state.
pub(super) struct SessionRoom {
    pub(super) stage: Option<Stage>,
    pub(super) qa: QaBoard,
    pub(super) polls: PollBoard,
    /// Polls whose results changed since the last `poll_results`.
    pub(super) tallies_dirty: BTreeSet<MessageId>,
    /// Questions whose vote counts changed since the last `qa_votes`.
    pub(super) votes_dirty: BTreeSet<MessageId>,
    pub(super) votes_due: Option<Instant>,
    /// The tracks on the WebRTC stage now.
    pub(super) stage_tracks: Vec<StageTrack>,
    /// Who a moderator brought on the WebRTC stage.
    pub(super) lineup: Vec<StageMember>,
    /// Raised hands, oldest first.
    pub(super) hands: Vec<RaisedHand>,
}

impl SessionRoom {
    pub(super) fn new(core: &RoomCore) -> SessionRoom {
        SessionRoom {
            stage: None,
            qa: QaBoard::new(core.ctx.settings.qa_moderated),
            polls: PollBoard::default(),
            tallies_dirty: BTreeSet::new(),
            votes_dirty: BTreeSet::new(),
            votes_due: None,
            stage_tracks: Vec::new(),
            lineup: Vec::new(),
            hands: Vec::new(),
        }
    }

    /// The session's slug (the room id without `session:`).
    pub(super) fn slug(core: &RoomCore) -> &str {
        core.id.name()
    }

    /// The stage as the stream has it, or as the programme schedules it.
    pub(super) fn current_stage(&self, core: &RoomCore) -> Stage {
        self.stage.clone().unwrap_or_else(|| {
            let slug = Self::slug(core);
            let title = core.ctx.sessions.as_ref().and_then(|s| s.title(slug)).unwrap_or_else(|| slug.to_owned());
            stage::initial(&title, 0)
        })
    }

    /// A stage change: validated against this node's view of the stage and published only
    /// if the room's stream has not moved since: a transition another node published
    /// meanwhile is applied first and this one validated again, so two moderators on two
    /// nodes cannot both end, or both resume, the same stage.
    async fn change_stage(
        &mut self,
        core: &mut RoomCore,
        peer: &Arc<Peer>,
        identity: &Identity,
        rid: RequestId,
        change: stage::StageChange,
    ) -> Result<(), Refusal> {
        if !self.membership(core, identity).can_manage_stage {
            return Err(Refusal::new(ErrorCode::Forbidden, "only moderators and organisers manage the stage"));
        }
        let now = unix_millis();
        for _ in 0..PUBLISH_ATTEMPTS {
            let next = stage::apply(&self.current_stage(core), change.clone(), now)?;
            let ended = next.state == StageState::Ended;
            let event = RoomEvent::Stage { stage: next, by: identity.user().clone() };
            if core.publish_if_current(self, StreamEvent::Room(event)).await? {
                core.ack(peer, rid);
                if ended {
                    self.end_qa(core, identity).await;
                }
                return Ok(());
            }
            core.catch_up(self, None).await;
        }
        Err(Refusal::new(ErrorCode::Conflict, "the stage kept changing meanwhile; try again"))
    }
}

impl StreamState for SessionRoom {
    fn apply_event(&mut self, core: &RoomCore, event: &RoomEvent) {
        match event {
            RoomEvent::Stage { stage, .. } => {
                let ended_now = stage.state == StageState::Ended
                    && self.stage.as_ref().is_none_or(|s| s.state != StageState::Ended);
                core.stats.set_stage_state(stage.state);
                self.stage = Some(stage.clone());
                if ended_now {
                    self.lineup.clear();
                    self.hands.clear();
                }
                if ended_now && let Some(media) = core.ctx.media.clone() {
                    // The session is over: its speakers stop and its viewers with them, on
                    // every node (each applies the event).
                    let room = core.id.clone();
                    core.ctx.tracker.spawn(async move { media.stop_room(&room).await });
                }
            }
            RoomEvent::StageTracks { tracks } => self.stage_tracks = tracks.clone(),
            RoomEvent::StageLineup { on_stage, hands } => self.apply_lineup(core, on_stage, hands),
            _ => {}
        }
    }

    fn apply_step(&mut self, core: &RoomCore, seq: Seq, step: &StreamEvent) -> Frames {
        match step {
            StreamEvent::Qa { qa } => self.apply_qa(core, seq, qa),
            StreamEvent::Polls { polls } => self.apply_polls(core, seq, polls),
            StreamEvent::Room(_) | StreamEvent::Booth { .. } => Frames::default(),
        }
    }

    fn restore(&mut self, core: &RoomCore, stored: StoredRoom) {
        if let Some(stage) = stored.stage {
            core.stats.set_stage_state(stage.state);
            self.stage = Some(stage);
        }
        for question in stored.questions {
            self.qa.questions.insert(question.id.clone(), question);
        }
        for poll in stored.polls {
            self.polls.polls.insert(poll.id.clone(), poll);
        }
        for (poll, user, choices) in stored.poll_answers {
            self.polls.answers.entry(poll).or_default().insert(user, choices);
        }
        self.qa.voting_closed = self.stage.as_ref().is_some_and(|s| s.state == StageState::Ended);
    }

    fn reset(&mut self, core: &RoomCore) {
        *self = SessionRoom::new(core);
    }
}

impl RoomKindState for SessionRoom {
    fn snapshot(&self, core: &RoomCore, identity: &Identity, moderator: bool) -> KindSnapshot {
        let (questions, questions_more, my_votes) = self.snapshot_questions(core, identity.user(), moderator);
        KindSnapshot {
            stage: Some(self.current_stage(core)),
            questions,
            questions_more,
            my_votes,
            polls: self.snapshot_polls(moderator),
            my_answers: self.answers_of(identity.user()),
            stage_tracks: self.stage_tracks.clone(),
            on_stage: self.lineup.clone(),
            hands: self.hands.clone(),
            ..KindSnapshot::default()
        }
    }

    fn resume_frames(&self, core: &RoomCore, moderator: bool) -> Vec<Utf8Bytes> {
        self.all_votes_frame(core).into_iter().chain(self.all_tallies_frame(core, moderator)).collect()
    }

    async fn request(
        &mut self,
        core: &mut RoomCore,
        peer: &Arc<Peer>,
        identity: &Identity,
        rid: RequestId,
        request: RoomRequest,
    ) -> Result<(), Refusal> {
        match request {
            RoomRequest::Stage(change) => self.change_stage(core, peer, identity, rid, change).await,
            RoomRequest::Qa(request) => self.qa_request(core, peer, identity, rid, request).await,
            RoomRequest::QaPage { before } => self.questions_page(core, peer, identity, rid, before.as_ref()),
            RoomRequest::Poll(request) => self.poll_request(core, peer, identity, rid, request).await,
            RoomRequest::Media(request) => self.media_request(core, peer, identity, rid, request),
            RoomRequest::Lineup(request) => self.lineup_request(core, peer, identity, rid, request).await,
            request => Err(unsupported(&core.id, &request)),
        }
    }

    fn due(&self) -> Option<Instant> {
        self.votes_due
    }

    fn on_due(&mut self, core: &mut RoomCore) {
        self.flush_votes(core);
    }
}
