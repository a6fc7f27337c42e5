//! The room core's state: who is here, the stream position and replay window, the chat and
//! its mutes, attendance, and what waits for the store writer; and loading it when the room
//! opens. It knows no room kind: what a kind adds lives in its [`super::kinds::KindState`].

use std::collections::{HashMap, HashSet};

use super::*;
use crate::domain::attendance::AttendanceCoalescer;
use crate::domain::chat::{ChatLog, MemoryChatLog};
use crate::domain::rate::TokenBucket;
use crate::domain::replay::ReplayWindow;
use crate::hub::peer::PeerId;
use crate::metrics::ReasonLabel;
use crate::store::Record;
use bytes::Bytes;
use plenary_proto::{Epoch, Seq};

#[derive(Debug)]
pub(super) struct Member {
    pub(super) peer: Arc<Peer>,
    pub(super) user: UserId,
    /// Gets the privileged audience's frames: in a session the moderators' (every question),
    /// in a booth its staff's (every contact request).
    pub(super) moderator: bool,
    /// Names this stay in the attendance record.
    pub(super) visit: plenary_proto::MessageId,
}

pub(super) struct RoomCore {
    pub(super) id: RoomId,
    pub(super) generation: u64,
    pub(super) ctx: Arc<HubContext>,
    pub(super) stats: Arc<RoomStats>,
    pub(super) members: HashMap<PeerId, Member>,
    pub(super) connections_per_user: HashMap<UserId, u32>,
    /// Members with the privileged audience's frames.
    pub(super) privileged_members: u32,
    /// Whether privileged members count in the attendance (a booth counts its visitors
    /// only: its staff show in the staff list).
    pub(super) privileged_are_attendees: bool,
    /// Members came or went since the kind was last told.
    pub(super) members_changed: bool,
    pub(super) unique_users: HashSet<UserId>,
    pub(super) chat: Box<dyn ChatLog>,
    pub(super) muted: HashMap<UserId, Option<i64>>,
    pub(super) chat_buckets: HashMap<UserId, TokenBucket>,
    pub(super) epoch: Epoch,
    pub(super) seq: Seq,
    pub(super) replay: ReplayWindow<Frames>,
    pub(super) attendance: AttendanceCoalescer,
    pub(super) empty_since: Option<Instant>,
    pub(super) subscribed: bool,
    /// Records made while handling a command, handed to the store writer in order after it.
    pub(super) pending_records: Vec<Record>,
    /// Acks of commands whose records are in `pending_records`: sent by the store writer
    /// once those are committed.
    pub(super) pending_acks: Vec<(Arc<Peer>, RequestId)>,
    /// Whether chat older than the in-memory log exists in the record.
    pub(super) older_chat_in_record: bool,
}

impl RoomCore {
    pub(super) fn new(id: RoomId, generation: u64, ctx: Arc<HubContext>, stats: Arc<RoomStats>) -> Self {
        let settings = &ctx.settings;
        RoomCore {
            generation,
            stats,
            members: HashMap::new(),
            connections_per_user: HashMap::new(),
            privileged_members: 0,
            privileged_are_attendees: true,
            members_changed: false,
            unique_users: HashSet::new(),
            chat: Box::new(MemoryChatLog::new(settings.chat_buffer)),
            muted: HashMap::new(),
            chat_buckets: HashMap::new(),
            epoch: Epoch::parse("0").expect("valid epoch"),
            seq: Seq::ZERO,
            replay: ReplayWindow::new(settings.resume_window),
            attendance: AttendanceCoalescer::new(settings.attendance_interval()),
            empty_since: Some(Instant::now()),
            subscribed: false,
            pending_records: Vec::new(),
            pending_acks: Vec::new(),
            older_chat_in_record: false,
            id,
            ctx,
        }
    }

    /// Loads the room's state: first from the record (the core's chat and mutes, then what
    /// the kind keeps), then from the bus history on top, so a room restarted on this node
    /// (or opened on a second node) starts where the stream is.
    pub(super) async fn open(&mut self, state: &mut dyn StreamState) {
        if let Some(writer) = &self.ctx.writer {
            match writer.store().room(&self.id, self.ctx.settings.chat_buffer, unix_millis()).await {
                Ok(mut stored) => {
                    for message in std::mem::take(&mut stored.chat) {
                        self.chat.append(message);
                    }
                    self.older_chat_in_record = stored.chat_more;
                    self.muted.extend(std::mem::take(&mut stored.mutes));
                    state.restore(self, stored);
                }
                Err(e) => tracing::error!(room = %self.id, error = %e, "could not read the room's record"),
            }
        }
        self.restore_history(state).await;
    }

    /// The room fell behind what the bus holds: the core and the kind start empty.
    pub(super) fn reset(&mut self, state: &mut dyn StreamState) {
        self.chat = Box::new(MemoryChatLog::new(self.ctx.settings.chat_buffer));
        self.muted.clear();
        self.replay.clear();
        state.reset(self);
    }

    pub(super) async fn unsubscribe(&mut self) {
        self.subscribed = false;
        if let Err(e) = self.ctx.bus.unsubscribe(&self.id).await {
            tracing::warn!(room = %self.id, error = %e, "bus unsubscribe failed");
        }
    }

    pub(super) fn is_muted(&self, user: &UserId, now: i64) -> bool {
        self.muted.get(user).is_some_and(|until| until.is_none_or(|until| until > now))
    }

    pub(super) fn refuse(&self, peer: &Peer, rid: RequestId, refusal: Refusal) {
        self.ctx.metrics.rejected_commands.get_or_create(&ReasonLabel { reason: refusal.code.label() }).inc();
        let _ = peer.send_msg(&ServerMsg::Error {
            rid: Some(rid),
            code: refusal.code,
            message: refusal.message,
            retry_after_ms: refusal.retry_after_ms,
        });
    }

    /// Hands a relayed signal to the addressee's connections in this room, if any here. Its
    /// content is never read or logged (ICE candidates carry addresses).
    pub(super) fn deliver_notice(&self, payload: &Bytes) {
        let Some(newline) = payload.iter().position(|b| *b == b'\n') else { return };
        let Ok(to) = std::str::from_utf8(&payload[..newline]) else { return };
        let Ok(frame) = Utf8Bytes::try_from(payload.slice(newline + 1..)) else { return };
        for member in self.members.values().filter(|m| m.user.as_str() == to) {
            // A full outbox closes that connection; the room notices at its next broadcast.
            let _ = member.peer.send(frame.clone());
        }
    }
}
