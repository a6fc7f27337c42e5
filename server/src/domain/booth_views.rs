//! What each audience sees of a booth step: applying a step to the board and saying which
//! staff changes everyone sees, which requests the booth's staff see (every changed request
//! and every waiting one whose place in the queue moved), and which each visitor involved
//! sees (its own requests only). Pure: the room only encodes the result.

use std::collections::{BTreeMap, HashMap};

use plenary_proto::{ContactRequestView, MessageId, StaffView, UserId};

use super::booth::{self, BoothBoard, BoothEvent};

/// What a booth step changed, per audience.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BoothStepViews {
    /// Staff whose presence changed: everyone sees them.
    pub staff: Vec<StaffView>,
    /// Requests the booth's staff see: changed, or moved in the queue.
    pub for_staff: Vec<ContactRequestView>,
    /// Each visitor involved, with its own requests among those.
    pub by_visitor: BTreeMap<UserId, Vec<ContactRequestView>>,
}

/// Applies `events` to `board` and returns what each audience sees of them.
pub fn apply_step(board: &mut BoothBoard, events: &[BoothEvent]) -> BoothStepViews {
    let queue_before: Vec<MessageId> = board.queue().iter().map(|r| r.id.clone()).collect();
    let mut staff_changed = Vec::new();
    let mut touched: Vec<MessageId> = Vec::new();
    for event in events {
        match event {
            BoothEvent::Staff { user, .. } => staff_changed.push(user.clone()),
            BoothEvent::Request(request) => touched.push(request.id.clone()),
        }
        booth::apply(board, event);
    }
    let queue_after: Vec<MessageId> = board.queue().iter().map(|r| r.id.clone()).collect();
    let positions: HashMap<&str, usize> = queue_after.iter().enumerate().map(|(i, id)| (id.as_str(), i + 1)).collect();
    // Requests whose position moved: everyone behind the first change in the queue.
    if queue_before != queue_after {
        let same = queue_before.iter().zip(&queue_after).take_while(|(a, b)| a == b).count();
        for id in &queue_after[same..] {
            if !touched.contains(id) {
                touched.push(id.clone());
            }
        }
    }
    staff_changed.sort();
    staff_changed.dedup();
    let mut views = BoothStepViews {
        staff: staff_changed.iter().filter_map(|u| board.staff.get(u).map(|p| booth::staff_view(u, p))).collect(),
        ..BoothStepViews::default()
    };
    for request in touched.iter().filter_map(|id| board.requests.get(id)) {
        let Some(view) = booth::request_view(board, request, positions.get(request.id.as_str()).copied()) else {
            continue;
        };
        views.by_visitor.entry(request.visitor.clone()).or_default().push(view.clone());
        views.for_staff.push(view);
    }
    views
}

#[cfg(test)]
mod tests {
    use plenary_proto::{ContactKind, StaffStatus};

    use super::*;
    use crate::domain::booth::{ContactRequest, RequestState, StaffPresence};
    use crate::domain::mid;

    fn user(id: &str) -> UserId {
        UserId::parse(id).unwrap()
    }

    fn live(id: &str, visitor: &str, at: i64) -> BoothEvent {
        BoothEvent::Request(ContactRequest {
            id: mid(id),
            visitor: user(visitor),
            visitor_name: visitor.into(),
            kind: ContactKind::Live,
            message: None,
            state: RequestState::Waiting,
            created_at: at,
            updated_at: at,
        })
    }

    /// Request ids and queue positions each audience is sent.
    fn render(views: &BoothStepViews) -> (Vec<String>, Vec<(String, Vec<String>)>) {
        let ids = |list: &[ContactRequestView]| {
            list.iter().map(|r| format!("{}@{}", r.id, r.position.map_or("-".into(), |p| p.to_string()))).collect()
        };
        (ids(&views.for_staff), views.by_visitor.iter().map(|(v, list)| (v.to_string(), ids(list))).collect())
    }

    #[test]
    fn staff_see_every_request_and_each_visitor_only_its_own() {
        let mut board = BoothBoard::default();
        let views = apply_step(&mut board, &[live("r1", "ada", 1), live("r2", "kofi", 2)]);
        assert_eq!(
            render(&views),
            (
                vec!["r1@1".to_owned(), "r2@2".to_owned()],
                vec![("ada".to_owned(), vec!["r1@1".to_owned()]), ("kofi".to_owned(), vec!["r2@2".to_owned()])]
            )
        );
        assert!(views.staff.is_empty(), "no staff change, nothing for everyone");
    }

    #[test]
    fn when_the_head_of_the_queue_leaves_everyone_behind_it_hears_their_new_place() {
        let mut board = BoothBoard::default();
        apply_step(&mut board, &[live("r1", "ada", 1), live("r2", "kofi", 2), live("r3", "lin", 3)]);
        let BoothEvent::Request(mut first) = live("r1", "ada", 1) else { unreachable!() };
        first.state = RequestState::Cancelled { by_visitor: true };
        first.updated_at = 10;
        let views = apply_step(&mut board, &[BoothEvent::Request(first)]);
        assert_eq!(
            render(&views),
            (
                vec!["r1@-".to_owned(), "r2@1".to_owned(), "r3@2".to_owned()],
                vec![
                    ("ada".to_owned(), vec!["r1@-".to_owned()]),
                    ("kofi".to_owned(), vec!["r2@1".to_owned()]),
                    ("lin".to_owned(), vec!["r3@2".to_owned()]),
                ]
            )
        );
    }

    #[test]
    fn a_staff_change_reaches_everyone() {
        let mut board = BoothBoard::default();
        let presence = StaffPresence {
            chosen: StaffStatus::Available,
            connections: 1,
            gone_since: None,
            shown: StaffStatus::Available,
            name: "Grace".into(),
        };
        let views = apply_step(&mut board, &[BoothEvent::Staff { user: user("grace"), presence }]);
        assert_eq!(views.staff.len(), 1);
        assert!(views.for_staff.is_empty() && views.by_visitor.is_empty());
    }
}
