// The rules of a call, as plain functions tested on their own (call.test.ts): who is polite
// in perfect negotiation, what a signal maps to, the ICE configuration, what a media error
// means, which words a connection state gets, and the relay-only choice kept in storage.
// `call.ts` holds the sessions that use them.
import type { IceServer, Signal, UserId } from "./proto.gen";

export type CallPhase = "waiting" | "connecting" | "connected" | "reconnecting" | "failed" | "left";
export type MediaKind = "audio" | "video";
/** A microphone or camera: none started, on, or muted (the track is kept, sending nothing). */
export type DeviceState = "none" | "on" | "off";
export type MediaProblem =
  | "denied"
  | "missing"
  | "noCamera"
  | "noMicrophone"
  | "busy"
  | "unsupported"
  | "failed";
export interface PeerMedia {
  audio: boolean;
  video: boolean;
}
type CandidateSignal = Extract<Signal, { kind: "candidate" }>;

const RELAY_KEY = "plenary.call.relayOnly";
/** Where the chosen camera and microphone are kept. */
export const DEVICE_KEY: Record<MediaKind, string> = {
  audio: "plenary.call.microphone",
  video: "plenary.call.camera",
};

/**
 * Whether this side is the polite peer (the one that yields when both offer at once): the
 * visitor, `members[0]`; when the members are not known, the side with the smaller id. Both
 * sides reach opposite answers either way.
 */
export function isPolite(me: UserId, peer: UserId, members: readonly { id: UserId }[] = []): boolean {
  const visitor = members[0]?.id;
  const staff = members[1]?.id;
  if (visitor === me && staff === peer) return true;
  if (staff === me && visitor === peer) return false;
  return me < peer;
}

/** The other member of the call, or null before the members are known. */
export function otherMember<T extends { id: UserId }>(members: readonly T[], me: UserId | null): T | null {
  return members.find((m) => m.id !== me) ?? null;
}

/** What `onicecandidate` gives, as a signal: `null` (or an empty candidate) ends the generation. */
export function signalFromCandidate(
  candidate: Pick<RTCIceCandidate, "candidate" | "sdpMid" | "sdpMLineIndex" | "usernameFragment"> | null,
): Signal {
  if (!candidate?.candidate) return { kind: "end_of_candidates" };
  const signal: CandidateSignal = { kind: "candidate", candidate: candidate.candidate };
  if (candidate.sdpMid != null) signal.sdp_mid = candidate.sdpMid;
  if (candidate.sdpMLineIndex != null) signal.sdp_m_line_index = candidate.sdpMLineIndex;
  if (candidate.usernameFragment != null) signal.username_fragment = candidate.usernameFragment;
  return signal;
}

/** A `candidate` signal as `addIceCandidate` takes it. */
export function candidateFromSignal(signal: CandidateSignal): RTCIceCandidateInit {
  const init: RTCIceCandidateInit = { candidate: signal.candidate };
  if (signal.sdp_mid != null) init.sdpMid = signal.sdp_mid;
  if (signal.sdp_m_line_index != null) init.sdpMLineIndex = signal.sdp_m_line_index;
  if (signal.username_fragment != null) init.usernameFragment = signal.username_fragment;
  return init;
}

/** The peer connection's configuration: the snapshot's ICE servers, relay only if chosen. */
export function iceConfiguration(servers: readonly IceServer[], relayOnly: boolean): RTCConfiguration {
  return {
    iceServers: servers.map((s) => {
      const server: RTCIceServer = { urls: [...s.urls] };
      if (s.username != null) server.username = s.username;
      if (s.credential != null) server.credential = s.credential;
      return server;
    }),
    iceTransportPolicy: relayOnly ? "relay" : "all",
  };
}

/** Whether any of the servers is a TURN relay (relay-only needs one). */
export const hasRelay = (servers: readonly IceServer[]): boolean =>
  servers.some((s) => s.urls.some((u) => /^turns?:/i.test(u)));

/** What a getUserMedia failure means for the person in the call. */
export function mediaProblem(error: unknown): MediaProblem {
  const name = error instanceof Error || isNamed(error) ? error.name : "";
  switch (name) {
    case "NotAllowedError":
    case "SecurityError":
    case "PermissionDeniedError":
      return "denied";
    case "NotFoundError":
    case "OverconstrainedError":
    case "DevicesNotFoundError":
      return "missing";
    case "NotReadableError":
    case "AbortError":
    case "TrackStartError":
      return "busy";
    default:
      return "failed";
  }
}

function isNamed(x: unknown): x is { name: string } {
  return typeof x === "object" && x !== null && typeof (x as { name?: unknown }).name === "string";
}

/** The call's state in words' terms, from the peer connection's state. */
export function phaseOf(
  state: RTCPeerConnectionState | null,
  everConnected: boolean,
  peerLeft: boolean,
): CallPhase {
  switch (state) {
    case null:
    case "closed":
      return peerLeft ? "left" : "waiting";
    case "connected":
      return "connected";
    case "failed":
      return "failed";
    case "disconnected":
      return "reconnecting";
    default:
      return everConnected ? "reconnecting" : "connecting";
  }
}

export function loadRelayOnly(storage: Storage | undefined): boolean {
  return storage?.getItem(RELAY_KEY) === "true";
}

export function saveRelayOnly(storage: Storage | undefined, on: boolean): void {
  try {
    if (on) storage?.setItem(RELAY_KEY, "true");
    else storage?.removeItem(RELAY_KEY);
  } catch {
    // Storage full or refused: the choice holds for this page.
  }
}
