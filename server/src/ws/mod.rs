//! WebSocket connections: the upgrade (Origin allowlist checked first, the connection
//! limit right after it), the `hello` handshake, and the connection loop that reads commands and writes
//! the outbox in batches.
//!
//! One task per connection owns the socket. It reads and parses frames, applies the
//! per-connection command rate limit, routes commands to rooms through the hub, and drains
//! the peer's bounded outbox: it takes every frame already queued (up to a batch), feeds
//! them to the socket and flushes once.

use std::collections::HashSet;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::SinkExt;
use plenary_proto::{
    ClientMsg, CloseCode, ConnectionId, ErrorCode, Limits, RequestId, RequestIdOnly, RoomId, ServerMsg,
    negotiate_protocol,
};
use tokio::time::{Instant, sleep_until, timeout};
use tracing::Instrument;

use crate::AppState;
use crate::auth::Identity;
use crate::domain::rate::TokenBucket;
use crate::domain::stage::StageChange;
use crate::hub::HubError;
use crate::hub::peer::{MAX_FRAME_BYTES, Outbox, Peer};
use crate::hub::room::{
    BoothRequest, ChatRequest, LineupRequest, MediaRequest, PollRequest, QaRequest, RoomCmd, RoomRequest,
};
use crate::metrics::{CodeLabel, ReasonLabel};

/// Bytes read from a client's socket at a time.
const READ_BUFFER: usize = 512;
/// Frames written before one flush.
const WRITE_BATCH: usize = 64;
/// How long a close frame may take to go out before the socket is dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// A write that makes no progress for this long means the client stopped reading.
const WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// `GET /ws`: checks the request, then upgrades.
pub async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    // Browsers always send Origin; other clients (scripts, the load tool) send none.
    if let Some(origin) = headers.get(header::ORIGIN) {
        let allowed = origin
            .to_str()
            .is_ok_and(|o| state.allowed_origins.iter().any(|a| a.eq_ignore_ascii_case(o.trim_end_matches('/'))));
        if !allowed {
            state.metrics.rejected_upgrades.get_or_create(&ReasonLabel { reason: "origin" }).inc();
            tracing::info!(%remote, origin = ?origin, "refused a WebSocket from a foreign origin");
            return (StatusCode::FORBIDDEN, "this origin may not open a WebSocket here").into_response();
        }
    }
    let settings = &state.settings;
    ws.max_message_size(settings.max_message_bytes)
        .max_frame_size(settings.max_message_bytes)
        // tungstenite zeroes `read_buffer_size` bytes before every read attempt, and every
        // connection holds that much: client frames are small, so the buffer is too.
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(8 * 1024)
        // A batch of frames is fed before one flush: the buffer must take the largest frame
        // the node sends plus a batch of ordinary ones, or the write fails and the socket
        // drops without a close code.
        .max_write_buffer_size(MAX_FRAME_BYTES + settings.outbox_bytes)
        .on_upgrade(move |socket| {
            let id = state.next_peer_id();
            let span = tracing::info_span!("conn", id, %remote);
            let tracker = state.tracker.clone();
            // Boxed before `serve` takes it: an async fn keeps its arguments in its state for
            // its whole life, and this one lives as long as the connection.
            let opening = Box::pin(open(socket, state, id));
            tracker.track_future(serve(opening).instrument(span))
        })
}

/// A socket that has been upgraded: opening, the loop and the end each run in their own
/// boxed future, so the task itself, which lives as long as the connection, stays small.
async fn serve(opening: Pin<Box<impl Future<Output = Option<Opened>>>>) {
    if let Some((mut conn, socket, outbox)) = opening.await {
        Box::pin(conn.run(socket, outbox)).await;
        Box::pin(conn.finish()).await;
    }
}

/// An admitted connection, its socket and its outbox.
type Opened = (Connection, WebSocket, Outbox);

/// Admits the connection (limit, `hello`), then builds its peer and sends `welcome`.
async fn open(mut socket: WebSocket, state: AppState, id: u64) -> Option<Opened> {
    if state.metrics.connections.get() >= i64::try_from(state.settings.max_connections).unwrap_or(i64::MAX) {
        state.metrics.rejected_upgrades.get_or_create(&ReasonLabel { reason: "full" }).inc();
        close(&mut socket, &state, CloseCode::ServerFull, "this node is full; try again later").await;
        return None;
    }
    state.metrics.connections.inc();
    state.metrics.connections_opened.inc();
    let (identity, protocol) = match handshake(&mut socket, &state).await {
        Ok(accepted) => accepted,
        Err((code, reason)) => {
            tracing::debug!(%code, reason, "handshake refused");
            close(&mut socket, &state, code, &reason).await;
            state.metrics.connections.dec();
            return None;
        }
    };
    let connection = ConnectionId::parse(format!("{}-{id}", state.node_label)).expect("valid connection id");
    let (peer, outbox) = Peer::new_under(
        &state.shutdown,
        id,
        connection.clone(),
        state.settings.outbox_frames,
        state.settings.outbox_bytes,
        state.metrics.clone(),
    );
    let admitted = state.user_connections.admit(
        identity.user(),
        &peer,
        identity.token_id.as_deref(),
        state.settings.max_connections_per_user,
    );
    if !admitted {
        state.metrics.rejected_upgrades.get_or_create(&ReasonLabel { reason: "user_full" }).inc();
        let reason = format!("at most {} connections per user on this node", state.settings.max_connections_per_user);
        close(&mut socket, &state, CloseCode::TooManyConnections, &reason).await;
        state.metrics.connections.dec();
        return None;
    }
    let welcome = Utf8Bytes::from(
        ServerMsg::Welcome {
            protocol,
            connection,
            user: identity.profile.clone(),
            roles: identity.roles.clone(),
            expires_at: identity.expires_at,
            limits: limits(&state),
        }
        .to_json(),
    );
    // Registered before the shutdown check: a shutdown either sees this peer in the registry
    // or is seen here.
    state.peers.insert(id, peer.clone());
    if state.shutdown.is_cancelled() {
        peer.close(CloseCode::GoingAway);
    }
    tracing::info!(user = %identity.user(), "connected");
    let mut conn = Connection {
        bucket: TokenBucket::new(
            state.settings.command_burst,
            f64::from(state.settings.commands_per_second),
            Instant::now(),
        ),
        signal_bucket: TokenBucket::new(SIGNAL_BURST, f64::from(SIGNALS_PER_SECOND), Instant::now()),
        expires: expiry_deadline(identity.expires_at, &state),
        identity: Arc::new(identity),
        rooms: HashSet::new(),
        peer,
        state,
    };
    if conn.peer.send(welcome).is_err() {
        conn.finish().await;
        return None;
    }
    Some((conn, socket, outbox))
}

fn limits(state: &AppState) -> Limits {
    let s = &state.settings;
    Limits {
        max_message_bytes: u32::try_from(s.max_message_bytes).unwrap_or(u32::MAX),
        max_rooms: u32::try_from(s.max_rooms_per_connection).unwrap_or(u32::MAX),
        chat_max_chars: u32::try_from(s.chat_max_chars).unwrap_or(u32::MAX),
        commands_per_second: s.commands_per_second,
        max_frame_bytes: u32::try_from(MAX_FRAME_BYTES).unwrap_or(u32::MAX),
    }
}

/// Waits for `hello` and checks it; on failure returns the close code and reason.
async fn handshake(socket: &mut WebSocket, state: &AppState) -> Result<(Identity, u16), (CloseCode, String)> {
    let deadline = Instant::now() + state.settings.hello_timeout();
    let first = loop {
        let frame = tokio::select! {
            frame = timeout(deadline.saturating_duration_since(Instant::now()), socket.recv()) => {
                frame.map_err(|_| (CloseCode::HelloTimeout, "no hello within the hello timeout".to_owned()))?
            }
            _ = state.shutdown.cancelled() => {
                return Err((CloseCode::GoingAway, "the node is shutting down".to_owned()));
            }
        };
        match frame {
            Some(Ok(Message::Text(text))) => break text,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Binary(_))) => {
                return Err((CloseCode::ProtocolViolation, "frames must be text".to_owned()));
            }
            Some(Ok(Message::Close(_))) | None => return Err((CloseCode::Normal, String::new())),
            Some(Err(e)) => return Err(read_error_code(&e)),
        }
    };
    state.metrics.messages_in.inc();
    state.metrics.bytes_in.inc_by(first.len() as u64);
    let (protocol, token) = match serde_json::from_str::<ClientMsg>(first.as_str()) {
        Ok(ClientMsg::Hello { protocol, token }) => (protocol, token),
        Ok(_) => return Err((CloseCode::ProtocolViolation, "the first frame must be hello".to_owned())),
        Err(e) => return Err((CloseCode::ProtocolViolation, format!("the first frame must be hello: {e}"))),
    };
    let Some(protocol) = negotiate_protocol(&protocol) else {
        return Err((
            CloseCode::UnsupportedProtocol,
            format!("this node speaks protocol {:?}", plenary_proto::SUPPORTED_PROTOCOLS),
        ));
    };
    let identity = state.verifier.verify(&token).map_err(|e| (e.close_code(), e.to_string()))?;
    if identity.token_id.as_deref().is_some_and(|jti| state.access.is_revoked(jti)) {
        return Err((CloseCode::InvalidToken, "this token was revoked; sign in again".to_owned()));
    }
    if let Some(ban) = state.access.event_ban(identity.user().as_str(), crate::clock::unix_millis()) {
        return Err((CloseCode::Removed, ban.explain()));
    }
    let grants = state.grants.of(identity.user().as_str());
    Ok((identity.with_grants(&grants), protocol))
}

/// Maps a read error to the close code the node answers with.
fn read_error_code(error: &axum::Error) -> (CloseCode, String) {
    use tokio_tungstenite::tungstenite::Error as WsError;
    let inner = std::error::Error::source(error)
        .and_then(|s| s.downcast_ref::<WsError>())
        .or_else(|| (error as &dyn std::error::Error).downcast_ref::<WsError>());
    match inner {
        Some(WsError::Capacity(e)) => (CloseCode::MessageTooBig, e.to_string()),
        Some(WsError::Protocol(e)) => (CloseCode::ProtocolViolation, e.to_string()),
        Some(WsError::Utf8(e)) => (CloseCode::ProtocolViolation, format!("a text frame is not UTF-8: {e}")),
        _ => (CloseCode::Normal, error.to_string()),
    }
}

/// Sends a close frame (bounded in time) and counts it.
async fn close(socket: &mut WebSocket, state: &AppState, code: CloseCode, reason: &str) {
    state.metrics.closes.get_or_create(&CodeLabel { code: code.as_u16() }).inc();
    // Close reasons are limited to 123 bytes by the WebSocket protocol.
    let mut reason = reason.to_owned();
    while reason.len() > 123 {
        reason.pop();
    }
    let frame = CloseFrame { code: code.as_u16(), reason: Utf8Bytes::from(reason) };
    // Complete the closing handshake: wait for the client's close frame before dropping
    // the socket, or the client may get a reset and lose the frames (and the code) in
    // flight.
    let _ = timeout(CLOSE_TIMEOUT, async {
        socket.send(Message::Close(Some(frame))).await?;
        while let Some(message) = socket.recv().await {
            if matches!(message?, Message::Close(_)) {
                break;
            }
        }
        Ok::<(), axum::Error>(())
    })
    .await;
}

struct Connection {
    state: AppState,
    peer: Arc<Peer>,
    identity: Arc<Identity>,
    /// When the connection closes with 4503 unless the token is refreshed: the token's
    /// `exp` plus the leeway, fixed when the token is accepted.
    expires: Instant,
    rooms: HashSet<RoomId>,
    bucket: TokenBucket,
    /// WebRTC signalling has a budget of its own: joining a green room's mesh sends dozens of
    /// offers, answers and candidates within a second.
    signal_bucket: TokenBucket,
}

/// `call_signal`s a connection may send in a burst, and sustained per second.
const SIGNAL_BURST: u32 = 200;
const SIGNALS_PER_SECOND: u32 = 50;

enum Flow {
    Continue,
    Close(CloseCode, String),
}

impl Connection {
    async fn run(&mut self, mut socket: WebSocket, mut outbox: Outbox) {
        let peer = self.peer.clone();
        let mut ping = tokio::time::interval(self.state.settings.ping_interval());
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ping.tick().await;
        let mut last_heard = Instant::now();
        // The expiry timer lives across iterations: making it anew on every wake-up would
        // register a timer per frame sent. A close (asked by a room, or by the node shutting
        // down) arrives through the outbox itself, so the loop waits on no other signal.
        let expiry = sleep_until(self.expires);
        tokio::pin!(expiry);
        // No `biased`: under a steady stream of outgoing frames, reads, pings and the
        // token's expiry must still get their turn.
        let (code, reason) = loop {
            if expiry.deadline() != self.expires {
                expiry.as_mut().reset(self.expires);
            }
            tokio::select! {
                frame = outbox.recv() => {
                    let Some(frame) = frame else { break closing_reason(&peer) };
                    // `biased`: a write that completes at once (the common case) never polls
                    // the close signal, whose future takes a lock; a stuck one is interrupted.
                    let written = tokio::select! {
                        biased;
                        r = timeout(WRITE_STALL_TIMEOUT, write_batch(&mut socket, frame, &mut outbox)) => r,
                        _ = peer.closing() => break closing_reason(&peer),
                    };
                    match written {
                        Ok(Ok(())) => {}
                        Ok(Err(_)) => return,
                        Err(_) => self.stalled(),
                    }
                }
                message = socket.recv() => {
                    last_heard = Instant::now();
                    let flow = match message {
                        Some(Ok(Message::Text(text))) => Box::pin(self.on_text(text)).await,
                        Some(Ok(Message::Binary(_))) => {
                            self.reply_error(None, ErrorCode::BadRequest, "binary frames are not supported; send JSON text".into(), None);
                            Flow::Continue
                        }
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Flow::Continue,
                        Some(Ok(Message::Close(_))) => {
                            // tungstenite queued the close reply; send it before dropping.
                            let _ = timeout(CLOSE_TIMEOUT, socket.flush()).await;
                            return;
                        }
                        None => return,
                        Some(Err(e)) => {
                            let (code, reason) = read_error_code(&e);
                            if code == CloseCode::Normal {
                                return;
                            }
                            Flow::Close(code, reason)
                        }
                    };
                    if let Flow::Close(code, reason) = flow {
                        break (code, reason);
                    }
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() >= self.state.settings.idle_timeout() {
                        break (CloseCode::IdleTimeout, "nothing received within the idle timeout".to_owned());
                    }
                    match timeout(WRITE_STALL_TIMEOUT, socket.send(Message::Ping(Default::default()))).await {
                        Ok(Ok(())) => {}
                        Ok(Err(_)) => return,
                        Err(_) => self.stalled(),
                    }
                }
                _ = &mut expiry => break (CloseCode::TokenExpired, "the token expired; reconnect with a new one".to_owned()),
            }
        };
        self.peer.close(code);
        tracing::debug!(%code, reason, "closing");
        if code != CloseCode::SlowConsumer {
            // Frames already queued (an error that explains the close, say) go first,
            // within the close timeout.
            let _ = timeout(CLOSE_TIMEOUT, async {
                while let Some(frame) = outbox.try_recv() {
                    socket.feed(Message::Text(frame)).await?;
                }
                Ok::<(), axum::Error>(())
            })
            .await;
        }
        // Boxed: the close is a one-off; its state need not sit in every connection's loop.
        Box::pin(close(&mut socket, &self.state, code, &reason)).await;
    }

    /// A write made no progress for [`WRITE_STALL_TIMEOUT`]: the client is not reading.
    fn stalled(&self) {
        if self.peer.close(CloseCode::SlowConsumer) {
            self.state.metrics.slow_consumer_closes.inc();
        }
    }

    async fn on_text(&mut self, text: Utf8Bytes) -> Flow {
        self.state.metrics.messages_in.inc();
        self.state.metrics.bytes_in.inc_by(text.len() as u64);
        let msg = match serde_json::from_str::<ClientMsg>(text.as_str()) {
            Ok(msg) => msg,
            Err(e) => {
                let rid = serde_json::from_str::<RequestIdOnly>(text.as_str()).ok().and_then(|r| r.rid);
                self.reply_error(rid, ErrorCode::BadRequest, format!("unreadable message: {e}"), None);
                return Flow::Continue;
            }
        };
        let signal = matches!(msg, ClientMsg::CallSignal { .. });
        let (bucket, per_second) = if signal {
            (&mut self.signal_bucket, SIGNALS_PER_SECOND)
        } else {
            (&mut self.bucket, self.state.settings.commands_per_second)
        };
        if let Err(wait) = bucket.try_take(Instant::now()) {
            let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1);
            let what = if signal { "signals" } else { "commands" };
            self.reply_error(
                msg.rid(),
                ErrorCode::RateLimited,
                format!("too many {what}: at most {per_second} a second"),
                Some(ms),
            );
            return Flow::Continue;
        }
        self.dispatch(msg).await
    }

    fn reply_error(&self, rid: Option<RequestId>, code: ErrorCode, message: String, retry_after_ms: Option<u64>) {
        self.state.metrics.rejected_commands.get_or_create(&ReasonLabel { reason: code.label() }).inc();
        let _ = self.peer.send_msg(&ServerMsg::Error { rid, code, message, retry_after_ms });
    }

    async fn dispatch(&mut self, msg: ClientMsg) -> Flow {
        let (room, rid, request) = match msg {
            ClientMsg::Hello { .. } => {
                self.reply_error(None, ErrorCode::BadRequest, "hello was already accepted".into(), None);
                return Flow::Continue;
            }
            ClientMsg::Refresh { rid, token } => {
                self.refresh(rid, &token);
                return Flow::Continue;
            }
            ClientMsg::Join { rid, room, since } => {
                if room.kind().is_none() {
                    self.reply_error(Some(rid), ErrorCode::NotFound, format!("there is no room {room}"), None);
                    return Flow::Continue;
                }
                if let Some(ban) =
                    self.state.access.room_ban(self.identity.user().as_str(), &room, crate::clock::unix_millis())
                {
                    self.reply_error(Some(rid), ErrorCode::Forbidden, ban.explain(), None);
                    return Flow::Continue;
                }
                if !self.rooms.contains(&room) && self.rooms.len() >= self.state.settings.max_rooms_per_connection {
                    self.reply_error(
                        Some(rid),
                        ErrorCode::TooManyRooms,
                        format!("at most {} rooms per connection", self.state.settings.max_rooms_per_connection),
                        None,
                    );
                    return Flow::Continue;
                }
                let (admitted, answer) = tokio::sync::oneshot::channel();
                let cmd =
                    RoomCmd::Join { peer: self.peer.clone(), identity: self.identity.clone(), rid, since, admitted };
                // Only a member the room let in holds a place here: a refused join changes
                // nothing (a room dropped on the way answers no).
                if self.join_room(&room, rid, cmd).await && answer.await.unwrap_or(false) {
                    self.rooms.insert(room);
                }
                return Flow::Continue;
            }
            ClientMsg::Leave { rid, room } => {
                if !self.rooms.remove(&room) {
                    self.reply_error(Some(rid), ErrorCode::NotJoined, format!("not in {room}"), None);
                    return Flow::Continue;
                }
                self.state.hub.stop_media(self.peer.id, Some(&room)).await;
                let cmd = RoomCmd::Leave { peer: self.peer.clone(), rid: Some(rid) };
                self.send_to_room(&room, rid, cmd).await;
                return Flow::Continue;
            }
            ClientMsg::StageUpdate { rid, room, state, title, speaker } => {
                (room, rid, RoomRequest::Stage(StageChange { state, title, speaker }))
            }
            ClientMsg::ChatSend { rid, room, text } => (room, rid, RoomRequest::Chat(ChatRequest::Send { text })),
            ClientMsg::ChatHistory { rid, room, before, limit } => {
                (room, rid, RoomRequest::Chat(ChatRequest::History { before, limit }))
            }
            ClientMsg::ChatDelete { rid, room, id } => (room, rid, RoomRequest::Chat(ChatRequest::Delete { id })),
            ClientMsg::Mute { rid, room, user, minutes } => {
                (room, rid, RoomRequest::Chat(ChatRequest::Mute { user, minutes }))
            }
            ClientMsg::Unmute { rid, room, user } => (room, rid, RoomRequest::Chat(ChatRequest::Unmute { user })),
            ClientMsg::Announce { rid, text } => (RoomId::event(), rid, RoomRequest::Announce { text }),
            ClientMsg::QaAsk { rid, room, text, anonymous } => {
                (room, rid, RoomRequest::Qa(QaRequest::Ask { text, anonymous }))
            }
            ClientMsg::QaVote { rid, room, id, up } => (room, rid, RoomRequest::Qa(QaRequest::Vote { id, up })),
            ClientMsg::QaWithdraw { rid, room, id } => (room, rid, RoomRequest::Qa(QaRequest::Withdraw { id })),
            ClientMsg::QaPage { rid, room, before } => (room, rid, RoomRequest::QaPage { before }),
            ClientMsg::QaModerate { rid, room, id, version, action, text, reason, into, into_version, rank } => (
                room,
                rid,
                RoomRequest::Qa(QaRequest::Moderate { id, version, action, text, reason, into, into_version, rank }),
            ),
            ClientMsg::PollCreate { rid, room, question, options, multiple, changeable, results } => {
                (room, rid, RoomRequest::Poll(PollRequest::Create { question, options, multiple, changeable, results }))
            }
            ClientMsg::PollControl { rid, room, id, version, action, results } => {
                (room, rid, RoomRequest::Poll(PollRequest::Control { id, version, action, results }))
            }
            ClientMsg::PollAnswer { rid, room, id, choices } => {
                (room, rid, RoomRequest::Poll(PollRequest::Answer { id, choices }))
            }
            ClientMsg::BoothStatus { rid, room, status } => {
                (room, rid, RoomRequest::Booth(BoothRequest::Status { status }))
            }
            ClientMsg::BoothRequest { rid, room, message } => {
                (room, rid, RoomRequest::Booth(BoothRequest::Request { message }))
            }
            ClientMsg::BoothCancel { rid, room, id } => (room, rid, RoomRequest::Booth(BoothRequest::Cancel { id })),
            ClientMsg::BoothAccept { rid, room, id } => (room, rid, RoomRequest::Booth(BoothRequest::Accept { id })),
            ClientMsg::BoothPage { rid, room, after } => (room, rid, RoomRequest::BoothPage { after }),
            ClientMsg::CallSignal { rid, room, to, signal } => (room, rid, RoomRequest::Signal { to, signal }),
            ClientMsg::MediaPublish { rid, room, sdp, tracks } => {
                (room, rid, RoomRequest::Media(MediaRequest::Publish { sdp, tracks }))
            }
            ClientMsg::MediaView { rid, room, quality } => {
                (room, rid, RoomRequest::Media(MediaRequest::View { quality }))
            }
            ClientMsg::MediaAnswer { rid, room, sdp } => (room, rid, RoomRequest::Media(MediaRequest::Answer { sdp })),
            ClientMsg::MediaQuality { rid, room, quality } => {
                (room, rid, RoomRequest::Media(MediaRequest::Quality { quality }))
            }
            ClientMsg::MediaStop { rid, room } => (room, rid, RoomRequest::Media(MediaRequest::Stop)),
            ClientMsg::StageHand { rid, room, raised } => {
                (room, rid, RoomRequest::Lineup(LineupRequest::Hand { raised }))
            }
            ClientMsg::StageInvite { rid, room, user, on } => {
                (room, rid, RoomRequest::Lineup(LineupRequest::Invite { user, on }))
            }
        };
        if !self.rooms.contains(&room) && !matches!(request, RoomRequest::Announce { .. }) {
            self.reply_error(Some(rid), ErrorCode::NotJoined, format!("join {room} first"), None);
            return Flow::Continue;
        }
        let cmd = RoomCmd::Request { peer: self.peer.clone(), identity: self.identity.clone(), rid, request };
        self.send_to_room(&room, rid, cmd).await;
        Flow::Continue
    }

    /// Hands a command to its room; answers the caller itself when the hub cannot.
    async fn send_to_room(&self, room: &RoomId, rid: RequestId, cmd: RoomCmd) -> bool {
        let sent = self.state.hub.send(room, cmd).await;
        self.answer_hub_error(rid, sent)
    }

    /// Hands a join to its room, which the hub opens only for a room that exists.
    async fn join_room(&self, room: &RoomId, rid: RequestId, cmd: RoomCmd) -> bool {
        let sent = self.state.hub.join(room, cmd).await;
        self.answer_hub_error(rid, sent)
    }

    fn answer_hub_error(&self, rid: RequestId, sent: Result<(), HubError>) -> bool {
        match sent {
            Ok(()) => true,
            Err(e) => {
                let code = match e {
                    HubError::UnknownRoom(_) => ErrorCode::NotFound,
                    HubError::TooManyRooms | HubError::ShuttingDown | HubError::Restarting => ErrorCode::Unavailable,
                };
                self.reply_error(Some(rid), code, e.to_string(), None);
                false
            }
        }
    }

    fn refresh(&mut self, rid: RequestId, token: &str) {
        match self.state.verifier.verify(token) {
            Ok(identity) if identity.token_id.as_deref().is_some_and(|jti| self.state.access.is_revoked(jti)) => {
                self.reply_error(Some(rid), ErrorCode::Unauthorized, "this token was revoked".into(), None)
            }
            Ok(identity) if identity.user() == self.identity.user() => {
                let grants = self.state.grants.of(identity.user().as_str());
                let identity = identity.with_grants(&grants);
                self.expires = expiry_deadline(identity.expires_at, &self.state);
                self.identity = Arc::new(identity);
                let _ = self.peer.send_msg(&ServerMsg::Ack { rid });
            }
            Ok(_) => {
                self.reply_error(Some(rid), ErrorCode::Unauthorized, "the new token names another user".into(), None)
            }
            Err(e) => self.reply_error(Some(rid), ErrorCode::Unauthorized, e.to_string(), None),
        }
    }

    /// Leaves every room and counts the connection gone.
    async fn finish(&mut self) {
        self.state.peers.remove(&self.peer.id);
        self.state.user_connections.release(self.identity.user(), &self.peer);
        self.state.hub.stop_media(self.peer.id, None).await;
        for room in std::mem::take(&mut self.rooms) {
            let _ = self.state.hub.send(&room, RoomCmd::Leave { peer: self.peer.clone(), rid: None }).await;
        }
        self.state.metrics.connections.dec();
        tracing::info!("disconnected");
    }
}

/// The code and reason of a close someone asked the peer for.
fn closing_reason(peer: &Peer) -> (CloseCode, String) {
    match peer.close_code() {
        Some(code) => (code, code.label().to_owned()),
        // Only the node's shutdown cancels a peer without a code.
        None => (CloseCode::GoingAway, "the node is shutting down".to_owned()),
    }
}

/// Feeds `first` and every frame already queued (up to a batch), then flushes once.
async fn write_batch(socket: &mut WebSocket, first: Utf8Bytes, outbox: &mut Outbox) -> Result<(), axum::Error> {
    socket.feed(Message::Text(first)).await?;
    for _ in 1..WRITE_BATCH {
        match outbox.try_recv() {
            Some(frame) => socket.feed(Message::Text(frame)).await?,
            None => break,
        }
    }
    socket.flush().await
}

/// The `tokio` instant at which a token expiring at `expires_at` (Unix seconds) stops
/// being accepted: its expiry plus the configured leeway.
fn expiry_deadline(expires_at: i64, state: &AppState) -> Instant {
    let now_ms = crate::clock::unix_millis();
    let remaining_ms = u64::try_from(expires_at.saturating_mul(1000).saturating_sub(now_ms)).unwrap_or(0);
    // Far-future tokens: cap so the addition cannot overflow.
    let remaining = Duration::from_millis(remaining_ms.min(10 * 365 * 24 * 3600 * 1000));
    Instant::now() + remaining + Duration::from_secs(state.settings.jwt_leeway_secs)
}
