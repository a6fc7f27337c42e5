// One WebSocket to the node, shared by every page: the `hello` handshake, requests matched
// to replies by `rid`, the rooms this tab is in, and reconnecting with jittered backoff.
// After a reconnect every room is joined again with the last position seen, so the node
// replays exactly what was missed or says it cannot (`recovered: false`), and the room
// reloads from the snapshot. Requests made while disconnected wait for the rooms to be
// joined again, then go out.
import { signal } from "@preact/signals";
import {
  type Attendance,
  type BoothCounts,
  type ClientMsg,
  CloseCode,
  type ErrorCode,
  type PollTally,
  type QuestionVotes,
  type RoomEvent,
  type RoomId,
  type ServerMsg,
  type SessionAttendance,
  type Signal,
  type StreamPosition,
  SUPPORTED_PROTOCOLS,
  type UserId,
} from "./proto.gen";

export type Snapshot = Extract<ServerMsg, { type: "snapshot" }>;
export type Resumed = Extract<ServerMsg, { type: "resumed" }>;
export type Welcome = Extract<ServerMsg, { type: "welcome" }>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A client message without its `rid`, which the connection assigns. */
export type RequestBody = DistributiveOmit<Exclude<ClientMsg, { type: "hello" }>, "rid">;

export type ConnectionStatus =
  | { kind: "connecting"; attempt: number }
  | { kind: "open" }
  | { kind: "waiting"; retryAt: number; attempt: number }
  | { kind: "closed"; code: number; reason: string };

/** What a joined room does with its messages: a `Room` (src/room.ts), the event room, the hall. */
export interface RoomHandler {
  snapshot(snapshot: Snapshot): void;
  resumed?(resumed: Resumed): void;
  event(event: RoomEvent, seq: number): void;
  attendance?(attendance: Attendance): void;
  votes?(votes: QuestionVotes[]): void;
  tallies?(tallies: PollTally[]): void;
  summary?(sessions: SessionAttendance[]): void;
  /** The exhibition hall's counts (`booth_summary`, sent to members of `expo`). */
  booths?(booths: BoothCounts[]): void;
  /** WebRTC signalling from another member of a call (`signal`, in call rooms). */
  signal?(from: UserId, signal: Signal): void;
  /** A new offer for this tab's view of the room's WebRTC stage (`media_offer` without
   * `rid`: the stage's tracks changed). */
  mediaOffer?(sdp: string): void;
  /** Joining failed (no such room, not allowed, ...). */
  failed?(error: RequestError): void;
}

export class RequestError extends Error {
  constructor(
    readonly code: ErrorCode | 0,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

const REQUEST_TIMEOUT_MS = 15_000;
const HELLO_TIMEOUT_MS = 10_000;
const MAX_BACKOFF_MS = 15_000;
/** Requests waiting for the connection: a tab offline for long does not pile up work. */
const MAX_QUEUED = 50;

interface Pending {
  resolve: (reply: ServerMsg) => void;
  reject: (error: RequestError) => void;
  timer: number;
}

interface Membership {
  handler: RoomHandler;
  position: StreamPosition | null;
}

/** Full jitter: anywhere between half and all of an exponentially growing delay. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(attempt, 10));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export class Connection {
  readonly status = signal<ConnectionStatus>({ kind: "connecting", attempt: 0 });
  /** The latest `welcome`: kept while reconnecting, so pages keep who the user is. */
  readonly welcome = signal<Welcome | null>(null);
  /** Set after a reconnect: whether every room resumed exactly. */
  readonly lastResume = signal<"exact" | "reloaded" | null>(null);

  private socket: WebSocket | null = null;
  private nextRid = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly queued: Array<{ body: RequestBody; pending: Omit<Pending, "timer"> }> = [];
  private readonly rooms = new Map<RoomId, Membership>();
  private attempt = 0;
  private retryTimer: number | undefined;
  private helloTimer: number | undefined;
  private ready = false;
  /** `welcome` arrived on the current socket. */
  private greeted = false;
  private stopped = false;
  private everOpened = false;

  constructor(
    private readonly token: () => string | null,
    private readonly fatal: (code: number, reason: string) => void,
    private readonly url: string = `${window.location.protocol === "https:" ? "wss" : "ws"}://${window.location.host}/ws`,
  ) {
    window.addEventListener("online", () => this.retryNow());
  }

  start(): void {
    this.stopped = false;
    if (!this.socket) this.open();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.retryTimer);
    this.socket?.close(CloseCode.normal, "signed out");
    this.socket = null;
    this.greeted = false;
    this.welcome.value = null;
    this.failAll("signed out");
    this.queued.length = 0;
  }

  /** Reconnects at once instead of waiting for the backoff. */
  retryNow(): void {
    if (this.stopped || this.status.value.kind !== "waiting") return;
    window.clearTimeout(this.retryTimer);
    this.open();
  }

  /** Sends a request; resolves with its reply (`ack`, `snapshot`, `chat_history`, ...). */
  request(body: RequestBody): Promise<ServerMsg> {
    return new Promise((resolve, reject) => {
      if (this.ready) {
        this.send(body, { resolve, reject });
      } else if (this.queued.length >= MAX_QUEUED) {
        reject(new RequestError(0, "too many requests are waiting for the connection"));
      } else {
        this.queued.push({ body, pending: { resolve, reject } });
      }
    });
  }

  /** Joins `room` (now and after every reconnect) until the returned function is called. */
  join(room: RoomId, handler: RoomHandler): () => void {
    const membership: Membership = { handler, position: null };
    this.rooms.set(room, membership);
    // After `welcome` the room can be joined at once (a rejoin in progress only covers the
    // rooms it started with).
    if (this.greeted) void this.joinRoom(room, membership);
    return () => {
      if (this.rooms.get(room) !== membership) return;
      this.rooms.delete(room);
      if (this.ready) this.request({ type: "leave", room }).catch(() => undefined);
    };
  }

  private open(): void {
    window.clearTimeout(this.retryTimer);
    this.ready = false;
    this.status.value = { kind: "connecting", attempt: this.attempt };
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onopen = () => {
      const token = this.token();
      if (!token) {
        socket.close(CloseCode.normal, "no token");
        return;
      }
      socket.send(
        JSON.stringify({ type: "hello", protocol: SUPPORTED_PROTOCOLS, token } satisfies ClientMsg),
      );
      this.helloTimer = window.setTimeout(
        () => socket.close(CloseCode.normal, "no welcome"),
        HELLO_TIMEOUT_MS,
      );
    };
    socket.onmessage = (message) => {
      if (this.socket !== socket || typeof message.data !== "string") return;
      let parsed: ServerMsg;
      try {
        parsed = JSON.parse(message.data) as ServerMsg;
      } catch {
        return;
      }
      this.receive(parsed);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      window.clearTimeout(this.helloTimer);
      this.socket = null;
      this.ready = false;
      this.greeted = false;
      this.failAll("the connection was lost");
      if (this.stopped) return;
      // 4500-4999: reconnecting cannot help until the cause is fixed (PROTOCOL.md §12).
      if (event.code >= 4500 && event.code <= 4999) {
        this.status.value = { kind: "closed", code: event.code, reason: event.reason };
        this.fatal(event.code, event.reason);
        return;
      }
      const delay = backoffDelay(this.attempt);
      this.attempt += 1;
      this.status.value = { kind: "waiting", retryAt: Date.now() + delay, attempt: this.attempt };
      this.retryTimer = window.setTimeout(() => this.open(), delay);
    };
  }

  private receive(message: ServerMsg): void {
    switch (message.type) {
      case "welcome":
        window.clearTimeout(this.helloTimer);
        this.greeted = true;
        this.welcome.value = message;
        void this.rejoin();
        return;
      case "event": {
        const membership = this.rooms.get(message.room);
        if (!membership?.position) return;
        // A replayed event this tab already has.
        if (message.seq <= membership.position.seq) return;
        membership.position = { epoch: membership.position.epoch, seq: message.seq };
        membership.handler.event(message.event, message.seq);
        return;
      }
      case "attendance":
        this.rooms.get(message.room)?.handler.attendance?.(message.attendance);
        return;
      case "resync": {
        // The room's stream restarted: drop its events until the new snapshot arrives.
        const membership = this.rooms.get(message.room);
        if (!membership || !this.greeted) return;
        const since = membership.position;
        membership.position = null;
        void this.joinRoom(message.room, membership, since).then((exact) => {
          if (!exact) this.lastResume.value = "reloaded";
        });
        return;
      }
      case "qa_votes":
        this.rooms.get(message.room)?.handler.votes?.(message.votes);
        return;
      case "poll_results":
        this.rooms.get(message.room)?.handler.tallies?.(message.tallies);
        return;
      case "attendance_summary":
        for (const membership of this.rooms.values()) membership.handler.summary?.(message.sessions);
        return;
      case "booth_summary":
        for (const membership of this.rooms.values()) membership.handler.booths?.(message.booths);
        return;
      case "signal":
        this.rooms.get(message.room)?.handler.signal?.(message.from, message.signal);
        return;
      case "media_offer":
        // With a `rid` it answers `media_view`; without, the node renegotiates on its own.
        if (message.rid != null) this.settle(message.rid, message);
        else this.rooms.get(message.room)?.handler.mediaOffer?.(message.sdp);
        return;
      case "error":
        if (message.rid === undefined || message.rid === null) return;
        this.settle(message.rid, message);
        return;
      default:
        this.settle(message.rid, message);
    }
  }

  private settle(rid: number, reply: ServerMsg): void {
    const pending = this.pending.get(rid);
    if (!pending) return;
    this.pending.delete(rid);
    window.clearTimeout(pending.timer);
    if (reply.type === "error") {
      pending.reject(new RequestError(reply.code, reply.message, reply.retry_after_ms ?? undefined));
    } else {
      pending.resolve(reply);
    }
  }

  private send(body: RequestBody, pending: Omit<Pending, "timer">): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      pending.reject(new RequestError(0, "the connection was lost"));
      return;
    }
    const rid = this.nextRid++;
    const timer = window.setTimeout(() => {
      this.pending.delete(rid);
      pending.reject(new RequestError(0, "the server did not answer in time"));
    }, REQUEST_TIMEOUT_MS);
    this.pending.set(rid, { ...pending, timer });
    socket.send(JSON.stringify({ ...body, rid }));
  }

  /** After `welcome`: joins every room again, then sends what waited. */
  private async rejoin(): Promise<void> {
    const reconnect = this.everOpened;
    this.everOpened = true;
    const results = await Promise.all(
      [...this.rooms].map(([room, membership]) => this.joinRoom(room, membership)),
    );
    if (!this.socket) return;
    this.attempt = 0;
    this.ready = true;
    this.status.value = { kind: "open" };
    if (reconnect) this.lastResume.value = results.every((exact) => exact) ? "exact" : "reloaded";
    for (const { body, pending } of this.queued.splice(0)) this.send(body, pending);
  }

  /** Joins one room; true when it resumed exactly (or had nothing to resume). */
  private async joinRoom(
    room: RoomId,
    membership: Membership,
    from: StreamPosition | null = membership.position,
  ): Promise<boolean> {
    const since = from ?? undefined;
    try {
      const reply = await new Promise<ServerMsg>((resolve, reject) =>
        this.send(since ? { type: "join", room, since } : { type: "join", room }, { resolve, reject }),
      );
      if (this.rooms.get(room) !== membership) return true;
      if (reply.type === "snapshot") {
        membership.position = { epoch: reply.epoch, seq: reply.seq };
        membership.handler.snapshot(reply);
        return !since;
      }
      if (reply.type === "resumed" && membership.position) {
        membership.position = { epoch: reply.epoch, seq: membership.position.seq };
        membership.handler.resumed?.(reply);
        membership.handler.attendance?.(reply.attendance);
      }
      return true;
    } catch (e) {
      if (e instanceof RequestError && e.code !== 0) membership.handler.failed?.(e);
      return false;
    }
  }

  private failAll(reason: string): void {
    for (const [rid, pending] of this.pending) {
      window.clearTimeout(pending.timer);
      pending.reject(new RequestError(0, reason));
      this.pending.delete(rid);
    }
  }
}
