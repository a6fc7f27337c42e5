//! The room actor: one task per room owns all of the room's state and takes [`RoomCmd`]s
//! from a bounded mailbox, so no lock guards room state and nothing is held across an
//! `.await`.
//!
//! A room is a generic core ([`core::RoomCore`]: members, the stream position, catch-up and
//! replay, chat and mutes, attendance, records and acks) plus the state of its kind
//! ([`kinds::KindState`]: an event, session, expo, booth, call or green room, each in a file
//! of its own behind the one small interface of [`kinds::RoomKindState`]). The core knows no
//! room kind; a kind knows the core only through that interface.
//!
//! A command that changes the room becomes a [`RoomEvent`] (or a board step), published to
//! the bus, which gives it the room stream's next sequence number. The core then has the
//! event applied (chat by itself, the rest by the kind), encodes the `event` frame once per
//! audience and queues the same bytes to every local member. Events published by other
//! nodes arrive as [`RoomCmd::Deliver`] and take the same path.
//!
//! Files: `commands` (what the mailbox takes), `core` (the core's state and loading it),
//! `stream` (publish, sequence, catch up, replay), `members` (membership, attendance,
//! fan-out, records and acks), `chat` (chat, deletions, mutes), `refusal` (errors to wire
//! codes), `kinds` (the kind interface and registry), and one file per kind: `event`,
//! `session` (with `questions`, `polls` and `media`, its WebRTC stage), `expo`, `booth`,
//! `call`, `green`.

mod booth;
mod call;
mod chat;
mod commands;
mod core;
mod event;
mod expo;
mod green;
mod kinds;
mod media;
mod members;
mod polls;
mod questions;
mod refusal;
mod session;
mod stream;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};

use axum::extract::ws::Utf8Bytes;
pub use booth::BoothRequest;
pub use commands::{ChatRequest, LineupRequest, MediaRequest, PollRequest, QaRequest, RoomCmd, RoomRequest};
pub use green::GREEN_ROOM_CAPACITY;
use plenary_proto::{
    Attendance, ErrorCode, RequestId, RoomEvent, RoomId, RoomKind, Seq, ServerMsg, StageState, StreamPosition, UserId,
};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::time::Instant;

use self::core::{Member, RoomCore};
use self::kinds::{KindState, RoomKindState, StreamState};
use self::refusal::Refusal;
use super::peer::Peer;
use super::{Hub, HubContext};
use crate::auth::Identity;
use crate::clock::unix_millis;
use crate::domain::booth::BoothEvent;
use crate::domain::poll::PollEvent;
use crate::domain::qa::QaEvent;

/// Chat messages in a snapshot and the largest `chat_history` page.
pub const CHAT_PAGE: usize = 50;
/// Tries at publishing a step while other nodes keep publishing first.
const PUBLISH_ATTEMPTS: usize = 5;

/// What one position of a room's stream carries between nodes: a room event as clients
/// see it, or a step of the Q&A board (whole questions with their askers and voters, which
/// each node turns into the views each member may see).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub(super) enum StreamEvent {
    Room(RoomEvent),
    Qa { qa: Vec<QaEvent> },
    Polls { polls: Vec<PollEvent> },
    Booth { booth: Vec<BoothEvent> },
}

/// The frames one stream position becomes: the same bytes for most members, but Q&A steps
/// differ for moderators and for the askers involved, and may be nothing for some.
#[derive(Debug, Clone, Default)]
pub(super) struct Frames {
    pub(super) everyone: Option<Utf8Bytes>,
    pub(super) moderators: Option<Utf8Bytes>,
    /// Users with a frame of their own (the askers of the questions in the step, the
    /// visitors whose requests it changed).
    pub(super) users: HashMap<UserId, Option<Utf8Bytes>>,
}

impl Frames {
    pub(super) fn all(frame: Utf8Bytes) -> Frames {
        Frames { everyone: Some(frame.clone()), moderators: Some(frame), users: HashMap::new() }
    }

    pub(super) fn for_member(&self, user: &UserId, moderator: bool) -> Option<&Utf8Bytes> {
        if moderator {
            return self.moderators.as_ref();
        }
        match self.users.get(user) {
            Some(frame) => frame.as_ref(),
            None => self.everyone.as_ref(),
        }
    }
}

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

/// A room: the generic core and the state of its kind, kept apart so that a kind's code
/// can drive the core (publish, answer, record) while it holds its own state.
pub(super) struct Room {
    core: RoomCore,
    state: KindState,
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
        let mut core = RoomCore::new(id, generation, ctx, stats);
        let state = KindState::new(kind, &core);
        core.privileged_are_attendees = state.privileged_are_attendees();
        Room { core, state }
    }

    /// Runs the actor until the node shuts down or the room stays empty for the idle TTL.
    pub(super) async fn run(mut self, mut mailbox: mpsc::Receiver<RoomCmd>) {
        self.core.open(&mut self.state).await;
        self.state.members_changed(&self.core);
        let shutdown = self.core.ctx.shutdown.clone();
        loop {
            let attendance_due = self.core.attendance.deadline();
            let ttl = self.state.idle_ttl(self.core.ctx.settings.room_idle_ttl());
            let evict_at = self.core.empty_since.map(|since| since + ttl);
            tokio::select! {
                _ = shutdown.cancelled() => {
                    self.core.close_visits().await;
                    return;
                }
                cmd = mailbox.recv() => match cmd {
                    Some(cmd) => self.handle(cmd).await,
                    None => {
                        self.core.close_visits().await;
                        return;
                    }
                },
                _ = sleep_until_some(attendance_due) => self.core.send_attendance(),
                _ = sleep_until_some(self.state.due()) => self.state.on_due(&mut self.core),
                _ = sleep_until_some(evict_at) => {
                    if self.core.members.is_empty() && self.leave_registry() {
                        break;
                    }
                    // Commands are queued: serve them, and try again after another idle spell.
                    self.core.empty_since = Some(Instant::now());
                }
            }
            self.housekeeping().await;
        }
        self.evict(mailbox).await;
    }

    /// After any work: the kind learns of members that came or went, a room whose last
    /// members were dropped while fanning out leaves its topic, and a room that missed
    /// deliveries reads the history.
    async fn housekeeping(&mut self) {
        if std::mem::take(&mut self.core.members_changed) {
            self.state.members_changed(&self.core);
        }
        self.core.flush_records().await;
        if self.core.members.is_empty() && self.core.subscribed {
            self.core.unsubscribe().await;
        }
        if self.core.stats.behind.swap(false, Ordering::Relaxed) && self.core.subscribed {
            self.core.catch_up(&mut self.state, None).await;
        }
    }

    /// Removes this room from the registry if no command is queued for it. Checked under
    /// the registry's shard lock, so no sender can take the mailbox meanwhile: commands
    /// sent later go to a new room.
    fn leave_registry(&self) -> bool {
        let generation = self.core.generation;
        self.core
            .ctx
            .rooms
            .remove_if(&self.core.id, |_, entry| {
                entry.generation == generation && entry.mailbox.capacity() == entry.mailbox.max_capacity()
            })
            .is_some()
    }

    /// After leaving the registry: lets the bus forget the topic and hands any command
    /// that slipped into the mailbox meanwhile to the room's next incarnation, in order.
    async fn evict(self, mut mailbox: mpsc::Receiver<RoomCmd>) {
        let core = self.core;
        core.ctx.metrics.rooms.dec();
        mailbox.close();
        if let Err(e) = core.ctx.bus.release(&core.id).await {
            tracing::warn!(room = %core.id, error = %e, "bus release failed");
        }
        let hub = Hub { ctx: core.ctx.clone() };
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
            if let Err(e) = hub.send(&core.id, cmd).await
                && let Some((peer, rid)) = answer_to
            {
                core.refuse(&peer, rid, Refusal::new(ErrorCode::Unavailable, e.to_string()));
            }
        }
        tracing::debug!(room = %core.id, "room evicted after idling");
    }

    async fn handle(&mut self, cmd: RoomCmd) {
        match cmd {
            RoomCmd::Join { peer, identity, rid, since, admitted } => {
                let joined = self.join(peer, &identity, rid, since).await;
                let _ = admitted.send(joined);
            }
            RoomCmd::Leave { peer, rid } => {
                self.core.remove_member(peer.id).await;
                if let Some(rid) = rid {
                    let _ = peer.send_msg(&ServerMsg::Ack { rid });
                }
            }
            RoomCmd::Request { peer, identity, rid, request } => {
                if !self.core.members.contains_key(&peer.id) && !matches!(request, RoomRequest::Announce { .. }) {
                    let refusal = Refusal::new(ErrorCode::NotJoined, format!("join {} first", self.core.id));
                    self.core.refuse(&peer, rid, refusal);
                    return;
                }
                let you = self.state.membership(&self.core, &identity);
                let answer = match request {
                    RoomRequest::Chat(request) => {
                        self.core.chat_request(&mut self.state, &peer, &identity, &you, rid, request).await
                    }
                    request => self.state.request(&mut self.core, &peer, &identity, rid, request).await,
                };
                if let Err(refusal) = answer {
                    self.core.refuse(&peer, rid, refusal);
                }
            }
            RoomCmd::Deliver(publication) => self.core.sequence(&mut self.state, publication, None).await,
            RoomCmd::Broadcast(frame) => self.core.broadcast(&frame),
            RoomCmd::CatchUp => {
                if self.core.subscribed {
                    self.core.catch_up(&mut self.state, None).await;
                }
            }
            RoomCmd::PresenceChanged => self.core.attendance_changed(),
            RoomCmd::PresenceRound { everywhere } => self.state.presence_round(&mut self.core, everywhere).await,
            RoomCmd::Notice(payload) => self.core.deliver_notice(&payload),
            RoomCmd::Publish(event) => {
                if let Err(refusal) = self.core.publish(&mut self.state, event).await {
                    tracing::warn!(room = %self.core.id, error = %refusal.message, "a node event was not published");
                }
            }
        }
    }

    /// Lets a member in with a snapshot or a replay; returns whether it was let in.
    async fn join(
        &mut self,
        peer: Arc<Peer>,
        identity: &Identity,
        rid: RequestId,
        since: Option<StreamPosition>,
    ) -> bool {
        let (core, state) = (&mut self.core, &mut self.state);
        if core.members.is_empty() && !core.subscribed {
            // Subscribe before catching up, so nothing published in between is missed.
            match core.ctx.bus.subscribe(&core.id).await {
                Ok(()) => core.subscribed = true,
                Err(e) => tracing::warn!(room = %core.id, error = %e, "bus subscribe failed"),
            }
            core.catch_up(state, None).await;
        }
        state.prepare(core).await;
        if let Err(refusal) = state.admit(core, identity) {
            core.refuse(&peer, rid, refusal);
            return false;
        }
        if let Err(refusal) = state.enter(core, identity).await {
            core.refuse(&peer, rid, refusal);
            return false;
        }
        let mut you = state.membership(core, identity);
        you.can_chat &= !core.is_muted(identity.user(), unix_millis());
        let moderator = state.privileged(&you);
        let replay = match &since {
            Some(position) if position.epoch == core.epoch => {
                core.missed_since(position.seq, identity.user(), moderator).await
            }
            _ => None,
        }
        // A replay that would overflow the outbox would close the client as slow, and it
        // would retry the same resume forever: it gets a snapshot instead.
        .filter(|frames| frames.len() < peer.room_left());
        core.add_member(&peer, identity, moderator);
        let attendance = core.attendance.current();
        match replay {
            Some(frames) => {
                let resumed = ServerMsg::Resumed {
                    rid,
                    room: core.id.clone(),
                    epoch: core.epoch.clone(),
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
                    // What is not replayed one by one (vote counts, poll results): as it is now.
                    for frame in state.resume_frames(core, moderator) {
                        let _ = peer.send(frame);
                    }
                }
            }
            None => {
                let (chat, chat_more) = core.chat_page(None, CHAT_PAGE);
                let chat_more = chat_more || core.older_chat_in_record;
                let parts = state.snapshot(core, identity, moderator);
                let snapshot = ServerMsg::Snapshot {
                    rid,
                    room: core.id.clone(),
                    epoch: core.epoch.clone(),
                    seq: core.seq,
                    recovered: since.map(|_| false),
                    stage: parts.stage,
                    attendance,
                    chat,
                    chat_more,
                    announcements: parts.announcements,
                    questions: parts.questions,
                    questions_more: parts.questions_more,
                    my_votes: parts.my_votes,
                    polls: parts.polls,
                    my_answers: parts.my_answers,
                    booth: parts.booth,
                    call: parts.call,
                    ice_servers: parts.ice_servers,
                    stage_tracks: parts.stage_tracks,
                    on_stage: parts.on_stage,
                    hands: parts.hands,
                    you,
                };
                let _ = peer.send_msg(&snapshot);
            }
        }
        // After the snapshot, so a staff member's own arrival reaches it as the next event.
        state.joined(core, &peer, identity).await;
        state.members_changed(core);
        core.members_changed = false;
        true
    }
}
