// The rules of the WebRTC stage, as plain functions tested on their own (stageRules.test.ts):
// which tile is large (a screen share, else the active speaker's camera), which received
// track is which stage track (by the `msid` of its media line in the node's offer), who the
// active speaker is (audio levels, with a hold so the large tile does not flicker), the
// connection's state in words' terms, the viewer's quality choice kept in storage, the
// simulcast layers a camera is offered with, and what a refusal from the node means; and the
// lineup's rules: who may raise a hand, where this person stands (may go on freely, brought
// on, waiting with a hand up, may raise one), which hands are new.
// `stageViewer.ts` and `stagePublisher.ts` hold the peer connections that use them.
import {
  ErrorCode,
  type Membership,
  type PublishedTrack,
  type RaisedHand,
  type StageMember,
  type StageQuality,
  type StageTrack,
  type UserId,
} from "./proto.gen";

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

// --- The lineup (PROTOCOL.md, "The WebRTC stage", "Who goes on") ---------------------

/** The session kinds in which every member may raise a hand, not only the speakers. */
export const INTERACTIVE_KINDS: readonly string[] = ["workshop", "special_track_session", "other"];

/** Whether `kind` (the programme's session kind) takes raised hands from every member. */
export const isInteractive = (kind: string): boolean => INTERACTIVE_KINDS.includes(kind);

/**
 * Whether this member may ask to come on stage: a speaker in any session (speaker grants are
 * per session and not visible to the client, so the node refuses another session's speaker
 * with 403), any member in an interactive one. Those who manage the stage publish freely
 * and have no hand to raise.
 */
export function mayRaiseHand(kind: string, you: Membership | null): boolean {
  if (!you || you.can_manage_stage) return false;
  return you.role === "speaker" || isInteractive(kind);
}

/** Whether `user` is in the lineup a moderator brought on the stage. */
export const inLineup = (onStage: readonly StageMember[], user: UserId | null): boolean =>
  user !== null && onStage.some((m) => m.user === user);

/** `user`'s raised hand, if it is up. */
export const handOf = (hands: readonly RaisedHand[], user: UserId | null): RaisedHand | null =>
  (user !== null && hands.find((h) => h.user === user)) || null;

/**
 * Where this person stands with the stage, which says what their controls offer:
 * `free` (manages the stage: goes on when they like), `broughtOn` (a moderator brought them
 * on: they may go live), `waiting` (their hand is up), `mayRaise` (they may raise a hand),
 * `audience` (none of these: the stage is only watched).
 */
export type StageStanding = "free" | "broughtOn" | "waiting" | "mayRaise" | "audience";

export function stageStanding(p: {
  you: Membership | null;
  kind: string;
  me: UserId | null;
  onStage: readonly StageMember[];
  hands: readonly RaisedHand[];
}): StageStanding {
  if (p.you?.can_manage_stage) return "free";
  if (inLineup(p.onStage, p.me)) return "broughtOn";
  if (handOf(p.hands, p.me)) return "waiting";
  return mayRaiseHand(p.kind, p.you) ? "mayRaise" : "audience";
}

/**
 * The hands in `after` that were not up in `before` (a hand lowered and raised again is new:
 * it has another `at`), for announcing them.
 */
export function newHands(before: readonly RaisedHand[], after: readonly RaisedHand[]): RaisedHand[] {
  const known = new Set(before.map((h) => `${h.user} ${h.at}`));
  return after.filter((h) => !known.has(`${h.user} ${h.at}`));
}

/** Why the node refused a raised hand or a moderator's `stage_invite`, in words' terms. */
export type LineupRefusal = "forbidden" | "full" | "tooFast" | "notWebrtc" | "failed";

/** What a `stage_hand` or `stage_invite` error code means (PROTOCOL.md, stage_hand, stage_invite). */
export function lineupRefusal(code: number): LineupRefusal {
  switch (code) {
    case ErrorCode.forbidden:
      return "forbidden";
    case ErrorCode.conflict:
      return "full";
    case ErrorCode.rate_limited:
      return "tooFast";
    case ErrorCode.not_found:
      return "notWebrtc";
    default:
      return "failed";
  }
}
