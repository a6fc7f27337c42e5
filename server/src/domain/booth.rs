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

use plenary_proto::UserId;
use serde::{Deserialize, Serialize};

/// Longest callback message, in characters.
pub const MAX_CALLBACK_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffStatus {
    Available,
    Busy,
    Away,
    Offline,
}

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// Someone was on duty: the visitor waits in the queue.
    Live,
    /// Nobody was: the visitor left a message to be called back.
    Callback,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum RequestState {
    Waiting,
    Accepted { by: UserId },
    Cancelled { by_visitor: bool },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRequest {
    pub id: String,
    pub visitor: UserId,
    pub visitor_name: String,
    pub kind: RequestKind,
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
    StaffConnections { staff: UserId, connections: u32 },
    /// A visitor asks to talk, or leaves a callback request with `message` when nobody is
    /// available.
    Request { id: String, message: Option<String> },
    /// The visitor cancels its own request.
    Cancel { id: String },
    /// Staff: take a waiting request.
    Accept { id: String },
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
    #[error("no request {0:?}")]
    NotFound(String),
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
    pub requests: BTreeMap<String, ContactRequest>,
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
            .filter(|r| r.state == RequestState::Waiting && r.kind == RequestKind::Live)
            .collect();
        waiting.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
        waiting
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.queue().iter().position(|r| r.id == id).map(|i| i + 1)
    }

    fn presence(&self, user: &UserId) -> StaffPresence {
        self.staff.get(user).cloned().unwrap_or(StaffPresence {
            chosen: StaffStatus::Available,
            connections: 0,
            gone_since: None,
            shown: StaffStatus::Offline,
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
            if presence.connections > 0 || presence.gone_since.is_some() {
                presence.shown = status;
            }
            vec![BoothEvent::Staff { user: user.clone(), presence }]
        }
        BoothCommand::StaffConnections { staff, connections } => {
            if !board.is_staff(&staff) {
                return Ok(Vec::new());
            }
            let mut presence = board.presence(&staff);
            let before = presence.clone();
            presence.connections = connections;
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
            let message = message.map(|m| m.trim().to_owned()).filter(|m| !m.is_empty());
            if message
                .as_ref()
                .is_some_and(|m| m.chars().count() > MAX_CALLBACK_CHARS || m.chars().any(char::is_control))
            {
                return Err(BoothError::Invalid(format!(
                    "a message is at most {MAX_CALLBACK_CHARS} characters without control characters"
                )));
            }
            let kind = if board.available() > 0 {
                RequestKind::Live
            } else if message.is_some() {
                RequestKind::Callback
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
                        && request.kind == RequestKind::Live
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
            board.staff.insert(user.clone(), presence.clone());
        }
        BoothEvent::Request(request) => {
            board.requests.insert(request.id.clone(), request.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            run(&mut board, "system", BoothCommand::StaffConnections { staff: user(staff), connections: 1 }, 0)
                .unwrap();
        }
        board
    }

    #[test]
    fn the_first_staff_member_to_accept_wins() {
        let mut board = booth();
        run(&mut board, "visitor", BoothCommand::Request { id: "r1".into(), message: None }, 10).unwrap();
        assert_eq!(board.position("r1"), Some(1));
        // Both decided against the same state: the first applied wins, the second is refused
        // once it sees the result (the room decides again after catching up).
        let a = decide(&board, &user("staff-a"), "A", BoothCommand::Accept { id: "r1".into() }, 20).unwrap();
        let b = decide(&board, &user("staff-b"), "B", BoothCommand::Accept { id: "r1".into() }, 20).unwrap();
        assert_eq!((a.len(), b.len()), (1, 1), "on the same state both look valid: the bus decides");
        apply(&mut board, &a[0]);
        assert_eq!(run(&mut board, "staff-b", BoothCommand::Accept { id: "r1".into() }, 21), Err(BoothError::Taken));
        assert_eq!(board.requests["r1"].state, RequestState::Accepted { by: user("staff-a") });
        assert_eq!(board.position("r1"), None);
    }

    #[test]
    fn only_staff_set_status_and_accept() {
        let mut board = booth();
        run(&mut board, "visitor", BoothCommand::Request { id: "r1".into(), message: None }, 10).unwrap();
        assert_eq!(
            run(&mut board, "visitor", BoothCommand::SetStatus { status: StaffStatus::Busy }, 11),
            Err(BoothError::Forbidden)
        );
        assert_eq!(
            run(&mut board, "visitor", BoothCommand::Accept { id: "r1".into() }, 11),
            Err(BoothError::Forbidden)
        );
        assert_eq!(run(&mut board, "other", BoothCommand::Cancel { id: "r1".into() }, 11), Err(BoothError::Forbidden));
        run(&mut board, "visitor", BoothCommand::Cancel { id: "r1".into() }, 12).unwrap();
        assert_eq!(board.requests["r1"].state, RequestState::Cancelled { by_visitor: true });
    }

    #[test]
    fn nobody_on_duty_means_a_callback_request() {
        let mut board = booth();
        for staff in ["staff-a", "staff-b"] {
            run(&mut board, staff, BoothCommand::SetStatus { status: StaffStatus::Away }, 5).unwrap();
        }
        assert_eq!(
            run(&mut board, "visitor", BoothCommand::Request { id: "r1".into(), message: None }, 10),
            Err(BoothError::NobodyAvailable)
        );
        run(&mut board, "visitor", BoothCommand::Request { id: "r1".into(), message: Some("Call me".into()) }, 11)
            .unwrap();
        assert_eq!(board.requests["r1"].kind, RequestKind::Callback);
        assert_eq!(board.queue().len(), 0, "callbacks are not in the live queue");
    }

    #[test]
    fn closed_tabs_show_offline_only_after_the_grace_period() {
        let mut board = booth();
        run(&mut board, "system", BoothCommand::StaffConnections { staff: user("staff-a"), connections: 0 }, 1_000)
            .unwrap();
        run(&mut board, "system", BoothCommand::Tick { grace_ms: GRACE, visitors_gone_since: vec![] }, 10_000).unwrap();
        assert_eq!(board.staff[&user("staff-a")].shown, StaffStatus::Available, "within the grace");
        run(&mut board, "system", BoothCommand::Tick { grace_ms: GRACE, visitors_gone_since: vec![] }, 31_000).unwrap();
        assert_eq!(board.staff[&user("staff-a")].shown, StaffStatus::Offline);
        run(&mut board, "system", BoothCommand::StaffConnections { staff: user("staff-a"), connections: 1 }, 40_000)
            .unwrap();
        assert_eq!(board.staff[&user("staff-a")].shown, StaffStatus::Available, "back with the chosen status");
    }

    #[test]
    fn a_visitor_gone_past_the_grace_loses_its_waiting_request() {
        let mut board = booth();
        run(&mut board, "visitor", BoothCommand::Request { id: "r1".into(), message: None }, 10).unwrap();
        let gone = vec![(user("visitor"), 100)];
        run(&mut board, "system", BoothCommand::Tick { grace_ms: GRACE, visitors_gone_since: gone.clone() }, 20_000)
            .unwrap();
        assert_eq!(board.requests["r1"].state, RequestState::Waiting);
        run(&mut board, "system", BoothCommand::Tick { grace_ms: GRACE, visitors_gone_since: gone }, 31_000).unwrap();
        assert_eq!(board.requests["r1"].state, RequestState::Cancelled { by_visitor: false });
        assert_eq!(
            run(&mut board, "visitor", BoothCommand::Request { id: "r1".into(), message: None }, 40_000),
            Err(BoothError::Invalid("a request id is already taken".into()))
        );
        run(&mut board, "visitor", BoothCommand::Request { id: "r2".into(), message: None }, 40_000).unwrap();
        assert_eq!(
            run(&mut board, "visitor", BoothCommand::Request { id: "r3".into(), message: None }, 40_001),
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
                    let id = format!("r{request}-{who}");
                    let command = match kind {
                        0 => BoothCommand::Request { id, message: Some("hello".into()) },
                        1 => BoothCommand::Accept { id: format!("r{request}-{}", 2 + who % 2) },
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
