//! What a token's roles allow in one room.

use plenary_proto::{Membership, Role, RoomId, RoomKind};

use crate::auth::Identity;

/// The caller's rights in `room`.
pub fn membership(identity: &Identity, room: &RoomId) -> Membership {
    let organiser = identity.has(Role::Organiser);
    let session = room.kind() == Some(RoomKind::Session);
    let moderator = organiser
        || (session
            && identity.has(Role::Moderator)
            && identity.moderates.as_ref().is_none_or(|rooms| rooms.contains(room)));
    let role = if organiser {
        Role::Organiser
    } else if moderator {
        Role::Moderator
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
    Membership {
        role,
        can_chat: session,
        can_moderate: moderator && session,
        can_manage_stage: moderator && session,
        can_announce: organiser && room.kind() == Some(RoomKind::Event),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plenary_proto::{UserId, UserProfile};

    fn identity(roles: &[Role], moderates: Option<Vec<&str>>) -> Identity {
        Identity {
            profile: UserProfile { id: UserId::parse("u").unwrap(), name: "U".into(), country: None },
            roles: roles.to_vec(),
            moderates: moderates.map(|r| r.into_iter().map(|r| RoomId::parse(r).unwrap()).collect()),
            expires_at: 0,
        }
    }

    #[test]
    fn roles_map_to_rights() {
        let a = RoomId::parse("session:a").unwrap();
        let b = RoomId::parse("session:b").unwrap();
        let attendee = membership(&identity(&[Role::Attendee], None), &a);
        assert!(attendee.can_chat && !attendee.can_moderate && !attendee.can_manage_stage);

        let moderator = identity(&[Role::Attendee, Role::Moderator], None);
        assert!(membership(&moderator, &b).can_manage_stage);
        assert!(!membership(&moderator, &RoomId::event()).can_announce);

        let scoped = identity(&[Role::Speaker, Role::Moderator], Some(vec!["session:a"]));
        assert!(membership(&scoped, &a).can_moderate);
        let elsewhere = membership(&scoped, &b);
        assert!(!elsewhere.can_moderate);
        assert_eq!(elsewhere.role, Role::Speaker);

        let organiser = identity(&[Role::Organiser], None);
        assert!(membership(&organiser, &RoomId::event()).can_announce);
        assert!(membership(&organiser, &b).can_manage_stage);
        assert!(!membership(&organiser, &RoomId::event()).can_chat);
    }
}
