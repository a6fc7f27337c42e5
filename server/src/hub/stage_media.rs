//! The hub's side of the WebRTC stage: the node's media plane (`plenary-media`, an embedded
//! SFU on its own thread), which connection each media peer belongs to, and the task that
//! turns the plane's events into frames (a viewer's new offer) and room events (the stage's
//! tracks). The session room decides who may publish or view; this module carries it out off
//! the room's actor, so SDP work never holds up a room.

use std::sync::Arc;

use dashmap::DashMap;
use plenary_media::{MediaError, MediaEvent, MediaPlane, PeerId as MediaPeer, Quality, Source};
use plenary_proto::{
    ErrorCode, PublishedTrack, RequestId, RoomEvent, RoomId, ServerMsg, StageQuality, StageTrack, TrackSource, UserId,
    UserProfile,
};
use tokio::sync::mpsc;

use super::peer::{Peer, PeerId};
use super::{Hub, RoomCmd};

/// The node's media plane and who its peers are.
pub struct StageMedia {
    plane: MediaPlane,
    /// Each media peer's connection, room and user.
    peers: DashMap<MediaPeer, (Arc<Peer>, RoomId, UserId)>,
    /// Publishers' names, for the stage's track list.
    names: DashMap<String, String>,
}

impl std::fmt::Debug for StageMedia {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StageMedia").field("address", &self.plane.address()).field("peers", &self.peers.len()).finish()
    }
}

/// The user the demo stage's clip is published as.
const DEMO_SPEAKER: &str = "plenary-demo";

/// A publisher's offer for a room's stage.
#[derive(Debug)]
pub(crate) struct Offer {
    pub(crate) room: RoomId,
    pub(crate) rid: RequestId,
    pub(crate) sdp: String,
    pub(crate) tracks: Vec<PublishedTrack>,
}

/// A connection publishes and views through two media peers of its own.
fn publisher(connection: PeerId) -> MediaPeer {
    MediaPeer(connection * 2 + 1)
}

fn viewer(connection: PeerId) -> MediaPeer {
    MediaPeer(connection * 2)
}

/// The wire's stage quality as the plane's.
fn quality(quality: StageQuality) -> Quality {
    match quality {
        StageQuality::Auto => Quality::Auto,
        StageQuality::Low => Quality::Low,
        StageQuality::AudioOnly => Quality::AudioOnly,
    }
}

fn source(source: TrackSource) -> Source {
    match source {
        TrackSource::Camera => Source::Camera,
        TrackSource::Microphone => Source::Microphone,
        TrackSource::Screen => Source::Screen,
    }
}

fn track_source(source: Source) -> TrackSource {
    match source {
        Source::Camera => TrackSource::Camera,
        Source::Microphone => TrackSource::Microphone,
        Source::Screen => TrackSource::Screen,
    }
}

/// The `error` a refused media command gets.
fn refusal(rid: RequestId, error: &MediaError) -> ServerMsg {
    let code = match error {
        MediaError::BadSdp(_) => ErrorCode::Invalid,
        MediaError::NoPeer(_) => ErrorCode::NotFound,
        MediaError::PeerExists(_) | MediaError::NoPendingOffer => ErrorCode::Conflict,
        MediaError::Full(_) | MediaError::Stopped => ErrorCode::Unavailable,
    };
    ServerMsg::Error { rid: Some(rid), code, message: error.to_string(), retry_after_ms: None }
}

impl StageMedia {
    /// Starts the plane where the settings say; `None` when the node has no WebRTC stage.
    pub(crate) fn start(
        settings: &crate::config::Settings,
    ) -> anyhow::Result<Option<(StageMedia, mpsc::Receiver<MediaEvent>)>> {
        let Some(bind) = settings.media_address()? else { return Ok(None) };
        let config = plenary_media::MediaConfig {
            bind,
            advertise: settings.media_advertise,
            max_subscribers: settings.media_max_viewers,
            ..plenary_media::MediaConfig::default()
        };
        let (plane, events) = MediaPlane::start(config)
            .map_err(|e| anyhow::anyhow!("the stage's media worker cannot bind UDP {bind}: {e}"))?;
        tracing::info!(address = %plane.address(), "stage media worker listening (UDP)");
        let media = StageMedia { plane, peers: DashMap::new(), names: DashMap::new() };
        Ok(Some((media, events)))
    }

    /// Publishes the caller's offer to `room`'s stage and answers it, in a task of its own.
    pub(crate) fn publish(self: &Arc<Self>, hub: &Hub, peer: &Arc<Peer>, profile: &UserProfile, offer: Offer) {
        let Offer { room, rid, sdp, tracks } = offer;
        let (media, peer) = (self.clone(), peer.clone());
        let (user, name, profile_id) = (profile.id.to_string(), profile.name.clone(), profile.id.clone());
        let sources = tracks.into_iter().map(|t| (t.mid, source(t.source))).collect();
        hub.ctx.tracker.spawn(async move {
            let id = publisher(peer.id);
            media.names.insert(user.clone(), name);
            let answer = match media.plane.publish(room.as_str(), id, &user, sdp, sources).await {
                Ok(sdp) => {
                    media.peers.insert(id, (peer.clone(), room.clone(), profile_id));
                    ServerMsg::MediaPublished { rid, room, sdp }
                }
                Err(e) => refusal(rid, &e),
            };
            let _ = peer.send_msg(&answer);
        });
    }

    /// Makes the caller a viewer of `room`'s stage: the first offer answers `rid`.
    pub(crate) fn view(
        self: &Arc<Self>,
        hub: &Hub,
        peer: &Arc<Peer>,
        (user, room): (&UserId, &RoomId),
        rid: RequestId,
        wanted: StageQuality,
    ) {
        let (media, peer, room, viewer_user) = (self.clone(), peer.clone(), room.clone(), user.clone());
        let user = user.to_string();
        hub.ctx.tracker.spawn(async move {
            let id = viewer(peer.id);
            let answer = match media.plane.subscribe(room.as_str(), id, &user, quality(wanted)).await {
                Ok(sdp) => {
                    media.peers.insert(id, (peer.clone(), room.clone(), viewer_user));
                    ServerMsg::MediaOffer { rid: Some(rid), room, sdp }
                }
                Err(e) => refusal(rid, &e),
            };
            let _ = peer.send_msg(&answer);
        });
    }

    /// A viewer's answer to its last offer.
    pub(crate) fn answer(self: &Arc<Self>, hub: &Hub, peer: &Arc<Peer>, rid: RequestId, sdp: String) {
        let (media, peer) = (self.clone(), peer.clone());
        hub.ctx.tracker.spawn(async move {
            let answer = match media.plane.answer(viewer(peer.id), sdp).await {
                Ok(()) => ServerMsg::Ack { rid },
                Err(MediaError::NoPeer(_)) => refusal(rid, &MediaError::NoPendingOffer),
                Err(e) => refusal(rid, &e),
            };
            let _ = peer.send_msg(&answer);
        });
    }

    pub(crate) fn set_quality(self: &Arc<Self>, hub: &Hub, peer: &Arc<Peer>, rid: RequestId, wanted: StageQuality) {
        let (media, peer) = (self.clone(), peer.clone());
        hub.ctx.tracker.spawn(async move {
            let answer = match media.plane.set_quality(viewer(peer.id), quality(wanted)).await {
                Ok(()) => ServerMsg::Ack { rid },
                Err(e) => refusal(rid, &e),
            };
            let _ = peer.send_msg(&answer);
        });
    }

    /// Ends the connection's publishing and viewing in `room` (every room when `None`).
    pub(crate) async fn stop(&self, connection: PeerId, room: Option<&RoomId>) {
        for id in [publisher(connection), viewer(connection)] {
            let in_room = self.peers.get(&id).is_some_and(|entry| room.is_none_or(|r| entry.1 == *r));
            if in_room {
                self.peers.remove(&id);
                self.plane.close(id).await;
            }
        }
    }

    pub(crate) fn plane(&self) -> &MediaPlane {
        &self.plane
    }

    /// Loops the demo clip as a speaker on each of `sessions` whose stage is WebRTC, until
    /// the node stops: the demo event's live sessions play offline on first run.
    pub(crate) fn start_demo(&self, hub: &Hub, sessions: &[&str]) {
        let Some(index) = &hub.ctx.sessions else { return };
        self.names.insert(DEMO_SPEAKER.to_owned(), "Demo speaker".to_owned());
        for (n, slug) in sessions.iter().enumerate().filter(|(_, slug)| index.webrtc_stage(slug)) {
            let Ok(room) = RoomId::session(slug) else { continue };
            let until = hub.ctx.shutdown.clone().cancelled_owned();
            // Media peer ids from the top down: connections count up from 1.
            let peer = MediaPeer(u64::MAX - n as u64);
            let publishing = plenary_media::demo::publish_loop(
                self.plane.clone(),
                room.to_string(),
                peer,
                DEMO_SPEAKER.to_owned(),
                until,
            );
            hub.ctx.tracker.spawn(publishing);
            tracing::info!(%room, "the demo stage plays its clip");
        }
    }

    /// Stops `user`'s publishing to `room`'s stage on this node (a moderator took them off).
    pub(crate) async fn stop_user(&self, room: &RoomId, user: &UserId) {
        let ids: Vec<MediaPeer> = self
            .peers
            .iter()
            .filter(|e| e.key().0 % 2 == 1 && e.value().1 == *room && e.value().2 == *user)
            .map(|e| *e.key())
            .collect();
        for id in ids {
            self.peers.remove(&id);
            self.plane.close(id).await;
        }
    }

    /// Ends every publishing and viewing of `room` on this node (its session ended).
    pub(crate) async fn stop_room(&self, room: &RoomId) {
        let ids: Vec<MediaPeer> = self.peers.iter().filter(|e| e.value().1 == *room).map(|e| *e.key()).collect();
        for id in ids {
            self.peers.remove(&id);
            self.plane.close(id).await;
        }
    }

    /// Turns the plane's events into frames and room events, until the plane stops.
    pub(crate) async fn relay(self: Arc<Self>, hub: Hub, mut events: mpsc::Receiver<MediaEvent>) {
        let shutdown = hub.ctx.shutdown.clone();
        loop {
            let event = tokio::select! {
                _ = shutdown.cancelled() => return,
                event = events.recv() => match event {
                    Some(event) => event,
                    None => return,
                },
            };
            match event {
                MediaEvent::Offer { peer, sdp } => {
                    if let Some(entry) = self.peers.get(&peer) {
                        let (connection, room, _) = entry.value();
                        let _ = connection.send_msg(&ServerMsg::MediaOffer { rid: None, room: room.clone(), sdp });
                    }
                }
                MediaEvent::Closed { peer } => {
                    self.peers.remove(&peer);
                }
                MediaEvent::Tracks { stage, tracks } => {
                    let Ok(room) = RoomId::parse(stage) else { continue };
                    let tracks = tracks
                        .into_iter()
                        .filter_map(|t| {
                            let user = UserId::parse(t.user.clone()).ok()?;
                            let name = self.names.get(&t.user).map(|n| n.clone()).unwrap_or_else(|| t.user.clone());
                            Some(StageTrack { id: t.id, user, name, source: track_source(t.source), layers: t.layers })
                        })
                        .collect();
                    let event = RoomEvent::StageTracks { tracks };
                    if let Err(e) = hub.send(&room, RoomCmd::Publish(event)).await {
                        tracing::warn!(%room, error = %e, "the stage's tracks could not reach its room");
                    }
                }
            }
        }
    }
}
