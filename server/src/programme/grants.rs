//! The role grants organisers made, held in memory so that a connection's hello and a REST
//! call read them without a database query; the store is written first, then this cache.

use std::collections::HashMap;
use std::sync::RwLock;

use super::model::RoleGrant;

#[derive(Debug, Default)]
pub struct GrantCache {
    by_user: RwLock<HashMap<String, Vec<RoleGrant>>>,
}

impl GrantCache {
    pub fn new(grants: impl IntoIterator<Item = RoleGrant>) -> GrantCache {
        let cache = GrantCache::default();
        for grant in grants {
            cache.add(grant);
        }
        cache
    }

    /// The grants of `user`.
    pub fn of(&self, user: &str) -> Vec<RoleGrant> {
        self.by_user.read().expect("grant lock").get(user).cloned().unwrap_or_default()
    }

    /// Replaces every grant (a reload from the store, which other nodes may have changed).
    pub fn replace(&self, grants: impl IntoIterator<Item = RoleGrant>) {
        let mut map: HashMap<String, Vec<RoleGrant>> = HashMap::new();
        for grant in grants {
            let list = map.entry(grant.user.clone()).or_default();
            if !list.contains(&grant) {
                list.push(grant);
            }
        }
        *self.by_user.write().expect("grant lock") = map;
    }

    pub fn add(&self, grant: RoleGrant) {
        let mut map = self.by_user.write().expect("grant lock");
        let grants = map.entry(grant.user.clone()).or_default();
        if !grants.contains(&grant) {
            grants.push(grant);
        }
    }

    pub fn remove(&self, grant: &RoleGrant) {
        let mut map = self.by_user.write().expect("grant lock");
        if let Some(grants) = map.get_mut(&grant.user) {
            grants.retain(|g| g != grant);
            if grants.is_empty() {
                map.remove(&grant.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(user: &str, role: &str, scope: Option<&str>) -> RoleGrant {
        RoleGrant { user: user.into(), role: role.into(), scope: scope.map(str::to_owned) }
    }

    #[test]
    fn a_reload_replaces_every_grant() {
        let cache = GrantCache::new([grant("kim", "exhibitor", Some("itu")), grant("ana", "moderator", None)]);
        cache.replace([grant("kim", "exhibitor", Some("undp")), grant("kim", "exhibitor", Some("undp"))]);
        assert_eq!(cache.of("kim"), [grant("kim", "exhibitor", Some("undp"))]);
        assert!(cache.of("ana").is_empty(), "revoked elsewhere: gone here too");
    }
}
