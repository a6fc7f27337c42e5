//! The ICE servers a call member's browser is given: STUN servers as configured, and TURN
//! servers with time-limited credentials in the TURN REST scheme coturn checks with
//! `use-auth-secret`: the username is `<expiry unix seconds>:<user id>`, the password the
//! base64 HMAC-SHA1 of that username keyed with the shared secret. Only members of a call
//! get them (in the call's snapshot), and they lapse after `turn_ttl_secs`.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use plenary_proto::{IceServer, UserId};
use sha1::Sha1;

use crate::config::Settings;

/// A TURN username and password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnCredential {
    pub username: String,
    pub password: String,
}

/// The TURN REST credential of `user`, valid until `expires_at` (Unix seconds).
pub fn turn_credential(secret: &str, user: &UserId, expires_at: i64) -> TurnCredential {
    let username = format!("{expires_at}:{user}");
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(username.as_bytes());
    let password = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    TurnCredential { username, password }
}

/// The ICE servers for `user` at `now` (Unix seconds): the STUN servers, and the TURN
/// servers with credentials lasting `turn_ttl_secs`.
pub fn ice_servers(settings: &Settings, user: &UserId, now: i64) -> Vec<IceServer> {
    let mut servers = Vec::new();
    if !settings.stun_urls.is_empty() {
        servers.push(IceServer { urls: settings.stun_urls.clone(), username: None, credential: None });
    }
    if let (false, Some(secret)) = (settings.turn_urls.is_empty(), &settings.turn_secret) {
        let ttl = i64::try_from(settings.turn_ttl_secs).unwrap_or(i64::MAX);
        let credential = turn_credential(secret, user, now.saturating_add(ttl));
        servers.push(IceServer {
            urls: settings.turn_urls.clone(),
            username: Some(credential.username),
            credential: Some(credential.password),
        });
    }
    servers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_follow_the_turn_rest_scheme() {
        // Computed independently: python3 -c "import hmac,hashlib,base64;
        // print(base64.b64encode(hmac.new(b'north-sea-turn-secret', b'1767258000:auth0|ada',
        // hashlib.sha1).digest()).decode())"
        let credential = turn_credential("north-sea-turn-secret", &UserId::parse("auth0|ada").unwrap(), 1_767_258_000);
        assert_eq!(credential.username, "1767258000:auth0|ada");
        assert_eq!(credential.password, "C/50SQAu1M7nULg2qEcLE/+WVs8=");
    }

    #[test]
    fn members_get_stun_and_turn_with_a_lifetime() {
        let user = UserId::parse("ana").unwrap();
        assert!(ice_servers(&Settings::default(), &user, 0).is_empty(), "nothing configured, nothing given");
        let settings = Settings {
            stun_urls: vec!["stun:stun.example.org:3478".into()],
            turn_urls: vec!["turn:turn.example.org:3478?transport=udp".into()],
            turn_secret: Some("a-secret-of-16-bytes".into()),
            turn_ttl_secs: 600,
            ..Settings::default()
        };
        let servers = ice_servers(&settings, &user, 1_000);
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0].username, None);
        assert_eq!(servers[1].username.as_deref(), Some("1600:ana"));
        let expected = turn_credential("a-secret-of-16-bytes", &user, 1_600).password;
        assert_eq!(servers[1].credential.as_deref(), Some(expected.as_str()));
    }
}
