//! The booth side of a room actor: staff presence, contact requests and the private calls
//! accepted requests open. Decisions are the pure functions of `domain::booth`; this module
//! runs them against the board as the room's stream has it, publishes the steps (on top of
//! that state, so two staff members on two nodes cannot both take one request), frames each
//! step per audience (staff see the queue, a visitor only its own request), and keeps the
//! presence figures the hub reports to the bus.
//!
//! Presence over nodes: each node reports, once per attendance interval, which watched users
//! (the booth's staff, visitors with a waiting request) have a connection here; the bus
//! returns the union over live nodes and the room compares it with the board. A staff
//! member absent from the union for [`ABSENCE_CONFIRM_MS`] is published as disconnected
//! and shows offline after the grace period; a visitor absent for the grace period loses
//! its waiting live request. A killed node stops reporting, so its users leave the union
//! after `PRESENCE_TTL`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::ws::Utf8Bytes;
use bytes::Bytes;
use plenary_proto::{
    BoothView, CallInfo, ContactRequestView, ErrorCode, MessageId, RequestId, RoomEvent, Seq, ServerMsg, StaffStatus,
    UserId, UserProfile,
};

use super::{Frames, Refusal, Room, StreamEvent};
use crate::auth::Identity;
use crate::clock::unix_millis;
use crate::domain::booth::{
    self, BoothBoard, BoothCommand, BoothError, BoothEvent, ContactKind, ContactRequest, RequestState, StaffPresence,
};
use crate::domain::{booth_views, page};
use crate::hub::peer::Peer;
use crate::store::{RECENT_REQUESTS_MS, Record};

/// How long a staff member must be missing from every node's report before this node
/// publishes them as disconnected: two presence rounds, so a tab that just moved to another
/// node is not taken for gone.
pub(super) const ABSENCE_CONFIRM_MS: i64 = 2_000;

/// A booth command as a client sends it.
#[derive(Debug, Clone)]
pub enum BoothRequest {
    Status { status: StaffStatus },
    Request { message: Option<String> },
    Cancel { id: MessageId },
    Accept { id: MessageId },
}

/// A booth room's own state.
#[derive(Debug)]
pub(super) struct BoothRoom {
    pub(super) board: BoothBoard,
    /// Staff the last reports did not show anywhere, and since when.
    staff_missing: HashMap<UserId, i64>,
    /// Visitors with a waiting request the last reports did not show anywhere, and since when.
    visitors_gone: HashMap<UserId, i64>,
    /// Visitors with a waiting request (live or callback), and whether one is live: kept
    /// after every step so a join or leave does not scan the requests.
    waiting: HashMap<UserId, bool>,
}

impl BoothRoom {
    pub(super) fn new(roster: Vec<UserId>) -> BoothRoom {
        BoothRoom {
            board: BoothBoard::new(roster),
            staff_missing: HashMap::new(),
            visitors_gone: HashMap::new(),
            waiting: HashMap::new(),
        }
    }

    /// Recomputes [`BoothRoom::waiting`] from the board.
    fn index_waiting(&mut self) {
        self.waiting.clear();
        for r in self.board.requests.values().filter(|r| r.state == RequestState::Waiting) {
            *self.waiting.entry(r.visitor.clone()).or_default() |= r.kind == ContactKind::Live;
        }
    }
}

impl From<BoothError> for Refusal {
    fn from(e: BoothError) -> Self {
        let code = match e {
            BoothError::Forbidden => ErrorCode::Forbidden,
            BoothError::NotFound(_) => ErrorCode::NotFound,
            BoothError::Taken | BoothError::NotWaiting | BoothError::AlreadyWaiting | BoothError::NobodyAvailable => {
                ErrorCode::Conflict
            }
            BoothError::Invalid(_) => ErrorCode::Invalid,
        };
        Refusal::new(code, e.to_string())
    }
}

/// The name of the node's own decisions (presence ticks) in the record.
fn system() -> UserId {
    UserId::parse("plenary").expect("a valid user id")
}

impl Room {
    /// The booth's staff from the programme (grants join as their holders connect).
    pub(super) fn booth_roster(&self) -> Vec<UserId> {
        let slug = self.id.name();
        self.ctx
            .sessions
            .as_ref()
            .and_then(|index| index.booth(slug))
            .map(|b| b.staff.iter().filter_map(|s| UserId::parse(s.clone()).ok()).collect())
            .unwrap_or_default()
    }

    /// Whether `identity` is one of this booth's staff: named on the booth in the programme,
    /// or granted `exhibitor` for this booth.
    pub(super) fn is_booth_staff(&self, identity: &Identity) -> bool {
        if self.kind != plenary_proto::RoomKind::Booth {
            return false;
        }
        let slug = self.id.name();
        identity.staffs.iter().any(|b| b == slug)
            || self
                .ctx
                .sessions
                .as_ref()
                .and_then(|index| index.booth(slug))
                .is_some_and(|b| b.staff.iter().any(|s| s == identity.user().as_str()))
    }

    /// What a joining member sees of the booth.
    pub(super) fn booth_snapshot(&self, user: &UserId, staff: bool) -> Option<BoothView> {
        let booth = self.booth.as_ref()?;
        let board = &booth.board;
        let positions = board.positions();
        let requests = board
            .requests
            .values()
            .filter(|r| staff || r.visitor == *user)
            .filter_map(|r| booth::request_view(board, r, positions.get(&r.id).copied()));
        // Oldest first: the head of the queue is in the first page; `booth_page` gives the rest.
        let page = page::take(requests, page::PAGE_ITEMS, page::PAGE_BYTES);
        Some(BoothView { staff: booth::staff_views(board), requests: page.items, more: page.more })
    }

    /// After a member joined: a staff member shows connected at once (and joins the
    /// roster, when a grant made them staff).
    pub(super) async fn booth_joined(&mut self, identity: &Identity) {
        let Some(booth) = &mut self.booth else { return };
        let user = identity.user().clone();
        booth.visitors_gone.remove(&user);
        if self.is_booth_staff(identity) {
            let booth = self.booth.as_mut().expect("a booth room");
            if !booth.board.roster.contains(&user) {
                booth.board.roster.push(user.clone());
            }
            booth.staff_missing.remove(&user);
            let known = booth.board.staff.get(&user);
            if known.is_none_or(|p| p.connections == 0 || p.name != identity.profile.name) {
                let command = BoothCommand::StaffConnections {
                    staff: user,
                    connections: 1,
                    name: Some(identity.profile.name.clone()),
                };
                if let Err(refusal) = self.publish_booth(command, &system(), "", true).await {
                    tracing::warn!(room = %self.id, error = %refusal.message, "could not show a staff member connected");
                }
            }
        }
        self.update_booth_stats();
    }

    /// A booth command from a member: decided against the board as the stream has it,
    /// published (accepts, cancels and status changes on top of that state), acknowledged.
    pub(super) async fn booth_request(
        &mut self,
        peer: &Arc<Peer>,
        identity: &Identity,
        rid: RequestId,
        request: BoothRequest,
    ) -> Result<(), Refusal> {
        if self.booth.is_none() {
            return Err(Refusal::new(ErrorCode::NotFound, format!("{} is not a booth", self.id)));
        }
        let staff = self.is_booth_staff(identity);
        let (command, conditional) = match request {
            BoothRequest::Status { status } => {
                if !staff {
                    return Err(BoothError::Forbidden.into());
                }
                (BoothCommand::SetStatus { status }, true)
            }
            BoothRequest::Request { message } => {
                if staff {
                    return Err(Refusal::new(ErrorCode::Invalid, "you are staff of this booth"));
                }
                // Requests count against the same per-user budget as chat messages.
                self.take_chat_token(identity.user())?;
                let id = uuid::Uuid::now_v7().simple().to_string();
                (BoothCommand::Request { id, message }, true)
            }
            BoothRequest::Cancel { id } => (BoothCommand::Cancel { id: id.as_str().to_owned() }, true),
            BoothRequest::Accept { id } => {
                if !staff {
                    return Err(BoothError::Forbidden.into());
                }
                (BoothCommand::Accept { id: id.as_str().to_owned() }, true)
            }
        };
        if staff && let Some(booth) = &mut self.booth {
            // Identity-checked staff: the board's roster learns grants it did not list.
            if !booth.board.roster.contains(identity.user()) {
                booth.board.roster.push(identity.user().clone());
            }
        }
        let accept = match &command {
            BoothCommand::Accept { id } => Some(id.clone()),
            _ => None,
        };
        self.publish_booth(command, identity.user(), &identity.profile.name, conditional).await?;
        if let Some(id) = accept {
            // Also when the accept changed nothing: the same staff member retrying after a
            // lost answer gets its call opened (again; opening is idempotent).
            self.open_call(&id, identity).await;
        }
        self.ack(peer, rid);
        Ok(())
    }

    /// Decides and publishes one booth command; records each request it changes.
    async fn publish_booth(
        &mut self,
        command: BoothCommand,
        user: &UserId,
        name: &str,
        conditional: bool,
    ) -> Result<bool, Refusal> {
        let decide = |room: &Room| {
            let Some(booth) = &room.booth else { return Ok(None) };
            let now = unix_millis();
            let events = booth::decide(&booth.board, user, name, command.clone(), now).map_err(Refusal::from)?;
            let records = events
                .iter()
                .map(|event| match event {
                    BoothEvent::Request(request) => {
                        Record::ContactRequest { room: room.id.clone(), request: request.clone() }
                    }
                    BoothEvent::Staff { user, presence } => Record::BoothStaff {
                        room: room.id.clone(),
                        user: user.clone(),
                        presence: presence.clone(),
                        at: now,
                    },
                })
                .collect();
            Ok((!events.is_empty()).then_some((StreamEvent::Booth { booth: events }, records)))
        };
        self.publish_step(conditional, "booth", decide).await
    }

    /// The request `id` was accepted by `identity`: its call room learns who may join (the
    /// first event of its stream, and the record).
    async fn open_call(&mut self, id: &str, identity: &Identity) {
        let Some(request) = self.booth.as_ref().and_then(|b| b.board.requests.get(id)).cloned() else { return };
        if request.state != (RequestState::Accepted { by: identity.user().clone() }) {
            return;
        }
        let Some(room) = booth::call_room(id) else { return };
        let call = CallInfo {
            members: vec![
                UserProfile { id: request.visitor.clone(), name: request.visitor_name.clone(), country: None },
                identity.profile.clone(),
            ],
            booth: Some(self.id.name().to_owned()),
            opened_at: unix_millis(),
        };
        let step = StreamEvent::Room(RoomEvent::CallOpened { call: call.clone() });
        let payload = Bytes::from(serde_json::to_vec(&step).expect("stream events always serialise"));
        if let Err(e) = self.ctx.bus.publish(&room, payload).await {
            // The record still has it: the call room reads it when it opens.
            tracing::warn!(%room, error = %e, "could not publish the call's opening");
        }
        self.record(Record::CallOpened { room, call });
        // Recorded again (an upsert): the step's own record is lost when its publish answer was.
        self.record(Record::ContactRequest { room: self.id.clone(), request });
    }

    /// A call room's members from the record: its opening, or else the accepted request.
    pub(super) async fn load_call(&mut self) {
        let Some(writer) = &self.ctx.writer else { return };
        match writer.store().call(&self.id).await {
            Ok(call) => self.call = call,
            Err(e) => tracing::warn!(room = %self.id, error = %e, "could not read the call's record"),
        }
    }

    /// Applies a booth step and builds what each audience sees of it: staff changes for
    /// everyone; every changed request (and the queue's new positions) for staff; each
    /// visitor involved its own request.
    pub(super) fn apply_booth(&mut self, seq: Seq, events: &[BoothEvent]) -> Frames {
        let Some(booth) = &mut self.booth else { return Frames::default() };
        let views = booth_views::apply_step(&mut booth.board, events);
        booth.index_waiting();
        let frame = |staff: Vec<plenary_proto::StaffView>, requests: Vec<ContactRequestView>| {
            (!staff.is_empty() || !requests.is_empty()).then(|| {
                Utf8Bytes::from(
                    ServerMsg::Event { room: self.id.clone(), seq, event: RoomEvent::Booth { staff, requests } }
                        .to_json(),
                )
            })
        };
        let everyone = frame(views.staff.clone(), Vec::new());
        let moderators = frame(views.staff.clone(), views.for_staff);
        let users =
            views.by_visitor.into_iter().map(|(visitor, own)| (visitor, frame(views.staff.clone(), own))).collect();
        self.update_booth_stats();
        Frames { everyone, moderators, users }
    }

    /// The presence figures the hub reports for this booth: watched users with a connection
    /// here and staff here and available. O(staff + waiting requests), not O(members).
    pub(super) fn update_booth_stats(&self) {
        let Some(booth) = &self.booth else { return };
        let board = &booth.board;
        let here = |user: &UserId| self.connections_per_user.contains_key(user);
        let mut watched: Vec<UserId> = board.roster.iter().filter(|u| here(u)).cloned().collect();
        let on_duty: Vec<UserId> = watched
            .iter()
            .filter(|u| board.staff.get(*u).is_some_and(|p| p.shown == StaffStatus::Available))
            .cloned()
            .collect();
        watched.extend(booth.waiting.keys().filter(|v| here(v)).cloned());
        watched.sort();
        watched.dedup();
        *self.stats.watched.lock().expect("stats lock") = watched;
        *self.stats.on_duty.lock().expect("stats lock") = on_duty;
        let expecting = board.staff.values().any(|p| p.connections > 0 || p.shown != StaffStatus::Offline)
            || booth.waiting.values().any(|live| *live);
        self.stats.needs_rounds.store(expecting, Ordering::Relaxed);
    }

    /// Once per presence round: compares who the nodes report with the board, publishes
    /// staff connecting or gone and the grace period's consequences, and forgets finished
    /// requests older than the record's recent window.
    pub(super) async fn booth_presence(&mut self, everywhere: Vec<UserId>) {
        let now = unix_millis();
        let grace_ms = i64::try_from(self.ctx.settings.booth_grace_ms).unwrap_or(i64::MAX);
        let local = &self.connections_per_user;
        let Some(booth) = &mut self.booth else { return };
        let present = |user: &UserId| local.contains_key(user) || everywhere.binary_search(user).is_ok();
        let mut commands = Vec::new();
        for (staff, presence) in &booth.board.staff {
            if local.contains_key(staff) {
                booth.staff_missing.remove(staff);
                if presence.connections == 0 {
                    commands.push(BoothCommand::StaffConnections { staff: staff.clone(), connections: 1, name: None });
                }
            } else if present(staff) {
                booth.staff_missing.remove(staff);
            } else if presence.connections > 0 {
                let since = *booth.staff_missing.entry(staff.clone()).or_insert(now);
                if now - since >= ABSENCE_CONFIRM_MS {
                    commands.push(BoothCommand::StaffConnections { staff: staff.clone(), connections: 0, name: None });
                }
            }
        }
        // Staff of the programme connected only on other nodes whose arrival this node's board
        // does not hold (its stream no longer reaches back to it): shown connected here too.
        for user in &everywhere {
            if !local.contains_key(user)
                && booth.board.roster.contains(user)
                && booth.board.staff.get(user).is_none_or(|p| p.connections == 0)
            {
                commands.push(BoothCommand::StaffConnections { staff: user.clone(), connections: 1, name: None });
            }
        }
        let waiting: HashSet<UserId> =
            booth.waiting.iter().filter(|(_, live)| **live).map(|(visitor, _)| visitor.clone()).collect();
        booth.visitors_gone.retain(|visitor, _| waiting.contains(visitor) && !present(visitor));
        for visitor in waiting.iter().filter(|v| !present(v)) {
            booth.visitors_gone.entry(visitor.clone()).or_insert(now);
        }
        let visitors_gone_since = booth.visitors_gone.iter().map(|(v, since)| (v.clone(), *since)).collect();
        commands.push(BoothCommand::Tick { grace_ms, visitors_gone_since });
        // The board keeps finished requests as long as a joining member's snapshot shows them.
        booth.board.requests.retain(|_, r| r.state == RequestState::Waiting || now - r.updated_at < RECENT_REQUESTS_MS);
        for command in commands {
            if let Err(refusal) = self.publish_booth(command, &system(), "", true).await {
                tracing::debug!(room = %self.id, error = %refusal.message, "booth presence step not published");
            }
        }
        self.update_booth_stats();
    }

    /// Loads the booth's staff presence and requests from the record (the stream may no
    /// longer hold them); the stream's history is applied on top.
    pub(super) fn restore_booth(&mut self, staff: Vec<(UserId, StaffPresence)>, requests: Vec<ContactRequest>) {
        if let Some(booth) = &mut self.booth {
            for (user, presence) in staff {
                if !booth.board.roster.contains(&user) {
                    booth.board.roster.push(user.clone());
                }
                booth.board.staff.insert(user, presence);
            }
            for request in requests {
                booth.board.requests.insert(request.id.clone(), request);
            }
            booth.index_waiting();
        }
    }
}
