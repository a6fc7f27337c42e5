// A WebRTC stage's lineup (a room part, src/room.ts; PROTOCOL.md, "The WebRTC stage", "Who
// goes on"): who a moderator brought on the stage (`on_stage`) and the raised hands, oldest
// first (`hands`), from the snapshot and `stage_lineup` events, and the two commands about
// them: a member raises or lowers their hand (`stage_hand`), a moderator brings someone on or
// takes them off (`stage_invite`). The lineup is cleared when the stage ends; the node says so
// only with the `stage` event, which the stage part passes on (`stageChanged`). What the page makes of them (who may raise a hand, where
// this person stands) is in stageRules.ts; stopping this tab's publishing when it is taken
// off is `StageSession`'s (stageMedia.ts).
import { batch, signal } from "@preact/signals";
import type { Snapshot } from "./connection";
import type { RaisedHand, RoomEvent, Stage, StageMember, UserId } from "./proto.gen";
import type { RoomLink, RoomPart } from "./room";
import { newHands } from "./stageRules";

export class LineupPart implements RoomPart {
  /** Who a moderator brought on the stage (they may publish). Moderators need not be here. */
  readonly onStage = signal<StageMember[]>([]);
  /** The raised hands, oldest first. */
  readonly hands = signal<RaisedHand[]>([]);
  /** The lineup was emptied because the stage ended (and nothing changed it since). */
  readonly stageEnded = signal(false);
  /** Called for each hand raised after the snapshot (for the moderators' announcer). */
  onHandRaised: ((hand: RaisedHand) => void) | null = null;

  constructor(private readonly link: RoomLink) {}

  snapshot(s: Snapshot): void {
    // Hands already up when this tab joined are listed, not announced.
    batch(() => {
      this.onStage.value = s.on_stage ?? [];
      this.hands.value = s.hands ?? [];
      this.stageEnded.value = false;
    });
  }

  /** The stage changed: when it ended, nobody is on it and no hand is up any more. */
  stageChanged(stage: Stage): void {
    if (stage.state !== "ended") return;
    batch(() => {
      this.onStage.value = [];
      this.hands.value = [];
      this.stageEnded.value = true;
    });
  }

  event(event: RoomEvent): boolean {
    if (event.type !== "stage_lineup") return false;
    const raised = newHands(this.hands.value, event.hands);
    batch(() => {
      this.onStage.value = event.on_stage;
      this.hands.value = event.hands;
      this.stageEnded.value = false;
    });
    for (const hand of raised) this.onHandRaised?.(hand);
    return true;
  }

  dispose(): void {
    this.onHandRaised = null;
  }

  /** Raises (or lowers) this person's hand; the change comes back as `stage_lineup`. */
  async raiseHand(raised: boolean): Promise<void> {
    await this.link.request({ type: "stage_hand", room: this.link.room, raised });
  }

  /** A moderator brings `user` on the stage (`on`) or takes them off. */
  async invite(user: UserId, on: boolean): Promise<void> {
    await this.link.request({ type: "stage_invite", room: this.link.room, user, on });
  }
}
