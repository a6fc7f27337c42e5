//! What a token's roles allow in one room.

use plenary_proto::{Membership, Role, RoomId, RoomKind};

use super::identity::Identity;

/// The caller's rights in `room`. `booth_staff`: the caller is one of the staff of the booth
/// `room` is (the booth room knows its staff: the programme and the caller's grants).
///
/// In a booth, its staff moderate the chat (organisers too: the event's code of conduct
/// holds everywhere), but only its staff set presence and take requests. A call room is
/// joined only by the call's members, a green room only by its session's speakers and
/// moderators ([`may_enter_green_room`]), who chat there.
pub fn membership(identity: &Identity, room: &RoomId, booth_staff: bool) -> Membership {
    let organiser = identity.has(Role::Organiser);
    let kind = room.kind();
    let session = kind == Some(RoomKind::Session);
    let booth_staff = booth_staff && kind == Some(RoomKind::Booth);
    let moderator = organiser
        || (session
            && identity.has(Role::Moderator)
            && identity.moderates.as_ref().is_none_or(|rooms| rooms.contains(room)));
    let role = if organiser {
        Role::Organiser
    } else if moderator {
        Role::Moderator
    } else if booth_staff {
        Role::Exhibitor
    } else {
        // The highest remaining role; a scoped moderator elsewhere is what else they are.
        identity
            .roles
            .iter()
            .copied()
            .filter(|r| *r != Role::Moderator && *r != Role::Organiser)
            .max()
            .unwrap_or(Role::Attendee)
    };
    let booth = kind == Some(RoomKind::Booth);
    Membership {
        role,
        can_chat: session || booth || matches!(kind, Some(RoomKind::Call | RoomKind::Green)),
        can_moderate: (moderator && session) || (booth && (booth_staff || organiser)),
        can_manage_stage: moderator && session,
        can_announce: organiser && kind == Some(RoomKind::Event),
        booth_staff,
    }
}

/// Whether `identity` may enter the green room of the session `session_slug`: organisers,
/// moderators of that session (or of every session), and its speakers.
pub fn may_enter_green_room(identity: &Identity, session_slug: &str) -> bool {
    let session = RoomId::session(session_slug).ok();
    identity.has(Role::Organiser)
        || (identity.has(Role::Moderator)
            && identity.moderates.as_ref().is_none_or(|rooms| session.as_ref().is_some_and(|s| rooms.contains(s))))
        || identity.speaks.iter().any(|s| *s == session_slug)
}

#[cfg(test)]
mod tests {
    use super::*;
    use plenary_proto::{Slug, UserId, UserProfile};

    fn identity(roles: &[Role], moderates: Option<Vec<&str>>) -> Identity {
        Identity {
            profile: UserProfile { id: UserId::parse("u").unwrap(), name: "U".into(), country: None },
            roles: roles.to_vec(),
            moderates: moderates.map(|r| r.into_iter().map(|r| RoomId::parse(r).unwrap()).collect()),
            staffs: Vec::new(),
            speaks: Vec::new(),
            expires_at: 0,
            token_id: None,
        }
    }

    #[test]
    fn roles_map_to_rights() {
        let a = RoomId::parse("session:a").unwrap();
        let b = RoomId::parse("session:b").unwrap();
        let attendee = membership(&identity(&[Role::Attendee], None), &a, false);
        assert!(attendee.can_chat && !attendee.can_moderate && !attendee.can_manage_stage);

        let moderator = identity(&[Role::Attendee, Role::Moderator], None);
        assert!(membership(&moderator, &b, false).can_manage_stage);
        assert!(!membership(&moderator, &RoomId::event(), false).can_announce);

        let scoped = identity(&[Role::Speaker, Role::Moderator], Some(vec!["session:a"]));
        assert!(membership(&scoped, &a, false).can_moderate);
        let elsewhere = membership(&scoped, &b, false);
        assert!(!elsewhere.can_moderate);
        assert_eq!(elsewhere.role, Role::Speaker);

        let organiser = identity(&[Role::Organiser], None);
        assert!(membership(&organiser, &RoomId::event(), false).can_announce);
        assert!(membership(&organiser, &b, false).can_manage_stage);
        assert!(!membership(&organiser, &RoomId::event(), false).can_chat);

        let booth = RoomId::booth("itu").unwrap();
        let visitor = membership(&identity(&[Role::Attendee], None), &booth, false);
        assert!(visitor.can_chat && !visitor.can_moderate && !visitor.booth_staff);
        let staff = membership(&identity(&[Role::Attendee], None), &booth, true);
        assert!(staff.can_moderate && staff.booth_staff && !staff.can_manage_stage);
        assert_eq!(staff.role, Role::Exhibitor);
        let organiser_at_booth = membership(&organiser, &booth, false);
        assert!(organiser_at_booth.can_moderate && !organiser_at_booth.booth_staff);
        assert!(!membership(&moderator, &booth, false).can_moderate, "session moderators do not moderate booths");
        assert!(!membership(&organiser, &RoomId::expo(), false).can_chat);
        assert!(membership(&identity(&[Role::Attendee], None), &RoomId::call("c").unwrap(), false).can_chat);
        let elsewhere = membership(&identity(&[Role::Attendee], None), &b, true);
        assert!(!elsewhere.booth_staff, "booth staff is about booth rooms only");
    }

    #[test]
    fn green_rooms_take_their_sessions_speakers_and_moderators() {
        let cases: &[(&str, Identity, bool)] = &[
            ("organiser", identity(&[Role::Organiser], None), true),
            ("moderator of every session", identity(&[Role::Moderator], None), true),
            ("moderator of this session", identity(&[Role::Moderator], Some(vec!["session:a"])), true),
            ("moderator of another session", identity(&[Role::Moderator], Some(vec!["session:b"])), false),
            (
                "speaker of this session",
                Identity { speaks: vec![Slug::parse("a").unwrap()], ..identity(&[Role::Speaker], None) },
                true,
            ),
            (
                "speaker of another session",
                Identity { speaks: vec![Slug::parse("b").unwrap()], ..identity(&[Role::Speaker], None) },
                false,
            ),
            ("attendee", identity(&[Role::Attendee], None), false),
            (
                "exhibitor",
                Identity { staffs: vec![Slug::parse("a").unwrap()], ..identity(&[Role::Exhibitor], None) },
                false,
            ),
        ];
        for (who, person, admitted) in cases {
            assert_eq!(may_enter_green_room(person, "a"), *admitted, "{who}");
        }
    }
}
