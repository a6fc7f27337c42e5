//! Authentication: verifies JWTs (HS256 shared secret, RS256 / ES256 / EdDSA public keys,
//! the algorithm pinned per key and `kid` choosing the key) and turns their claims into an
//! [`Identity`]; mints tokens for `plenary token`, guest sign-in and the development setup.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use plenary_proto::{CloseCode, Role, RoomId, Slug, UserId, UserProfile};
use serde::{Deserialize, Serialize};

use crate::config::{JwtKeySpec, Settings};
pub use crate::domain::identity::Identity;
use crate::domain::people::{validate_country, validate_display_name};

/// The claims a Plenary token carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub name: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// `moderate:<room>` limits a moderator to those rooms; without any, a moderator
    /// moderates every session. `staff:<booth>` makes the user one of that booth's staff;
    /// `speak:<session>` a speaker of that session (its green room admits the user).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// A string or an array of strings (identity providers issue both).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// The token's id: organisers revoke a token by it (`POST /api/tokens/revoke`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no token was given")]
    Missing,
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token names a key this node does not know")]
    UnknownKey,
    #[error("the token's algorithm is not the one configured for its key")]
    AlgorithmNotAllowed,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was issued in the future")]
    IssuedInFuture,
    #[error("the token's issuer is not accepted")]
    WrongIssuer,
    #[error("the token's audience is not accepted")]
    WrongAudience,
    #[error("the token's claims are invalid: {0}")]
    InvalidClaims(String),
}

impl AuthError {
    pub fn close_code(&self) -> CloseCode {
        match self {
            AuthError::Expired => CloseCode::TokenExpired,
            _ => CloseCode::InvalidToken,
        }
    }
}

struct VerifyingKey {
    algorithm: Algorithm,
    key: DecodingKey,
}

/// Verifies tokens against the configured keys.
pub struct Verifier {
    /// Keys by `kid`; the key under `None` serves tokens without a `kid`.
    keys: HashMap<Option<String>, VerifyingKey>,
    issuer: Option<String>,
    audience: Option<String>,
    leeway_secs: u64,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

impl Verifier {
    /// Builds a verifier from settings and the HS256 secret in force (configured or
    /// generated for development).
    pub fn from_settings(settings: &Settings, secret: Option<&str>) -> anyhow::Result<Self> {
        let mut keys = HashMap::new();
        if let Some(secret) = secret {
            keys.insert(
                settings.jwt_secret_kid.clone(),
                VerifyingKey { algorithm: Algorithm::HS256, key: DecodingKey::from_secret(secret.as_bytes())? },
            );
        }
        for spec in &settings.jwt_public_keys {
            let key = load_public_key(spec)?;
            if keys.insert(Some(spec.kid.clone()), key).is_some() {
                anyhow::bail!("two JWT keys share the kid {:?}", spec.kid);
            }
        }
        anyhow::ensure!(!keys.is_empty(), "no JWT key is configured");
        Ok(Verifier {
            keys,
            issuer: settings.jwt_issuer.clone(),
            audience: settings.jwt_audience.clone(),
            leeway_secs: settings.jwt_leeway_secs,
        })
    }

    /// Verifies `token` and returns who it names.
    pub fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(AuthError::Missing);
        }
        // `alg: none` and unknown algorithms fail here: jsonwebtoken has no such algorithm.
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Malformed)?;
        let key = self.keys.get(&header.kid).ok_or(AuthError::UnknownKey)?;
        if header.alg != key.algorithm {
            return Err(AuthError::AlgorithmNotAllowed);
        }
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = self.leeway_secs;
        validation.validate_nbf = true;
        // jsonwebtoken checks `aud` and `iss` only when the token carries them: require
        // them whenever they are configured, or a token without them would pass.
        let mut required = vec!["exp", "sub"];
        match &self.audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        if let Some(iss) = &self.issuer {
            validation.set_issuer(&[iss]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        let data = jsonwebtoken::decode::<Claims>(token, &key.key, &validation).map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => AuthError::BadSignature,
            ErrorKind::ExpiredSignature => AuthError::Expired,
            ErrorKind::ImmatureSignature => AuthError::NotYetValid,
            ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
            ErrorKind::InvalidAudience => AuthError::WrongAudience,
            ErrorKind::InvalidAlgorithm => AuthError::AlgorithmNotAllowed,
            ErrorKind::MissingRequiredClaim(claim) if claim == "aud" => AuthError::WrongAudience,
            ErrorKind::MissingRequiredClaim(claim) if claim == "iss" => AuthError::WrongIssuer,
            ErrorKind::MissingRequiredClaim(claim) => AuthError::InvalidClaims(format!("missing `{claim}`")),
            ErrorKind::Json(err) => AuthError::InvalidClaims(err.to_string()),
            _ => AuthError::Malformed,
        })?;
        // jsonwebtoken does not look at `iat`. A token issued later than now (beyond the
        // clock skew allowed) was minted by a clock or an issuer that cannot be trusted, and
        // would outlive what its issuer meant its lifetime to be.
        let now = crate::clock::unix_secs();
        if data.claims.iat.is_some_and(|iat| issued_in_future(iat, now, self.leeway_secs)) {
            return Err(AuthError::IssuedInFuture);
        }
        identity_from_claims(data.claims)
    }
}

/// The `jti` of a token, read without checking it (to tell an operator the id of a token
/// this node just minted).
pub fn token_id(token: &str) -> Option<String> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("jti")?.as_str().map(str::to_owned)
}

/// Longest `jti` kept: longer ones are not revocable by id (the token still works).
const MAX_TOKEN_ID_BYTES: usize = 128;

/// Whether `iat` is later than `now` by more than `leeway_secs`.
fn issued_in_future(iat: i64, now: i64, leeway_secs: u64) -> bool {
    iat > now.saturating_add(i64::try_from(leeway_secs).unwrap_or(i64::MAX))
}

fn load_public_key(spec: &JwtKeySpec) -> anyhow::Result<VerifyingKey> {
    let pem = std::fs::read(&spec.pem)
        .map_err(|e| anyhow::anyhow!("reading JWT key {:?} from {}: {e}", spec.kid, spec.pem.display()))?;
    let key = match spec.algorithm {
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 | Algorithm::PS256 => DecodingKey::from_rsa_pem(&pem)?,
        Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(&pem)?,
        Algorithm::EdDSA => DecodingKey::from_ed_pem(&pem)?,
        other => anyhow::bail!("JWT key {:?}: {other:?} is not a public-key algorithm", spec.kid),
    };
    Ok(VerifyingKey { algorithm: spec.algorithm, key })
}

/// Checks the claims Plenary itself gives meaning to.
pub fn identity_from_claims(claims: Claims) -> Result<Identity, AuthError> {
    let user = UserId::parse(claims.sub).map_err(|e| AuthError::InvalidClaims(e.to_string()))?;
    let name = validate_display_name(&claims.name).map_err(AuthError::InvalidClaims)?;
    let country = claims.country.as_deref().map(validate_country).transpose().map_err(AuthError::InvalidClaims)?;
    let mut roles: Vec<Role> = claims.roles.iter().filter_map(|r| Role::parse(r)).collect();
    if roles.is_empty() {
        roles.push(Role::Attendee);
    }
    roles.sort();
    roles.dedup();
    let mut moderated = Vec::new();
    let mut staffs = Vec::new();
    let mut speaks = Vec::new();
    for scope in &claims.scopes {
        if let Some(room) = scope.strip_prefix("moderate:") {
            moderated.push(RoomId::parse(room).map_err(|e| AuthError::InvalidClaims(format!("scope {scope:?}: {e}")))?);
        } else if let Some(booth) = scope.strip_prefix("staff:") {
            staffs.push(Slug::parse(booth).map_err(|e| AuthError::InvalidClaims(format!("scope {scope:?}: {e}")))?);
        } else if let Some(session) = scope.strip_prefix("speak:") {
            speaks.push(Slug::parse(session).map_err(|e| AuthError::InvalidClaims(format!("scope {scope:?}: {e}")))?);
        }
    }
    Ok(Identity {
        profile: UserProfile { id: user, name, country },
        roles,
        moderates: (!moderated.is_empty()).then_some(moderated),
        staffs,
        speaks,
        expires_at: claims.exp,
        token_id: claims.jti.filter(|jti| !jti.is_empty() && jti.len() <= MAX_TOKEN_ID_BYTES),
    })
}

/// Signs HS256 tokens with the node's shared secret.
#[derive(Clone)]
pub struct Minter {
    key: Arc<EncodingKey>,
    kid: Option<String>,
    issuer: Option<String>,
    audience: Option<String>,
}

impl std::fmt::Debug for Minter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Minter").field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// What a minted token says.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub sub: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub country: Option<String>,
    pub scopes: Vec<String>,
    pub ttl: std::time::Duration,
}

impl Minter {
    pub fn new(settings: &Settings, secret: &str) -> anyhow::Result<Self> {
        Ok(Minter {
            key: Arc::new(EncodingKey::from_secret(secret.as_bytes())?),
            kid: settings.jwt_secret_kid.clone(),
            issuer: settings.jwt_issuer.clone(),
            audience: settings.jwt_audience.clone(),
        })
    }

    /// Signs a token; returns it with its expiry (Unix seconds).
    pub fn mint(&self, request: &TokenRequest) -> anyhow::Result<(String, i64)> {
        let now = crate::clock::unix_secs();
        let exp = now + i64::try_from(request.ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let claims = Claims {
            sub: request.sub.clone(),
            name: request.name.clone(),
            roles: request.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            country: request.country.clone(),
            scopes: request.scopes.clone(),
            exp,
            iat: Some(now),
            iss: self.issuer.clone(),
            aud: self.audience.clone().map(serde_json::Value::from),
            nbf: None,
            jti: Some(uuid::Uuid::new_v4().simple().to_string()),
        };
        // Validate before signing so a minted token is one this node accepts.
        identity_from_claims(claims.clone())?;
        let mut header = Header::new(Algorithm::HS256);
        header.kid = self.kid.clone();
        Ok((jsonwebtoken::encode(&header, &claims, &self.key)?, exp))
    }
}

/// Reads the development secret from `path`, creating it (random, readable by the owner
/// only) on first use, so `plenary token` and the node agree across restarts.
pub fn load_or_create_dev_secret(path: &Path) -> anyhow::Result<String> {
    if let Ok(secret) = std::fs::read_to_string(path) {
        let secret = secret.trim().to_owned();
        if secret.len() >= 32 {
            return Ok(secret);
        }
    }
    use rand::Rng;
    let secret: String = rand::rng().sample_iter(rand::distr::Alphanumeric).take(48).map(char::from).collect();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    write_private(path, &secret)?;
    Ok(secret)
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings::default()
    }

    fn minter_and_verifier(s: &Settings) -> (Minter, Verifier) {
        let secret = "0123456789abcdef0123456789abcdef";
        (Minter::new(s, secret).unwrap(), Verifier::from_settings(s, Some(secret)).unwrap())
    }

    fn request(roles: &[Role]) -> TokenRequest {
        TokenRequest {
            sub: "u1".into(),
            name: " Ada ".into(),
            roles: roles.to_vec(),
            country: Some("ch".into()),
            scopes: vec![],
            ttl: std::time::Duration::from_secs(60),
        }
    }

    #[test]
    fn minted_tokens_verify() {
        let (minter, verifier) = minter_and_verifier(&settings());
        let (token, _) = minter.mint(&request(&[Role::Moderator, Role::Attendee])).unwrap();
        let id = verifier.verify(&token).unwrap();
        assert_eq!(id.profile.name, "Ada");
        assert_eq!(id.profile.country.as_deref(), Some("CH"));
        assert_eq!(id.roles, vec![Role::Attendee, Role::Moderator]);
    }

    #[test]
    fn audience_and_issuer_are_checked_when_configured() {
        let mut s = settings();
        s.jwt_audience = Some("plenary".into());
        let (minter, _) = minter_and_verifier(&settings());
        let (_, verifier) = minter_and_verifier(&s);
        let (token, _) = minter.mint(&request(&[])).unwrap();
        assert_eq!(verifier.verify(&token), Err(AuthError::WrongAudience));

        let mut s = settings();
        s.jwt_issuer = Some("https://issuer.example".into());
        let (_, verifier) = minter_and_verifier(&s);
        assert_eq!(verifier.verify(&token), Err(AuthError::WrongIssuer));
    }

    fn sign(claims: &Claims) -> String {
        let key = EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef").unwrap();
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key).unwrap()
    }

    fn claims_at(iat: Option<i64>, nbf: Option<i64>) -> Claims {
        let now = crate::clock::unix_secs();
        Claims {
            sub: "u1".into(),
            name: "Ada".into(),
            roles: vec![],
            country: None,
            scopes: vec![],
            exp: now + 3600,
            iat: iat.map(|d| now + d),
            iss: None,
            aud: None,
            nbf: nbf.map(|d| now + d),
            jti: None,
        }
    }

    #[test]
    fn tokens_from_the_future_are_refused() {
        let (_, verifier) = minter_and_verifier(&settings());
        assert!(verifier.verify(&sign(&claims_at(Some(0), None))).is_ok());
        assert!(verifier.verify(&sign(&claims_at(None, None))).is_ok(), "iat is optional");
        assert!(verifier.verify(&sign(&claims_at(Some(10), None))).is_ok(), "within the leeway");
        let future = verifier.verify(&sign(&claims_at(Some(86_400), None)));
        assert_eq!(future, Err(AuthError::IssuedInFuture));
        assert_eq!(future.unwrap_err().close_code(), CloseCode::InvalidToken);
        assert_eq!(verifier.verify(&sign(&claims_at(None, Some(86_400)))), Err(AuthError::NotYetValid));
        assert!(!issued_in_future(130, 100, 30));
        assert!(issued_in_future(131, 100, 30));
    }

    #[test]
    fn scopes_limit_moderation() {
        let claims = Claims {
            sub: "m".into(),
            name: "M".into(),
            roles: vec!["moderator".into(), "astronaut".into()],
            country: None,
            scopes: vec!["moderate:session:a".into()],
            exp: 0,
            iat: None,
            iss: None,
            aud: None,
            nbf: None,
            jti: None,
        };
        let id = identity_from_claims(claims).unwrap();
        assert_eq!(id.roles, vec![Role::Moderator]);
        assert_eq!(id.moderates, Some(vec![RoomId::parse("session:a").unwrap()]));
    }
}
