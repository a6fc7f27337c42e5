//! A media worker: one OS thread with a single-threaded tokio runtime, owning one UDP socket
//! and every peer it serves. It waits on its socket, its command mailbox and the earliest
//! deadline of its peers; after each wake-up it drains every peer that received input or had
//! media written (str0m's rule: mutate, then poll to a timeout before the next mutation),
//! handles the events that produced (forwarding media, keyframe requests, renegotiation),
//! and sends the datagrams. Forwarding media and keyframe requests is `forward`'s.

mod forward;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::sync::Once;
use std::time::{Duration, Instant};

use str0m::bwe::{Bitrate, BweKind};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::media::{Direction, MediaKind, Mid, Rid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc, RtcConfig};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::layers::{self, Clock, Layer, Quality};
use crate::{Command, MediaConfig, MediaError, MediaEvent, PeerId, Source, StageId, Stats, TrackInfo};

/// How often a track's publisher is asked for a keyframe of one layer at most.
const KEYFRAME_INTERVAL: Duration = Duration::from_millis(500);
/// How long a layer's rate is measured over.
const RATE_WINDOW: Duration = Duration::from_secs(1);
/// Datagrams taken in one wake-up, at most, before the peers are drained.
const RECEIVE_BATCH: usize = 256;
/// The largest datagram read.
const DATAGRAM: usize = 2_000;

pub(crate) fn spawn(
    socket: std::net::UdpSocket,
    local: SocketAddr,
    config: MediaConfig,
    inbox: mpsc::Receiver<Command>,
    events: mpsc::Sender<MediaEvent>,
) -> std::io::Result<()> {
    static CRYPTO: Once = Once::new();
    CRYPTO.call_once(|| str0m::crypto::from_feature_flags().install_process_default());
    std::thread::Builder::new().name("plenary-media".into()).spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
        let Ok(runtime) = runtime else {
            tracing::error!("the media worker could not start its runtime");
            return;
        };
        runtime.block_on(async move {
            match UdpSocket::from_std(socket) {
                Ok(socket) => Worker::new(local, config, events).run(socket, inbox).await,
                Err(e) => tracing::error!(error = %e, "the media worker could not use its socket"),
            }
        });
    })?;
    Ok(())
}

struct Worker {
    local: SocketAddr,
    config: MediaConfig,
    /// Every peer's configuration: ICE-lite, one DTLS certificate for all, bandwidth
    /// estimation on.
    template: RtcConfig,
    events: mpsc::Sender<MediaEvent>,
    peers: HashMap<PeerId, Peer>,
    by_address: HashMap<SocketAddr, PeerId>,
    stages: HashMap<StageId, Stage>,
    stats: Stats,
    /// Peers that took input or media since they were last drained.
    dirty: Vec<PeerId>,
    /// Events drained from peers, not yet handled.
    queue: Vec<(PeerId, Event)>,
    transmits: Vec<(SocketAddr, Vec<u8>)>,
    /// Peers to drop once the current work is done.
    gone: Vec<PeerId>,
    /// Every peer's next deadline, earliest first (entries whose peer has moved its deadline
    /// since are skipped): the loop never scans every peer to find what is due.
    timers: BinaryHeap<Reverse<(Instant, PeerId)>>,
    /// When peers that never connected were last looked for.
    swept: Instant,
    /// Viewers served now (kept, not counted, so N joins cost O(N)).
    viewers: usize,
    /// Stages whose tracks changed since the hub was last told: told once per wake-up, so a
    /// speaker's camera and microphone arriving together make one event.
    stages_changed: Vec<StageId>,
}

struct Peer {
    rtc: Rtc,
    /// Where its datagrams come from, once one came.
    address: Option<SocketAddr>,
    stage: StageId,
    user: String,
    created: Instant,
    connected: bool,
    timeout: Instant,
    role: Role,
}

enum Role {
    Publisher { sources: HashMap<String, Source> },
    Subscriber(Subscriber),
}

struct Subscriber {
    quality: Quality,
    estimate: Option<f64>,
    outs: Vec<Out>,
    pending: Option<SdpPendingOffer>,
    /// Tracks changed while an offer was out: offer again after its answer.
    changed: bool,
}

/// One track a subscriber receives (or is being offered, or is losing).
struct Out {
    track: String,
    kind: MediaKind,
    user: String,
    mid: Option<Mid>,
    /// The subscriber answered an offer with it.
    open: bool,
    stopping: bool,
    sending: Option<Rid>,
    upgrade_since: Option<Instant>,
    keyframe_needed: bool,
    clock: Clock,
}

#[derive(Default)]
struct Stage {
    tracks: Vec<Track>,
    subscribers: Vec<PeerId>,
}

struct Track {
    id: String,
    publisher: PeerId,
    user: String,
    mid: Mid,
    kind: MediaKind,
    source: Source,
    /// Simulcast layers, lowest first once measured.
    layers: Vec<Layer>,
    window: HashMap<Option<Rid>, (u64, Instant)>,
    keyframe_asked: HashMap<Option<Rid>, Instant>,
}

impl Track {
    fn info(&self) -> TrackInfo {
        TrackInfo {
            id: self.id.clone(),
            user: self.user.clone(),
            source: self.source,
            layers: self.layers.iter().map(|l| l.rid.clone()).collect(),
        }
    }

    /// Counts a frame toward its layer's measured rate.
    fn observe(&mut self, rid: Option<Rid>, bytes: usize, now: Instant) {
        let entry = self.window.entry(rid).or_insert((0, now));
        entry.0 += bytes as u64;
        let elapsed = now.duration_since(entry.1);
        if elapsed >= RATE_WINDOW {
            let bitrate = entry.0 as f64 * 8.0 / elapsed.as_secs_f64();
            *entry = (0, now);
            if let Some(rid) = rid
                && let Some(layer) = self.layers.iter_mut().find(|l| l.rid == *rid)
            {
                layer.bitrate = if layer.bitrate == 0.0 { bitrate } else { layer.bitrate * 0.7 + bitrate * 0.3 };
                self.layers = layers::ordered(std::mem::take(&mut self.layers));
            }
        }
    }

    /// Whether a keyframe of `rid` may be asked for now (at most every [`KEYFRAME_INTERVAL`]).
    fn may_ask_keyframe(&mut self, rid: Option<Rid>, now: Instant) -> bool {
        match self.keyframe_asked.get(&rid) {
            Some(at) if now.duration_since(*at) < KEYFRAME_INTERVAL => false,
            _ => {
                self.keyframe_asked.insert(rid, now);
                true
            }
        }
    }
}

fn kind_of(source: Source) -> MediaKind {
    if source.is_video() { MediaKind::Video } else { MediaKind::Audio }
}

impl Worker {
    fn new(local: SocketAddr, config: MediaConfig, events: mpsc::Sender<MediaEvent>) -> Worker {
        let mut template = Rtc::builder().set_ice_lite(true).enable_bwe(Some(Bitrate::kbps(600)));
        match str0m::crypto::from_feature_flags().dtls_provider.generate_certificate() {
            Some(cert) => template = template.set_dtls_cert(cert),
            None => tracing::warn!("no shared DTLS certificate: each peer makes its own"),
        }
        Worker {
            local,
            config,
            template,
            events,
            peers: HashMap::new(),
            by_address: HashMap::new(),
            stages: HashMap::new(),
            stats: Stats::default(),
            dirty: Vec::new(),
            queue: Vec::new(),
            transmits: Vec::new(),
            gone: Vec::new(),
            timers: BinaryHeap::new(),
            swept: Instant::now(),
            viewers: 0,
            stages_changed: Vec::new(),
        }
    }

    async fn run(mut self, socket: UdpSocket, mut inbox: mpsc::Receiver<Command>) {
        let mut buf = vec![0u8; DATAGRAM];
        loop {
            let deadline = self.next_deadline();
            tokio::select! {
                command = inbox.recv() => match command {
                    Some(command) => self.command(command),
                    None => return,
                },
                received = socket.recv_from(&mut buf) => match received {
                    Ok((n, source)) => {
                        self.receive(&buf[..n], source);
                        // Whatever else has arrived is taken before the peers are drained:
                        // one drain serves a burst.
                        for _ in 0..RECEIVE_BATCH {
                            let Ok((n, source)) = socket.try_recv_from(&mut buf) else { break };
                            self.receive(&buf[..n], source);
                        }
                    }
                    Err(e) => tracing::debug!(error = %e, "media socket read failed"),
                },
                _ = tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)) => {}
            }
            // Whatever woke the worker, deadlines that passed meanwhile are served now.
            self.tick();
            self.settle();
            self.announce_tracks();
            for (destination, datagram) in self.transmits.drain(..) {
                if let Err(e) = socket.send_to(&datagram, destination).await {
                    tracing::debug!(error = %e, "media datagram not sent");
                }
            }
        }
    }

    fn next_deadline(&mut self) -> Instant {
        let idle = Instant::now() + Duration::from_secs(1);
        while let Some(Reverse((at, id))) = self.timers.peek().copied() {
            if self.peers.get(&id).is_some_and(|p| p.timeout == at) {
                return at.min(idle);
            }
            self.timers.pop();
        }
        idle
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Publish { stage, peer, user, offer, sources, reply } => {
                let _ = reply.send(self.publish(stage, peer, user, &offer, sources));
            }
            Command::Subscribe { stage, peer, user, quality, reply } => {
                let _ = reply.send(self.subscribe(stage, peer, user, quality));
            }
            Command::Answer { peer, answer, reply } => {
                let _ = reply.send(self.answer(peer, &answer));
            }
            Command::SetQuality { peer, quality, reply } => {
                let _ = reply.send(self.set_quality(peer, quality));
            }
            Command::Close { peer } => self.close(peer, false),
            Command::Stats { reply } => {
                let mut stats = self.stats;
                stats.publishers =
                    self.peers.values().filter(|p| matches!(p.role, Role::Publisher { .. })).count() as u64;
                stats.subscribers = self.peers.len() as u64 - stats.publishers;
                stats.tracks = self.stages.values().map(|s| s.tracks.len() as u64).sum();
                stats.cpu_millis = thread_cpu_millis().unwrap_or(0);
                let _ = reply.send(stats);
            }
        }
    }

    fn new_rtc(&self) -> Result<Rtc, MediaError> {
        let mut rtc = self.template.clone().build(Instant::now());
        let candidate = Candidate::host(self.local, "udp").map_err(|e| MediaError::BadSdp(e.to_string()))?;
        rtc.add_local_candidate(candidate);
        Ok(rtc)
    }

    fn publish(
        &mut self,
        stage: StageId,
        id: PeerId,
        user: String,
        offer: &str,
        sources: Vec<(String, Source)>,
    ) -> Result<String, MediaError> {
        let offer = SdpOffer::from_sdp_string(offer).map_err(|e| MediaError::BadSdp(e.to_string()))?;
        if let Some(peer) = self.peers.get_mut(&id) {
            // A publisher offering again (a track added or stopped).
            let Role::Publisher { sources: known } = &mut peer.role else { return Err(MediaError::PeerExists(id)) };
            known.extend(sources);
            let answer = peer.rtc.sdp_api().accept_offer(offer).map_err(|e| MediaError::BadSdp(e.to_string()))?;
            self.dirty.push(id);
            return Ok(answer.to_sdp_string());
        }
        let mut rtc = self.new_rtc()?;
        let answer = rtc.sdp_api().accept_offer(offer).map_err(|e| MediaError::BadSdp(e.to_string()))?;
        let now = Instant::now();
        let role = Role::Publisher { sources: sources.into_iter().collect() };
        self.peers.insert(
            id,
            Peer {
                rtc,
                address: None,
                stage: stage.clone(),
                user,
                created: now,
                connected: false,
                timeout: now + Duration::from_secs(3600),
                role,
            },
        );
        self.stages.entry(stage).or_default();
        self.dirty.push(id);
        Ok(answer.to_sdp_string())
    }

    fn subscribe(
        &mut self,
        stage_id: StageId,
        id: PeerId,
        user: String,
        quality: Quality,
    ) -> Result<String, MediaError> {
        if self.peers.contains_key(&id) {
            return Err(MediaError::PeerExists(id));
        }
        if self.viewers >= self.config.max_subscribers {
            return Err(MediaError::Full(self.config.max_subscribers));
        }
        let mut rtc = self.new_rtc()?;
        let stage = self.stages.entry(stage_id.clone()).or_default();
        // A speaker watching the stage is not sent their own tracks.
        let mut outs: Vec<Out> =
            stage.tracks.iter().filter(|t| wanted(quality, t.source) && t.user != user).map(new_out).collect();
        let mut api = rtc.sdp_api();
        // A data channel, so the transport comes up even while the stage has no tracks.
        api.add_channel("stage".into());
        for out in &mut outs {
            out.mid = Some(api.add_media(
                out.kind,
                Direction::SendOnly,
                Some(out.user.clone()),
                Some(out.track.clone()),
                None,
            ));
        }
        let Some((offer, pending)) = api.apply() else { return Err(MediaError::NoPendingOffer) };
        stage.subscribers.push(id);
        self.viewers += 1;
        let now = Instant::now();
        let subscriber = Subscriber { quality, estimate: None, outs, pending: Some(pending), changed: false };
        self.peers.insert(
            id,
            Peer {
                rtc,
                address: None,
                stage: stage_id,
                user,
                created: now,
                connected: false,
                timeout: now + Duration::from_secs(3600),
                role: Role::Subscriber(subscriber),
            },
        );
        self.dirty.push(id);
        Ok(offer.to_sdp_string())
    }

    fn answer(&mut self, id: PeerId, answer: &str) -> Result<(), MediaError> {
        let answer = SdpAnswer::from_sdp_string(answer).map_err(|e| MediaError::BadSdp(e.to_string()))?;
        let peer = self.peers.get_mut(&id).ok_or(MediaError::NoPeer(id))?;
        let Role::Subscriber(subscriber) = &mut peer.role else { return Err(MediaError::NoPendingOffer) };
        let pending = subscriber.pending.take().ok_or(MediaError::NoPendingOffer)?;
        peer.rtc.sdp_api().accept_answer(pending, answer).map_err(|e| MediaError::BadSdp(e.to_string()))?;
        subscriber.outs.retain(|o| !o.stopping);
        for out in &mut subscriber.outs {
            if out.mid.is_some() && !out.open {
                out.open = true;
                out.keyframe_needed = out.kind == MediaKind::Video;
            }
        }
        let again = std::mem::take(&mut subscriber.changed);
        self.dirty.push(id);
        if again {
            self.renegotiate(id);
        }
        Ok(())
    }

    fn set_quality(&mut self, id: PeerId, quality: Quality) -> Result<(), MediaError> {
        let peer = self.peers.get_mut(&id).ok_or(MediaError::NoPeer(id))?;
        let Role::Subscriber(subscriber) = &mut peer.role else { return Err(MediaError::NoPeer(id)) };
        let before = subscriber.quality;
        subscriber.quality = quality;
        if (before == Quality::AudioOnly) == (quality == Quality::AudioOnly) {
            return Ok(());
        }
        let stage = self.stages.get(&peer.stage);
        for out in &mut subscriber.outs {
            out.stopping |= out.kind == MediaKind::Video && quality == Quality::AudioOnly;
        }
        if quality != Quality::AudioOnly {
            for track in stage.map(|s| s.tracks.as_slice()).unwrap_or_default() {
                if track.user != peer.user && !subscriber.outs.iter().any(|o| o.track == track.id && !o.stopping) {
                    subscriber.outs.push(new_out(track));
                }
            }
        }
        self.renegotiate(id);
        Ok(())
    }

    /// Offers a subscriber its tracks as they now are, unless an offer is out (then after
    /// its answer).
    fn renegotiate(&mut self, id: PeerId) {
        let Some(peer) = self.peers.get_mut(&id) else { return };
        let Role::Subscriber(subscriber) = &mut peer.role else { return };
        if subscriber.pending.is_some() {
            subscriber.changed = true;
            return;
        }
        // Tracks never offered and already gone need no offer.
        subscriber.outs.retain(|o| !(o.stopping && o.mid.is_none()));
        let mut api = peer.rtc.sdp_api();
        for out in &mut subscriber.outs {
            if out.stopping {
                if let Some(mid) = out.mid {
                    api.stop_media(mid);
                }
            } else if out.mid.is_none() {
                out.mid = Some(api.add_media(
                    out.kind,
                    Direction::SendOnly,
                    Some(out.user.clone()),
                    Some(out.track.clone()),
                    None,
                ));
            }
        }
        if let Some((offer, pending)) = api.apply() {
            subscriber.pending = Some(pending);
            self.emit(MediaEvent::Offer { peer: id, sdp: offer.to_sdp_string() });
        }
        self.dirty.push(id);
    }

    fn receive(&mut self, datagram: &[u8], source: SocketAddr) {
        self.stats.bytes_in += datagram.len() as u64;
        let Ok(contents) = datagram.try_into() else { return };
        let now = Instant::now();
        let input = Input::Receive(now, Receive { proto: Protocol::Udp, source, destination: self.local, contents });
        let known = self
            .by_address
            .get(&source)
            .copied()
            .filter(|id| self.peers.get(id).is_some_and(|p| p.rtc.accepts(&input)));
        let Some(id) = known.or_else(|| self.peers.iter().find(|(_, p)| p.rtc.accepts(&input)).map(|(id, _)| *id))
        else {
            return;
        };
        let peer = self.peers.get_mut(&id).expect("a peer found above");
        if peer.address != Some(source) {
            // A peer that moved (a NAT rebinding) leaves its old address behind.
            if let Some(old) = peer.address.replace(source) {
                self.by_address.remove(&old);
            }
            self.by_address.insert(source, id);
        }
        if let Err(e) = peer.rtc.handle_input(input) {
            tracing::debug!(peer = id.0, error = %e, "media peer refused a datagram");
            self.gone.push(id);
        }
        // Drained at once: str0m wants each input polled out before the next, and the next
        // datagram of a burst may be this peer's.
        self.drain(id);
    }

    /// Gives every peer whose deadline passed its timeout; once a second, drops peers that
    /// never connected.
    fn tick(&mut self) {
        let now = Instant::now();
        while let Some(Reverse((at, id))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            let Some(peer) = self.peers.get_mut(&id) else { continue };
            if peer.timeout != at {
                continue;
            }
            // Moved past any value the next drain can return, so that drain always schedules
            // the peer again.
            peer.timeout = now + Duration::from_secs(3600);
            if peer.rtc.handle_input(Input::Timeout(now)).is_err() {
                self.gone.push(id);
            }
            self.dirty.push(id);
        }
        if now.duration_since(self.swept) >= Duration::from_secs(1) {
            self.swept = now;
            let connect_timeout = self.config.connect_timeout;
            for (id, peer) in &self.peers {
                if !peer.connected && now.duration_since(peer.created) > connect_timeout {
                    self.gone.push(*id);
                }
            }
        }
    }

    /// Drains dirty peers and handles their events until nothing is left to do.
    fn settle(&mut self) {
        loop {
            while !self.dirty.is_empty() || !self.queue.is_empty() {
                let mut dirty = std::mem::take(&mut self.dirty);
                dirty.sort_unstable();
                dirty.dedup();
                for id in dirty {
                    self.drain(id);
                }
                for (id, event) in std::mem::take(&mut self.queue) {
                    self.on_event(id, event);
                }
            }
            if self.gone.is_empty() {
                return;
            }
            // A peer gone takes its tracks off its viewers, whose new offers are drained in
            // the next round rather than at the next wake-up.
            for id in std::mem::take(&mut self.gone) {
                self.close(id, true);
            }
        }
    }

    fn drain(&mut self, id: PeerId) {
        let Some(peer) = self.peers.get_mut(&id) else { return };
        if !peer.rtc.is_alive() {
            self.gone.push(id);
            return;
        }
        loop {
            match peer.rtc.poll_output() {
                Ok(Output::Timeout(at)) => {
                    if peer.timeout != at {
                        peer.timeout = at;
                        self.timers.push(Reverse((at, id)));
                    }
                    return;
                }
                Ok(Output::Transmit(t)) => {
                    self.stats.bytes_out += t.contents.len() as u64;
                    self.transmits.push((t.destination, t.contents.into()));
                }
                Ok(Output::Event(event)) => self.queue.push((id, event)),
                Err(e) => {
                    tracing::debug!(peer = id.0, error = %e, "media peer failed");
                    self.gone.push(id);
                    return;
                }
            }
        }
    }

    fn on_event(&mut self, id: PeerId, event: Event) {
        match event {
            Event::Connected => {
                if let Some(peer) = self.peers.get_mut(&id) {
                    peer.connected = true;
                }
                self.ask_keyframes_for(id);
            }
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => self.gone.push(id),
            Event::MediaAdded(added) => self.track_added(id, added.mid, added.kind, added.simulcast),
            Event::MediaChanged(changed) if !changed.direction.is_receiving() => self.track_removed(id, changed.mid),
            Event::MediaData(data) => self.forward(id, data),
            Event::KeyframeRequest(request) => self.keyframe_requested(id, request.mid),
            Event::EgressBitrateEstimate(BweKind::Twcc { estimate, .. }) => {
                if let Some(Peer { role: Role::Subscriber(subscriber), .. }) = self.peers.get_mut(&id) {
                    subscriber.estimate = Some(estimate.as_f64());
                }
            }
            _ => {}
        }
    }

    fn track_added(&mut self, id: PeerId, mid: Mid, kind: MediaKind, simulcast: Option<str0m::media::Simulcast>) {
        let Some(peer) = self.peers.get(&id) else { return };
        let Role::Publisher { sources } = &peer.role else { return };
        let default = if kind == MediaKind::Audio { Source::Microphone } else { Source::Camera };
        let source = sources.get(&mid.to_string()).copied().unwrap_or(default);
        if kind_of(source) != kind {
            tracing::debug!(peer = id.0, "a track's declared source does not match its kind: ignored");
            return;
        }
        let layers: Vec<Layer> = simulcast
            .map(|s| s.recv.iter().map(|l| Layer { rid: l.rid.to_string(), bitrate: 0.0 }).collect())
            .unwrap_or_default();
        let track = Track {
            id: format!("{}-{mid}", id.0),
            publisher: id,
            user: peer.user.clone(),
            mid,
            kind,
            source,
            layers: layers::ordered(layers),
            window: HashMap::new(),
            keyframe_asked: HashMap::new(),
        };
        let stage_id = peer.stage.clone();
        let stage = self.stages.entry(stage_id.clone()).or_default();
        if stage.tracks.iter().any(|t| t.publisher == id && t.mid == mid) {
            return;
        }
        let viewers = stage.subscribers.clone();
        for viewer in &viewers {
            if let Some(Peer { role: Role::Subscriber(subscriber), user, .. }) = self.peers.get_mut(viewer)
                && wanted(subscriber.quality, source)
                && *user != track.user
            {
                subscriber.outs.push(new_out(&track));
            }
        }
        stage.tracks.push(track);
        self.tracks_changed(&stage_id);
        for viewer in viewers {
            self.renegotiate(viewer);
        }
    }

    fn track_removed(&mut self, id: PeerId, mid: Mid) {
        let Some(stage_id) = self.peers.get(&id).map(|p| p.stage.clone()) else { return };
        let Some(stage) = self.stages.get_mut(&stage_id) else { return };
        let Some(index) = stage.tracks.iter().position(|t| t.publisher == id && t.mid == mid) else { return };
        let track = stage.tracks.remove(index);
        self.drop_tracks(&stage_id, &[track.id]);
    }

    /// Takes tracks off every viewer of the stage and tells the hub.
    fn drop_tracks(&mut self, stage_id: &str, tracks: &[String]) {
        let viewers = self.stages.get(stage_id).map(|s| s.subscribers.clone()).unwrap_or_default();
        for viewer in viewers {
            if let Some(Peer { role: Role::Subscriber(subscriber), .. }) = self.peers.get_mut(&viewer) {
                for out in subscriber.outs.iter_mut().filter(|o| tracks.contains(&o.track)) {
                    out.stopping = true;
                }
            }
            self.renegotiate(viewer);
        }
        self.tracks_changed(stage_id);
    }

    fn tracks_changed(&mut self, stage_id: &str) {
        if !self.stages_changed.iter().any(|s| s == stage_id) {
            self.stages_changed.push(stage_id.to_owned());
        }
    }

    /// Tells the hub the tracks of every stage that changed.
    fn announce_tracks(&mut self) {
        for stage_id in std::mem::take(&mut self.stages_changed) {
            let tracks =
                self.stages.get(&stage_id).map(|s| s.tracks.iter().map(Track::info).collect()).unwrap_or_default();
            self.emit(MediaEvent::Tracks { stage: stage_id, tracks });
        }
    }

    /// Drops a peer: a publisher's tracks leave its stage, a viewer leaves its stage's list.
    fn close(&mut self, id: PeerId, tell: bool) {
        let Some(mut peer) = self.peers.remove(&id) else { return };
        peer.rtc.disconnect();
        if let Some(address) = peer.address {
            self.by_address.remove(&address);
        }
        if matches!(peer.role, Role::Subscriber(_)) {
            self.viewers -= 1;
        }
        if let Some(stage) = self.stages.get_mut(&peer.stage) {
            stage.subscribers.retain(|s| *s != id);
            let removed: Vec<String> =
                stage.tracks.iter().filter(|t| t.publisher == id).map(|t| t.id.clone()).collect();
            stage.tracks.retain(|t| t.publisher != id);
            if !removed.is_empty() {
                self.drop_tracks(&peer.stage, &removed);
            }
            if self.stages.get(&peer.stage).is_some_and(|s| s.tracks.is_empty() && s.subscribers.is_empty()) {
                self.stages.remove(&peer.stage);
            }
        }
        if tell {
            self.emit(MediaEvent::Closed { peer: id });
        }
    }

    fn emit(&self, event: MediaEvent) {
        if let Err(e) = self.events.try_send(event) {
            tracing::warn!(error = %e, "the hub is not taking media events: one dropped");
        }
    }
}

/// Whether a viewer asking for `quality` receives a track from `source`.
fn wanted(quality: Quality, source: Source) -> bool {
    quality != Quality::AudioOnly || !source.is_video()
}

fn new_out(track: &Track) -> Out {
    Out {
        track: track.id.clone(),
        kind: track.kind,
        user: track.user.clone(),
        mid: None,
        open: false,
        stopping: false,
        sending: None,
        upgrade_since: None,
        keyframe_needed: track.kind == MediaKind::Video,
        clock: Clock::default(),
    }
}

/// The CPU time this worker's thread has used, in milliseconds (Linux: `/proc/thread-self`).
fn thread_cpu_millis() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name (which may hold spaces): utime and stime are the 12th
    // and 13th, in clock ticks of 10 ms.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks * 10)
}
