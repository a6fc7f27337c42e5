import { describe, expect, it } from "vitest";
import type { Connection, RequestBody, RoomHandler, Snapshot } from "./connection";
import type { ChatMessage, ServerMsg } from "./proto.gen";
import { MAX_MESSAGES, SessionRoom } from "./room";

/** A connection that records requests and lets the test play the node. */
function fakeConnection() {
  const handlers = new Map<string, RoomHandler>();
  const requests: RequestBody[] = [];
  let reply: (body: RequestBody) => ServerMsg = () => ({ type: "ack", rid: 1 });
  const connection = {
    join(room: string, handler: RoomHandler) {
      handlers.set(room, handler);
      return () => handlers.delete(room);
    },
    async request(body: RequestBody) {
      requests.push(body);
      return reply(body);
    },
  } as unknown as Connection;
  return {
    connection,
    requests,
    handler: (room: string) => handlers.get(room) as RoomHandler,
    joined: (room: string) => handlers.has(room),
    answer(f: (body: RequestBody) => ServerMsg) {
      reply = f;
    },
  };
}

const message = (n: number): ChatMessage => ({
  id: `m${String(n).padStart(6, "0")}`,
  author: { id: `u${n % 3}`, name: `User ${n % 3}` },
  text: `message ${n}`,
  at: 1_700_000_000_000 + n,
});

function snapshot(chat: ChatMessage[], more: boolean): Snapshot {
  return {
    type: "snapshot",
    rid: 1,
    room: "session:s",
    epoch: "e1",
    seq: 10,
    stage: { state: "scheduled", title: "S", updated_at: 0 },
    attendance: { present: 1, unique: 1 },
    chat,
    chat_more: more,
    you: {
      role: "attendee",
      can_chat: true,
      can_moderate: false,
      can_manage_stage: false,
      can_announce: false,
    },
  };
}

describe("SessionRoom", () => {
  it("applies a snapshot, then events in order", () => {
    const fake = fakeConnection();
    const room = new SessionRoom(fake.connection, "session:s");
    const handler = fake.handler("session:s");
    handler.snapshot(snapshot([message(1), message(2)], false));
    expect(room.messages.map((m) => m.text)).toEqual(["message 1", "message 2"]);
    handler.event({ type: "chat", message: message(3) }, 11);
    handler.event({ type: "chat_deleted", id: message(2).id, by: "mod" }, 12);
    handler.event({ type: "user_muted", user: "u1", until: 5, by: "mod" }, 13);
    handler.event({ type: "stage", stage: { state: "live", title: "S", updated_at: 1 }, by: "mod" }, 14);
    expect(room.messages.map((m) => m.text)).toEqual(["message 1", "message 3"]);
    expect(room.muted.value.get("u1")).toBe(5);
    expect(room.stage.value?.state).toBe("live");
    handler.event({ type: "user_unmuted", user: "u1", by: "mod" }, 15);
    expect(room.muted.value.has("u1")).toBe(false);
  });

  it("a second snapshot (a resume that could not replay) replaces the chat", () => {
    const fake = fakeConnection();
    const room = new SessionRoom(fake.connection, "session:s");
    const handler = fake.handler("session:s");
    handler.snapshot(snapshot([message(1)], false));
    handler.event({ type: "chat", message: message(2) }, 11);
    handler.snapshot(snapshot([message(1), message(2), message(3)], false));
    expect(room.messages.map((m) => m.text)).toEqual(["message 1", "message 2", "message 3"]);
  });

  it("keeps at most MAX_MESSAGES, dropping the oldest", () => {
    const fake = fakeConnection();
    const room = new SessionRoom(fake.connection, "session:s");
    const handler = fake.handler("session:s");
    handler.snapshot(snapshot([], false));
    for (let n = 0; n < MAX_MESSAGES + 10; n++) handler.event({ type: "chat", message: message(n) }, 11 + n);
    expect(room.messages.length).toBe(MAX_MESSAGES);
    expect(room.messages[0]?.text).toBe("message 10");
    expect(room.chatMore.value).toBe(true);
  });

  it("loads older messages before the oldest one, without duplicates", async () => {
    const fake = fakeConnection();
    const room = new SessionRoom(fake.connection, "session:s");
    fake.handler("session:s").snapshot(snapshot([message(50), message(51)], true));
    fake.answer(() => ({
      type: "chat_history",
      rid: 2,
      room: "session:s",
      messages: [message(48), message(49), message(50)],
      more: false,
    }));
    await room.loadOlder();
    expect(fake.requests).toEqual([
      { type: "chat_history", room: "session:s", limit: 50, before: message(50).id },
    ]);
    expect(room.messages.map((m) => m.text)).toEqual([
      "message 48",
      "message 49",
      "message 50",
      "message 51",
    ]);
    expect(room.chatMore.value).toBe(false);
    await room.loadOlder();
    expect(fake.requests.length).toBe(1);
  });

  it("leaves the room when disposed", () => {
    const fake = fakeConnection();
    const room = new SessionRoom(fake.connection, "session:s");
    expect(fake.joined("session:s")).toBe(true);
    room.dispose();
    expect(fake.joined("session:s")).toBe(false);
  });
});
