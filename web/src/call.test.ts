import { describe, expect, it } from "vitest";
import {
  type CallDeps,
  CallSession,
  candidateFromSignal,
  hasRelay,
  iceConfiguration,
  isPolite,
  loadRelayOnly,
  mediaProblem,
  otherMember,
  phaseOf,
  saveRelayOnly,
  signalFromCandidate,
} from "./call";
import type { Connection, RequestBody, RoomHandler, Snapshot } from "./connection";
import type { Signal } from "./proto.gen";
import { callRoom } from "./rooms";

const VISITOR = "guest-kofi";
const STAFF = "auth0|ana";
const MEMBERS = [
  { id: VISITOR, name: "Kofi" },
  { id: STAFF, name: "Ana" },
];

describe("isPolite", () => {
  it("makes the visitor polite and the staff member impolite", () => {
    expect(isPolite(VISITOR, STAFF, MEMBERS)).toBe(true);
    expect(isPolite(STAFF, VISITOR, MEMBERS)).toBe(false);
  });

  it("without the members, the smaller id is polite, and the two sides always differ", () => {
    expect(isPolite("a", "b")).toBe(true);
    expect(isPolite("b", "a")).toBe(false);
    // Staff listed first would still give opposite answers on the two sides.
    const reversed = [...MEMBERS].reverse();
    expect(isPolite(VISITOR, STAFF, reversed)).not.toBe(isPolite(STAFF, VISITOR, reversed));
  });

  it("finds the other member", () => {
    expect(otherMember(MEMBERS, VISITOR)?.id).toBe(STAFF);
    expect(otherMember(MEMBERS, STAFF)?.id).toBe(VISITOR);
    expect(otherMember([], STAFF)).toBeNull();
  });
});

describe("candidates", () => {
  it("maps an ICE candidate to snake_case and back", () => {
    const candidate = {
      candidate: "candidate:1 1 udp 2122260223 192.0.2.2 50000 typ host",
      sdpMid: "0",
      sdpMLineIndex: 0,
      usernameFragment: "EsAw",
    };
    const signal = signalFromCandidate(candidate);
    expect(signal).toEqual({
      kind: "candidate",
      candidate: candidate.candidate,
      sdp_mid: "0",
      sdp_m_line_index: 0,
      username_fragment: "EsAw",
    });
    if (signal.kind !== "candidate") throw new Error("not a candidate");
    expect(candidateFromSignal(signal)).toEqual(candidate);
  });

  it("leaves out what the browser did not give", () => {
    const signal = signalFromCandidate({
      candidate: "candidate:2",
      sdpMid: null,
      sdpMLineIndex: 1,
      usernameFragment: null,
    });
    expect(signal).toEqual({ kind: "candidate", candidate: "candidate:2", sdp_m_line_index: 1 });
    expect(candidateFromSignal({ kind: "candidate", candidate: "c", sdp_mid: null })).toEqual({
      candidate: "c",
    });
  });

  it("ends the candidates on null or an empty candidate", () => {
    expect(signalFromCandidate(null)).toEqual({ kind: "end_of_candidates" });
    expect(
      signalFromCandidate({ candidate: "", sdpMid: "0", sdpMLineIndex: 0, usernameFragment: null }),
    ).toEqual({ kind: "end_of_candidates" });
  });
});

describe("iceConfiguration", () => {
  const servers = [
    { urls: ["stun:stun.example.org:3478"], username: null, credential: null },
    {
      urls: ["turn:turn.example.org:3478?transport=udp"],
      username: "1767272400:kofi",
      credential: "c2VjcmV0",
    },
  ];

  it("passes the ICE servers on without empty fields", () => {
    expect(iceConfiguration(servers, false)).toEqual({
      iceServers: [
        { urls: ["stun:stun.example.org:3478"] },
        {
          urls: ["turn:turn.example.org:3478?transport=udp"],
          username: "1767272400:kofi",
          credential: "c2VjcmV0",
        },
      ],
      iceTransportPolicy: "all",
    });
    expect(iceConfiguration([], false)).toEqual({ iceServers: [], iceTransportPolicy: "all" });
  });

  it("gathers relay candidates only when the address is to stay hidden", () => {
    expect(iceConfiguration(servers, true).iceTransportPolicy).toBe("relay");
  });

  it("knows whether a relay exists", () => {
    expect(hasRelay(servers)).toBe(true);
    expect(hasRelay([{ urls: ["turns:turn.example.org:5349"] }])).toBe(true);
    expect(hasRelay(servers.slice(0, 1))).toBe(false);
    expect(hasRelay([])).toBe(false);
  });

  it("remembers the relay-only choice", () => {
    const storage = memoryStorage();
    expect(loadRelayOnly(storage)).toBe(false);
    saveRelayOnly(storage, true);
    expect(loadRelayOnly(storage)).toBe(true);
    saveRelayOnly(storage, false);
    expect(loadRelayOnly(storage)).toBe(false);
    expect(loadRelayOnly(undefined)).toBe(false);
  });
});

describe("mediaProblem", () => {
  it("tells a refusal from a missing or busy device", () => {
    expect(mediaProblem(new DOMException("Permission denied", "NotAllowedError"))).toBe("denied");
    expect(mediaProblem(new DOMException("Requested device not found", "NotFoundError"))).toBe("missing");
    expect(mediaProblem({ name: "OverconstrainedError" })).toBe("missing");
    expect(mediaProblem(new DOMException("Could not start video source", "NotReadableError"))).toBe("busy");
    expect(mediaProblem(new TypeError("bad constraints"))).toBe("failed");
    expect(mediaProblem("nonsense")).toBe("failed");
  });
});

describe("phaseOf", () => {
  it("puts the connection's state in the words' terms", () => {
    expect(phaseOf(null, false, false)).toBe("waiting");
    expect(phaseOf(null, false, true)).toBe("left");
    expect(phaseOf("closed", true, true)).toBe("left");
    expect(phaseOf("new", false, false)).toBe("connecting");
    expect(phaseOf("connecting", false, false)).toBe("connecting");
    expect(phaseOf("connected", true, false)).toBe("connected");
    expect(phaseOf("disconnected", true, false)).toBe("reconnecting");
    expect(phaseOf("connecting", true, false)).toBe("reconnecting");
    expect(phaseOf("failed", true, false)).toBe("failed");
  });
});

// --- The session, with a fake connection, peer connection and devices ----------------------

function memoryStorage(): Storage {
  const map = new Map<string, string>();
  return {
    getItem: (k: string) => map.get(k) ?? null,
    setItem: (k: string, v: string) => void map.set(k, v),
    removeItem: (k: string) => void map.delete(k),
    clear: () => map.clear(),
    key: () => null,
    get length() {
      return map.size;
    },
  };
}

class FakeTrack {
  enabled = true;
  readyState = "live";
  stopped = false;
  onended: (() => void) | null = null;
  constructor(
    readonly kind: "audio" | "video",
    readonly id = `${kind}-${Math.random()}`,
  ) {}
  stop() {
    this.stopped = true;
    this.readyState = "ended";
  }
  getSettings() {
    return { deviceId: `${this.kind}-device` };
  }
}

class FakeStream {
  readonly tracks: FakeTrack[] = [];
  constructor(tracks: FakeTrack[] = []) {
    this.tracks.push(...tracks);
  }
  getTracks() {
    return [...this.tracks];
  }
  getTrackById(id: string) {
    return this.tracks.find((t) => t.id === id) ?? null;
  }
  addTrack(t: FakeTrack) {
    this.tracks.push(t);
  }
  removeTrack(t: FakeTrack) {
    this.tracks.splice(this.tracks.indexOf(t), 1);
  }
}

interface FakeTransceiver {
  kind: string;
  direction: string;
  currentDirection: string | null;
  sender: { track: FakeTrack | null; replaceTrack(t: FakeTrack): Promise<void> };
  receiver: { track: { kind: string } };
}

/** Enough of RTCPeerConnection for the negotiation: states move as in a browser. */
class FakePeer {
  signalingState: RTCSignalingState = "stable";
  connectionState: RTCPeerConnectionState = "new";
  localDescription: { type: RTCSdpType; sdp: string } | null = null;
  onnegotiationneeded: (() => Promise<void>) | null = null;
  onicecandidate: ((e: { candidate: unknown }) => void) | null = null;
  ontrack: ((e: { track: FakeTrack }) => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  readonly transceivers: FakeTransceiver[] = [];
  readonly log: string[] = [];
  readonly candidates: Array<RTCIceCandidateInit | undefined> = [];
  restarts = 0;
  failCandidates = false;

  constructor(public config: RTCConfiguration) {}

  private transceiver(kind: string, track: FakeTrack | null, direction: string): FakeTransceiver {
    const t: FakeTransceiver = {
      kind,
      direction,
      currentDirection: null,
      sender: {
        track,
        replaceTrack: async (next) => {
          t.sender.track = next;
        },
      },
      receiver: { track: { kind } },
    };
    this.transceivers.push(t);
    return t;
  }
  addTransceiver(kind: string, init: { direction: string }) {
    this.log.push(`transceiver ${kind}`);
    return this.transceiver(kind, null, init.direction);
  }
  addTrack(track: FakeTrack) {
    this.log.push(`track ${track.kind}`);
    return this.transceiver(track.kind, track, "sendrecv").sender;
  }
  getTransceivers() {
    return this.transceivers;
  }
  getSenders() {
    return this.transceivers.map((t) => t.sender);
  }
  async setLocalDescription() {
    if (this.signalingState === "have-remote-offer") {
      this.localDescription = { type: "answer", sdp: "v=0 answer" };
      this.signalingState = "stable";
    } else {
      this.localDescription = { type: "offer", sdp: "v=0 offer" };
      this.signalingState = "have-local-offer";
    }
  }
  async setRemoteDescription(d: RTCSessionDescriptionInit) {
    if (d.type === "offer") {
      if (this.signalingState === "have-local-offer") this.log.push("rollback");
      this.signalingState = "have-remote-offer";
    } else {
      this.signalingState = "stable";
    }
    this.log.push(`remote ${d.type}`);
  }
  async addIceCandidate(c?: RTCIceCandidateInit) {
    if (this.failCandidates) throw new Error("no remote description");
    this.candidates.push(c);
  }
  restartIce() {
    this.restarts += 1;
  }
  setConfiguration(c: RTCConfiguration) {
    this.config = c;
  }
  close() {
    this.connectionState = "closed";
    this.signalingState = "closed";
  }
  /** The browser moving the connection to `state`. */
  become(state: RTCPeerConnectionState) {
    this.connectionState = state;
    this.onconnectionstatechange?.();
  }
}

const tick = () => new Promise((r) => setTimeout(r, 0));

function setup(me: string, media: { fail?: (c: MediaStreamConstraints) => unknown } = {}) {
  const handlers = new Map<string, RoomHandler>();
  const sent: RequestBody[] = [];
  const connection = {
    join(room: string, handler: RoomHandler) {
      handlers.set(room, handler);
      return () => handlers.delete(room);
    },
    async request(body: RequestBody) {
      sent.push(body);
      return { type: "ack", rid: 1 };
    },
  } as unknown as Connection;
  const room = callRoom(connection, "call:ab");
  const peers: FakePeer[] = [];
  const requests: MediaStreamConstraints[] = [];
  const storage = memoryStorage();
  const devices = {
    async getUserMedia(c: MediaStreamConstraints) {
      requests.push(c);
      const error = media.fail?.(c);
      if (error) throw error;
      const tracks = [];
      if (c.audio) tracks.push(new FakeTrack("audio"));
      if (c.video) tracks.push(new FakeTrack("video"));
      return new FakeStream(tracks);
    },
    async enumerateDevices() {
      return [
        { kind: "audioinput", deviceId: "audio-device", label: "Built-in microphone" },
        { kind: "videoinput", deviceId: "video-device", label: "Built-in camera" },
      ];
    },
    addEventListener() {},
    removeEventListener() {},
  };
  const deps: CallDeps = {
    createPeer: (config) => {
      const peer = new FakePeer(config);
      peers.push(peer);
      return peer as unknown as RTCPeerConnection;
    },
    createStream: () => new FakeStream() as unknown as MediaStream,
    media: () => devices as unknown as MediaDevices,
    storage: () => storage,
  };
  const session = new CallSession(room.parts.call, () => me, deps);
  const handler = handlers.get("call:ab") as RoomHandler;
  const join = () =>
    handler.snapshot({
      type: "snapshot",
      rid: 1,
      room: "call:ab",
      epoch: "e1",
      seq: 1,
      attendance: { present: 1, unique: 1 },
      chat: [],
      chat_more: false,
      call: { members: MEMBERS, booth: "itu", opened_at: 1 },
      ice_servers: [{ urls: ["stun:127.0.0.1:3478"] }],
      you: {
        role: "attendee",
        can_chat: true,
        can_moderate: false,
        can_manage_stage: false,
        can_announce: false,
      },
    } as Snapshot);
  const other = me === VISITOR ? STAFF : VISITOR;
  const receive = (signal: Signal) => handler.signal?.(other, signal);
  const signals = () =>
    sent.flatMap((b) => (b.type === "call_signal" ? [{ to: b.to, signal: b.signal }] : []));
  const kinds = () => signals().map((s) => s.signal.kind);
  const peer = () => peers.at(-1) as FakePeer;
  return { session, room, join, receive, signals, kinds, peer, peers, requests, storage, other };
}

describe("CallSession", () => {
  it("announces itself on joining and waits", () => {
    const call = setup(VISITOR);
    call.join();
    expect(call.signals()).toEqual([{ to: STAFF, signal: { kind: "ready" } }]);
    expect(call.session.phase.value).toBe("waiting");
    expect(call.peers).toHaveLength(0);
  });

  it("answers a ready with a reply and connects; never answers a reply", async () => {
    const staff = setup(STAFF);
    staff.join();
    staff.receive({ kind: "ready" });
    expect(staff.signals().slice(1, 3)).toEqual([
      { to: VISITOR, signal: { kind: "ready", reply: true } },
      { to: VISITOR, signal: { kind: "media", audio: false, video: false } },
    ]);
    expect(staff.peers).toHaveLength(1);
    expect(staff.session.polite).toBe(false);
    // The impolite side opens an audio and a video line even without a camera.
    expect(staff.peer().log).toEqual(["transceiver audio", "transceiver video"]);
    expect(staff.peer().transceivers.map((t) => t.direction)).toEqual(["recvonly", "recvonly"]);
    expect(staff.peer().config.iceServers).toEqual([{ urls: ["stun:127.0.0.1:3478"] }]);
    expect(staff.session.phase.value).toBe("connecting");
    await staff.peer().onnegotiationneeded?.();
    expect(staff.signals().at(-1)).toEqual({ to: VISITOR, signal: { kind: "offer", sdp: "v=0 offer" } });

    const visitor = setup(VISITOR);
    visitor.join();
    visitor.receive({ kind: "ready", reply: true });
    expect(visitor.kinds()).toEqual(["ready", "media"]);
    expect(visitor.peers).toHaveLength(1);
    expect(visitor.session.polite).toBe(true);
    expect(visitor.peer().log).toEqual([]);
    // A second reply changes nothing.
    visitor.receive({ kind: "ready", reply: true });
    expect(visitor.peers).toHaveLength(1);
  });

  it("starts afresh when the peer's page is new", () => {
    const staff = setup(STAFF);
    staff.join();
    staff.receive({ kind: "ready" });
    const first = staff.peer();
    staff.receive({ kind: "ready" });
    expect(first.connectionState).toBe("closed");
    expect(staff.peers).toHaveLength(2);
  });

  it("the polite side yields to a colliding offer and answers it", async () => {
    const visitor = setup(VISITOR);
    visitor.join();
    visitor.receive({ kind: "ready", reply: true });
    const pc = visitor.peer();
    await pc.setLocalDescription(); // its own offer, in flight
    visitor.receive({ kind: "offer", sdp: "v=0 theirs" });
    await tick();
    expect(pc.log).toEqual(["rollback", "remote offer"]);
    expect(visitor.signals().at(-1)?.signal).toEqual({ kind: "answer", sdp: "v=0 answer" });
  });

  it("the impolite side ignores a colliding offer and the failures of its candidates", async () => {
    const staff = setup(STAFF);
    staff.join();
    staff.receive({ kind: "ready" });
    const pc = staff.peer();
    await pc.onnegotiationneeded?.();
    staff.receive({ kind: "offer", sdp: "v=0 theirs" });
    await tick();
    expect(pc.log).not.toContain("remote offer");
    pc.failCandidates = true;
    staff.receive({ kind: "candidate", candidate: "candidate:1", sdp_mid: "0" });
    await tick();
    // Then the answer to its own offer is taken.
    pc.failCandidates = false;
    staff.receive({ kind: "answer", sdp: "v=0 answer" });
    await tick();
    expect(pc.signalingState).toBe("stable");
    staff.receive({ kind: "candidate", candidate: "candidate:2", sdp_m_line_index: 0 });
    staff.receive({ kind: "end_of_candidates" });
    await tick();
    expect(pc.candidates).toEqual([{ candidate: "candidate:2", sdpMLineIndex: 0 }, undefined]);
  });

  it("sends its candidates, and the end of them", () => {
    const staff = setup(STAFF);
    staff.join();
    staff.receive({ kind: "ready" });
    staff.peer().onicecandidate?.({
      candidate: { candidate: "candidate:9", sdpMid: "1", sdpMLineIndex: 1, usernameFragment: null },
    });
    staff.peer().onicecandidate?.({ candidate: null });
    expect(staff.signals().slice(-2)).toEqual([
      {
        to: VISITOR,
        signal: { kind: "candidate", candidate: "candidate:9", sdp_mid: "1", sdp_m_line_index: 1 },
      },
      { to: VISITOR, signal: { kind: "end_of_candidates" } },
    ]);
  });

  it("restarts ICE when the connection fails: the impolite side itself, the polite side by asking", () => {
    const staff = setup(STAFF);
    staff.join();
    staff.receive({ kind: "ready" });
    staff.peer().become("connected");
    expect(staff.session.phase.value).toBe("connected");
    staff.peer().become("disconnected");
    expect(staff.session.phase.value).toBe("reconnecting");
    staff.peer().become("failed");
    expect(staff.session.phase.value).toBe("failed");
    expect(staff.peer().restarts).toBe(1);
    staff.receive({ kind: "restart" });
    expect(staff.peer().restarts).toBe(2);

    const visitor = setup(VISITOR);
    visitor.join();
    visitor.receive({ kind: "ready", reply: true });
    visitor.peer().become("failed");
    expect(visitor.peer().restarts).toBe(0);
    expect(visitor.kinds().at(-1)).toBe("restart");
  });

  it("shows the peer's media, and its leaving", () => {
    const visitor = setup(VISITOR);
    visitor.join();
    visitor.receive({ kind: "ready", reply: true });
    visitor.receive({ kind: "media", audio: true, video: false });
    expect(visitor.session.peerMedia.value).toEqual({ audio: true, video: false });
    const pc = visitor.peer();
    visitor.receive({ kind: "bye" });
    expect(pc.connectionState).toBe("closed");
    expect(visitor.session.phase.value).toBe("left");
    expect(visitor.session.peerMedia.value).toBeNull();
    // Back again: a new connection.
    visitor.receive({ kind: "ready" });
    expect(visitor.session.phase.value).toBe("connecting");
  });

  it("ignores signals from anyone but the other member", () => {
    const visitor = setup(VISITOR);
    visitor.join();
    visitor.room.parts.call.onSignal?.("someone-else", { kind: "ready" });
    expect(visitor.peers).toHaveLength(0);
  });

  it("after a reconnect of the WebSocket keeps a connection that works, and restarts one that does not", () => {
    const staff = setup(STAFF);
    staff.join();
    staff.receive({ kind: "ready" });
    staff.peer().become("connected");
    staff.join();
    expect(staff.peers).toHaveLength(1);
    expect(staff.kinds().filter((k) => k === "ready")).toHaveLength(2);
    staff.peer().become("disconnected");
    staff.join();
    expect(staff.peer().connectionState).toBe("closed");
    expect(staff.kinds().filter((k) => k === "ready")).toHaveLength(3);
    expect(staff.session.phase.value).toBe("waiting");
  });

  it("starts the camera and microphone, sends them and tells the peer; mutes", async () => {
    const staff = setup(STAFF);
    staff.join();
    staff.receive({ kind: "ready" });
    await staff.session.start({ audio: true, video: true });
    expect(staff.requests).toEqual([{ audio: true, video: true }]);
    expect(staff.session.microphone.value).toBe("on");
    expect(staff.session.camera.value).toBe("on");
    // The tracks go on the lines already open (no new ones), which now send too: a
    // renegotiation tells the other side of the new streams.
    expect(staff.peer().transceivers.map((t) => [t.kind, t.sender.track?.kind, t.direction])).toEqual([
      ["audio", "audio", "sendrecv"],
      ["video", "video", "sendrecv"],
    ]);
    expect(staff.signals().at(-1)?.signal).toEqual({ kind: "media", audio: true, video: true });
    expect(staff.session.devices.value.video.map((d) => d.label)).toEqual(["Built-in camera"]);
    staff.session.toggle("audio");
    expect(staff.session.microphone.value).toBe("off");
    expect(staff.signals().at(-1)?.signal).toEqual({ kind: "media", audio: false, video: true });
  });

  it("the polite side's tracks are added when its connection starts", async () => {
    const visitor = setup(VISITOR);
    visitor.join();
    await visitor.session.start({ audio: true, video: false });
    visitor.receive({ kind: "ready", reply: true });
    expect(visitor.peer().log).toEqual(["track audio"]);
  });

  it("a refusal is reported and the call goes on without media", async () => {
    const visitor = setup(VISITOR, {
      fail: () => new DOMException("Permission denied", "NotAllowedError"),
    });
    visitor.join();
    await visitor.session.start({ audio: true, video: true });
    expect(visitor.session.problem.value?.kind).toBe("denied");
    expect(visitor.session.microphone.value).toBe("none");
    // Asked once: a refusal is not retried device by device.
    expect(visitor.requests).toHaveLength(1);
    visitor.receive({ kind: "ready" });
    expect(visitor.session.phase.value).toBe("connecting");
  });

  it("without a camera, joins with the microphone", async () => {
    const visitor = setup(VISITOR, {
      fail: (c) => (c.video ? new DOMException("Requested device not found", "NotFoundError") : null),
    });
    visitor.join();
    await visitor.session.start({ audio: true, video: true });
    expect(visitor.session.problem.value?.kind).toBe("noCamera");
    expect(visitor.session.microphone.value).toBe("on");
    expect(visitor.session.camera.value).toBe("none");
  });

  it("switches devices by replacing the track, and remembers the choice", async () => {
    const staff = setup(STAFF);
    staff.join();
    staff.receive({ kind: "ready" });
    await staff.session.start({ audio: true, video: true });
    const old = staff.peer().transceivers[1]?.sender.track;
    await staff.session.selectDevice("video", "usb-camera");
    expect(staff.requests.at(-1)).toEqual({ audio: false, video: { deviceId: { exact: "usb-camera" } } });
    const now = staff.peer().transceivers[1]?.sender.track;
    expect(now).not.toBe(old);
    expect(old?.stopped).toBe(true);
    expect(staff.storage.getItem("plenary.call.camera")).toBe("usb-camera");
  });

  it("relay only: remembered, and applied to the connection with an ICE restart", () => {
    const staff = setup(STAFF);
    staff.join();
    staff.receive({ kind: "ready" });
    staff.session.setRelayOnly(true);
    expect(staff.peer().config.iceTransportPolicy).toBe("relay");
    expect(staff.peer().restarts).toBe(1);
    expect(loadRelayOnly(staff.storage)).toBe(true);
  });

  it("leaving says bye, closes the connection and stops the devices", async () => {
    const staff = setup(STAFF);
    staff.join();
    staff.receive({ kind: "ready" });
    await staff.session.start({ audio: true, video: true });
    const tracks = staff.peer().transceivers.map((t) => t.sender.track);
    staff.session.leave();
    expect(staff.kinds().at(-1)).toBe("bye");
    expect(staff.peer().connectionState).toBe("closed");
    expect(tracks.every((t) => t?.stopped)).toBe(true);
    // Nothing after leaving.
    staff.receive({ kind: "ready" });
    expect(staff.kinds().at(-1)).toBe("bye");
  });
});
