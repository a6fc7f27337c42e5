//! Forwarding inside a worker: a publisher's frame to every viewer of its track, on the
//! simulcast layer each one gets, and the keyframe requests that a viewer's start, loss or
//! layer switch needs from the publisher (at most one per layer every `KEYFRAME_INTERVAL`).

use std::time::Instant;

use str0m::media::{KeyframeRequestKind, MediaData, MediaKind, MediaTime, Mid, Rid};

use super::{Out, Peer, Role, Track, Worker};
use crate::PeerId;
use crate::layers::{self, Quality, UPGRADE_AFTER};

impl Worker {
    /// Writes a publisher's frame to every viewer that receives its track, on the layer each
    /// one gets; asks for keyframes where a viewer must switch or start.
    pub(super) fn forward(&mut self, id: PeerId, data: MediaData) {
        let now = Instant::now();
        self.stats.frames_in += 1;
        let Worker { peers, stages, stats, dirty, .. } = self;
        let Some(stage_id) = peers.get(&id).map(|p| p.stage.clone()) else { return };
        let Some(stage) = stages.get_mut(&stage_id) else { return };
        let Some(track) = stage.tracks.iter_mut().find(|t| t.publisher == id && t.mid == data.mid) else { return };
        track.observe(data.rid, data.data.len(), now);
        let keyframe = track.kind == MediaKind::Video && data.is_keyframe();
        let mut keyframes_wanted: Vec<Option<Rid>> = Vec::new();
        for viewer in &stage.subscribers {
            let Some(Peer { rtc, role: Role::Subscriber(subscriber), connected: true, .. }) = peers.get_mut(viewer)
            else {
                continue;
            };
            let Some(out) = subscriber.outs.iter_mut().find(|o| o.track == track.id && o.open && !o.stopping) else {
                continue;
            };
            if !track.layers.is_empty() {
                let target = choose_layer(track, subscriber.quality, subscriber.estimate, out, now);
                if out.sending != target {
                    if data.rid == target && keyframe {
                        if out.sending.is_some() {
                            stats.layer_switches += 1;
                        }
                        out.clock.switch(data.time.numer());
                        out.sending = target;
                        out.keyframe_needed = false;
                    } else {
                        keyframes_wanted.push(target);
                    }
                }
                if data.rid != out.sending {
                    continue;
                }
            }
            if out.keyframe_needed {
                if !keyframe {
                    keyframes_wanted.push(data.rid);
                    continue;
                }
                out.keyframe_needed = false;
            }
            let Some(mid) = out.mid else { continue };
            let Some(writer) = rtc.writer(mid) else { continue };
            let Some(pt) = writer.match_params(data.params) else { continue };
            let time = MediaTime::new(out.clock.write(data.time.numer()), data.time.frequency());
            if writer.write(pt, data.network_time, time, data.data.clone()).is_ok() {
                stats.frames_out += 1;
                dirty.push(*viewer);
            }
        }
        keyframes_wanted.sort_unstable_by_key(|rid| rid.map(|r| r.to_string()));
        keyframes_wanted.dedup();
        let track_mid = track.mid;
        let asks: Vec<Option<Rid>> =
            keyframes_wanted.into_iter().filter(|rid| track.may_ask_keyframe(*rid, now)).collect();
        for rid in asks {
            self.ask_keyframe(id, track_mid, rid);
        }
    }

    fn ask_keyframe(&mut self, publisher: PeerId, mid: Mid, rid: Option<Rid>) {
        let Some(peer) = self.peers.get_mut(&publisher) else { return };
        let Some(mut writer) = peer.rtc.writer(mid) else { return };
        if writer.request_keyframe(rid, KeyframeRequestKind::Pli).is_ok() {
            self.stats.keyframe_requests += 1;
            self.dirty.push(publisher);
        }
    }

    /// A viewer lost a frame or just connected: its tracks' publishers send a keyframe.
    pub(super) fn keyframe_requested(&mut self, viewer: PeerId, mid: Mid) {
        let Some(Peer { role: Role::Subscriber(subscriber), stage, .. }) = self.peers.get_mut(&viewer) else { return };
        let Some(out) = subscriber.outs.iter_mut().find(|o| o.mid == Some(mid)) else { return };
        out.keyframe_needed = true;
        let (track_id, rid) = (out.track.clone(), out.sending);
        let stage = stage.clone();
        self.ask_track_keyframe(&stage, &track_id, rid);
    }

    pub(super) fn ask_keyframes_for(&mut self, viewer: PeerId) {
        let Some(Peer { role: Role::Subscriber(subscriber), stage, .. }) = self.peers.get(&viewer) else { return };
        let wanted: Vec<(String, Option<Rid>)> = subscriber
            .outs
            .iter()
            .filter(|o| o.kind == MediaKind::Video)
            .map(|o| (o.track.clone(), o.sending))
            .collect();
        let stage = stage.clone();
        for (track, rid) in wanted {
            self.ask_track_keyframe(&stage, &track, rid);
        }
    }

    fn ask_track_keyframe(&mut self, stage: &str, track_id: &str, rid: Option<Rid>) {
        let now = Instant::now();
        let Some(track) = self.stages.get_mut(stage).and_then(|s| s.tracks.iter_mut().find(|t| t.id == track_id))
        else {
            return;
        };
        // Before a layer is chosen, the lowest: what a new viewer starts on.
        let rid = rid.or_else(|| track.layers.first().map(|l| Rid::from(l.rid.as_str())));
        if track.kind == MediaKind::Video && track.may_ask_keyframe(rid, now) {
            let (publisher, mid) = (track.publisher, track.mid);
            self.ask_keyframe(publisher, mid, rid);
        }
    }
}

/// The layer a viewer should get now: [`layers::choose`], moving up only once the estimate
/// has allowed it for [`UPGRADE_AFTER`].
fn choose_layer(track: &Track, quality: Quality, estimate: Option<f64>, out: &mut Out, now: Instant) -> Option<Rid> {
    let target = layers::choose(&track.layers, quality, estimate)?;
    let rank = |rid: &str| track.layers.iter().position(|l| l.rid == rid);
    let current = out.sending.map(|r| r.to_string());
    let higher = current.as_deref().is_some_and(|c| rank(target) > rank(c));
    if higher {
        let since = *out.upgrade_since.get_or_insert(now);
        if now.duration_since(since) < UPGRADE_AFTER {
            return out.sending;
        }
    }
    out.upgrade_since = None;
    Some(Rid::from(target))
}
