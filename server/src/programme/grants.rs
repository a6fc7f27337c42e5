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
