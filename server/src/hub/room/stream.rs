//! The room's stream: publishing a step (encode, sequence on the bus, record, fan out),
//! taking deliveries in sequence order, filling gaps from the bus history, restarting on a
//! new epoch, and replaying what a resuming member missed. The kind's state is passed in
//! (as a [`StreamState`]) wherever events are applied.

use super::*;
use crate::bus::Publication;
use crate::store::Record;
use bytes::Bytes;

impl RoomCore {
    /// Applies the bus history.
    pub(super) async fn restore_history(&mut self, state: &mut dyn StreamState) {
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
                        Some(event) => self.accept(state, publication.seq, event, false),
                        None => self.skip(publication.seq),
                    }
                }
            }
            Err(e) => tracing::warn!(room = %self.id, error = %e, "could not read room history"),
        }
    }

    /// The frames after `seen` that this member may see, from the resume window or else
    /// the bus history; `None` unless every missed event can be replayed.
    pub(super) async fn missed_since(&self, seen: Seq, user: &UserId, moderator: bool) -> Option<Vec<Utf8Bytes>> {
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

    /// Publishes an event and, once the bus has given it a sequence number, applies and
    /// fans it out here (the bus's own delivery of it is then recognised as seen).
    pub(super) async fn publish(&mut self, state: &mut dyn StreamState, event: RoomEvent) -> Result<(), Refusal> {
        self.publish_stream(state, StreamEvent::Room(event)).await
    }

    pub(super) async fn publish_stream(
        &mut self,
        state: &mut dyn StreamState,
        event: StreamEvent,
    ) -> Result<(), Refusal> {
        let payload = Bytes::from(serde_json::to_vec(&event).expect("stream events always serialise"));
        let publication = self.ctx.bus.publish(&self.id, payload).await.map_err(|e| {
            tracing::warn!(room = %self.id, error = %e, "publish failed");
            Refusal::new(ErrorCode::Unavailable, "the event bus is unavailable; try again")
        })?;
        let record = self.record_of(&event);
        self.sequence(state, publication, Some(event)).await;
        if let Some(record) = record {
            self.record(record);
        }
        Ok(())
    }

    /// Publishes an event only if the room's stream is where this room last saw it; false
    /// when another node published first.
    pub(super) async fn publish_if_current(
        &mut self,
        state: &mut dyn StreamState,
        event: StreamEvent,
    ) -> Result<bool, Refusal> {
        let payload = Bytes::from(serde_json::to_vec(&event).expect("stream events always serialise"));
        let published = self.ctx.bus.publish_if(&self.id, payload, &self.epoch, self.seq).await.map_err(|e| {
            tracing::warn!(room = %self.id, error = %e, "publish failed");
            Refusal::new(ErrorCode::Unavailable, "the event bus is unavailable; try again")
        })?;
        let Some(publication) = published else { return Ok(false) };
        let record = self.record_of(&event);
        self.sequence(state, publication, Some(event)).await;
        if let Some(record) = record {
            self.record(record);
        }
        Ok(true)
    }

    /// What the record keeps of an event this node published (each event is recorded once,
    /// by the node that published it).
    pub(super) fn record_of(&self, event: &StreamEvent) -> Option<Record> {
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
            | RoomEvent::CallLeft { .. }
            | RoomEvent::StageTracks { .. }
            | RoomEvent::StageLineup { .. } => return None,
        })
    }

    /// Puts a publication in order: duplicates are ignored and a gap is filled from the
    /// bus history first. `event` is the decoded payload when the caller already has it.
    pub(super) async fn sequence(
        &mut self,
        state: &mut dyn StreamState,
        publication: Publication,
        event: Option<StreamEvent>,
    ) {
        if publication.epoch != self.epoch {
            tracing::warn!(room = %self.id, "room stream has a new epoch: resume history restarts");
            self.restart_stream(&publication);
        }
        if publication.seq <= self.seq {
            return;
        }
        if publication.seq > self.seq.next() {
            self.catch_up(state, Some(publication.seq)).await;
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
            Some(event) => self.accept(state, publication.seq, event, true),
            None => self.skip(publication.seq),
        }
    }

    /// Steps over an event this node cannot read: resuming across it is impossible.
    pub(super) fn skip(&mut self, seq: Seq) {
        self.seq = seq;
        self.replay.clear();
    }

    pub(super) fn restart_stream(&mut self, publication: &Publication) {
        self.epoch = publication.epoch.clone();
        self.seq = Seq(publication.seq.0.saturating_sub(1));
        self.replay.clear();
        self.tell_members_to_resync();
    }

    /// The room's stream lost continuity (a new epoch, or events nobody can replay):
    /// members' positions mean nothing now, so each is told to join again for a snapshot.
    pub(super) fn tell_members_to_resync(&mut self) {
        if self.members.is_empty() {
            return;
        }
        let frame = Utf8Bytes::from(ServerMsg::Resync { room: self.id.clone(), epoch: self.epoch.clone() }.to_json());
        self.broadcast(&frame);
    }

    /// Applies the publications after our position from the bus history, up to (not
    /// including) `before` when given.
    pub(super) async fn catch_up(&mut self, state: &mut dyn StreamState, before: Option<Seq>) {
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
            self.apply_history(state, history.publications, before);
            return;
        }
        if history.epoch != self.epoch || !history.complete {
            if history.latest != self.seq || history.epoch != self.epoch {
                self.rebuild(state).await;
            }
            return;
        }
        self.apply_history(state, history.publications, before);
    }

    /// Applies publications read from the bus history in order, while each is the next one
    /// (and before `before`), fanning each out.
    fn apply_history(&mut self, state: &mut dyn StreamState, publications: Vec<Publication>, before: Option<Seq>) {
        for publication in publications {
            if before.is_some_and(|b| publication.seq >= b) || publication.seq != self.seq.next() {
                break;
            }
            match self.decode(&publication) {
                Some(event) => self.accept(state, publication.seq, event, true),
                None => self.skip(publication.seq),
            }
        }
    }

    /// The bus no longer holds what this room missed: start over from what it holds. State
    /// older than the bus history is lost here; the system of record keeps it.
    pub(super) async fn rebuild(&mut self, state: &mut dyn StreamState) {
        tracing::warn!(room = %self.id, "room fell behind the bus history: rebuilding from it");
        self.reset(state);
        Box::pin(self.open(state)).await;
        self.tell_members_to_resync();
    }

    pub(super) fn decode(&self, publication: &Publication) -> Option<StreamEvent> {
        match serde_json::from_slice(&publication.payload) {
            Ok(event) => Some(event),
            Err(e) => {
                tracing::error!(room = %self.id, seq = %publication.seq, error = %e, "undecodable publication");
                None
            }
        }
    }

    pub(super) fn event_frame(&self, seq: Seq, event: RoomEvent) -> Utf8Bytes {
        Utf8Bytes::from(ServerMsg::Event { room: self.id.clone(), seq, event }.to_json())
    }

    /// Applies the next event in sequence and, when `fan_out`, sends it to every member:
    /// encoded once per audience, the same bytes queued to each member of it.
    pub(super) fn accept(&mut self, state: &mut dyn StreamState, seq: Seq, event: StreamEvent, fan_out: bool) {
        debug_assert_eq!(seq, self.seq.next());
        let frames = match event {
            StreamEvent::Room(event) => {
                self.apply_chat(&event);
                state.apply_event(self, &event);
                Frames::all(self.event_frame(seq, event))
            }
            step => state.apply_step(self, seq, &step),
        };
        self.seq = seq;
        self.replay.push(seq, frames.clone());
        if fan_out {
            self.broadcast_frames(&frames);
        }
    }

    /// Decides a step against the room's state and publishes it (on top of that state
    /// when `conditional`), deciding again after catching up when another node published
    /// first; records the step and acknowledges. `decide` returns nothing for a command
    /// that changes nothing (acknowledged all the same).
    pub(super) async fn publish_decided<S: StreamState>(
        &mut self,
        state: &mut S,
        peer: &Arc<Peer>,
        rid: RequestId,
        conditional: bool,
        what: &str,
        decide: impl Fn(&S, &RoomCore) -> Decision,
    ) -> Result<(), Refusal> {
        self.publish_step(state, conditional, what, decide).await?;
        self.ack(peer, rid);
        Ok(())
    }

    /// [`RoomCore::publish_decided`] without the answer: true when a step was published,
    /// false when the command changed nothing.
    pub(super) async fn publish_step<S: StreamState>(
        &mut self,
        state: &mut S,
        conditional: bool,
        what: &str,
        decide: impl Fn(&S, &RoomCore) -> Decision,
    ) -> Result<bool, Refusal> {
        for _ in 0..PUBLISH_ATTEMPTS {
            let Some((step, records)) = decide(state, self)? else {
                return Ok(false);
            };
            let published = if conditional {
                self.publish_if_current(state, step).await?
            } else {
                self.publish_stream(state, step).await?;
                true
            };
            if published {
                for record in records {
                    self.record(record);
                }
                return Ok(true);
            }
            self.catch_up(state, None).await;
        }
        Err(Refusal::new(ErrorCode::Conflict, format!("the {what} kept changing meanwhile; try again")))
    }
}

/// What a command decided against the room's state: the step to publish and the records it
/// makes, nothing when it changes nothing, or why it is refused.
pub(super) type Decision = Result<Option<(StreamEvent, Vec<Record>)>, Refusal>;
