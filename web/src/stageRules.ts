// The rules of the WebRTC stage, as plain functions tested on their own (stageRules.test.ts):
// which tile is large (a screen share, else the active speaker's camera), which received
// track is which stage track (by the `msid` of its media line in the node's offer), who the
// active speaker is (audio levels, with a hold so the large tile does not flicker), the
// connection's state in words' terms, the viewer's quality choice kept in storage, the
// simulcast layers a camera is offered with, and what a refusal from the node means.
// `stageViewer.ts` and `stagePublisher.ts` hold the peer connections that use them.
import { ErrorCode, type PublishedTrack, type StageQuality, type StageTrack, type UserId } from "./proto.gen";

/** The viewer's (or publisher's) connection to the stage, in words' terms. */
export type StagePhase = "idle" | "connecting" | "connected" | "reconnecting" | "failed";

/** The qualities a viewer may choose, in the order the menu lists them. */
export const QUALITIES: readonly StageQuality[] = ["auto", "low", "audio_only"];

const QUALITY_KEY = "plenary.stage.quality";

/** The quality this browser chose last time (`auto` when it never chose). */
export function loadQuality(storage: Storage | undefined): StageQuality {
  const stored = storage?.getItem(QUALITY_KEY);
  return QUALITIES.find((q) => q === stored) ?? "auto";
}

export function saveQuality(storage: Storage | undefined, quality: StageQuality): void {
  try {
    if (quality === "auto") storage?.removeItem(QUALITY_KEY);
    else storage?.setItem(QUALITY_KEY, quality);
  } catch {
    // Storage full or refused: the choice holds for this page.
  }
}

/**
 * The state of a stage connection from its peer connection's: `restarting` while this side
 * opens a new one after the old one was lost (the WebSocket reconnected, ICE failed).
 */
export function stagePhaseOf(
  state: RTCPeerConnectionState | null,
  everConnected: boolean,
  restarting: boolean,
): StagePhase {
  switch (state) {
    case null:
    case "closed":
      return restarting ? "reconnecting" : "idle";
    case "connected":
      return "connected";
    case "failed":
      return "failed";
    case "disconnected":
      return "reconnecting";
    default:
      return everConnected || restarting ? "reconnecting" : "connecting";
  }
}

/** One media line's `msid`: the publishing user (stream) and the stage track. */
export interface LineStream {
  stream: UserId;
  track: string;
  /** The line carries media (not stopped with port 0, not inactive). */
  active: boolean;
}

/** Each media line of `sdp` that names its stream, by `mid`. */
export function midStreams(sdp: string): Map<string, LineStream> {
  const lines = new Map<string, LineStream>();
  for (const section of sdp.split(/\r?\n(?=m=)/).slice(1)) {
    const rows = section.split(/\r?\n/);
    const port = /^m=\S+ (\d+)/.exec(rows[0] ?? "")?.[1];
    let mid: string | null = null;
    let msid: [string, string] | null = null;
    let inactive = false;
    for (const row of rows) {
      if (row.startsWith("a=mid:")) mid = row.slice(6).trim();
      else if (row.startsWith("a=msid:")) {
        const [stream, track] = row.slice(7).trim().split(/\s+/);
        if (stream && track) msid = [stream, track];
      } else if (row === "a=inactive" || row === "a=recvonly") inactive = true;
    }
    if (mid === null || !msid) continue;
    lines.set(mid, { stream: msid[0], track: msid[1], active: port !== "0" && !inactive });
  }
  return lines;
}

/** A receiving media line as the viewer sees it (an RTCRtpTransceiver, or a test's stand-in). */
export interface ReceivedLine<T> {
  mid: string | null;
  stopped: boolean;
  track: T;
}

/**
 * Which received track is which stage track: each live line's track, keyed by the `msid`
 * track id the node's offer gave its `mid` (the stage track's `id`). Stopped lines and lines
 * the offer does not name are left out.
 */
export function matchReceived<T>(lines: readonly ReceivedLine<T>[], offer: string): Map<string, T> {
  const streams = midStreams(offer);
  const matched = new Map<string, T>();
  for (const line of lines) {
    if (line.stopped || line.mid === null) continue;
    const stream = streams.get(line.mid);
    if (stream?.active) matched.set(stream.track, line.track);
  }
  return matched;
}

/** One tile of the stage: a camera or a screen, or a speaker heard but not seen. */
export interface StageTile {
  key: string;
  user: UserId;
  name: string;
  /** The video track shown (null: the speaker has no camera on the stage). */
  video: StageTrack | null;
}

export interface StageLayout {
  /** Shown large: a screen share when there is one, else the active speaker's camera. */
  main: StageTile | null;
  /** The rest, small, in the order the stage lists them. */
  others: StageTile[];
}

/**
 * The stage's tiles: one per camera and screen, one per speaker with neither (heard only).
 * The large one is the first screen share, else the active speaker's camera, else the first
 * camera, else the first speaker.
 */
export function stageLayout(tracks: readonly StageTrack[], active: UserId | null): StageLayout {
  const tiles: StageTile[] = [];
  const seen = new Set<UserId>();
  for (const track of tracks) {
    if (track.source !== "microphone") {
      tiles.push({ key: track.id, user: track.user, name: track.name, video: track });
      seen.add(track.user);
    }
  }
  for (const track of tracks) {
    if (!seen.has(track.user)) {
      tiles.push({ key: `user:${track.user}`, user: track.user, name: track.name, video: null });
      seen.add(track.user);
    }
  }
  const main =
    tiles.find((t) => t.video?.source === "screen") ??
    tiles.find((t) => t.user === active && t.video?.source === "camera") ??
    tiles.find((t) => t.video?.source === "camera") ??
    tiles.find((t) => t.user === active) ??
    tiles[0] ??
    null;
  return { main, others: tiles.filter((t) => t !== main) };
}

/** The speakers on the stage, once each, in the order the stage lists them. */
export function speakersOf(tracks: readonly StageTrack[]): Array<{ user: UserId; name: string }> {
  const speakers = new Map<UserId, string>();
  for (const track of tracks) if (!speakers.has(track.user)) speakers.set(track.user, track.name);
  return [...speakers].map(([user, name]) => ({ user, name }));
}

/** An audio level (0 to 1, `RTCRtpSynchronizationSource.audioLevel`) that counts as speaking. */
export const SPEAKING_LEVEL = 0.02;
/** How long another speaker must be the loudest before the large tile moves to them. */
export const SPEAKER_HOLD_MS = 1_000;

/** Who is shown as the active speaker, and who may take over. */
export interface SpeakerChoice {
  user: UserId | null;
  candidate: UserId | null;
  since: number;
}

export const NO_SPEAKER: SpeakerChoice = { user: null, candidate: null, since: 0 };

/**
 * The active speaker after one measure of everyone's audio level: the loudest speaker above
 * SPEAKING_LEVEL, once they have been the loudest for SPEAKER_HOLD_MS; silence keeps the
 * current one (a pause does not move the large tile).
 */
export function nextActiveSpeaker(
  choice: SpeakerChoice,
  levels: ReadonlyMap<UserId, number>,
  now: number,
): SpeakerChoice {
  let loudest: UserId | null = null;
  let top = SPEAKING_LEVEL;
  for (const [user, level] of levels) {
    if (level >= top) {
      loudest = user;
      top = level;
    }
  }
  if (loudest === null || loudest === choice.user) return { ...choice, candidate: null };
  if (choice.user === null) return { user: loudest, candidate: null, since: now };
  if (loudest !== choice.candidate) return { ...choice, candidate: loudest, since: now };
  if (now - choice.since >= SPEAKER_HOLD_MS) return { user: loudest, candidate: null, since: now };
  return choice;
}

/**
 * The simulcast layers a camera is offered with, best first: three (lowest first, as the node
 * expects), then two, then one. A browser that refuses simulcast gets the next.
 */
export const CAMERA_ENCODINGS: readonly (readonly RTCRtpEncodingParameters[])[] = [
  [{ rid: "l", scaleResolutionDownBy: 4 }, { rid: "m", scaleResolutionDownBy: 2 }, { rid: "h" }],
  [{ rid: "l", scaleResolutionDownBy: 2 }, { rid: "h" }],
  [],
];

/** A sending media line as the publisher sees it. */
export interface SentLine {
  mid: string | null;
  source: PublishedTrack["source"];
}

/** The `tracks` of `media_publish`: the source of every line that has a `mid`. */
export function publishedTracks(lines: readonly SentLine[]): PublishedTrack[] {
  return lines.flatMap((line) => (line.mid === null ? [] : [{ mid: line.mid, source: line.source }]));
}

/** Why the node refused to let this tab publish or view, in words' terms. */
export type StageRefusal = "forbidden" | "full" | "notWebrtc" | "busy" | "failed";

/** What a `media_*` error code means for the person (PROTOCOL.md, media_publish, media_view). */
export function stageRefusal(code: number): StageRefusal {
  switch (code) {
    case ErrorCode.forbidden:
      return "forbidden";
    case ErrorCode.unavailable:
      return "full";
    case ErrorCode.not_found:
      return "notWebrtc";
    case ErrorCode.conflict:
      return "busy";
    default:
      return "failed";
  }
}
