//! The Redis bus (`REDIS_URL`): room streams, live delivery and attendance shared by every
//! node of a deployment through one Redis.
//!
//! - **Order.** A publication runs one Lua script: `INCR` the room's sequence, `XADD` the
//!   event to the room's stream with id `0-<seq>` (trimmed to about `history_len`), and
//!   `PUBLISH` it on the room's channel. Redis runs scripts one at a time, so every node sees
//!   one order per room, and the stream is the resume history.
//! - **Epoch.** A room's stream, sequence and epoch keys are written together and expire
//!   together (after [`STREAM_TTL`] without events). When Redis loses them (a restart with
//!   no persistence, an eviction), the next script starts a new epoch, and rooms tell their
//!   clients to resync.
//! - **Delivery.** One dedicated pub/sub connection per node, subscribed to a room's channel
//!   only while the node has a local member in it: one Redis message per broadcast per
//!   node. After the connection drops it reconnects with backoff, subscribes again, and
//!   raises the lag flag so every room reads the stream for what it missed.
//! - **Attendance.** Each node writes its count per room into the room's presence hash
//!   (one field per node, stamped with the time) and the users it saw into the room's
//!   HyperLogLog, then reads the totals, in one pipeline per interval: Redis work per
//!   second is rooms × nodes, whatever the number of joins.
//! - **Outages.** Commands time out after [`COMMAND_TIMEOUT`]; while Redis is unreachable the
//!   node reports not ready, refuses writes with `unavailable`, and queues nothing.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use plenary_proto::{Epoch, RoomId, Seq, UserId};
use redis::aio::{ConnectionManager, ConnectionManagerConfig, PubSubSink};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Bus, BusError, History, PRESENCE_TTL, PresenceReport, PresenceTotals, Publication};
use crate::clock::unix_millis;

/// A command that takes longer fails, so no room waits on a dead Redis for long.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// A room's stream, sequence and epoch expire this long after its last event.
pub const STREAM_TTL: Duration = Duration::from_secs(24 * 3600);
/// Presence hashes and HyperLogLogs expire this long after the last report.
const PRESENCE_KEY_TTL: Duration = Duration::from_secs(24 * 3600);
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(5);

/// Every Redis key and channel Plenary uses. `P` is the deployment's prefix
/// (`redis_prefix`, default `plenary:`; one per test). The room id sits in a hash tag, so
/// all of a room's keys share one Redis Cluster slot.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(prefix: &str) -> Self {
        Keys { prefix: prefix.to_owned() }
    }

    /// STRING `P room:{<room>}:epoch`: the room stream's epoch (12 hex characters).
    pub fn epoch(&self, room: &RoomId) -> String {
        format!("{}room:{{{room}}}:epoch", self.prefix)
    }

    /// STRING `P room:{<room>}:seq`: the latest sequence number (`INCR`).
    pub fn seq(&self, room: &RoomId) -> String {
        format!("{}room:{{{room}}}:seq", self.prefix)
    }

    /// STREAM `P room:{<room>}:events`: recent events, entry id `0-<seq>`, field `p` = the
    /// encoded `RoomEvent`; trimmed to about `history_len` entries.
    pub fn stream(&self, room: &RoomId) -> String {
        format!("{}room:{{{room}}}:events", self.prefix)
    }

    /// PUB/SUB channel `P room:{<room>}:live`: each event as `<epoch> <seq> <payload>`.
    pub fn channel(&self, room: &RoomId) -> String {
        format!("{}room:{{{room}}}:live", self.prefix)
    }

    /// HASH `P room:{<room>}:presence`: node id → `<connections> <unix ms of the report>`.
    pub fn presence(&self, room: &RoomId) -> String {
        format!("{}room:{{{room}}}:presence", self.prefix)
    }

    /// HYPERLOGLOG `P room:{<room>}:unique`: the users who joined the room.
    pub fn unique(&self, room: &RoomId) -> String {
        format!("{}room:{{{room}}}:unique", self.prefix)
    }

    /// The room a channel name belongs to.
    fn room_of_channel(&self, channel: &str) -> Option<RoomId> {
        let inner = channel.strip_prefix(&self.prefix)?.strip_prefix("room:{")?.strip_suffix("}:live")?;
        RoomId::parse(inner).ok()
    }
}

/// Appends an event: KEYS epoch, seq, stream; ARGV new epoch, payload, max length, TTL
/// seconds, channel, and optionally the epoch and sequence number the stream must be at.
/// Returns `{epoch, seq}`, with seq -1 when the stream was not where expected.
const PUBLISH_SCRIPT: &str = r"
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', KEYS[2], KEYS[3])
end
redis.call('SET', KEYS[1], epoch, 'EX', ARGV[4])
if ARGV[6] then
  local latest = tonumber(redis.call('GET', KEYS[2]) or '0')
  if epoch ~= ARGV[6] or latest ~= tonumber(ARGV[7]) then
    return {epoch, -1}
  end
end
local seq = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '0-' .. seq, 'p', ARGV[2])
redis.call('EXPIRE', KEYS[3], ARGV[4])
redis.call('PUBLISH', ARGV[5], epoch .. ' ' .. seq .. ' ' .. ARGV[2])
return {epoch, seq}
";

/// Reads a stream after a position: KEYS epoch, seq, stream; ARGV new epoch, after,
/// limit, TTL seconds. Starts the epoch when there is none. Returns `{epoch, latest,
/// entries after, oldest entry}`.
const HISTORY_SCRIPT: &str = r"
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch, 'EX', ARGV[4])
  redis.call('DEL', KEYS[2], KEYS[3])
end
local latest = tonumber(redis.call('GET', KEYS[2]) or '0')
local entries = redis.call('XRANGE', KEYS[3], '(0-' .. ARGV[2], '+', 'COUNT', ARGV[3])
local oldest = redis.call('XRANGE', KEYS[3], '-', '+', 'COUNT', 1)
return {epoch, latest, entries, oldest}
";

type StreamEntry = (String, Vec<Vec<u8>>);

/// A node's connection to the Redis bus.
pub struct RedisBus {
    keys: Keys,
    node: String,
    commands: ConnectionManager,
    publish_script: redis::Script,
    history_script: redis::Script,
    history_len: usize,
    /// How long a node's presence report counts ([`PRESENCE_TTL`] unless configured).
    presence_ttl: Duration,
    shared: Arc<Shared>,
    /// Stops the subscriber task when the bus goes.
    stop: CancellationToken,
}

impl Drop for RedisBus {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// What the bus handle and its subscriber task share.
struct Shared {
    /// Channels this node wants, restored after every reconnect.
    wanted: Mutex<HashSet<String>>,
    /// The live subscription connection's command side, while connected.
    sink: Mutex<Option<PubSubSink>>,
    subscriber_up: AtomicBool,
    commands_ok: AtomicBool,
    lagged: AtomicBool,
    failures: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for RedisBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBus").field("keys", &self.keys).field("node", &self.node).finish_non_exhaustive()
    }
}

fn unavailable(e: &redis::RedisError) -> BusError {
    BusError::Unavailable(e.to_string())
}

fn new_epoch() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

impl RedisBus {
    /// How long another node's presence report counts (`presence_ttl_ms`).
    pub fn with_presence_ttl(mut self, ttl: Duration) -> RedisBus {
        self.presence_ttl = ttl;
        self
    }

    /// Connects to Redis and starts the node's subscriber task (it stops when the bus is
    /// dropped). Fails when Redis cannot be reached now: a node does not start
    /// half-connected.
    pub async fn connect(
        url: &str,
        prefix: &str,
        node: &str,
        history_len: usize,
        inbox_capacity: usize,
    ) -> anyhow::Result<(RedisBus, mpsc::Receiver<Publication>)> {
        let shutdown = CancellationToken::new();
        let client = redis::Client::open(url).map_err(|e| anyhow::anyhow!("REDIS_URL {url:?}: {e}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(COMMAND_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_max_delay(MAX_RECONNECT_DELAY)
            .set_number_of_retries(1);
        let commands = ConnectionManager::new_with_config(client.clone(), config)
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach Redis at {url}: {e}"))?;
        let (tx, rx) = mpsc::channel(inbox_capacity.max(1));
        let shared = Arc::new(Shared {
            wanted: Mutex::new(HashSet::new()),
            sink: Mutex::new(None),
            subscriber_up: AtomicBool::new(false),
            commands_ok: AtomicBool::new(true),
            lagged: AtomicBool::new(false),
            failures: std::sync::atomic::AtomicU64::new(0),
        });
        let keys = Keys::new(prefix);
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(subscriber(client, keys.clone(), shared.clone(), tx, shutdown.clone(), Some(ready_tx)));
        // The first subscription connection is up before the node takes clients.
        let _ = tokio::time::timeout(COMMAND_TIMEOUT, ready_rx).await;
        let bus = RedisBus {
            keys,
            node: node.to_owned(),
            commands,
            publish_script: redis::Script::new(PUBLISH_SCRIPT),
            history_script: redis::Script::new(HISTORY_SCRIPT),
            history_len: history_len.max(1),
            presence_ttl: PRESENCE_TTL,
            shared,
            stop: shutdown,
        };
        Ok((bus, rx))
    }

    /// Runs a command with a deadline and notes whether Redis answered: the connection
    /// manager's own reconnect attempts must not hold a room past [`COMMAND_TIMEOUT`].
    async fn run<T>(&self, command: impl Future<Output = redis::RedisResult<T>>) -> Result<T, BusError> {
        let result = match tokio::time::timeout(COMMAND_TIMEOUT, command).await {
            Ok(result) => result,
            Err(_) => Err(redis::RedisError::from((redis::ErrorKind::Io, "timed out"))),
        };
        self.track(result)
    }

    /// Runs the publish script; `None` when `expected` did not match the stream.
    async fn append(
        &self,
        topic: &RoomId,
        payload: Bytes,
        expected: Option<(&Epoch, Seq)>,
    ) -> Result<Option<Publication>, BusError> {
        let mut conn = self.commands.clone();
        let mut invocation = self.publish_script.prepare_invoke();
        invocation
            .key(self.keys.epoch(topic))
            .key(self.keys.seq(topic))
            .key(self.keys.stream(topic))
            .arg(new_epoch())
            .arg(payload.as_ref())
            .arg(self.history_len)
            .arg(STREAM_TTL.as_secs())
            .arg(self.keys.channel(topic));
        if let Some((epoch, after)) = expected {
            invocation.arg(epoch.as_str()).arg(after.0);
        }
        let (epoch, seq): (String, i64) = self.run(invocation.invoke_async(&mut conn)).await?;
        let Ok(seq) = u64::try_from(seq) else { return Ok(None) };
        let epoch = Epoch::parse(epoch).map_err(|e| BusError::Unavailable(format!("bad epoch in Redis: {e}")))?;
        Ok(Some(Publication { topic: topic.clone(), epoch, seq: Seq(seq), payload }))
    }

    fn track<T>(&self, result: redis::RedisResult<T>) -> Result<T, BusError> {
        match result {
            Ok(value) => {
                if !self.shared.commands_ok.swap(true, Ordering::Relaxed) {
                    tracing::info!("Redis answers commands again");
                }
                Ok(value)
            }
            Err(e) => {
                self.shared.failures.fetch_add(1, Ordering::Relaxed);
                if self.shared.commands_ok.swap(false, Ordering::Relaxed) {
                    tracing::error!(error = %e, "Redis command failed: the bus is unavailable");
                }
                Err(unavailable(&e))
            }
        }
    }
}

#[async_trait]
impl Bus for RedisBus {
    async fn publish(&self, topic: &RoomId, payload: Bytes) -> Result<Publication, BusError> {
        let published = self.append(topic, payload, None).await?;
        published.ok_or_else(|| BusError::Unavailable("an unconditional publish was refused".into()))
    }

    async fn publish_if(
        &self,
        topic: &RoomId,
        payload: Bytes,
        epoch: &Epoch,
        after: Seq,
    ) -> Result<Option<Publication>, BusError> {
        self.append(topic, payload, Some((epoch, after))).await
    }

    async fn notify(&self, topic: &RoomId, payload: Bytes) -> Result<(), BusError> {
        // The channel's message format with epoch `-` and sequence 0: nodes tell it from a
        // publication by the 0; no stream entry is written.
        let mut message = Vec::with_capacity(payload.len() + 4);
        message.extend_from_slice(b"- 0 ");
        message.extend_from_slice(&payload);
        let mut conn = self.commands.clone();
        let _: i64 =
            self.run(redis::cmd("PUBLISH").arg(self.keys.channel(topic)).arg(message).query_async(&mut conn)).await?;
        Ok(())
    }

    async fn subscribe(&self, topic: &RoomId) -> Result<(), BusError> {
        let channel = self.keys.channel(topic);
        self.shared.wanted.lock().expect("wanted lock").insert(channel.clone());
        let sink = self.shared.sink.lock().expect("sink lock").clone();
        // Without a connection now, the subscriber subscribes to every wanted channel when
        // it reconnects.
        if let Some(mut sink) = sink
            && let Err(e) = sink.subscribe(&channel).await
        {
            tracing::warn!(error = %e, %channel, "SUBSCRIBE failed; retried on reconnect");
        }
        Ok(())
    }

    async fn unsubscribe(&self, topic: &RoomId) -> Result<(), BusError> {
        let channel = self.keys.channel(topic);
        self.shared.wanted.lock().expect("wanted lock").remove(&channel);
        let sink = self.shared.sink.lock().expect("sink lock").clone();
        if let Some(mut sink) = sink {
            // A failure leaves a subscription that the next reconnect drops.
            let _ = sink.unsubscribe(&channel).await;
        }
        Ok(())
    }

    async fn history(&self, topic: &RoomId, after: Seq, limit: usize) -> Result<History, BusError> {
        let mut conn = self.commands.clone();
        let mut invocation = self.history_script.prepare_invoke();
        invocation
            .key(self.keys.epoch(topic))
            .key(self.keys.seq(topic))
            .key(self.keys.stream(topic))
            .arg(new_epoch())
            .arg(after.0)
            .arg(limit.max(1))
            .arg(STREAM_TTL.as_secs());
        let (epoch, latest, entries, oldest): (String, u64, Vec<StreamEntry>, Vec<StreamEntry>) =
            self.run(invocation.invoke_async(&mut conn)).await?;
        let epoch = Epoch::parse(epoch).map_err(|e| BusError::Unavailable(format!("bad epoch in Redis: {e}")))?;
        let latest = Seq(latest);
        let oldest = oldest.first().and_then(|(id, _)| entry_seq(id)).unwrap_or(latest.next());
        let publications = entries
            .into_iter()
            .filter_map(|(id, fields)| {
                let seq = entry_seq(&id)?;
                let payload = fields.chunks(2).find(|kv| kv[0] == b"p").and_then(|kv| kv.get(1))?;
                Some(Publication {
                    topic: topic.clone(),
                    epoch: epoch.clone(),
                    seq,
                    payload: Bytes::from(payload.clone()),
                })
            })
            .collect();
        Ok(History { epoch, latest, publications, complete: after.next() >= oldest })
    }

    async fn release(&self, _topic: &RoomId) -> Result<(), BusError> {
        // Other nodes may still use the stream; its keys expire after STREAM_TTL of quiet.
        Ok(())
    }

    fn take_lagged(&self) -> bool {
        self.shared.lagged.swap(false, Ordering::Relaxed)
    }

    fn is_healthy(&self) -> bool {
        self.shared.subscriber_up.load(Ordering::Relaxed) && self.shared.commands_ok.load(Ordering::Relaxed)
    }

    fn failures(&self) -> u64 {
        self.shared.failures.load(Ordering::Relaxed)
    }

    async fn exchange_presence(&self, reports: &[PresenceReport]) -> Result<Vec<PresenceTotals>, BusError> {
        if reports.is_empty() {
            // Still a round trip: it is how an idle node notices Redis came back.
            let mut conn = self.commands.clone();
            let _: String = self.run(redis::cmd("PING").query_async(&mut conn)).await?;
            return Ok(Vec::new());
        }
        let now = unix_millis();
        let mut pipe = redis::pipe();
        for report in reports {
            let presence = self.keys.presence(&report.room);
            let unique = self.keys.unique(&report.room);
            pipe.hset(&presence, &self.node, presence_value(report, now)).ignore();
            pipe.expire(&presence, PRESENCE_KEY_TTL.as_secs() as i64).ignore();
            if !report.new_users.is_empty() {
                let users: Vec<&str> = report.new_users.iter().map(|u| u.as_str()).collect();
                pipe.cmd("PFADD").arg(&unique).arg(users).ignore();
                pipe.expire(&unique, PRESENCE_KEY_TTL.as_secs() as i64).ignore();
            }
            pipe.hgetall(&presence);
            pipe.cmd("PFCOUNT").arg(&unique);
        }
        let mut conn = self.commands.clone();
        let replies: Vec<(Vec<(String, String)>, u64)> = self.run(pipe.query_async(&mut conn)).await?;
        Ok(replies
            .into_iter()
            .map(|(nodes, unique)| {
                let mut totals = presence_totals(&nodes, now, self.presence_ttl);
                totals.unique = u32::try_from(unique).unwrap_or(u32::MAX);
                totals
            })
            .collect())
    }

    async fn read_presence(&self, rooms: &[RoomId]) -> Result<Vec<PresenceTotals>, BusError> {
        if rooms.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for room in rooms {
            pipe.hgetall(self.keys.presence(room));
        }
        let mut conn = self.commands.clone();
        let replies: Vec<Vec<(String, String)>> = self.run(pipe.query_async(&mut conn)).await?;
        let now = unix_millis();
        Ok(replies.iter().map(|nodes| presence_totals(nodes, now, self.presence_ttl)).collect())
    }
}

/// A node's field in a presence hash: `<connections> <unix ms>`, and for a room that
/// watches users (a booth) ` <JSON [watched, on_duty]>`.
fn presence_value(report: &PresenceReport, now: i64) -> String {
    if report.watched.is_empty() && report.on_duty.is_empty() {
        return format!("{} {now}", report.present);
    }
    let extra = serde_json::to_string(&(&report.watched, &report.on_duty)).expect("user ids always serialise");
    format!("{} {now} {extra}", report.present)
}

/// The totals of a presence hash's fresh fields (`unique` left 0); a field that cannot be
/// read counts as absent.
fn presence_totals(nodes: &[(String, String)], now: i64, ttl: Duration) -> PresenceTotals {
    let fresh_after = now - i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    let mut totals = PresenceTotals::default();
    for (_, value) in nodes {
        let mut parts = value.splitn(3, ' ');
        let (Some(count), Some(at)) = (parts.next(), parts.next()) else { continue };
        let (Ok(count), Ok(at)) = (count.parse::<u32>(), at.parse::<i64>()) else { continue };
        if at < fresh_after {
            continue;
        }
        let (watched, on_duty): (Vec<UserId>, Vec<UserId>) =
            parts.next().and_then(|extra| serde_json::from_str(extra).ok()).unwrap_or_default();
        totals.add(count, &watched, &on_duty);
    }
    totals.finish()
}

/// The sequence number in a stream entry id `0-<seq>`.
fn entry_seq(id: &str) -> Option<Seq> {
    id.strip_prefix("0-")?.parse().ok().map(Seq)
}

/// `<epoch> <seq> <payload>` from a channel message.
fn parse_message(keys: &Keys, channel: &str, data: &[u8]) -> Option<Publication> {
    let topic = keys.room_of_channel(channel)?;
    let space = data.iter().position(|b| *b == b' ')?;
    let (epoch, rest) = (&data[..space], &data[space + 1..]);
    let space = rest.iter().position(|b| *b == b' ')?;
    let (seq, payload) = (&rest[..space], &rest[space + 1..]);
    let epoch = Epoch::parse(std::str::from_utf8(epoch).ok()?).ok()?;
    let seq = Seq(std::str::from_utf8(seq).ok()?.parse().ok()?);
    Some(Publication { topic, epoch, seq, payload: Bytes::copy_from_slice(payload) })
}

/// The node's subscription connection: connects (retrying with backoff), subscribes to
/// every wanted channel, forwards messages to the node's bounded inbox (a full inbox drops
/// and raises the lag flag), and starts over when the connection ends.
async fn subscriber(
    client: redis::Client,
    keys: Keys,
    shared: Arc<Shared>,
    inbox: mpsc::Sender<Publication>,
    shutdown: CancellationToken,
    mut ready: Option<tokio::sync::oneshot::Sender<()>>,
) {
    let mut attempt: u32 = 0;
    loop {
        let connected = tokio::select! {
            _ = shutdown.cancelled() => return,
            c = tokio::time::timeout(COMMAND_TIMEOUT, client.get_async_pubsub()) => c,
        };
        match connected {
            Ok(Ok(pubsub)) => {
                let (mut sink, mut stream) = pubsub.split();
                *shared.sink.lock().expect("sink lock") = Some(sink.clone());
                let channels: Vec<String> = shared.wanted.lock().expect("wanted lock").iter().cloned().collect();
                let subscribed = channels.is_empty() || sink.subscribe(&channels).await.is_ok();
                if subscribed {
                    if attempt > 0 {
                        tracing::info!(channels = channels.len(), "Redis subscription restored");
                    }
                    attempt = 0;
                    shared.subscriber_up.store(true, Ordering::Relaxed);
                    // Whatever was published while this node was not listening is in the
                    // streams: every room checks.
                    shared.lagged.store(true, Ordering::Relaxed);
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(());
                    }
                    loop {
                        let message = tokio::select! {
                            _ = shutdown.cancelled() => return,
                            m = stream.next() => m,
                        };
                        let Some(message) = message else { break };
                        let Some(publication) =
                            parse_message(&keys, message.get_channel_name(), message.get_payload_bytes())
                        else {
                            tracing::warn!(channel = message.get_channel_name(), "unreadable bus message");
                            continue;
                        };
                        if inbox.try_send(publication).is_err() {
                            shared.lagged.store(true, Ordering::Relaxed);
                        }
                    }
                }
                *shared.sink.lock().expect("sink lock") = None;
                if shared.subscriber_up.swap(false, Ordering::Relaxed) {
                    tracing::error!("lost the Redis subscription connection; reconnecting");
                }
            }
            Ok(Err(e)) => {
                if attempt == 0 {
                    tracing::error!(error = %e, "cannot open the Redis subscription connection; retrying");
                }
            }
            Err(_) => {
                if attempt == 0 {
                    tracing::error!("opening the Redis subscription connection timed out; retrying");
                }
            }
        }
        attempt = attempt.saturating_add(1);
        let ceiling = Duration::from_millis(100u64.saturating_mul(1 << attempt.min(6))).min(MAX_RECONNECT_DELAY);
        let delay = ceiling.mul_f64(0.5 + rand::random::<f64>() / 2.0);
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(delay) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_share_a_hash_tag_and_channels_map_back_to_rooms() {
        let keys = Keys::new("plenary:");
        let room = RoomId::session("opening").unwrap();
        assert_eq!(keys.seq(&room), "plenary:room:{session:opening}:seq");
        assert_eq!(keys.room_of_channel(&keys.channel(&room)), Some(room.clone()));
        assert_eq!(keys.room_of_channel("other:room:{session:opening}:live"), None);
    }

    #[test]
    fn channel_messages_parse() {
        let keys = Keys::new("p:");
        let room = RoomId::session("x").unwrap();
        let publication = parse_message(&keys, &keys.channel(&room), b"abc123 42 {\"type\":\"chat\"} x").unwrap();
        assert_eq!(publication.seq, Seq(42));
        assert_eq!(publication.epoch.as_str(), "abc123");
        assert_eq!(&publication.payload[..], b"{\"type\":\"chat\"} x");
        assert!(parse_message(&keys, &keys.channel(&room), b"no-seq").is_none());
        assert!(entry_seq("0-17") == Some(Seq(17)) && entry_seq("1-17").is_none());
    }
}
