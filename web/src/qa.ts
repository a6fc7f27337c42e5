// A session's Q&A (a room part, src/room.ts): the questions this member may see, the ones
// it voted for, the coalesced vote counts (`qa_votes`), the pages of questions that did not
// fit in the snapshot, and the Q&A commands (ask, vote, withdraw, moderate).
import { batch, signal } from "@preact/signals";
import type { Snapshot } from "./connection";
import type { MessageId, QaAction, QuestionView, QuestionVotes, RoomEvent } from "./proto.gen";
import type { RoomLink, RoomPart } from "./room";

/** Pages of questions fetched after a snapshot at most (50 questions each). */
const MAX_QUESTION_PAGES = 200;

export class QaPart implements RoomPart {
  /** The questions this member may see, by id. Read `version` to be told of changes. */
  readonly questions = new Map<MessageId, QuestionView>();
  readonly version = signal(0);
  /** The questions this user has voted for. */
  readonly myVotes = signal<ReadonlySet<MessageId>>(new Set());
  /** Called for each question that appears (for the screen-reader announcer). */
  onNewQuestion: ((question: QuestionView) => void) | null = null;

  constructor(private readonly link: RoomLink) {}

  snapshot(s: Snapshot): void {
    this.questions.clear();
    for (const q of s.questions ?? []) this.questions.set(q.id, q);
    this.myVotes.value = new Set(s.my_votes ?? []);
    this.version.value += 1;
    if (s.questions_more) void this.loadAllQuestions();
  }

  event(event: RoomEvent): boolean {
    if (event.type !== "questions") return false;
    for (const q of event.changed ?? []) {
      const known = this.questions.get(q.id);
      // Whole views: an older version (a replay) never replaces a newer one.
      if (known && known.version > q.version) continue;
      this.questions.set(q.id, q);
      if (!known) this.onNewQuestion?.(q);
    }
    for (const id of event.removed ?? []) this.questions.delete(id);
    this.version.value += 1;
    return true;
  }

  votes(votes: QuestionVotes[]): void {
    let changed = false;
    for (const v of votes) {
      const q = this.questions.get(v.id);
      if (q && q.votes !== v.votes) {
        this.questions.set(v.id, { ...q, votes: v.votes });
        changed = true;
      }
    }
    if (changed) this.version.value += 1;
  }

  dispose(): void {
    this.onNewQuestion = null;
  }

  /**
   * The node sends questions a page at a time (proto/PROTOCOL.md, "Outgoing frames and
   * pages"): fetches the rest from the newest back. A question already here at a later
   * version (an event arrived meanwhile) is kept.
   */
  private async loadAllQuestions(): Promise<void> {
    let before: MessageId | undefined;
    for (let pages = 0; pages < MAX_QUESTION_PAGES; pages++) {
      const reply = await this.link.request({
        type: "qa_page",
        room: this.link.room,
        ...(before ? { before } : {}),
      });
      if (reply.type !== "questions_page") return;
      batch(() => {
        for (const q of reply.questions) {
          const known = this.questions.get(q.id);
          if (!known || known.version < q.version) this.questions.set(q.id, q);
        }
        if (reply.my_votes?.length) this.myVotes.value = new Set([...this.myVotes.value, ...reply.my_votes]);
        this.version.value += 1;
      });
      const last = reply.questions.at(-1);
      if (!reply.more || !last) return;
      before = last.id;
    }
  }

  ask(text: string, anonymous: boolean) {
    return this.link.request({ type: "qa_ask", room: this.link.room, text, anonymous });
  }

  async vote(id: MessageId, up: boolean) {
    await this.link.request({ type: "qa_vote", room: this.link.room, id, up });
    const next = new Set(this.myVotes.value);
    if (up) next.add(id);
    else next.delete(id);
    this.myVotes.value = next;
  }

  withdraw(id: MessageId) {
    return this.link.request({ type: "qa_withdraw", room: this.link.room, id });
  }

  moderate(
    question: QuestionView,
    action: QaAction,
    extra: { text?: string; reason?: string; into?: QuestionView; rank?: number } = {},
  ) {
    return this.link.request({
      type: "qa_moderate",
      room: this.link.room,
      id: question.id,
      version: question.version,
      action,
      ...(extra.text !== undefined ? { text: extra.text } : {}),
      ...(extra.reason !== undefined ? { reason: extra.reason } : {}),
      ...(extra.into ? { into: extra.into.id, into_version: extra.into.version } : {}),
      ...(extra.rank !== undefined ? { rank: extra.rank } : {}),
    });
  }
}
