// This tab's view of a session's WebRTC stage: one receive-only peer connection to the node's
// SFU. The node offers (`media_view` answered by `media_offer`, and a new `media_offer` each
// time the stage's tracks change or the quality switches to or from audio only); this side
// answers each in turn. Which received track is which stage track comes from the offer's
// `msid` lines (`matchReceived`), who is speaking from the received audio levels. A
// connection that fails is opened again with a growing delay; the node refuses a second view
// (409) until it has noticed the first one is gone, which is retried the same way.
import { signal } from "@preact/signals";
import { RequestError } from "./connection";
import type { StageQuality, UserId } from "./proto.gen";
import type { StageMediaPart } from "./stageMedia";
import {
  loadQuality,
  matchReceived,
  NO_SPEAKER,
  nextActiveSpeaker,
  type StagePhase,
  type StageRefusal,
  saveQuality,
  stagePhaseOf,
  stageRefusal,
} from "./stageRules";

/** The browser objects the stage uses (fakes in the unit tests). */
export interface StageDeps {
  createPeer(config: RTCConfiguration): RTCPeerConnection;
  createStream(tracks: MediaStreamTrack[]): MediaStream;
  media(): MediaDevices | undefined;
  storage(): Storage | undefined;
}

export const stageBrowser: StageDeps = {
  createPeer: (config) => new RTCPeerConnection(config),
  createStream: (tracks) => new MediaStream(tracks),
  media: () => (typeof navigator === "undefined" ? undefined : navigator.mediaDevices),
  storage: () => {
    try {
      return window.localStorage;
    } catch {
      return undefined;
    }
  },
};

/** The node's SFU bundles every line on one transport; so does this side. */
export const STAGE_PEER_CONFIG: RTCConfiguration = { bundlePolicy: "max-bundle" };

/** How often the speakers' audio levels are read to find the active speaker. */
const LEVEL_INTERVAL_MS = 500;
/** Opening the view again after a failure: 1 s, 2 s, 4 s, ... up to this, then give up. */
const MAX_RETRY_DELAY_MS = 15_000;
const MAX_RETRIES = 8;

/** A refusal or failure in words' terms, with the node's message for the details. */
export interface StageProblem {
  kind: StageRefusal;
  message: string;
}

export class StageViewer {
  readonly phase = signal<StagePhase>("idle");
  /** What this tab asks the node for (remembered in this browser). */
  readonly quality = signal<StageQuality>("auto");
  /** Why viewing stopped or the quality could not change (null while all is well). */
  readonly problem = signal<StageProblem | null>(null);
  /** The received tracks, by stage track id (`StageTrack.id`). */
  readonly received = signal<ReadonlyMap<string, MediaStreamTrack>>(new Map());
  /** Who speaks now (the large tile shows their camera), null before anyone spoke. */
  readonly activeSpeaker = signal<UserId | null>(null);

  private pc: RTCPeerConnection | null = null;
  /** Bumped with every new peer connection: answers for an older one are dropped. */
  private generation = 0;
  private everConnected = false;
  private restarting = false;
  private offers: Promise<void> = Promise.resolve();
  /** The quality the node was last told. */
  private nodeQuality: StageQuality | null = null;
  private retries = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private levelTimer: ReturnType<typeof setInterval> | undefined;
  private speaker = NO_SPEAKER;
  private closed = false;

  constructor(
    private readonly part: StageMediaPart,
    private readonly deps: StageDeps,
  ) {
    this.quality.value = loadQuality(deps.storage());
  }

  /** The peer connection, for diagnostics (null before viewing). */
  get connection(): RTCPeerConnection | null {
    return this.pc;
  }

  /** Starts viewing: a new peer connection and `media_view`. */
  start(): void {
    if (this.closed) return;
    this.closePeer();
    clearTimeout(this.retryTimer);
    const generation = ++this.generation;
    const pc = this.deps.createPeer(STAGE_PEER_CONFIG);
    this.pc = pc;
    pc.ontrack = () => {
      if (this.pc === pc) this.updateReceived();
    };
    pc.onconnectionstatechange = () => {
      if (this.pc !== pc) return;
      if (pc.connectionState === "connected") {
        this.everConnected = true;
        this.restarting = false;
        this.retries = 0;
      }
      // A failed connection is opened again after a pause (and said to be reconnecting).
      if (pc.connectionState === "failed") this.scheduleRetry();
      else this.updatePhase();
    };
    this.problem.value = null;
    this.updatePhase();
    this.levelTimer ??= setInterval(() => void this.measureLevels(), LEVEL_INTERVAL_MS);
    const quality = this.quality.value;
    this.part.view(quality).then(
      (sdp) => {
        if (generation !== this.generation) return;
        this.nodeQuality = quality;
        this.offer(sdp);
        // The choice changed while the view was being set up.
        if (this.quality.value !== quality) void this.sendQuality(this.quality.value);
      },
      (e: unknown) => this.viewRefused(generation, e),
    );
  }

  /** Views again on a new peer connection: the old one is gone (reconnect, `media_stop`). */
  restart(): void {
    if (this.closed) return;
    this.restarting = this.everConnected || this.restarting;
    this.start();
  }

  /** Starts afresh after a failure the person saw ("Try again"). */
  retry(): void {
    this.retries = 0;
    this.restart();
  }

  /** Answers one offer from the node, after any before it. */
  offer(sdp: string): void {
    const generation = this.generation;
    this.offers = this.offers.then(() => this.answer(generation, sdp));
  }

  private async answer(generation: number, sdp: string): Promise<void> {
    const pc = this.pc;
    if (!pc || generation !== this.generation) return;
    try {
      await pc.setRemoteDescription({ type: "offer", sdp });
      await pc.setLocalDescription();
      const answer = pc.localDescription?.sdp;
      if (!answer || generation !== this.generation) return;
      await this.part.answer(answer);
      if (generation === this.generation) this.updateReceived();
    } catch (e) {
      if (generation !== this.generation || this.closed) return;
      // A lost WebSocket is handled by the rejoin after the reconnect.
      if (e instanceof RequestError && e.code === 0) return;
      console.warn("stage: an offer could not be answered", e);
      this.scheduleRetry();
    }
  }

  /** Switches what the node sends (audio only stops the video lines; a new offer follows). */
  async setQuality(quality: StageQuality): Promise<void> {
    this.quality.value = quality;
    saveQuality(this.deps.storage(), quality);
    if (this.problem.value?.kind !== "full") this.problem.value = null;
    // Before the node knows this view, the choice goes with `media_view`.
    if (this.nodeQuality === null || this.nodeQuality === quality) return;
    await this.sendQuality(quality);
  }

  private async sendQuality(quality: StageQuality): Promise<void> {
    const generation = this.generation;
    try {
      await this.part.setQuality(quality);
      if (generation === this.generation) this.nodeQuality = quality;
    } catch (e) {
      if (generation !== this.generation || (e instanceof RequestError && e.code === 0)) return;
      this.problem.value = { kind: "failed", message: e instanceof Error ? e.message : String(e) };
    }
  }

  private viewRefused(generation: number, e: unknown): void {
    if (generation !== this.generation || this.closed) return;
    if (!(e instanceof RequestError) || e.code === 0) {
      // The WebSocket went away: the rejoin after the reconnect views again.
      if (e instanceof RequestError) return;
      console.warn("stage: viewing failed", e);
    }
    const kind = e instanceof RequestError ? stageRefusal(e.code) : "failed";
    if (kind === "busy") {
      // The node still holds this connection's previous view until it notices it is gone.
      this.scheduleRetry();
      return;
    }
    this.closePeer();
    this.restarting = false;
    this.problem.value = { kind, message: e instanceof Error ? e.message : String(e) };
    this.phase.value = kind === "failed" ? "failed" : "idle";
  }

  private scheduleRetry(): void {
    if (this.closed) return;
    clearTimeout(this.retryTimer);
    if (this.retries >= MAX_RETRIES) {
      this.closePeer();
      this.restarting = false;
      this.phase.value = "failed";
      return;
    }
    const delay = Math.min(MAX_RETRY_DELAY_MS, 1_000 * 2 ** this.retries);
    this.retries += 1;
    this.restarting = true;
    this.phase.value = "reconnecting";
    this.retryTimer = setTimeout(() => this.start(), delay);
  }

  private updatePhase(): void {
    this.phase.value = stagePhaseOf(this.pc?.connectionState ?? null, this.everConnected, this.restarting);
  }

  private updateReceived(): void {
    const pc = this.pc;
    const offer = pc?.remoteDescription?.sdp;
    if (!pc || !offer) {
      this.received.value = new Map();
      return;
    }
    const lines = pc.getTransceivers().map((t) => ({
      mid: t.mid,
      stopped: t.currentDirection === "stopped" || t.currentDirection === "inactive",
      track: t.receiver.track,
    }));
    this.received.value = matchReceived(lines, offer);
  }

  /** Reads each speaker's audio level and moves the active speaker if someone else speaks. */
  private async measureLevels(): Promise<void> {
    const pc = this.pc;
    if (!pc) return;
    const tracks = this.part.tracks.value;
    const levels = new Map<UserId, number>();
    for (const receiver of pc.getReceivers()) {
      if (receiver.track.kind !== "audio") continue;
      const id = [...this.received.value].find(([, track]) => track === receiver.track)?.[0];
      const user = tracks.find((t) => t.id === id)?.user;
      const level = receiver.getSynchronizationSources?.()[0]?.audioLevel ?? 0;
      if (user) levels.set(user, Math.max(levels.get(user) ?? 0, level));
    }
    this.speaker = nextActiveSpeaker(this.speaker, levels, Date.now());
    if (this.activeSpeaker.value !== this.speaker.user) this.activeSpeaker.value = this.speaker.user;
  }

  private closePeer(): void {
    const pc = this.pc;
    this.generation += 1;
    if (!pc) return;
    this.pc = null;
    pc.ontrack = null;
    pc.onconnectionstatechange = null;
    pc.close();
    this.nodeQuality = null;
    this.received.value = new Map();
  }

  /** The page is gone: closes the connection (the node ends the view when the room is left). */
  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.levelTimer);
    this.levelTimer = undefined;
    this.closePeer();
    this.phase.value = "idle";
  }
}
