// A session's polls (a room part, src/room.ts): the polls this member may see (moderators
// also see drafts), this user's answers, the coalesced tallies (`poll_results`), and the poll
// commands (create, open and close, answer).
import { signal } from "@preact/signals";
import type { Snapshot } from "./connection";
import type { MessageId, PollAction, PollResults, PollTally, PollView, RoomEvent } from "./proto.gen";
import type { RoomLink, RoomPart } from "./room";

export class PollsPart implements RoomPart {
  /** The session's polls, by id. Read `version` to be told of changes. */
  readonly polls = new Map<MessageId, PollView>();
  readonly version = signal(0);
  /** This user's answers, by poll. */
  readonly myAnswers = signal<ReadonlyMap<MessageId, number[]>>(new Map());

  constructor(private readonly link: RoomLink) {}

  snapshot(s: Snapshot): void {
    this.polls.clear();
    for (const p of s.polls ?? []) this.polls.set(p.id, p);
    this.myAnswers.value = new Map((s.my_answers ?? []).map((a) => [a.id, a.choices]));
    this.version.value += 1;
  }

  event(event: RoomEvent): boolean {
    if (event.type !== "polls") return false;
    for (const p of event.changed ?? []) {
      const known = this.polls.get(p.id);
      if (known && known.version > p.version) continue;
      // A view without results keeps none; one with results replaces them.
      this.polls.set(p.id, p);
    }
    for (const id of event.removed ?? []) this.polls.delete(id);
    this.version.value += 1;
    return true;
  }

  tallies(tallies: PollTally[]): void {
    for (const tally of tallies) {
      const poll = this.polls.get(tally.id);
      if (poll) this.polls.set(tally.id, { ...poll, tally });
    }
    this.version.value += 1;
  }

  create(question: string, options: string[], multiple: boolean, changeable: boolean, results: PollResults) {
    return this.link.request({
      type: "poll_create",
      room: this.link.room,
      question,
      options,
      multiple,
      changeable,
      results,
    });
  }

  control(poll: PollView, action: PollAction, results?: PollResults) {
    return this.link.request({
      type: "poll_control",
      room: this.link.room,
      id: poll.id,
      version: poll.version,
      action,
      ...(results ? { results } : {}),
    });
  }

  async answer(id: MessageId, choices: number[]) {
    await this.link.request({ type: "poll_answer", room: this.link.room, id, choices });
    const next = new Map(this.myAnswers.value);
    next.set(id, choices);
    this.myAnswers.value = next;
  }
}
