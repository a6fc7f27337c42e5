//! A virtual exhibition booth as pure functions (issue 8, first part): staff presence and
//! the contact-request queue. [`decide`] turns a command into events or a refusal; [`apply`]
//! applies them. A room runs `decide` against the booth as its stream has it and publishes
//! on top of that state (`Bus::publish_if`), so when two staff members on two nodes accept
//! the same request, exactly one wins and the other is told it was taken.
//!
//! Staff presence: a staff member sets `available`, `busy` or `away`; with every tab closed
//! they show `offline` once the grace period has passed. Contact requests: a visitor asks to
//! talk when someone is available (a live request, queued in order) or leaves a callback
//! request with a message when nobody is; the first staff member to accept wins; the visitor
//! may cancel; a visitor gone longer than the grace period has its waiting requests
//! cancelled.

use std::collections::BTreeMap;

pub use plenary_proto::{ContactKind, StaffStatus};
use plenary_proto::{ContactRequestView, ContactState, MessageId, RoomId, StaffView, UserId, UserProfile};
use serde::{Deserialize, Serialize};

use crate::domain::text::{has_control, normalise_line, normalise_text};

/// Longest callback message, in characters.
pub const MAX_CALLBACK_CHARS: usize = plenary_proto::input::CALLBACK_NOTE_MAX_CHARS;

/// One staff member's presence at the booth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffPresence {
    /// What the staff member chose (shown while connected).
    pub chosen: StaffStatus,
    /// Open connections (tabs) at the booth, over every node.
    pub connections: u32,
    /// When the last connection closed, while none is open.
    pub gone_since: Option<i64>,
    /// Shown status: `offline` once gone longer than the grace period.
    pub shown: StaffStatus,
    /// The display name the staff member last connected with.
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum RequestState {
    Waiting,
    Accepted { by: UserId },
    Cancelled { by_visitor: bool },
}

impl RequestState {
    /// The state's name in the record and on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            RequestState::Waiting => "waiting",
            RequestState::Accepted { .. } => "accepted",
            RequestState::Cancelled { .. } => "cancelled",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRequest {
    pub id: MessageId,
    pub visitor: UserId,
    pub visitor_name: String,
    pub kind: ContactKind,
    pub message: Option<String>,
    pub state: RequestState,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BoothCommand {
    /// Staff: choose a status.
    SetStatus { status: StaffStatus },
    /// The node saw a staff member's connection open or close (counts over nodes).
    /// `name`: the display name of a connection that opened.
    StaffConnections { staff: UserId, connections: u32, name: Option<String> },
    /// A visitor asks to talk, or leaves a callback request with `message` when nobody is
    /// available.
    Request { id: MessageId, message: Option<String> },
    /// The visitor cancels its own request.
    Cancel { id: MessageId },
    /// Staff: take a waiting request.
    Accept { id: MessageId },
    /// Time passed: staff gone past the grace show offline; visitors gone past it lose their
    /// waiting requests. `visitors_gone_since`: visitors with no connection at the booth, and
    /// since when.
    Tick { grace_ms: i64, visitors_gone_since: Vec<(UserId, i64)> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BoothEvent {
    Staff { user: UserId, presence: StaffPresence },
    Request(ContactRequest),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoothError {
    #[error("only this booth's staff may do this")]
    Forbidden,
    #[error("no request \"{0}\"")]
    NotFound(MessageId),
    #[error("another staff member has already taken this request")]
    Taken,
    #[error("this request is no longer waiting")]
    NotWaiting,
    #[error("you already have a request waiting at this booth")]
    AlreadyWaiting,
    #[error("nobody is on duty: leave a message to be called back")]
    NobodyAvailable,
    #[error("{0}")]
    Invalid(String),
}

/// A booth's staff presence and requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BoothBoard {
    /// The booth's staff, from the programme.
    pub roster: Vec<UserId>,
    pub staff: BTreeMap<UserId, StaffPresence>,
    pub requests: BTreeMap<MessageId, ContactRequest>,
}

impl BoothBoard {
    pub fn new(roster: Vec<UserId>) -> BoothBoard {
        BoothBoard { roster, ..BoothBoard::default() }
    }

    pub fn is_staff(&self, user: &UserId) -> bool {
        self.roster.contains(user)
    }

    /// Staff members shown `available` now.
    pub fn available(&self) -> usize {
        self.staff.values().filter(|p| p.shown == StaffStatus::Available).count()
    }

    /// Waiting live requests, oldest first: a visitor's position is its index plus one.
    pub fn queue(&self) -> Vec<&ContactRequest> {
        let mut waiting: Vec<&ContactRequest> = self
            .requests
            .values()
            .filter(|r| r.state == RequestState::Waiting && r.kind == ContactKind::Live)
            .collect();
        waiting.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
        waiting
    }

    pub fn position(&self, id: &MessageId) -> Option<usize> {
        self.queue().iter().position(|r| r.id == *id).map(|i| i + 1)
    }

    /// Every waiting live request's position, computed once (for views of many requests).
    pub fn positions(&self) -> std::collections::HashMap<MessageId, usize> {
        self.queue().iter().enumerate().map(|(i, r)| (r.id.clone(), i + 1)).collect()
    }

    fn presence(&self, user: &UserId) -> StaffPresence {
        self.staff.get(user).cloned().unwrap_or(StaffPresence {
            chosen: StaffStatus::Available,
            connections: 0,
            gone_since: None,
            shown: StaffStatus::Offline,
            name: String::new(),
        })
    }
}

fn shown(chosen: StaffStatus, connections: u32, gone_since: Option<i64>, now: i64, grace_ms: i64) -> StaffStatus {
    match gone_since {
        _ if connections > 0 => chosen,
        Some(since) if now - since >= grace_ms => StaffStatus::Offline,
        // Within the grace period a closed tab (a reload, a flaky network) changes nothing.
        Some(_) => chosen,
        None => StaffStatus::Offline,
    }
}

/// Decides what `command` by `user` (named `name`) does to `board` at `now`.
pub fn decide(
    board: &BoothBoard,
    user: &UserId,
    name: &str,
    command: BoothCommand,
    now: i64,
) -> Result<Vec<BoothEvent>, BoothError> {
    Ok(match command {
        BoothCommand::SetStatus { status } => {
            if !board.is_staff(user) {
                return Err(BoothError::Forbidden);
            }
            if status == StaffStatus::Offline {
                return Err(BoothError::Invalid("offline is shown, not chosen: choose available, busy or away".into()));
            }
            let mut presence = board.presence(user);
            presence.chosen = status;
            presence.name = name.to_owned();
            if presence.connections > 0 || presence.gone_since.is_some() {
                presence.shown = status;
            }
            vec![BoothEvent::Staff { user: user.clone(), presence }]
        }
        BoothCommand::StaffConnections { staff, connections, name } => {
            if !board.is_staff(&staff) {
                return Ok(Vec::new());
            }
            let mut presence = board.presence(&staff);
            let before = presence.clone();
            presence.connections = connections;
            if let Some(name) = name {
                presence.name = name;
            }
            if connections > 0 {
                presence.gone_since = None;
                presence.shown = presence.chosen;
            } else if before.connections > 0 {
                presence.gone_since = Some(now);
            }
            if presence == before {
                return Ok(Vec::new());
            }
            vec![BoothEvent::Staff { user: staff, presence }]
        }
        BoothCommand::Request { id, message } => {
            if board.requests.values().any(|r| r.visitor == *user && r.state == RequestState::Waiting) {
                return Err(BoothError::AlreadyWaiting);
            }
            if board.requests.contains_key(&id) {
                return Err(BoothError::Invalid("a request id is already taken".into()));
            }
            let control = message.as_deref().is_some_and(has_control);
            let message = message.map(|m| normalise_text(&m)).filter(|m| !m.is_empty());
            if control
                || message
                    .as_ref()
                    .is_some_and(|m| m.chars().count() > MAX_CALLBACK_CHARS || m.chars().any(char::is_control))
            {
                return Err(BoothError::Invalid(format!(
                    "a message is at most {MAX_CALLBACK_CHARS} characters without control characters"
                )));
            }
            let kind = if board.available() > 0 {
                ContactKind::Live
            } else if message.is_some() {
                ContactKind::Callback
            } else {
                return Err(BoothError::NobodyAvailable);
            };
            vec![BoothEvent::Request(ContactRequest {
                id,
                visitor: user.clone(),
                visitor_name: name.to_owned(),
                kind,
                message,
                state: RequestState::Waiting,
                created_at: now,
                updated_at: now,
            })]
        }
        BoothCommand::Cancel { id } => {
            let request = board.requests.get(&id).ok_or_else(|| BoothError::NotFound(id.clone()))?;
            if request.visitor != *user {
                return Err(BoothError::Forbidden);
            }
            if request.state != RequestState::Waiting {
                return Err(BoothError::NotWaiting);
            }
            let mut next = request.clone();
            next.state = RequestState::Cancelled { by_visitor: true };
            next.updated_at = now;
            vec![BoothEvent::Request(next)]
        }
        BoothCommand::Accept { id } => {
            if !board.is_staff(user) {
                return Err(BoothError::Forbidden);
            }
            let request = board.requests.get(&id).ok_or_else(|| BoothError::NotFound(id.clone()))?;
            match &request.state {
                RequestState::Waiting => {}
                // The same staff member again (a retry after a lost answer): nothing changes,
                // and the caller may open the call again.
                RequestState::Accepted { by } if by == user => return Ok(Vec::new()),
                RequestState::Accepted { .. } => return Err(BoothError::Taken),
                RequestState::Cancelled { .. } => return Err(BoothError::NotWaiting),
            }
            let mut next = request.clone();
            next.state = RequestState::Accepted { by: user.clone() };
            next.updated_at = now;
            vec![BoothEvent::Request(next)]
        }
        BoothCommand::Tick { grace_ms, visitors_gone_since } => {
            let mut events = Vec::new();
            for (staff, presence) in &board.staff {
                let status = shown(presence.chosen, presence.connections, presence.gone_since, now, grace_ms);
                if status != presence.shown {
                    events.push(BoothEvent::Staff {
                        user: staff.clone(),
                        presence: StaffPresence { shown: status, ..presence.clone() },
                    });
                }
            }
            for (visitor, since) in visitors_gone_since {
                if now - since < grace_ms {
                    continue;
                }
                for request in board.requests.values() {
                    if request.visitor == visitor
                        && request.state == RequestState::Waiting
                        && request.kind == ContactKind::Live
                    {
                        let mut next = request.clone();
                        next.state = RequestState::Cancelled { by_visitor: false };
                        next.updated_at = now;
                        events.push(BoothEvent::Request(next));
                    }
                }
            }
            events
        }
    })
}

pub fn apply(board: &mut BoothBoard, event: &BoothEvent) {
    match event {
        BoothEvent::Staff { user, presence } => {
            // The node that published it checked the user is staff (a grant this node may
            // not know of yet).
            if !board.roster.contains(user) {
                board.roster.push(user.clone());
            }
            board.staff.insert(user.clone(), presence.clone());
        }
        BoothEvent::Request(request) => {
            board.requests.insert(request.id.clone(), request.clone());
        }
    }
}

/// The call room an accepted request opens.
pub fn call_room(request_id: &MessageId) -> Option<RoomId> {
    RoomId::call(request_id.as_str()).ok()
}

/// The staff as visitors see them: those who ever connected, by name.
pub fn staff_views(board: &BoothBoard) -> Vec<StaffView> {
    let mut staff: Vec<StaffView> = board
        .staff
        .iter()
        .map(|(user, p)| StaffView { user: user.clone(), name: staff_name(user, p), status: p.shown })
        .collect();
    staff.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.user.cmp(&b.user)));
    staff
}

pub fn staff_view(user: &UserId, presence: &StaffPresence) -> StaffView {
    StaffView { user: user.clone(), name: staff_name(user, presence), status: presence.shown }
}

fn staff_name(user: &UserId, presence: &StaffPresence) -> String {
    if presence.name.is_empty() { user.as_str().to_owned() } else { presence.name.clone() }
}

/// A request as its visitor and the booth's staff see it; `position` from
/// [`BoothBoard::positions`].
pub fn request_view(
    board: &BoothBoard,
    request: &ContactRequest,
    position: Option<usize>,
) -> Option<ContactRequestView> {
    let (state, accepted_by, cancelled_by_visitor) = match &request.state {
        RequestState::Waiting => (ContactState::Waiting, None, None),
        RequestState::Accepted { by } => {
            let name = board.staff.get(by).map_or_else(|| by.as_str().to_owned(), |p| staff_name(by, p));
            (ContactState::Accepted, Some(UserProfile { id: by.clone(), name, country: None }), None)
        }
        RequestState::Cancelled { by_visitor } => (ContactState::Cancelled, None, Some(*by_visitor)),
    };
    Some(ContactRequestView {
        id: request.id.clone(),
        visitor: UserProfile { id: request.visitor.clone(), name: request.visitor_name.clone(), country: None },
        kind: request.kind,
        message: request.message.clone(),
        state,
        position: position.and_then(|p| u32::try_from(p).ok()),
        call: matches!(request.state, RequestState::Accepted { .. }).then(|| call_room(&request.id)).flatten(),
        accepted_by,
        cancelled_by_visitor,
        created_at: request.created_at,
        updated_at: request.updated_at,
    })
}

/// Longest field of a contact card, in characters.
pub const MAX_CARD_FIELD_CHARS: usize = plenary_proto::input::CARD_FIELD_MAX_CHARS;

/// The contact card a visitor shares with a booth, with consent given explicitly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContactCard {
    pub name: String,
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// A note for the booth's staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl ContactCard {
    /// Normalises every field (the text rules: the note as a text, the others as lines) and
    /// names each problem (field, reason).
    pub fn validated(mut self) -> Result<ContactCard, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let mut check = |field: &'static str, value: &mut String, required: bool, max: usize| {
            let multiline = field == "note";
            let control = has_control(value);
            *value = if multiline { normalise_text(value) } else { normalise_line(value) };
            if control {
                errors.push((field, "contains control characters".to_owned()));
            } else if required && value.is_empty() {
                errors.push((field, "is required".to_owned()));
            } else if value.chars().count() > max {
                errors.push((field, format!("is longer than {max} characters")));
            } else if value.chars().any(|c| c.is_control() && c != '\n') {
                errors.push((field, "contains control characters".to_owned()));
            }
        };
        check("name", &mut self.name, true, MAX_CARD_FIELD_CHARS);
        check("email", &mut self.email, true, MAX_CARD_FIELD_CHARS);
        for (field, value) in
            [("organisation", &mut self.organisation), ("job_title", &mut self.job_title), ("phone", &mut self.phone)]
        {
            if let Some(v) = value {
                check(field, v, false, MAX_CARD_FIELD_CHARS);
                if v.is_empty() {
                    *value = None;
                }
            }
        }
        if let Some(note) = &mut self.note {
            check("note", note, false, MAX_CALLBACK_CHARS);
            if note.is_empty() {
                self.note = None;
            }
        }
        let email_ok = self.email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        }) && !self.email.chars().any(char::is_whitespace);
        if !self.email.is_empty() && !email_ok {
            errors.push(("email", "is not an email address".to_owned()));
        }
        if errors.is_empty() { Ok(self) } else { Err(errors) }
    }
}

/// A booth's figures for its staff and the organisers.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BoothAnalytics {
    pub booth: String,
    /// Stays at the booth by visitors (its staff not counted); a reconnect is a new stay.
    pub visits: u32,
    pub unique_visitors: u32,
    /// Mean length of a stay, ongoing stays counted up to now.
    pub average_dwell_ms: u64,
    /// Requests a staff member accepted.
    pub requests_answered: u32,
    /// Requests that ended without being accepted (the visitor cancelled or left).
    pub requests_missed: u32,
    /// Callback requests still waiting for a staff member.
    pub callbacks_waiting: u32,
}

/// Computes a booth's analytics from its visits and contact requests; `staff` are the
/// booth's staff (user ids), whose own stays are not visits.
pub fn booth_analytics(
    booth: &str,
    visits: &[crate::domain::analytics::Visit],
    requests: &[ContactRequest],
    staff: &[String],
    now: i64,
) -> BoothAnalytics {
    let by_visitors: Vec<&crate::domain::analytics::Visit> =
        visits.iter().filter(|v| !staff.iter().any(|s| s == v.user.as_str())).collect();
    let unique: std::collections::HashSet<&UserId> = by_visitors.iter().map(|v| &v.user).collect();
    let dwell: i64 = by_visitors.iter().map(|v| (v.left_at.unwrap_or(now) - v.joined_at).max(0)).sum();
    let count = |f: &dyn Fn(&ContactRequest) -> bool| {
        u32::try_from(requests.iter().filter(|r| f(r)).count()).unwrap_or(u32::MAX)
    };
    BoothAnalytics {
        booth: booth.to_owned(),
        visits: u32::try_from(by_visitors.len()).unwrap_or(u32::MAX),
        unique_visitors: u32::try_from(unique.len()).unwrap_or(u32::MAX),
        average_dwell_ms: if by_visitors.is_empty() {
            0
        } else {
            u64::try_from(dwell / i64::try_from(by_visitors.len()).unwrap_or(i64::MAX)).unwrap_or(0)
        },
        requests_answered: count(&|r| matches!(r.state, RequestState::Accepted { .. })),
        requests_missed: count(&|r| matches!(r.state, RequestState::Cancelled { .. })),
        callbacks_waiting: count(&|r| r.state == RequestState::Waiting && r.kind == ContactKind::Callback),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mid;

    const GRACE: i64 = 30_000;

    fn user(name: &str) -> UserId {
        UserId::parse(name).unwrap()
    }

    fn run(board: &mut BoothBoard, who: &str, command: BoothCommand, now: i64) -> Result<(), BoothError> {
        for event in decide(board, &user(who), who, command, now)? {
            apply(board, &event);
        }
        Ok(())
    }

    fn booth() -> BoothBoard {
        let mut board = BoothBoard::new(vec![user("staff-a"), user("staff-b")]);
        for staff in ["staff-a", "staff-b"] {
            run(
                &mut board,
                "system",
                BoothCommand::StaffConnections { staff: user(staff), connections: 1, name: None },
                0,
            )
            .unwrap();
        }
        board
    }

    #[test]
    fn analytics_count_visitors_not_staff() {
        let room = RoomId::booth("itu").unwrap();
        let visit = |who: &str, joined_at: i64, left_at: Option<i64>| crate::domain::analytics::Visit {
            room: room.clone(),
            user: user(who),
            country: None,
            joined_at,
            left_at,
        };
        let visits = [
            visit("ada", 0, Some(60_000)),
            visit("ada", 100_000, Some(130_000)),
            visit("ana", 0, None),
            visit("lin", 190_000, None),
        ];
        let request = |id: &str, kind: ContactKind, state: RequestState| ContactRequest {
            id: mid(id),
            visitor: user("ada"),
            visitor_name: "Ada".into(),
            kind,
            message: None,
            state,
            created_at: 0,
            updated_at: 0,
        };
        let requests = [
            request("1", ContactKind::Live, RequestState::Accepted { by: user("ana") }),
            request("2", ContactKind::Live, RequestState::Cancelled { by_visitor: false }),
            request("3", ContactKind::Callback, RequestState::Waiting),
            request("4", ContactKind::Live, RequestState::Waiting),
        ];
        let figures = booth_analytics("itu", &visits, &requests, &["ana".to_owned()], 200_000);
        assert_eq!((figures.visits, figures.unique_visitors), (3, 2), "ana is staff");
        assert_eq!(figures.average_dwell_ms, (60_000 + 30_000 + 10_000) / 3);
        assert_eq!((figures.requests_answered, figures.requests_missed, figures.callbacks_waiting), (1, 1, 1));
        assert_eq!(booth_analytics("itu", &[], &[], &[], 0).average_dwell_ms, 0);
    }

    #[test]
    fn contact_cards_are_trimmed_and_checked() {
        let card = |name: &str, email: &str| ContactCard {
            name: name.into(),
            email: email.into(),
            organisation: Some("  ".into()),
            job_title: None,
            phone: None,
            note: Some(" hi ".into()),
        };
        let ok = card(" Ana ", "ana@example.org").validated().unwrap();
        assert_eq!((ok.name.as_str(), ok.organisation, ok.note.as_deref()), ("Ana", None, Some("hi")));
        let errors = card("", "not-an-email").validated().unwrap_err();
        assert_eq!(errors.iter().map(|(f, _)| *f).collect::<Vec<_>>(), ["name", "email"]);
        assert!(card("A", "a@b.c").validated().is_ok());
        assert!(card("A", "a b@c.d").validated().is_err());
        assert!(card("A\u{7}", "a@b.c").validated().is_err());
    }

    #[test]
    fn views_give_queue_positions_and_the_call_room() {
        let mut board = booth();
        run(&mut board, "v1", BoothCommand::Request { id: mid("r1"), message: None }, 10).unwrap();
        run(&mut board, "v2", BoothCommand::Request { id: mid("r2"), message: None }, 20).unwrap();
        let view = |board: &BoothBoard, id: &str| {
            request_view(board, &board.requests[&mid(id)], board.positions().get(&mid(id)).copied()).unwrap()
        };
        assert_eq!(view(&board, "r2").position, Some(2));
        run(&mut board, "staff-a", BoothCommand::Accept { id: mid("r1") }, 30).unwrap();
        let accepted = view(&board, "r1");
        assert_eq!(accepted.state, ContactState::Accepted);
        assert_eq!(accepted.call, Some(RoomId::call("r1").unwrap()));
        assert_eq!(accepted.position, None);
        assert_eq!(view(&board, "r2").position, Some(1));
        assert_eq!(staff_views(&board).len(), 2);
    }

    #[test]
    fn the_first_staff_member_to_accept_wins() {
        let mut board = booth();
        run(&mut board, "visitor", BoothCommand::Request { id: mid("r1"), message: None }, 10).unwrap();
        assert_eq!(board.position(&mid("r1")), Some(1));
        // Both decided against the same state: the first applied wins, the second is refused
        // once it sees the result (the room decides again after catching up).
        let a = decide(&board, &user("staff-a"), "A", BoothCommand::Accept { id: mid("r1") }, 20).unwrap();
        let b = decide(&board, &user("staff-b"), "B", BoothCommand::Accept { id: mid("r1") }, 20).unwrap();
        assert_eq!((a.len(), b.len()), (1, 1), "on the same state both look valid: the bus decides");
        apply(&mut board, &a[0]);
        assert_eq!(run(&mut board, "staff-b", BoothCommand::Accept { id: mid("r1") }, 21), Err(BoothError::Taken));
        assert_eq!(board.requests[&mid("r1")].state, RequestState::Accepted { by: user("staff-a") });
        assert_eq!(board.position(&mid("r1")), None);
        let again = decide(&board, &user("staff-a"), "A", BoothCommand::Accept { id: mid("r1") }, 22);
        assert_eq!(again, Ok(Vec::new()), "the winner's retry changes nothing and is not refused");
    }

    #[test]
    fn only_staff_set_status_and_accept() {
        let mut board = booth();
        run(&mut board, "visitor", BoothCommand::Request { id: mid("r1"), message: None }, 10).unwrap();
        assert_eq!(
            run(&mut board, "visitor", BoothCommand::SetStatus { status: StaffStatus::Busy }, 11),
            Err(BoothError::Forbidden)
        );
        assert_eq!(run(&mut board, "visitor", BoothCommand::Accept { id: mid("r1") }, 11), Err(BoothError::Forbidden));
        assert_eq!(run(&mut board, "other", BoothCommand::Cancel { id: mid("r1") }, 11), Err(BoothError::Forbidden));
        run(&mut board, "visitor", BoothCommand::Cancel { id: mid("r1") }, 12).unwrap();
        assert_eq!(board.requests[&mid("r1")].state, RequestState::Cancelled { by_visitor: true });
    }

    #[test]
    fn nobody_on_duty_means_a_callback_request() {
        let mut board = booth();
        for staff in ["staff-a", "staff-b"] {
            run(&mut board, staff, BoothCommand::SetStatus { status: StaffStatus::Away }, 5).unwrap();
        }
        assert_eq!(
            run(&mut board, "visitor", BoothCommand::Request { id: mid("r1"), message: None }, 10),
            Err(BoothError::NobodyAvailable)
        );
        run(&mut board, "visitor", BoothCommand::Request { id: mid("r1"), message: Some("Call me".into()) }, 11)
            .unwrap();
        assert_eq!(board.requests[&mid("r1")].kind, ContactKind::Callback);
        assert_eq!(board.queue().len(), 0, "callbacks are not in the live queue");
    }

    #[test]
    fn closed_tabs_show_offline_only_after_the_grace_period() {
        let mut board = booth();
        run(
            &mut board,
            "system",
            BoothCommand::StaffConnections { staff: user("staff-a"), connections: 0, name: None },
            1_000,
        )
        .unwrap();
        run(&mut board, "system", BoothCommand::Tick { grace_ms: GRACE, visitors_gone_since: vec![] }, 10_000).unwrap();
        assert_eq!(board.staff[&user("staff-a")].shown, StaffStatus::Available, "within the grace");
        run(&mut board, "system", BoothCommand::Tick { grace_ms: GRACE, visitors_gone_since: vec![] }, 31_000).unwrap();
        assert_eq!(board.staff[&user("staff-a")].shown, StaffStatus::Offline);
        run(
            &mut board,
            "system",
            BoothCommand::StaffConnections { staff: user("staff-a"), connections: 1, name: None },
            40_000,
        )
        .unwrap();
        assert_eq!(board.staff[&user("staff-a")].shown, StaffStatus::Available, "back with the chosen status");
    }

    #[test]
    fn a_visitor_gone_past_the_grace_loses_its_waiting_request() {
        let mut board = booth();
        run(&mut board, "visitor", BoothCommand::Request { id: mid("r1"), message: None }, 10).unwrap();
        let gone = vec![(user("visitor"), 100)];
        run(&mut board, "system", BoothCommand::Tick { grace_ms: GRACE, visitors_gone_since: gone.clone() }, 20_000)
            .unwrap();
        assert_eq!(board.requests[&mid("r1")].state, RequestState::Waiting);
        run(&mut board, "system", BoothCommand::Tick { grace_ms: GRACE, visitors_gone_since: gone }, 31_000).unwrap();
        assert_eq!(board.requests[&mid("r1")].state, RequestState::Cancelled { by_visitor: false });
        assert_eq!(
            run(&mut board, "visitor", BoothCommand::Request { id: mid("r1"), message: None }, 40_000),
            Err(BoothError::Invalid("a request id is already taken".into()))
        );
        run(&mut board, "visitor", BoothCommand::Request { id: mid("r2"), message: None }, 40_000).unwrap();
        assert_eq!(
            run(&mut board, "visitor", BoothCommand::Request { id: mid("r3"), message: None }, 40_001),
            Err(BoothError::AlreadyWaiting),
            "one waiting request per visitor"
        );
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        proptest! {
            /// Whatever staff and visitors do: an accepted request stays accepted by the same
            /// staff member, only staff accept, each visitor has at most one waiting request,
            /// and queue positions are 1..=n without gaps.
            #[test]
            fn requests_are_claimed_once(steps in proptest::collection::vec((0u8..5, 0u8..4, 0u8..3), 0..80)) {
                let mut board = booth();
                let mut now = 0;
                for (kind, who, request) in steps {
                    now += 1_000;
                    let actor = ["staff-a", "staff-b", "visitor-1", "visitor-2"][who as usize];
                    let id = mid(&format!("r{request}-{who}"));
                    let command = match kind {
                        0 => BoothCommand::Request { id, message: Some("hello".into()) },
                        1 => BoothCommand::Accept { id: mid(&format!("r{request}-{}", 2 + who % 2)) },
                        2 => BoothCommand::Cancel { id },
                        3 => BoothCommand::SetStatus { status: [StaffStatus::Available, StaffStatus::Busy, StaffStatus::Away][request as usize] },
                        _ => BoothCommand::Tick { grace_ms: GRACE, visitors_gone_since: vec![] },
                    };
                    let before = board.clone();
                    if let Ok(events) = decide(&board, &user(actor), actor, command, now) {
                        for e in &events { apply(&mut board, e); }
                    }
                    for (id, old) in &before.requests {
                        if let RequestState::Accepted { by } = &old.state {
                            prop_assert_eq!(&board.requests[id].state, &RequestState::Accepted { by: by.clone() });
                            prop_assert!(board.is_staff(by));
                        }
                    }
                    for visitor in ["visitor-1", "visitor-2"] {
                        let waiting = board.requests.values().filter(|r| r.visitor == user(visitor) && r.state == RequestState::Waiting).count();
                        prop_assert!(waiting <= 1);
                    }
                    let queue = board.queue();
                    for (i, r) in queue.iter().enumerate() {
                        prop_assert_eq!(board.position(&r.id), Some(i + 1));
                    }
                }
            }
        }
    }
}
