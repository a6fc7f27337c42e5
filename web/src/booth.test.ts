import { describe, expect, it } from "vitest";
import {
  type ContactRequestView,
  callPath,
  consoleQueue,
  MAX_FINISHED,
  mergeRequests,
  mergeStaff,
  RECENT_SHOWN,
  type StaffView,
  splitList,
  staffOnDuty,
  visitorRequest,
} from "./booth";
import { fakeConnection, snapshotOf as snapshot } from "./fakes";
import { boothRoom, callRoom } from "./rooms";

const request = (id: string, extra: Partial<ContactRequestView> = {}): ContactRequestView => ({
  id,
  visitor: { id: `visitor-${id}`, name: `Visitor ${id}` },
  kind: "live",
  state: "waiting",
  created_at: 1_000,
  updated_at: 1_000,
  ...extra,
});

const staff = (user: string, name: string, status: StaffView["status"]): StaffView => ({
  user,
  name,
  status,
});

describe("mergeStaff", () => {
  it("replaces a member by user, adds new ones and sorts by name", () => {
    const merged = mergeStaff(
      [staff("u2", "Zoe", "available"), staff("u1", "Ana", "available")],
      [staff("u2", "Zoe", "busy"), staff("u3", "Mia", "away")],
    );
    expect(merged.map((s) => `${s.name}:${s.status}`)).toEqual(["Ana:available", "Mia:away", "Zoe:busy"]);
  });
});

describe("mergeRequests", () => {
  it("replaces whole views by id and keeps a newer view over a replayed older one", () => {
    let requests = mergeRequests(new Map(), [request("a", { position: 1 }), request("b", { position: 2 })]);
    requests = mergeRequests(requests, [
      request("a", { state: "accepted", call: "call:a", updated_at: 2_000 }),
      request("b", { position: 1 }),
    ]);
    expect(requests.get("a")?.state).toBe("accepted");
    expect(requests.get("b")?.position).toBe(1);
    requests = mergeRequests(requests, [request("a", { position: 1 })]);
    expect(requests.get("a")?.state).toBe("accepted");
  });

  it("keeps every waiting request but at most MAX_FINISHED finished ones, dropping the oldest", () => {
    const finished = Array.from({ length: MAX_FINISHED + 5 }, (_, n) =>
      request(`f${n}`, { state: "cancelled", updated_at: 2_000 + n }),
    );
    const waiting = Array.from({ length: 3 }, (_, n) => request(`w${n}`, { created_at: n }));
    const merged = mergeRequests(new Map(), [...waiting, ...finished]);
    expect(merged.size).toBe(MAX_FINISHED + 3);
    expect(merged.has("f0")).toBe(false);
    expect(merged.has(`f${MAX_FINISHED + 4}`)).toBe(true);
    expect(merged.has("w0")).toBe(true);
  });
});

describe("consoleQueue", () => {
  it("orders live requests by queue position, callbacks by age, finished ones newest first", () => {
    const queue = consoleQueue([
      request("c2", { kind: "callback", created_at: 30, message: "later" }),
      request("l2", { position: 2, created_at: 5 }),
      request("done1", { state: "accepted", updated_at: 10 }),
      request("l1", { position: 1, created_at: 9 }),
      request("c1", { kind: "callback", created_at: 20, message: "sooner" }),
      request("done2", { state: "cancelled", updated_at: 20 }),
    ]);
    expect(queue.live.map((r) => r.id)).toEqual(["l1", "l2"]);
    expect(queue.callbacks.map((r) => r.id)).toEqual(["c1", "c2"]);
    expect(queue.recent.map((r) => r.id)).toEqual(["done2", "done1"]);
  });

  it("lists at most RECENT_SHOWN finished requests", () => {
    const finished = Array.from({ length: RECENT_SHOWN + 3 }, (_, n) =>
      request(`f${n}`, { state: "accepted", updated_at: n }),
    );
    expect(consoleQueue(finished).recent.length).toBe(RECENT_SHOWN);
  });
});

describe("visitorRequest", () => {
  it("prefers the waiting request, else the latest one, of this visitor only", () => {
    const mine = { id: "me", name: "Me" };
    const old = request("old", { visitor: mine, state: "cancelled", updated_at: 5 });
    const accepted = request("acc", { visitor: mine, state: "accepted", updated_at: 9 });
    const other = request("other", { updated_at: 99 });
    expect(visitorRequest([old, accepted, other], "me")?.id).toBe("acc");
    const waiting = request("wait", { visitor: mine, updated_at: 1 });
    expect(visitorRequest([old, accepted, waiting], "me")?.id).toBe("wait");
    expect(visitorRequest([other], "me")).toBeNull();
  });
});

describe("callPath", () => {
  it("maps a call room to its page and refuses anything else", () => {
    expect(callPath("call:0a1b2c")).toBe("/calls/0a1b2c");
    expect(callPath("booth:itu")).toBeNull();
    expect(callPath("call:../x")).toBeNull();
    expect(callPath(undefined)).toBeNull();
  });
});

describe("splitList", () => {
  it("splits, trims and drops blanks and repeats", () => {
    expect(splitList(" C2, SDG9,, C2 ,", /,/)).toEqual(["C2", "SDG9"]);
    expect(splitList("https://a.org\n\n https://b.org \n", /\n/)).toEqual(["https://a.org", "https://b.org"]);
  });
});

describe("a booth room", () => {
  it("applies the snapshot's booth, then booth events, and keeps the chat", () => {
    const fake = fakeConnection();
    const room = boothRoom(fake.connection, "booth:itu");
    const { booth, chat } = room.parts;
    const handler = fake.handler("booth:itu");
    handler.snapshot(
      snapshot("booth:itu", {
        booth: { staff: [staff("s1", "Ana", "available")], requests: [request("a", { position: 1 })] },
      }),
    );
    expect(staffOnDuty(booth.staff.value)).toBe(1);
    handler.event({ type: "booth", staff: [staff("s1", "Ana", "busy")] }, 4);
    handler.event({ type: "booth", requests: [request("a", { state: "accepted", call: "call:a" })] }, 5);
    handler.event(
      { type: "chat", message: { id: "m1", author: { id: "u", name: "U" }, text: "hi", at: 1 } },
      6,
    );
    expect(booth.staff.value[0]?.status).toBe("busy");
    expect(staffOnDuty(booth.staff.value)).toBe(0);
    expect(booth.requests.value.get("a")?.call).toBe("call:a");
    expect(chat.messages.map((m) => m.text)).toEqual(["hi"]);
  });

  it("sends the booth commands", async () => {
    const fake = fakeConnection();
    const { booth } = boothRoom(fake.connection, "booth:itu").parts;
    await booth.askToTalk();
    await booth.askToTalk("Please call me");
    await booth.cancel("a");
    await booth.accept("b");
    await booth.setStatus("away");
    expect(fake.requests).toEqual([
      { type: "booth_request", room: "booth:itu" },
      { type: "booth_request", room: "booth:itu", message: "Please call me" },
      { type: "booth_cancel", room: "booth:itu", id: "a" },
      { type: "booth_accept", room: "booth:itu", id: "b" },
      { type: "booth_status", room: "booth:itu", status: "away" },
    ]);
  });
});

describe("a call room", () => {
  it("takes its members from the snapshot and from call_opened", () => {
    const fake = fakeConnection();
    const room = callRoom(fake.connection, "call:ab");
    const { call } = room.parts;
    const handler = fake.handler("call:ab");
    handler.snapshot(snapshot("call:ab", {}));
    expect(call.info.value).toBeNull();
    const opened = {
      members: [
        { id: "v", name: "Vi" },
        { id: "s", name: "Sam" },
      ],
      booth: "itu",
      opened_at: 1,
    };
    handler.event({ type: "call_opened", call: opened }, 4);
    expect(call.info.value?.members.map((m) => m.name)).toEqual(["Vi", "Sam"]);
  });

  it("keeps the ICE servers, tells of each join, and passes signals both ways", async () => {
    const fake = fakeConnection();
    const room = callRoom(fake.connection, "call:ab");
    const { call } = room.parts;
    const handler = fake.handler("call:ab");
    const joins: boolean[] = [];
    const signals: string[] = [];
    call.onJoined = (first) => joins.push(first);
    call.onSignal = (from, signal) => signals.push(`${from}:${signal.kind}`);
    handler.snapshot(snapshot("call:ab", { ice_servers: [{ urls: ["stun:127.0.0.1:3478"] }] }));
    expect(call.iceServers.value).toEqual([{ urls: ["stun:127.0.0.1:3478"] }]);
    handler.resumed?.({
      type: "resumed",
      rid: 2,
      room: "call:ab",
      epoch: "e1",
      replayed: 0,
      attendance: { present: 2, unique: 2 },
      you: snapshot("call:ab", {}).you,
    });
    expect(joins).toEqual([true, false]);
    handler.signal?.("s", { kind: "ready" });
    expect(signals).toEqual(["s:ready"]);
    await call.sendSignal("s", { kind: "bye" });
    expect(fake.requests.at(-1)).toEqual({
      type: "call_signal",
      room: "call:ab",
      to: "s",
      signal: { kind: "bye" },
    });
    room.dispose();
    handler.signal?.("s", { kind: "ready" });
    expect(signals).toHaveLength(1);
  });
});
