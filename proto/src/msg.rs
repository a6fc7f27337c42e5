//! The messages: [`ClientMsg`] from client to node and [`ServerMsg`] from node to client,
//! each a JSON object tagged by `type`. Times are Unix epoch milliseconds, except
//! `welcome.expires_at`, which is the token's `exp` in seconds. Unknown fields
//! are ignored, so a newer peer may add fields without breaking an older one.

use serde::{Deserialize, Serialize};

use crate::codes::ErrorCode;
use crate::ids::{ConnectionId, Epoch, MessageId, RequestId, RoomId, Seq, UserId};
use crate::views::*;

/// A message from a client to a node.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// The first frame on every connection: the protocol versions the client speaks and its
    /// token. Answered by `welcome`, or by a close frame.
    Hello { protocol: Vec<u16>, token: String },
    /// Replaces the connection's token before it expires. The new token must name the same
    /// user. Roles from the new token apply to later commands.
    Refresh { rid: RequestId, token: String },
    /// Joins a room. With `since`, asks for the events after that position instead of a
    /// full snapshot.
    Join {
        rid: RequestId,
        room: RoomId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<StreamPosition>,
    },
    /// Leaves a room.
    Leave { rid: RequestId, room: RoomId },
    /// Moderators and organisers: changes the stage's state, title or current speaker. A
    /// field left out is unchanged; an empty `speaker` clears the current speaker.
    StageUpdate {
        rid: RequestId,
        room: RoomId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        state: Option<StageState>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        speaker: Option<String>,
    },
    /// Posts a chat message.
    ChatSend { rid: RequestId, room: RoomId, text: String },
    /// Asks for older chat messages: those before `before` (or the newest when absent),
    /// newest last, at most `limit` (default and maximum 50).
    ChatHistory {
        rid: RequestId,
        room: RoomId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<MessageId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u16>,
    },
    /// Moderators, or the message's author: deletes a chat message for everyone.
    ChatDelete { rid: RequestId, room: RoomId, id: MessageId },
    /// Moderators: stops `user` from chatting in this room, for `minutes` or until unmuted.
    Mute {
        rid: RequestId,
        room: RoomId,
        user: UserId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        minutes: Option<u32>,
    },
    /// Moderators: lifts a mute.
    Unmute { rid: RequestId, room: RoomId, user: UserId },
    /// Organisers: posts an announcement to the event room.
    Announce { rid: RequestId, text: String },
    /// Asks a question in a session's Q&A. With `anonymous`, the audience does not see who
    /// asked (the node still knows).
    QaAsk {
        rid: RequestId,
        room: RoomId,
        text: String,
        #[serde(default, skip_serializing_if = "is_false")]
        anonymous: bool,
    },
    /// Votes for a question (`up: true`) or takes the vote back; one vote per user.
    QaVote { rid: RequestId, room: RoomId, id: MessageId, up: bool },
    /// The asker withdraws its own question (before it is highlighted).
    QaWithdraw { rid: RequestId, room: RoomId, id: MessageId },
    /// Asks for more of the questions the caller may see: those older than `before` (or the
    /// newest when absent), newest first, one page (at most 50 questions and 128 KiB).
    QaPage {
        rid: RequestId,
        room: RoomId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<MessageId>,
    },
    /// Moderators (and, for `highlight` of starred questions and `answered`, speakers):
    /// acts on a question at the `version` the caller saw; a stale version is `409 conflict`.
    QaModerate {
        rid: RequestId,
        room: RoomId,
        id: MessageId,
        version: u64,
        action: QaAction,
        /// `approve`: the edited text, when the moderator changed it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        /// `dismiss`: a short reason code, e.g. `off-topic`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// `merge`: the question this one duplicates, and the version of it the caller saw.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        into: Option<MessageId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        into_version: Option<u64>,
        /// `rank`: the position in the shortlist (lowest first); absent takes it off.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rank: Option<i64>,
    },
    /// Moderators: drafts a poll (2 to 10 options); only moderators see it until it opens.
    PollCreate {
        rid: RequestId,
        room: RoomId,
        question: String,
        options: Vec<String>,
        #[serde(default, skip_serializing_if = "is_false")]
        multiple: bool,
        #[serde(default, skip_serializing_if = "is_false")]
        changeable: bool,
        #[serde(default)]
        results: PollResults,
    },
    /// Moderators: opens, closes or deletes a poll, or changes who sees its results, at the
    /// `version` the caller saw.
    PollControl {
        rid: RequestId,
        room: RoomId,
        id: MessageId,
        version: u64,
        action: PollAction,
        /// `set_results`: the new visibility.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        results: Option<PollResults>,
    },
    /// Answers an open poll: option indexes (exactly one unless the poll is `multiple`).
    PollAnswer { rid: RequestId, room: RoomId, id: MessageId, choices: Vec<u8> },
    /// A booth's staff: sets the caller's status there (`available`, `busy` or `away`;
    /// `offline` is shown by the node, never chosen).
    BoothStatus { rid: RequestId, room: RoomId, status: StaffStatus },
    /// Asks to talk to a booth's staff. With nobody available, a `message` leaves a callback
    /// request instead (without one the answer is `409 conflict`).
    BoothRequest {
        rid: RequestId,
        room: RoomId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// The visitor cancels its own waiting request.
    BoothCancel { rid: RequestId, room: RoomId, id: MessageId },
    /// A booth's staff: takes a waiting request. The first to accept wins, on any node; a
    /// later accept is `409 conflict` ("taken"). The request then names its private `call`.
    BoothAccept { rid: RequestId, room: RoomId, id: MessageId },
    /// Asks for more of the booth's requests the caller may see: those made after `after`
    /// (or the oldest when absent), oldest first, one page (at most 50 requests and 128 KiB).
    BoothPage {
        rid: RequestId,
        room: RoomId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<MessageId>,
    },
    /// A call member: WebRTC signalling for one other member of the call, relayed to that
    /// member's connections (on any node) and to nobody else. The node does not read it.
    CallSignal { rid: RequestId, room: RoomId, to: UserId, signal: Signal },
    /// A speaker or moderator of a session whose stage is WebRTC: publish to the stage (an
    /// SDP offer, and the source each media line carries). Answered with `media_published`;
    /// sending it again renegotiates (a track added or stopped).
    MediaPublish { rid: RequestId, room: RoomId, sdp: String, tracks: Vec<PublishedTrack> },
    /// A member of the session: receive its stage over one peer connection. Answered with
    /// `media_offer`, which the client answers with `media_answer`.
    MediaView {
        rid: RequestId,
        room: RoomId,
        #[serde(default)]
        quality: StageQuality,
    },
    /// A viewer's answer to the last `media_offer` it got.
    MediaAnswer { rid: RequestId, room: RoomId, sdp: String },
    /// A viewer changes what it receives (audio only and back), without joining again.
    MediaQuality { rid: RequestId, room: RoomId, quality: StageQuality },
    /// Stops publishing and viewing this room's stage.
    MediaStop { rid: RequestId, room: RoomId },
    /// Raises (or lowers) the caller's hand to be brought on the WebRTC stage: the session's
    /// speakers in any session, everyone in an interactive one (a workshop, a special track
    /// session, other).
    StageHand { rid: RequestId, room: RoomId, raised: bool },
    /// A moderator brings `user` on the WebRTC stage (`on`: they may publish; their hand is
    /// lowered) or takes them off (their publishing stops).
    StageInvite { rid: RequestId, room: RoomId, user: UserId, on: bool },
}

impl ClientMsg {
    /// The request id, for every message that has one.
    pub fn rid(&self) -> Option<RequestId> {
        match self {
            ClientMsg::Hello { .. } => None,
            ClientMsg::Refresh { rid, .. }
            | ClientMsg::Join { rid, .. }
            | ClientMsg::Leave { rid, .. }
            | ClientMsg::StageUpdate { rid, .. }
            | ClientMsg::ChatSend { rid, .. }
            | ClientMsg::ChatHistory { rid, .. }
            | ClientMsg::ChatDelete { rid, .. }
            | ClientMsg::Mute { rid, .. }
            | ClientMsg::Unmute { rid, .. }
            | ClientMsg::Announce { rid, .. }
            | ClientMsg::QaAsk { rid, .. }
            | ClientMsg::QaVote { rid, .. }
            | ClientMsg::QaWithdraw { rid, .. }
            | ClientMsg::QaPage { rid, .. }
            | ClientMsg::QaModerate { rid, .. }
            | ClientMsg::PollCreate { rid, .. }
            | ClientMsg::PollControl { rid, .. }
            | ClientMsg::PollAnswer { rid, .. }
            | ClientMsg::BoothStatus { rid, .. }
            | ClientMsg::BoothRequest { rid, .. }
            | ClientMsg::BoothCancel { rid, .. }
            | ClientMsg::BoothAccept { rid, .. }
            | ClientMsg::BoothPage { rid, .. }
            | ClientMsg::CallSignal { rid, .. }
            | ClientMsg::MediaPublish { rid, .. }
            | ClientMsg::MediaView { rid, .. }
            | ClientMsg::MediaAnswer { rid, .. }
            | ClientMsg::MediaQuality { rid, .. }
            | ClientMsg::MediaStop { rid, .. }
            | ClientMsg::StageHand { rid, .. }
            | ClientMsg::StageInvite { rid, .. } => Some(*rid),
        }
    }
}

/// The part of a client frame a node can still read when the frame as a whole is not a
/// valid [`ClientMsg`], so the `error` can name the request it answers.
#[derive(Debug, Deserialize)]
pub struct RequestIdOnly {
    pub rid: Option<RequestId>,
}

/// A message from a node to a client.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// Accepts `hello`.
    Welcome {
        protocol: u16,
        connection: ConnectionId,
        user: UserProfile,
        roles: Vec<Role>,
        /// When the token expires, in Unix *seconds* (the JWT `exp`); `refresh` before then.
        expires_at: i64,
        limits: Limits,
    },
    /// The request `rid` succeeded.
    Ack { rid: RequestId },
    /// A request failed, or (with no `rid`) a frame could not be read at all.
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rid: Option<RequestId>,
        #[cfg_attr(feature = "ts", ts(type = "ErrorCode"))]
        code: ErrorCode,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    /// Answers `join` with the room's whole state. Every event with a `seq` greater than
    /// `seq` follows as an `event`.
    Snapshot {
        rid: RequestId,
        room: RoomId,
        epoch: Epoch,
        seq: Seq,
        /// Present when the join asked to resume: `false` says the missed events could not
        /// be replayed, so this snapshot replaces the client's state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recovered: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stage: Option<Stage>,
        attendance: Attendance,
        /// The newest chat messages, oldest first.
        chat: Vec<ChatMessage>,
        /// Whether older chat messages exist (ask with `chat_history`).
        chat_more: bool,
        /// In the event room: the latest announcements, oldest first.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        announcements: Vec<Announcement>,
        /// In a session room: the questions the caller may see (the top ones by votes and
        /// the newest; for moderators also the queue).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        questions: Vec<QuestionView>,
        /// Whether the caller may see more questions than this page holds (ask with
        /// `qa_page`, `before` the oldest one here).
        #[serde(default, skip_serializing_if = "is_false")]
        questions_more: bool,
        /// Which of the questions in this snapshot the caller has voted for.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        my_votes: Vec<MessageId>,
        /// In a session room: its polls (moderators also see drafts).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        polls: Vec<PollView>,
        /// The caller's answers to those polls.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        my_answers: Vec<PollChoice>,
        /// In a booth room: its staff and the requests the caller may see.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        booth: Option<BoothView>,
        /// In a call room: who the call is for.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        call: Option<CallInfo>,
        /// In a call room: the STUN and TURN servers (with this member's time-limited TURN
        /// credentials) for its peer connections.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        ice_servers: Vec<IceServer>,
        /// In a session room with a WebRTC stage: the tracks on it now.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        stage_tracks: Vec<StageTrack>,
        /// In a session room with a WebRTC stage: who a moderator brought on it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        on_stage: Vec<StageMember>,
        /// In a session room with a WebRTC stage: the raised hands, oldest first.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        hands: Vec<RaisedHand>,
        you: Membership,
    },
    /// Answers a `join` whose `since` could be served: exactly the `replayed` events after
    /// `since` follow as `event` frames, in order, then live events.
    Resumed { rid: RequestId, room: RoomId, epoch: Epoch, replayed: u32, attendance: Attendance, you: Membership },
    /// One event in a room's stream.
    Event { room: RoomId, seq: Seq, event: RoomEvent },
    /// The room's live attendance: sent at most once per second per room, and only when it
    /// changed. Not sequenced: only the latest value matters.
    Attendance { room: RoomId, attendance: Attendance },
    /// In the event room: the attendance of every session whose stage is live or on a
    /// break, sent every few seconds when it changed. Not sequenced.
    AttendanceSummary { sessions: Vec<SessionAttendance> },
    /// The room's stream restarted (the bus lost its history): positions in the old epoch
    /// mean nothing now. Join the room again (with `since`, which is answered with a
    /// `snapshot`, `recovered: false`) to reload it. Events in the new `epoch` may follow
    /// before that snapshot; the snapshot covers them.
    Resync { room: RoomId, epoch: Epoch },
    /// A session's vote counts that changed: sent at most a few times a second per room
    /// (coalesced), and once more when voting stops, so the counts are exact at rest. Not
    /// sequenced: only the latest value matters.
    QaVotes { room: RoomId, votes: Vec<QuestionVotes> },
    /// Poll results that changed, coalesced like `qa_votes`; a member gets only those it may
    /// see. Not sequenced.
    PollResults { room: RoomId, tallies: Vec<PollTally> },
    /// WebRTC signalling from another member of a call (`call_signal`'s `signal`). Not
    /// sequenced, not kept: a member that is not connected misses it.
    Signal { room: RoomId, from: UserId, signal: Signal },
    /// Answers `media_publish`: the node's SDP answer.
    MediaPublished { rid: RequestId, room: RoomId, sdp: String },
    /// An SDP offer for the caller's stage viewer connection: the answer to `media_view`
    /// (with its `rid`), or unasked (no `rid`) when the stage's tracks changed. Answer each
    /// with `media_answer`; one is out at a time.
    MediaOffer {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rid: Option<RequestId>,
        room: RoomId,
        sdp: String,
    },
    /// In the `expo` room: every booth's visitors and staff on duty over every node, sent
    /// every few seconds when it changed (and to each member that joins). Not sequenced.
    BoothSummary { booths: Vec<BoothCounts> },
    /// Answers `qa_page`: questions newest first, and which of them the caller voted for.
    QuestionsPage {
        rid: RequestId,
        room: RoomId,
        questions: Vec<QuestionView>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        my_votes: Vec<MessageId>,
        /// Whether still older questions exist.
        more: bool,
    },
    /// Answers `booth_page`: requests oldest first.
    BoothRequests {
        rid: RequestId,
        room: RoomId,
        requests: Vec<ContactRequestView>,
        /// Whether still newer requests exist.
        more: bool,
    },
    /// Answers `chat_history`: messages oldest first.
    ChatHistory {
        rid: RequestId,
        room: RoomId,
        messages: Vec<ChatMessage>,
        /// Whether still older messages exist.
        more: bool,
    },
}

/// An event in a room's stream.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RoomEvent {
    /// The stage changed; `stage` is its whole new state.
    Stage { stage: Stage, by: UserId },
    /// A chat message was posted.
    Chat { message: ChatMessage },
    /// A chat message was deleted: clients remove it.
    ChatDeleted { id: MessageId, by: UserId },
    /// A user may not chat in this room until `until` (or until unmuted when absent).
    UserMuted {
        user: UserId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<i64>,
        by: UserId,
    },
    /// A mute was lifted.
    UserUnmuted { user: UserId, by: UserId },
    /// An organiser's announcement, in the event room.
    Announcement { announcement: Announcement },
    /// Questions were asked or changed (`changed`: each one's whole new view), or left the
    /// member's view (`removed`: deleted, or hidden from the audience), in one step. A member
    /// receives only what it may see (public questions; moderators every one; an asker its
    /// own), so a member may see gaps in `seq` where a step concerned nobody it may see.
    Questions {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        changed: Vec<QuestionView>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        removed: Vec<MessageId>,
    },
    /// Polls were drafted, opened, closed or changed (`changed`: whole views), or deleted
    /// (`removed`). Drafts reach moderators only.
    Polls {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        changed: Vec<PollView>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        removed: Vec<MessageId>,
    },
    /// In a booth room: staff whose status changed and requests that changed, as whole
    /// views. Staff receive every request; a visitor only its own (and a new `position`
    /// when the queue moves), so a visitor may see gaps in `seq`.
    Booth {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        staff: Vec<StaffView>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        requests: Vec<ContactRequestView>,
    },
    /// In a call room: the call was opened for `call.members` (the first event of its stream).
    CallOpened { call: CallInfo },
    /// In a green room: `member` came in (its first connection); it is in `call.members` now.
    CallJoined { member: UserProfile },
    /// In a green room: `user` left (its last connection anywhere closed).
    CallLeft { user: UserId },
    /// The tracks on the session's WebRTC stage now (a speaker published, stopped or left).
    StageTracks { tracks: Vec<StageTrack> },
    /// Who is on the WebRTC stage's lineup and whose hand is raised, after either changed.
    StageLineup { on_stage: Vec<StageMember>, hands: Vec<RaisedHand> },
}

impl ServerMsg {
    /// Encodes the message as the text of one WebSocket frame.
    pub fn to_json(&self) -> String {
        // Every field is a plain string, number, bool or nested struct of those, so
        // serialisation cannot fail.
        serde_json::to_string(self).expect("ServerMsg always serialises")
    }
}

impl ClientMsg {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("ClientMsg always serialises")
    }
}
