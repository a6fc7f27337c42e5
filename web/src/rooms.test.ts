import { describe, expect, it } from "vitest";
import { fakeConnection, snapshotOf } from "./fakes";
import type { ChatMessage } from "./proto.gen";
import { boothRoom, callRoom, greenRoom, sessionRoom } from "./rooms";

const message = (n: number): ChatMessage => ({
  id: `m${n}`,
  author: { id: `u${n}`, name: `User ${n}` },
  text: `message ${n}`,
  at: 1_700_000_000_000 + n,
});

describe("the kinds of room", () => {
  it("have exactly the parts they need", () => {
    const { connection } = fakeConnection();
    expect(Object.keys(sessionRoom(connection, "session:s").parts)).toEqual([
      "stage",
      "media",
      "lineup",
      "chat",
      "qa",
      "polls",
    ]);
    expect(Object.keys(boothRoom(connection, "booth:itu").parts)).toEqual(["chat", "booth"]);
    expect(Object.keys(callRoom(connection, "call:ab").parts)).toEqual(["chat", "call"]);
    expect(Object.keys(greenRoom(connection, "green:s").parts)).toEqual(["chat", "call", "green"]);
  });

  it("a booth room has no Q&A or polls, and a stray questions event changes nothing", () => {
    const fake = fakeConnection();
    const room = boothRoom(fake.connection, "booth:itu");
    // @ts-expect-error a booth room has no Q&A part
    expect(room.parts.qa).toBeUndefined();
    expect("polls" in room.parts).toBe(false);
    const handler = fake.handler("booth:itu");
    handler.snapshot(snapshotOf("booth:itu", { chat: [message(1)] }));
    handler.event({ type: "questions", changed: [] }, 4);
    handler.votes?.([{ id: "q1", votes: 2 }]);
    expect(room.parts.chat.messages.map((m) => m.text)).toEqual(["message 1"]);
  });

  it("a session room applies a snapshot, then events in order, each to its part", () => {
    const fake = fakeConnection();
    const room = sessionRoom(fake.connection, "session:s");
    const { stage, chat } = room.parts;
    const handler = fake.handler("session:s");
    handler.snapshot(
      snapshotOf("session:s", {
        stage: { state: "scheduled", title: "S", updated_at: 0 },
        chat: [message(1), message(2)],
      }),
    );
    expect(chat.messages.map((m) => m.text)).toEqual(["message 1", "message 2"]);
    handler.event({ type: "chat", message: message(3) }, 11);
    handler.event({ type: "chat_deleted", id: message(2).id, by: "mod" }, 12);
    handler.event({ type: "user_muted", user: "u1", until: 5, by: "mod" }, 13);
    handler.event({ type: "stage", stage: { state: "live", title: "S", updated_at: 1 }, by: "mod" }, 14);
    expect(chat.messages.map((m) => m.text)).toEqual(["message 1", "message 3"]);
    expect(chat.muted.value.get("u1")).toBe(5);
    expect(stage.current.value?.state).toBe("live");
    handler.event({ type: "user_unmuted", user: "u1", by: "mod" }, 15);
    expect(chat.muted.value.has("u1")).toBe(false);
  });

  it("a green room's members follow call_joined and call_left in its call part", () => {
    const fake = fakeConnection();
    const room = greenRoom(fake.connection, "green:s");
    const handler = fake.handler("green:s");
    handler.snapshot(snapshotOf("green:s", { call: { members: [{ id: "a", name: "A" }], opened_at: 1 } }));
    handler.event({ type: "call_joined", member: { id: "b", name: "B" } }, 4);
    handler.event({ type: "call_left", user: "a" }, 5);
    expect(room.parts.call.info.value?.members.map((m) => m.id)).toEqual(["b"]);
  });
});
