// A session's stage (a room part, src/room.ts): its state, title and speaker as the node
// last said, and the moderator's command to change them (`stage_update`). Each change is
// passed on (`onChanged`) to the WebRTC stage's lineup, which an ended stage clears.
import { signal } from "@preact/signals";
import type { Snapshot } from "./connection";
import type { RoomEvent, Stage } from "./proto.gen";
import type { RoomLink, RoomPart } from "./room";

export class StagePart implements RoomPart {
  /** Null until the snapshot, and in a room without a stage. */
  readonly current = signal<Stage | null>(null);
  /** Called with each change the node announces (not with the snapshot's state). */
  onChanged: ((stage: Stage) => void) | null = null;

  constructor(private readonly link: RoomLink) {}

  snapshot(s: Snapshot): void {
    this.current.value = s.stage ?? null;
  }

  event(event: RoomEvent): boolean {
    if (event.type !== "stage") return false;
    this.current.value = event.stage;
    this.onChanged?.(event.stage);
    return true;
  }

  /** Moves the stage to another state, or sets (or, with "", clears) the speaker. */
  update(change: { state?: Stage["state"]; speaker?: string }) {
    return this.link.request({ type: "stage_update", room: this.link.room, ...change });
  }
}
