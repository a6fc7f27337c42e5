//! The demo stage: a publisher inside the node that loops a short clip through the SFU as a
//! speaker's browser would (a full-ICE WebRTC peer on loopback, VP8 and Opus), so the demo
//! event's live sessions show moving video and play sound offline, on first run. The clip is
//! made from synthetic sources only (`assets/make-demo-clip.sh`) and built into the binary.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::change::SdpAnswer;
use str0m::format::Codec;
use str0m::media::{Direction, Frequency, MediaKind, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Input, Output, Rtc};
use tokio::net::UdpSocket;

use crate::{MediaError, MediaPlane, PeerId, Source};

/// VP8 in IVF, 15 frames a second, a keyframe every second.
const VIDEO: &[u8] = include_bytes!("../assets/demo.ivf");
/// Opus in Ogg, 20 ms packets.
const AUDIO: &[u8] = include_bytes!("../assets/demo.ogg");
/// Opus packets are 20 ms of 48 kHz.
const OPUS_PACKET: Duration = Duration::from_millis(20);
/// How long the publisher waits before publishing again after its session ended.
const RETRY: Duration = Duration::from_secs(3);

/// Why a clip could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the demo clip is not valid: {0}")]
pub struct ClipError(&'static str);

/// One video frame: when it is shown from the clip's start, and its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoFrame<'a> {
    pub at: Duration,
    pub data: &'a [u8],
}

/// The frames of an IVF file (a 32-byte file header, then a 12-byte header per frame: size,
/// then the timestamp in the header's time base).
pub fn ivf_frames(file: &[u8]) -> Result<Vec<VideoFrame<'_>>, ClipError> {
    let u16_at = |at: usize| file.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |at: usize| file.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    if file.get(0..4) != Some(b"DKIF") || file.get(8..12) != Some(b"VP80") {
        return Err(ClipError("not a VP8 IVF file"));
    }
    let header = usize::from(u16_at(6).ok_or(ClipError("short header"))?);
    let rate = u32_at(16).ok_or(ClipError("short header"))?;
    let scale = u32_at(20).ok_or(ClipError("short header"))?;
    if rate == 0 || scale == 0 {
        return Err(ClipError("no time base"));
    }
    let mut frames = Vec::new();
    let mut at = header;
    while at < file.len() {
        let size = u32_at(at).ok_or(ClipError("short frame header"))? as usize;
        let stamp = file.get(at + 4..at + 12).ok_or(ClipError("short frame header"))?;
        let stamp = u64::from_le_bytes(stamp.try_into().map_err(|_| ClipError("short frame header"))?);
        let data = file.get(at + 12..at + 12 + size).ok_or(ClipError("a frame runs past the end"))?;
        let at_ms = stamp * 1_000 * u64::from(scale) / u64::from(rate);
        frames.push(VideoFrame { at: Duration::from_millis(at_ms), data });
        at += 12 + size;
    }
    if frames.is_empty() {
        return Err(ClipError("no frames"));
    }
    Ok(frames)
}

/// The Opus packets of an Ogg Opus file, without its two header packets.
pub fn opus_packets(file: &[u8]) -> Result<Vec<Vec<u8>>, ClipError> {
    let mut packets = Vec::new();
    let mut partial: Vec<u8> = Vec::new();
    let mut at = 0;
    while at < file.len() {
        if file.get(at..at + 4) != Some(b"OggS") {
            return Err(ClipError("an Ogg page does not start with OggS"));
        }
        let segments = usize::from(*file.get(at + 26).ok_or(ClipError("short page header"))?);
        let table = file.get(at + 27..at + 27 + segments).ok_or(ClipError("short segment table"))?;
        let mut body = at + 27 + segments;
        for &lacing in table {
            let end = body + usize::from(lacing);
            partial.extend_from_slice(file.get(body..end).ok_or(ClipError("a segment runs past the end"))?);
            body = end;
            // A segment shorter than 255 bytes ends its packet.
            if lacing < 255 {
                packets.push(std::mem::take(&mut partial));
            }
        }
        at = body;
    }
    if packets.len() < 3 || !packets[0].starts_with(b"OpusHead") || !packets[1].starts_with(b"OpusTags") {
        return Err(ClipError("no Opus header packets"));
    }
    Ok(packets.split_off(2))
}

/// Loops the demo clip on `stage` as user `user`, until `until` resolves; publishes again
/// when its session ends (the plane restarted the stage, or the network hiccupped).
pub async fn publish_loop(
    plane: MediaPlane,
    stage: String,
    peer: PeerId,
    user: String,
    until: impl Future<Output = ()>,
) {
    let video = match ivf_frames(VIDEO) {
        Ok(video) => video,
        Err(e) => return tracing::error!(error = %e, "no demo stage"),
    };
    let audio = match opus_packets(AUDIO) {
        Ok(audio) => audio,
        Err(e) => return tracing::error!(error = %e, "no demo stage"),
    };
    let clip = Clip { video, audio };
    tokio::pin!(until);
    loop {
        tokio::select! {
            _ = &mut until => return,
            ended = clip.publish_once(&plane, &stage, peer, &user) => {
                match ended {
                    Err(MediaError::Stopped) => return,
                    Err(e) => tracing::warn!(%stage, error = %e, "the demo stage stopped; publishing again"),
                    Ok(()) => {}
                }
                plane.close(peer).await;
            }
        }
        tokio::select! {
            _ = &mut until => return,
            _ = tokio::time::sleep(RETRY) => {}
        }
    }
}

struct Clip<'a> {
    video: Vec<VideoFrame<'a>>,
    audio: Vec<Vec<u8>>,
}

impl Clip<'_> {
    /// Publishes and plays the clip in a loop until the session ends.
    async fn publish_once(&self, plane: &MediaPlane, stage: &str, peer: PeerId, user: &str) -> Result<(), MediaError> {
        let socket = UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.map_err(|_| MediaError::Stopped)?;
        let local = socket.local_addr().map_err(|_| MediaError::Stopped)?;
        let mut rtc = Rtc::new(Instant::now());
        let candidate = Candidate::host(local, "udp").map_err(|e| MediaError::BadSdp(e.to_string()))?;
        rtc.add_local_candidate(candidate);
        let mut api = rtc.sdp_api();
        let video_mid = api.add_media(MediaKind::Video, Direction::SendOnly, Some(user.into()), None, None);
        let audio_mid = api.add_media(MediaKind::Audio, Direction::SendOnly, Some(user.into()), None, None);
        let (offer, pending) = api.apply().ok_or(MediaError::NoPendingOffer)?;
        let sources = vec![(video_mid.to_string(), Source::Camera), (audio_mid.to_string(), Source::Microphone)];
        let answer = plane.publish(stage, peer, user, offer.to_sdp_string(), sources).await?;
        let answer = SdpAnswer::from_sdp_string(&answer).map_err(|e| MediaError::BadSdp(e.to_string()))?;
        rtc.sdp_api().accept_answer(pending, answer).map_err(|e| MediaError::BadSdp(e.to_string()))?;
        self.play(&mut rtc, &socket, local, (video_mid, audio_mid)).await;
        Ok(())
    }

    /// Runs the session and writes each frame when it is due, looping the clip.
    async fn play(&self, rtc: &mut Rtc, socket: &UdpSocket, local: SocketAddr, (video_mid, audio_mid): (Mid, Mid)) {
        let length = self.video.last().map_or(Duration::ZERO, |f| f.at) + Duration::from_millis(1_000 / 15);
        let start = Instant::now();
        let (mut next_video, mut next_audio) = (0usize, 0usize);
        let mut buf = vec![0u8; 2_000];
        let pt = |rtc: &Rtc, codec: Codec| rtc.codec_config().find(|p| p.spec().codec == codec).map(|p| p.pt());
        while rtc.is_alive() {
            let timeout = loop {
                match rtc.poll_output() {
                    Ok(Output::Timeout(at)) => break at,
                    Ok(Output::Transmit(t)) => {
                        let _ = socket.send_to(&t.contents, t.destination).await;
                    }
                    Ok(Output::Event(_)) => {}
                    Err(_) => return,
                }
            };
            let video_at = |n: usize| {
                let loops = (n / self.video.len()) as u32;
                start + length * loops + self.video[n % self.video.len()].at
            };
            let audio_at = |n: usize| start + OPUS_PACKET * n as u32;
            let due = timeout.min(video_at(next_video)).min(audio_at(next_audio));
            tokio::select! {
                received = socket.recv_from(&mut buf) => {
                    if let Ok((n, source)) = received
                        && let Ok(contents) = buf[..n].try_into()
                    {
                        let receive = Receive { proto: Protocol::Udp, source, destination: local, contents };
                        let _ = rtc.handle_input(Input::Receive(Instant::now(), receive));
                    }
                }
                _ = tokio::time::sleep_until(tokio::time::Instant::from_std(due)) => {}
            }
            let now = Instant::now();
            if rtc.handle_input(Input::Timeout(now)).is_err() {
                return;
            }
            // Writing before the connection is up is dropped by the session: the clip
            // simply starts wherever it is when a viewer arrives.
            if let (Some(vp8), true) = (pt(rtc, Codec::Vp8), video_at(next_video) <= now) {
                let frame = self.video[next_video % self.video.len()];
                let time = MediaTime::new(
                    (video_at(next_video) - start).as_micros() as u64 * 90 / 1_000,
                    Frequency::NINETY_KHZ,
                );
                if let Some(writer) = rtc.writer(video_mid) {
                    let _ = writer.write(vp8, now, time, frame.data.to_vec());
                }
                next_video += 1;
            }
            if let (Some(opus), true) = (pt(rtc, Codec::Opus), audio_at(next_audio) <= now) {
                let packet = &self.audio[next_audio % self.audio.len()];
                let time = MediaTime::new(next_audio as u64 * 960, Frequency::FORTY_EIGHT_KHZ);
                if let Some(writer) = rtc.writer(audio_mid) {
                    let _ = writer.write(opus, now, time, packet.clone());
                }
                next_audio += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_clip_reads_as_twelve_seconds_of_vp8_and_opus() {
        let video = ivf_frames(VIDEO).unwrap();
        assert_eq!(video.len(), 180, "15 frames a second for 12 s");
        assert!(video.windows(2).all(|w| w[0].at < w[1].at), "frames in time order");
        assert_eq!(video[0].data[0] & 1, 0, "the first frame is a keyframe");
        let audio = opus_packets(AUDIO).unwrap();
        assert!((595..=605).contains(&audio.len()), "about 600 packets of 20 ms: {}", audio.len());
    }

    #[test]
    fn broken_clips_are_refused_not_half_read() {
        assert_eq!(ivf_frames(b"RIFF....").unwrap_err(), ClipError("not a VP8 IVF file"));
        let mut truncated = VIDEO[..VIDEO.len() - 10].to_vec();
        assert_eq!(ivf_frames(&truncated).unwrap_err(), ClipError("a frame runs past the end"));
        truncated.clear();
        assert!(opus_packets(b"OggS").is_err());
        assert!(opus_packets(&AUDIO[..200]).is_err());
    }
}
