//! The room actor: one task per room owns all of the room's state (members, stage, chat,
//! mutes, sequence, resume window, attendance) and takes [`RoomCmd`]s from a bounded
//! mailbox, so no lock guards room state and nothing is held across an `.await`.
//!
//! A command that changes the room becomes a [`RoomEvent`], published to the bus, which
//! gives it the room stream's next sequence number. The actor then applies the event to its
//! state, encodes the `event` frame once and queues the same bytes to every local member.
//! Events published by other nodes arrive as [`RoomCmd::Deliver`] and take the same path.
//!
//! This file holds the actor's state, its loop and joining; the rest of the same actor is
//! split by responsibility: `commands` (what the mailbox takes), `stream` (publish, sequence,
//! catch up, replay), `members` (membership, attendance, fan-out, records and acks),
//! `requests` (stage, chat, mutes, announcements), `questions` and `polls` (the boards),
//! `pages` (paged reads), `booth` and `green` (the exhibition and the speakers' green room).

mod booth;
mod commands;
mod green;
mod members;
mod pages;
mod polls;
mod questions;
mod requests;
mod stream;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};

use axum::extract::ws::Utf8Bytes;
pub use booth::BoothRequest;
use booth::BoothRoom;
use bytes::Bytes;
pub use commands::{PollRequest, QaRequest, RoomCmd, RoomRequest};
pub use green::GREEN_ROOM_CAPACITY;
use green::GreenRoom;
use plenary_proto::{
    Announcement, Attendance, CallInfo, Epoch, ErrorCode, Membership, MessageId, QaAction, QuestionVotes, RequestId,
    Role, RoomEvent, RoomId, RoomKind, Seq, ServerMsg, Stage, StageState, StreamPosition, UserId,
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
use crate::domain::chat::{self, ChatError, ChatLog, ChatRefusal, MemoryChatLog};
use crate::domain::page;
use crate::domain::permissions::membership;
use crate::domain::poll::{self, PollBoard, PollCommand, PollError, PollEvent};
use crate::domain::qa::{self, Actor, QaBoard, QaCommand, QaError, QaEvent, StateRules};
use crate::domain::rate::TokenBucket;
use crate::domain::replay::ReplayWindow;
use crate::domain::stage::{self, StageError};
use crate::metrics::ReasonLabel;
use crate::store::Record;

/// Chat messages in a snapshot and the largest `chat_history` page.
pub const CHAT_PAGE: usize = 50;
/// Announcements kept for the event room's snapshot.
const ANNOUNCEMENTS_KEPT: usize = 20;
/// Tries at publishing a stage change while other nodes keep publishing first.
const STAGE_ATTEMPTS: usize = 5;
/// How long a call room whose call is unknown stays after a refused join.
const UNKNOWN_CALL_TTL: std::time::Duration = std::time::Duration::from_secs(1);

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

impl From<ChatRefusal> for Refusal {
    fn from(e: ChatRefusal) -> Self {
        let code = match &e {
            ChatRefusal::Text(text) => return Refusal::from(text.clone()),
            ChatRefusal::Muted { .. } => ErrorCode::Muted,
            ChatRefusal::NoMessage(_) | ChatRefusal::NotMuted(_) => ErrorCode::NotFound,
            ChatRefusal::BadMinutes => ErrorCode::Invalid,
            ChatRefusal::NoChat
            | ChatRefusal::NotYours
            | ChatRefusal::ModeratorsOnly(_)
            | ChatRefusal::OrganisersOnly => ErrorCode::Forbidden,
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
}
