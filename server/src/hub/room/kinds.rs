//! What a kind of room adds to the room core, behind one small interface: who may enter and
//! with what rights ([`RoomKindState::admit`], [`RoomKindState::membership`]), the requests
//! it takes, how it applies the stream ([`StreamState`]), what a joining member's snapshot
//! holds of it, and its presence rounds and timers.
//!
//! [`KindState`] is the registry: one variant per kind, each kind's state in a file of its
//! own. Adding a kind means one file and its line in [`KindState`] (the variant, the
//! constructor's arm and the [`dispatch!`] macro's arm).

use std::time::Duration;

use plenary_proto::{
    Announcement, BoothView, CallInfo, IceServer, Membership, MessageId, PollChoice, PollView, QuestionView, Seq, Stage,
};

use super::booth::BoothRoom;
use super::call::CallRoom;
use super::event::EventRoom;
use super::expo::ExpoRoom;
use super::green::GreenRoom;
use super::session::SessionRoom;
use super::*;
use crate::domain::permissions::membership;
use crate::store::StoredRoom;

/// How a kind's state follows the room's stream. Object safe: the stream machinery in the
/// core holds the state as `&mut dyn StreamState`.
pub(super) trait StreamState: Send {
    /// Applies a room event (the core has applied what it changes of the chat).
    fn apply_event(&mut self, _core: &RoomCore, _event: &RoomEvent) {}

    /// Applies a board step and builds what each audience sees of it.
    fn apply_step(&mut self, _core: &RoomCore, _seq: Seq, _step: &StreamEvent) -> Frames {
        Frames::default()
    }

    /// Takes what the record keeps for this kind (the core took the chat and mutes).
    fn restore(&mut self, _core: &RoomCore, _stored: StoredRoom) {}

    /// Starts over empty: the room fell behind what the bus holds and loads again.
    fn reset(&mut self, core: &RoomCore);
}

/// What a joining member's snapshot holds of the room's kind.
#[derive(Default)]
pub(super) struct KindSnapshot {
    pub(super) stage: Option<Stage>,
    pub(super) announcements: Vec<Announcement>,
    pub(super) questions: Vec<QuestionView>,
    pub(super) questions_more: bool,
    pub(super) my_votes: Vec<MessageId>,
    pub(super) polls: Vec<PollView>,
    pub(super) my_answers: Vec<PollChoice>,
    pub(super) booth: Option<BoothView>,
    pub(super) call: Option<CallInfo>,
    pub(super) ice_servers: Vec<IceServer>,
    pub(super) stage_tracks: Vec<plenary_proto::StageTrack>,
    pub(super) on_stage: Vec<plenary_proto::StageMember>,
    pub(super) hands: Vec<plenary_proto::RaisedHand>,
}

/// The interface every kind of room answers. Everything has a default but `request`, so a
/// kind states only what it adds.
pub(super) trait RoomKindState: StreamState {
    /// The caller's rights in this room.
    fn membership(&self, core: &RoomCore, identity: &Identity) -> Membership {
        membership(identity, &core.id, false)
    }

    /// Whether a member with these rights gets the privileged audience's frames.
    fn privileged(&self, you: &Membership) -> bool {
        you.can_moderate
    }

    /// Whether members of the privileged audience count in the attendance.
    fn privileged_are_attendees(&self) -> bool {
        true
    }

    /// Before admitting anyone: what the kind must read first.
    async fn prepare(&mut self, _core: &mut RoomCore) {}

    /// Whether `identity` may join.
    fn admit(&self, _core: &RoomCore, _identity: &Identity) -> Result<(), Refusal> {
        Ok(())
    }

    /// After admission and before the snapshot: a place the kind must take for the member
    /// (on the stream, so every node agrees).
    async fn enter(&mut self, _core: &mut RoomCore, _identity: &Identity) -> Result<(), Refusal> {
        Ok(())
    }

    /// What a joining member's snapshot holds of this kind.
    fn snapshot(&self, _core: &RoomCore, _identity: &Identity, _moderator: bool) -> KindSnapshot {
        KindSnapshot::default()
    }

    /// What a resuming member gets after the replay: what is not replayed one by one.
    fn resume_frames(&self, _core: &RoomCore, _moderator: bool) -> Vec<Utf8Bytes> {
        Vec::new()
    }

    /// After a member's snapshot or replay.
    async fn joined(&mut self, _core: &mut RoomCore, _peer: &Arc<Peer>, _identity: &Identity) {}

    /// A request that is not the core's (chat is).
    async fn request(
        &mut self,
        core: &mut RoomCore,
        peer: &Arc<Peer>,
        identity: &Identity,
        rid: RequestId,
        request: RoomRequest,
    ) -> Result<(), Refusal>;

    /// Members came or went: the figures the hub reads without asking the actor.
    fn members_changed(&self, _core: &RoomCore) {}

    /// A presence round: the watched users connected on any live node, sorted.
    async fn presence_round(&mut self, _core: &mut RoomCore, _everywhere: Vec<UserId>) {}

    /// When the kind next has coalesced work to send.
    fn due(&self) -> Option<Instant> {
        None
    }

    /// Sends the coalesced work that is due.
    fn on_due(&mut self, _core: &mut RoomCore) {}

    /// How long the room stays after its last member left.
    fn idle_ttl(&self, default: Duration) -> Duration {
        default
    }
}

/// The refusal for a request this kind of room does not take.
pub(super) fn unsupported(room: &RoomId, request: &RoomRequest) -> Refusal {
    let what = match request {
        RoomRequest::Stage(_) => "has no stage",
        RoomRequest::Qa(_) | RoomRequest::QaPage { .. } => "has no Q&A",
        RoomRequest::Poll(_) => "has no polls",
        RoomRequest::Booth(_) | RoomRequest::BoothPage { .. } => "is not a booth",
        RoomRequest::Signal { .. } => "is not a call",
        RoomRequest::Media(_) | RoomRequest::Lineup(_) => "has no WebRTC stage",
        RoomRequest::Announce { .. } => "takes no announcements",
        RoomRequest::Chat(_) => "has no chat",
    };
    Refusal::new(ErrorCode::NotFound, format!("{room} {what}"))
}

/// The state of a room's kind.
pub(super) enum KindState {
    Event(EventRoom),
    Session(SessionRoom),
    Expo(ExpoRoom),
    Booth(BoothRoom),
    Call(CallRoom),
    Green(GreenRoom),
}

impl KindState {
    pub(super) fn new(kind: RoomKind, core: &RoomCore) -> KindState {
        match kind {
            RoomKind::Event => KindState::Event(EventRoom::default()),
            RoomKind::Session => KindState::Session(SessionRoom::new(core)),
            RoomKind::Expo => KindState::Expo(ExpoRoom),
            RoomKind::Booth => KindState::Booth(BoothRoom::new(core)),
            RoomKind::Call => KindState::Call(CallRoom::default()),
            RoomKind::Green => KindState::Green(GreenRoom::new()),
        }
    }
}

/// Calls the same method on whichever kind's state this is.
macro_rules! dispatch {
    ($state:expr, $kind:ident => $call:expr) => {
        match $state {
            KindState::Event($kind) => $call,
            KindState::Session($kind) => $call,
            KindState::Expo($kind) => $call,
            KindState::Booth($kind) => $call,
            KindState::Call($kind) => $call,
            KindState::Green($kind) => $call,
        }
    };
}

impl StreamState for KindState {
    fn apply_event(&mut self, core: &RoomCore, event: &RoomEvent) {
        dispatch!(self, kind => kind.apply_event(core, event))
    }

    fn apply_step(&mut self, core: &RoomCore, seq: Seq, step: &StreamEvent) -> Frames {
        dispatch!(self, kind => kind.apply_step(core, seq, step))
    }

    fn restore(&mut self, core: &RoomCore, stored: StoredRoom) {
        dispatch!(self, kind => kind.restore(core, stored))
    }

    fn reset(&mut self, core: &RoomCore) {
        dispatch!(self, kind => kind.reset(core))
    }
}

impl RoomKindState for KindState {
    fn membership(&self, core: &RoomCore, identity: &Identity) -> Membership {
        dispatch!(self, kind => kind.membership(core, identity))
    }

    fn privileged(&self, you: &Membership) -> bool {
        dispatch!(self, kind => kind.privileged(you))
    }

    fn privileged_are_attendees(&self) -> bool {
        dispatch!(self, kind => kind.privileged_are_attendees())
    }

    async fn prepare(&mut self, core: &mut RoomCore) {
        dispatch!(self, kind => kind.prepare(core).await)
    }

    fn admit(&self, core: &RoomCore, identity: &Identity) -> Result<(), Refusal> {
        dispatch!(self, kind => kind.admit(core, identity))
    }

    async fn enter(&mut self, core: &mut RoomCore, identity: &Identity) -> Result<(), Refusal> {
        dispatch!(self, kind => kind.enter(core, identity).await)
    }

    fn snapshot(&self, core: &RoomCore, identity: &Identity, moderator: bool) -> KindSnapshot {
        dispatch!(self, kind => kind.snapshot(core, identity, moderator))
    }

    fn resume_frames(&self, core: &RoomCore, moderator: bool) -> Vec<Utf8Bytes> {
        dispatch!(self, kind => kind.resume_frames(core, moderator))
    }

    async fn joined(&mut self, core: &mut RoomCore, peer: &Arc<Peer>, identity: &Identity) {
        dispatch!(self, kind => kind.joined(core, peer, identity).await)
    }

    async fn request(
        &mut self,
        core: &mut RoomCore,
        peer: &Arc<Peer>,
        identity: &Identity,
        rid: RequestId,
        request: RoomRequest,
    ) -> Result<(), Refusal> {
        dispatch!(self, kind => kind.request(core, peer, identity, rid, request).await)
    }

    fn members_changed(&self, core: &RoomCore) {
        dispatch!(self, kind => kind.members_changed(core))
    }

    async fn presence_round(&mut self, core: &mut RoomCore, everywhere: Vec<UserId>) {
        dispatch!(self, kind => kind.presence_round(core, everywhere).await)
    }

    fn due(&self) -> Option<Instant> {
        dispatch!(self, kind => kind.due())
    }

    fn on_due(&mut self, core: &mut RoomCore) {
        dispatch!(self, kind => kind.on_due(core))
    }

    fn idle_ttl(&self, default: Duration) -> Duration {
        dispatch!(self, kind => kind.idle_ttl(default))
    }
}

#[cfg(test)]
mod tests {
    use plenary_proto::{MessageId, StaffStatus};

    use super::*;
    use crate::domain::stage::StageChange;

    #[test]
    fn a_room_refuses_what_its_kind_does_not_take_saying_what_it_lacks() {
        let id = || MessageId::parse("m1").unwrap();
        let cases: Vec<(RoomRequest, &str)> = vec![
            (RoomRequest::Stage(StageChange { state: None, title: None, speaker: None }), "booth:itu has no stage"),
            (RoomRequest::Qa(QaRequest::Withdraw { id: id() }), "booth:itu has no Q&A"),
            (RoomRequest::QaPage { before: None }, "booth:itu has no Q&A"),
            (RoomRequest::Poll(PollRequest::Answer { id: id(), choices: vec![0] }), "booth:itu has no polls"),
            (RoomRequest::Booth(BoothRequest::Status { status: StaffStatus::Away }), "booth:itu is not a booth"),
            (RoomRequest::BoothPage { after: None }, "booth:itu is not a booth"),
            (RoomRequest::Announce { text: "Hi".into() }, "booth:itu takes no announcements"),
        ];
        let room = RoomId::booth("itu").unwrap();
        for (request, message) in cases {
            let refusal = unsupported(&room, &request);
            assert_eq!((refusal.code, refusal.message.as_str()), (ErrorCode::NotFound, message));
        }
    }
}
