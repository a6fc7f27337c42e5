//! Who someone is once a token is verified: their profile, roles and scoped rights
//! ([`Identity`]), and the role grants organisers add to them ([`RoleGrant`]). Pure data
//! and rules, so the domain's permission checks use them without knowing about JWTs.

use plenary_proto::{Role, RoomId, Slug, UserId, UserProfile};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A role an organiser grants, optionally limited to one session or booth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RoleGrant {
    pub user: String,
    /// `moderator`, `speaker`, `exhibitor` or `organiser`.
    pub role: String,
    /// A session id (for moderators and speakers) or booth id (for exhibitors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// Who a connection belongs to, from a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub profile: UserProfile,
    /// Sorted, deduplicated; never empty (a token without known roles is an attendee).
    pub roles: Vec<Role>,
    /// Rooms a moderator is limited to; `None` means every session.
    pub moderates: Option<Vec<RoomId>>,
    /// Booths an organiser made this user staff of (exhibitor grants scoped to a booth),
    /// besides the staff the programme lists on each booth.
    pub staffs: Vec<Slug>,
    /// Sessions this user speaks at (speaker grants scoped to a session, or `speak:<session>`
    /// token scopes): their green rooms admit it.
    pub speaks: Vec<Slug>,
    /// Unix seconds.
    pub expires_at: i64,
    /// The token's `jti`, when it has one.
    pub token_id: Option<String>,
}

impl Identity {
    pub fn user(&self) -> &UserId {
        &self.profile.id
    }

    /// Adds the roles organisers granted this user in the programme. A grant scoped to a
    /// session makes the user moderator of that session only (unless the token already
    /// made them moderator of every session).
    pub fn with_grants(mut self, grants: &[RoleGrant]) -> Identity {
        for grant in grants {
            let Some(role) = Role::parse(&grant.role) else { continue };
            match (role, &grant.scope) {
                (Role::Moderator, Some(session)) => {
                    let Ok(room) = RoomId::session(session) else { continue };
                    if !self.roles.contains(&Role::Moderator) {
                        self.moderates = Some(Vec::new());
                    }
                    if let Some(rooms) = &mut self.moderates {
                        rooms.push(room);
                    }
                }
                (Role::Moderator, None) => self.moderates = None,
                (Role::Exhibitor, Some(booth)) => {
                    // The programme checks slugs when grants are made; one it would refuse
                    // names no booth.
                    if let Ok(booth) = Slug::parse(booth.as_str())
                        && !self.staffs.contains(&booth)
                    {
                        self.staffs.push(booth);
                    }
                    continue;
                }
                (Role::Speaker, Some(session)) => {
                    if let Ok(session) = Slug::parse(session.as_str())
                        && !self.speaks.contains(&session)
                    {
                        self.speaks.push(session);
                    }
                    continue;
                }
                // A speaker or exhibitor grant for one session or booth is kept for the
                // features that use it (speaker green rooms, booths); it does not make the
                // user that role everywhere.
                (_, Some(_)) => continue,
                _ => {}
            }
            self.roles.push(role);
        }
        self.roles.sort();
        self.roles.dedup();
        self
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_add_roles_and_scopes() {
        let base = |roles: Vec<Role>| Identity {
            profile: UserProfile { id: UserId::parse("u").unwrap(), name: "U".into(), country: None },
            roles,
            moderates: None,
            staffs: Vec::new(),
            speaks: Vec::new(),
            expires_at: 0,
            token_id: None,
        };
        let grant = |role: &str, scope: Option<&str>| RoleGrant {
            user: "u".into(),
            role: role.into(),
            scope: scope.map(str::to_owned),
        };
        let id = base(vec![Role::Attendee]).with_grants(&[grant("moderator", Some("opening"))]);
        assert_eq!(id.roles, vec![Role::Attendee, Role::Moderator]);
        assert_eq!(id.moderates, Some(vec![RoomId::parse("session:opening").unwrap()]));
        let id = base(vec![Role::Moderator]).with_grants(&[grant("moderator", Some("opening"))]);
        assert_eq!(id.moderates, None, "already moderator of every session");
        let id = base(vec![Role::Attendee]).with_grants(&[grant("organiser", None), grant("astronaut", None)]);
        assert_eq!(id.roles, vec![Role::Attendee, Role::Organiser]);
        let id = base(vec![Role::Attendee]).with_grants(&[grant("exhibitor", Some("itu"))]);
        assert_eq!(id.roles, vec![Role::Attendee], "staff of one booth only");
        assert_eq!(id.staffs, ["itu"]);
        let id = base(vec![Role::Attendee]).with_grants(&[grant("speaker", Some("opening"))]);
        assert_eq!(
            (id.roles.clone(), id.speaks.clone()),
            (vec![Role::Attendee], vec![Slug::parse("opening").unwrap()])
        );
    }
}
