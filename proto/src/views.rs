//! The values messages carry: questions, polls, booths and calls, stages, chat messages,
//! people and their rights, attendance and limits. `msg` holds the messages themselves.

use serde::{Deserialize, Serialize};

use crate::ids::{Epoch, MessageId, RoomId, Seq, UserId};

/// WebRTC signalling between two members of a call (perfect negotiation).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Signal {
    /// The sender is in the call and ready to connect; `reply` when answering a `ready`
    /// (which is not answered again).
    Ready {
        #[serde(default, skip_serializing_if = "is_false")]
        reply: bool,
    },
    /// A session description offer (`RTCSessionDescription.sdp`).
    Offer {
        sdp: String,
    },
    Answer {
        sdp: String,
    },
    /// A trickled ICE candidate (`RTCIceCandidate`'s fields).
    Candidate {
        candidate: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sdp_mid: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sdp_m_line_index: Option<u16>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        username_fragment: Option<String>,
    },
    /// No more candidates for the current ICE generation.
    EndOfCandidates,
    /// Asks the peer to restart ICE (its connection failed on the sender's side).
    Restart,
    /// The sender's microphone and camera state.
    Media {
        audio: bool,
        video: bool,
    },
    /// The sender leaves the call: close the connection to it.
    Bye,
}

/// A booth staff member's status as visitors see it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffStatus {
    Available,
    Busy,
    Away,
    /// Every tab closed for longer than the grace period (or never connected).
    Offline,
}

/// One of a booth's staff.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffView {
    pub user: UserId,
    pub name: String,
    pub status: StaffStatus,
}

/// How a visitor asked to talk.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    /// Someone was on duty: the visitor waits in the queue.
    Live,
    /// Nobody was: the visitor left a message to be called back.
    Callback,
}

/// Where a contact request is.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactState {
    Waiting,
    Accepted,
    /// By the visitor, or by the node when the visitor left the booth for longer than the
    /// grace period.
    Cancelled,
}

/// A contact request as a booth's staff, or the visitor who made it, sees it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRequestView {
    pub id: MessageId,
    pub visitor: UserProfile,
    pub kind: ContactKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub state: ContactState,
    /// A waiting live request's place in the queue, from 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_by: Option<UserProfile>,
    /// An accepted request's private room (join it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<RoomId>,
    /// A cancelled request: `true` when the visitor cancelled it, `false` when it lapsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_by_visitor: Option<bool>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A booth's staff and the requests the member may see.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoothView {
    pub staff: Vec<StaffView>,
    /// Staff: every waiting request and those accepted or cancelled lately. A visitor: its
    /// own.
    pub requests: Vec<ContactRequestView>,
    /// Whether the caller may see more requests than this page holds (ask with
    /// `booth_page`, `after` the last one here).
    #[serde(default, skip_serializing_if = "is_false")]
    pub more: bool,
}

/// Who a call is for: a private call's two members, or the people in a green room now.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallInfo {
    pub members: Vec<UserProfile>,
    /// The booth whose request opened the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booth: Option<String>,
    pub opened_at: i64,
}

/// A STUN or TURN server a call member's browser may use (an `RTCIceServer`).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    /// TURN: `<expiry unix seconds>:<user id>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN: base64 HMAC-SHA1 of `username` with the TURN server's shared secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// One line of a `booth_summary`.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoothCounts {
    /// The booth's id in the programme (its room is `booth:<id>`).
    pub booth: String,
    /// Connections at the booth over every node, its staff not counted.
    pub visitors: u32,
    /// Staff members available now.
    pub staff_on_duty: u32,
}

/// A poll, as one member sees it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollView {
    pub id: MessageId,
    pub question: String,
    pub options: Vec<String>,
    /// Several options may be chosen.
    pub multiple: bool,
    /// An answer may be changed while the poll is open.
    pub changeable: bool,
    pub results: PollResults,
    pub state: PollState,
    /// Name this version in `poll_control`.
    pub version: u64,
    pub created_at: i64,
    pub updated_at: i64,
    /// The results, when this member may see them (moderators always).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tally: Option<PollTally>,
}

/// `draft → open → closed`.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PollState {
    Draft,
    Open,
    Closed,
}

/// When the audience sees a poll's results: while it is open, after it closes, or never.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PollResults {
    Live,
    #[default]
    AfterClose,
    Hidden,
}

/// What a moderator does to a poll.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PollAction {
    Open,
    Close,
    SetResults,
    Delete,
}

/// A poll's results.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollTally {
    pub id: MessageId,
    /// Voters per option, in the order of `options`.
    pub counts: Vec<u32>,
    /// Users who answered.
    pub voters: u32,
}

/// The caller's answer to a poll.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollChoice {
    pub id: MessageId,
    pub choices: Vec<u8>,
}

pub(crate) fn is_false(value: &bool) -> bool {
    !*value
}

/// What a moderator does to a question.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QaAction {
    Approve,
    Dismiss,
    Restore,
    Hide,
    Unhide,
    Highlight,
    Unhighlight,
    Answered,
    Reopen,
    Merge,
    Star,
    Unstar,
    Rank,
    Delete,
}

/// Where a question is in its life cycle.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionState {
    Pending,
    Published,
    Hidden,
    Live,
    Answered,
    Dismissed,
    Withdrawn,
    Merged,
}

/// A question as one member sees it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionView {
    pub id: MessageId,
    pub text: String,
    pub state: QuestionState,
    /// Name this version in moderator actions.
    pub version: u64,
    pub votes: u32,
    /// Absent for an anonymous question (except to the asker itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asker: Option<UserProfile>,
    /// Moderators only: on the shortlist.
    #[serde(default, skip_serializing_if = "is_false")]
    pub starred: bool,
    /// Moderators only: position in the shortlist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<i64>,
    /// Moderators and the asker: why it was dismissed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dismiss_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<MessageId>,
    pub asked_at: i64,
    pub updated_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_by: Option<UserId>,
}

/// One line of `qa_votes`.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionVotes {
    pub id: MessageId,
    pub votes: u32,
}

/// An organiser's message to everyone at the event.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    pub text: String,
    pub by: UserProfile,
    pub at: i64,
}

/// A session's stage: what is on it and what state it is in.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    pub state: StageState,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    /// When the stage first went live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<i64>,
    /// When the stage ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<i64>,
    /// When anything on the stage last changed.
    pub updated_at: i64,
}

/// `scheduled → live ⇄ break → ended` (a live stage may also end directly).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageState {
    Scheduled,
    Live,
    Break,
    Ended,
}

/// A chat message as every member sees it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub id: MessageId,
    pub author: UserProfile,
    pub text: String,
    pub at: i64,
}

/// A user as others see them.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserProfile {
    pub id: UserId,
    pub name: String,
    /// ISO 3166-1 alpha-2, when the user gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// A role granted by the token.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Attendee,
    Speaker,
    Exhibitor,
    Moderator,
    Organiser,
}

impl Role {
    pub const ALL: &'static [Role] =
        &[Role::Attendee, Role::Speaker, Role::Exhibitor, Role::Moderator, Role::Organiser];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Attendee => "attendee",
            Role::Speaker => "speaker",
            Role::Exhibitor => "exhibitor",
            Role::Moderator => "moderator",
            Role::Organiser => "organiser",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        Role::ALL.iter().copied().find(|r| r.as_str() == value)
    }
}

/// What the caller may do in one room.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// The caller's highest role that applies in this room.
    pub role: Role,
    pub can_chat: bool,
    pub can_moderate: bool,
    pub can_manage_stage: bool,
    pub can_announce: bool,
    /// In a booth room: the caller is one of its staff (sets its status, takes its requests,
    /// moderates its chat).
    #[serde(default, skip_serializing_if = "is_false")]
    pub booth_staff: bool,
}

/// A room's attendance.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendance {
    /// Connected members now (a user with two tabs counts once per tab).
    pub present: u32,
    /// Distinct users who have joined since the room opened on this node.
    pub unique: u32,
}

/// One line of an `attendance_summary`.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionAttendance {
    pub room: RoomId,
    pub state: StageState,
    pub present: u32,
}

/// A position in a room's stream, as a client remembers it for resuming.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamPosition {
    pub epoch: Epoch,
    pub seq: Seq,
}

/// The node's limits, so a client can stay within them.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest frame the node reads; a larger one closes the connection with 1009.
    pub max_message_bytes: u32,
    /// Rooms one connection may be in at once.
    pub max_rooms: u32,
    /// Longest chat message, in characters.
    pub chat_max_chars: u32,
    /// Sustained commands per second per connection.
    pub commands_per_second: u32,
    /// Largest frame the node sends. Every answer and snapshot is paged to stay well below
    /// it; a frame that would exceed it is replaced by an `error` (code 500).
    pub max_frame_bytes: u32,
}

/// What a track on a session's WebRTC stage carries.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackSource {
    Camera,
    Microphone,
    Screen,
}

/// A track on a session's WebRTC stage, as viewers lay it out.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageTrack {
    /// Unique on the stage; the `msid` track id of the track in the viewer's SDP.
    pub id: String,
    /// Who publishes it (the `msid` stream id of all of their tracks).
    pub user: UserId,
    /// Their display name.
    pub name: String,
    pub source: TrackSource,
    /// The simulcast layers the speaker sends (`rid`s), lowest first; empty: one layer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<String>,
}

/// Which source a publisher's media line (`mid`) carries.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedTrack {
    pub mid: String,
    pub source: TrackSource,
}

/// What a viewer receives of the stage.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageQuality {
    /// The best layer the viewer's bandwidth allows.
    #[default]
    Auto,
    /// The lowest layer.
    Low,
    /// No video at all.
    AudioOnly,
}

/// Someone a moderator brought on a session's WebRTC stage: they may publish to it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageMember {
    pub user: UserId,
    pub name: String,
}

/// A raised hand: someone asking to be brought on the stage.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaisedHand {
    pub user: UserId,
    pub name: String,
    /// One of the session's speakers (ready to go on), rather than an attendee.
    pub speaker: bool,
    /// Unix ms.
    pub at: i64,
}
