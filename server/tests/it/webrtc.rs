//! Two real WebRTC peers (str0m, sans-IO, on loopback UDP sockets) negotiate through running
//! Plenary nodes, one peer on each of two nodes of one Redis: the offer and answer go as
//! `call_signal`s, then the peers open a data channel both ways and send an Opus audio track.
//! A third participant, at the booth but outside the call, receives no signal.

use std::net::SocketAddr;
use std::sync::Once;
use std::time::{Duration, Instant};

use plenary_proto::{ClientMsg, RoomEvent, RoomId, ServerMsg, Signal};
use str0m::change::{SdpAnswer, SdpOffer};
use str0m::channel::ChannelId;
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;

use crate::calls::{next_signal, open_call_between, signal};
use crate::redis::node_on;
use crate::redis_support::TestRedis;
use crate::support::*;

/// One peer: its session and its socket, and what it has seen.
struct Peer {
    rtc: Rtc,
    socket: UdpSocket,
    addr: SocketAddr,
    opened: Vec<ChannelId>,
    messages: Vec<Vec<u8>>,
    audio_frames: usize,
    media: Option<Mid>,
}

impl Peer {
    async fn new() -> Peer {
        static CRYPTO: Once = Once::new();
        CRYPTO.call_once(|| str0m::crypto::from_feature_flags().install_process_default());
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let mut rtc = Rtc::new(Instant::now());
        rtc.add_local_candidate(Candidate::host(addr, "udp").expect("a host candidate"));
        Peer { rtc, socket, addr, opened: Vec::new(), messages: Vec::new(), audio_frames: 0, media: None }
    }

    /// Sends what the session wants sent, records its events; the time it next wants to run.
    async fn drain(&mut self) -> Instant {
        loop {
            match self.rtc.poll_output().expect("the session runs") {
                Output::Timeout(at) => return at,
                Output::Transmit(t) => {
                    self.socket.send_to(&t.contents, t.destination).await.unwrap();
                }
                Output::Event(event) => match event {
                    Event::ChannelOpen(id, _) => self.opened.push(id),
                    Event::ChannelData(data) => self.messages.push(data.data),
                    Event::MediaData(data) if !data.data.is_empty() => self.audio_frames += 1,
                    Event::MediaAdded(added) => self.media = Some(added.mid),
                    _ => {}
                },
            }
        }
    }

    fn receive(&mut self, buf: &[u8], source: SocketAddr) {
        let Ok(contents) = buf.try_into() else { return };
        let input =
            Input::Receive(Instant::now(), Receive { proto: Protocol::Udp, source, destination: self.addr, contents });
        self.rtc.handle_input(input).expect("the session takes the datagram");
    }
}

/// Runs both sessions until `done` holds (or fails after `WAIT`): datagrams between the
/// sockets, timeouts as the sessions ask.
async fn run_until(a: &mut Peer, b: &mut Peer, what: &str, mut done: impl FnMut(&mut Peer, &mut Peer) -> bool) {
    let deadline = Instant::now() + WAIT;
    let (mut buf_a, mut buf_b) = (vec![0u8; 2048], vec![0u8; 2048]);
    loop {
        let next = a.drain().await.min(b.drain().await);
        if done(a, b) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        let wake = tokio::time::Instant::from_std(next.min(Instant::now() + Duration::from_millis(50)));
        tokio::select! {
            got = a.socket.recv_from(&mut buf_a) => {
                let (n, from) = got.unwrap();
                let data = buf_a[..n].to_vec();
                a.receive(&data, from);
            }
            got = b.socket.recv_from(&mut buf_b) => {
                let (n, from) = got.unwrap();
                let data = buf_b[..n].to_vec();
                b.receive(&data, from);
            }
            _ = tokio::time::sleep_until(wake) => {}
        }
        let now = Instant::now();
        a.rtc.handle_input(Input::Timeout(now)).unwrap();
        b.rtc.handle_input(Input::Timeout(now)).unwrap();
    }
}

#[tokio::test]
async fn two_webrtc_peers_on_two_nodes_negotiate_through_the_hub_and_exchange_data_and_audio() {
    let redis = TestRedis::new();
    let node_a = node_on(&redis.url, &redis.prefix).await;
    let node_b = node_on(&redis.url, &redis.prefix).await;
    let (mut ada, mut ana, call) = open_call_between(&node_a.ws_url(), &node_b.ws_url(), "rtc").await;
    let mut lin = TestClient::connect_url(&node_a.ws_url()).await;
    lin.hello(&token("lin", &[plenary_proto::Role::Attendee])).await;
    lin.join(&RoomId::booth("rtc").unwrap()).await;

    // Ada (node a) offers a data channel and an audio track; Ana (node b) answers.
    let mut visitor = Peer::new().await;
    let mut staff = Peer::new().await;
    let mut change = visitor.rtc.sdp_api();
    let channel = change.add_channel("chat".into());
    let mid = change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
    let (offer, pending) = change.apply().expect("an offer");
    let sent = Signal::Offer { sdp: offer.to_sdp_string() };
    assert!(matches!(ada.request(signal(&call, "ana", sent)).await, ServerMsg::Ack { .. }));
    let (from, Signal::Offer { sdp }) = next_signal(&mut ana).await else { panic!("an offer") };
    assert_eq!(from, "ada");
    let offer = SdpOffer::from_sdp_string(&sdp).expect("the relayed offer parses");
    let answer = staff.rtc.sdp_api().accept_offer(offer).expect("an answer");
    let sent = Signal::Answer { sdp: answer.to_sdp_string() };
    assert!(matches!(ana.request(signal(&call, "ada", sent)).await, ServerMsg::Ack { .. }));
    let (_, Signal::Answer { sdp }) = next_signal(&mut ada).await else { panic!("an answer") };
    let answer = SdpAnswer::from_sdp_string(&sdp).expect("the relayed answer parses");
    visitor.rtc.sdp_api().accept_answer(pending, answer).expect("the answer applies");

    run_until(&mut visitor, &mut staff, "ICE and DTLS", |a, b| {
        a.rtc.is_connected() && b.rtc.is_connected() && !a.opened.is_empty() && !b.opened.is_empty()
    })
    .await;

    // The data channel, both ways.
    visitor.rtc.channel(channel).expect("the channel").write(false, b"hello from the booth's visitor").unwrap();
    let staff_channel = staff.opened[0];
    staff.rtc.channel(staff_channel).expect("the channel").write(false, b"hello from the staff").unwrap();
    run_until(&mut visitor, &mut staff, "the data channel messages", |a, b| {
        !a.messages.is_empty() && !b.messages.is_empty()
    })
    .await;
    assert_eq!(staff.messages[0], b"hello from the booth's visitor");
    assert_eq!(visitor.messages[0], b"hello from the staff");

    // An Opus track, 20 ms frames, visitor to staff.
    let pt = visitor.rtc.codec_config().find(|p| p.spec().codec == Codec::Opus).expect("Opus").pt();
    let started = Instant::now();
    for frame in 0..50u32 {
        let at = started + Duration::from_millis(20 * u64::from(frame));
        let writer = visitor.rtc.writer(mid).expect("the audio writer");
        writer.write(pt, at, Duration::from_millis(20 * u64::from(frame)).into(), vec![0xF8, 0xFF, 0xFE]).unwrap();
        run_until(&mut visitor, &mut staff, "a frame out", |_, _| true).await;
    }
    run_until(&mut visitor, &mut staff, "audio frames at the staff member", |_, b| b.audio_frames >= 10).await;
    assert!(staff.media.is_some(), "the staff side saw the audio track");

    // Lin, at the booth all along, received nothing of the call's signalling.
    assert!(matches!(
        ana.request(|rid| ClientMsg::ChatSend { rid, room: RoomId::booth("rtc").unwrap(), text: "marker".into() })
            .await,
        ServerMsg::Ack { .. }
    ));
    loop {
        match lin.recv().await {
            ServerMsg::Signal { .. } => panic!("an outsider received a signal"),
            ServerMsg::Event { event: RoomEvent::Chat { message }, .. } if message.text == "marker" => break,
            _ => {}
        }
    }
    node_a.shutdown().await;
    node_b.shutdown().await;
}
