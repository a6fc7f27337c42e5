//! Who may not come in: bans (from the whole event or from one room, for a time or with no
//! end) and revoked token ids. Kept in memory like the grants, so `hello` and `join` check
//! them without a database query; the store is written first, then this cache, and every
//! node reloads both with the programme.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

use plenary_proto::RoomId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A person kept out of the event (`room` absent) or out of one room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Ban {
    pub user: String,
    /// The room (`session:<slug>`, `booth:<slug>`, ...); absent for the whole event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub room: Option<RoomId>,
    /// Unix milliseconds when the ban ends; absent for a ban without an end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
    pub reason: String,
    pub by: String,
    pub at: i64,
}

impl Ban {
    pub fn in_force(&self, now_ms: i64) -> bool {
        self.until.is_none_or(|until| until > now_ms)
    }

    /// What the banned person is told.
    pub fn explain(&self) -> String {
        let place = match &self.room {
            Some(room) => format!("from {room}"),
            None => "from the event".to_owned(),
        };
        let until = match self.until {
            Some(until) => format!(" until {}", crate::programme::model::format_time(until)),
            None => String::new(),
        };
        let reason = if self.reason.is_empty() { String::new() } else { format!(": {}", self.reason) };
        format!("an organiser or moderator removed you {place}{until}{reason}")
    }
}

/// A revoked token's id and when the token would have expired (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RevokedToken {
    pub jti: String,
    pub expires_at: i64,
}

#[derive(Debug, Default)]
struct Lists {
    bans: HashMap<String, Vec<Ban>>,
    revoked: HashSet<String>,
}

/// The bans and revoked tokens in force on this node.
#[derive(Debug, Default)]
pub struct AccessCache {
    lists: RwLock<Lists>,
}

/// What a reload changed: users whose bans changed, and token ids newly revoked.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AccessChanges {
    pub users: Vec<String>,
    pub tokens: Vec<String>,
}

impl AccessCache {
    pub fn new(bans: Vec<Ban>, revoked: Vec<RevokedToken>) -> AccessCache {
        let cache = AccessCache::default();
        cache.replace(bans, revoked);
        cache
    }

    /// The ban that keeps `user` out of the whole event now, if any.
    pub fn event_ban(&self, user: &str, now_ms: i64) -> Option<Ban> {
        let lists = self.lists.read().expect("access lock");
        lists.bans.get(user)?.iter().find(|b| b.room.is_none() && b.in_force(now_ms)).cloned()
    }

    /// The ban that keeps `user` out of `room` now (a room ban or an event ban), if any.
    pub fn room_ban(&self, user: &str, room: &RoomId, now_ms: i64) -> Option<Ban> {
        let lists = self.lists.read().expect("access lock");
        lists.bans.get(user)?.iter().find(|b| b.room.as_ref().is_none_or(|r| r == room) && b.in_force(now_ms)).cloned()
    }

    /// Whether any ban of `user` is in force.
    pub fn has_ban(&self, user: &str, now_ms: i64) -> bool {
        let lists = self.lists.read().expect("access lock");
        lists.bans.get(user).is_some_and(|bans| bans.iter().any(|b| b.in_force(now_ms)))
    }

    /// Every ban in force, optionally only those of one room.
    pub fn list(&self, now_ms: i64) -> Vec<Ban> {
        let lists = self.lists.read().expect("access lock");
        let mut bans: Vec<Ban> = lists.bans.values().flatten().filter(|b| b.in_force(now_ms)).cloned().collect();
        bans.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.user.cmp(&b.user)));
        bans
    }

    pub fn is_revoked(&self, jti: &str) -> bool {
        self.lists.read().expect("access lock").revoked.contains(jti)
    }

    /// Records a ban taken on this node (after the store).
    pub fn ban(&self, ban: Ban) {
        let mut lists = self.lists.write().expect("access lock");
        let bans = lists.bans.entry(ban.user.clone()).or_default();
        bans.retain(|b| b.room != ban.room);
        bans.push(ban);
    }

    /// Lifts a ban taken on this node (after the store).
    pub fn unban(&self, user: &str, room: Option<&RoomId>) {
        let mut lists = self.lists.write().expect("access lock");
        if let Some(bans) = lists.bans.get_mut(user) {
            bans.retain(|b| b.room.as_ref() != room);
            if bans.is_empty() {
                lists.bans.remove(user);
            }
        }
    }

    pub fn revoke(&self, jti: &str) {
        self.lists.write().expect("access lock").revoked.insert(jti.to_owned());
    }

    /// Replaces both lists (a reload from the store, which other nodes may have changed).
    pub fn replace(&self, bans: Vec<Ban>, revoked: Vec<RevokedToken>) -> AccessChanges {
        let mut by_user: HashMap<String, Vec<Ban>> = HashMap::new();
        for ban in bans {
            by_user.entry(ban.user.clone()).or_default().push(ban);
        }
        let revoked: HashSet<String> = revoked.into_iter().map(|t| t.jti).collect();
        let mut lists = self.lists.write().expect("access lock");
        let mut users: Vec<String> = by_user
            .iter()
            .filter(|(user, bans)| lists.bans.get(*user).is_none_or(|old| !same(old, bans)))
            .map(|(user, _)| user.clone())
            .collect();
        users.extend(lists.bans.keys().filter(|user| !by_user.contains_key(*user)).cloned());
        let tokens = revoked.difference(&lists.revoked).cloned().collect();
        *lists = Lists { bans: by_user, revoked };
        AccessChanges { users, tokens }
    }
}

fn same(a: &[Ban], b: &[Ban]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ban(user: &str, room: Option<&str>, until: Option<i64>) -> Ban {
        Ban {
            user: user.into(),
            room: room.map(|r| RoomId::parse(r).unwrap()),
            until,
            reason: String::new(),
            by: "org".into(),
            at: 0,
        }
    }

    #[test]
    fn an_event_ban_keeps_out_of_every_room_and_a_room_ban_of_one() {
        let cache = AccessCache::new(vec![ban("troll", None, None), ban("loud", Some("session:a"), None)], vec![]);
        let (a, b) = (RoomId::parse("session:a").unwrap(), RoomId::parse("session:b").unwrap());
        assert!(cache.event_ban("troll", 0).is_some());
        assert!(cache.room_ban("troll", &b, 0).is_some());
        assert!(cache.event_ban("loud", 0).is_none());
        assert!(cache.room_ban("loud", &a, 0).is_some());
        assert!(cache.room_ban("loud", &b, 0).is_none());
        assert!(cache.room_ban("someone", &a, 0).is_none());
    }

    #[test]
    fn a_ban_ends_at_its_time() {
        let cache = AccessCache::new(vec![ban("late", None, Some(1_000))], vec![]);
        assert!(cache.event_ban("late", 999).is_some());
        assert!(cache.event_ban("late", 1_000).is_none());
    }

    #[test]
    fn a_reload_names_what_changed() {
        let cache = AccessCache::new(vec![ban("a", None, None), ban("b", None, None)], vec![]);
        let changes = cache.replace(
            vec![ban("b", None, None), ban("c", Some("session:x"), None)],
            vec![RevokedToken { jti: "t1".into(), expires_at: 9 }],
        );
        let mut users = changes.users;
        users.sort();
        assert_eq!(users, ["a", "c"]);
        assert_eq!(changes.tokens, ["t1"]);
        assert!(cache.is_revoked("t1"));
        let again = cache.replace(
            vec![ban("b", None, None), ban("c", Some("session:x"), None)],
            vec![RevokedToken { jti: "t1".into(), expires_at: 9 }],
        );
        assert_eq!(again, AccessChanges::default());
    }

    #[test]
    fn a_new_ban_replaces_the_same_scope_and_unban_lifts_it() {
        let cache = AccessCache::default();
        let room = RoomId::parse("session:a").unwrap();
        cache.ban(ban("u", Some("session:a"), Some(10)));
        cache.ban(ban("u", Some("session:a"), None));
        assert!(cache.room_ban("u", &room, 100).is_some(), "the later ban has no end");
        cache.unban("u", Some(&room));
        assert!(cache.room_ban("u", &room, 0).is_none());
    }
}
