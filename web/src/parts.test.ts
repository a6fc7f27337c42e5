// The room parts on their own: each one takes only the events it owns (the others change
// nothing), and what the Q&A, polls, stage and lineup parts do with theirs.
import { describe, expect, it } from "vitest";
import { BoothPart, CallPart } from "./booth";
import { ChatPart } from "./chat";
import type { RequestBody } from "./connection";
import { fakeConnection, snapshotOf } from "./fakes";
import { GreenPart } from "./green";
import { PollsPart } from "./polls";
import type { PollView, QuestionView, RoomEvent, ServerMsg } from "./proto.gen";
import { QaPart } from "./qa";
import type { RoomLink, RoomPart } from "./room";
import { StagePart } from "./stage";
import { LineupPart } from "./stageLineup";
import { StageMediaPart } from "./stageMedia";

const ANA = { id: "ana", name: "Ana" };

const question = (id: string, extra: Partial<QuestionView> = {}): QuestionView => ({
  id,
  text: `question ${id}`,
  state: "published",
  version: 1,
  votes: 0,
  asked_at: 1,
  updated_at: 1,
  ...extra,
});

const poll = (id: string, extra: Partial<PollView> = {}): PollView => ({
  id,
  question: `poll ${id}`,
  options: ["yes", "no"],
  multiple: false,
  changeable: true,
  results: "live",
  state: "open",
  version: 1,
  created_at: 1,
  updated_at: 1,
  ...extra,
});

/** One event of every type (a new type fails to compile here until it is added). */
const EVERY_EVENT: Record<RoomEvent["type"], RoomEvent> = {
  stage: { type: "stage", stage: { state: "live", title: "Opening", updated_at: 2 }, by: ANA.id },
  chat: { type: "chat", message: { id: "m1", author: ANA, text: "hi", at: 2 } },
  chat_deleted: { type: "chat_deleted", id: "m0", by: ANA.id },
  user_muted: { type: "user_muted", user: "u1", until: 5, by: ANA.id },
  user_unmuted: { type: "user_unmuted", user: "u0", by: ANA.id },
  announcement: { type: "announcement", announcement: { text: "Welcome", by: ANA, at: 2 } },
  questions: { type: "questions", changed: [question("q2")], removed: ["q0"] },
  polls: { type: "polls", changed: [poll("p2")], removed: ["p0"] },
  booth: {
    type: "booth",
    staff: [{ user: "s1", name: "Sam", status: "busy" }],
    requests: [{ id: "r1", visitor: ANA, kind: "live", state: "waiting", created_at: 2, updated_at: 2 }],
  },
  call_opened: { type: "call_opened", call: { members: [ANA], opened_at: 2 } },
  call_joined: { type: "call_joined", member: { id: "ben", name: "Ben" } },
  call_left: { type: "call_left", user: "zoe" },
  stage_tracks: {
    type: "stage_tracks",
    tracks: [{ id: "7-0", user: ANA.id, name: ANA.name, source: "camera", layers: ["l", "m", "h"] }],
  },
  stage_lineup: {
    type: "stage_lineup",
    on_stage: [{ user: "zoe", name: "Zoe" }],
    hands: [{ user: "ben", name: "Ben", speaker: true, at: 2 }],
  },
};

/** A snapshot with something in every part's slice, so an event that touched one would show. */
const FULL = snapshotOf("session:s", {
  stage: { state: "scheduled", title: "Opening", updated_at: 1 },
  chat: [{ id: "m0", author: ANA, text: "first", at: 1 }],
  questions: [question("q0")],
  polls: [poll("p0")],
  booth: { staff: [{ user: "s1", name: "Sam", status: "available" }], requests: [], more: false },
  call: { members: [ANA, { id: "zoe", name: "Zoe" }], opened_at: 1 },
  ice_servers: [],
  stage_tracks: [{ id: "3-1", user: "zoe", name: "Zoe", source: "microphone" }],
  on_stage: [{ user: ANA.id, name: ANA.name }],
  hands: [{ user: "zoe", name: "Zoe", speaker: false, at: 1 }],
});

const link: RoomLink = { room: "session:s", request: async () => ({ type: "ack", rid: 1 }) };

/** Each part, how to make one, what it holds (comparable), and the events it owns. */
const PARTS: Array<{ name: string; make: () => RoomPart; state: (p: RoomPart) => unknown; owns: string[] }> =
  [
    {
      name: "stage",
      make: () => new StagePart(link),
      state: (p) => (p as StagePart).current.value,
      owns: ["stage"],
    },
    {
      name: "media",
      make: () => new StageMediaPart(link),
      state: (p) => (p as StageMediaPart).tracks.value,
      owns: ["stage_tracks"],
    },
    {
      name: "lineup",
      make: () => new LineupPart(link),
      state: (p) => [(p as LineupPart).onStage.value, (p as LineupPart).hands.value],
      owns: ["stage_lineup"],
    },
    {
      name: "chat",
      make: () => new ChatPart(link),
      state: (p) => {
        const chat = p as ChatPart;
        return [[...chat.messages], chat.version.value, chat.more.value, [...chat.muted.value]];
      },
      owns: ["chat", "chat_deleted", "user_muted", "user_unmuted"],
    },
    {
      name: "qa",
      make: () => new QaPart(link),
      state: (p) => {
        const qa = p as QaPart;
        return [[...qa.questions], qa.version.value, [...qa.myVotes.value]];
      },
      owns: ["questions"],
    },
    {
      name: "polls",
      make: () => new PollsPart(link),
      state: (p) => {
        const polls = p as PollsPart;
        return [[...polls.polls], polls.version.value, [...polls.myAnswers.value]];
      },
      owns: ["polls"],
    },
    {
      name: "booth",
      make: () => new BoothPart(link),
      state: (p) => {
        const booth = p as BoothPart;
        return [booth.staff.value, [...booth.requests.value]];
      },
      owns: ["booth"],
    },
    {
      name: "call",
      make: () => new CallPart(link),
      state: (p) => [(p as CallPart).info.value, (p as CallPart).iceServers.value],
      owns: ["call_opened"],
    },
    {
      name: "green",
      make: () => new GreenPart(new CallPart(link)),
      state: (p) => (p as GreenPart).call.info.value,
      owns: ["call_joined", "call_left"],
    },
  ];

describe("every room part", () => {
  for (const { name, make, state, owns } of PARTS) {
    it(`${name}: takes ${owns.join(", ")} and changes nothing for any other event`, () => {
      for (const event of Object.values(EVERY_EVENT)) {
        const part = make();
        // The green part keeps its call's member list: the call part takes the snapshot.
        if (part instanceof GreenPart) part.call.snapshot(FULL);
        part.snapshot(FULL);
        const before = structuredClone(state(part));
        const taken = part.event(event);
        expect(taken, `${name} and ${event.type}`).toBe(owns.includes(event.type));
        if (!taken) expect(state(part), `${name} and ${event.type}`).toEqual(before);
      }
    });
  }

  it("between them own each event once, but the announcement (the event room shows it)", () => {
    for (const type of Object.keys(EVERY_EVENT)) {
      const owners = PARTS.filter((p) => p.owns.includes(type)).map((p) => p.name);
      expect(owners, type).toHaveLength(type === "announcement" ? 0 : 1);
    }
  });
});

/** A part's link to a fake node, answering requests with `reply`. */
function linkTo(reply: (body: RequestBody) => ServerMsg = () => ({ type: "ack", rid: 1 })) {
  const fake = fakeConnection();
  fake.answer(reply);
  return { fake, link: { room: "session:s", request: (body: RequestBody) => fake.connection.request(body) } };
}

describe("QaPart", () => {
  it("never lets a replayed older version replace a newer one, and tells of new questions only", () => {
    const qa = new QaPart(link);
    const announced: string[] = [];
    qa.onNewQuestion = (q) => announced.push(q.id);
    qa.snapshot(snapshotOf("session:s", { questions: [question("q1", { version: 3 })], my_votes: ["q1"] }));
    qa.event({ type: "questions", changed: [question("q1", { version: 2, text: "old" }), question("q2")] });
    expect(qa.questions.get("q1")?.version).toBe(3);
    expect(announced).toEqual(["q2"]);
    expect(qa.myVotes.value.has("q1")).toBe(true);
    qa.event({ type: "questions", removed: ["q2"] });
    expect([...qa.questions.keys()]).toEqual(["q1"]);
  });

  it("takes coalesced vote counts for the questions it has", () => {
    const qa = new QaPart(link);
    qa.snapshot(snapshotOf("session:s", { questions: [question("q1")] }));
    const version = qa.version.value;
    qa.votes([{ id: "q1", votes: 4 }]);
    expect(qa.questions.get("q1")?.votes).toBe(4);
    expect(qa.version.value).toBe(version + 1);
    qa.votes([
      { id: "q1", votes: 4 },
      { id: "unknown", votes: 9 },
    ]);
    expect(qa.version.value).toBe(version + 1);
    expect(qa.questions.has("unknown")).toBe(false);
  });

  it("fetches the pages the snapshot did not hold, newest back", async () => {
    const pages: Record<string, QuestionView[]> = {
      first: [question("q4"), question("q3")],
      q3: [question("q2")],
    };
    const { fake, link: toNode } = linkTo((body) => {
      const before = body.type === "qa_page" ? (body.before ?? "first") : "";
      return {
        type: "questions_page",
        rid: 2,
        room: "session:s",
        questions: pages[before] ?? [],
        more: before === "first",
        ...(before === "q3" ? { my_votes: ["q2"] } : {}),
      };
    });
    const qa = new QaPart(toNode);
    qa.snapshot(snapshotOf("session:s", { questions: [question("q5")], questions_more: true }));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(fake.requests).toEqual([
      { type: "qa_page", room: "session:s" },
      { type: "qa_page", room: "session:s", before: "q3" },
    ]);
    expect([...qa.questions.keys()].sort()).toEqual(["q2", "q3", "q4", "q5"]);
    expect([...qa.myVotes.value]).toEqual(["q2"]);
  });

  it("sends the Q&A commands and remembers this user's votes", async () => {
    const { fake, link: toNode } = linkTo();
    const qa = new QaPart(toNode);
    await qa.ask("Why?", true);
    await qa.vote("q1", true);
    expect(qa.myVotes.value.has("q1")).toBe(true);
    await qa.vote("q1", false);
    expect(qa.myVotes.value.has("q1")).toBe(false);
    await qa.withdraw("q1");
    await qa.moderate(question("q1", { version: 2 }), "merge", { into: question("q2", { version: 5 }) });
    expect(fake.requests).toEqual([
      { type: "qa_ask", room: "session:s", text: "Why?", anonymous: true },
      { type: "qa_vote", room: "session:s", id: "q1", up: true },
      { type: "qa_vote", room: "session:s", id: "q1", up: false },
      { type: "qa_withdraw", room: "session:s", id: "q1" },
      {
        type: "qa_moderate",
        room: "session:s",
        id: "q1",
        version: 2,
        action: "merge",
        into: "q2",
        into_version: 5,
      },
    ]);
  });
});

describe("PollsPart", () => {
  it("keeps the newer of two versions, and puts tallies on the polls it has", () => {
    const polls = new PollsPart(link);
    polls.snapshot(
      snapshotOf("session:s", {
        polls: [poll("p1", { version: 2 })],
        my_answers: [{ id: "p1", choices: [1] }],
      }),
    );
    polls.event({ type: "polls", changed: [poll("p1", { version: 1, question: "old" })] });
    expect(polls.polls.get("p1")?.question).toBe("poll p1");
    expect(polls.myAnswers.value.get("p1")).toEqual([1]);
    polls.tallies([
      { id: "p1", counts: [3, 1], voters: 4 },
      { id: "unknown", counts: [1], voters: 1 },
    ]);
    expect(polls.polls.get("p1")?.tally?.voters).toBe(4);
    expect(polls.polls.has("unknown")).toBe(false);
  });

  it("sends the poll commands and remembers this user's answer", async () => {
    const { fake, link: toNode } = linkTo();
    const polls = new PollsPart(toNode);
    await polls.create("Lunch?", ["yes", "no"], false, true, "after_close");
    await polls.control(poll("p1", { version: 3 }), "close");
    await polls.answer("p1", [0]);
    expect(polls.myAnswers.value.get("p1")).toEqual([0]);
    expect(fake.requests).toEqual([
      {
        type: "poll_create",
        room: "session:s",
        question: "Lunch?",
        options: ["yes", "no"],
        multiple: false,
        changeable: true,
        results: "after_close",
      },
      { type: "poll_control", room: "session:s", id: "p1", version: 3, action: "close" },
      { type: "poll_answer", room: "session:s", id: "p1", choices: [0] },
    ]);
  });
});

describe("StagePart", () => {
  it("follows the snapshot and stage events, and sends stage_update", async () => {
    const { fake, link: toNode } = linkTo();
    const stage = new StagePart(toNode);
    stage.snapshot(snapshotOf("session:s"));
    expect(stage.current.value).toBeNull();
    stage.event(EVERY_EVENT.stage);
    expect(stage.current.value?.state).toBe("live");
    await stage.update({ speaker: "Ada" });
    expect(fake.requests).toEqual([{ type: "stage_update", room: "session:s", speaker: "Ada" }]);
  });
});
