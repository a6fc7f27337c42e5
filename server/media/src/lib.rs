//! Plenary's media plane: an embedded SFU that carries a session's stage. Speakers publish
//! camera, microphone and screen from the browser; every viewer of the session receives the
//! stage over one subscriber peer connection. Built on `str0m` (sans-IO WebRTC), ICE-lite,
//! DTLS-SRTP, one UDP socket per media worker for every peer it serves.
//!
//! The hub never touches RTP: it talks to the plane through [`MediaPlane`] (commands with an
//! answer each) and reads [`MediaEvent`]s (the stage's tracks changed, a subscriber needs a
//! new offer, a peer is gone). The plane knows stages and peers by the ids the hub gives it;
//! who may publish or view is the hub's decision, made before it asks.
//!
//! Threading: each worker is an OS thread of its own running a single-threaded tokio runtime
//! that owns the worker's UDP socket and its peers ([`worker`]); nothing is shared between
//! workers and no lock guards a peer. Forwarding is frame-level: a publisher's frame is
//! depacketized once and written to each subscriber's session, which packetizes and
//! encrypts it for that subscriber (the payload bytes are shared, not copied). Which
//! simulcast layer a subscriber gets is [`layers`]' pure decision.

pub mod demo;
pub mod layers;
mod worker;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

pub use layers::Quality;

/// A peer connection, named by the hub (one per connection and role).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(pub u64);

/// A stage (a session room), named by the hub.
pub type StageId = String;

/// What a published track carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    Camera,
    Microphone,
    Screen,
}

impl Source {
    pub fn is_video(self) -> bool {
        !matches!(self, Source::Microphone)
    }
}

/// A track on a stage as viewers are told of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackInfo {
    /// Unique on the stage; also the track's `msid` in the subscribers' SDP.
    pub id: String,
    /// The publishing user (the hub's user id), the `msid` stream of all their tracks.
    pub user: String,
    pub source: Source,
    /// Simulcast layers the publisher sends (empty: one layer).
    pub layers: Vec<String>,
}

/// What the plane tells the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    /// The stage's tracks now (after a publish, an unpublish or a publisher gone).
    Tracks { stage: StageId, tracks: Vec<TrackInfo> },
    /// A subscriber's tracks changed: it must answer this offer
    /// ([`MediaPlane::answer`]).
    Offer { peer: PeerId, sdp: String },
    /// A peer's connection ended (closed, failed or timed out).
    Closed { peer: PeerId },
}

/// Why the plane refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    #[error("the session description is not valid: {0}")]
    BadSdp(String),
    #[error("no media peer {0:?}")]
    NoPeer(PeerId),
    #[error("peer {0:?} exists already")]
    PeerExists(PeerId),
    #[error("no offer is waiting for an answer")]
    NoPendingOffer,
    #[error("the stage is full: at most {0} viewers on this node")]
    Full(usize),
    #[error("the media plane has stopped")]
    Stopped,
}

/// The plane's settings.
#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// Where the worker's UDP socket binds (a port of 0 picks one).
    pub bind: SocketAddr,
    /// The address advertised to browsers when it is not the bound one (a public address
    /// in front of the node); must be what arriving datagrams are addressed to.
    pub advertise: Option<SocketAddr>,
    /// Viewers this node serves at most, over every stage.
    pub max_subscribers: usize,
    /// How long a peer that never connects is kept.
    pub connect_timeout: Duration,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            advertise: None,
            max_subscribers: 2_000,
            connect_timeout: Duration::from_secs(30),
        }
    }
}

/// A command to a worker, with where its answer goes.
#[derive(Debug)]
enum Command {
    Publish {
        stage: StageId,
        peer: PeerId,
        user: String,
        offer: String,
        sources: Vec<(String, Source)>,
        reply: Reply<String>,
    },
    Subscribe {
        stage: StageId,
        peer: PeerId,
        user: String,
        quality: Quality,
        reply: Reply<String>,
    },
    Answer {
        peer: PeerId,
        answer: String,
        reply: Reply<()>,
    },
    SetQuality {
        peer: PeerId,
        quality: Quality,
        reply: Reply<()>,
    },
    Close {
        peer: PeerId,
    },
    Stats {
        reply: oneshot::Sender<Stats>,
    },
}

type Reply<T> = oneshot::Sender<Result<T, MediaError>>;

/// A worker's figures (for `/metrics` and the capacity benchmark).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub publishers: u64,
    pub subscribers: u64,
    pub tracks: u64,
    pub frames_in: u64,
    pub frames_out: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub keyframe_requests: u64,
    pub layer_switches: u64,
    /// CPU time the worker's thread has used, in milliseconds.
    pub cpu_millis: u64,
}

/// What the media socket's kernel buffers ask for (the kernel caps it at `rmem_max` and
/// `wmem_max`): the default 208 KiB overflows when a thousand viewers' feedback arrives at once.
const SOCKET_BUFFER: usize = 8 * 1024 * 1024;

/// Binds the worker's UDP socket, non-blocking, with large buffers.
fn bind(address: SocketAddr) -> std::io::Result<std::net::UdpSocket> {
    let socket = socket2::Socket::new(socket2::Domain::for_address(address), socket2::Type::DGRAM, None)?;
    // Best effort: a smaller buffer than asked for still works.
    let _ = socket.set_recv_buffer_size(SOCKET_BUFFER);
    let _ = socket.set_send_buffer_size(SOCKET_BUFFER);
    socket.set_nonblocking(true)?;
    socket.bind(&address.into())?;
    Ok(socket.into())
}

/// The hub's handle on the media plane.
#[derive(Debug, Clone)]
pub struct MediaPlane {
    commands: mpsc::Sender<Command>,
    local: SocketAddr,
}

impl MediaPlane {
    /// Binds the worker's socket and starts its thread; events arrive on the receiver.
    pub fn start(config: MediaConfig) -> std::io::Result<(MediaPlane, mpsc::Receiver<MediaEvent>)> {
        let socket = bind(config.bind)?;
        let local = config.advertise.unwrap_or(socket.local_addr()?);
        let (commands, inbox) = mpsc::channel(1024);
        let (events, outbox) = mpsc::channel(4096);
        worker::spawn(socket, local, config, inbox, events)?;
        Ok((MediaPlane { commands, local }, outbox))
    }

    /// The address peers send media to.
    pub fn address(&self) -> SocketAddr {
        self.local
    }

    /// A publisher's offer (its tracks and which source each mid carries): the answer.
    pub async fn publish(
        &self,
        stage: &str,
        peer: PeerId,
        user: &str,
        offer: String,
        sources: Vec<(String, Source)>,
    ) -> Result<String, MediaError> {
        let (reply, answer) = oneshot::channel();
        let stage = stage.to_owned();
        self.send(Command::Publish { stage, peer, user: user.to_owned(), offer, sources, reply }).await?;
        answer.await.map_err(|_| MediaError::Stopped)?
    }

    /// A new viewer of `stage`, user `user` (who is not sent their own tracks): the offer it
    /// must answer.
    pub async fn subscribe(
        &self,
        stage: &str,
        peer: PeerId,
        user: &str,
        quality: Quality,
    ) -> Result<String, MediaError> {
        let (reply, answer) = oneshot::channel();
        let (stage, user) = (stage.to_owned(), user.to_owned());
        self.send(Command::Subscribe { stage, peer, user, quality, reply }).await?;
        answer.await.map_err(|_| MediaError::Stopped)?
    }

    /// A viewer's answer to the last offer it was given.
    pub async fn answer(&self, peer: PeerId, answer: String) -> Result<(), MediaError> {
        let (reply, done) = oneshot::channel();
        self.send(Command::Answer { peer, answer, reply }).await?;
        done.await.map_err(|_| MediaError::Stopped)?
    }

    /// What a viewer wants to receive (audio only stops every video track).
    pub async fn set_quality(&self, peer: PeerId, quality: Quality) -> Result<(), MediaError> {
        let (reply, done) = oneshot::channel();
        self.send(Command::SetQuality { peer, quality, reply }).await?;
        done.await.map_err(|_| MediaError::Stopped)?
    }

    /// Ends a peer (a publisher's tracks leave the stage).
    pub async fn close(&self, peer: PeerId) {
        let _ = self.commands.send(Command::Close { peer }).await;
    }

    pub async fn stats(&self) -> Result<Stats, MediaError> {
        let (reply, stats) = oneshot::channel();
        self.send(Command::Stats { reply }).await?;
        stats.await.map_err(|_| MediaError::Stopped)
    }

    async fn send(&self, command: Command) -> Result<(), MediaError> {
        self.commands.send(command).await.map_err(|_| MediaError::Stopped)
    }
}
