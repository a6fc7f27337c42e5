//! One client connection, the node URLs it is spread over, and the pacing of new
//! connections.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};
use futures_util::{SinkExt, StreamExt};
use plenary_proto::{ClientMsg, RequestId, RoomId, ServerMsg, StreamPosition};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long any single protocol step may take before the client gives up.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// Node URLs, handed out round-robin.
#[derive(Debug)]
pub struct Target {
    urls: Vec<String>,
    next: AtomicUsize,
}

impl Target {
    /// Checks every URL is a `ws://` URL.
    pub fn new(urls: Vec<String>) -> anyhow::Result<Target> {
        if urls.is_empty() {
            bail!("at least one node URL is needed");
        }
        for url in &urls {
            if !url.starts_with("ws://") && !url.starts_with("wss://") {
                bail!("{url:?} is not a ws:// URL");
            }
        }
        Ok(Target { urls, next: AtomicUsize::new(0) })
    }

    pub fn next_url(&self) -> &str {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.urls.len();
        &self.urls[i]
    }

    pub fn urls(&self) -> &[String] {
        &self.urls
    }
}

/// Spaces out new connections so that at most `rate` start per second.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pacer {
    pub fn new(rate: f64) -> Pacer {
        let interval = if rate > 0.0 { Duration::from_secs_f64(1.0 / rate) } else { Duration::ZERO };
        Pacer { interval, next: Mutex::new(Instant::now()) }
    }

    /// Waits for this caller's slot.
    pub async fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().expect("pacer lock");
            let slot = (*next).max(Instant::now());
            *next = slot + self.interval;
            slot
        };
        sleep_until(slot).await;
    }
}

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A client connection with its own request ids.
#[derive(Debug)]
pub struct Client {
    pub ws: Socket,
    next_rid: u64,
}

/// Small buffers: the tool holds thousands of connections on the same machine as the node,
/// and tungstenite zeroes the whole read buffer before every read attempt.
fn client_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(1024).write_buffer_size(0).max_message_size(Some(1 << 20))
}

impl Client {
    pub async fn connect(url: &str) -> anyhow::Result<Client> {
        let (ws, _) =
            timeout(STEP_TIMEOUT, tokio_tungstenite::connect_async_with_config(url, Some(client_config()), true))
                .await
                .context("connect timed out")?
                .with_context(|| format!("connecting to {url}"))?;
        Ok(Client { ws, next_rid: 0 })
    }

    pub fn rid(&mut self) -> RequestId {
        self.next_rid += 1;
        RequestId(self.next_rid)
    }

    pub async fn send(&mut self, msg: &ClientMsg) -> anyhow::Result<()> {
        self.ws.send(Message::text(msg.to_json())).await.context("sending")
    }

    /// The next text frame (pings are answered by tungstenite and skipped); `None` when
    /// the connection ended.
    pub async fn next_text(&mut self) -> anyhow::Result<Option<Utf8Bytes>> {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(text))) => return Ok(Some(text)),
                Some(Ok(Message::Close(frame))) => {
                    if let Some(frame) = frame {
                        let code = u16::from(frame.code);
                        if code != 1000 {
                            bail!("the node closed the connection with {code}: {}", frame.reason);
                        }
                    }
                    return Ok(None);
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(None),
            }
        }
    }

    /// The next protocol message, within [`STEP_TIMEOUT`].
    pub async fn recv(&mut self) -> anyhow::Result<ServerMsg> {
        let text = timeout(STEP_TIMEOUT, self.next_text())
            .await
            .context("no message in time")??
            .context("the connection ended")?;
        serde_json::from_str(text.as_str()).with_context(|| format!("undecodable frame {text}"))
    }

    /// Says hello and waits for `welcome`.
    pub async fn hello(&mut self, token: &str) -> anyhow::Result<()> {
        self.send(&ClientMsg::Hello { protocol: vec![1], token: token.to_owned() }).await?;
        match self.recv().await? {
            ServerMsg::Welcome { .. } => Ok(()),
            other => bail!("expected welcome, got {other:?}"),
        }
    }

    /// Joins a room and returns its answer (`snapshot` or `resumed`), skipping broadcasts.
    pub async fn join(&mut self, room: &RoomId, since: Option<StreamPosition>) -> anyhow::Result<ServerMsg> {
        let rid = self.rid();
        self.send(&ClientMsg::Join { rid, room: room.clone(), since }).await?;
        self.answer(rid).await
    }

    /// Waits for the answer to `rid`.
    pub async fn answer(&mut self, rid: RequestId) -> anyhow::Result<ServerMsg> {
        loop {
            let msg = self.recv().await?;
            match &msg {
                ServerMsg::Ack { rid: r }
                | ServerMsg::Snapshot { rid: r, .. }
                | ServerMsg::Resumed { rid: r, .. }
                | ServerMsg::ChatHistory { rid: r, .. }
                | ServerMsg::MediaPublished { rid: r, .. }
                | ServerMsg::MediaOffer { rid: Some(r), .. }
                    if *r == rid =>
                {
                    return Ok(msg);
                }
                ServerMsg::Error { rid: Some(r), code, message, .. } if *r == rid => {
                    bail!("request refused: {code} {message}")
                }
                _ => continue,
            }
        }
    }

    /// Closes politely, waiting briefly for the node's close frame.
    pub async fn close(mut self) {
        let _ = timeout(Duration::from_secs(2), async {
            let _ = self.ws.close(None).await;
            while let Some(Ok(_)) = self.ws.next().await {}
        })
        .await;
    }
}
