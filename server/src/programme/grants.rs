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

    /// Replaces every grant (a reload from the store, which other nodes may have changed);
    /// returns the users whose grants changed.
    pub fn replace(&self, grants: impl IntoIterator<Item = RoleGrant>) -> Vec<String> {
        let mut map: HashMap<String, Vec<RoleGrant>> = HashMap::new();
        for grant in grants {
            let list = map.entry(grant.user.clone()).or_default();
            if !list.contains(&grant) {
                list.push(grant);
            }
        }
        let mut current = self.by_user.write().expect("grant lock");
        let mut changed: Vec<String> = map
            .iter()
            .filter(|(user, grants)| current.get(*user).is_none_or(|old| !same_grants(old, grants)))
            .map(|(user, _)| user.clone())
            .collect();
        changed.extend(current.keys().filter(|user| !map.contains_key(*user)).cloned());
        *current = map;
        changed
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

/// Whether two users' grant lists hold the same grants, in any order.
fn same_grants(a: &[RoleGrant], b: &[RoleGrant]) -> bool {
    a.len() == b.len() && a.iter().all(|g| b.contains(g))
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
        let changed = cache.replace([grant("kim", "exhibitor", Some("undp")), grant("kim", "exhibitor", Some("undp"))]);
        let mut changed = changed;
        changed.sort();
        assert_eq!(changed, ["ana", "kim"], "both users' rights changed");
        assert!(cache.replace([grant("kim", "exhibitor", Some("undp"))]).is_empty(), "nothing changed");
        assert_eq!(cache.of("kim"), [grant("kim", "exhibitor", Some("undp"))]);
        assert!(cache.of("ana").is_empty(), "revoked elsewhere: gone here too");
    }
}
