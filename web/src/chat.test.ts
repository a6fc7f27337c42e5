import { describe, expect, it } from "vitest";
import { ChatPart, MAX_MESSAGES } from "./chat";
import { fakeConnection, snapshotOf } from "./fakes";
import type { ChatMessage } from "./proto.gen";

const message = (n: number): ChatMessage => ({
  id: `m${String(n).padStart(6, "0")}`,
  author: { id: `u${n % 3}`, name: `User ${n % 3}` },
  text: `message ${n}`,
  at: 1_700_000_000_000 + n,
});

function setup() {
  const fake = fakeConnection();
  const chat = new ChatPart({ room: "session:s", request: (body) => fake.connection.request(body) });
  const snapshot = (messages: ChatMessage[], more: boolean) =>
    chat.snapshot(snapshotOf("session:s", { chat: messages, chat_more: more }));
  return { fake, chat, snapshot };
}

describe("ChatPart", () => {
  it("applies a snapshot, then messages, deletions and mutes in order", () => {
    const { chat, snapshot } = setup();
    const spoken: string[] = [];
    chat.onNewMessage = (m) => spoken.push(m.text);
    snapshot([message(1), message(2)], false);
    expect(chat.messages.map((m) => m.text)).toEqual(["message 1", "message 2"]);
    chat.event({ type: "chat", message: message(3) });
    chat.event({ type: "chat_deleted", id: message(2).id, by: "mod" });
    chat.event({ type: "user_muted", user: "u1", until: 5, by: "mod" });
    expect(chat.messages.map((m) => m.text)).toEqual(["message 1", "message 3"]);
    expect(chat.muted.value.get("u1")).toBe(5);
    chat.event({ type: "user_unmuted", user: "u1", by: "mod" });
    expect(chat.muted.value.has("u1")).toBe(false);
    expect(spoken).toEqual(["message 3"]);
  });

  it("a second snapshot (a resume that could not replay) replaces the chat and the mutes", () => {
    const { chat, snapshot } = setup();
    snapshot([message(1)], false);
    chat.event({ type: "chat", message: message(2) });
    chat.event({ type: "user_muted", user: "u1", by: "mod" });
    snapshot([message(1), message(2), message(3)], false);
    expect(chat.messages.map((m) => m.text)).toEqual(["message 1", "message 2", "message 3"]);
    expect(chat.muted.value.size).toBe(0);
  });

  it("keeps at most MAX_MESSAGES, dropping the oldest", () => {
    const { chat, snapshot } = setup();
    snapshot([], false);
    for (let n = 0; n < MAX_MESSAGES + 10; n++) chat.event({ type: "chat", message: message(n) });
    expect(chat.messages.length).toBe(MAX_MESSAGES);
    expect(chat.messages[0]?.text).toBe("message 10");
    expect(chat.more.value).toBe(true);
  });

  it("loads older messages before the oldest one, without duplicates", async () => {
    const { fake, chat, snapshot } = setup();
    snapshot([message(50), message(51)], true);
    fake.answer(() => ({
      type: "chat_history",
      rid: 2,
      room: "session:s",
      messages: [message(48), message(49), message(50)],
      more: false,
    }));
    await chat.loadOlder();
    expect(fake.requests).toEqual([
      { type: "chat_history", room: "session:s", limit: 50, before: message(50).id },
    ]);
    expect(chat.messages.map((m) => m.text)).toEqual([
      "message 48",
      "message 49",
      "message 50",
      "message 51",
    ]);
    expect(chat.more.value).toBe(false);
    await chat.loadOlder();
    expect(fake.requests.length).toBe(1);
  });

  it("sends the chat commands for its room", async () => {
    const { fake, chat } = setup();
    await chat.send("hello");
    await chat.deleteMessage("m1");
    await chat.mute("u1", 15);
    await chat.unmute("u1");
    expect(fake.requests).toEqual([
      { type: "chat_send", room: "session:s", text: "hello" },
      { type: "chat_delete", room: "session:s", id: "m1" },
      { type: "mute", room: "session:s", user: "u1", minutes: 15 },
      { type: "unmute", room: "session:s", user: "u1" },
    ]);
  });

  it("forgets the announcer when disposed", () => {
    const { chat } = setup();
    chat.onNewMessage = () => undefined;
    chat.dispose();
    expect(chat.onNewMessage).toBeNull();
  });
});
