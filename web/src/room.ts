// A room this tab is in: the connection core that every kind of room shares, and the
// interface of the parts a kind is composed of. The core joins the room (and leaves it on
// `dispose`), keeps what every room has (who the caller is in it, attendance, why joining
// failed), and hands the snapshot, each event and the room's other messages to its parts. A
// part (chat, Q&A, polls, stage, booth, call, ...) owns one slice of the room's state: it
// takes that slice from the snapshot and applies the events it understands, ignoring the
// rest. The kinds of room (which parts each has) are in src/rooms.ts.
//
// The stream position (epoch and `seq`) is kept by the connection (src/connection.ts), which
// drops replayed events this tab already has and resumes from the last one after a reconnect.
import { batch, signal } from "@preact/signals";
import type { Connection, RequestBody, RequestError, Resumed, Snapshot } from "./connection";
import type {
  Attendance,
  Membership,
  PollTally,
  QuestionVotes,
  RoomEvent,
  RoomId,
  ServerMsg,
  Signal,
  UserId,
} from "./proto.gen";

/** What a part may do with its room: know its id, and send the node requests about it. */
export interface RoomLink {
  readonly room: RoomId;
  request(body: RequestBody): Promise<ServerMsg>;
}

/** One slice of a room's state. Only `snapshot` and `event` are required. */
export interface RoomPart {
  /** Replaces this part's state with the snapshot's (a first join, or a resume that could
   * not replay). Called inside one batch with the core and the other parts. */
  snapshot(snapshot: Snapshot): void;
  /** Applies `event` if this part owns its type and says so; any other event changes
   * nothing and gives false. */
  event(event: RoomEvent): boolean;
  /** After every join, once the state is in: `first` for the room's first one, false after
   * a reconnect (a snapshot or a resume). */
  joined?(first: boolean): void;
  /** Coalesced vote counts (`qa_votes`). */
  votes?(votes: QuestionVotes[]): void;
  /** Coalesced poll tallies (`poll_results`). */
  tallies?(tallies: PollTally[]): void;
  /** WebRTC signalling from another member (`signal`, in call rooms). */
  signal?(from: UserId, signal: Signal): void;
  /** The node's new offer for this tab's view of the WebRTC stage (session rooms). */
  mediaOffer?(sdp: string): void;
  /** The room is left: drop callbacks the page set. */
  dispose?(): void;
}

/** The parts of a kind of room, by name (`chat`, `qa`, ...). */
export type RoomParts = Record<string, RoomPart>;

/** A room this tab is in: the core's state, and `parts` for the rest. */
export class Room<Parts extends RoomParts = RoomParts> implements RoomLink {
  readonly attendance = signal<Attendance | null>(null);
  readonly you = signal<Membership | null>(null);
  readonly joinError = signal<RequestError | null>(null);
  readonly parts: Parts;

  /** The parts in the order they were named, which is the order they hear of things. */
  private readonly all: readonly RoomPart[];
  private joins = 0;
  private readonly leave: () => void;

  /** Joins `room` (now and after every reconnect) until `dispose`; `makeParts` builds the
   * parts before the first message can arrive. */
  constructor(
    private readonly connection: Connection,
    readonly room: RoomId,
    makeParts: (link: RoomLink) => Parts,
  ) {
    this.parts = makeParts(this);
    this.all = Object.values(this.parts);
    this.leave = connection.join(room, {
      snapshot: (s) => this.applySnapshot(s),
      resumed: (r) => this.applyResumed(r),
      event: (e) => this.apply(e),
      attendance: (a) => {
        this.attendance.value = a;
      },
      votes: (votes) => {
        for (const part of this.all) part.votes?.(votes);
      },
      tallies: (tallies) => {
        for (const part of this.all) part.tallies?.(tallies);
      },
      signal: (from, s) => {
        for (const part of this.all) part.signal?.(from, s);
      },
      mediaOffer: (sdp) => {
        for (const part of this.all) part.mediaOffer?.(sdp);
      },
      failed: (e) => {
        this.joinError.value = e;
      },
    });
  }

  request(body: RequestBody): Promise<ServerMsg> {
    return this.connection.request(body);
  }

  dispose(): void {
    this.leave();
    for (const part of this.all) part.dispose?.();
  }

  private applySnapshot(s: Snapshot): void {
    batch(() => {
      this.joinError.value = null;
      this.attendance.value = s.attendance;
      this.you.value = s.you;
      for (const part of this.all) part.snapshot(s);
    });
    this.joined();
  }

  /** Rejoined after a reconnect, with the events missed replayed (or none missed). */
  private applyResumed(r: Resumed): void {
    this.you.value = r.you;
    this.joined();
  }

  /** Gives `event` to the first part that owns it; one no part owns (an announcement, which
   * the event room shows) is dropped. */
  private apply(event: RoomEvent): void {
    for (const part of this.all) if (part.event(event)) return;
  }

  private joined(): void {
    this.joins += 1;
    const first = this.joins === 1;
    for (const part of this.all) part.joined?.(first);
  }
}
