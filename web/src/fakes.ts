// Test doubles for the unit tests (never imported by the app): a connection whose node the
// test plays, and snapshots with only what a test needs.
import type { Connection, RequestBody, RoomHandler, Snapshot } from "./connection";
import type { ServerMsg } from "./proto.gen";

/** A connection that records requests and joins, and lets the test play the node. */
export function fakeConnection() {
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
    /** How the node answers every request from now on. */
    answer(f: (body: RequestBody) => ServerMsg) {
      reply = f;
    },
  };
}

/** A snapshot of `room` for an attendee: no chat, nothing else unless `extra` says. */
export function snapshotOf(room: string, extra: Partial<Snapshot> = {}): Snapshot {
  return {
    type: "snapshot",
    rid: 1,
    room,
    epoch: "e1",
    seq: 3,
    attendance: { present: 2, unique: 2 },
    chat: [],
    chat_more: false,
    you: {
      role: "attendee",
      can_chat: true,
      can_moderate: false,
      can_manage_stage: false,
      can_announce: false,
    },
    ...extra,
  };
}
