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
use std::ops::Bound;

use bytes::Bytes;
use plenary_proto::{BoothView, CallInfo, ContactRequestView, Membership, MessageId, Seq, StaffStatus, UserProfile};

use super::kinds::{KindSnapshot, RoomKindState, unsupported};
use super::*;
use crate::domain::booth::{
    self, BoothBoard, BoothCommand, BoothError, ContactKind, ContactRequest, RequestState, StaffPresence,
};
use crate::domain::page::{self, PAGE_BYTES, PAGE_ITEMS};
use crate::domain::{booth_views, permissions};
use crate::store::{RECENT_REQUESTS_MS, Record, StoredRoom};

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
    pub(super) fn new(core: &RoomCore) -> BoothRoom {
        BoothRoom {
            board: BoothBoard::new(roster(core)),
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

/// The name of the node's own decisions (presence ticks) in the record.
fn system() -> UserId {
    UserId::parse("plenary").expect("a valid user id")
}

/// The booth's staff from the programme (grants join as their holders connect).
fn roster(core: &RoomCore) -> Vec<UserId> {
    core.ctx
        .sessions
        .as_ref()
        .and_then(|index| index.booth(core.id.name()))
        .map(|b| b.staff.iter().filter_map(|s| UserId::parse(s.clone()).ok()).collect())
        .unwrap_or_default()
}

/// Whether `identity` is one of this booth's staff: named on the booth in the programme,
/// or granted `exhibitor` for this booth.
fn is_staff(core: &RoomCore, identity: &Identity) -> bool {
    let slug = core.id.name();
    identity.staffs.iter().any(|b| *b == slug)
        || core
            .ctx
            .sessions
            .as_ref()
            .and_then(|index| index.booth(slug))
            .is_some_and(|b| b.staff.iter().any(|s| s == identity.user().as_str()))
}

impl BoothRoom {
    /// What a joining member sees of the booth.
    fn booth_snapshot(&self, user: &UserId, staff: bool) -> BoothView {
        let board = &self.board;
        let positions = board.positions();
        let requests = board
            .requests
            .values()
            .filter(|r| staff || r.visitor == *user)
            .filter_map(|r| booth::request_view(board, r, positions.get(&r.id).copied()));
        // Oldest first: the head of the queue is in the first page; `booth_page` gives the rest.
        let page = page::take(requests, PAGE_ITEMS, PAGE_BYTES);
        BoothView { staff: booth::staff_views(board), requests: page.items, more: page.more }
    }

    /// After a member joined: a staff member shows connected at once (and joins the
    /// roster, when a grant made them staff).
    async fn booth_joined(&mut self, core: &mut RoomCore, identity: &Identity) {
        let user = identity.user().clone();
        self.visitors_gone.remove(&user);
        if is_staff(core, identity) {
            if !self.board.roster.contains(&user) {
                self.board.roster.push(user.clone());
            }
            self.staff_missing.remove(&user);
            let known = self.board.staff.get(&user);
            if known.is_none_or(|p| p.connections == 0 || p.name != identity.profile.name) {
                let command = BoothCommand::StaffConnections {
                    staff: user,
                    connections: 1,
                    name: Some(identity.profile.name.clone()),
                };
                if let Err(refusal) = self.publish_booth(core, command, &system(), "", true).await {
                    tracing::warn!(room = %core.id, error = %refusal.message, "could not show a staff member connected");
                }
            }
        }
        self.update_booth_stats(core);
    }

    /// A booth command from a member: decided against the board as the stream has it,
    /// published (accepts, cancels and status changes on top of that state), acknowledged.
    async fn booth_request(
        &mut self,
        core: &mut RoomCore,
        peer: &Arc<Peer>,
        identity: &Identity,
        rid: RequestId,
        request: BoothRequest,
    ) -> Result<(), Refusal> {
        let staff = is_staff(core, identity);
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
                core.take_chat_token(identity.user())?;
                let id = crate::domain::new_id();
                (BoothCommand::Request { id, message }, true)
            }
            BoothRequest::Cancel { id } => (BoothCommand::Cancel { id }, true),
            BoothRequest::Accept { id } => {
                if !staff {
                    return Err(BoothError::Forbidden.into());
                }
                (BoothCommand::Accept { id }, true)
            }
        };
        // Identity-checked staff: the board's roster learns grants it did not list.
        if staff && !self.board.roster.contains(identity.user()) {
            self.board.roster.push(identity.user().clone());
        }
        let accept = match &command {
            BoothCommand::Accept { id } => Some(id.clone()),
            _ => None,
        };
        self.publish_booth(core, command, identity.user(), &identity.profile.name, conditional).await?;
        if let Some(id) = accept {
            // Also when the accept changed nothing: the same staff member retrying after a
            // lost answer gets its call opened (again; opening is idempotent).
            self.open_call(core, &id, identity).await;
        }
        core.ack(peer, rid);
        Ok(())
    }

    /// Decides and publishes one booth command; records each request it changes.
    async fn publish_booth(
        &mut self,
        core: &mut RoomCore,
        command: BoothCommand,
        user: &UserId,
        name: &str,
        conditional: bool,
    ) -> Result<bool, Refusal> {
        let decide = |booth: &BoothRoom, core: &RoomCore| {
            let now = unix_millis();
            let events = booth::decide(&booth.board, user, name, command.clone(), now).map_err(Refusal::from)?;
            let records = events
                .iter()
                .map(|event| match event {
                    BoothEvent::Request(request) => {
                        Record::ContactRequest { room: core.id.clone(), request: request.clone() }
                    }
                    BoothEvent::Staff { user, presence } => Record::BoothStaff {
                        room: core.id.clone(),
                        user: user.clone(),
                        presence: presence.clone(),
                        at: now,
                    },
                })
                .collect();
            Ok((!events.is_empty()).then_some((StreamEvent::Booth { booth: events }, records)))
        };
        core.publish_step(self, conditional, "booth", decide).await
    }

    /// The request `id` was accepted by `identity`: its call room learns who may join (the
    /// first event of its stream, and the record).
    async fn open_call(&mut self, core: &mut RoomCore, id: &MessageId, identity: &Identity) {
        let Some(request) = self.board.requests.get(id).cloned() else { return };
        if request.state != (RequestState::Accepted { by: identity.user().clone() }) {
            return;
        }
        let Some(room) = booth::call_room(id) else { return };
        let call = CallInfo {
            members: vec![
                UserProfile { id: request.visitor.clone(), name: request.visitor_name.clone(), country: None },
                identity.profile.clone(),
            ],
            booth: Some(core.id.name().to_owned()),
            opened_at: unix_millis(),
        };
        let step = StreamEvent::Room(RoomEvent::CallOpened { call: call.clone() });
        let payload = Bytes::from(serde_json::to_vec(&step).expect("stream events always serialise"));
        if let Err(e) = core.ctx.bus.publish(&room, payload).await {
            // The record still has it: the call room reads it when it opens.
            tracing::warn!(%room, error = %e, "could not publish the call's opening");
        }
        core.record(Record::CallOpened { room, call });
        // Recorded again (an upsert): the step's own record is lost when its publish answer was.
        core.record(Record::ContactRequest { room: core.id.clone(), request });
    }

    /// Applies a booth step and builds what each audience sees of it: staff changes for
    /// everyone; every changed request (and the queue's new positions) for staff; each
    /// visitor involved its own request.
    fn apply_booth(&mut self, core: &RoomCore, seq: Seq, events: &[BoothEvent]) -> Frames {
        let views = booth_views::apply_step(&mut self.board, events);
        self.index_waiting();
        let frame = |staff: Vec<plenary_proto::StaffView>, requests: Vec<ContactRequestView>| {
            (!staff.is_empty() || !requests.is_empty()).then(|| {
                Utf8Bytes::from(
                    ServerMsg::Event { room: core.id.clone(), seq, event: RoomEvent::Booth { staff, requests } }
                        .to_json(),
                )
            })
        };
        let everyone = frame(views.staff.clone(), Vec::new());
        let moderators = frame(views.staff.clone(), views.for_staff);
        let users =
            views.by_visitor.into_iter().map(|(visitor, own)| (visitor, frame(views.staff.clone(), own))).collect();
        self.update_booth_stats(core);
        Frames { everyone, moderators, users }
    }

    /// The presence figures the hub reports for this booth: watched users with a connection
    /// here and staff here and available. O(staff + waiting requests), not O(members).
    fn update_booth_stats(&self, core: &RoomCore) {
        let booth = self;
        let board = &booth.board;
        let here = |user: &UserId| core.connections_per_user.contains_key(user);
        let mut watched: Vec<UserId> = board.roster.iter().filter(|u| here(u)).cloned().collect();
        let on_duty: Vec<UserId> = watched
            .iter()
            .filter(|u| board.staff.get(*u).is_some_and(|p| p.shown == StaffStatus::Available))
            .cloned()
            .collect();
        watched.extend(booth.waiting.keys().filter(|v| here(v)).cloned());
        watched.sort();
        watched.dedup();
        *core.stats.watched.lock().expect("stats lock") = watched;
        *core.stats.on_duty.lock().expect("stats lock") = on_duty;
        let expecting = board.staff.values().any(|p| p.connections > 0 || p.shown != StaffStatus::Offline)
            || booth.waiting.values().any(|live| *live);
        core.stats.needs_rounds.store(expecting, Ordering::Relaxed);
    }

    /// Once per presence round: compares who the nodes report with the board, publishes
    /// staff connecting or gone and the grace period's consequences, and forgets finished
    /// requests older than the record's recent window.
    async fn booth_presence(&mut self, core: &mut RoomCore, everywhere: Vec<UserId>) {
        let now = unix_millis();
        let grace_ms = i64::try_from(core.ctx.settings.booth_grace_ms).unwrap_or(i64::MAX);
        let local = &core.connections_per_user;
        let booth = &mut *self;
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
            if let Err(refusal) = self.publish_booth(core, command, &system(), "", true).await {
                tracing::debug!(room = %core.id, error = %refusal.message, "booth presence step not published");
            }
        }
        self.update_booth_stats(core);
    }

    /// Loads the booth's staff presence and requests from the record (the stream may no
    /// longer hold them); the stream's history is applied on top.
    fn restore_booth(&mut self, staff: Vec<(UserId, StaffPresence)>, requests: Vec<ContactRequest>) {
        for (user, presence) in staff {
            if !self.board.roster.contains(&user) {
                self.board.roster.push(user.clone());
            }
            self.board.staff.insert(user, presence);
        }
        for request in requests {
            self.board.requests.insert(request.id.clone(), request);
        }
        self.index_waiting();
    }

    /// Answers `booth_page`: the requests the caller may see (staff: all; a visitor: its
    /// own) made after `after` (or from the oldest), oldest first.
    fn booth_page(
        &self,
        core: &RoomCore,
        peer: &Arc<Peer>,
        identity: &Identity,
        rid: RequestId,
        after: Option<&MessageId>,
    ) -> Result<(), Refusal> {
        let board = &self.board;
        let staff = is_staff(core, identity);
        let positions = board.positions();
        let lower = after.map_or(Bound::Unbounded, |id| Bound::Excluded(id.clone()));
        let requests = board
            .requests
            .range((lower, Bound::Unbounded))
            .map(|(_, r)| r)
            .filter(|r| staff || r.visitor == *identity.user())
            .filter_map(|r| booth::request_view(board, r, positions.get(&r.id).copied()));
        let page = page::take(requests, PAGE_ITEMS, PAGE_BYTES);
        let _ = peer.send_msg(&ServerMsg::BoothRequests {
            rid,
            room: core.id.clone(),
            requests: page.items,
            more: page.more,
        });
        Ok(())
    }
}

impl StreamState for BoothRoom {
    fn apply_step(&mut self, core: &RoomCore, seq: Seq, step: &StreamEvent) -> Frames {
        match step {
            StreamEvent::Booth { booth } => self.apply_booth(core, seq, booth),
            _ => Frames::default(),
        }
    }

    /// Loads the booth's staff presence and requests from the record (the stream may no
    /// longer hold them); the stream's history is applied on top.
    fn restore(&mut self, _core: &RoomCore, stored: StoredRoom) {
        self.restore_booth(stored.booth_staff, stored.requests);
    }

    fn reset(&mut self, core: &RoomCore) {
        *self = BoothRoom::new(core);
    }
}

impl RoomKindState for BoothRoom {
    fn membership(&self, core: &RoomCore, identity: &Identity) -> Membership {
        permissions::membership(identity, &core.id, is_staff(core, identity))
    }

    /// Staff get the privileged frames (every contact request).
    fn privileged(&self, you: &Membership) -> bool {
        you.booth_staff
    }

    /// A booth counts its visitors; its staff show in the staff list.
    fn privileged_are_attendees(&self) -> bool {
        false
    }

    fn snapshot(&self, _core: &RoomCore, identity: &Identity, moderator: bool) -> KindSnapshot {
        KindSnapshot { booth: Some(self.booth_snapshot(identity.user(), moderator)), ..KindSnapshot::default() }
    }

    async fn joined(&mut self, core: &mut RoomCore, _peer: &Arc<Peer>, identity: &Identity) {
        self.booth_joined(core, identity).await;
    }

    async fn request(
        &mut self,
        core: &mut RoomCore,
        peer: &Arc<Peer>,
        identity: &Identity,
        rid: RequestId,
        request: RoomRequest,
    ) -> Result<(), Refusal> {
        match request {
            RoomRequest::Booth(request) => self.booth_request(core, peer, identity, rid, request).await,
            RoomRequest::BoothPage { after } => self.booth_page(core, peer, identity, rid, after.as_ref()),
            request => Err(unsupported(&core.id, &request)),
        }
    }

    fn members_changed(&self, core: &RoomCore) {
        self.update_booth_stats(core);
    }

    async fn presence_round(&mut self, core: &mut RoomCore, everywhere: Vec<UserId>) {
        self.booth_presence(core, everywhere).await;
    }
}
