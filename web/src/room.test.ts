import { describe, expect, it } from "vitest";
import { RequestError, type Snapshot } from "./connection";
import { fakeConnection, snapshotOf } from "./fakes";
import type { PollTally, QuestionVotes, RoomEvent, Signal, UserId } from "./proto.gen";
import { Room, type RoomPart } from "./room";

/** A part that owns `owns` and writes down everything it is told. */
class RecordingPart implements RoomPart {
  readonly heard: string[] = [];
  constructor(private readonly owns: RoomEvent["type"]) {}
  snapshot(s: Snapshot): void {
    this.heard.push(`snapshot ${s.seq}`);
  }
  event(event: RoomEvent): boolean {
    if (event.type !== this.owns) return false;
    this.heard.push(`event ${event.type}`);
    return true;
  }
  joined(first: boolean): void {
    this.heard.push(`joined ${first}`);
  }
  votes(votes: QuestionVotes[]): void {
    this.heard.push(`votes ${votes.length}`);
  }
  tallies(tallies: PollTally[]): void {
    this.heard.push(`tallies ${tallies.length}`);
  }
  signal(from: UserId, signal: Signal): void {
    this.heard.push(`signal ${from} ${signal.kind}`);
  }
  mediaOffer(sdp: string): void {
    this.heard.push(`offer ${sdp}`);
  }
  dispose(): void {
    this.heard.push("dispose");
  }
}

function setup() {
  const fake = fakeConnection();
  const room = new Room(fake.connection, "session:s", () => ({
    chat: new RecordingPart("chat"),
    stage: new RecordingPart("stage"),
  }));
  return { fake, room, handler: fake.handler("session:s"), ...room.parts };
}

const resumed = {
  type: "resumed",
  rid: 2,
  room: "session:s",
  epoch: "e1",
  replayed: 0,
  attendance: { present: 5, unique: 4 },
  you: { ...snapshotOf("session:s").you, can_moderate: true },
} as const;

describe("Room", () => {
  it("joins at once, and leaves and disposes its parts on dispose", () => {
    const { fake, room, chat, stage } = setup();
    expect(fake.joined("session:s")).toBe(true);
    room.dispose();
    expect(fake.joined("session:s")).toBe(false);
    expect(chat.heard).toEqual(["dispose"]);
    expect(stage.heard).toEqual(["dispose"]);
  });

  it("keeps you and attendance from the snapshot, and gives every part the snapshot", () => {
    const { room, handler, chat, stage } = setup();
    handler.snapshot(snapshotOf("session:s", { attendance: { present: 7, unique: 6 } }));
    expect(room.you.value?.role).toBe("attendee");
    expect(room.attendance.value).toEqual({ present: 7, unique: 6 });
    expect(chat.heard).toEqual(["snapshot 3", "joined true"]);
    expect(stage.heard).toEqual(["snapshot 3", "joined true"]);
  });

  it("gives each event to the part that owns it, and drops one nobody owns", () => {
    const { handler, chat, stage } = setup();
    handler.snapshot(snapshotOf("session:s"));
    handler.event(
      { type: "chat", message: { id: "m1", author: { id: "u", name: "U" }, text: "hi", at: 1 } },
      4,
    );
    handler.event({ type: "stage", stage: { state: "live", title: "S", updated_at: 1 }, by: "mod" }, 5);
    handler.event(
      { type: "announcement", announcement: { text: "Hello", by: { id: "org", name: "Org" }, at: 1 } },
      6,
    );
    expect(chat.heard.slice(2)).toEqual(["event chat"]);
    expect(stage.heard.slice(2)).toEqual(["event stage"]);
  });

  it("tells the parts of every join: the first, then each after a reconnect", () => {
    const { room, handler, chat } = setup();
    handler.snapshot(snapshotOf("session:s"));
    handler.resumed?.(resumed);
    handler.attendance?.(resumed.attendance);
    handler.snapshot(snapshotOf("session:s", { seq: 9 }));
    expect(chat.heard).toEqual(["snapshot 3", "joined true", "joined false", "snapshot 9", "joined false"]);
    expect(room.attendance.value).toEqual({ present: 2, unique: 2 });
  });

  it("takes you and attendance from a resume", () => {
    const { room, handler } = setup();
    handler.snapshot(snapshotOf("session:s"));
    handler.resumed?.(resumed);
    handler.attendance?.(resumed.attendance);
    expect(room.you.value?.can_moderate).toBe(true);
    expect(room.attendance.value).toEqual({ present: 5, unique: 4 });
  });

  it("passes vote counts, tallies, signals and the stage's offers to the parts", () => {
    const { handler, chat } = setup();
    handler.votes?.([{ id: "q1", votes: 3 }]);
    handler.tallies?.([]);
    handler.signal?.("u2", { kind: "ready" });
    handler.mediaOffer?.("v=0");
    expect(chat.heard).toEqual(["votes 1", "tallies 0", "signal u2 ready", "offer v=0"]);
  });

  it("keeps why joining failed until a snapshot comes", () => {
    const { room, handler } = setup();
    handler.failed?.(new RequestError(403, "not allowed"));
    expect(room.joinError.value?.code).toBe(403);
    handler.snapshot(snapshotOf("session:s"));
    expect(room.joinError.value).toBeNull();
  });

  it("sends requests through the connection", async () => {
    const { fake, room } = setup();
    await room.request({ type: "chat_send", room: room.room, text: "hi" });
    expect(fake.requests).toEqual([{ type: "chat_send", room: "session:s", text: "hi" }]);
  });
});
