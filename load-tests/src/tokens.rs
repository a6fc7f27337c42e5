//! Tokens for load clients: minted from the node's shared secret, or read from a file.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context as _, bail};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use plenary_proto::Role;
use serde_json::json;

/// Where tokens come from.
pub enum TokenSource {
    /// HS256 tokens signed with the node's secret, for users `load-<n>`.
    Secret { key: EncodingKey, audience: Option<String>, issuer: Option<String> },
    /// Ready tokens, one per line, used round-robin; the first line is used for
    /// moderators.
    File { tokens: Vec<String>, next: AtomicUsize },
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenSource::Secret { .. } => f.write_str("TokenSource::Secret"),
            TokenSource::File { tokens, .. } => write!(f, "TokenSource::File({} tokens)", tokens.len()),
        }
    }
}

impl TokenSource {
    pub fn from_secret(secret: &str, audience: Option<String>, issuer: Option<String>) -> anyhow::Result<Self> {
        Ok(TokenSource::Secret { key: EncodingKey::from_secret(secret.as_bytes())?, audience, issuer })
    }

    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let tokens: Vec<String> = text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
        if tokens.is_empty() {
            bail!("{} holds no token", path.display());
        }
        Ok(TokenSource::File { tokens, next: AtomicUsize::new(1) })
    }

    /// A token for load user `n` with `role`.
    pub fn token(&self, n: usize, role: Role) -> anyhow::Result<String> {
        self.token_with_scopes(n, role, &[])
    }

    /// A token for load user `n` with `role` and `scopes` (e.g. `staff:<booth>`); a token file
    /// cannot give scopes.
    pub fn token_with_scopes(&self, n: usize, role: Role, scopes: &[String]) -> anyhow::Result<String> {
        if !scopes.is_empty() && matches!(self, TokenSource::File { .. }) {
            bail!("this scenario needs tokens with scopes: give the node's secret, not a token file");
        }
        match self {
            TokenSource::Secret { key, audience, issuer } => {
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
                let mut claims = json!({
                    "sub": format!("load-{n}"),
                    "name": format!("Load {n}"),
                    "roles": [role.as_str()],
                    "iat": now,
                    "exp": now + 4 * 3600,
                });
                if !scopes.is_empty() {
                    claims["scopes"] = json!(scopes);
                }
                if let Some(aud) = audience {
                    claims["aud"] = json!(aud);
                }
                if let Some(iss) = issuer {
                    claims["iss"] = json!(iss);
                }
                Ok(jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, key)?)
            }
            TokenSource::File { tokens, next } => {
                if role >= Role::Moderator {
                    return Ok(tokens[0].clone());
                }
                let i = next.fetch_add(1, Ordering::Relaxed) % tokens.len();
                Ok(tokens[i].clone())
            }
        }
    }
}
