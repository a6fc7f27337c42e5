//! The node's open connections by user: counted against `max_connections_per_user`, and
//! closed when what let them in changes (a grant given or revoked, a ban, a revoked token).
//! Rights are fixed when a connection says hello, so closing is how a change bites at once;
//! the reconnect is let in, or not, under the rules now in force.

use std::sync::Arc;

use dashmap::DashMap;
use plenary_proto::{CloseCode, UserId};

use crate::hub::peer::Peer;

/// One open connection of a user.
#[derive(Debug, Clone)]
struct UserConnection {
    peer: Arc<Peer>,
    token_id: Option<Arc<str>>,
}

#[derive(Debug, Default)]
pub struct UserConnections {
    by_user: DashMap<UserId, Vec<UserConnection>>,
}

impl UserConnections {
    /// Registers a connection of `user`, unless the user already holds `max` here.
    pub fn admit(&self, user: &UserId, peer: &Arc<Peer>, token_id: Option<&str>, max: usize) -> bool {
        let mut connections = self.by_user.entry(user.clone()).or_default();
        if connections.len() >= max {
            return false;
        }
        connections.push(UserConnection { peer: peer.clone(), token_id: token_id.map(Arc::from) });
        true
    }

    /// Forgets a connection that closed.
    pub fn release(&self, user: &UserId, peer: &Peer) {
        self.by_user.remove_if_mut(user, |_, connections| {
            connections.retain(|c| c.peer.id != peer.id);
            connections.is_empty()
        });
    }

    /// How many connections `user` holds on this node.
    pub fn count(&self, user: &UserId) -> usize {
        self.by_user.get(user).map_or(0, |c| c.len())
    }

    /// Closes every connection of `user` with `code`; returns how many.
    pub fn close_user(&self, user: &str, code: CloseCode) -> usize {
        let Ok(user) = UserId::parse(user) else { return 0 };
        let Some(connections) = self.by_user.get(&user) else { return 0 };
        for connection in connections.iter() {
            connection.peer.close(code);
        }
        tracing::info!(%user, connections = connections.len(), %code, "closed a user's connections");
        connections.len()
    }

    /// Closes every connection opened with the token `jti`; returns how many. A scan: token
    /// revocations are rare, and a node holds at most `max_connections`.
    pub fn close_token(&self, jti: &str, code: CloseCode) -> usize {
        let mut closed = 0;
        for entry in self.by_user.iter() {
            for connection in entry.value().iter().filter(|c| c.token_id.as_deref() == Some(jti)) {
                connection.peer.close(code);
                closed += 1;
            }
        }
        closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metrics;
    use plenary_proto::ConnectionId;

    fn peer(id: u64) -> (Arc<Peer>, crate::hub::peer::Outbox) {
        Peer::new(id, ConnectionId::parse(format!("c{id}")).unwrap(), 8, 1024, Arc::new(Metrics::default()))
    }

    #[test]
    fn a_user_holds_at_most_max_and_a_closed_one_frees_its_place() {
        let connections = UserConnections::default();
        let user = UserId::parse("u").unwrap();
        let (a, _ra) = peer(1);
        let (b, _rb) = peer(2);
        let (c, _rc) = peer(3);
        assert!(connections.admit(&user, &a, None, 2));
        assert!(connections.admit(&user, &b, None, 2));
        assert!(!connections.admit(&user, &c, None, 2));
        connections.release(&user, &a);
        assert_eq!(connections.count(&user), 1);
        assert!(connections.admit(&user, &c, None, 2));
    }

    #[test]
    fn closing_by_user_and_by_token_reaches_only_those_connections() {
        let connections = UserConnections::default();
        let (ada, kim) = (UserId::parse("ada").unwrap(), UserId::parse("kim").unwrap());
        let (a1, _r1) = peer(1);
        let (a2, _r2) = peer(2);
        let (k1, _r3) = peer(3);
        connections.admit(&ada, &a1, Some("t-old"), 5);
        connections.admit(&ada, &a2, Some("t-new"), 5);
        connections.admit(&kim, &k1, Some("t-kim"), 5);
        assert_eq!(connections.close_token("t-old", CloseCode::InvalidToken), 1);
        assert_eq!(a1.close_code(), Some(CloseCode::InvalidToken));
        assert_eq!(a2.close_code(), None);
        assert_eq!(connections.close_user("kim", CloseCode::RightsChanged), 1);
        assert_eq!(k1.close_code(), Some(CloseCode::RightsChanged));
        assert_eq!(a2.close_code(), None);
    }
}
