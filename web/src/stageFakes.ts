// Test doubles for the WebRTC stage's unit tests (never imported by the app): fake browser
// objects (tracks, streams, a peer connection with just what the stage uses), offers from the
// node, and `setup`, a session room on a fake node (src/fakes.ts) with a `StageSession` on them.
import type { RequestBody, RequestError, Snapshot } from "./connection";
import { fakeConnection, snapshotOf } from "./fakes";
import type { ServerMsg, StageTrack } from "./proto.gen";
import { sessionRoom } from "./rooms";
import { StageSession } from "./stageMedia";
import type { StageDeps } from "./stageViewer";

export const ROOM = "session:s";
export const ANA_CAMERA: StageTrack = {
  id: "1-0",
  user: "ana",
  name: "Ana",
  source: "camera",
  layers: ["l", "m", "h"],
};
export const ANA_MIC: StageTrack = { id: "1-1", user: "ana", name: "Ana", source: "microphone" };

let trackCount = 0;

export class FakeTrack {
  enabled = true;
  stopped = false;
  onended: (() => void) | null = null;
  readonly id = `track-${++trackCount}`;
  constructor(readonly kind: string) {}
  stop() {
    this.stopped = true;
  }
  getSettings() {
    return { deviceId: `${this.kind}-default` };
  }
}

export class FakeStream {
  constructor(readonly tracks: FakeTrack[]) {}
  getTracks() {
    return this.tracks;
  }
  getVideoTracks() {
    return this.tracks.filter((t) => t.kind === "video");
  }
}

interface FakeTransceiver {
  mid: string | null;
  direction: string;
  currentDirection: string | null;
  init?: RTCRtpTransceiverInit;
  sender: { track: FakeTrack | null; replaceTrack(track: FakeTrack | null): Promise<void> };
  receiver: { track: FakeTrack; getSynchronizationSources(): Array<{ audioLevel: number }> };
}

/** An RTCPeerConnection with just what the stage uses; `log` is shared with the fake node. */
export class FakePeer {
  connectionState: RTCPeerConnectionState = "new";
  signalingState: RTCSignalingState = "stable";
  localDescription: RTCSessionDescriptionInit | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  ontrack: (() => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  readonly transceivers: FakeTransceiver[] = [];
  private offers = 0;

  constructor(
    private readonly log: string[],
    /** More simulcast layers than this make `addTransceiver` throw. */
    private readonly maxEncodings: number,
  ) {}

  private add(kind: string, track: FakeTrack | null, direction: string, mid: string | null): FakeTransceiver {
    const t: FakeTransceiver = {
      mid,
      direction,
      currentDirection: null,
      sender: {
        track,
        replaceTrack: async (next) => {
          t.sender.track = next;
        },
      },
      receiver: { track: new FakeTrack(kind), getSynchronizationSources: () => [{ audioLevel: 0 }] },
    };
    this.transceivers.push(t);
    return t;
  }
  addTransceiver(track: FakeTrack, init: RTCRtpTransceiverInit) {
    if ((init.sendEncodings?.length ?? 0) > this.maxEncodings) throw new Error("simulcast refused");
    const t = this.add(track.kind, track, init.direction ?? "sendrecv", null);
    t.init = init;
    return t;
  }
  getTransceivers() {
    return this.transceivers;
  }
  getReceivers() {
    return this.transceivers.map((t) => t.receiver);
  }
  async createOffer() {
    this.offers += 1;
    return { type: "offer" as const, sdp: `offer ${this.offers}` };
  }
  async setLocalDescription(d?: RTCSessionDescriptionInit) {
    if (d?.type === "rollback") {
      this.signalingState = "stable";
      return;
    }
    if (this.signalingState === "have-remote-offer") {
      this.localDescription = { type: "answer", sdp: `answer to ${this.remoteDescription?.sdp?.length}` };
      this.signalingState = "stable";
      return;
    }
    this.transceivers.forEach((t, i) => {
      t.mid ??= String(i);
    });
    this.localDescription = d ?? (await this.createOffer());
    this.signalingState = "have-local-offer";
  }
  async setRemoteDescription(d: RTCSessionDescriptionInit) {
    this.remoteDescription = d;
    if (d.type !== "offer") {
      this.signalingState = "stable";
      return;
    }
    this.log.push(`remote ${d.sdp?.split("\n")[0]}`);
    this.signalingState = "have-remote-offer";
    for (const section of (d.sdp ?? "").split("\nm=").slice(1)) {
      const [, kind, port] = /^(\w+) (\d+)/.exec(section) ?? [];
      const mid = /a=mid:(\S+)/.exec(section)?.[1];
      if (!kind || !mid || kind === "application") continue;
      const existing = this.transceivers.find((t) => t.mid === mid);
      if (port === "0") {
        if (existing) existing.currentDirection = "stopped";
      } else if (!existing) {
        this.add(kind, null, "recvonly", mid);
        this.ontrack?.();
      }
    }
  }
  close() {
    this.connectionState = "closed";
  }
  become(state: RTCPeerConnectionState) {
    this.connectionState = state;
    this.onconnectionstatechange?.();
  }
}

/** An offer from the node, `name` on its first line, with one line per track. */
export function nodeOffer(
  name: string,
  lines: Array<{ mid: string; kind: string; track: string; stopped?: boolean }>,
) {
  return [
    `v=0 ${name}`,
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
    "a=mid:0",
    ...lines.flatMap((l) => [
      `m=${l.kind} ${l.stopped ? 0 : 9} UDP/TLS/RTP/SAVPF 96`,
      `a=mid:${l.mid}`,
      `a=msid:ana ${l.track}`,
      "a=sendonly",
    ]),
  ].join("\n");
}

export const ANA_OFFER = nodeOffer("view", [
  { mid: "1", kind: "video", track: "1-0" },
  { mid: "2", kind: "audio", track: "1-1" },
]);

export function memoryStorage(): Storage {
  const items = new Map<string, string>();
  return {
    getItem: (k: string) => items.get(k) ?? null,
    setItem: (k: string, v: string) => void items.set(k, v),
    removeItem: (k: string) => void items.delete(k),
    clear: () => items.clear(),
    key: () => null,
    get length() {
      return items.size;
    },
  };
}

export const flush = async () => {
  for (let i = 0; i < 30; i++) await Promise.resolve();
};

/** A session room on a fake node, with a stage session on fake browser objects. */
export function setup(
  options: {
    maxEncodings?: number;
    stored?: Record<string, string>;
    /** Who this tab's person is (`welcome.user`). */
    user?: string;
  } = {},
) {
  const fake = fakeConnection();
  const log: string[] = [];
  const peers: FakePeer[] = [];
  const captured: MediaStreamConstraints[] = [];
  const storage = memoryStorage();
  for (const [key, value] of Object.entries(options.stored ?? {})) storage.setItem(key, value);
  let captureFailure: Error | null = null;
  let refuse: ((body: RequestBody) => RequestError | null) | null = null;
  fake.answer((body): ServerMsg => {
    const refusal = refuse?.(body);
    if (refusal) throw refusal;
    switch (body.type) {
      case "media_view":
        return { type: "media_offer", rid: 1, room: ROOM, sdp: ANA_OFFER };
      case "media_publish":
        return { type: "media_published", rid: 1, room: ROOM, sdp: "published" };
      case "media_answer":
        log.push("answer");
        return { type: "ack", rid: 1 };
      default:
        return { type: "ack", rid: 1 };
    }
  });
  const media = {
    getUserMedia: async (constraints: MediaStreamConstraints) => {
      captured.push(constraints);
      if (captureFailure) throw captureFailure;
      const tracks = [
        ...(constraints.audio ? [new FakeTrack("audio")] : []),
        ...(constraints.video ? [new FakeTrack("video")] : []),
      ];
      return new FakeStream(tracks);
    },
    getDisplayMedia: async () => new FakeStream([new FakeTrack("video")]),
    enumerateDevices: async () => [],
  };
  const deps: StageDeps = {
    createPeer: () => {
      const peer = new FakePeer(log, options.maxEncodings ?? 3);
      peers.push(peer);
      return peer as unknown as RTCPeerConnection;
    },
    createStream: (tracks) => new FakeStream(tracks as unknown as FakeTrack[]) as unknown as MediaStream,
    media: () => media as unknown as MediaDevices,
    storage: () => storage,
  };
  const room = sessionRoom(fake.connection, ROOM);
  const ids = { connection: "c1", user: options.user ?? "me" };
  const session = new StageSession(
    room.parts.media,
    room.parts.lineup,
    {
      connection: () => ids.connection,
      user: () => ids.user,
      managesStage: () => room.you.value?.can_manage_stage ?? false,
    },
    deps,
  );
  const handler = fake.handler(ROOM);
  return {
    fake,
    log,
    peers,
    captured,
    storage,
    session,
    handler,
    ids,
    sent: (type: string) => fake.requests.filter((r) => r.type === type),
    failCapture(e: Error | null) {
      captureFailure = e;
    },
    refuse(f: (body: RequestBody) => RequestError | null) {
      refuse = f;
    },
    room,
    /** Joins with a snapshot holding `tracks` (and whatever else `extra` says). */
    async join(tracks: StageTrack[] = [ANA_CAMERA, ANA_MIC], extra: Partial<Snapshot> = {}) {
      handler.snapshot(snapshotOf(ROOM, { stage_tracks: tracks, ...extra }));
      await flush();
    },
    async rejoin() {
      handler.resumed?.({
        type: "resumed",
        rid: 2,
        room: ROOM,
        epoch: "e1",
        replayed: 0,
        attendance: { present: 2, unique: 2 },
        you: snapshotOf(ROOM).you,
      });
      await flush();
    },
  };
}
