//! The Plenary node.
//!
//! - [`config`]: layered settings (defaults, TOML file, `PLENARY_*`, flags).
//! - [`auth`]: JWT verification and minting; who a connection is.
//! - [`http`]: the HTTP routes (`/ws`, `/api/guest`, `/healthz`, `/readyz`, `/metrics`).
//! - [`ws`]: one task per WebSocket: handshake, commands in, batched frames out.
//! - [`hub`]: the room registry and the room actors that own all room state.
//! - [`bus`]: carries and sequences room events between nodes ([`bus::MemoryBus`] today).
//! - [`domain`]: the rules (stage, chat, attendance, permissions, rates, resume), no IO.
//! - [`programme`]: the programme's model, validation, importers and demo event.
//! - [`store`]: the system of record (SQLite or PostgreSQL) and its batching writer.
//! - [`metrics`]: Prometheus counters and gauges.
//!
//! [`Application`] builds a node on a bound port and runs it until a shutdown signal; the
//! binary and the integration tests both use it.

pub mod auth;
pub mod bus;
pub mod clock;
pub mod config;
pub mod connections;
pub mod domain;
pub mod http;
pub mod hub;
pub mod ice;
pub mod metrics;
pub mod programme;
pub mod store;
pub mod ws;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use auth::{Minter, Verifier};
use bus::{Bus, MemoryBroker, Publication};
use config::Settings;
use hub::Hub;
use metrics::Metrics;

/// Publications a node's bus inbox holds before the bus drops (and rooms backfill).
const BUS_INBOX: usize = 8192;
/// Guest sign-ins one address may make at once, and then per minute: enough for a family
/// or a classroom behind one address, too few to mint identities by the thousand.
const GUEST_SIGNIN_BURST: u32 = 20;
const GUEST_SIGNINS_PER_MINUTE: f64 = 10.0;

/// What every request handler and connection task shares.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub verifier: Arc<Verifier>,
    /// Present when the node holds an HS256 secret (configured or development).
    pub minter: Option<Minter>,
    pub hub: Hub,
    pub bus: Arc<dyn Bus>,
    pub metrics: Arc<Metrics>,
    pub tracker: TaskTracker,
    pub shutdown: CancellationToken,
    pub allowed_origins: Arc<Vec<String>>,
    /// The programme, when the node has a database.
    pub programme: Option<Arc<dyn store::ProgrammeStore>>,
    /// The programme's sessions in memory, when the node has a database.
    pub sessions: Option<Arc<programme::index::ProgrammeIndex>>,
    /// The record (chat, attendance), when the node has a database.
    pub records: Option<Arc<dyn store::Store>>,
    /// Roles organisers granted, by user.
    pub grants: Arc<programme::grants::GrantCache>,
    /// Every open connection, so a shutdown can tell each one to close.
    pub peers: Arc<dashmap::DashMap<u64, Arc<hub::peer::Peer>>>,
    /// Open connections per user on this node: counted against `max_connections_per_user`,
    /// and closed when the user's rights change.
    pub user_connections: Arc<connections::UserConnections>,
    /// Bans and revoked token ids in force.
    pub access: Arc<programme::access::AccessCache>,
    /// Where bans and revoked tokens are kept, when the node has a database.
    pub access_store: Option<Arc<dyn store::AccessStore>>,
    /// Guest sign-ins per client address.
    pub guest_limiter: Arc<domain::rate::KeyedBuckets<std::net::IpAddr>>,
    /// A short random name for this node process, prefixed to connection ids.
    pub node_label: Arc<str>,
    /// The browser client's files.
    pub web: Arc<http::web::WebAssets>,
    peer_ids: Arc<AtomicU64>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("node", &self.node_label).field("hub", &self.hub).finish_non_exhaustive()
    }
}

impl AppState {
    pub fn next_peer_id(&self) -> u64 {
        self.peer_ids.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// A node, bound to its port and ready to run.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    writer_task: Option<store::WriterTask>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application").field("addr", &self.listener.local_addr().ok()).finish_non_exhaustive()
    }
}

/// Reloads the in-memory programme index, grants and access lists from the store now and
/// then: another node of the deployment may have changed them (a node refreshes its own at
/// once), so a revoked grant, a ban or a booth's removed staff member counts everywhere
/// within `programme_reload_ms`. Runs only on a node with a database.
async fn reload_programme(state: AppState) {
    let (Some(store), Some(index), Some(access_store)) = (&state.programme, &state.sessions, &state.access_store)
    else {
        return;
    };
    let (grants, access, connections) = (&state.grants, &state.access, &state.user_connections);
    let shutdown = state.shutdown.clone();
    let mut ticker = tokio::time::interval(state.settings.programme_reload());
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        match (store.sessions().await, store.booths().await, store.grants().await) {
            (Ok(sessions), Ok(booths), Ok(stored)) => {
                index.replace(&sessions, &booths);
                for user in grants.replace(stored.into_iter().map(|g| g.grant)) {
                    connections.close_user(&user, plenary_proto::CloseCode::RightsChanged);
                }
            }
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                tracing::warn!(error = %e, "reloading the programme failed; the last one stays in force");
            }
        }
        let now = clock::unix_millis();
        match (access_store.bans(now).await, access_store.revoked_tokens(now / 1000).await) {
            (Ok(bans), Ok(revoked)) => {
                let changes = access.replace(bans, revoked);
                for user in changes.users {
                    enforce_bans(access, connections, &user);
                }
                for jti in changes.tokens {
                    connections.close_token(&jti, plenary_proto::CloseCode::InvalidToken);
                }
            }
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(error = %e, "reloading bans failed; the last ones stay in force");
            }
        }
    }
}

/// After `user`'s bans changed: a user now banned from the event is closed with 4504
/// `removed`; one banned from a room with 4005 (its reconnect may not rejoin that room).
pub fn enforce_bans(access: &programme::access::AccessCache, connections: &connections::UserConnections, user: &str) {
    let now = clock::unix_millis();
    if access.event_ban(user, now).is_some() {
        connections.close_user(user, plenary_proto::CloseCode::Removed);
    } else if access.has_ban(user, now) {
        connections.close_user(user, plenary_proto::CloseCode::RightsChanged);
    }
}

impl Application {
    /// A single node on its own in-process bus.
    /// A node on Redis when `redis_url` is set, else alone on its in-process bus.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        if let Some(url) = settings.redis_url.clone() {
            let node = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
            let (bus, inbox) =
                bus::RedisBus::connect(&url, &settings.redis_prefix, &node, settings.resume_window, BUS_INBOX).await?;
            let bus = bus.with_presence_ttl(settings.presence_ttl());
            tracing::info!(redis = %url, prefix = %settings.redis_prefix, node, "on the Redis bus");
            return Self::build_with_bus(settings, Arc::new(bus), inbox).await;
        }
        let broker = MemoryBroker::new(settings.resume_window);
        let (bus, inbox) = broker.connect(BUS_INBOX);
        Self::build_with_bus(settings, Arc::new(bus), inbox).await
    }

    /// A node on the given bus (tests run several nodes on one [`MemoryBroker`]).
    pub async fn build_with_bus(
        settings: Settings,
        bus: Arc<dyn Bus>,
        inbox: mpsc::Receiver<Publication>,
    ) -> anyhow::Result<Self> {
        settings.validate()?;
        let secret = match &settings.jwt_secret {
            Some(secret) => Some(secret.clone()),
            None if settings.is_development() => {
                Some(auth::load_or_create_dev_secret(&settings.data_dir.join("dev-secret"))?)
            }
            None => None,
        };
        let verifier = Verifier::from_settings(&settings, secret.as_deref())?;
        let minter = secret.as_deref().map(|s| Minter::new(&settings, s)).transpose()?;
        let listener = TcpListener::bind(settings.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.listen))?;
        let mut settings = settings;
        // With port 0 the real port is known only now; origins and URLs must use it.
        settings.listen = listener.local_addr()?;
        let settings = Arc::new(settings);
        let metrics = Arc::new(Metrics::default());
        let tracker = TaskTracker::new();
        let shutdown = CancellationToken::new();
        if settings.database_url.is_none() {
            // The default SQLite file lives in the data directory, created on first run.
            std::fs::create_dir_all(&settings.data_dir)
                .map_err(|e| anyhow::anyhow!("creating {}: {e}", settings.data_dir.display()))?;
        }
        let mut programme_store: Option<Arc<dyn store::ProgrammeStore>> = None;
        let mut session_index: Option<Arc<programme::index::ProgrammeIndex>> = None;
        let mut grants = programme::grants::GrantCache::default();
        let mut access = programme::access::AccessCache::default();
        let mut access_store: Option<Arc<dyn store::AccessStore>> = None;
        let (writer, writer_task) = match settings.database() {
            Some(url) => {
                let sql = Arc::new(
                    store::SqlStore::open(&url)
                        .await
                        .map_err(|e| anyhow::anyhow!("opening the database {}: {e}", redact(&url)))?,
                );
                grants = programme::grants::GrantCache::new(
                    store::ProgrammeStore::grants(&*sql).await?.into_iter().map(|g| g.grant),
                );
                if settings.demo_event_enabled() && store::ProgrammeStore::sessions(&*sql).await?.is_empty() {
                    let summary = load_demo(&sql).await?;
                    tracing::info!(sessions = summary.sessions, booths = summary.booths, "loaded the demo event");
                }
                session_index = Some(Arc::new(programme::index::ProgrammeIndex::new(
                    &store::ProgrammeStore::sessions(&*sql).await?,
                    &store::ProgrammeStore::booths(&*sql).await?,
                )));
                programme_store = Some(sql.clone());
                let now = clock::unix_millis();
                access = programme::access::AccessCache::new(
                    store::AccessStore::bans(&*sql, now).await?,
                    store::AccessStore::revoked_tokens(&*sql, now / 1000).await?,
                );
                access_store = Some(sql.clone());
                let (writer, task) = store::StoreWriter::start(sql, metrics.clone());
                (Some(writer), Some(task))
            }
            None => (None, None),
        };
        let records = writer.as_ref().map(|w| w.store().clone());
        let stage_rooms = match &records {
            Some(records) => records.rooms_on_stage().await?,
            None => Vec::new(),
        };
        let hub = Hub::start(
            settings.clone(),
            bus.clone(),
            inbox,
            hub::HubStorage { writer, sessions: session_index.clone(), media: hub::StageMedia::start(&settings)? },
            metrics.clone(),
            tracker.clone(),
            shutdown.clone(),
        );
        if settings.demo_event_enabled() {
            hub.start_demo_stage(programme::demo::LIVE_NOW);
        }
        let node_label: Arc<str> = uuid::Uuid::new_v4().simple().to_string()[..8].into();
        let web = Arc::new(http::web::WebAssets::load(&settings)?);
        let state = AppState {
            web,
            allowed_origins: Arc::new(settings.effective_origins()),
            programme: programme_store,
            sessions: session_index,
            records,
            grants: Arc::new(grants),
            peers: Arc::default(),
            user_connections: Arc::default(),
            access: Arc::new(access),
            access_store,
            guest_limiter: Arc::new(domain::rate::KeyedBuckets::new(
                GUEST_SIGNIN_BURST,
                GUEST_SIGNINS_PER_MINUTE / 60.0,
                100_000,
            )),
            settings,
            verifier: Arc::new(verifier),
            minter,
            hub,
            bus,
            metrics,
            tracker,
            shutdown,
            node_label,
            peer_ids: Arc::default(),
        };
        if state.programme.is_some() {
            state.tracker.spawn(reload_programme(state.clone()));
        }
        // Sessions that were live (or on a break) before a restart are live again at once.
        for (room, stage) in stage_rooms {
            if let Err(e) = state.hub.open(&room, stage) {
                tracing::warn!(%room, error = %e, "could not reopen a live session");
            }
        }
        Ok(Application { listener, state, writer_task })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.state.settings.listen
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `signal` resolves, then closes every WebSocket with "going away" and
    /// waits (up to the shutdown grace) for every connection and room task to finish.
    pub async fn run_until(self, signal: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let state = self.state;
        let shutdown = state.shutdown.clone();
        let peers = state.peers.clone();
        let router = http::router(state.clone());
        // Frames are small and latency matters: without TCP_NODELAY, Nagle's algorithm holds
        // a frame back while the previous one waits for a (possibly delayed) ACK.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::warn!(error = %e, "could not set TCP_NODELAY");
            }
        });
        // Even if serving fails, connections, rooms and the writer are wound down below.
        let served = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                signal.await;
                shutdown.cancel();
                // Connections wait on their outbox, which a close wakes; those still in their
                // handshake watch the token instead.
                for peer in peers.iter() {
                    peer.close(plenary_proto::CloseCode::GoingAway);
                }
            })
            .await;
        // axum does not wait for upgraded WebSocket tasks: the tracker does.
        state.shutdown.cancel();
        state.tracker.close();
        if tokio::time::timeout(state.settings.shutdown_grace(), state.tracker.wait()).await.is_err() {
            tracing::warn!(remaining = state.tracker.len(), "tasks still running after the shutdown grace");
        }
        // Rooms have stopped producing: write what they recorded before exiting.
        if let Some(task) = self.writer_task {
            task.finish().await;
        }
        Ok(served?)
    }
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://***{}", &url[..scheme], &url[at..]),
        _ => url.to_owned(),
    }
}

/// Loads the demo event into `sql` and puts its live sessions on stage.
pub async fn load_demo(sql: &store::SqlStore) -> anyhow::Result<store::ApplySummary> {
    use store::{ProgrammeStore, Store};
    let now = clock::unix_millis();
    let demo = programme::demo::programme(now);
    let summary = sql.apply(&demo).await?;
    let by = plenary_proto::UserId::parse("demo").expect("valid user id");
    let mut records = Vec::new();
    for session in demo.sessions.iter().filter(|s| programme::demo::LIVE_NOW.contains(&s.id.as_str())) {
        let Some(room) = session.room() else { continue };
        let started = programme::model::parse_time(&session.starts_at).unwrap_or(now);
        let stage = plenary_proto::Stage {
            state: plenary_proto::StageState::Live,
            title: session.title.clone(),
            speaker: None,
            started_at: Some(started),
            ended_at: None,
            updated_at: now,
        };
        records.push(store::Record::Stage { room, stage, by: by.clone() });
    }
    sql.write(&records).await?;
    Ok(summary)
}
