//! The media plane end to end with real WebRTC peers (str0m bots on loopback UDP): a
//! publisher sends VP8 in three simulcast layers and Opus, each frame numbering itself in
//! its payload; viewers receive them through the SFU, checked by content. An audio-only
//! viewer gets not one video frame; a viewer that lowers its quality moves to the low layer
//! at a keyframe; a publisher that leaves takes its tracks off the stage.

use std::net::SocketAddr;
use std::sync::Once;
use std::time::{Duration, Instant};

use plenary_media::{MediaConfig, MediaEvent, MediaPlane, PeerId, Quality, Source, demo};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{Direction, Frequency, MediaKind, MediaTime, Mid, Simulcast, SimulcastLayer};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// How long any one step may take before the test fails.
const WAIT: Duration = Duration::from_secs(20);
const LAYERS: [&str; 3] = ["l", "m", "h"];

/// One bot: its session, its socket and what it received.
struct Bot {
    rtc: Rtc,
    socket: UdpSocket,
    addr: SocketAddr,
    connected: bool,
    /// Video frames received: (mid, first payload byte, frame number).
    video: Vec<(Mid, u8, u32)>,
    audio: Vec<u32>,
    media: Vec<(Mid, MediaKind)>,
    /// Every video frame's bytes.
    payloads: Vec<Vec<u8>>,
}

impl Bot {
    async fn new() -> Bot {
        static CRYPTO: Once = Once::new();
        CRYPTO.call_once(|| str0m::crypto::from_feature_flags().install_process_default());
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let mut rtc = Rtc::new(Instant::now());
        rtc.add_local_candidate(Candidate::host(addr, "udp").unwrap());
        Bot {
            rtc,
            socket,
            addr,
            connected: false,
            video: Vec::new(),
            audio: Vec::new(),
            media: Vec::new(),
            payloads: Vec::new(),
        }
    }

    async fn drain(&mut self) -> Instant {
        loop {
            match self.rtc.poll_output().expect("the session runs") {
                Output::Timeout(at) => return at,
                Output::Transmit(t) => {
                    let _ = self.socket.send_to(&t.contents, t.destination).await;
                }
                Output::Event(event) => match event {
                    Event::Connected => self.connected = true,
                    Event::MediaAdded(added) => self.media.push((added.mid, added.kind)),
                    Event::MediaData(data) if data.data.len() >= 5 => {
                        let number = u32::from_be_bytes(data.data[1..5].try_into().unwrap());
                        match self.media.iter().find(|(mid, _)| *mid == data.mid) {
                            Some((_, MediaKind::Video)) => {
                                self.video.push((data.mid, data.data[0], number));
                                self.payloads.push(data.data.to_vec());
                            }
                            _ => self.audio.push(number),
                        }
                    }
                    _ => {}
                },
            }
        }
    }

    fn receive(&mut self, buf: &[u8], source: SocketAddr) {
        let Ok(contents) = buf.try_into() else { return };
        let input =
            Input::Receive(Instant::now(), Receive { proto: Protocol::Udp, source, destination: self.addr, contents });
        let _ = self.rtc.handle_input(input);
    }

    fn timeout(&mut self) {
        let _ = self.rtc.handle_input(Input::Timeout(Instant::now()));
    }
}

/// The test's view of the plane: its events, and which bot each viewer peer is.
struct Plane {
    plane: MediaPlane,
    events: mpsc::Receiver<MediaEvent>,
    /// Bot index in `run_until`'s slice of each viewer.
    viewers: Vec<(PeerId, usize)>,
    tracks: Vec<plenary_media::TrackInfo>,
    offers: usize,
}

impl Plane {
    /// Takes the plane's events: the stage's tracks, and offers, which the viewer bots answer.
    async fn serve(&mut self, bots: &mut [&mut Bot]) {
        while let Ok(event) = self.events.try_recv() {
            match event {
                MediaEvent::Tracks { tracks, .. } => self.tracks = tracks,
                MediaEvent::Offer { peer, sdp } => {
                    let (_, index) = self.viewers.iter().find(|(p, _)| *p == peer).expect("an offer to a viewer");
                    let answer = viewer_answer(bots[*index], &sdp);
                    self.plane.answer(peer, answer).await.expect("the plane takes the answer");
                    self.offers += 1;
                }
                MediaEvent::Closed { peer } => panic!("{peer:?} closed"),
            }
        }
    }
}

/// Runs every bot (and the plane's events) until `done` holds, failing after [`WAIT`];
/// `each` runs every turn (the publisher writes frames there).
async fn run_until(
    plane: &mut Plane,
    bots: &mut [&mut Bot],
    what: &str,
    mut each: impl FnMut(&mut [&mut Bot]),
    mut done: impl FnMut(&Plane, &[&mut Bot]) -> bool,
) {
    let deadline = Instant::now() + WAIT;
    let mut buf = vec![0u8; 2048];
    loop {
        each(bots);
        let mut next = Instant::now() + Duration::from_millis(10);
        for bot in bots.iter_mut() {
            next = next.min(bot.drain().await);
        }
        plane.serve(bots).await;
        if done(plane, bots) {
            return;
        }
        if Instant::now() >= deadline {
            let seen: Vec<String> = bots
                .iter()
                .map(|b| {
                    format!(
                        "connected {}, {} video, {} audio frames, media {:?}",
                        b.connected,
                        b.video.len(),
                        b.audio.len(),
                        b.media
                    )
                })
                .collect();
            panic!("timed out waiting for {what}: {seen:?}");
        }
        let wait = next.saturating_duration_since(Instant::now()).min(Duration::from_millis(5));
        tokio::time::sleep(wait).await;
        for bot in bots.iter_mut() {
            while let Ok((n, source)) = bot.socket.try_recv_from(&mut buf) {
                bot.receive(&buf[..n], source);
            }
            bot.timeout();
        }
    }
}

/// The publisher's side: a simulcast VP8 camera and an Opus microphone.
struct Publishing {
    video: Mid,
    audio: Mid,
    pending: Option<SdpPendingOffer>,
    frame: u32,
    last: Option<Instant>,
}

fn publisher_offer(bot: &mut Bot) -> (Publishing, String) {
    let mut simulcast = Simulcast::new();
    for rid in LAYERS {
        simulcast.add_send_layer(SimulcastLayer::new(rid));
    }
    let mut api = bot.rtc.sdp_api();
    let video = api.add_media(MediaKind::Video, Direction::SendOnly, Some("ada".into()), None, Some(simulcast));
    let audio = api.add_media(MediaKind::Audio, Direction::SendOnly, Some("ada".into()), None, None);
    let (offer, pending) = api.apply().unwrap();
    (Publishing { video, audio, pending: Some(pending), frame: 0, last: None }, offer.to_sdp_string())
}

/// Writes the next frame on every layer and the microphone, every 33 ms; every 15th frame
/// is a keyframe. Byte 0 is VP8's first payload byte (bit 0 clear: a keyframe); bytes 1..5
/// the frame number; byte 5 the layer.
fn write_frames(bot: &mut Bot, publishing: &mut Publishing, layers: &[&str]) {
    if !bot.connected || publishing.last.is_some_and(|t| t.elapsed() < Duration::from_millis(33)) {
        return;
    }
    let now = Instant::now();
    publishing.last = Some(now);
    let n = publishing.frame;
    publishing.frame += 1;
    let vp8 = bot.rtc.codec_config().find(|p| p.spec().codec == Codec::Vp8).expect("VP8").pt();
    let opus = bot.rtc.codec_config().find(|p| p.spec().codec == Codec::Opus).expect("Opus").pt();
    let first = if n.is_multiple_of(15) { 0x10 } else { 0x11 };
    for (index, rid) in layers.iter().enumerate() {
        let mut payload = vec![first];
        payload.extend_from_slice(&n.to_be_bytes());
        payload.push(index as u8);
        payload.resize(20 + 200 * index, 0xAB);
        let time = MediaTime::new(u64::from(n) * 3_000, Frequency::NINETY_KHZ);
        let writer = bot.rtc.writer(publishing.video).unwrap().rid((*rid).into());
        writer.write(vp8, now, time, payload).unwrap();
    }
    let mut audio = vec![0xF8];
    audio.extend_from_slice(&n.to_be_bytes());
    let time = MediaTime::new(u64::from(n) * 1_600, Frequency::FORTY_EIGHT_KHZ);
    bot.rtc.writer(publishing.audio).unwrap().write(opus, now, time, audio).unwrap();
}

/// A viewer answers the SFU's offer.
fn viewer_answer(bot: &mut Bot, offer: &str) -> String {
    let parsed = SdpOffer::from_sdp_string(offer).unwrap();
    match bot.rtc.sdp_api().accept_offer(parsed) {
        Ok(answer) => answer.to_sdp_string(),
        Err(e) => panic!(
            "{e}: {}",
            offer.lines().filter(|l| l.starts_with("m=") || l.starts_with("a=mid")).collect::<Vec<_>>().join(" | ")
        ),
    }
}

#[tokio::test]
async fn viewers_receive_the_stage_by_layer_and_audio_only_gets_no_video() {
    let (plane, events) = MediaPlane::start(MediaConfig::default()).unwrap();
    let mut plane =
        Plane { plane, events, viewers: vec![(PeerId(2), 1), (PeerId(3), 2)], tracks: Vec::new(), offers: 0 };
    let mut publisher = Bot::new().await;
    let (mut publishing, offer) = publisher_offer(&mut publisher);
    let sources =
        vec![(publishing.video.to_string(), Source::Camera), (publishing.audio.to_string(), Source::Microphone)];
    let answer = plane.plane.publish("session:opening", PeerId(1), "ada", offer, sources).await.unwrap();
    let pending = publishing.pending.take().unwrap();
    publisher.rtc.sdp_api().accept_answer(pending, SdpAnswer::from_sdp_string(&answer).unwrap()).unwrap();

    // Two viewers before the tracks arrive (they get them by renegotiation), one audio only.
    let mut viewer = Bot::new().await;
    let mut listener = Bot::new().await;
    let offer = plane.plane.subscribe("session:opening", PeerId(2), "viewer-2", Quality::Auto).await.unwrap();
    plane.plane.answer(PeerId(2), viewer_answer(&mut viewer, &offer)).await.unwrap();
    let offer = plane.plane.subscribe("session:opening", PeerId(3), "viewer-3", Quality::AudioOnly).await.unwrap();
    plane.plane.answer(PeerId(3), viewer_answer(&mut listener, &offer)).await.unwrap();

    // Media flows: the viewer gets video (one layer at a time, from a keyframe) and audio;
    // the listener audio alone.
    run_until(
        &mut plane,
        &mut [&mut publisher, &mut viewer, &mut listener],
        "video and audio at the viewer, audio at the listener",
        |bots| write_frames(bots[0], &mut publishing, &LAYERS),
        |_, bots| bots[1].video.len() >= 30 && bots[1].audio.len() >= 30 && bots[2].audio.len() >= 30,
    )
    .await;
    let tracks: Vec<_> = plane.tracks.iter().map(|t| (t.user.as_str(), t.source)).collect();
    assert_eq!(tracks, [("ada", Source::Camera), ("ada", Source::Microphone)]);
    assert_eq!(plane.tracks[0].layers, ["l", "m", "h"]);
    assert!(listener.video.is_empty(), "an audio-only viewer received video");
    assert_eq!(listener.media.iter().filter(|(_, k)| *k == MediaKind::Video).count(), 0);
    assert_eq!(viewer.video[0].1 & 1, 0, "the first video frame a viewer gets is a keyframe");
    let numbers: Vec<u32> = viewer.video.iter().map(|v| v.2).collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "frames arrive once each, in order: {numbers:?}");
    assert!(viewer.audio.windows(2).all(|w| w[0] < w[1]), "audio arrives once each, in order");

    // The listener switches to video and back without rejoining.
    plane.plane.set_quality(PeerId(3), Quality::Low).await.unwrap();
    run_until(
        &mut plane,
        &mut [&mut publisher, &mut viewer, &mut listener],
        "video at the listener once it asked for it",
        |bots| write_frames(bots[0], &mut publishing, &LAYERS),
        |_, bots| bots[2].video.len() >= 10,
    )
    .await;
    plane.plane.set_quality(PeerId(3), Quality::AudioOnly).await.unwrap();
    let offers = plane.offers;
    run_until(
        &mut plane,
        &mut [&mut publisher, &mut viewer, &mut listener],
        "the listener's video to stop",
        |bots| write_frames(bots[0], &mut publishing, &LAYERS),
        |plane, _| plane.offers > offers,
    )
    .await;
    let video_then = listener.video.len();
    let audio_then = listener.audio.len();
    run_until(
        &mut plane,
        &mut [&mut publisher, &mut viewer, &mut listener],
        "more audio at the listener",
        |bots| write_frames(bots[0], &mut publishing, &LAYERS),
        |_, bots| bots[2].audio.len() >= audio_then + 20,
    )
    .await;
    assert!(listener.video.len() <= video_then + 2, "video kept arriving after audio only");

    // The publisher leaves: its tracks leave the stage.
    plane.plane.close(PeerId(1)).await;
    run_until(
        &mut plane,
        &mut [&mut publisher, &mut viewer, &mut listener],
        "the stage to empty",
        |_| {},
        |plane, _| plane.tracks.is_empty(),
    )
    .await;
    let stats = plane.plane.stats().await.unwrap();
    assert_eq!((stats.publishers, stats.subscribers, stats.tracks), (0, 2, 0));
    assert!(stats.frames_out > 0 && stats.keyframe_requests > 0, "{stats:?}");
}

#[tokio::test]
async fn bad_signalling_gets_a_clear_error() {
    let (plane, _events) = MediaPlane::start(MediaConfig { max_subscribers: 1, ..MediaConfig::default() }).unwrap();
    let refused = plane.publish("session:a", PeerId(1), "ada", "not sdp".into(), Vec::new()).await;
    assert!(matches!(refused, Err(plenary_media::MediaError::BadSdp(_))), "{refused:?}");
    assert!(plane.answer(PeerId(9), "v=0".into()).await.unwrap_err().to_string().contains("session description"));
    plane.subscribe("session:a", PeerId(2), "viewer-2", Quality::Auto).await.unwrap();
    assert_eq!(
        plane.subscribe("session:a", PeerId(2), "viewer-2", Quality::Auto).await,
        Err(plenary_media::MediaError::PeerExists(PeerId(2)))
    );
    assert_eq!(
        plane.subscribe("session:a", PeerId(3), "viewer-3", Quality::Auto).await,
        Err(plenary_media::MediaError::Full(1))
    );
    assert_eq!(plane.set_quality(PeerId(7), Quality::Low).await, Err(plenary_media::MediaError::NoPeer(PeerId(7))));
}

#[tokio::test]
async fn the_demo_publisher_loops_its_clip_to_viewers() {
    let (plane, events) = MediaPlane::start(MediaConfig::default()).unwrap();
    let mut plane = Plane { plane, events, viewers: vec![(PeerId(2), 0)], tracks: Vec::new(), offers: 0 };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let publisher =
        tokio::spawn(demo::publish_loop(plane.plane.clone(), "session:demo".into(), PeerId(1), "demo".into(), async {
            let _ = stopped.await;
        }));
    let mut viewer = Bot::new().await;
    let offer = plane.plane.subscribe("session:demo", PeerId(2), "viewer-2", Quality::Auto).await.unwrap();
    plane.plane.answer(PeerId(2), viewer_answer(&mut viewer, &offer)).await.unwrap();
    run_until(
        &mut plane,
        &mut [&mut viewer],
        "the clip's video and sound",
        |_| {},
        |_, bots| bots[0].payloads.len() >= 20 && bots[0].audio.len() >= 50,
    )
    .await;
    let clip = demo::ivf_frames(include_bytes!("../assets/demo.ivf")).unwrap();
    for payload in &viewer.payloads {
        assert!(clip.iter().any(|f| f.data == payload.as_slice()), "a frame that is not the clip's arrived");
    }
    assert_eq!(viewer.payloads[0][0] & 1, 0, "the viewer starts on a keyframe");
    let _ = stop.send(());
    publisher.await.unwrap();
}
