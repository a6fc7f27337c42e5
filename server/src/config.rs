//! Configuration, in layers: built-in defaults, then a TOML file (`--config` or
//! `PLENARY_CONFIG`), then environment variables (`PLENARY_*`), then command-line flags.
//! With nothing configured, a node runs a complete development event on 127.0.0.1:8080.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::Args;
use jsonwebtoken::Algorithm;
use serde::Deserialize;

/// A public key that verifies tokens carrying its `kid`, for its one algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtKeySpec {
    pub kid: String,
    #[serde(deserialize_with = "deserialize_algorithm")]
    pub algorithm: Algorithm,
    pub pem: PathBuf,
}

fn deserialize_algorithm<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Algorithm, D::Error> {
    let name = String::deserialize(d)?;
    Algorithm::from_str(&name).map_err(|_| serde::de::Error::custom(format!("unknown JWT algorithm {name:?}")))
}

impl FromStr for JwtKeySpec {
    type Err = String;

    /// `KID:ALGORITHM:PEM_PATH`, e.g. `idp-2026:RS256:/etc/plenary/idp.pem`.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s.splitn(3, ':');
        let (Some(kid), Some(alg), Some(pem)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!("{s:?}: expected KID:ALGORITHM:PEM_PATH"));
        };
        let algorithm = Algorithm::from_str(alg).map_err(|_| format!("{s:?}: unknown JWT algorithm {alg:?}"))?;
        Ok(JwtKeySpec { kid: kid.to_owned(), algorithm, pem: PathBuf::from(pem) })
    }
}

/// Every setting of a node, resolved.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub listen: SocketAddr,
    pub public_url: Option<String>,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub redis_url: Option<String>,
    pub redis_prefix: String,
    pub demo_event: Option<bool>,
    pub jwt_secret: Option<String>,
    pub jwt_secret_kid: Option<String>,
    pub jwt_public_keys: Vec<JwtKeySpec>,
    pub jwt_issuer: Option<String>,
    pub jwt_audience: Option<String>,
    pub jwt_leeway_secs: u64,
    pub guest_signin: Option<bool>,
    pub guest_token_ttl_secs: u64,
    pub qa_moderated: bool,
    pub qa_reveal_anonymous: bool,
    pub allowed_origins: Vec<String>,
    pub web_dir: Option<PathBuf>,
    pub stage_origins: Vec<String>,
    /// STUN servers for calls (`stun:host:port`).
    pub stun_urls: Vec<String>,
    /// TURN servers for calls (`turn:host:port?transport=udp`, `turns:...`); need `turn_secret`.
    pub turn_urls: Vec<String>,
    /// The secret shared with the TURN server (coturn `static-auth-secret`), from which each
    /// call member gets time-limited credentials.
    pub turn_secret: Option<String>,
    /// How long TURN credentials stay valid.
    pub turn_ttl_secs: u64,
    /// The UDP address of the stage's media worker (`off`: no WebRTC stage on this node).
    pub media_listen: String,
    /// The address browsers send media to, when not `media_listen`'s (a public address in
    /// front of the node; needed when `media_listen` binds every interface).
    pub media_advertise: Option<SocketAddr>,
    /// Stage viewers this node serves at most.
    pub media_max_viewers: usize,
    pub max_connections: usize,
    /// Connections one user may hold on this node at once (tabs, devices, scripts).
    pub max_connections_per_user: usize,
    pub outbox_frames: usize,
    pub outbox_bytes: usize,
    pub max_message_bytes: usize,
    pub hello_timeout_ms: u64,
    pub ping_interval_ms: u64,
    pub idle_timeout_ms: u64,
    pub commands_per_second: u32,
    pub command_burst: u32,
    pub chat_per_minute: u32,
    pub chat_burst: u32,
    pub chat_max_chars: usize,
    pub chat_buffer: usize,
    pub resume_window: usize,
    pub max_rooms_per_connection: usize,
    pub max_rooms: usize,
    pub room_idle_ttl_secs: u64,
    pub attendance_interval_ms: u64,
    /// How long a node's presence report counts on the other nodes (Redis): a node killed
    /// without a word drops out of attendance and booth presence after this.
    pub presence_ttl_ms: u64,
    /// How often a node reloads the programme, grants and bans from the shared database.
    pub programme_reload_ms: u64,
    pub summary_interval_ms: u64,
    /// How long a booth's staff member (every tab closed) or a visitor with a waiting
    /// request may be gone before showing offline or losing the request.
    pub booth_grace_ms: u64,
    pub shutdown_grace_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            data_dir: PathBuf::from(".plenary"),
            database_url: None,
            redis_url: None,
            redis_prefix: "plenary:".to_owned(),
            demo_event: None,
            jwt_secret: None,
            jwt_secret_kid: None,
            jwt_public_keys: Vec::new(),
            jwt_issuer: None,
            jwt_audience: None,
            jwt_leeway_secs: 30,
            guest_signin: None,
            guest_token_ttl_secs: 12 * 3600,
            qa_moderated: true,
            qa_reveal_anonymous: false,
            allowed_origins: Vec::new(),
            web_dir: None,
            stage_origins: Vec::new(),
            stun_urls: Vec::new(),
            turn_urls: Vec::new(),
            turn_secret: None,
            turn_ttl_secs: 4 * 3600,
            media_listen: "127.0.0.1:0".into(),
            media_advertise: None,
            media_max_viewers: 2_000,
            max_connections: 20_000,
            max_connections_per_user: 20,
            outbox_frames: 512,
            outbox_bytes: 1024 * 1024,
            max_message_bytes: 16 * 1024,
            hello_timeout_ms: 5_000,
            ping_interval_ms: 20_000,
            idle_timeout_ms: 60_000,
            commands_per_second: 20,
            command_burst: 40,
            chat_per_minute: 20,
            chat_burst: 5,
            chat_max_chars: 1_000,
            chat_buffer: 500,
            resume_window: 1_000,
            max_rooms_per_connection: 8,
            max_rooms: 10_000,
            room_idle_ttl_secs: 600,
            attendance_interval_ms: 1_000,
            presence_ttl_ms: 10_000,
            programme_reload_ms: 10_000,
            summary_interval_ms: 5_000,
            booth_grace_ms: 10_000,
            shutdown_grace_ms: 5_000,
        }
    }
}

impl Settings {
    /// True when no signing key is configured: the node generates a development secret and
    /// turns guest sign-in on unless told otherwise.
    pub fn is_development(&self) -> bool {
        self.jwt_secret.is_none() && self.jwt_public_keys.is_empty()
    }

    pub fn demo_event_enabled(&self) -> bool {
        self.demo_event.unwrap_or_else(|| self.is_development())
    }

    pub fn guest_signin_enabled(&self) -> bool {
        self.guest_signin.unwrap_or_else(|| self.is_development())
    }

    /// The database the record goes to, or `None` for memory only.
    pub fn database(&self) -> Option<String> {
        match self.database_url.as_deref() {
            Some("memory") => None,
            Some(url) => Some(url.to_owned()),
            None => Some(format!("sqlite://{}?mode=rwc", self.data_dir.join("plenary.db").display())),
        }
    }

    /// The address people open in a browser.
    pub fn public_url(&self) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{}", self.listen))
    }

    /// Origins allowed to open a WebSocket: the configured list, or else the node's own
    /// public URL (plus `localhost` for a loopback listener).
    pub fn effective_origins(&self) -> Vec<String> {
        if !self.allowed_origins.is_empty() {
            return self.allowed_origins.iter().map(|o| o.trim_end_matches('/').to_owned()).collect();
        }
        let mut origins = vec![self.public_url().trim_end_matches('/').to_owned()];
        if self.listen.ip().is_loopback() {
            origins.push(format!("http://localhost:{}", self.listen.port()));
            origins.push(format!("http://127.0.0.1:{}", self.listen.port()));
        }
        origins.dedup();
        origins
    }

    /// Where the stage's media worker binds; `None` when the node has no WebRTC stage.
    pub fn media_address(&self) -> anyhow::Result<Option<SocketAddr>> {
        if self.media_listen.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let address = self
            .media_listen
            .parse()
            .map_err(|_| anyhow::anyhow!("media_listen {:?} is not ADDRESS:PORT (or off)", self.media_listen))?;
        Ok(Some(address))
    }

    pub fn hello_timeout(&self) -> Duration {
        Duration::from_millis(self.hello_timeout_ms)
    }
    pub fn ping_interval(&self) -> Duration {
        Duration::from_millis(self.ping_interval_ms)
    }
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms)
    }
    pub fn presence_ttl(&self) -> Duration {
        Duration::from_millis(self.presence_ttl_ms)
    }
    pub fn programme_reload(&self) -> Duration {
        Duration::from_millis(self.programme_reload_ms)
    }
    pub fn attendance_interval(&self) -> Duration {
        Duration::from_millis(self.attendance_interval_ms)
    }
    pub fn summary_interval(&self) -> Duration {
        Duration::from_millis(self.summary_interval_ms)
    }
    pub fn room_idle_ttl(&self) -> Duration {
        Duration::from_secs(self.room_idle_ttl_secs)
    }
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_millis(self.shutdown_grace_ms)
    }

    /// Refuses settings that cannot work, with a message naming the setting.
    pub fn validate(&self) -> anyhow::Result<()> {
        use anyhow::ensure;
        if let Some(secret) = &self.jwt_secret {
            ensure!(secret.len() >= 32, "jwt_secret must be at least 32 bytes");
        }
        if let Some(url) = self.database() {
            ensure!(
                url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://"),
                "database_url must be postgres://..., sqlite://... or memory"
            );
        }
        for origin in &self.stage_origins {
            ensure!(
                is_origin(origin),
                "stage_origins: {origin:?} is not an origin (scheme://host[:port], http or https)"
            );
        }
        for url in &self.stun_urls {
            ensure!(url.starts_with("stun:") || url.starts_with("stuns:"), "stun_urls: {url:?} is not a stun: URL");
        }
        for url in &self.turn_urls {
            ensure!(url.starts_with("turn:") || url.starts_with("turns:"), "turn_urls: {url:?} is not a turn: URL");
        }
        ensure!(
            self.turn_urls.is_empty() || self.turn_secret.as_ref().is_some_and(|s| s.len() >= 16),
            "turn_urls need turn_secret (16 bytes or more), the TURN server's static-auth-secret"
        );
        ensure!((60..=7 * 24 * 3600).contains(&self.turn_ttl_secs), "turn_ttl_secs must be between 60 and 604800");
        if let Some(listen) = self.media_address()? {
            ensure!(
                !listen.ip().is_unspecified() || self.media_advertise.is_some(),
                "media_listen {listen} binds every interface: set media_advertise to the address browsers reach"
            );
        }
        ensure!(
            !self.redis_prefix.contains(['{', '}', ' ']),
            "redis_prefix must not contain braces or spaces (room ids form the hash tag)"
        );
        if let Some(url) = &self.redis_url {
            ensure!(
                url.starts_with("redis://") || url.starts_with("unix://"),
                "redis_url must be redis://HOST[:PORT][/DB] or unix://PATH"
            );
        }
        ensure!(self.max_connections_per_user >= 1, "max_connections_per_user must be at least 1");
        ensure!(self.outbox_frames >= 8, "outbox_frames must be at least 8");
        ensure!(self.outbox_bytes >= 64 * 1024, "outbox_bytes must be at least 65536");
        ensure!(self.ping_interval_ms >= 10, "ping_interval_ms must be at least 10");
        ensure!(self.summary_interval_ms >= 100, "summary_interval_ms must be at least 100");
        ensure!(self.booth_grace_ms <= 600_000, "booth_grace_ms must be at most 600000 (ten minutes)");
        ensure!(self.max_message_bytes >= 1024, "max_message_bytes must be at least 1024");
        ensure!(self.commands_per_second > 0 && self.command_burst > 0, "command rate must be positive");
        ensure!(self.chat_per_minute > 0 && self.chat_burst > 0, "chat rate must be positive");
        ensure!(self.chat_max_chars > 0, "chat_max_chars must be positive");
        ensure!(self.max_rooms_per_connection > 0, "max_rooms_per_connection must be positive");
        ensure!(self.attendance_interval_ms >= 100, "attendance_interval_ms must be at least 100");
        ensure!(
            self.presence_ttl_ms >= 3 * self.attendance_interval_ms,
            "presence_ttl_ms must be at least three attendance intervals, or live nodes drop out"
        );
        ensure!(self.programme_reload_ms >= 100, "programme_reload_ms must be at least 100");
        ensure!(self.ping_interval_ms < self.idle_timeout_ms, "ping_interval_ms must be below idle_timeout_ms");
        Ok(())
    }

    /// Resolves the layers: defaults, the file named by `args.config`, then `args` (which
    /// clap has already filled from flags or `PLENARY_*` variables).
    pub fn load(args: &SettingsArgs) -> anyhow::Result<Settings> {
        let mut settings = match &args.config {
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
                toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
            }
            None => Settings::default(),
        };
        args.apply(&mut settings);
        settings.validate()?;
        Ok(settings)
    }
}

macro_rules! settings_args {
    ($($(#[$doc:meta])* $field:ident : $ty:ty, $env:literal;)*) => {
        /// Settings given as flags or `PLENARY_*` environment variables; each one overrides
        /// the same key in the configuration file.
        #[derive(Debug, Clone, Default, Args)]
        pub struct SettingsArgs {
            /// A TOML file with any of the settings below (keys in snake_case).
            #[arg(long, env = "PLENARY_CONFIG", global = true)]
            pub config: Option<PathBuf>,
            $(
                $(#[$doc])*
                #[arg(long, env = $env, global = true)]
                pub $field: Option<$ty>,
            )*
            /// Public keys that verify tokens, as KID:ALGORITHM:PEM_PATH (RS256, ES256, EdDSA, ...); repeat or separate with commas.
            #[arg(long = "jwt-public-key", env = "PLENARY_JWT_PUBLIC_KEYS", value_delimiter = ',', global = true)]
            pub jwt_public_keys: Vec<JwtKeySpec>,
            /// Origins (scheme://host[:port]) allowed to open a WebSocket; default: the public URL.
            #[arg(long = "allowed-origin", env = "PLENARY_ALLOWED_ORIGINS", value_delimiter = ',', global = true)]
            pub allowed_origins: Vec<String>,
            /// Origins (scheme://host[:port]) of HLS streams the browser client may fetch with hls.js; https streams also play natively without it.
            #[arg(long = "stage-origin", env = "PLENARY_STAGE_ORIGINS", value_delimiter = ',', global = true)]
            pub stage_origins: Vec<String>,
            /// STUN servers for calls (stun:host:port); repeat or separate with commas.
            #[arg(long = "stun-url", env = "PLENARY_STUN_URLS", value_delimiter = ',', global = true)]
            pub stun_urls: Vec<String>,
            /// TURN servers for calls (turn:host:port?transport=udp, turns:...); repeat or separate with commas.
            #[arg(long = "turn-url", env = "PLENARY_TURN_URLS", value_delimiter = ',', global = true)]
            pub turn_urls: Vec<String>,
        }

        impl SettingsArgs {
            fn apply(&self, settings: &mut Settings) {
                $(
                    if let Some(value) = &self.$field {
                        Overlay::overlay(&mut settings.$field, value);
                    }
                )*
                if !self.jwt_public_keys.is_empty() {
                    settings.jwt_public_keys = self.jwt_public_keys.clone();
                }
                if !self.allowed_origins.is_empty() {
                    settings.allowed_origins = self.allowed_origins.clone();
                }
                if !self.stage_origins.is_empty() {
                    settings.stage_origins = self.stage_origins.clone();
                }
                if !self.stun_urls.is_empty() {
                    settings.stun_urls = self.stun_urls.clone();
                }
                if !self.turn_urls.is_empty() {
                    settings.turn_urls = self.turn_urls.clone();
                }
            }
        }
    };
}

/// Sets a setting from a flag's value, whether the setting is optional or not.
trait Overlay<V> {
    fn overlay(&mut self, value: &V);
}

impl<T: Clone> Overlay<T> for T {
    fn overlay(&mut self, value: &T) {
        *self = value.clone();
    }
}

impl<T: Clone> Overlay<T> for Option<T> {
    fn overlay(&mut self, value: &T) {
        *self = Some(value.clone());
    }
}

settings_args! {
    /// Address and port to listen on [default: 127.0.0.1:8080].
    listen: SocketAddr, "PLENARY_LISTEN";
    /// The URL people open, when the node sits behind a proxy [default: http://LISTEN].
    public_url: String, "PLENARY_PUBLIC_URL";
    /// The built browser client (Vite's output) [default: web/dist, found from the working directory or the source tree].
    web_dir: PathBuf, "PLENARY_WEB_DIR";
    /// Directory for node files such as the development secret [default: .plenary].
    data_dir: PathBuf, "PLENARY_DATA_DIR";
    /// Where the record is kept: `postgres://...` (shared by several nodes), `sqlite://PATH`,
    /// or `memory` (nothing survives a restart) [default: sqlite in DATA_DIR/plenary.db].
    database_url: String, "DATABASE_URL";
    /// Redis (`redis://HOST:PORT/DB`) that nodes share for room streams, delivery and attendance; without it the node runs alone on its in-process bus.
    redis_url: String, "REDIS_URL";
    /// Prefix of every Redis key and channel: one per deployment sharing a Redis [default: plenary:].
    redis_prefix: String, "PLENARY_REDIS_PREFIX";
    /// Load the demo event into an empty programme on start [default: on in development, else off].
    demo_event: bool, "PLENARY_DEMO_EVENT";
    /// HS256 shared secret (32 bytes or more) that signs and verifies tokens. Without it and without public keys, the node generates a development secret in DATA_DIR.
    jwt_secret: String, "PLENARY_JWT_SECRET";
    /// The `kid` of the HS256 secret, when tokens carry one.
    jwt_secret_kid: String, "PLENARY_JWT_SECRET_KID";
    /// Required `iss` claim.
    jwt_issuer: String, "PLENARY_JWT_ISSUER";
    /// Required `aud` claim.
    jwt_audience: String, "PLENARY_JWT_AUDIENCE";
    /// Clock skew allowed on `exp`, in seconds [default: 30].
    jwt_leeway_secs: u64, "PLENARY_JWT_LEEWAY_SECS";
    /// Let anyone sign in as a guest attendee with POST /api/guest [default: on in development, else off].
    guest_signin: bool, "PLENARY_GUEST_SIGNIN";
    /// Lifetime of guest tokens, in seconds [default: 43200].
    guest_token_ttl_secs: u64, "PLENARY_GUEST_TOKEN_TTL_SECS";
    /// Questions wait for a moderator's approval before the audience sees them [default: true].
    qa_moderated: bool, "PLENARY_QA_MODERATED";
    /// Show moderators who asked an anonymous question [default: false].
    qa_reveal_anonymous: bool, "PLENARY_QA_REVEAL_ANONYMOUS";
    /// Connections this node accepts at once; more are closed with 4003 [default: 20000].
    max_connections: usize, "PLENARY_MAX_CONNECTIONS";
    /// Connections one user may hold on this node at once; more are closed with 4004 [default: 20].
    max_connections_per_user: usize, "PLENARY_MAX_CONNECTIONS_PER_USER";
    /// Frames queued per connection before it is closed as a slow consumer (4000) [default: 512].
    outbox_frames: usize, "PLENARY_OUTBOX_FRAMES";
    /// Bytes queued per connection before it is closed as a slow consumer (4000) [default: 1048576].
    outbox_bytes: usize, "PLENARY_OUTBOX_BYTES";
    /// Largest frame read from a client, in bytes; larger closes with 1009 [default: 16384].
    max_message_bytes: usize, "PLENARY_MAX_MESSAGE_BYTES";
    /// The stage's media worker: UDP ADDRESS:PORT, or `off` for no WebRTC stage [default: 127.0.0.1:0].
    media_listen: String, "PLENARY_MEDIA_LISTEN";
    /// The ADDRESS:PORT browsers send stage media to, when not MEDIA_LISTEN's.
    media_advertise: SocketAddr, "PLENARY_MEDIA_ADVERTISE";
    /// Stage viewers this node serves at most [default: 2000].
    media_max_viewers: usize, "PLENARY_MEDIA_MAX_VIEWERS";
    /// Time allowed between the upgrade and `hello`, in ms [default: 5000].
    hello_timeout_ms: u64, "PLENARY_HELLO_TIMEOUT_MS";
    /// Interval between server pings, in ms [default: 20000].
    ping_interval_ms: u64, "PLENARY_PING_INTERVAL_MS";
    /// Close a connection that sent nothing (not even a pong) for this long, in ms [default: 60000].
    idle_timeout_ms: u64, "PLENARY_IDLE_TIMEOUT_MS";
    /// Sustained commands per second per connection [default: 20].
    commands_per_second: u32, "PLENARY_COMMANDS_PER_SECOND";
    /// Commands a connection may send in a burst [default: 40].
    command_burst: u32, "PLENARY_COMMAND_BURST";
    /// Sustained chat messages per minute per user and room [default: 20].
    chat_per_minute: u32, "PLENARY_CHAT_PER_MINUTE";
    /// Chat messages a user may send in a burst [default: 5].
    chat_burst: u32, "PLENARY_CHAT_BURST";
    /// Longest chat message, in characters [default: 1000].
    chat_max_chars: usize, "PLENARY_CHAT_MAX_CHARS";
    /// Chat messages kept per room for snapshots and history [default: 500].
    chat_buffer: usize, "PLENARY_CHAT_BUFFER";
    /// Events kept per room for resuming [default: 1000].
    resume_window: usize, "PLENARY_RESUME_WINDOW";
    /// Rooms one connection may be in at once [default: 8].
    max_rooms_per_connection: usize, "PLENARY_MAX_ROOMS_PER_CONNECTION";
    /// Rooms this node holds in memory at once [default: 10000].
    max_rooms: usize, "PLENARY_MAX_ROOMS";
    /// Drop an empty room's memory after this many seconds [default: 600].
    room_idle_ttl_secs: u64, "PLENARY_ROOM_IDLE_TTL_SECS";
    /// Shortest interval between two attendance messages of one room, in ms [default: 1000].
    attendance_interval_ms: u64, "PLENARY_ATTENDANCE_INTERVAL_MS";
    /// How long a node's presence report counts on other nodes, in ms (at least three
    /// attendance intervals) [default: 10000].
    presence_ttl_ms: u64, "PLENARY_PRESENCE_TTL_MS";
    /// How often the programme, grants and bans are reloaded from the database, in ms
    /// [default: 10000].
    programme_reload_ms: u64, "PLENARY_PROGRAMME_RELOAD_MS";
    /// Interval of the event room's attendance summary, in ms [default: 5000].
    summary_interval_ms: u64, "PLENARY_SUMMARY_INTERVAL_MS";
    /// How long booth staff with every tab closed still show their status, and visitors
    /// keep a waiting contact request after leaving, in ms [default: 10000].
    booth_grace_ms: u64, "PLENARY_BOOTH_GRACE_MS";
    /// The TURN server's shared secret (coturn static-auth-secret), for time-limited credentials.
    turn_secret: String, "PLENARY_TURN_SECRET";
    /// How long a call member's TURN credentials stay valid, in seconds [default: 14400].
    turn_ttl_secs: u64, "PLENARY_TURN_TTL_SECS";
    /// Time given to connections to close on shutdown, in ms [default: 5000].
    shutdown_grace_ms: u64, "PLENARY_SHUTDOWN_GRACE_MS";
}

/// Whether `value` is `http(s)://host[:port]` with nothing after it.
pub fn is_origin(value: &str) -> bool {
    let Some(rest) = value.strip_prefix("https://").or_else(|| value.strip_prefix("http://")) else {
        return false;
    };
    !rest.is_empty()
        && rest.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        && !rest.starts_with(':')
}

#[cfg(test)]
mod tests {

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        assert!(is_origin("https://cdn.example.org:8443"));
        assert!(!is_origin("https://cdn.example.org/path"));
        assert!(!is_origin("javascript:alert(1)"));
    }
    use super::*;

    #[test]
    fn file_then_flags() {
        let file: Settings = toml::from_str("listen = \"127.0.0.1:9000\"\nchat_burst = 9\n").unwrap();
        assert_eq!(file.listen.port(), 9000);
        assert_eq!(file.chat_burst, 9);
        assert_eq!(file.outbox_frames, Settings::default().outbox_frames);
        let mut settings = file;
        let args = SettingsArgs { chat_burst: Some(3), ..Default::default() };
        args.apply(&mut settings);
        assert_eq!(settings.chat_burst, 3);
        assert_eq!(settings.listen.port(), 9000);
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<Settings>("lisen = \"127.0.0.1:1\"").is_err());
    }

    #[test]
    fn key_specs_parse() {
        let spec: JwtKeySpec = "k1:RS256:/tmp/k.pem".parse().unwrap();
        assert_eq!(spec.algorithm, Algorithm::RS256);
        assert!("k1:XX256:/tmp".parse::<JwtKeySpec>().is_err());
        assert!("k1".parse::<JwtKeySpec>().is_err());
    }

    #[test]
    fn development_defaults() {
        let s = Settings::default();
        assert!(s.is_development());
        assert!(s.guest_signin_enabled());
        assert!(s.effective_origins().contains(&"http://localhost:8080".to_owned()));
        let s = Settings { jwt_secret: Some("x".repeat(32)), ..Settings::default() };
        assert!(!s.guest_signin_enabled());
    }
}
