// A session's green room (`green:<slug>`, `/sessions/<slug>/green`): its speakers and
// moderators meet on video before going on stage. `GreenPart` is the room part (src/room.ts)
// that keeps the call's member list (src/booth.ts, `CallPart`) following `call_joined` and
// `call_left`. The mesh: one peer session (src/call.ts) per other member, all sending the same
// local camera and microphone; signals are routed to the peer session of their sender. The
// decisions are plain functions, tested on their own.
import { batch, signal } from "@preact/signals";
import type { CallPart } from "./booth";
import { type CallDeps, MediaSession, PeerSession } from "./call";
import type { Snapshot } from "./connection";
import type { CallInfo, RoomEvent, RoomId, Signal, UserId, UserProfile } from "./proto.gen";
import type { RoomPart } from "./room";

/** At most this many people at once (the node refuses a seventh with `409 conflict`). */
export const GREEN_ROOM_LIMIT = 6;

export const greenRoomId = (slug: string): RoomId => `green:${slug}`;

/**
 * Whether `me` is the polite peer with `peer` in a green room: the smaller id is polite. Both
 * sides of a pair compute it, and always reach opposite answers.
 */
export const politeInPair = (me: UserId, peer: UserId): boolean => me < peer;

/** The members with `member` added (once: someone already listed is updated in place). */
export function withMember(members: readonly UserProfile[], member: UserProfile): UserProfile[] {
  return members.some((m) => m.id === member.id)
    ? members.map((m) => (m.id === member.id ? member : m))
    : [...members, member];
}

/** The members without `user`. */
export const withoutMember = (members: readonly UserProfile[], user: UserId): UserProfile[] =>
  members.filter((m) => m.id !== user);

/** The call info after a green room event (`call_joined`, `call_left`); others change nothing. */
export function applyMemberEvent(call: CallInfo | null, event: RoomEvent): CallInfo | null {
  const base: CallInfo = call ?? { members: [], opened_at: Date.now() };
  if (event.type === "call_joined") return { ...base, members: withMember(base.members, event.member) };
  if (event.type === "call_left") return { ...base, members: withoutMember(base.members, event.user) };
  return call;
}

/** A green room's comings and goings, kept in the call's member list. */
export class GreenPart implements RoomPart {
  /** Someone came in (not called for this member's own arrival). */
  onMemberJoined: ((member: UserProfile) => void) | null = null;
  /** Someone left (every tab of theirs). */
  onMemberLeft: ((user: UserId) => void) | null = null;

  /** `call` holds the member list, which the snapshot fills. */
  constructor(readonly call: CallPart) {}

  /** Nothing of its own to take: the call part takes the member list from the snapshot. */
  snapshot(_s: Snapshot): void {}

  event(event: RoomEvent): boolean {
    if (event.type === "call_joined") {
      this.call.info.value = applyMemberEvent(this.call.info.value, event);
      this.onMemberJoined?.(event.member);
      return true;
    }
    if (event.type === "call_left") {
      this.call.info.value = applyMemberEvent(this.call.info.value, event);
      this.onMemberLeft?.(event.user);
      return true;
    }
    return false;
  }

  dispose(): void {
    this.onMemberJoined = null;
    this.onMemberLeft = null;
  }
}

/**
 * The mesh: one peer session per other member, created when it is seen (in the snapshot, by
 * `call_joined`, or by a first signal), closed when it leaves (`call_left` or `bye`).
 * On joining, this side says `ready` to each member it sees; a newcomer does the same, so
 * the members already in only wait for its `ready`.
 */
export class GreenSession extends MediaSession {
  /** The peer sessions, by member. */
  readonly peerSessions = signal<ReadonlyMap<UserId, PeerSession>>(new Map());

  constructor(
    private readonly green: GreenPart,
    me: () => UserId | null,
    deps?: CallDeps,
  ) {
    super(green.call, me, deps);
    green.call.onJoined = (first) => this.joined(first);
    green.call.onSignal = (from, s) => this.receive(from, s);
    green.onMemberJoined = (m) => this.memberJoined(m.id);
    green.onMemberLeft = (user) => this.memberLeft(user);
  }

  protected peers(): Iterable<PeerSession> {
    return this.peerSessions.value.values();
  }

  /** The peer session with `user`, made if there is none yet. */
  private ensure(user: UserId): PeerSession {
    const known = this.peerSessions.value.get(user);
    if (known) return known;
    const peer = new PeerSession(
      this,
      () => user,
      () => politeInPair(this.me() ?? "", user),
    );
    const next = new Map(this.peerSessions.value);
    next.set(user, peer);
    this.peerSessions.value = next;
    return peer;
  }

  private drop(user: UserId): void {
    const peer = this.peerSessions.value.get(user);
    if (!peer) return;
    batch(() => {
      peer.left();
      const next = new Map(this.peerSessions.value);
      next.delete(user);
      this.peerSessions.value = next;
    });
  }

  private others(): UserId[] {
    const me = this.me();
    return (this.green.call.info.value?.members ?? []).map((m) => m.id).filter((id) => id !== me);
  }

  private joined(first: boolean): void {
    if (this.closed) return;
    this.announced = true;
    const others = this.others();
    // Whoever left while this tab was away is gone.
    for (const user of this.peerSessions.value.keys()) if (!others.includes(user)) this.drop(user);
    for (const user of others) {
      const peer = this.ensure(user);
      // After a reconnect of the WebSocket, media that still flows needs nothing.
      if (!first && peer.connected) continue;
      peer.announce();
    }
  }

  private memberJoined(user: UserId): void {
    if (this.closed || user === this.me()) return;
    // Its page says `ready` to everyone it sees: wait for that.
    this.ensure(user);
  }

  private memberLeft(user: UserId): void {
    if (this.closed) return;
    this.drop(user);
  }

  /** Routes one signal to the peer session of its sender. */
  receive(from: UserId, signal: Signal): void {
    if (this.closed || from === this.me()) return;
    if (signal.kind === "bye") {
      this.drop(from);
      return;
    }
    this.ensure(from).receive(signal);
  }

  /** Starts again from scratch with one member (`user`), or with every one not connected. */
  reconnect(user?: UserId): void {
    if (this.closed) return;
    this.announced = true;
    for (const [id, peer] of this.peerSessions.value) {
      if (user ? id === user : !peer.connected) peer.announce();
    }
  }

  override leave(): void {
    super.leave();
    this.green.onMemberJoined = null;
    this.green.onMemberLeft = null;
  }
}
