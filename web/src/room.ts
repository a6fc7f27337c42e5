// One session room's state in this tab, fed by the connection: the stage, attendance, what
// the caller may do, the chat (at most MAX_MESSAGES kept, oldest dropped first) and who is
// muted. The chat lives in a plain array with a version signal, so a message costs O(1)
// instead of copying 10,000 messages into a new array. Booth and call rooms (src/booth.ts)
// extend it with what they add to a room.
import { batch, signal } from "@preact/signals";
import type { Connection, RequestError, Resumed, Snapshot } from "./connection";
import type {
  Attendance,
  ChatMessage,
  Membership,
  MessageId,
  PollAction,
  PollResults,
  PollView,
  QaAction,
  QuestionView,
  RoomEvent,
  RoomId,
  Signal,
  Stage,
  UserId,
} from "./proto.gen";

export const MAX_MESSAGES = 20_000;
const HISTORY_PAGE = 50;
/** Pages of questions fetched after a snapshot at most (50 questions each). */
const MAX_QUESTION_PAGES = 200;

export class SessionRoom {
  readonly stage = signal<Stage | null>(null);
  readonly attendance = signal<Attendance | null>(null);
  readonly you = signal<Membership | null>(null);
  readonly joinError = signal<RequestError | null>(null);
  /** Oldest first. Read `chatVersion` to be told of changes. */
  readonly messages: ChatMessage[] = [];
  readonly chatVersion = signal(0);
  /** Whether the node has messages older than the first one here. */
  readonly chatMore = signal(false);
  readonly loadingOlder = signal(false);
  /** Users who may not chat now, with the end of the mute (null: until unmuted). */
  readonly muted = signal<ReadonlyMap<UserId, number | null>>(new Map());
  /** The questions this member may see, by id. Read `qaVersion` to be told of changes. */
  readonly questions = new Map<MessageId, QuestionView>();
  readonly qaVersion = signal(0);
  /** The questions this user has voted for. */
  readonly myVotes = signal<ReadonlySet<MessageId>>(new Set());
  /** The session's polls, by id (moderators also see drafts). Read `pollsVersion`. */
  readonly polls = new Map<MessageId, PollView>();
  readonly pollsVersion = signal(0);
  /** This user's answers, by poll. */
  readonly myAnswers = signal<ReadonlyMap<MessageId, number[]>>(new Map());
  /** Called for each question that appears (for the screen-reader announcer). */
  onNewQuestion: ((question: QuestionView) => void) | null = null;
  /** Called for each new chat message (for the screen-reader announcer). */
  onNewMessage: ((message: ChatMessage) => void) | null = null;

  private readonly leave: () => void;

  constructor(
    protected readonly connection: Connection,
    readonly room: RoomId,
  ) {
    this.leave = connection.join(room, {
      snapshot: (s) => this.applySnapshot(s),
      event: (e) => this.apply(e),
      attendance: (a) => {
        this.attendance.value = a;
      },
      tallies: (tallies) => {
        for (const tally of tallies) {
          const poll = this.polls.get(tally.id);
          if (poll) this.polls.set(tally.id, { ...poll, tally });
        }
        this.pollsVersion.value += 1;
      },
      votes: (votes) => {
        let changed = false;
        for (const v of votes) {
          const q = this.questions.get(v.id);
          if (q && q.votes !== v.votes) {
            this.questions.set(v.id, { ...q, votes: v.votes });
            changed = true;
          }
        }
        if (changed) this.qaVersion.value += 1;
      },
      resumed: (r) => this.applyResumed(r),
      signal: (from, s) => this.receiveSignal(from, s),
      failed: (e) => {
        this.joinError.value = e;
      },
    });
  }

  dispose(): void {
    this.leave();
    this.onNewMessage = null;
  }

  protected applySnapshot(s: Snapshot): void {
    batch(() => {
      this.joinError.value = null;
      this.stage.value = s.stage ?? null;
      this.attendance.value = s.attendance;
      this.you.value = s.you;
      this.messages.splice(0, this.messages.length, ...s.chat);
      this.chatMore.value = s.chat_more;
      this.muted.value = new Map();
      this.chatVersion.value += 1;
      this.questions.clear();
      for (const q of s.questions ?? []) this.questions.set(q.id, q);
      this.myVotes.value = new Set(s.my_votes ?? []);
      this.qaVersion.value += 1;
      this.polls.clear();
      for (const p of s.polls ?? []) this.polls.set(p.id, p);
      this.myAnswers.value = new Map((s.my_answers ?? []).map((a) => [a.id, a.choices]));
      this.pollsVersion.value += 1;
    });
    if (s.questions_more) void this.loadAllQuestions();
  }

  /**
   * The node sends questions a page at a time (proto/PROTOCOL.md, "Outgoing frames and
   * pages"): fetches the rest from the newest back. A question already here at a later
   * version (an event arrived meanwhile) is kept.
   */
  private async loadAllQuestions(): Promise<void> {
    let before: MessageId | undefined;
    for (let pages = 0; pages < MAX_QUESTION_PAGES; pages++) {
      const reply = await this.connection.request({
        type: "qa_page",
        room: this.room,
        ...(before ? { before } : {}),
      });
      if (reply.type !== "questions_page") return;
      batch(() => {
        for (const q of reply.questions) {
          const known = this.questions.get(q.id);
          if (!known || known.version < q.version) this.questions.set(q.id, q);
        }
        if (reply.my_votes?.length) this.myVotes.value = new Set([...this.myVotes.value, ...reply.my_votes]);
        this.qaVersion.value += 1;
      });
      const last = reply.questions.at(-1);
      if (!reply.more || !last) return;
      before = last.id;
    }
  }

  /** Rejoined after a reconnect, with the events missed replayed (or none missed). */
  protected applyResumed(r: Resumed): void {
    this.you.value = r.you;
  }

  /** WebRTC signalling from another member: only call rooms (src/booth.ts) have any. */
  protected receiveSignal(_from: UserId, _signal: Signal): void {}

  protected apply(event: RoomEvent): void {
    switch (event.type) {
      case "stage":
        this.stage.value = event.stage;
        return;
      case "chat":
        this.messages.push(event.message);
        if (this.messages.length > MAX_MESSAGES) {
          this.messages.splice(0, this.messages.length - MAX_MESSAGES);
          this.chatMore.value = true;
        }
        this.chatVersion.value += 1;
        this.onNewMessage?.(event.message);
        return;
      case "chat_deleted": {
        const index = this.messages.findIndex((m) => m.id === event.id);
        if (index >= 0) {
          this.messages.splice(index, 1);
          this.chatVersion.value += 1;
        }
        return;
      }
      case "user_muted": {
        const next = new Map(this.muted.value);
        next.set(event.user, event.until ?? null);
        this.muted.value = next;
        return;
      }
      case "user_unmuted": {
        const next = new Map(this.muted.value);
        next.delete(event.user);
        this.muted.value = next;
        return;
      }
      case "announcement":
        return;
      case "questions": {
        for (const q of event.changed ?? []) {
          const known = this.questions.get(q.id);
          // Whole views: an older version (a replay) never replaces a newer one.
          if (known && known.version > q.version) continue;
          this.questions.set(q.id, q);
          if (!known) this.onNewQuestion?.(q);
        }
        for (const id of event.removed ?? []) this.questions.delete(id);
        this.qaVersion.value += 1;
        return;
      }
      case "polls": {
        for (const p of event.changed ?? []) {
          const known = this.polls.get(p.id);
          if (known && known.version > p.version) continue;
          // A view without results keeps none; one with results replaces them.
          this.polls.set(p.id, p);
        }
        for (const id of event.removed ?? []) this.polls.delete(id);
        this.pollsVersion.value += 1;
        return;
      }
    }
  }

  createPoll(
    question: string,
    options: string[],
    multiple: boolean,
    changeable: boolean,
    results: PollResults,
  ) {
    return this.connection.request({
      type: "poll_create",
      room: this.room,
      question,
      options,
      multiple,
      changeable,
      results,
    });
  }

  controlPoll(poll: PollView, action: PollAction, results?: PollResults) {
    return this.connection.request({
      type: "poll_control",
      room: this.room,
      id: poll.id,
      version: poll.version,
      action,
      ...(results ? { results } : {}),
    });
  }

  async answerPoll(id: MessageId, choices: number[]) {
    await this.connection.request({ type: "poll_answer", room: this.room, id, choices });
    const next = new Map(this.myAnswers.value);
    next.set(id, choices);
    this.myAnswers.value = next;
  }

  ask(text: string, anonymous: boolean) {
    return this.connection.request({ type: "qa_ask", room: this.room, text, anonymous });
  }

  async vote(id: MessageId, up: boolean) {
    await this.connection.request({ type: "qa_vote", room: this.room, id, up });
    const next = new Set(this.myVotes.value);
    if (up) next.add(id);
    else next.delete(id);
    this.myVotes.value = next;
  }

  withdraw(id: MessageId) {
    return this.connection.request({ type: "qa_withdraw", room: this.room, id });
  }

  moderate(
    question: QuestionView,
    action: QaAction,
    extra: { text?: string; reason?: string; into?: QuestionView; rank?: number } = {},
  ) {
    return this.connection.request({
      type: "qa_moderate",
      room: this.room,
      id: question.id,
      version: question.version,
      action,
      ...(extra.text !== undefined ? { text: extra.text } : {}),
      ...(extra.reason !== undefined ? { reason: extra.reason } : {}),
      ...(extra.into ? { into: extra.into.id, into_version: extra.into.version } : {}),
      ...(extra.rank !== undefined ? { rank: extra.rank } : {}),
    });
  }

  /** Loads the page of messages before the oldest one here. */
  async loadOlder(): Promise<void> {
    if (this.loadingOlder.value || !this.chatMore.value) return;
    this.loadingOlder.value = true;
    try {
      const before = this.messages[0]?.id;
      const reply = await this.connection.request({
        type: "chat_history",
        room: this.room,
        limit: HISTORY_PAGE,
        ...(before ? { before } : {}),
      });
      if (reply.type !== "chat_history") return;
      const known = new Set(this.messages.map((m) => m.id));
      const older = reply.messages.filter((m) => !known.has(m.id));
      batch(() => {
        this.messages.unshift(...older);
        this.chatMore.value = reply.more;
        this.chatVersion.value += 1;
      });
    } finally {
      this.loadingOlder.value = false;
    }
  }

  send(text: string) {
    return this.connection.request({ type: "chat_send", room: this.room, text });
  }

  deleteMessage(id: string) {
    return this.connection.request({ type: "chat_delete", room: this.room, id });
  }

  mute(user: UserId, minutes: number) {
    return this.connection.request({ type: "mute", room: this.room, user, minutes });
  }

  unmute(user: UserId) {
    return this.connection.request({ type: "unmute", room: this.room, user });
  }

  setStage(change: { state?: Stage["state"]; speaker?: string }) {
    return this.connection.request({ type: "stage_update", room: this.room, ...change });
  }
}
