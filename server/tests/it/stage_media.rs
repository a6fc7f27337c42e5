//! The WebRTC stage through a running node: a speaker publishes camera and microphone from a
//! str0m bot over the WebSocket's `media_publish`, viewers receive them through the node's SFU
//! (`media_view`, `media_offer`, `media_answer`), every member learns the tracks from
//! `stage_tracks`, and media is checked by content. Who may publish, and bad signalling, are
//! refused with clear errors.

use std::net::SocketAddr;
use std::sync::Once;
use std::time::{Duration, Instant};

use plenary_proto::Role::{Attendee, Organiser, Speaker};
use plenary_proto::{ClientMsg, ErrorCode, PublishedTrack, RoomEvent, RoomId, ServerMsg, StageQuality, TrackSource};
use reqwest::{Method, StatusCode};
use serde_json::json;
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{Direction, Frequency, MediaKind, MediaTime, Mid, Simulcast, SimulcastLayer};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;

use crate::databases::{Kind, TestDatabase};
use crate::support::*;

/// One WebRTC bot on a loopback socket, and what it received.
struct Bot {
    rtc: Rtc,
    socket: UdpSocket,
    addr: SocketAddr,
    connected: bool,
    kinds: Vec<(Mid, MediaKind)>,
    /// Frame numbers received, by kind.
    video: Vec<u32>,
    audio: Vec<u32>,
}

impl Bot {
    async fn new() -> Bot {
        static CRYPTO: Once = Once::new();
        CRYPTO.call_once(|| str0m::crypto::from_feature_flags().install_process_default());
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let mut rtc = Rtc::new(Instant::now());
        rtc.add_local_candidate(Candidate::host(addr, "udp").unwrap());
        Bot { rtc, socket, addr, connected: false, kinds: Vec::new(), video: Vec::new(), audio: Vec::new() }
    }

    /// Sends what the session wants sent and reads what arrived; keeps its timers.
    async fn turn(&mut self) {
        let mut buf = vec![0u8; 2048];
        while let Ok((n, source)) = self.socket.try_recv_from(&mut buf) {
            if let Ok(contents) = buf[..n].try_into() {
                let receive = Receive { proto: Protocol::Udp, source, destination: self.addr, contents };
                let _ = self.rtc.handle_input(Input::Receive(Instant::now(), receive));
            }
        }
        let _ = self.rtc.handle_input(Input::Timeout(Instant::now()));
        loop {
            match self.rtc.poll_output().expect("the session runs") {
                Output::Timeout(_) => return,
                Output::Transmit(t) => {
                    let _ = self.socket.send_to(&t.contents, t.destination).await;
                }
                Output::Event(Event::Connected) => self.connected = true,
                Output::Event(Event::MediaAdded(added)) => self.kinds.push((added.mid, added.kind)),
                Output::Event(Event::MediaData(data)) if data.data.len() >= 5 => {
                    let number = u32::from_be_bytes(data.data[1..5].try_into().unwrap());
                    match self.kinds.iter().find(|(mid, _)| *mid == data.mid) {
                        Some((_, MediaKind::Video)) => self.video.push(number),
                        _ => self.audio.push(number),
                    }
                }
                Output::Event(_) => {}
            }
        }
    }

    fn answer(&mut self, offer: &str) -> String {
        let offer = SdpOffer::from_sdp_string(offer).expect("the node's offer parses");
        self.rtc.sdp_api().accept_offer(offer).expect("the node's offer is acceptable").to_sdp_string()
    }
}

/// A speaker's bot: a VP8 camera in three layers and an Opus microphone.
struct Camera {
    video: Mid,
    audio: Mid,
    pending: Option<SdpPendingOffer>,
    frame: u32,
    last: Option<Instant>,
}

impl Camera {
    fn offer(bot: &mut Bot) -> (Camera, String, Vec<PublishedTrack>) {
        let mut simulcast = Simulcast::new();
        for rid in ["l", "m", "h"] {
            simulcast.add_send_layer(SimulcastLayer::new(rid));
        }
        let mut api = bot.rtc.sdp_api();
        let video = api.add_media(MediaKind::Video, Direction::SendOnly, None, None, Some(simulcast));
        let audio = api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
        let (offer, pending) = api.apply().unwrap();
        let tracks = vec![
            PublishedTrack { mid: video.to_string(), source: TrackSource::Camera },
            PublishedTrack { mid: audio.to_string(), source: TrackSource::Microphone },
        ];
        (Camera { video, audio, pending: Some(pending), frame: 0, last: None }, offer.to_sdp_string(), tracks)
    }

    /// A frame on every layer and the microphone every 33 ms, numbered in bytes 1..5; every
    /// 15th video frame a keyframe (VP8's first byte with bit 0 clear).
    fn write(&mut self, bot: &mut Bot) {
        if !bot.connected || self.last.is_some_and(|t| t.elapsed() < Duration::from_millis(33)) {
            return;
        }
        let now = Instant::now();
        self.last = Some(now);
        let n = self.frame;
        self.frame += 1;
        let vp8 = bot.rtc.codec_config().find(|p| p.spec().codec == Codec::Vp8).unwrap().pt();
        let opus = bot.rtc.codec_config().find(|p| p.spec().codec == Codec::Opus).unwrap().pt();
        for (layer, rid) in ["l", "m", "h"].into_iter().enumerate() {
            let mut payload = vec![if n.is_multiple_of(15) { 0x10 } else { 0x11 }];
            payload.extend_from_slice(&n.to_be_bytes());
            payload.resize(30 + 300 * layer, 0xAB);
            let time = MediaTime::new(u64::from(n) * 3_000, Frequency::NINETY_KHZ);
            bot.rtc.writer(self.video).unwrap().rid(rid.into()).write(vp8, now, time, payload).unwrap();
        }
        let mut audio = vec![0xF8];
        audio.extend_from_slice(&n.to_be_bytes());
        let time = MediaTime::new(u64::from(n) * 1_600, Frequency::FORTY_EIGHT_KHZ);
        bot.rtc.writer(self.audio).unwrap().write(opus, now, time, audio).unwrap();
    }
}

fn keynote() -> RoomId {
    RoomId::session("keynote").unwrap()
}

/// A node with two sessions on a WebRTC stage (`keynote`, and `workshop`, which takes raised
/// hands from everyone) and one on HLS (`panel`).
async fn node() -> (TestServer, TestDatabase) {
    let db = TestDatabase::create(Kind::Sqlite).await;
    let url = db.url.clone();
    let server = TestServer::spawn_with(move |s| s.database_url = Some(url)).await;
    let http = reqwest::Client::new();
    let organiser = token("organiser", &[Organiser]);
    let event = json!({"name": "WSIS Forum", "time_zone": "UTC", "starts_on": "2026-07-07", "ends_on": "2026-07-11"});
    let put = |path: &str, body: serde_json::Value| {
        http.request(Method::PUT, server.http_url(path)).bearer_auth(&organiser).json(&body).send()
    };
    assert_eq!(put("/api/event", event).await.unwrap().status(), StatusCode::OK);
    for (id, kind, stage) in [
        ("keynote", "keynote", json!({"kind": "webrtc"})),
        ("workshop", "workshop", json!({"kind": "webrtc"})),
        ("panel", "keynote", json!({"kind": "hls", "url": "https://stream.example/live.m3u8"})),
    ] {
        let session = json!({
            "id": id, "title": format!("Session {id}"), "kind": kind,
            "starts_at": "2026-07-07T08:00:00Z", "ends_at": "2026-07-07T09:00:00Z", "stage": stage
        });
        let response = put(&format!("/api/sessions/{id}"), session).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
    }
    (server, db)
}

async fn person(server: &TestServer, sub: &str, roles: &[plenary_proto::Role], scopes: &[&str]) -> TestClient {
    let mut claims = claims(sub, roles, 3600);
    claims.scopes = scopes.iter().map(|s| s.to_string()).collect();
    let mut client = TestClient::connect(server).await;
    client.hello(&sign(&claims, SECRET)).await;
    client
}

/// `user` raises a hand and `moderator` brings them on `room`'s stage.
async fn bring_on(moderator: &mut TestClient, user: &mut TestClient, room: &RoomId) {
    let raised = user.request(|rid| ClientMsg::StageHand { rid, room: room.clone(), raised: true }).await;
    assert!(matches!(raised, ServerMsg::Ack { .. }), "{raised:?}");
    let who = match moderator
        .recv_until(
            "a raised hand",
            |m| matches!(m, ServerMsg::Event { event: RoomEvent::StageLineup { hands, .. }, .. } if !hands.is_empty()),
        )
        .await
    {
        ServerMsg::Event { event: RoomEvent::StageLineup { hands, .. }, .. } => hands[0].user.clone(),
        _ => unreachable!(),
    };
    let invited =
        moderator.request(|rid| ClientMsg::StageInvite { rid, room: room.clone(), user: who, on: true }).await;
    assert!(matches!(invited, ServerMsg::Ack { .. }), "{invited:?}");
}

/// `speaker` publishes a camera bot's offer to `room` and the bot takes the node's answer.
async fn go_live(speaker: &mut TestClient, room: &RoomId) -> (Bot, Camera) {
    let mut bot = Bot::new().await;
    let (mut camera, offer, tracks) = Camera::offer(&mut bot);
    let room = room.clone();
    let reply = speaker.request(|rid| ClientMsg::MediaPublish { rid, room, sdp: offer, tracks }).await;
    let ServerMsg::MediaPublished { sdp, .. } = reply else { panic!("an answer, got {reply:?}") };
    let pending = camera.pending.take().unwrap();
    bot.rtc.sdp_api().accept_answer(pending, SdpAnswer::from_sdp_string(&sdp).unwrap()).unwrap();
    (bot, camera)
}

/// Runs the speaker's `bot` until `watcher` sees tracks on the stage.
async fn until_on_stage(bot: &mut Bot, watcher: &mut TestClient) {
    let deadline = Instant::now() + WAIT;
    loop {
        bot.turn().await;
        if let Some(ServerMsg::Event { event: RoomEvent::StageTracks { tracks }, .. }) =
            watcher.try_recv(Duration::from_millis(5)).await
            && !tracks.is_empty()
        {
            return;
        }
        assert!(Instant::now() < deadline, "the speaker's tracks never reached the stage");
    }
}

/// Answers the node's renegotiation offers waiting on `client` with `bot`'s session, without
/// waiting for their acks: the next offer may come first.
async fn answer_offers(client: &mut TestClient, bot: &mut Bot) {
    while let Some(msg) = client.try_recv(Duration::from_millis(1)).await {
        match msg {
            ServerMsg::MediaOffer { rid: None, room, sdp } => {
                let answer = bot.answer(&sdp);
                let rid = client.rid();
                client.send(&ClientMsg::MediaAnswer { rid, room, sdp: answer }).await;
            }
            ServerMsg::Error { .. } => panic!("a viewer got {msg:?}"),
            _ => {}
        }
    }
}

/// Runs the bots (the camera writing) and the viewers' WebSockets (answering the node's
/// renegotiation offers) until `done`, failing after [`WAIT`].
async fn run_until(
    what: &str,
    speaker: &mut (Bot, Camera),
    viewers: &mut [(&mut TestClient, &mut Bot)],
    done: impl Fn(&[(&mut TestClient, &mut Bot)]) -> bool,
) {
    let deadline = Instant::now() + WAIT * 2;
    while !done(viewers) {
        if Instant::now() >= deadline {
            let seen: Vec<String> = viewers
                .iter()
                .map(|(_, b)| {
                    format!(
                        "connected {}, {} video, {} audio, media {:?}",
                        b.connected,
                        b.video.len(),
                        b.audio.len(),
                        b.kinds
                    )
                })
                .collect();
            panic!("timed out waiting for {what}: speaker connected {}, viewers {seen:?}", speaker.0.connected);
        }
        speaker.1.write(&mut speaker.0);
        speaker.0.turn().await;
        for (client, bot) in viewers.iter_mut() {
            bot.turn().await;
            answer_offers(client, bot).await;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// A viewer asks to view and answers the node's first offer. The answer's `ack` is not
/// waited for here: a renegotiation offer may come before it, and the run loop takes both.
async fn view(client: &mut TestClient, bot: &mut Bot, quality: StageQuality) {
    let room = keynote();
    let reply = client.request(|rid| ClientMsg::MediaView { rid, room: room.clone(), quality }).await;
    let ServerMsg::MediaOffer { sdp, .. } = reply else { panic!("an offer, got {reply:?}") };
    let answer = bot.answer(&sdp);
    let rid = client.rid();
    client.send(&ClientMsg::MediaAnswer { rid, room, sdp: answer }).await;
}

#[tokio::test]
async fn a_speaker_is_seen_and_heard_by_viewers_through_the_nodes_sfu() {
    let (server, db) = node().await;
    let mut grace = person(&server, "grace", &[Speaker], &["speak:keynote"]).await;
    grace.join(&keynote()).await;
    let mut mona = person(&server, "mona", &[plenary_proto::Role::Moderator], &[]).await;
    mona.join(&keynote()).await;
    let mut ada = person(&server, "ada", &[Attendee], &[]).await;
    ada.join(&keynote()).await;
    let mut alan = person(&server, "alan", &[Attendee], &[]).await;
    alan.join(&keynote()).await;
    // A speaker waits until a moderator brings them on.
    bring_on(&mut mona, &mut grace, &keynote()).await;

    // The viewers first, on an empty stage; the listener audio only.
    let (mut ada_bot, mut alan_bot) = (Bot::new().await, Bot::new().await);
    view(&mut ada, &mut ada_bot, StageQuality::Auto).await;
    view(&mut alan, &mut alan_bot, StageQuality::AudioOnly).await;

    // The speaker publishes.
    let mut speaker = go_live(&mut grace, &keynote()).await;
    run_until(
        "video and sound at the viewer, sound at the listener",
        &mut speaker,
        &mut [(&mut ada, &mut ada_bot), (&mut alan, &mut alan_bot)],
        |v| v[0].1.video.len() >= 20 && v[0].1.audio.len() >= 20 && v[1].1.audio.len() >= 20,
    )
    .await;
    assert!(alan_bot.video.is_empty(), "the audio-only viewer received video");
    assert!(ada_bot.video.windows(2).all(|w| w[0] < w[1]), "video frames once each, in order");
    assert!(ada_bot.audio.windows(2).all(|w| w[0] < w[1]), "audio frames once each, in order");

    // The node's figures show the stage.
    let metrics = reqwest::get(server.http_url("/metrics")).await.unwrap().text().await.unwrap();
    let value = |name: &str| {
        let line = metrics.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name} in {metrics}"));
        line.rsplit(' ').next().unwrap().parse::<f64>().unwrap()
    };
    assert_eq!((value("plenary_stage_publishers "), value("plenary_stage_viewers ")), (1.0, 2.0));
    assert_eq!(value("plenary_stage_tracks "), 2.0);
    assert!(value("plenary_stage_frames_out_total") >= 60.0, "{metrics}");
    assert!(value("plenary_stage_bytes_in_total") > 0.0, "{metrics}");
    assert!(value("plenary_stage_worker_cpu_milliseconds_total") > 0.0, "the worker's CPU time: {metrics}");

    // Every member, viewer or not, knows the tracks; a late joiner's snapshot has them.
    let tracks = grace
        .recv_until(
            "the stage's tracks",
            |m| matches!(m, ServerMsg::Event { event: RoomEvent::StageTracks { tracks }, .. } if tracks.len() == 2),
        )
        .await;
    let ServerMsg::Event { event: RoomEvent::StageTracks { tracks }, .. } = tracks else { unreachable!() };
    assert_eq!(
        tracks.iter().map(|t| (t.user.as_str(), t.source)).collect::<Vec<_>>(),
        [("grace", TrackSource::Camera), ("grace", TrackSource::Microphone)]
    );
    assert_eq!(tracks[0].layers, ["l", "m", "h"]);
    let mut late = person(&server, "late", &[Attendee], &[]).await;
    let ServerMsg::Snapshot { stage_tracks, .. } = late.join(&keynote()).await else { panic!("a snapshot") };
    assert_eq!(stage_tracks, tracks);

    // The speaker stops: the stage empties for everyone.
    let reply = grace.request(|rid| ClientMsg::MediaStop { rid, room: keynote() }).await;
    assert!(matches!(reply, ServerMsg::Ack { .. }), "{reply:?}");
    late.recv_until(
        "the stage to empty",
        |m| matches!(m, ServerMsg::Event { event: RoomEvent::StageTracks { tracks }, .. } if tracks.is_empty()),
    )
    .await;
    server.shutdown().await;
    db.drop_database().await;
}

#[tokio::test]
async fn who_may_publish_and_bad_signalling_are_refused_clearly() {
    let (server, db) = node().await;
    let mut ada = person(&server, "ada", &[Attendee], &[]).await;
    ada.join(&keynote()).await;
    let mut bot = Bot::new().await;
    let (_, offer, tracks) = Camera::offer(&mut bot);

    let refused = |reply: &ServerMsg, code: ErrorCode| matches!(reply, ServerMsg::Error { code: c, .. } if *c == code);
    let reply = ada
        .request(|rid| ClientMsg::MediaPublish { rid, room: keynote(), sdp: offer.clone(), tracks: tracks.clone() })
        .await;
    assert!(refused(&reply, ErrorCode::Forbidden), "an attendee publishes: {reply:?}");

    let mut speaker = person(&server, "grace", &[Speaker], &["speak:keynote"]).await;
    speaker.join(&keynote()).await;
    let reply = speaker
        .request(|rid| ClientMsg::MediaPublish { rid, room: keynote(), sdp: offer.clone(), tracks: tracks.clone() })
        .await;
    assert!(refused(&reply, ErrorCode::Forbidden), "a speaker nobody brought on: {reply:?}");
    let mut mona = person(&server, "mona", &[plenary_proto::Role::Moderator], &[]).await;
    mona.join(&keynote()).await;
    bring_on(&mut mona, &mut speaker, &keynote()).await;
    let reply = speaker
        .request(|rid| ClientMsg::MediaPublish { rid, room: keynote(), sdp: "v=0 garbage".into(), tracks: vec![] })
        .await;
    assert!(refused(&reply, ErrorCode::Invalid), "an SDP that does not parse: {reply:?}");
    let mut other = person(&server, "otto", &[Speaker], &["speak:panel"]).await;
    other.join(&keynote()).await;
    let reply = other
        .request(|rid| ClientMsg::MediaPublish { rid, room: keynote(), sdp: offer.clone(), tracks: tracks.clone() })
        .await;
    assert!(refused(&reply, ErrorCode::Forbidden), "a speaker of another session: {reply:?}");

    let reply = ada.request(|rid| ClientMsg::MediaAnswer { rid, room: keynote(), sdp: offer.clone() }).await;
    assert!(
        refused(&reply, ErrorCode::Conflict) || refused(&reply, ErrorCode::Invalid),
        "no offer was made: {reply:?}"
    );

    let panel = RoomId::session("panel").unwrap();
    ada.join(&panel).await;
    let reply = ada.request(|rid| ClientMsg::MediaView { rid, room: panel, quality: StageQuality::Auto }).await;
    assert!(refused(&reply, ErrorCode::NotFound), "a stage that is not WebRTC: {reply:?}");

    let reply = ada.request(|rid| ClientMsg::MediaView { rid, room: keynote(), quality: StageQuality::Auto }).await;
    assert!(matches!(reply, ServerMsg::MediaOffer { .. }), "{reply:?}");
    let reply = ada.request(|rid| ClientMsg::MediaView { rid, room: keynote(), quality: StageQuality::Auto }).await;
    assert!(refused(&reply, ErrorCode::Conflict), "viewing twice on one connection: {reply:?}");
    server.shutdown().await;
    db.drop_database().await;
}

#[tokio::test]
async fn the_demo_events_live_session_plays_its_clip_on_first_run() {
    let db = TestDatabase::create(Kind::Sqlite).await;
    let url = db.url.clone();
    let server = TestServer::spawn_with(move |s| {
        s.database_url = Some(url);
        s.demo_event = Some(true);
    })
    .await;
    let mut ada = person(&server, "ada", &[Attendee], &[]).await;
    let room = RoomId::session("opening-ceremony").unwrap();
    ada.join(&room).await;
    let mut bot = Bot::new().await;
    let reply = ada.request(|rid| ClientMsg::MediaView { rid, room: room.clone(), quality: StageQuality::Auto }).await;
    let ServerMsg::MediaOffer { sdp, .. } = reply else { panic!("an offer, got {reply:?}") };
    let answer = bot.answer(&sdp);
    let rid = ada.rid();
    ada.send(&ClientMsg::MediaAnswer { rid, room: room.clone(), sdp: answer }).await;
    let deadline = Instant::now() + WAIT * 2;
    while bot.kinds.len() < 2 || bot.video.len() < 10 || bot.audio.len() < 20 {
        assert!(
            Instant::now() < deadline,
            "the demo clip did not play: {} video, {} audio, media {:?}, connected {}",
            bot.video.len(),
            bot.audio.len(),
            bot.kinds,
            bot.connected
        );
        bot.turn().await;
        answer_offers(&mut ada, &mut bot).await;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // The speaker is the node's demo publisher, named as such in the stage's tracks: with
    // media flowing, a member joining now finds them in its snapshot.
    let mut late = person(&server, "late", &[Attendee], &[]).await;
    let ServerMsg::Snapshot { stage_tracks, .. } = late.join(&room).await else { panic!("a snapshot") };
    let speakers: Vec<_> = stage_tracks.iter().map(|t| (t.name.as_str(), t.source)).collect();
    assert_eq!(speakers, [("Demo speaker", TrackSource::Camera), ("Demo speaker", TrackSource::Microphone)]);
    server.shutdown().await;
    db.drop_database().await;
}

#[tokio::test]
async fn ending_the_session_takes_everyone_off_its_stage() {
    let (server, db) = node().await;
    let mut grace = person(&server, "grace", &[Speaker], &["speak:keynote"]).await;
    grace.join(&keynote()).await;
    let mut moderator = person(&server, "mona", &[plenary_proto::Role::Moderator], &[]).await;
    moderator.join(&keynote()).await;
    bring_on(&mut moderator, &mut grace, &keynote()).await;
    let (mut bot, _) = go_live(&mut grace, &keynote()).await;
    until_on_stage(&mut bot, &mut moderator).await;
    let reply = moderator.request(set_stage(&keynote(), plenary_proto::StageState::Live)).await;
    assert!(matches!(reply, ServerMsg::Ack { .. }), "{reply:?}");
    // The stage may empty before the ack of `ended` (which waits for the record): both are
    // awaited, in whichever order they come.
    let rid = moderator.rid();
    moderator.send(&set_stage(&keynote(), plenary_proto::StageState::Ended)(rid)).await;
    let (mut acked, mut emptied) = (false, false);
    while !(acked && emptied) {
        let msg = moderator.recv_until("the ack and the stage emptying once the session ended", |_| true).await;
        match msg {
            ServerMsg::Ack { rid: r } if r == rid => acked = true,
            ServerMsg::Event { event: RoomEvent::StageTracks { tracks }, .. } if tracks.is_empty() => emptied = true,
            ServerMsg::Error { .. } => panic!("{msg:?}"),
            _ => {}
        }
    }
    server.shutdown().await;
    db.drop_database().await;
}

#[tokio::test]
async fn an_attendee_raises_a_hand_goes_live_and_is_taken_off() {
    let (server, db) = node().await;
    let workshop = RoomId::session("workshop").unwrap();
    let mut mona = person(&server, "mona", &[plenary_proto::Role::Moderator], &[]).await;
    mona.join(&workshop).await;
    let mut ada = person(&server, "ada", &[Attendee], &[]).await;
    ada.join(&workshop).await;
    ada.join(&keynote()).await;

    // A keynote takes no attendee's hand; a workshop does.
    let reply = ada.request(|rid| ClientMsg::StageHand { rid, room: keynote(), raised: true }).await;
    assert!(matches!(reply, ServerMsg::Error { code: ErrorCode::Forbidden, .. }), "{reply:?}");
    // Only moderators bring people on.
    let me = plenary_proto::UserId::parse("ada").unwrap();
    let reply =
        ada.request(|rid| ClientMsg::StageInvite { rid, room: workshop.clone(), user: me.clone(), on: true }).await;
    assert!(matches!(reply, ServerMsg::Error { code: ErrorCode::Forbidden, .. }), "{reply:?}");
    bring_on(&mut mona, &mut ada, &workshop).await;
    // Raising a hand while on the stage changes nothing, and costs nothing: no rate limit.
    for _ in 0..10 {
        let reply = ada.request(|rid| ClientMsg::StageHand { rid, room: workshop.clone(), raised: true }).await;
        assert!(matches!(reply, ServerMsg::Ack { .. }), "{reply:?}");
    }
    let mut late = person(&server, "late", &[Attendee], &[]).await;
    let ServerMsg::Snapshot { on_stage, hands, .. } = late.join(&workshop).await else { panic!("a snapshot") };
    assert_eq!((on_stage.iter().map(|m| m.user.as_str()).collect::<Vec<_>>(), hands.len()), (vec!["ada"], 0));

    // On stage, the attendee publishes; taken off, their tracks leave and they may not again.
    let (mut bot, _) = go_live(&mut ada, &workshop).await;
    until_on_stage(&mut bot, &mut mona).await;
    let reply = mona.request(|rid| ClientMsg::StageInvite { rid, room: workshop.clone(), user: me, on: false }).await;
    assert!(matches!(reply, ServerMsg::Ack { .. }), "{reply:?}");
    mona.recv_until(
        "the attendee's tracks to leave",
        |m| matches!(m, ServerMsg::Event { event: RoomEvent::StageTracks { tracks }, .. } if tracks.is_empty()),
    )
    .await;
    let (_, offer, tracks) = Camera::offer(&mut bot);
    let reply = ada.request(|rid| ClientMsg::MediaPublish { rid, room: workshop.clone(), sdp: offer, tracks }).await;
    assert!(matches!(reply, ServerMsg::Error { code: ErrorCode::Forbidden, .. }), "taken off: {reply:?}");
    server.shutdown().await;
    db.drop_database().await;
}
