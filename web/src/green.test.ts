import { describe, expect, it } from "vitest";
import type { CallDeps } from "./call";
import type { Connection, RequestBody, RoomHandler, Snapshot } from "./connection";
import { applyMemberEvent, GreenSession, politeInPair, withMember, withoutMember } from "./green";
import type { CallInfo, RoomEvent, Signal, UserProfile } from "./proto.gen";
import { greenRoom } from "./rooms";

const MIA = { id: "auth0|mia", name: "Mia" };
const ANA = { id: "speaker-ana", name: "Ana" };
const BEN = { id: "speaker-ben", name: "Ben" };

describe("politeInPair", () => {
  it("gives exactly one polite side in every pair", () => {
    const ids = [MIA.id, ANA.id, BEN.id, "guest-1", "a", "b"];
    for (const a of ids) {
      for (const b of ids) {
        if (a === b) continue;
        expect(politeInPair(a, b)).not.toBe(politeInPair(b, a));
      }
    }
  });
});

describe("members", () => {
  const call: CallInfo = { members: [MIA], opened_at: 1 };

  it("adds a member once, and removes one", () => {
    expect(withMember([MIA], ANA)).toEqual([MIA, ANA]);
    expect(withMember([MIA, ANA], { ...ANA, name: "Ana B." })).toEqual([MIA, { ...ANA, name: "Ana B." }]);
    expect(withoutMember([MIA, ANA], ANA.id)).toEqual([MIA]);
    expect(withoutMember([MIA], "nobody")).toEqual([MIA]);
  });

  it("follows call_joined and call_left", () => {
    const joined = applyMemberEvent(call, { type: "call_joined", member: ANA });
    expect(joined?.members).toEqual([MIA, ANA]);
    expect(joined?.opened_at).toBe(1);
    expect(applyMemberEvent(joined, { type: "call_left", user: MIA.id })?.members).toEqual([ANA]);
    expect(applyMemberEvent(call, { type: "chat_deleted", id: "x", by: MIA.id })).toBe(call);
  });
});

// --- The mesh, with a fake connection and peer connections -------------------------------

class FakePeer {
  connectionState: RTCPeerConnectionState = "new";
  signalingState: RTCSignalingState = "stable";
  localDescription: RTCSessionDescriptionInit | null = null;
  onnegotiationneeded: (() => void) | null = null;
  onicecandidate: (() => void) | null = null;
  ontrack: (() => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  closed = false;
  readonly transceivers: string[] = [];
  constructor(readonly config: RTCConfiguration) {}
  addTransceiver(kind: string) {
    this.transceivers.push(kind);
  }
  addTrack() {}
  getTransceivers() {
    return [];
  }
  getSenders() {
    return [];
  }
  async setRemoteDescription() {}
  async setLocalDescription() {}
  async addIceCandidate() {}
  restartIce() {}
  setConfiguration() {}
  close() {
    this.closed = true;
    this.connectionState = "closed";
  }
}

function setup(me: UserProfile, members: UserProfile[]) {
  const sent: Array<{ to: string; signal: Signal }> = [];
  let handler: RoomHandler | null = null;
  const connection = {
    join: (_room: string, h: RoomHandler) => {
      handler = h;
      return () => undefined;
    },
    request: async (body: RequestBody) => {
      if (body.type === "call_signal") sent.push({ to: body.to, signal: body.signal });
      return {};
    },
  } as unknown as Connection;
  const peers: FakePeer[] = [];
  const deps: CallDeps = {
    createPeer: (config) => {
      const pc = new FakePeer(config);
      peers.push(pc);
      return pc as unknown as RTCPeerConnection;
    },
    createStream: () => ({}) as MediaStream,
    media: () => undefined,
    storage: () => undefined,
  };
  const room = greenRoom(connection, "green:opening");
  const session = new GreenSession(room.parts.green, () => me.id, deps);
  const h = handler as unknown as RoomHandler;
  h.snapshot({
    type: "snapshot",
    rid: 1,
    room: "green:opening",
    epoch: "e1",
    seq: 1,
    attendance: { present: members.length, unique: members.length },
    chat: [],
    chat_more: false,
    call: { members, opened_at: 1 },
    ice_servers: [],
    you: {
      role: "speaker",
      can_chat: true,
      can_moderate: false,
      can_manage_stage: false,
      can_announce: false,
    },
  } as Snapshot);
  let seq = 1;
  const event = (e: RoomEvent) => h.event(e, ++seq);
  return { room, session, sent, peers, handler: h, event };
}

describe("GreenSession", () => {
  it("says ready to each member it sees, and keeps one peer session each", () => {
    const { session, sent } = setup(BEN, [MIA, ANA, BEN]);
    expect(sent.filter((s) => s.signal.kind === "ready").map((s) => s.to)).toEqual([MIA.id, ANA.id]);
    expect([...session.peerSessions.value.keys()]).toEqual([MIA.id, ANA.id]);
  });

  it("routes each signal to its sender's peer session, polite or not by id", () => {
    const { session, sent, peers } = setup(ANA, [MIA, ANA]);
    sent.length = 0;
    session.receive(MIA.id, { kind: "ready" });
    expect(sent[0]).toEqual({ to: MIA.id, signal: { kind: "ready", reply: true } });
    // "auth0|mia" < "speaker-ana": Ana is impolite with Mia and opens the lines.
    expect(session.peerSessions.value.get(MIA.id)?.polite).toBe(false);
    expect(peers[0]?.transceivers).toEqual(["audio", "video"]);
    session.receive(BEN.id, { kind: "ready" });
    expect(session.peerSessions.value.get(BEN.id)?.polite).toBe(true);
    expect(peers).toHaveLength(2);
    session.receive(MIA.id, { kind: "media", audio: true, video: false });
    expect(session.peerSessions.value.get(MIA.id)?.peerMedia.value).toEqual({ audio: true, video: false });
    expect(session.peerSessions.value.get(BEN.id)?.peerMedia.value).toBeNull();
    // Signals are sent to the member they are for.
    expect(sent.filter((s) => s.signal.kind === "ready" && s.signal.reply).map((s) => s.to)).toEqual([
      MIA.id,
      BEN.id,
    ]);
  });

  it("follows call_joined and call_left, and closes the peer on bye", () => {
    const { room, session, peers, event } = setup(MIA, [MIA]);
    event({ type: "call_joined", member: ANA });
    event({ type: "call_joined", member: BEN });
    expect(room.parts.call.info.value?.members.map((m) => m.id)).toEqual([MIA.id, ANA.id, BEN.id]);
    expect(session.peerSessions.value.get(ANA.id)?.phase.value).toBe("waiting");
    session.receive(ANA.id, { kind: "ready" });
    session.receive(BEN.id, { kind: "ready" });
    expect(peers).toHaveLength(2);
    event({ type: "call_left", user: ANA.id });
    expect(room.parts.call.info.value?.members.map((m) => m.id)).toEqual([MIA.id, BEN.id]);
    expect(peers[0]?.closed).toBe(true);
    expect(session.peerSessions.value.has(ANA.id)).toBe(false);
    session.receive(BEN.id, { kind: "bye" });
    expect(peers[1]?.closed).toBe(true);
    expect(session.peerSessions.value.size).toBe(0);
  });

  it("leaving says bye to everyone and closes every connection", () => {
    const { session, sent, peers } = setup(MIA, [MIA, ANA, BEN]);
    session.receive(ANA.id, { kind: "ready" });
    session.receive(BEN.id, { kind: "ready" });
    sent.length = 0;
    session.leave();
    expect(sent.map((s) => [s.to, s.signal.kind])).toEqual([
      [ANA.id, "bye"],
      [BEN.id, "bye"],
    ]);
    expect(peers.every((p) => p.closed)).toBe(true);
  });
});
