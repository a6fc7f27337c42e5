//! The test harness: a [`TestServer`] on port 0, a typed [`TestClient`] that speaks the
//! protocol over a real WebSocket, and [`eventually`] for waiting on a condition.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use plenary_proto::{ClientMsg, RequestId, Role, RoomId, ServerMsg, StreamPosition};
use plenary_server::auth::Claims;
use plenary_server::bus::{MemoryBroker, MemoryBus};
use plenary_server::config::Settings;
use plenary_server::{AppState, Application};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const SECRET: &str = "integration-test-secret-0123456789abcdef";
/// How long any single expectation may wait.
pub const WAIT: Duration = Duration::from_secs(10);

pub fn test_settings() -> Settings {
    Settings {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        jwt_secret: Some(SECRET.to_owned()),
        guest_signin: Some(true),
        // Tests that need the record ask for a database of their own.
        database_url: Some("memory".to_owned()),
        ..Settings::default()
    }
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestServer {
    pub async fn spawn() -> TestServer {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> TestServer {
        let mut settings = test_settings();
        configure(&mut settings);
        let app = Application::build(settings).await.expect("server builds");
        Self::start(app)
    }

    /// A node on a shared broker, for multi-node tests.
    pub async fn spawn_on(broker: &MemoryBroker) -> TestServer {
        Self::spawn_on_with_inbox(broker, 1024).await
    }

    /// A node on a shared broker, with settings changed by `configure`.
    pub async fn spawn_on_configured(broker: &MemoryBroker, configure: impl FnOnce(&mut Settings)) -> TestServer {
        let (bus, inbox): (MemoryBus, _) = broker.connect(1024);
        let mut settings = test_settings();
        configure(&mut settings);
        let app = Application::build_with_bus(settings, Arc::new(bus), inbox).await.expect("server builds");
        Self::start(app)
    }

    /// A node on a shared broker whose bus inbox holds only `inbox` publications.
    pub async fn spawn_on_with_inbox(broker: &MemoryBroker, inbox: usize) -> TestServer {
        let (bus, inbox): (MemoryBus, _) = broker.connect(inbox);
        let app = Application::build_with_bus(test_settings(), Arc::new(bus), inbox).await.expect("server builds");
        Self::start(app)
    }

    fn start(app: Application) -> TestServer {
        let addr = app.local_addr();
        let state = app.state().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        TestServer { addr, state, stop: Some(stop), task: Some(task) }
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    pub fn http_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Signals shutdown and waits until the node has closed every connection and task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(WAIT, task).await.expect("shutdown in time").unwrap().unwrap();
        }
    }

    /// A client that has said hello and been welcomed as `sub` with `roles`.
    pub async fn client(&self, sub: &str, roles: &[Role]) -> TestClient {
        let mut client = TestClient::connect(self).await;
        client.hello(&token(sub, roles)).await;
        client
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub fn claims(sub: &str, roles: &[Role], ttl_secs: i64) -> Claims {
    let now = plenary_server::clock::unix_secs();
    Claims {
        sub: sub.to_owned(),
        name: format!("User {sub}"),
        roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
        country: Some("CH".into()),
        scopes: vec![],
        exp: now + ttl_secs,
        iat: Some(now),
        iss: None,
        aud: None,
        nbf: None,
        jti: None,
    }
}

pub fn sign(claims: &Claims, secret: &str) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret.as_bytes()).unwrap())
        .unwrap()
}

pub fn token(sub: &str, roles: &[Role]) -> String {
    sign(&claims(sub, roles, 3600), SECRET)
}

/// A `chat_send` request, for [`TestClient::request`].
pub fn chat(room: &RoomId, text: &str) -> impl FnOnce(RequestId) -> ClientMsg {
    let (room, text) = (room.clone(), text.to_owned());
    move |rid| ClientMsg::ChatSend { rid, room, text }
}

/// A `stage_update` request changing only the state, for [`TestClient::request`].
pub fn set_stage(room: &RoomId, state: plenary_proto::StageState) -> impl FnOnce(RequestId) -> ClientMsg {
    let room = room.clone();
    move |rid| ClientMsg::StageUpdate { rid, room, state: Some(state), title: None, speaker: None }
}

pub fn session(slug: &str) -> RoomId {
    RoomId::session(slug).unwrap()
}

/// Waits until `check` holds, polling; fails the test after [`WAIT`].
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if check().await {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub struct TestClient {
    pub ws: Socket,
    next_rid: u64,
}

/// How a connection ended, as the client saw it.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    Closed(u16),
    Dropped,
}

impl TestClient {
    pub async fn connect(server: &TestServer) -> TestClient {
        let (ws, _) = tokio_tungstenite::connect_async(server.ws_url()).await.expect("WebSocket connects");
        TestClient { ws, next_rid: 0 }
    }

    /// Connects to a node by its WebSocket URL (a node in another process).
    pub async fn connect_url(url: &str) -> TestClient {
        let (ws, _) = tokio_tungstenite::connect_async(url).await.expect("WebSocket connects");
        TestClient { ws, next_rid: 0 }
    }

    pub fn from_socket(ws: Socket) -> TestClient {
        TestClient { ws, next_rid: 0 }
    }

    /// Connects with a small receive buffer, to simulate a client that stops reading.
    pub async fn connect_with_small_buffer(server: &TestServer) -> TestClient {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let stream = socket.connect(server.addr).await.unwrap();
        let config = WebSocketConfig::default();
        let (ws, _) =
            tokio_tungstenite::client_async_with_config(server.ws_url(), MaybeTlsStream::Plain(stream), Some(config))
                .await
                .unwrap();
        TestClient { ws, next_rid: 0 }
    }

    pub fn rid(&mut self) -> RequestId {
        self.next_rid += 1;
        RequestId(self.next_rid)
    }

    pub async fn send(&mut self, msg: &ClientMsg) {
        self.send_raw(&msg.to_json()).await;
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.expect("send");
    }

    /// Says hello and expects `welcome`.
    pub async fn hello(&mut self, token: &str) -> ServerMsg {
        self.send(&ClientMsg::Hello { protocol: vec![1], token: token.to_owned() }).await;
        let welcome = self.recv().await;
        assert!(matches!(welcome, ServerMsg::Welcome { .. }), "expected welcome, got {welcome:?}");
        welcome
    }

    /// The next protocol message (pings skipped); fails on close or after [`WAIT`].
    pub async fn recv(&mut self) -> ServerMsg {
        match self.try_recv(WAIT).await {
            Some(msg) => msg,
            None => panic!("no message within {WAIT:?}"),
        }
    }

    /// The next protocol message within `within`, or `None`.
    pub async fn try_recv(&mut self, within: Duration) -> Option<ServerMsg> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.ws.next()).await.ok()?;
            match frame {
                Some(Ok(Message::Text(text))) => {
                    return Some(
                        serde_json::from_str(text.as_str()).unwrap_or_else(|e| panic!("bad frame {text}: {e}")),
                    );
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// Skips messages until one matches.
    pub async fn recv_until(&mut self, what: &str, mut matches: impl FnMut(&ServerMsg) -> bool) -> ServerMsg {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.try_recv(left).await {
                Some(msg) if matches(&msg) => return msg,
                Some(_) => continue,
                None => panic!("timed out waiting for {what}"),
            }
        }
    }

    /// The answer (`ack`, `error`, `snapshot`, ...) to request `rid`, skipping broadcasts.
    pub async fn answer(&mut self, rid: RequestId) -> ServerMsg {
        self.recv_until("an answer", |m| answer_rid(m) == Some(rid)).await
    }

    /// Sends a request built with a fresh rid and returns its answer.
    pub async fn request(&mut self, build: impl FnOnce(RequestId) -> ClientMsg) -> ServerMsg {
        let rid = self.rid();
        self.send(&build(rid)).await;
        self.answer(rid).await
    }

    pub async fn join(&mut self, room: &RoomId) -> ServerMsg {
        self.join_since(room, None).await
    }

    pub async fn join_since(&mut self, room: &RoomId, since: Option<StreamPosition>) -> ServerMsg {
        let room = room.clone();
        let answer = self.request(|rid| ClientMsg::Join { rid, room, since }).await;
        assert!(
            matches!(answer, ServerMsg::Snapshot { .. } | ServerMsg::Resumed { .. }),
            "join answered with {answer:?}"
        );
        answer
    }

    /// Reads (discarding messages) until the server closes; returns the close code.
    pub async fn ended(&mut self) -> Ended {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => panic!("connection still open after {WAIT:?}"),
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Ended::Closed(frame.map_or(1005, |f| u16::from(f.code)));
                }
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(_)) | None) => return Ended::Dropped,
            }
        }
    }
}

/// The request id an answer carries.
pub fn answer_rid(msg: &ServerMsg) -> Option<RequestId> {
    match msg {
        ServerMsg::Ack { rid }
        | ServerMsg::Snapshot { rid, .. }
        | ServerMsg::Resumed { rid, .. }
        | ServerMsg::ChatHistory { rid, .. }
        | ServerMsg::QuestionsPage { rid, .. }
        | ServerMsg::BoothRequests { rid, .. }
        | ServerMsg::MediaPublished { rid, .. } => Some(*rid),
        ServerMsg::Error { rid, .. } | ServerMsg::MediaOffer { rid, .. } => *rid,
        _ => None,
    }
}

/// The error code of an `error`, or a panic naming what came instead.
pub fn error_code(msg: &ServerMsg) -> u16 {
    match msg {
        ServerMsg::Error { code, .. } => code.as_u16(),
        other => panic!("expected an error, got {other:?}"),
    }
}
