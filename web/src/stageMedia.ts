// A session's WebRTC stage (PROTOCOL.md, "The WebRTC stage"): the room part that keeps the
// tracks on it (`stage_tracks`, from the snapshot and events) and carries the stage's
// signalling for this tab (`media_view`/`media_offer`/`media_answer`, `media_quality`,
// `media_publish`/`media_published`, `media_stop`), and `StageSession`, which the session page
// owns: this tab's view of the stage (`StageViewer`) and, for a speaker, its publishing
// (`StagePublisher`), started again after the WebSocket reconnects, and stopped when a
// moderator takes this person off the lineup (`LineupPart`, stageLineup.ts).
import { effect, signal, untracked } from "@preact/signals";
import type { Snapshot } from "./connection";
import type { ConnectionId, PublishedTrack, RoomEvent, StageQuality, StageTrack, UserId } from "./proto.gen";
import type { RoomLink, RoomPart } from "./room";
import type { LineupPart } from "./stageLineup";
import { StagePublisher } from "./stagePublisher";
import { inLineup } from "./stageRules";
import { type StageDeps, StageViewer, stageBrowser } from "./stageViewer";

export class StageMediaPart implements RoomPart {
  /** The tracks on the stage now, as the node last said. */
  readonly tracks = signal<StageTrack[]>([]);
  /** Set by the page's `StageSession`: after every join of the room. */
  onJoined: ((first: boolean) => void) | null = null;
  /** Set by the page's `StageSession`: the node's new offer for this tab's view. */
  onOffer: ((sdp: string) => void) | null = null;

  constructor(private readonly link: RoomLink) {}

  snapshot(s: Snapshot): void {
    this.tracks.value = s.stage_tracks ?? [];
  }

  event(event: RoomEvent): boolean {
    if (event.type !== "stage_tracks") return false;
    this.tracks.value = event.tracks;
    return true;
  }

  joined(first: boolean): void {
    this.onJoined?.(first);
  }

  mediaOffer(sdp: string): void {
    this.onOffer?.(sdp);
  }

  dispose(): void {
    this.onJoined = null;
    this.onOffer = null;
  }

  /** Asks to view the stage; resolves with the node's offer. */
  async view(quality: StageQuality): Promise<string> {
    const reply = await this.link.request({ type: "media_view", room: this.link.room, quality });
    if (reply.type !== "media_offer") throw new Error(`unexpected reply ${reply.type}`);
    return reply.sdp;
  }

  async answer(sdp: string): Promise<void> {
    await this.link.request({ type: "media_answer", room: this.link.room, sdp });
  }

  async setQuality(quality: StageQuality): Promise<void> {
    await this.link.request({ type: "media_quality", room: this.link.room, quality });
  }

  /** Offers this tab's tracks; resolves with the node's answer. */
  async publish(sdp: string, tracks: PublishedTrack[]): Promise<string> {
    const reply = await this.link.request({ type: "media_publish", room: this.link.room, sdp, tracks });
    if (reply.type !== "media_published") throw new Error(`unexpected reply ${reply.type}`);
    return reply.sdp;
  }

  /** Ends this tab's publishing and viewing of the stage. */
  async stop(): Promise<void> {
    await this.link.request({ type: "media_stop", room: this.link.room });
  }
}

/** What a `StageSession` reads about this tab; each may be a signal's value (it is followed). */
export interface StageTab {
  /** The id of the WebSocket connection now (`welcome`), null while there is none. */
  connection(): ConnectionId | null;
  /** Who this person is (`welcome.user`), null before the first `welcome`. */
  user(): UserId | null;
  /** Whether they publish without being brought on (`you.can_manage_stage`). */
  managesStage(): boolean;
}

/**
 * This tab on a session's WebRTC stage: it views the stage from the first join on and, when
 * the person goes on stage, publishes too. The node ends both when the WebSocket closes, so
 * after a reconnect (a join on a connection with another id) both start again; a join on the
 * same connection (the room's stream restarted) leaves the media alone. When a moderator takes
 * this person off the lineup (or the stage ends, which clears it), the node stops their
 * publishing: this tab stops its side too (`takenOff`), and its view goes on.
 */
export class StageSession {
  readonly viewer: StageViewer;
  readonly publisher: StagePublisher;
  /** A moderator took this person off the stage since they were last brought on. */
  readonly takenOff = signal(false);
  private connectionId: ConnectionId | null = null;
  private wasInLineup = false;
  private readonly stopWatching: () => void;
  private closed = false;

  constructor(
    readonly part: StageMediaPart,
    readonly lineup: LineupPart,
    private readonly tab: StageTab,
    deps: StageDeps = stageBrowser,
  ) {
    this.viewer = new StageViewer(part, deps);
    this.publisher = new StagePublisher(part, deps);
    part.onJoined = (first) => this.joined(first);
    part.onOffer = (sdp) => this.viewer.offer(sdp);
    // `media_stop` ends this connection's viewing as well as its publishing: view again.
    this.publisher.onStopped = () => {
      if (!this.closed) this.viewer.restart();
    };
    this.stopWatching = effect(() => {
      const user = tab.user();
      const brought = inLineup(lineup.onStage.value, user);
      const free = tab.managesStage();
      // Until the node said who this is, the lineup says nothing about them.
      if (user !== null) untracked(() => this.lineupChanged(brought, free));
    });
  }

  private lineupChanged(brought: boolean, free: boolean): void {
    const was = this.wasInLineup;
    this.wasInLineup = brought;
    if (brought) {
      this.takenOff.value = false;
      return;
    }
    if (!was || free || this.closed) return;
    this.publisher.takenOff();
    this.takenOff.value = true;
  }

  private joined(first: boolean): void {
    if (this.closed) return;
    const connection = this.tab.connection();
    const same = !first && connection !== null && connection === this.connectionId;
    this.connectionId = connection;
    if (same) return;
    if (first) {
      this.viewer.start();
      return;
    }
    this.viewer.restart();
    this.publisher.republish();
  }

  /** The page is gone: closes both connections and stops the camera and microphone. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopWatching();
    this.part.onJoined = null;
    this.part.onOffer = null;
    this.publisher.onStopped = null;
    this.viewer.close();
    this.publisher.close();
  }
}
