//! The room actor: one task per room owns all of the room's state (members, stage, chat,
//! mutes, sequence, resume window, attendance) and takes [`RoomCmd`]s from a bounded
//! mailbox, so no lock guards room state and nothing is held across an `.await`.
//!
//! A command that changes the room becomes a [`RoomEvent`], published to the bus, which
//! gives it the room stream's next sequence number. The actor then applies the event to its
//! state, encodes the `event` frame once and queues the same bytes to every local member.
//! Events published by other nodes arrive as [`RoomCmd::Deliver`] and take the same path.

mod booth;
mod green;
mod pages;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};

use axum::extract::ws::Utf8Bytes;
pub use booth::BoothRequest;
use booth::BoothRoom;
use bytes::Bytes;
pub use green::GREEN_ROOM_CAPACITY;
use green::GreenRoom;
use plenary_proto::{
    Announcement, Attendance, CallInfo, ChatMessage, Epoch, ErrorCode, Membership, MessageId, QaAction, QuestionVotes,
    RequestId, Role, RoomEvent, RoomId, RoomKind, Seq, ServerMsg, Stage, StageState, StreamPosition, UserId,
};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::peer::{Peer, PeerId, Undeliverable};
use super::{Hub, HubContext};
use crate::auth::Identity;
use crate::bus::Publication;
use crate::clock::unix_millis;
use crate::domain::attendance::AttendanceCoalescer;
use crate::domain::booth::BoothEvent;
use crate::domain::chat::{self, ChatError, ChatLog, MemoryChatLog};
use crate::domain::page;
use crate::domain::permissions::membership;
use crate::domain::poll::{self, PollBoard, PollCommand, PollError, PollEvent};
use crate::domain::qa::{self, Actor, Audience, QaBoard, QaCommand, QaError, QaEvent, StateRules};
use crate::domain::rate::TokenBucket;
use crate::domain::replay::ReplayWindow;
use crate::domain::stage::{self, StageChange, StageError};
use crate::metrics::ReasonLabel;
use crate::store::Record;

/// Chat messages in a snapshot and the largest `chat_history` page.
pub const CHAT_PAGE: usize = 50;
/// Announcements kept for the event room's snapshot.
const ANNOUNCEMENTS_KEPT: usize = 20;
/// Longest announcement, in characters.
const ANNOUNCEMENT_MAX_CHARS: usize = 2_000;
/// Tries at publishing a stage change while other nodes keep publishing first.
const STAGE_ATTEMPTS: usize = 5;
/// How long a call room whose call is unknown stays after a refused join.
const UNKNOWN_CALL_TTL: std::time::Duration = std::time::Duration::from_secs(1);
/// Longest mute, in minutes (a week).
const MAX_MUTE_MINUTES: u32 = 7 * 24 * 60;

/// What a room actor is asked to do.
#[derive(Debug)]
pub enum RoomCmd {
    Join {
        peer: Arc<Peer>,
        identity: Arc<Identity>,
        rid: RequestId,
        since: Option<StreamPosition>,
        /// Told whether the member was let in, so a refused join holds no place on the
        /// connection.
        admitted: tokio::sync::oneshot::Sender<bool>,
    },
    /// `rid` is absent when the connection closed rather than asked to leave.
    Leave {
        peer: Arc<Peer>,
        rid: Option<RequestId>,
    },
    Request {
        peer: Arc<Peer>,
        identity: Arc<Identity>,
        rid: RequestId,
        request: RoomRequest,
    },
    /// A publication from the bus (possibly this node's own).
    Deliver(Publication),
    /// An unsequenced frame for every member (the event room's attendance summary).
    Broadcast(Utf8Bytes),
    /// Deliveries for this room may have been dropped: read the bus history for gaps.
    CatchUp,
    /// The room's attendance on other nodes changed ([`RoomStats::others_present`]).
    PresenceChanged,
    /// A presence round of a booth or green room: the watched users connected on any live
    /// node, sorted.
    PresenceRound {
        everywhere: Vec<UserId>,
    },
    /// An unsequenced notice from the bus ([`crate::bus::Bus::notify`]): call signalling,
    /// `<user id>\n<frame>`, for that user's connections here.
    Notice(Bytes),
}

/// A command that acts on a room the caller is in.
#[derive(Debug)]
pub enum RoomRequest {
    Stage(StageChange),
    ChatSend {
        text: String,
    },
    ChatHistory {
        before: Option<MessageId>,
        limit: Option<u16>,
    },
    ChatDelete {
        id: MessageId,
    },
    Mute {
        user: UserId,
        minutes: Option<u32>,
    },
    Unmute {
        user: UserId,
    },
    Announce {
        text: String,
    },
    Qa(QaRequest),
    /// The next page of the questions the caller may see.
    QaPage {
        before: Option<MessageId>,
    },
    Poll(PollRequest),
    Booth(BoothRequest),
    /// The next page of the booth requests the caller may see.
    BoothPage {
        after: Option<MessageId>,
    },
    /// WebRTC signalling for one other member of a call.
    Signal {
        to: UserId,
        signal: plenary_proto::Signal,
    },
}

/// A poll command as a client sends it.
#[derive(Debug, Clone)]
pub enum PollRequest {
    Create {
        question: String,
        options: Vec<String>,
        multiple: bool,
        changeable: bool,
        results: plenary_proto::PollResults,
    },
    Control {
        id: MessageId,
        version: u64,
        action: plenary_proto::PollAction,
        results: Option<plenary_proto::PollResults>,
    },
    Answer {
        id: MessageId,
        choices: Vec<u8>,
    },
}

/// A Q&A command as a client sends it.
#[derive(Debug, Clone)]
pub enum QaRequest {
    Ask {
        text: String,
        anonymous: bool,
    },
    Vote {
        id: MessageId,
        up: bool,
    },
    Withdraw {
        id: MessageId,
    },
    Moderate {
        id: MessageId,
        version: u64,
        action: QaAction,
        text: Option<String>,
        reason: Option<String>,
        into: Option<MessageId>,
        into_version: Option<u64>,
        rank: Option<i64>,
    },
}

/// What one position of a room's stream carries between nodes: a room event as clients
/// see it, or a step of the Q&A board (whole questions with their askers and voters, which
/// each node turns into the views each member may see).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
enum StreamEvent {
    Room(RoomEvent),
    Qa { qa: Vec<QaEvent> },
    Polls { polls: Vec<PollEvent> },
    Booth { booth: Vec<BoothEvent> },
}

/// The frames one stream position becomes: the same bytes for most members, but Q&A steps
/// differ for moderators and for the askers involved, and may be nothing for some.
#[derive(Debug, Clone, Default)]
struct Frames {
    everyone: Option<Utf8Bytes>,
    moderators: Option<Utf8Bytes>,
    /// Users with a frame of their own (the askers of the questions in the step, the
    /// visitors whose requests it changed).
    users: HashMap<UserId, Option<Utf8Bytes>>,
}

impl Frames {
    fn all(frame: Utf8Bytes) -> Frames {
        Frames { everyone: Some(frame.clone()), moderators: Some(frame), users: HashMap::new() }
    }

    fn for_member(&self, user: &UserId, moderator: bool) -> Option<&Utf8Bytes> {
        if moderator {
            return self.moderators.as_ref();
        }
        match self.users.get(user) {
            Some(frame) => frame.as_ref(),
            None => self.everyone.as_ref(),
        }
    }
}

/// How long vote counts are gathered before they go out.
const VOTE_FLUSH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(250);

/// Figures other tasks read without asking the actor (the attendance summary, the
/// presence exchange).
#[derive(Debug, Default)]
pub struct RoomStats {
    /// Connections in the room on this node.
    pub present: AtomicU32,
    /// Connections in the room on other nodes, from the last presence exchange.
    pub others_present: AtomicU32,
    /// Distinct users over every node, from the last presence exchange.
    pub cluster_unique: AtomicU32,
    /// Users first seen here since the last presence exchange.
    pub new_users: std::sync::Mutex<Vec<UserId>>,
    /// This node's last report for the room said someone was here.
    pub reported: AtomicBool,
    stage: AtomicU8,
    /// Set by the dispatcher when it had to drop a delivery for this room.
    pub behind: AtomicBool,
    /// A booth: watched users (staff, visitors with a waiting request) connected here.
    pub watched: std::sync::Mutex<Vec<UserId>>,
    /// A booth: staff connected here and available.
    pub on_duty: std::sync::Mutex<Vec<UserId>>,
    /// A booth whose board still expects presence rounds (staff shown connected, live
    /// requests waiting), so that departures are noticed with nobody left here.
    pub needs_rounds: AtomicBool,
}

impl RoomStats {
    /// Connections in the room over every node.
    pub fn total_present(&self) -> u32 {
        self.present.load(Ordering::Relaxed).saturating_add(self.others_present.load(Ordering::Relaxed))
    }

    pub fn stage_state(&self) -> Option<StageState> {
        match self.stage.load(Ordering::Relaxed) {
            1 => Some(StageState::Scheduled),
            2 => Some(StageState::Live),
            3 => Some(StageState::Break),
            4 => Some(StageState::Ended),
            _ => None,
        }
    }

    pub fn set_stage_state(&self, state: StageState) {
        let v = match state {
            StageState::Scheduled => 1,
            StageState::Live => 2,
            StageState::Break => 3,
            StageState::Ended => 4,
        };
        self.stage.store(v, Ordering::Relaxed);
    }
}

#[derive(Debug)]
struct Member {
    peer: Arc<Peer>,
    user: UserId,
    /// Gets the privileged audience's frames: in a session the moderators' (every question),
    /// in a booth its staff's (every contact request).
    moderator: bool,
    /// Names this stay in the attendance record.
    visit: String,
}

/// A refusal, sent to the caller as an `error`.
struct Refusal {
    code: ErrorCode,
    message: String,
    retry_after_ms: Option<u64>,
}

impl Refusal {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Refusal { code, message: message.into(), retry_after_ms: None }
    }
}

impl From<StageError> for Refusal {
    fn from(e: StageError) -> Self {
        let code = match e {
            StageError::InvalidTransition { .. } | StageError::Ended => ErrorCode::Conflict,
            StageError::NoChange | StageError::EmptyTitle | StageError::ControlCharacters { .. } => ErrorCode::Invalid,
            StageError::TooLong { .. } => ErrorCode::TooLarge,
        };
        Refusal::new(code, e.to_string())
    }
}

impl From<QaError> for Refusal {
    fn from(e: QaError) -> Self {
        let code = match e {
            QaError::NotFound(_) => ErrorCode::NotFound,
            QaError::Forbidden => ErrorCode::Forbidden,
            QaError::Stale { .. }
            | QaError::InvalidTransition { .. }
            | QaError::InvalidMerge
            | QaError::DuplicateId
            | QaError::VotingClosed => ErrorCode::Conflict,
            QaError::Empty | QaError::ControlCharacters => ErrorCode::Invalid,
            QaError::TooLong(_) => ErrorCode::TooLarge,
        };
        Refusal::new(code, e.to_string())
    }
}

impl From<PollError> for Refusal {
    fn from(e: PollError) -> Self {
        let code = match e {
            PollError::NotFound(_) => ErrorCode::NotFound,
            PollError::Forbidden => ErrorCode::Forbidden,
            PollError::Stale { .. }
            | PollError::InvalidTransition { .. }
            | PollError::AlreadyAnswered
            | PollError::DuplicateId => ErrorCode::Conflict,
            PollError::Invalid(_) => ErrorCode::Invalid,
        };
        Refusal::new(code, e.to_string())
    }
}

impl From<ChatError> for Refusal {
    fn from(e: ChatError) -> Self {
        let code = match e {
            ChatError::Empty => ErrorCode::Invalid,
            ChatError::TooLong { .. } => ErrorCode::TooLarge,
        };
        Refusal::new(code, e.to_string())
    }
}

pub(super) struct Room {
    id: RoomId,
    kind: RoomKind,
    generation: u64,
    ctx: Arc<HubContext>,
    stats: Arc<RoomStats>,
    members: HashMap<PeerId, Member>,
    connections_per_user: HashMap<UserId, u32>,
    /// Members with the privileged audience's frames; in a booth its staff, who are not
    /// counted as visitors.
    privileged_members: u32,
    unique_users: HashSet<UserId>,
    stage: Option<Stage>,
    chat: Box<dyn ChatLog>,
    announcements: VecDeque<Announcement>,
    muted: HashMap<UserId, Option<i64>>,
    chat_buckets: HashMap<UserId, TokenBucket>,
    epoch: Epoch,
    seq: Seq,
    replay: ReplayWindow<Frames>,
    attendance: AttendanceCoalescer,
    qa: QaBoard,
    polls: PollBoard,
    /// Polls whose results changed since the last `poll_results`.
    tallies_dirty: std::collections::BTreeSet<String>,
    /// Questions whose vote counts changed since the last `qa_votes`.
    votes_dirty: std::collections::BTreeSet<String>,
    votes_due: Option<Instant>,
    empty_since: Option<Instant>,
    subscribed: bool,
    /// Records made while handling a command, handed to the store writer in order after it.
    pending_records: Vec<Record>,
    /// Acks of commands whose records are in `pending_records`: sent by the store writer
    /// once those are committed.
    pending_acks: Vec<(Arc<Peer>, RequestId)>,
    /// Whether chat older than the in-memory log exists in the record.
    older_chat_in_record: bool,
    /// A booth room's staff presence and contact requests.
    booth: Option<BoothRoom>,
    /// A call room's members, once its stream or the record names them; a green room's
    /// members now.
    call: Option<CallInfo>,
    /// A green room's own state.
    green: Option<GreenRoom>,
}

async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl Room {
    pub(super) fn new(
        id: RoomId,
        kind: RoomKind,
        generation: u64,
        ctx: Arc<HubContext>,
        stats: Arc<RoomStats>,
    ) -> Self {
        let settings = &ctx.settings;
        let mut room = Room {
            kind,
            generation,
            stats,
            members: HashMap::new(),
            connections_per_user: HashMap::new(),
            privileged_members: 0,
            unique_users: HashSet::new(),
            stage: None,
            chat: Box::new(MemoryChatLog::new(settings.chat_buffer)),
            announcements: VecDeque::new(),
            muted: HashMap::new(),
            chat_buckets: HashMap::new(),
            epoch: Epoch::parse("0").expect("valid epoch"),
            seq: Seq::ZERO,
            replay: ReplayWindow::new(settings.resume_window),
            attendance: AttendanceCoalescer::new(settings.attendance_interval()),
            qa: QaBoard::new(settings.qa_moderated),
            polls: PollBoard::default(),
            tallies_dirty: std::collections::BTreeSet::new(),
            votes_dirty: std::collections::BTreeSet::new(),
            votes_due: None,
            empty_since: Some(Instant::now()),
            subscribed: false,
            pending_records: Vec::new(),
            pending_acks: Vec::new(),
            older_chat_in_record: false,
            booth: None,
            call: (kind == RoomKind::Green).then(Room::empty_green_call),
            green: (kind == RoomKind::Green).then(GreenRoom::default),
            id,
            ctx,
        };
        room.booth = (kind == RoomKind::Booth).then(|| BoothRoom::new(room.booth_roster()));
        room
    }

    /// Runs the actor until the node shuts down or the room stays empty for the idle TTL.
    pub(super) async fn run(mut self, mut mailbox: mpsc::Receiver<RoomCmd>) {
        self.open().await;
        let idle_ttl = self.ctx.settings.room_idle_ttl();
        let shutdown = self.ctx.shutdown.clone();
        loop {
            let attendance_due = self.attendance.deadline();
            // A call room nobody may join (an unknown call) goes at once: joins naming made-up
            // calls cannot fill the node with rooms.
            let ttl = if self.kind == RoomKind::Call && self.call.is_none() { UNKNOWN_CALL_TTL } else { idle_ttl };
            let evict_at = self.empty_since.map(|since| since + ttl);
            tokio::select! {
                _ = shutdown.cancelled() => {
                    self.close_visits().await;
                    return;
                }
                cmd = mailbox.recv() => match cmd {
                    Some(cmd) => {
                        self.handle(cmd).await;
                        self.housekeeping().await;
                    }
                    None => {
                        self.close_visits().await;
                        return;
                    }
                },
                _ = sleep_until_some(attendance_due) => {
                    self.send_attendance();
                    self.housekeeping().await;
                }
                _ = sleep_until_some(self.votes_due) => self.flush_votes(),
                _ = sleep_until_some(evict_at) => {
                    if self.members.is_empty() && self.leave_registry() {
                        break;
                    }
                    // Commands are queued: serve them, and try again after another idle spell.
                    self.empty_since = Some(Instant::now());
                }
            }
        }
        self.evict(mailbox).await;
    }

    /// After any work: a room whose last members were dropped while fanning out leaves its
    /// topic, and a room that missed deliveries reads the history.
    async fn housekeeping(&mut self) {
        self.flush_records().await;
        if self.members.is_empty() && self.subscribed {
            self.subscribed = false;
            if let Err(e) = self.ctx.bus.unsubscribe(&self.id).await {
                tracing::warn!(room = %self.id, error = %e, "bus unsubscribe failed");
            }
        }
        if self.stats.behind.swap(false, Ordering::Relaxed) && self.subscribed {
            self.catch_up(None).await;
        }
    }

    /// Removes this room from the registry if no command is queued for it. Checked under
    /// the registry's shard lock, so no sender can take the mailbox meanwhile: commands
    /// sent later go to a new room.
    fn leave_registry(&self) -> bool {
        let generation = self.generation;
        self.ctx
            .rooms
            .remove_if(&self.id, |_, entry| {
                entry.generation == generation && entry.mailbox.capacity() == entry.mailbox.max_capacity()
            })
            .is_some()
    }

    /// Loads the room's state: first from the record (stage, recent chat, mutes), then
    /// from the bus history on top, so a room restarted on this node (or opened on a second
    /// node) starts where the stream is.
    async fn open(&mut self) {
        if let Some(writer) = &self.ctx.writer {
            match writer.store().room(&self.id, self.ctx.settings.chat_buffer, unix_millis()).await {
                Ok(stored) => {
                    if let Some(stage) = stored.stage {
                        self.stats.set_stage_state(stage.state);
                        self.stage = Some(stage);
                    }
                    for message in stored.chat {
                        self.chat.append(message);
                    }
                    self.older_chat_in_record = stored.chat_more;
                    self.muted.extend(stored.mutes);
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
                    self.restore_booth(stored.booth_staff, stored.requests);
                    if stored.call.is_some() {
                        self.call = stored.call;
                    }
                }
                Err(e) => tracing::error!(room = %self.id, error = %e, "could not read the room's record"),
            }
        }
        self.restore().await;
        self.update_green_stats();
    }

    /// Applies the bus history.
    async fn restore(&mut self) {
        match self.ctx.bus.history(&self.id, Seq::ZERO, self.ctx.settings.resume_window).await {
            Ok(history) => {
                self.epoch = history.epoch;
                let Some(first) = history.publications.first() else {
                    self.seq = history.latest;
                    return;
                };
                self.seq = Seq(first.seq.0 - 1);
                for publication in history.publications {
                    match self.decode(&publication) {
                        Some(event) => self.accept(publication.seq, event, false),
                        None => self.skip(publication.seq),
                    }
                }
            }
            Err(e) => tracing::warn!(room = %self.id, error = %e, "could not read room history"),
        }
    }

    /// After leaving the registry: lets the bus forget the topic and hands any command
    /// that slipped into the mailbox meanwhile to the room's next incarnation, in order.
    async fn evict(self, mut mailbox: mpsc::Receiver<RoomCmd>) {
        self.ctx.metrics.rooms.dec();
        mailbox.close();
        if let Err(e) = self.ctx.bus.release(&self.id).await {
            tracing::warn!(room = %self.id, error = %e, "bus release failed");
        }
        let hub = Hub { ctx: self.ctx.clone() };
        while let Some(cmd) = mailbox.recv().await {
            let answer_to = match &cmd {
                RoomCmd::Join { peer, rid, .. } | RoomCmd::Request { peer, rid, .. } => Some((peer.clone(), *rid)),
                RoomCmd::Leave { peer, rid: Some(rid) } => Some((peer.clone(), *rid)),
                _ => None,
            };
            if matches!(
                cmd,
                RoomCmd::Deliver(_)
                    | RoomCmd::Broadcast(_)
                    | RoomCmd::CatchUp
                    | RoomCmd::PresenceChanged
                    | RoomCmd::PresenceRound { .. }
                    | RoomCmd::Notice(_)
            ) {
                continue;
            }
            if let Err(e) = hub.send(&self.id, cmd).await
                && let Some((peer, rid)) = answer_to
            {
                self.refuse(&peer, rid, Refusal::new(ErrorCode::Unavailable, e.to_string()));
            }
        }
        tracing::debug!(room = %self.id, "room evicted after idling");
    }

    async fn handle(&mut self, cmd: RoomCmd) {
        match cmd {
            RoomCmd::Join { peer, identity, rid, since, admitted } => {
                let joined = self.join(peer, &identity, rid, since).await;
                let _ = admitted.send(joined);
            }
            RoomCmd::Leave { peer, rid } => {
                self.remove_member(peer.id).await;
                if let Some(rid) = rid {
                    let _ = peer.send_msg(&ServerMsg::Ack { rid });
                }
            }
            RoomCmd::Request { peer, identity, rid, request } => {
                if !self.members.contains_key(&peer.id) && !matches!(request, RoomRequest::Announce { .. }) {
                    self.refuse(&peer, rid, Refusal::new(ErrorCode::NotJoined, format!("join {} first", self.id)));
                    return;
                }
                match self.request(&peer, &identity, rid, request).await {
                    Ok(()) => {}
                    Err(refusal) => self.refuse(&peer, rid, refusal),
                }
            }
            RoomCmd::Deliver(publication) => self.deliver(publication).await,
            RoomCmd::Broadcast(frame) => self.broadcast(&frame),
            RoomCmd::CatchUp => {
                if self.subscribed {
                    self.catch_up(None).await;
                }
            }
            RoomCmd::PresenceChanged => self.attendance_changed(),
            RoomCmd::PresenceRound { everywhere } => {
                if self.kind == RoomKind::Green {
                    self.green_presence(&everywhere).await;
                } else {
                    self.booth_presence(everywhere).await;
                }
            }
            RoomCmd::Notice(payload) => self.deliver_notice(&payload),
        }
    }

    /// Hands a relayed signal to the addressee's connections in this room, if any here. Its
    /// content is never read or logged (ICE candidates carry addresses).
    fn deliver_notice(&self, payload: &Bytes) {
        let Some(newline) = payload.iter().position(|b| *b == b'\n') else { return };
        let Ok(to) = std::str::from_utf8(&payload[..newline]) else { return };
        let Ok(frame) = Utf8Bytes::try_from(payload.slice(newline + 1..)) else { return };
        for member in self.members.values().filter(|m| m.user.as_str() == to) {
            // A full outbox closes that connection; the room notices at its next broadcast.
            let _ = member.peer.send(frame.clone());
        }
    }

    /// Relays `signal` from `from` to `to`, a member of this call, on whichever node holds
    /// its connections.
    async fn relay_signal(&self, from: &UserId, to: UserId, signal: plenary_proto::Signal) -> Result<(), Refusal> {
        let Some(call) = &self.call else {
            return Err(Refusal::new(ErrorCode::NotFound, format!("{} is not a call", self.id)));
        };
        if to == *from {
            return Err(Refusal::new(ErrorCode::Invalid, "a signal goes to another member of the call"));
        }
        if !call.members.iter().any(|m| m.id == *from) {
            return Err(Refusal::new(ErrorCode::Forbidden, "you are not a member of this call now; join it again"));
        }
        if !call.members.iter().any(|m| m.id == to) {
            return Err(Refusal::new(ErrorCode::Forbidden, format!("{to} is not a member of this call")));
        }
        let frame = ServerMsg::Signal { room: self.id.clone(), from: from.clone(), signal }.to_json();
        let mut payload = Vec::with_capacity(to.as_str().len() + 1 + frame.len());
        payload.extend_from_slice(to.as_str().as_bytes());
        payload.push(b'\n');
        payload.extend_from_slice(frame.as_bytes());
        self.ctx.bus.notify(&self.id, Bytes::from(payload)).await.map_err(|e| {
            tracing::warn!(room = %self.id, error = %e, "relaying a signal failed");
            Refusal::new(ErrorCode::Unavailable, "the event bus is unavailable; try again")
        })
    }

    /// The caller's rights here.
    fn you(&self, identity: &Identity) -> Membership {
        membership(identity, &self.id, self.is_booth_staff(identity))
    }

    /// Whether the caller may join: a call room only for the call's members, a green room
    /// only for its session's speakers and moderators, while there is room.
    fn admit(&self, identity: &Identity) -> Result<(), Refusal> {
        if self.kind == RoomKind::Green {
            return self.admit_to_green_room(identity);
        }
        if self.kind != RoomKind::Call {
            return Ok(());
        }
        match &self.call {
            None => Err(Refusal::new(ErrorCode::NotFound, format!("no call {}", self.id))),
            Some(call) if call.members.iter().any(|m| m.id == *identity.user()) => Ok(()),
            Some(_) => Err(Refusal::new(ErrorCode::Forbidden, "this call is private to its members")),
        }
    }

    fn refuse(&self, peer: &Peer, rid: RequestId, refusal: Refusal) {
        self.ctx.metrics.rejected_commands.get_or_create(&ReasonLabel { reason: refusal.code.label() }).inc();
        let _ = peer.send_msg(&ServerMsg::Error {
            rid: Some(rid),
            code: refusal.code,
            message: refusal.message,
            retry_after_ms: refusal.retry_after_ms,
        });
    }

    /// Lets a member in with a snapshot or a replay; returns whether it was let in.
    async fn join(
        &mut self,
        peer: Arc<Peer>,
        identity: &Identity,
        rid: RequestId,
        since: Option<StreamPosition>,
    ) -> bool {
        let first_member = self.members.is_empty();
        if first_member && !self.subscribed {
            // Subscribe before catching up, so nothing published in between is missed.
            match self.ctx.bus.subscribe(&self.id).await {
                Ok(()) => self.subscribed = true,
                Err(e) => tracing::warn!(room = %self.id, error = %e, "bus subscribe failed"),
            }
            self.catch_up(None).await;
        }
        if self.kind == RoomKind::Call && self.call.is_none() {
            // Opened before the call's record was written, or after its stream was trimmed.
            self.load_call().await;
        }
        if let Err(refusal) = self.admit(identity) {
            self.refuse(&peer, rid, refusal);
            return false;
        }
        if let Err(refusal) = self.enter_green_room(identity).await {
            self.refuse(&peer, rid, refusal);
            return false;
        }
        let mut you = self.you(identity);
        you.can_chat &= !self.is_muted(identity.user(), unix_millis());
        let moderator = self.privileged(&you);
        let replay = match &since {
            Some(position) if position.epoch == self.epoch => {
                self.missed_since(position.seq, identity.user(), moderator).await
            }
            _ => None,
        }
        // A replay that would overflow the outbox would close the client as slow, and it
        // would retry the same resume forever: it gets a snapshot instead.
        .filter(|frames| frames.len() < peer.room_left());
        self.add_member(&peer, identity);
        let attendance = self.attendance.current();
        match replay {
            Some(frames) => {
                let resumed = ServerMsg::Resumed {
                    rid,
                    room: self.id.clone(),
                    epoch: self.epoch.clone(),
                    replayed: u32::try_from(frames.len()).unwrap_or(u32::MAX),
                    attendance,
                    you,
                };
                if peer.send_msg(&resumed).is_ok() {
                    for frame in frames {
                        if peer.send(frame).is_err() {
                            break;
                        }
                    }
                    // Votes and answers are not replayed one by one: the counts now.
                    if let Some(frame) = self.all_votes_frame() {
                        let _ = peer.send(frame);
                    }
                    if let Some(frame) = self.all_tallies_frame(moderator) {
                        let _ = peer.send(frame);
                    }
                }
            }
            None => {
                let (chat, chat_more) = self.chat_page(None, CHAT_PAGE);
                let chat_more = chat_more || self.older_chat_in_record;
                let (questions, questions_more, my_votes) = self.snapshot_questions(identity.user(), moderator);
                let snapshot = ServerMsg::Snapshot {
                    rid,
                    room: self.id.clone(),
                    epoch: self.epoch.clone(),
                    seq: self.seq,
                    recovered: since.map(|_| false),
                    stage: (self.kind == RoomKind::Session).then(|| self.current_stage()),
                    attendance,
                    chat,
                    chat_more,
                    announcements: self.announcements.iter().cloned().collect(),
                    questions,
                    questions_more,
                    my_votes,
                    polls: self.snapshot_polls(moderator),
                    my_answers: self.answers_of(identity.user()),
                    booth: self.booth_snapshot(identity.user(), you.booth_staff),
                    call: self.call.clone(),
                    ice_servers: if matches!(self.kind, RoomKind::Call | RoomKind::Green) {
                        crate::ice::ice_servers(&self.ctx.settings, identity.user(), crate::clock::unix_secs())
                    } else {
                        Vec::new()
                    },
                    you,
                };
                let _ = peer.send_msg(&snapshot);
            }
        }
        // A programme page or the hall needs the live counts now, not at the next change.
        let summary = match self.kind {
            RoomKind::Event => self.ctx.latest_summary.lock().expect("summary lock").clone(),
            RoomKind::Expo => self.ctx.latest_booths.lock().expect("summary lock").clone(),
            _ => None,
        };
        if let Some(frame) = summary {
            let _ = peer.send(frame);
        }
        // After the snapshot, so a staff member's own arrival reaches it as the next event.
        self.booth_joined(identity).await;
        self.update_green_stats();
        true
    }

    fn is_muted(&self, user: &UserId, now: i64) -> bool {
        self.muted.get(user).is_some_and(|until| until.is_none_or(|until| until > now))
    }

    /// The frames after `seen` that this member may see, from the resume window or else
    /// the bus history; `None` unless every missed event can be replayed.
    async fn missed_since(&self, seen: Seq, user: &UserId, moderator: bool) -> Option<Vec<Utf8Bytes>> {
        if let Some(frames) = self.replay.since(seen, self.seq) {
            return Some(frames.iter().filter_map(|f| f.for_member(user, moderator).cloned()).collect());
        }
        if seen > self.seq {
            return None;
        }
        let wanted = usize::try_from(self.seq.0 - seen.0).ok()?;
        if wanted > self.ctx.settings.resume_window {
            return None;
        }
        let history = self.ctx.bus.history(&self.id, seen, wanted).await.ok()?;
        if !history.complete || history.epoch != self.epoch || history.publications.len() != wanted {
            return None;
        }
        let mut frames = Vec::with_capacity(wanted);
        for publication in history.publications.iter().filter(|p| p.seq <= self.seq) {
            // Q&A steps depend on the board as it was then: the member gets a snapshot.
            let StreamEvent::Room(event) = self.decode(publication)? else { return None };
            frames.push(self.event_frame(publication.seq, event));
        }
        (frames.len() == wanted).then_some(frames)
    }

    fn add_member(&mut self, peer: &Arc<Peer>, identity: &Identity) {
        let user = identity.user();
        let visit = uuid::Uuid::now_v7().simple().to_string();
        let moderator = self.privileged(&self.you(identity));
        let member = Member { peer: peer.clone(), user: user.clone(), moderator, visit: visit.clone() };
        match self.members.insert(peer.id, member) {
            None => {
                self.privileged_members += u32::from(moderator);
                *self.connections_per_user.entry(user.clone()).or_default() += 1;
                if self.unique_users.insert(user.clone()) {
                    self.stats.new_users.lock().expect("new users lock").push(user.clone());
                }
            }
            Some(previous) => {
                self.privileged_members =
                    self.privileged_members - u32::from(previous.moderator) + u32::from(moderator);
                self.record(Record::Left { visit: previous.visit, at: unix_millis() });
            }
        }
        self.record(Record::Joined { visit, room: self.id.clone(), user: identity.profile.clone(), at: unix_millis() });
        self.empty_since = None;
        self.attendance_changed();
    }

    async fn remove_member(&mut self, peer: PeerId) {
        self.drop_member(peer);
        if self.members.is_empty() && self.subscribed {
            self.subscribed = false;
            if let Err(e) = self.ctx.bus.unsubscribe(&self.id).await {
                tracing::warn!(room = %self.id, error = %e, "bus unsubscribe failed");
            }
        }
    }

    /// Forgets a member without touching the bus (used while fanning out).
    fn drop_member(&mut self, peer: PeerId) {
        let Some(member) = self.members.remove(&peer) else { return };
        self.privileged_members -= u32::from(member.moderator);
        self.record(Record::Left { visit: member.visit, at: unix_millis() });
        if let Some(count) = self.connections_per_user.get_mut(&member.user) {
            *count -= 1;
            if *count == 0 {
                self.connections_per_user.remove(&member.user);
                // A full bucket carries no information; dropping it bounds the map.
                let now = Instant::now();
                if self.chat_buckets.get_mut(&member.user).is_some_and(|b| b.is_full(now)) {
                    self.chat_buckets.remove(&member.user);
                }
            }
        }
        if self.members.is_empty() {
            self.empty_since = Some(Instant::now());
        }
        self.attendance_changed();
        self.update_booth_stats();
        self.update_green_stats();
    }

    /// Whether a member with these rights gets the privileged audience's frames.
    fn privileged(&self, you: &Membership) -> bool {
        if self.kind == RoomKind::Booth { you.booth_staff } else { you.can_moderate }
    }

    /// Notes a record for the store; written after the current command.
    fn record(&mut self, record: Record) {
        if self.ctx.writer.is_some() {
            self.pending_records.push(record);
        }
    }

    /// Hands the noted records to the store writer, in order (waiting only if its queue
    /// is full), then the acks that wait for them.
    async fn flush_records(&mut self) {
        if let Some(writer) = &self.ctx.writer {
            for record in self.pending_records.drain(..) {
                writer.record(record).await;
            }
            for (peer, rid) in self.pending_acks.drain(..) {
                writer.ack_after(peer, rid).await;
            }
        }
    }

    /// Acknowledges a command: at once when it left nothing to record, else once its
    /// records are committed (an `ack` promises the command is in the record).
    fn ack(&mut self, peer: &Arc<Peer>, rid: RequestId) {
        if self.ctx.writer.is_some() && !self.pending_records.is_empty() {
            self.pending_acks.push((peer.clone(), rid));
        } else {
            let _ = peer.send_msg(&ServerMsg::Ack { rid });
        }
    }

    /// The node is stopping: every stay in this room ends now.
    async fn close_visits(&mut self) {
        let now = unix_millis();
        let visits: Vec<String> = self.members.values().map(|m| m.visit.clone()).collect();
        for visit in visits {
            self.record(Record::Left { visit, at: now });
        }
        self.flush_records().await;
    }

    /// Recomputes the attendance members see: this node's members plus the other nodes'
    /// (from the presence exchange), sent at the coalescer's pace.
    fn attendance_changed(&mut self) {
        let mut local = u32::try_from(self.members.len()).unwrap_or(u32::MAX);
        if self.kind == RoomKind::Booth {
            // A booth counts its visitors; its staff show in the staff list.
            local = local.saturating_sub(self.privileged_members);
        }
        let local_unique = u32::try_from(self.unique_users.len()).unwrap_or(u32::MAX);
        self.stats.present.store(local, Ordering::Relaxed);
        let present = local.saturating_add(self.stats.others_present.load(Ordering::Relaxed));
        let unique = local_unique.max(self.stats.cluster_unique.load(Ordering::Relaxed));
        self.attendance.set(Attendance { present, unique });
    }

    fn send_attendance(&mut self) {
        if let Some(attendance) = self.attendance.take_due(Instant::now()) {
            let frame = Utf8Bytes::from(ServerMsg::Attendance { room: self.id.clone(), attendance }.to_json());
            self.broadcast(&frame);
        }
    }

    /// Queues to each member the frame meant for it, if any.
    fn broadcast_frames(&mut self, frames: &Frames) {
        if frames.users.is_empty() && frames.everyone == frames.moderators {
            if let Some(frame) = &frames.everyone {
                self.broadcast(frame);
            }
            return;
        }
        let mut gone = Vec::new();
        for (id, member) in &self.members {
            if let Some(frame) = frames.for_member(&member.user, member.moderator)
                && member.peer.send(frame.clone()).is_err_and(Undeliverable::is_gone)
            {
                gone.push(*id);
            }
        }
        for id in gone {
            self.drop_member(id);
        }
    }

    /// Queues one encoded frame to every member; members whose outbox overflowed are gone.
    fn broadcast(&mut self, frame: &Utf8Bytes) {
        let mut gone = Vec::new();
        for (id, member) in &self.members {
            if member.peer.send(frame.clone()).is_err_and(Undeliverable::is_gone) {
                gone.push(*id);
            }
        }
        for id in gone {
            self.drop_member(id);
        }
    }

    fn current_stage(&self) -> Stage {
        self.stage.clone().unwrap_or_else(|| {
            let slug = self.id.as_str().strip_prefix("session:").unwrap_or(self.id.as_str());
            let title = self.ctx.sessions.as_ref().and_then(|s| s.title(slug)).unwrap_or_else(|| slug.to_owned());
            stage::initial(&title, 0)
        })
    }

    async fn request(
        &mut self,
        peer: &Arc<Peer>,
        identity: &Identity,
        rid: RequestId,
        request: RoomRequest,
    ) -> Result<(), Refusal> {
        let you = self.you(identity);
        let now = unix_millis();
        let event = match request {
            RoomRequest::Stage(change) => {
                if self.kind != RoomKind::Session {
                    return Err(Refusal::new(ErrorCode::NotFound, format!("{} has no stage", self.id)));
                }
                if !you.can_manage_stage {
                    return Err(Refusal::new(ErrorCode::Forbidden, "only moderators and organisers manage the stage"));
                }
                // Validated against this node's view of the stage and published only if the
                // room's stream has not moved since: a transition another node published
                // meanwhile is applied first and this one validated again, so two moderators
                // on two nodes cannot both end, or both resume, the same stage.
                for _ in 0..STAGE_ATTEMPTS {
                    let next = stage::apply(&self.current_stage(), change.clone(), now)?;
                    let ended = next.state == StageState::Ended;
                    let event = RoomEvent::Stage { stage: next, by: identity.user().clone() };
                    if self.publish_if_current(StreamEvent::Room(event)).await? {
                        self.ack(peer, rid);
                        if ended {
                            self.end_qa(identity).await;
                        }
                        return Ok(());
                    }
                    self.catch_up(None).await;
                }
                return Err(Refusal::new(ErrorCode::Conflict, "the stage kept changing meanwhile; try again"));
            }
            RoomRequest::ChatSend { text } => {
                if !you.can_chat {
                    return Err(Refusal::new(ErrorCode::Forbidden, format!("{} has no chat", self.id)));
                }
                if self.is_muted(identity.user(), now) {
                    let message = match self.muted.get(identity.user()).copied().flatten() {
                        Some(until) => format!("a moderator muted you in this room until {until}"),
                        None => "a moderator muted you in this room".to_owned(),
                    };
                    return Err(Refusal::new(ErrorCode::Muted, message));
                }
                let text = chat::validate_text(&text, self.ctx.settings.chat_max_chars)?;
                self.take_chat_token(identity.user())?;
                let id = MessageId::parse(uuid::Uuid::now_v7().simple().to_string()).expect("hex is a valid id");
                RoomEvent::Chat { message: ChatMessage { id, author: identity.profile.clone(), text, at: now } }
            }
            RoomRequest::ChatHistory { before, limit } => {
                let limit = usize::from(limit.unwrap_or(CHAT_PAGE as u16)).clamp(1, CHAT_PAGE);
                let in_memory = before.as_ref().is_none_or(|b| self.chat.get(b).is_some());
                let (messages, more) =
                    if in_memory { self.chat_page(before.as_ref(), limit) } else { (Vec::new(), false) };
                match &self.ctx.writer {
                    // Older messages than memory holds come from the record, read in a task of
                    // its own so the room does not wait for the database.
                    Some(writer) if messages.len() < limit => {
                        let older_than = messages.first().map(|m| m.id.clone()).or(before);
                        let (store, room, peer) = (writer.store().clone(), self.id.clone(), peer.clone());
                        tokio::spawn(async move {
                            let wanted = limit - messages.len();
                            let answer = match store.chat_page(&room, older_than.as_ref(), wanted).await {
                                Ok((mut older, more)) => {
                                    older.extend(messages);
                                    let page = page::take_newest(older, page::PAGE_BYTES);
                                    ServerMsg::ChatHistory { rid, room, messages: page.items, more: more || page.more }
                                }
                                Err(e) => {
                                    tracing::error!(%room, error = %e, "reading chat history failed");
                                    ServerMsg::Error {
                                        rid: Some(rid),
                                        code: ErrorCode::Unavailable,
                                        message: "chat history is unavailable; try again".into(),
                                        retry_after_ms: None,
                                    }
                                }
                            };
                            let _ = peer.send_msg(&answer);
                        });
                    }
                    _ => {
                        let more = more || self.older_chat_in_record;
                        if !in_memory {
                            let before = before.map(|b| b.to_string()).unwrap_or_default();
                            return Err(Refusal::new(
                                ErrorCode::NotFound,
                                format!("no message {before} in {}", self.id),
                            ));
                        }
                        let _ = peer.send_msg(&ServerMsg::ChatHistory { rid, room: self.id.clone(), messages, more });
                    }
                }
                return Ok(());
            }
            RoomRequest::ChatDelete { id } => {
                let Some(message) = self.chat.get(&id) else {
                    return Err(Refusal::new(ErrorCode::NotFound, format!("no message {id} in {}", self.id)));
                };
                if !you.can_moderate && message.author.id != *identity.user() {
                    return Err(Refusal::new(ErrorCode::Forbidden, "only moderators and the author delete a message"));
                }
                RoomEvent::ChatDeleted { id, by: identity.user().clone() }
            }
            RoomRequest::Mute { user, minutes } => {
                if !you.can_moderate {
                    return Err(Refusal::new(ErrorCode::Forbidden, "only moderators mute"));
                }
                if minutes.is_some_and(|m| m == 0 || m > MAX_MUTE_MINUTES) {
                    return Err(Refusal::new(
                        ErrorCode::Invalid,
                        format!("minutes must be between 1 and {MAX_MUTE_MINUTES}"),
                    ));
                }
                let until = minutes.map(|m| now + i64::from(m) * 60_000);
                RoomEvent::UserMuted { user, until, by: identity.user().clone() }
            }
            RoomRequest::Unmute { user } => {
                if !you.can_moderate {
                    return Err(Refusal::new(ErrorCode::Forbidden, "only moderators unmute"));
                }
                if !self.is_muted(&user, now) {
                    return Err(Refusal::new(ErrorCode::NotFound, format!("{user} is not muted here")));
                }
                RoomEvent::UserUnmuted { user, by: identity.user().clone() }
            }
            RoomRequest::Qa(request) => return self.qa_request(peer, identity, rid, request).await,
            RoomRequest::QaPage { before } => return self.questions_page(peer, identity, rid, before.as_ref()),
            RoomRequest::BoothPage { after } => return self.booth_page(peer, identity, rid, after.as_ref()),
            RoomRequest::Poll(request) => return self.poll_request(peer, identity, rid, request).await,
            RoomRequest::Booth(request) => return self.booth_request(peer, identity, rid, request).await,
            RoomRequest::Signal { to, signal } => {
                self.relay_signal(identity.user(), to, signal).await?;
                let _ = peer.send_msg(&ServerMsg::Ack { rid });
                return Ok(());
            }
            RoomRequest::Announce { text } => {
                if !you.can_announce {
                    return Err(Refusal::new(ErrorCode::Forbidden, "only organisers announce"));
                }
                let text = chat::validate_text(&text, ANNOUNCEMENT_MAX_CHARS)?;
                RoomEvent::Announcement { announcement: Announcement { text, by: identity.profile.clone(), at: now } }
            }
        };
        self.publish(event).await?;
        self.ack(peer, rid);
        Ok(())
    }

    fn take_chat_token(&mut self, user: &UserId) -> Result<(), Refusal> {
        let settings = &self.ctx.settings;
        let now = Instant::now();
        let bucket = self
            .chat_buckets
            .entry(user.clone())
            .or_insert_with(|| TokenBucket::new(settings.chat_burst, f64::from(settings.chat_per_minute) / 60.0, now));
        bucket.try_take(now).map_err(|wait| Refusal {
            code: ErrorCode::RateLimited,
            message: format!("slow down: at most {} chat messages and questions a minute", settings.chat_per_minute),
            retry_after_ms: Some(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1)),
        })
    }

    /// Publishes an event and, once the bus has given it a sequence number, applies and
    /// fans it out here (the bus's own delivery of it is then recognised as seen).
    async fn publish(&mut self, event: RoomEvent) -> Result<(), Refusal> {
        self.publish_stream(StreamEvent::Room(event)).await
    }

    async fn publish_stream(&mut self, event: StreamEvent) -> Result<(), Refusal> {
        let payload = Bytes::from(serde_json::to_vec(&event).expect("stream events always serialise"));
        let publication = self.ctx.bus.publish(&self.id, payload).await.map_err(|e| {
            tracing::warn!(room = %self.id, error = %e, "publish failed");
            Refusal::new(ErrorCode::Unavailable, "the event bus is unavailable; try again")
        })?;
        let record = self.record_of(&event);
        self.sequence(publication, Some(event)).await;
        if let Some(record) = record {
            self.record(record);
        }
        Ok(())
    }

    /// Publishes an event only if the room's stream is where this room last saw it; false
    /// when another node published first.
    async fn publish_if_current(&mut self, event: StreamEvent) -> Result<bool, Refusal> {
        let payload = Bytes::from(serde_json::to_vec(&event).expect("stream events always serialise"));
        let published = self.ctx.bus.publish_if(&self.id, payload, &self.epoch, self.seq).await.map_err(|e| {
            tracing::warn!(room = %self.id, error = %e, "publish failed");
            Refusal::new(ErrorCode::Unavailable, "the event bus is unavailable; try again")
        })?;
        let Some(publication) = published else { return Ok(false) };
        let record = self.record_of(&event);
        self.sequence(publication, Some(event)).await;
        if let Some(record) = record {
            self.record(record);
        }
        Ok(true)
    }

    /// What the record keeps of an event this node published (each event is recorded once,
    /// by the node that published it).
    fn record_of(&self, event: &StreamEvent) -> Option<Record> {
        let StreamEvent::Room(event) = event else { return None };
        let room = self.id.clone();
        let at = unix_millis();
        Some(match event {
            RoomEvent::Stage { stage, by } => Record::Stage { room, stage: stage.clone(), by: by.clone() },
            RoomEvent::Chat { message } => Record::Chat { room, message: message.clone() },
            RoomEvent::ChatDeleted { id, by } => Record::ChatDeleted { room, id: id.clone(), by: by.clone(), at },
            RoomEvent::UserMuted { user, until, by } => {
                Record::Muted { room, user: user.clone(), until: *until, by: by.clone(), at }
            }
            RoomEvent::UserUnmuted { user, by } => Record::Unmuted { room, user: user.clone(), by: by.clone(), at },
            RoomEvent::Announcement { .. }
            | RoomEvent::Questions { .. }
            | RoomEvent::Polls { .. }
            | RoomEvent::Booth { .. }
            | RoomEvent::CallOpened { .. }
            | RoomEvent::CallJoined { .. }
            | RoomEvent::CallLeft { .. } => return None,
        })
    }

    async fn deliver(&mut self, publication: Publication) {
        self.sequence(publication, None).await;
    }

    /// Puts a publication in order: duplicates are ignored and a gap is filled from the
    /// bus history first. `event` is the decoded payload when the caller already has it.
    async fn sequence(&mut self, publication: Publication, event: Option<StreamEvent>) {
        if publication.epoch != self.epoch {
            tracing::warn!(room = %self.id, "room stream has a new epoch: resume history restarts");
            self.restart_stream(&publication);
        }
        if publication.seq <= self.seq {
            return;
        }
        if publication.seq > self.seq.next() {
            self.catch_up(Some(publication.seq)).await;
            if publication.seq <= self.seq {
                return;
            }
            if publication.seq > self.seq.next() {
                tracing::warn!(room = %self.id, "room stream lost events: resume history restarts");
                self.restart_stream(&publication);
            }
        }
        let event = match event {
            Some(event) => Some(event),
            None => self.decode(&publication),
        };
        match event {
            Some(event) => self.accept(publication.seq, event, true),
            None => self.skip(publication.seq),
        }
    }

    /// Steps over an event this node cannot read: resuming across it is impossible.
    fn skip(&mut self, seq: Seq) {
        self.seq = seq;
        self.replay.clear();
    }

    fn restart_stream(&mut self, publication: &Publication) {
        self.epoch = publication.epoch.clone();
        self.seq = Seq(publication.seq.0.saturating_sub(1));
        self.replay.clear();
        self.tell_members_to_resync();
    }

    /// The room's stream lost continuity (a new epoch, or events nobody can replay):
    /// members' positions mean nothing now, so each is told to join again for a snapshot.
    fn tell_members_to_resync(&mut self) {
        if self.members.is_empty() {
            return;
        }
        let frame = Utf8Bytes::from(ServerMsg::Resync { room: self.id.clone(), epoch: self.epoch.clone() }.to_json());
        self.broadcast(&frame);
    }

    /// Applies the publications after our position from the bus history, up to (not
    /// including) `before` when given.
    async fn catch_up(&mut self, before: Option<Seq>) {
        let limit = self.ctx.settings.resume_window;
        let Ok(history) = self.ctx.bus.history(&self.id, self.seq, limit).await else { return };
        if history.epoch != self.epoch
            && history.complete
            && history.publications.first().is_none_or(|p| p.seq == Seq(1))
        {
            // The bus lost the whole stream (Redis restarted empty) and a new one began. This
            // room's state is still whole: it continues on the new stream from its start.
            tracing::warn!(room = %self.id, "the bus started a new stream for this room: members resync");
            self.epoch = history.epoch.clone();
            self.seq = Seq::ZERO;
            self.replay.clear();
            self.tell_members_to_resync();
            for publication in history.publications {
                if before.is_some_and(|b| publication.seq >= b) || publication.seq != self.seq.next() {
                    break;
                }
                match self.decode(&publication) {
                    Some(event) => self.accept(publication.seq, event, true),
                    None => self.skip(publication.seq),
                }
            }
            return;
        }
        if history.epoch != self.epoch || !history.complete {
            if history.latest != self.seq || history.epoch != self.epoch {
                self.rebuild().await;
            }
            return;
        }
        for publication in history.publications {
            if before.is_some_and(|b| publication.seq >= b) || publication.seq != self.seq.next() {
                break;
            }
            match self.decode(&publication) {
                Some(event) => self.accept(publication.seq, event, true),
                None => self.skip(publication.seq),
            }
        }
    }

    /// The bus no longer holds what this room missed: start over from what it holds. State
    /// older than the bus history is lost here; the system of record keeps it.
    async fn rebuild(&mut self) {
        tracing::warn!(room = %self.id, "room fell behind the bus history: rebuilding from it");
        self.stage = None;
        self.chat = Box::new(MemoryChatLog::new(self.ctx.settings.chat_buffer));
        self.announcements.clear();
        self.muted.clear();
        self.replay.clear();
        self.qa = QaBoard::new(self.ctx.settings.qa_moderated);
        self.polls = PollBoard::default();
        self.booth = (self.kind == RoomKind::Booth).then(|| BoothRoom::new(self.booth_roster()));
        self.call = (self.kind == RoomKind::Green).then(Room::empty_green_call);
        self.open().await;
        self.tell_members_to_resync();
    }

    fn decode(&self, publication: &Publication) -> Option<StreamEvent> {
        match serde_json::from_slice(&publication.payload) {
            Ok(event) => Some(event),
            Err(e) => {
                tracing::error!(room = %self.id, seq = %publication.seq, error = %e, "undecodable publication");
                None
            }
        }
    }

    fn event_frame(&self, seq: Seq, event: RoomEvent) -> Utf8Bytes {
        Utf8Bytes::from(ServerMsg::Event { room: self.id.clone(), seq, event }.to_json())
    }

    /// Applies the next event in sequence and, when `fan_out`, sends it to every member:
    /// encoded once per audience, the same bytes queued to each member of it.
    fn accept(&mut self, seq: Seq, event: StreamEvent, fan_out: bool) {
        debug_assert_eq!(seq, self.seq.next());
        let frames = match event {
            StreamEvent::Room(event) => {
                self.apply(&event);
                Frames::all(self.event_frame(seq, event))
            }
            StreamEvent::Qa { qa } => self.apply_qa(seq, &qa),
            StreamEvent::Polls { polls } => self.apply_polls(seq, &polls),
            StreamEvent::Booth { booth } => self.apply_booth(seq, &booth),
        };
        self.seq = seq;
        self.replay.push(seq, frames.clone());
        if fan_out {
            self.broadcast_frames(&frames);
        }
    }

    /// Applies a Q&A step and builds what each audience sees of it.
    fn apply_qa(&mut self, seq: Seq, events: &[QaEvent]) -> Frames {
        // Who could see each question before the step (for removals from the audience).
        let mut before: HashMap<String, (bool, UserId)> = HashMap::new();
        let mut put = Vec::new();
        let mut removed = Vec::new();
        for event in events {
            match event {
                QaEvent::Put(q) => {
                    if let Some(old) = self.qa.questions.get(&q.id) {
                        before.entry(q.id.clone()).or_insert((old.state.is_public(), old.asker.clone()));
                    }
                    put.push(q.id.clone());
                }
                QaEvent::Removed { id } => {
                    if let Some(old) = self.qa.questions.get(id) {
                        before.entry(id.clone()).or_insert((old.state.is_public(), old.asker.clone()));
                    }
                    removed.push(id.clone());
                }
                QaEvent::Voted { id, .. } => {
                    self.votes_dirty.insert(id.clone());
                    self.votes_due.get_or_insert_with(|| Instant::now() + VOTE_FLUSH_INTERVAL);
                }
                QaEvent::VotingClosed => {
                    self.votes_due = Some(Instant::now());
                }
            }
            qa::apply(&mut self.qa, event);
        }
        if put.is_empty() && removed.is_empty() {
            return Frames::default();
        }
        let reveal_anonymous = self.ctx.settings.qa_reveal_anonymous;
        let was_public = |id: &String| before.get(id).is_some_and(|(public, _)| *public);
        let current = |id: &String| self.qa.questions.get(id);
        let frame = |changed: Vec<plenary_proto::QuestionView>, removed: Vec<MessageId>| {
            (!changed.is_empty() || !removed.is_empty())
                .then(|| self.event_frame(seq, RoomEvent::Questions { changed, removed }))
        };
        let message_id = |id: &String| MessageId::parse(id.clone()).ok();

        // The audience: public questions; questions that stopped being public leave.
        let public_changed: Vec<_> = put
            .iter()
            .filter_map(current)
            .filter(|q| q.state.is_public())
            .map(|q| qa::view(q, Audience::Public))
            .collect();
        let public_removed: Vec<MessageId> = put
            .iter()
            .filter(|id| current(id).is_some_and(|q| !q.state.is_public()) && was_public(id))
            .chain(removed.iter().filter(|id| was_public(id)))
            .filter_map(message_id)
            .collect();
        let everyone = frame(public_changed, public_removed);
        let moderators = frame(
            put.iter().filter_map(current).map(|q| qa::view(q, Audience::Moderators { reveal_anonymous })).collect(),
            removed.iter().filter_map(message_id).collect(),
        );
        // Each asker involved: its own questions in full, the others as the audience does.
        let mut askers: Vec<UserId> = put.iter().filter_map(current).map(|q| q.asker.clone()).collect();
        askers.extend(before.values().map(|(_, asker)| asker.clone()));
        askers.sort();
        askers.dedup();
        let users = askers
            .into_iter()
            .map(|asker| {
                let changed = put
                    .iter()
                    .filter_map(current)
                    .filter(|q| q.asker == asker || q.state.is_public())
                    .map(|q| qa::view(q, if q.asker == asker { Audience::Asker } else { Audience::Public }))
                    .collect();
                let gone = put
                    .iter()
                    .filter(|id| {
                        current(id).is_some_and(|q| q.asker != asker && !q.state.is_public()) && was_public(id)
                    })
                    .chain(
                        removed
                            .iter()
                            .filter(|id| before.get(*id).is_some_and(|(public, owner)| *public || *owner == asker)),
                    )
                    .filter_map(message_id)
                    .collect();
                let own = frame(changed, gone);
                (asker, own)
            })
            .collect();
        Frames { everyone, moderators, users }
    }

    /// Applies a poll step and builds what each audience sees of it (drafts: moderators only).
    fn apply_polls(&mut self, seq: Seq, events: &[PollEvent]) -> Frames {
        let mut changed = Vec::new();
        let mut removed = Vec::new();
        let mut removed_public = Vec::new();
        for event in events {
            match event {
                PollEvent::Put(p) => changed.push(p.id.clone()),
                PollEvent::Removed { id } => {
                    removed.push(id.clone());
                    if self.polls.polls.get(id).is_some_and(|p| p.state != poll::PollState::Draft) {
                        removed_public.push(id.clone());
                    }
                }
                PollEvent::Answered { id, .. } => {
                    self.tallies_dirty.insert(id.clone());
                    self.votes_due.get_or_insert_with(|| Instant::now() + VOTE_FLUSH_INTERVAL);
                }
            }
            poll::apply(&mut self.polls, event);
        }
        if changed.is_empty() && removed.is_empty() {
            return Frames::default();
        }
        let ids = |list: &[String]| list.iter().filter_map(|id| MessageId::parse(id.clone()).ok()).collect::<Vec<_>>();
        let frame = |changed: Vec<plenary_proto::PollView>, removed: Vec<MessageId>| {
            (!changed.is_empty() || !removed.is_empty())
                .then(|| self.event_frame(seq, RoomEvent::Polls { changed, removed }))
        };
        let public: Vec<_> = changed
            .iter()
            .filter(|id| self.polls.polls.get(*id).is_some_and(|p| p.state != poll::PollState::Draft))
            .filter_map(|id| self.polls.view(id, false))
            .collect();
        let everyone = frame(public, ids(&removed_public));
        let moderators = frame(changed.iter().filter_map(|id| self.polls.view(id, true)).collect(), ids(&removed));
        Frames { everyone, moderators, users: HashMap::new() }
    }

    /// Every poll's results as `audience` may see them, for a member that resumed.
    fn all_tallies_frame(&self, moderator: bool) -> Option<Utf8Bytes> {
        let tallies: Vec<_> = self
            .polls
            .polls
            .values()
            .filter(|p| moderator || p.results_public())
            .filter_map(|p| self.polls.tally_view(&p.id))
            .collect();
        (!tallies.is_empty())
            .then(|| Utf8Bytes::from(ServerMsg::PollResults { room: self.id.clone(), tallies }.to_json()))
    }

    fn snapshot_polls(&self, moderator: bool) -> Vec<plenary_proto::PollView> {
        self.polls
            .polls
            .values()
            .filter(|p| moderator || p.state != poll::PollState::Draft)
            .filter_map(|p| self.polls.view(&p.id, moderator))
            .collect()
    }

    fn answers_of(&self, user: &UserId) -> Vec<plenary_proto::PollChoice> {
        self.polls
            .answers
            .iter()
            .filter_map(|(id, answers)| {
                let choices = answers.get(user)?;
                Some(plenary_proto::PollChoice {
                    id: MessageId::parse(id.clone()).ok()?,
                    choices: choices.iter().copied().collect(),
                })
            })
            .collect()
    }

    /// Sends the counts of the questions whose votes changed since the last time, and the
    /// results of the polls whose answers changed.
    fn flush_votes(&mut self) {
        self.flush_tallies();
        self.votes_due = None;
        let dirty = std::mem::take(&mut self.votes_dirty);
        let votes: Vec<QuestionVotes> = dirty
            .iter()
            .filter_map(|id| self.qa.questions.get(id))
            .filter(|q| q.state.is_public())
            .filter_map(|q| {
                Some(QuestionVotes {
                    id: MessageId::parse(q.id.clone()).ok()?,
                    votes: u32::try_from(q.votes.len()).unwrap_or(u32::MAX),
                })
            })
            .collect();
        if votes.is_empty() {
            return;
        }
        let frame = Utf8Bytes::from(ServerMsg::QaVotes { room: self.id.clone(), votes }.to_json());
        self.broadcast(&frame);
    }

    fn flush_tallies(&mut self) {
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
                .then(|| Utf8Bytes::from(ServerMsg::PollResults { room: self.id.clone(), tallies }.to_json()))
        };
        let frames =
            Frames { everyone: frame(tallies(false)), moderators: frame(tallies(true)), users: HashMap::new() };
        self.broadcast_frames(&frames);
    }

    /// Every public question's count, for a member that resumed.
    fn all_votes_frame(&self) -> Option<Utf8Bytes> {
        let votes: Vec<QuestionVotes> = self
            .qa
            .questions
            .values()
            .filter(|q| q.state.is_public())
            .filter_map(|q| {
                Some(QuestionVotes {
                    id: MessageId::parse(q.id.clone()).ok()?,
                    votes: u32::try_from(q.votes.len()).unwrap_or(u32::MAX),
                })
            })
            .collect();
        (!votes.is_empty()).then(|| Utf8Bytes::from(ServerMsg::QaVotes { room: self.id.clone(), votes }.to_json()))
    }

    /// A Q&A command: decided against the board as the stream has it, published on top of
    /// that state (moderator actions and withdrawals), and acknowledged.
    async fn qa_request(
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

    /// Decides a step against the room's state and publishes it (on top of that state
    /// when `conditional`), deciding again after catching up when another node published
    /// first; records the step and acknowledges. `decide` returns nothing for a command
    /// that changes nothing (acknowledged all the same).
    async fn publish_decided(
        &mut self,
        peer: &Arc<Peer>,
        rid: RequestId,
        conditional: bool,
        what: &str,
        decide: impl Fn(&Room) -> Result<Option<(StreamEvent, Vec<Record>)>, Refusal>,
    ) -> Result<(), Refusal> {
        self.publish_step(conditional, what, decide).await?;
        self.ack(peer, rid);
        Ok(())
    }

    /// [`Room::publish_decided`] without the answer: true when a step was published, false
    /// when the command changed nothing.
    async fn publish_step(
        &mut self,
        conditional: bool,
        what: &str,
        decide: impl Fn(&Room) -> Result<Option<(StreamEvent, Vec<Record>)>, Refusal>,
    ) -> Result<bool, Refusal> {
        for _ in 0..STAGE_ATTEMPTS {
            let Some((step, records)) = decide(self)? else {
                return Ok(false);
            };
            let published = if conditional {
                self.publish_if_current(step).await?
            } else {
                self.publish_stream(step).await?;
                true
            };
            if published {
                for record in records {
                    self.record(record);
                }
                return Ok(true);
            }
            self.catch_up(None).await;
        }
        Err(Refusal::new(ErrorCode::Conflict, format!("the {what} kept changing meanwhile; try again")))
    }

    /// A poll command: decided against the polls as the stream has them and published (on
    /// top of that state for moderator actions and answers that cannot change).
    async fn poll_request(
        &mut self,
        peer: &Arc<Peer>,
        identity: &Identity,
        rid: RequestId,
        request: PollRequest,
    ) -> Result<(), Refusal> {
        if self.kind != RoomKind::Session {
            return Err(Refusal::new(ErrorCode::NotFound, format!("{} has no polls", self.id)));
        }
        let moderator = self.you(identity).can_moderate;
        let now = unix_millis();
        let (command, conditional) = match request {
            PollRequest::Create { question, options, multiple, changeable, results } => {
                let id = uuid::Uuid::now_v7().simple().to_string();
                (PollCommand::Create { id, question, options, multiple, changeable, results }, false)
            }
            PollRequest::Control { id, version, action, results } => {
                let id = id.as_str().to_owned();
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
                let fixed = self.polls.polls.get(id.as_str()).is_some_and(|p| !p.changeable);
                (PollCommand::Answer { id: id.as_str().to_owned(), choices }, fixed)
            }
        };
        let decide = |room: &Room| {
            let events =
                poll::decide(&room.polls, identity.user(), moderator, command.clone(), now).map_err(Refusal::from)?;
            let records = room.poll_records(&events, identity.user(), now);
            Ok((!events.is_empty()).then_some((StreamEvent::Polls { polls: events }, records)))
        };
        self.publish_decided(peer, rid, conditional, "polls", decide).await
    }

    fn poll_records(&self, events: &[PollEvent], by: &UserId, at: i64) -> Vec<Record> {
        events
            .iter()
            .map(|event| match event {
                PollEvent::Put(poll) => Record::PollPut { room: self.id.clone(), poll: poll.clone(), by: by.clone() },
                PollEvent::Removed { id } => {
                    Record::PollRemoved { room: self.id.clone(), id: id.clone(), by: by.clone(), at }
                }
                PollEvent::Answered { id, user, choices } => Record::PollAnswer {
                    room: self.id.clone(),
                    poll: id.clone(),
                    voter: user.clone(),
                    choices: choices.clone(),
                    at,
                },
            })
            .collect()
    }

    /// The session's Q&A settings from the programme (the node's defaults without one).
    fn qa_settings(&self) -> crate::programme::model::QaSettings {
        let slug = self.id.as_str().strip_prefix("session:").unwrap_or(self.id.as_str());
        self.ctx.sessions.as_ref().and_then(|s| s.qa(slug)).unwrap_or(crate::programme::model::QaSettings {
            moderated: self.ctx.settings.qa_moderated,
            anonymous: true,
        })
    }

    /// What the record keeps of a Q&A step this node published.
    fn qa_records(&self, events: &[QaEvent], by: &UserId, votes_changed: bool, at: i64) -> Vec<Record> {
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
    async fn end_qa(&mut self, identity: &Identity) {
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

    fn apply(&mut self, event: &RoomEvent) {
        match event {
            RoomEvent::Stage { stage, .. } => {
                self.stats.set_stage_state(stage.state);
                self.stage = Some(stage.clone());
            }
            RoomEvent::Chat { message } => {
                // The record and the bus history may both hold a message.
                if self.chat.get(&message.id).is_none() && self.chat.append(message.clone()) {
                    self.older_chat_in_record |= self.ctx.writer.is_some();
                }
            }
            RoomEvent::ChatDeleted { id, .. } => {
                self.chat.delete(id);
            }
            RoomEvent::UserMuted { user, until, .. } => {
                self.muted.insert(user.clone(), *until);
            }
            RoomEvent::UserUnmuted { user, .. } => {
                self.muted.remove(user);
            }
            // Clients' views of the boards: the boards change through `apply_qa` and the like.
            RoomEvent::Questions { .. } | RoomEvent::Polls { .. } | RoomEvent::Booth { .. } => {}
            RoomEvent::CallOpened { call } => self.call = Some(call.clone()),
            RoomEvent::CallJoined { member } => {
                if let Some(call) = &mut self.call
                    && !call.members.iter().any(|m| m.id == member.id)
                {
                    call.members.push(member.clone());
                }
            }
            RoomEvent::CallLeft { user } => {
                if let Some(call) = &mut self.call {
                    call.members.retain(|m| m.id != *user);
                }
            }
            RoomEvent::Announcement { announcement } => {
                if self.announcements.len() == ANNOUNCEMENTS_KEPT {
                    self.announcements.pop_front();
                }
                self.announcements.push_back(announcement.clone());
            }
        }
    }
}
