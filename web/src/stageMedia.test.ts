// The WebRTC stage of a session room, with a fake node (src/fakes.ts) and fake browser objects:
// viewing (offers answered one at a time, tracks matched, quality, retries, reconnects) and
// publishing (simulcast and its fallback, refusals, mute and camera, screen, leaving).
import { afterEach, describe, expect, it, vi } from "vitest";
import { type RequestBody, RequestError } from "./connection";
import { fakeConnection, snapshotOf } from "./fakes";
import type { ServerMsg, StageTrack } from "./proto.gen";
import { sessionRoom } from "./rooms";
import { StageSession } from "./stageMedia";
import type { StageDeps } from "./stageViewer";

const ROOM = "session:s";
const ANA_CAMERA: StageTrack = {
  id: "1-0",
  user: "ana",
  name: "Ana",
  source: "camera",
  layers: ["l", "m", "h"],
};
const ANA_MIC: StageTrack = { id: "1-1", user: "ana", name: "Ana", source: "microphone" };

let trackCount = 0;

class FakeTrack {
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

class FakeStream {
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
class FakePeer {
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
function nodeOffer(
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

const ANA_OFFER = nodeOffer("view", [
  { mid: "1", kind: "video", track: "1-0" },
  { mid: "2", kind: "audio", track: "1-1" },
]);

function memoryStorage(): Storage {
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

const flush = async () => {
  for (let i = 0; i < 30; i++) await Promise.resolve();
};

/** A session room on a fake node, with a stage session on fake browser objects. */
function setup(options: { maxEncodings?: number; stored?: Record<string, string> } = {}) {
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
  const ids = { connection: "c1" };
  const session = new StageSession(room.parts.media, () => ids.connection, deps);
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
    async join(tracks: StageTrack[] = [ANA_CAMERA, ANA_MIC]) {
      handler.snapshot(snapshotOf(ROOM, { stage_tracks: tracks }));
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

afterEach(() => {
  vi.useRealTimers();
});

describe("viewing the stage", () => {
  it("views from the first join, answers the offer and matches each track to the stage's", async () => {
    const s = setup();
    await s.join();
    expect(s.sent("media_view")).toEqual([{ type: "media_view", room: ROOM, quality: "auto" }]);
    expect(s.sent("media_answer")).toEqual([{ type: "media_answer", room: ROOM, sdp: expect.any(String) }]);
    const viewer = s.session.viewer;
    expect([...viewer.received.value.keys()]).toEqual(["1-0", "1-1"]);
    expect(viewer.received.value.get("1-0")?.kind).toBe("video");
    expect(s.session.part.tracks.value).toEqual([ANA_CAMERA, ANA_MIC]);
    expect(viewer.phase.value).toBe("connecting");
    s.peers[0]?.become("connected");
    expect(viewer.phase.value).toBe("connected");
    s.session.close();
  });

  it("answers the node's later offers one at a time, in order, and drops stopped tracks", async () => {
    const s = setup();
    await s.join();
    s.handler.mediaOffer?.(nodeOffer("second", [{ mid: "1", kind: "video", track: "1-0", stopped: true }]));
    s.handler.mediaOffer?.(nodeOffer("third", [{ mid: "3", kind: "video", track: "3-0" }]));
    await flush();
    expect(s.log).toEqual([
      "remote v=0 view",
      "answer",
      "remote v=0 second",
      "answer",
      "remote v=0 third",
      "answer",
    ]);
    expect([...s.session.viewer.received.value.keys()]).toEqual(["3-0"]);
    s.session.close();
  });

  it("switches quality without viewing again, and remembers the choice", async () => {
    const s = setup();
    await s.join();
    await s.session.viewer.setQuality("audio_only");
    expect(s.sent("media_quality")).toEqual([{ type: "media_quality", room: ROOM, quality: "audio_only" }]);
    expect(s.sent("media_view")).toHaveLength(1);
    expect(s.storage.getItem("plenary.stage.quality")).toBe("audio_only");
    s.session.close();
    // A later visit asks for its last choice from the start.
    const next = setup({ stored: { "plenary.stage.quality": "low" } });
    await next.join();
    expect(next.sent("media_view")).toEqual([{ type: "media_view", room: ROOM, quality: "low" }]);
    next.session.close();
  });

  it("views again after the WebSocket reconnects, and not after a rejoin on the same connection", async () => {
    const s = setup();
    await s.join();
    s.peers[0]?.become("connected");
    await s.rejoin();
    expect(s.sent("media_view")).toHaveLength(1);
    s.ids.connection = "c2";
    await s.rejoin();
    expect(s.sent("media_view")).toHaveLength(2);
    expect(s.peers[0]?.connectionState).toBe("closed");
    expect(s.session.viewer.phase.value).toBe("reconnecting");
    s.peers[1]?.become("connected");
    expect(s.session.viewer.phase.value).toBe("connected");
    s.session.close();
  });

  it("retries a view the node still holds (409) after a pause, and says when the stage is full (503)", async () => {
    vi.useFakeTimers();
    const s = setup();
    s.refuse((body) => (body.type === "media_view" ? new RequestError(409, "peer exists already") : null));
    await s.join();
    expect(s.session.viewer.phase.value).toBe("reconnecting");
    s.refuse((body) => (body.type === "media_view" ? new RequestError(503, "the stage is full") : null));
    await vi.advanceTimersByTimeAsync(1_000);
    await flush();
    expect(s.sent("media_view")).toHaveLength(2);
    expect(s.session.viewer.problem.value).toEqual({ kind: "full", message: "the stage is full" });
    expect(s.session.viewer.phase.value).toBe("idle");
    s.session.close();
  });

  it("opens the view again when its connection fails", async () => {
    vi.useFakeTimers();
    const s = setup();
    await s.join();
    s.peers[0]?.become("failed");
    expect(s.session.viewer.phase.value).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(1_000);
    await flush();
    expect(s.sent("media_view")).toHaveLength(2);
    s.session.viewer.retry();
    await flush();
    expect(s.sent("media_view")).toHaveLength(3);
    s.session.close();
  });
});

describe("going on stage", () => {
  /** The publisher's peer connection (the viewer's is the first). */
  const publisherPeer = (s: ReturnType<typeof setup>) => s.peers[1] as FakePeer;

  it("sends the microphone and the camera in three layers, naming each line's source", async () => {
    const s = setup();
    await s.join();
    await s.session.publisher.goOnStage();
    expect(s.captured[0]).toEqual({ audio: true, video: { width: { ideal: 1280 }, height: { ideal: 720 } } });
    const peer = publisherPeer(s);
    const camera = peer.transceivers[1];
    expect(camera?.init?.sendEncodings?.map((e) => e.rid)).toEqual(["l", "m", "h"]);
    expect(peer.transceivers.map((t) => t.direction)).toEqual(["sendonly", "sendonly"]);
    expect(s.sent("media_publish")).toEqual([
      {
        type: "media_publish",
        room: ROOM,
        sdp: "offer 1",
        tracks: [
          { mid: "0", source: "microphone" },
          { mid: "1", source: "camera" },
        ],
      },
    ]);
    expect(peer.remoteDescription).toEqual({ type: "answer", sdp: "published" });
    const publisher = s.session.publisher;
    expect([publisher.onStage.value, publisher.microphone.value, publisher.camera.value]).toEqual([
      true,
      "on",
      "on",
    ]);
    peer.become("connected");
    expect(publisher.phase.value).toBe("connected");
    s.session.close();
  });

  it("offers fewer layers when the browser refuses three", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const s = setup({ maxEncodings: 2 });
    await s.join();
    await s.session.publisher.goOnStage();
    expect(publisherPeer(s).transceivers[1]?.init?.sendEncodings?.map((e) => e.rid)).toEqual(["l", "h"]);
    expect(warn).toHaveBeenCalledOnce();
    warn.mockRestore();
    s.session.close();
  });

  it("a refusal from the node takes the speaker off the stage and says why", async () => {
    const s = setup();
    await s.join();
    s.refuse((body) =>
      body.type === "media_publish"
        ? new RequestError(403, "only the session's speakers and moderators publish")
        : null,
    );
    await s.session.publisher.goOnStage();
    const publisher = s.session.publisher;
    expect(publisher.refusal.value?.kind).toBe("forbidden");
    expect(publisher.onStage.value).toBe(false);
    expect(publisherPeer(s).connectionState).toBe("closed");
    expect(publisherPeer(s).transceivers.every((t) => t.sender.track?.stopped)).toBe(true);
    s.session.close();
  });

  it("says a refused camera and microphone, and publishes nothing", async () => {
    const s = setup();
    await s.join();
    s.failCapture(Object.assign(new Error("Permission denied"), { name: "NotAllowedError" }));
    await s.session.publisher.goOnStage();
    expect(s.session.publisher.problem.value?.kind).toBe("denied");
    expect(s.session.publisher.onStage.value).toBe(false);
    expect(s.sent("media_publish")).toEqual([]);
    s.session.close();
  });

  it("mutes in place, and turns the camera off and on with a new offer each time", async () => {
    const s = setup();
    await s.join();
    const publisher = s.session.publisher;
    await publisher.goOnStage();
    const peer = publisherPeer(s);
    publisher.toggleMicrophone();
    expect(publisher.microphone.value).toBe("off");
    expect(peer.transceivers[0]?.sender.track?.enabled).toBe(false);
    expect(s.sent("media_publish")).toHaveLength(1);

    const camera = peer.transceivers[1]?.sender.track;
    await publisher.toggleCamera();
    expect(publisher.camera.value).toBe("off");
    expect(camera?.stopped).toBe(true);
    expect(peer.transceivers[1]?.direction).toBe("inactive");
    expect(s.sent("media_publish")).toHaveLength(2);

    await publisher.toggleCamera();
    expect(publisher.camera.value).toBe("on");
    expect(peer.transceivers[2]?.init?.sendEncodings).toHaveLength(3);
    const last = s.sent("media_publish").at(-1);
    expect(last?.type === "media_publish" && last.tracks).toContainEqual({ mid: "2", source: "camera" });
    s.session.close();
  });

  it("shares a screen on a line of its own, and stops", async () => {
    const s = setup();
    await s.join();
    const publisher = s.session.publisher;
    await publisher.goOnStage();
    await publisher.shareScreen();
    expect(publisher.sharing.value).toBe(true);
    const shared = s.sent("media_publish").at(-1);
    expect(shared?.type === "media_publish" && shared.tracks).toContainEqual({ mid: "2", source: "screen" });
    await publisher.stopSharing();
    expect(publisher.sharing.value).toBe(false);
    expect(publisherPeer(s).transceivers[2]?.direction).toBe("inactive");
    expect(s.sent("media_publish")).toHaveLength(3);
    s.session.close();
  });

  it("leaving sends media_stop, stops the devices and views the stage again", async () => {
    const s = setup();
    await s.join();
    const publisher = s.session.publisher;
    await publisher.goOnStage();
    const tracks = publisherPeer(s).transceivers.map((t) => t.sender.track);
    await publisher.leave();
    await flush();
    expect(s.sent("media_stop")).toEqual([{ type: "media_stop", room: ROOM }]);
    expect(tracks.every((t) => t?.stopped)).toBe(true);
    expect(publisher.onStage.value).toBe(false);
    expect(s.sent("media_view")).toHaveLength(2);
    s.session.close();
  });

  it("publishes the same tracks again after the WebSocket reconnects", async () => {
    const s = setup();
    await s.join();
    const publisher = s.session.publisher;
    await publisher.goOnStage();
    const microphone = publisherPeer(s).transceivers[0]?.sender.track;
    publisherPeer(s).become("connected");
    s.ids.connection = "c2";
    await s.rejoin();
    expect(publisher.phase.value).toBe("reconnecting");
    // The viewer's and the publisher's new connections.
    expect(s.peers).toHaveLength(4);
    const republished = s.peers.find(
      (p, i) => i > 1 && p.transceivers.some((t) => t.direction === "sendonly"),
    );
    expect(republished?.transceivers[0]?.sender.track).toBe(microphone);
    expect(microphone?.stopped).toBe(false);
    expect(s.sent("media_publish")).toHaveLength(2);
    expect(s.sent("media_stop")).toEqual([]);
    s.session.close();
  });
});
