//! `stage`: the WebRTC stage's capacity. One bot speaker publishes VP8 in three simulcast
//! layers (about `--bitrate` over the three) and Opus through the node's SFU; N bot viewers,
//! each a real WebRTC peer (str0m) with a WebSocket of its own, receive it. Every frame
//! carries its number and send time, so viewers count what they missed and how late it came.
//! Bots run in this process, on the same machine as the node: their cost is in
//! `tool_cpu_percent`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use plenary_proto::{ClientMsg, PublishedTrack, Role, RoomId, ServerMsg, StageQuality, TrackSource};
use str0m::change::{SdpAnswer, SdpOffer};
use str0m::format::Codec;
use str0m::media::{Direction, Frequency, MediaKind, MediaTime, Mid, Simulcast, SimulcastLayer};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;

use super::{Usage, progress};
use crate::Context;
use crate::conn::{Client, Pacer};
use crate::report::Report;
use crate::stats::Latencies;

#[derive(Debug, Clone, clap::Args)]
pub struct StageArgs {
    /// Bot viewers.
    #[arg(long, default_value_t = 50)]
    pub viewers: usize,
    /// How long media is measured once every viewer receives it.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// A session room whose stage is WebRTC.
    #[arg(long, default_value = "session:stage-load")]
    pub room: RoomId,
    /// What viewers receive: auto, low or audio-only.
    #[arg(long, default_value = "auto", value_parser = parse_quality)]
    pub quality: StageQuality,
    /// The speaker's video, bits per second over the three layers.
    #[arg(long, default_value_t = 1_000_000)]
    pub bitrate: u64,
}

fn parse_quality(value: &str) -> Result<StageQuality, String> {
    match value {
        "auto" => Ok(StageQuality::Auto),
        "low" => Ok(StageQuality::Low),
        "audio-only" | "audio_only" => Ok(StageQuality::AudioOnly),
        other => Err(format!("{other:?}: auto, low or audio-only")),
    }
}

const FPS: u64 = 30;
/// Each layer's share of the video bitrate, lowest first (simulcast's usual 1 : 4 : 16 of
/// pixels gives roughly these rates).
const LAYERS: [(&str, f64); 3] = [("l", 0.1), ("m", 0.25), ("h", 0.65)];

/// What every viewer counts.
#[derive(Debug, Default)]
struct Counts {
    video_frames: AtomicU64,
    audio_frames: AtomicU64,
    /// Frames a viewer's numbering says it never got.
    video_gaps: AtomicU64,
    bytes: AtomicU64,
}

/// A WebRTC bot on a loopback socket.
struct Bot {
    rtc: Rtc,
    socket: UdpSocket,
    addr: SocketAddr,
    connected: bool,
}

impl Bot {
    async fn new() -> anyhow::Result<Bot> {
        static CRYPTO: Once = Once::new();
        CRYPTO.call_once(|| str0m::crypto::from_feature_flags().install_process_default());
        let socket = UdpSocket::bind("127.0.0.1:0").await?;
        let addr = socket.local_addr()?;
        let mut rtc = Rtc::new(Instant::now());
        rtc.add_local_candidate(Candidate::host(addr, "udp")?);
        Ok(Bot { rtc, socket, addr, connected: false })
    }

    /// Sends what the session wants sent; returns its events and when it next wants to run.
    async fn drain(&mut self, events: &mut Vec<Event>) -> Instant {
        loop {
            match self.rtc.poll_output() {
                Ok(Output::Timeout(at)) => return at,
                Ok(Output::Transmit(t)) => {
                    let _ = self.socket.send_to(&t.contents, t.destination).await;
                }
                Ok(Output::Event(Event::Connected)) => self.connected = true,
                Ok(Output::Event(event)) => events.push(event),
                Err(_) => return Instant::now() + Duration::from_secs(3600),
            }
        }
    }

    fn receive(&mut self, datagram: &[u8], source: SocketAddr) {
        if let Ok(contents) = datagram.try_into() {
            let receive = Receive { proto: Protocol::Udp, source, destination: self.addr, contents };
            let _ = self.rtc.handle_input(Input::Receive(Instant::now(), receive));
        }
    }
}

pub async fn run(ctx: &Context, args: &StageArgs) -> anyhow::Result<Report> {
    let clock = Instant::now();
    let pacer = Arc::new(Pacer::new(ctx.connect_rate));
    let counts = Arc::new(Counts::default());
    let latencies = Latencies::new();
    let stop = Arc::new(tokio::sync::Notify::new());
    let measuring = Arc::new(std::sync::atomic::AtomicBool::new(false));

    // The speaker.
    let mut speaker = Client::connect(ctx.target.next_url()).await?;
    speaker.hello(&ctx.tokens.token(0, Role::Moderator)?).await?;
    speaker.join(&args.room, None).await?;
    let mut bot = Bot::new().await?;
    let mut simulcast = Simulcast::new();
    for (rid, _) in LAYERS {
        simulcast.add_send_layer(SimulcastLayer::new(rid));
    }
    let mut api = bot.rtc.sdp_api();
    let video = api.add_media(MediaKind::Video, Direction::SendOnly, None, None, Some(simulcast));
    let audio = api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
    let (offer, pending) = api.apply().context("the speaker's offer")?;
    let tracks = vec![
        PublishedTrack { mid: video.to_string(), source: TrackSource::Camera },
        PublishedTrack { mid: audio.to_string(), source: TrackSource::Microphone },
    ];
    let rid = speaker.rid();
    speaker.send(&ClientMsg::MediaPublish { rid, room: args.room.clone(), sdp: offer.to_sdp_string(), tracks }).await?;
    let answer = match speaker.answer(rid).await? {
        ServerMsg::MediaPublished { sdp, .. } => sdp,
        other => bail!("the node did not take the speaker's offer: {other:?}"),
    };
    bot.rtc.sdp_api().accept_answer(pending, SdpAnswer::from_sdp_string(&answer)?)?;
    let publishing = tokio::spawn(publish(bot, video, audio, args.bitrate, clock, stop.clone()));

    // The viewers.
    let bar = progress(ctx, args.viewers as u64, "viewers");
    let mut viewers = Vec::with_capacity(args.viewers);
    for n in 0..args.viewers {
        pacer.wait().await;
        let mut client = Client::connect(ctx.target.next_url()).await?;
        client.hello(&ctx.tokens.token(n + 1, Role::Attendee)?).await?;
        client.join(&args.room, None).await?;
        let (counts, stop, measuring) = (counts.clone(), stop.clone(), measuring.clone());
        let recorder = latencies.recorder(n);
        let room = args.room.clone();
        let quality = args.quality;
        viewers.push(tokio::spawn(async move {
            view(client, room, quality, clock, counts, recorder, measuring, stop).await
        }));
        bar.inc(1);
    }
    bar.finish_and_clear();

    // Everyone up: measure.
    let warmup = Instant::now();
    let per_viewer = if args.quality == StageQuality::AudioOnly { &counts.audio_frames } else { &counts.video_frames };
    while per_viewer.load(Ordering::Relaxed) < args.viewers as u64 * 5 && warmup.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for counter in [&counts.video_frames, &counts.audio_frames, &counts.video_gaps, &counts.bytes] {
        counter.store(0, Ordering::Relaxed);
    }
    let usage_window = Usage::start(ctx);
    measuring.store(true, Ordering::Relaxed);
    tokio::time::sleep(args.duration).await;
    measuring.store(false, Ordering::Relaxed);
    let seconds = args.duration.as_secs_f64();
    let video = counts.video_frames.load(Ordering::Relaxed) as f64;
    let audio = counts.audio_frames.load(Ordering::Relaxed) as f64;
    let gaps = counts.video_gaps.load(Ordering::Relaxed) as f64;
    let bytes = counts.bytes.load(Ordering::Relaxed) as f64;
    stop.notify_waiters();
    let mut failures = 0;
    for viewer in viewers {
        if !matches!(viewer.await, Ok(Ok(()))) {
            failures += 1;
        }
    }
    let _ = publishing.await;
    speaker.close().await;

    let n = args.viewers as f64;
    let expected_video = if args.quality == StageQuality::AudioOnly { 0.0 } else { FPS as f64 * seconds * n };
    let mut report = Report::new("stage");
    report
        .add("viewers", args.viewers)
        .add("quality", format!("{:?}", args.quality).to_lowercase())
        .add("video_frames_per_viewer_per_second", video / n / seconds)
        .add("audio_frames_per_viewer_per_second", audio / n / seconds)
        .add("video_loss_percent", if expected_video > 0.0 { 100.0 * gaps / (video + gaps).max(1.0) } else { 0.0 })
        .add(
            "video_frames_missing_percent",
            // Frames of the next second may land in the count: never below zero.
            if expected_video > 0.0 { (100.0 * (1.0 - video / expected_video)).max(0.0) } else { 0.0 },
        )
        .add("latency", latencies.summary().line())
        .add("bytes_out_per_second", bytes / seconds)
        .add("bits_per_viewer_per_second", bytes * 8.0 / n / seconds)
        .add("viewer_failures", failures);
    usage_window.report(&mut report);
    Ok(report)
}

/// The speaker's bot: a frame on every layer and the microphone each 33 ms, until `stop`.
async fn publish(mut bot: Bot, video: Mid, audio: Mid, bitrate: u64, clock: Instant, stop: Arc<tokio::sync::Notify>) {
    let mut buf = vec![0u8; 2048];
    let mut events = Vec::new();
    let frame_gap = Duration::from_micros(1_000_000 / FPS);
    let mut next_frame = Instant::now();
    let mut n: u32 = 0;
    let stopped = stop.notified();
    tokio::pin!(stopped);
    loop {
        let timeout = bot.drain(&mut events).await.min(next_frame);
        events.clear();
        tokio::select! {
            _ = &mut stopped => return,
            received = bot.socket.recv_from(&mut buf) => {
                if let Ok((len, source)) = received {
                    bot.receive(&buf[..len], source);
                }
            }
            _ = tokio::time::sleep_until(tokio::time::Instant::from_std(timeout)) => {}
        }
        let now = Instant::now();
        let _ = bot.rtc.handle_input(Input::Timeout(now));
        if now < next_frame {
            continue;
        }
        next_frame += frame_gap;
        if !bot.connected {
            continue;
        }
        let vp8 = bot.rtc.codec_config().find(|p| p.spec().codec == Codec::Vp8).map(|p| p.pt());
        let opus = bot.rtc.codec_config().find(|p| p.spec().codec == Codec::Opus).map(|p| p.pt());
        let (Some(vp8), Some(opus)) = (vp8, opus) else { continue };
        let sent = now.duration_since(clock).as_micros() as u64;
        let stamp = |first: u8, size: usize| {
            let mut payload = vec![first];
            payload.extend_from_slice(&n.to_be_bytes());
            payload.extend_from_slice(&sent.to_be_bytes());
            payload.resize(size.max(13), 0xAB);
            payload
        };
        let keyframe = if n.is_multiple_of(FPS as u32) { 0x10 } else { 0x11 };
        for (rid, share) in LAYERS {
            let size = (bitrate as f64 * share / 8.0 / FPS as f64) as usize;
            let time = MediaTime::new(u64::from(n) * 3_000, Frequency::NINETY_KHZ);
            if let Some(writer) = bot.rtc.writer(video) {
                let _ = writer.rid(rid.into()).write(vp8, now, time, stamp(keyframe, size));
            }
        }
        // Opus frames of 33 ms keep one clock for both; the node forwards what it gets.
        let time = MediaTime::new(u64::from(n) * 1_600, Frequency::FORTY_EIGHT_KHZ);
        if let Some(writer) = bot.rtc.writer(audio) {
            let _ = writer.write(opus, now, time, stamp(0xF8, 60));
        }
        n += 1;
    }
}

/// One viewer: asks to view, answers every offer, and counts what arrives until `stop`.
#[allow(clippy::too_many_arguments)]
async fn view(
    mut client: Client,
    room: RoomId,
    quality: StageQuality,
    clock: Instant,
    counts: Arc<Counts>,
    mut recorder: crate::stats::Recorder,
    measuring: Arc<std::sync::atomic::AtomicBool>,
    stop: Arc<tokio::sync::Notify>,
) -> anyhow::Result<()> {
    let mut bot = Bot::new().await?;
    let rid = client.rid();
    client.send(&ClientMsg::MediaView { rid, room: room.clone(), quality }).await?;
    let mut buf = vec![0u8; 2048];
    let mut events = Vec::new();
    let mut kinds: Vec<(Mid, MediaKind)> = Vec::new();
    let mut last_video: Option<u32> = None;
    let stopped = stop.notified();
    tokio::pin!(stopped);
    loop {
        let timeout = bot.drain(&mut events).await;
        for event in events.drain(..) {
            match event {
                Event::MediaAdded(added) => kinds.push((added.mid, added.kind)),
                // Counted from the start (the run waits for every viewer to receive), reset
                // when the measurement starts; latencies only while measuring.
                Event::MediaData(data) if data.data.len() >= 13 => {
                    let number = u32::from_be_bytes(data.data[1..5].try_into().expect("4 bytes"));
                    let sent = u64::from_be_bytes(data.data[5..13].try_into().expect("8 bytes"));
                    if measuring.load(Ordering::Relaxed) {
                        let now = Instant::now().duration_since(clock).as_micros() as u64;
                        recorder.record(now.saturating_sub(sent));
                    }
                    counts.bytes.fetch_add(data.data.len() as u64, Ordering::Relaxed);
                    if kinds.iter().any(|(mid, kind)| *mid == data.mid && *kind == MediaKind::Video) {
                        counts.video_frames.fetch_add(1, Ordering::Relaxed);
                        if let Some(last) = last_video
                            && number > last + 1
                        {
                            counts.video_gaps.fetch_add(u64::from(number - last - 1), Ordering::Relaxed);
                        }
                        last_video = Some(number);
                    } else {
                        counts.audio_frames.fetch_add(1, Ordering::Relaxed);
                    }
                }
                _ => {}
            }
        }
        tokio::select! {
            _ = &mut stopped => break,
            text = client.next_text() => match serde_json::from_str(text?.context("the node closed a viewer")?.as_str())? {
                ServerMsg::MediaOffer { room, sdp, .. } => {
                    let offer = SdpOffer::from_sdp_string(&sdp)?;
                    let answer = bot.rtc.sdp_api().accept_offer(offer)?.to_sdp_string();
                    let rid = client.rid();
                    client.send(&ClientMsg::MediaAnswer { rid, room, sdp: answer }).await?;
                }
                ServerMsg::Error { code, message, .. } => bail!("the node refused a viewer: {code:?} {message}"),
                _ => {}
            },
            received = bot.socket.recv_from(&mut buf) => {
                if let Ok((len, source)) = received {
                    bot.receive(&buf[..len], source);
                }
            }
            _ = tokio::time::sleep_until(tokio::time::Instant::from_std(timeout)) => {}
        }
        let _ = bot.rtc.handle_input(Input::Timeout(Instant::now()));
    }
    client.close().await;
    Ok(())
}
