//! The room's members: joining and leaving, attendance, fan-out to every member's outbox,
//! and the records (visits) and acks that wait for the store writer.

use super::*;
use crate::hub::peer::{PeerId, Undeliverable};
use crate::store::Record;

impl RoomCore {
    /// Adds a member; `moderator` when it gets the privileged audience's frames.
    pub(super) fn add_member(&mut self, peer: &Arc<Peer>, identity: &Identity, moderator: bool) {
        let user = identity.user();
        let visit = crate::domain::new_id();
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
        self.members_changed = true;
        self.attendance_changed();
    }

    pub(super) async fn remove_member(&mut self, peer: PeerId) {
        self.drop_member(peer);
        if self.members.is_empty() && self.subscribed {
            self.unsubscribe().await;
        }
    }

    /// Forgets a member without touching the bus (used while fanning out).
    pub(super) fn drop_member(&mut self, peer: PeerId) {
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
        self.members_changed = true;
        self.attendance_changed();
    }

    /// Notes a record for the store; written after the current command.
    pub(super) fn record(&mut self, record: Record) {
        if self.ctx.writer.is_some() {
            self.pending_records.push(record);
        }
    }

    /// Hands the noted records to the store writer, in order (waiting only if its queue
    /// is full), then the acks that wait for them.
    pub(super) async fn flush_records(&mut self) {
        if let Some(writer) = &self.ctx.writer {
            for record in self.pending_records.drain(..) {
                writer.record(record).await;
            }
            for (peer, rid) in self.pending_acks.drain(..) {
                writer.after_commit(Box::new(move |written| answer_after_commit(&peer, rid, written))).await;
            }
        }
    }

    /// Acknowledges a command: at once when it left nothing to record, else once its
    /// records are committed (an `ack` promises the command is in the record).
    pub(super) fn ack(&mut self, peer: &Arc<Peer>, rid: RequestId) {
        if self.ctx.writer.is_some() && !self.pending_records.is_empty() {
            self.pending_acks.push((peer.clone(), rid));
        } else {
            let _ = peer.send_msg(&ServerMsg::Ack { rid });
        }
    }

    /// The node is stopping: every stay in this room ends now.
    pub(super) async fn close_visits(&mut self) {
        let now = unix_millis();
        let visits: Vec<_> = self.members.values().map(|m| m.visit.clone()).collect();
        for visit in visits {
            self.record(Record::Left { visit, at: now });
        }
        self.flush_records().await;
    }

    /// Recomputes the attendance members see: this node's members plus the other nodes'
    /// (from the presence exchange), sent at the coalescer's pace.
    pub(super) fn attendance_changed(&mut self) {
        let mut local = u32::try_from(self.members.len()).unwrap_or(u32::MAX);
        if !self.privileged_are_attendees {
            local = local.saturating_sub(self.privileged_members);
        }
        let local_unique = u32::try_from(self.unique_users.len()).unwrap_or(u32::MAX);
        self.stats.present.store(local, Ordering::Relaxed);
        let present = local.saturating_add(self.stats.others_present.load(Ordering::Relaxed));
        let unique = local_unique.max(self.stats.cluster_unique.load(Ordering::Relaxed));
        self.attendance.set(Attendance { present, unique });
    }

    pub(super) fn send_attendance(&mut self) {
        if let Some(attendance) = self.attendance.take_due(Instant::now()) {
            let frame = Utf8Bytes::from(ServerMsg::Attendance { room: self.id.clone(), attendance }.to_json());
            self.broadcast(&frame);
        }
    }

    /// Queues to each member the frame meant for it, if any.
    pub(super) fn broadcast_frames(&mut self, frames: &Frames) {
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
    pub(super) fn broadcast(&mut self, frame: &Utf8Bytes) {
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
}

/// Answers a command once its records are committed (`ack`), or could not be (a 503).
fn answer_after_commit(peer: &Peer, rid: RequestId, written: bool) {
    let answer = if written {
        ServerMsg::Ack { rid }
    } else {
        ServerMsg::Error {
            rid: Some(rid),
            code: ErrorCode::Unavailable,
            message: "the node stopped before this was recorded; send it again".into(),
            retry_after_ms: None,
        }
    };
    let _ = peer.send_msg(&answer);
}
