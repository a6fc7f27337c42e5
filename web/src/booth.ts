// The exhibition's room parts (src/room.ts): a booth's staff and contact requests
// (`BoothPart`), and a call's members, ICE servers and WebRTC signalling (`CallPart`, also
// used by the green room). The merging and ordering are plain functions, tested on their own.
import { batch, signal } from "@preact/signals";
import type { Snapshot } from "./connection";
import type {
  CallInfo,
  ContactRequestView,
  IceServer,
  MessageId,
  RoomEvent,
  RoomId,
  Signal,
  StaffStatus,
  StaffView,
  UserId,
} from "./proto.gen";
import type { RoomLink, RoomPart } from "./room";

/** Pages of requests fetched after a snapshot at most (50 requests each). */
const MAX_REQUEST_PAGES = 100;

export type { CallInfo, ContactRequestView, StaffStatus, StaffView };

/** The statuses a staff member chooses (`offline` is shown by the node, never chosen). */
export const CHOSEN_STATUSES = ["available", "busy", "away"] as const satisfies readonly StaffStatus[];

/** Finished (accepted or cancelled) requests kept in the tab, newest first: a long day's
 * queue does not pile up. */
export const MAX_FINISHED = 50;
/** Finished requests the console lists. */
export const RECENT_SHOWN = 10;

export const boothRoomId = (slug: string): RoomId => `booth:${slug}`;
export const callRoomId = (id: string): RoomId => `call:${id}`;

/** The page of a call room (`call:<id>` is `/calls/<id>`), or null for another room id. */
export function callPath(room: RoomId | null | undefined): string | null {
  const match = room ? /^call:([0-9a-fA-F]{1,48})$/.exec(room) : null;
  return match ? `/calls/${match[1]}` : null;
}

const byName = (a: StaffView, b: StaffView) =>
  a.name.localeCompare(b.name) || (a.user < b.user ? -1 : a.user > b.user ? 1 : 0);

/** The staff list with `changed` merged in (whole views, by user), sorted by name. */
export function mergeStaff(current: readonly StaffView[], changed: readonly StaffView[]): StaffView[] {
  const byUser = new Map(current.map((s) => [s.user, s]));
  for (const s of changed) byUser.set(s.user, s);
  return [...byUser.values()].sort(byName);
}

/**
 * The requests with `changed` merged in (whole views, by id). An older view (a replay)
 * never replaces a newer one; finished requests beyond MAX_FINISHED are dropped, oldest
 * first. Waiting requests are always kept.
 */
export function mergeRequests(
  current: ReadonlyMap<MessageId, ContactRequestView>,
  changed: readonly ContactRequestView[],
): Map<MessageId, ContactRequestView> {
  const next = new Map(current);
  for (const r of changed) {
    const known = next.get(r.id);
    if (known && known.updated_at > r.updated_at) continue;
    next.set(r.id, r);
  }
  const finished = [...next.values()].filter((r) => r.state !== "waiting");
  if (finished.length > MAX_FINISHED) {
    finished.sort((a, b) => b.updated_at - a.updated_at);
    for (const r of finished.slice(MAX_FINISHED)) next.delete(r.id);
  }
  return next;
}

export interface ConsoleQueue {
  /** Waiting live requests, in queue order. */
  live: ContactRequestView[];
  /** Waiting callback requests, oldest first. */
  callbacks: ContactRequestView[];
  /** Accepted and cancelled requests, newest first (at most RECENT_SHOWN). */
  recent: ContactRequestView[];
}

/** The exhibitor console's lists. */
export function consoleQueue(requests: Iterable<ContactRequestView>): ConsoleQueue {
  const live: ContactRequestView[] = [];
  const callbacks: ContactRequestView[] = [];
  const recent: ContactRequestView[] = [];
  for (const r of requests) {
    if (r.state !== "waiting") recent.push(r);
    else if (r.kind === "live") live.push(r);
    else callbacks.push(r);
  }
  const oldest = (a: ContactRequestView, b: ContactRequestView) =>
    a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  live.sort(
    (a, b) =>
      (a.position ?? Number.POSITIVE_INFINITY) - (b.position ?? Number.POSITIVE_INFINITY) || oldest(a, b),
  );
  callbacks.sort(oldest);
  recent.sort((a, b) => b.updated_at - a.updated_at);
  return { live, callbacks, recent: recent.slice(0, RECENT_SHOWN) };
}

/**
 * The request a visitor's page is about: its waiting one if any, else its latest (to show
 * the call it opened, or that it was cancelled).
 */
export function visitorRequest(
  requests: Iterable<ContactRequestView>,
  me: UserId,
): ContactRequestView | null {
  let latest: ContactRequestView | null = null;
  for (const r of requests) {
    if (r.visitor.id !== me) continue;
    if (r.state === "waiting") return r;
    if (!latest || r.updated_at > latest.updated_at) latest = r;
  }
  return latest;
}

/** A list typed one per line or separated by commas: trimmed, without blanks or repeats. */
export function splitList(text: string, separator: RegExp): string[] {
  return [
    ...new Set(
      text
        .split(separator)
        .map((x) => x.trim())
        .filter(Boolean),
    ),
  ];
}

/** Staff members available now. */
export const staffOnDuty = (staff: readonly StaffView[]): number =>
  staff.filter((s) => s.status === "available").length;

/** A booth's staff and contact requests, and the booth commands. */
export class BoothPart implements RoomPart {
  /** Sorted by name. */
  readonly staff = signal<readonly StaffView[]>([]);
  /** Staff: every waiting request and the recent others. A visitor: its own. */
  readonly requests = signal<ReadonlyMap<MessageId, ContactRequestView>>(new Map());

  constructor(private readonly link: RoomLink) {}

  snapshot(s: Snapshot): void {
    this.staff.value = mergeStaff([], s.booth?.staff ?? []);
    this.requests.value = mergeRequests(new Map(), s.booth?.requests ?? []);
    if (s.booth?.more) void this.loadAllRequests(s.booth.requests.at(-1)?.id);
  }

  /** The node sends requests a page at a time: fetches the rest, oldest first. */
  private async loadAllRequests(after: MessageId | undefined): Promise<void> {
    for (let pages = 0; pages < MAX_REQUEST_PAGES; pages++) {
      const reply = await this.link.request({
        type: "booth_page",
        room: this.link.room,
        ...(after ? { after } : {}),
      });
      if (reply.type !== "booth_requests") return;
      // Events that arrived meanwhile are newer: keep them.
      const fresh = reply.requests.filter((r) => {
        const known = this.requests.value.get(r.id);
        return !known || known.updated_at < r.updated_at;
      });
      if (fresh.length) this.requests.value = mergeRequests(this.requests.value, fresh);
      const last = reply.requests.at(-1);
      if (!reply.more || !last) return;
      after = last.id;
    }
  }

  event(event: RoomEvent): boolean {
    if (event.type !== "booth") return false;
    batch(() => {
      if (event.staff?.length) this.staff.value = mergeStaff(this.staff.value, event.staff);
      if (event.requests?.length) this.requests.value = mergeRequests(this.requests.value, event.requests);
    });
    return true;
  }

  setStatus(status: StaffStatus) {
    return this.link.request({ type: "booth_status", room: this.link.room, status });
  }

  /** Asks to talk; with a message and nobody available, asks for a callback. */
  askToTalk(message?: string) {
    return this.link.request({
      type: "booth_request",
      room: this.link.room,
      ...(message ? { message } : {}),
    });
  }

  cancel(id: MessageId) {
    return this.link.request({ type: "booth_cancel", room: this.link.room, id });
  }

  accept(id: MessageId) {
    return this.link.request({ type: "booth_accept", room: this.link.room, id });
  }
}

/**
 * A call: who it is for, the ICE servers for this member's peer connection, and the WebRTC
 * signalling between the members (src/call.ts uses it).
 */
export class CallPart implements RoomPart {
  /** The call's members (and its booth, for a private call); null until there is a call. */
  readonly info = signal<CallInfo | null>(null);
  /** From the latest snapshot: STUN, and TURN with this member's own credentials. */
  readonly iceServers = signal<readonly IceServer[]>([]);
  /** Called after every join (the first and each one after a reconnect), once the state is in. */
  onJoined: ((first: boolean) => void) | null = null;
  /** Called for each signal from another member. */
  onSignal: ((from: UserId, signal: Signal) => void) | null = null;

  constructor(private readonly link: RoomLink) {}

  snapshot(s: Snapshot): void {
    this.info.value = s.call ?? null;
    this.iceServers.value = s.ice_servers ?? [];
  }

  event(event: RoomEvent): boolean {
    if (event.type !== "call_opened") return false;
    this.info.value = event.call;
    return true;
  }

  joined(first: boolean): void {
    this.onJoined?.(first);
  }

  signal(from: UserId, signal: Signal): void {
    this.onSignal?.(from, signal);
  }

  /** Sends `signal` to the member `to` (lost if it has no tab in the call now). */
  sendSignal(to: UserId, signal: Signal) {
    return this.link.request({ type: "call_signal", room: this.link.room, to, signal });
  }

  dispose(): void {
    this.onJoined = null;
    this.onSignal = null;
  }
}
