// The WebRTC stage's lineup: its rules (who may raise a hand, where this person stands, which
// hands are new, what a refusal means), the part following the snapshot and `stage_lineup`
// events and sending `stage_hand` and `stage_invite`, and a `StageSession` whose person a
// moderator takes off the stage while they are live.
import { describe, expect, it } from "vitest";
import { RequestError } from "./connection";
import { fakeConnection, snapshotOf } from "./fakes";
import type { Membership, RaisedHand, Role, RoomEvent, Stage, StageMember } from "./proto.gen";
import { sessionRoom } from "./rooms";
import { ANA_CAMERA, ANA_MIC, type FakePeer, ROOM, setup } from "./stageFakes";
import { LineupPart } from "./stageLineup";
import {
  handOf,
  INTERACTIVE_KINDS,
  inLineup,
  isInteractive,
  lineupRefusal,
  mayRaiseHand,
  newHands,
  stageStanding,
} from "./stageRules";

const member = (role: Role, manages = false): Membership => ({
  role,
  can_chat: true,
  can_moderate: manages,
  can_manage_stage: manages,
  can_announce: false,
});
const ATTENDEE = member("attendee");
const SPEAKER = member("speaker");
const MODERATOR = member("moderator", true);

const hand = (user: string, at: number, speaker = false): RaisedHand => ({
  user,
  name: user.toUpperCase(),
  speaker,
  at,
});
const on = (user: string): StageMember => ({ user, name: user.toUpperCase() });

describe("who may raise a hand", () => {
  it("a speaker in any session, anyone in a workshop, special track session or other", () => {
    expect(INTERACTIVE_KINDS).toEqual(["workshop", "special_track_session", "other"]);
    for (const kind of ["keynote", "high_level_policy_session", "interview", "prize_ceremony"]) {
      expect(isInteractive(kind), kind).toBe(false);
      expect(mayRaiseHand(kind, SPEAKER), kind).toBe(true);
      expect(mayRaiseHand(kind, ATTENDEE), kind).toBe(false);
      expect(mayRaiseHand(kind, member("exhibitor")), kind).toBe(false);
    }
    for (const kind of INTERACTIVE_KINDS) {
      expect(mayRaiseHand(kind, ATTENDEE), kind).toBe(true);
      expect(mayRaiseHand(kind, member("exhibitor")), kind).toBe(true);
      expect(mayRaiseHand(kind, SPEAKER), kind).toBe(true);
    }
  });

  it("not those who manage the stage (they go on freely), nor anyone before the snapshot", () => {
    expect(mayRaiseHand("workshop", MODERATOR)).toBe(false);
    expect(mayRaiseHand("keynote", member("organiser", true))).toBe(false);
    expect(mayRaiseHand("workshop", null)).toBe(false);
  });
});

describe("where this person stands", () => {
  const standing = (
    you: Membership | null,
    kind: string,
    onStage: StageMember[] = [],
    hands: RaisedHand[] = [],
    me: string | null = "me",
  ) => stageStanding({ you, kind, me, onStage, hands });

  it("a moderator goes on freely, whatever the lineup says", () => {
    expect(standing(MODERATOR, "keynote")).toBe("free");
    expect(standing(MODERATOR, "keynote", [on("me")], [hand("me", 1)])).toBe("free");
  });

  it("brought on beats a raised hand, which beats being allowed to raise one", () => {
    expect(standing(SPEAKER, "keynote", [on("ana"), on("me")], [hand("me", 1)])).toBe("broughtOn");
    expect(standing(SPEAKER, "keynote", [on("ana")], [hand("ana", 1), hand("me", 2)])).toBe("waiting");
    expect(standing(SPEAKER, "keynote", [on("ana")], [hand("ana", 1)])).toBe("mayRaise");
    expect(standing(ATTENDEE, "workshop")).toBe("mayRaise");
  });

  it("an attendee of a keynote only watches, unless a moderator brought them on", () => {
    expect(standing(ATTENDEE, "keynote")).toBe("audience");
    expect(standing(ATTENDEE, "keynote", [on("me")])).toBe("broughtOn");
  });

  it("nobody is anyone before the node said who this is", () => {
    expect(standing(SPEAKER, "keynote", [on("me")], [], null)).toBe("mayRaise");
    expect(inLineup([on("me")], null)).toBe(false);
    expect(handOf([hand("me", 1)], null)).toBeNull();
    expect(handOf([hand("ana", 1), hand("me", 2)], "me")).toEqual(hand("me", 2));
  });
});

describe("the lineup's other rules", () => {
  it("a hand is new when it was not up before, or was lowered and raised again", () => {
    const before = [hand("ana", 1), hand("ben", 2)];
    expect(newHands(before, before)).toEqual([]);
    expect(newHands(before, [hand("ben", 2)])).toEqual([]);
    expect(newHands(before, [hand("ben", 2), hand("cy", 3)])).toEqual([hand("cy", 3)]);
    expect(newHands(before, [hand("ben", 2), hand("ana", 4)])).toEqual([hand("ana", 4)]);
  });

  it("says what the node's refusals mean", () => {
    expect(lineupRefusal(403)).toBe("forbidden");
    expect(lineupRefusal(409)).toBe("full");
    expect(lineupRefusal(429)).toBe("tooFast");
    expect(lineupRefusal(404)).toBe("notWebrtc");
    expect(lineupRefusal(405)).toBe("failed");
  });
});

describe("LineupPart", () => {
  it("follows the snapshot and stage_lineup events, announcing only hands raised since", () => {
    const lineup = new LineupPart({ room: ROOM, request: async () => ({ type: "ack", rid: 1 }) });
    const announced: string[] = [];
    lineup.onHandRaised = (h) => announced.push(h.user);
    lineup.snapshot(snapshotOf(ROOM, { on_stage: [on("ana")], hands: [hand("ben", 1, true)] }));
    expect(lineup.onStage.value).toEqual([on("ana")]);
    expect(lineup.hands.value).toEqual([hand("ben", 1, true)]);
    expect(announced).toEqual([]);

    expect(
      lineup.event({
        type: "stage_lineup",
        on_stage: [on("ana")],
        hands: [hand("ben", 1, true), hand("cy", 5)],
      }),
    ).toBe(true);
    expect(announced).toEqual(["cy"]);
    // Ben brought on: his hand is lowered in the same event.
    lineup.event({ type: "stage_lineup", on_stage: [on("ana"), on("ben")], hands: [hand("cy", 5)] });
    expect(lineup.onStage.value.map((m) => m.user)).toEqual(["ana", "ben"]);
    expect(lineup.hands.value.map((h) => h.user)).toEqual(["cy"]);
    expect(announced).toEqual(["cy"]);

    // Absent from the snapshot means empty (the stage ended, or nobody yet).
    lineup.snapshot(snapshotOf(ROOM));
    expect(lineup.onStage.value).toEqual([]);
    expect(lineup.hands.value).toEqual([]);
    expect(lineup.event({ type: "stage_tracks", tracks: [] })).toBe(false);
    lineup.dispose();
    expect(lineup.onHandRaised).toBeNull();
  });

  it("is emptied when the stage ends, which the node says with the stage event alone", () => {
    const fake = fakeConnection();
    const room = sessionRoom(fake.connection, ROOM);
    const { lineup } = room.parts;
    const handler = fake.handler(ROOM);
    const stage = (state: Stage["state"]): RoomEvent => ({
      type: "stage",
      stage: { state, title: "Opening", updated_at: 2 },
      by: "mod",
    });
    handler.snapshot(snapshotOf(ROOM, { on_stage: [on("ana")], hands: [hand("ben", 1)] }));
    handler.event(stage("live"), 4);
    expect(lineup.onStage.value).toEqual([on("ana")]);
    expect(lineup.stageEnded.value).toBe(false);
    handler.event(stage("ended"), 5);
    expect(room.parts.stage.current.value?.state).toBe("ended");
    expect(lineup.onStage.value).toEqual([]);
    expect(lineup.hands.value).toEqual([]);
    expect(lineup.stageEnded.value).toBe(true);
    // A moderator may still bring someone on afterwards.
    handler.event({ type: "stage_lineup", on_stage: [on("cy")], hands: [] }, 6);
    expect(lineup.onStage.value).toEqual([on("cy")]);
    expect(lineup.stageEnded.value).toBe(false);
    // A snapshot of an ended stage keeps the lineup it holds.
    handler.snapshot(
      snapshotOf(ROOM, {
        stage: { state: "ended", title: "Opening", updated_at: 2 },
        on_stage: [on("cy")],
      }),
    );
    expect(lineup.onStage.value).toEqual([on("cy")]);
    room.dispose();
  });

  it("sends stage_hand and stage_invite, and passes the node's refusal on", async () => {
    const fake = fakeConnection();
    const lineup = new LineupPart({ room: ROOM, request: (body) => fake.connection.request(body) });
    await lineup.raiseHand(true);
    await lineup.raiseHand(false);
    await lineup.invite("ben", true);
    await lineup.invite("ben", false);
    expect(fake.requests).toEqual([
      { type: "stage_hand", room: ROOM, raised: true },
      { type: "stage_hand", room: ROOM, raised: false },
      { type: "stage_invite", room: ROOM, user: "ben", on: true },
      { type: "stage_invite", room: ROOM, user: "ben", on: false },
    ]);
    fake.answer(() => {
      throw new RequestError(403, "this session takes no raised hands from you");
    });
    await expect(lineup.raiseHand(true)).rejects.toMatchObject({ code: 403 });
  });
});

describe("taken off the stage", () => {
  /** The publisher's peer connection (the viewer's is the first). */
  const publisherPeer = (s: ReturnType<typeof setup>) => s.peers[1] as FakePeer;
  const lineupEvent = (s: ReturnType<typeof setup>, onStage: StageMember[], hands: RaisedHand[] = []) =>
    s.handler.event({ type: "stage_lineup", on_stage: onStage, hands }, 10);

  it("a moderator takes a live speaker off: this tab stops its side, keeps viewing, and says so", async () => {
    const s = setup({ user: "me" });
    await s.join([ANA_CAMERA, ANA_MIC], { on_stage: [on("me")] });
    const { publisher } = s.session;
    await publisher.goOnStage();
    expect(publisher.onStage.value).toBe(true);
    const sent = publisherPeer(s).transceivers.map((t) => t.sender.track);

    lineupEvent(s, []);
    expect(publisher.onStage.value).toBe(false);
    expect(s.session.takenOff.value).toBe(true);
    expect(publisherPeer(s).connectionState).toBe("closed");
    expect(sent.every((t) => t?.stopped)).toBe(true);
    // The node stopped the publishing itself; media_stop would end the view too.
    expect(s.sent("media_stop")).toEqual([]);
    expect(s.peers[0]?.connectionState).not.toBe("closed");

    // Brought on again: the notice goes, and nothing starts until they go live.
    lineupEvent(s, [on("me")]);
    expect(s.session.takenOff.value).toBe(false);
    expect(publisher.onStage.value).toBe(false);
    s.session.close();
  });

  it("the stage's end takes a live speaker off too, and says it was the end", async () => {
    const s = setup({ user: "me" });
    await s.join([], { on_stage: [on("me")] });
    const { publisher } = s.session;
    await publisher.goOnStage();
    s.handler.event(
      { type: "stage", stage: { state: "ended", title: "Opening", updated_at: 3 }, by: "mod" },
      11,
    );
    expect(publisher.onStage.value).toBe(false);
    expect(s.session.takenOff.value).toBe(true);
    expect(s.session.lineup.stageEnded.value).toBe(true);
    s.session.close();
  });

  it("a refusal caused by the removal (a republish after a reconnect) is not said", async () => {
    const s = setup({ user: "me" });
    await s.join([], { on_stage: [on("me")] });
    const { publisher } = s.session;
    await publisher.goOnStage();
    s.refuse((body) => (body.type === "media_publish" ? new RequestError(403, "not on the stage") : null));
    s.ids.connection = "c2";
    await s.rejoin();
    expect(publisher.refusal.value?.kind).toBe("forbidden");
    // The replayed lineup says why.
    lineupEvent(s, []);
    expect(publisher.refusal.value).toBeNull();
    expect(s.session.takenOff.value).toBe(true);
    s.session.close();
  });

  it("others coming and going, hands, and a moderator's own lineup changes leave this tab alone", async () => {
    const s = setup({ user: "me" });
    await s.join([], { on_stage: [on("me")], you: MODERATOR });
    const { publisher } = s.session;
    await publisher.goOnStage();
    lineupEvent(s, [], [hand("ben", 3)]);
    expect(publisher.onStage.value).toBe(true);
    expect(s.session.takenOff.value).toBe(false);
    s.session.close();

    const other = setup({ user: "me" });
    await other.join([], { on_stage: [on("ana")] });
    lineupEvent(other, [on("ana"), on("ben")]);
    lineupEvent(other, []);
    expect(other.session.takenOff.value).toBe(false);
    other.session.close();
  });
});
