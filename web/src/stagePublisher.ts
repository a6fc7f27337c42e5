// A speaker on a session's WebRTC stage: the camera, microphone and screen share this tab
// sends to the node's SFU over one send-only peer connection (`media_publish`, answered by
// `media_published`). Each change of what is sent (the camera turned off or on, a screen
// shared or no longer) is a new offer on the same connection, one at a time; muting the
// microphone and switching devices are not (the track is silenced or replaced in place).
// The camera goes out as simulcast (three layers, or fewer where the browser refuses), so
// each viewer gets the layer its bandwidth allows.
//
// A turned-off camera leaves the stage (its line becomes inactive, and the node takes the
// track off every viewer) instead of sending black frames; turning it on again adds a new
// line, since the node takes a line only once.
import { batch, signal } from "@preact/signals";
import { DEVICE_KEY, type DeviceState, type MediaKind, type MediaProblem, mediaProblem } from "./callRules";
import { RequestError } from "./connection";
import type { TrackSource } from "./proto.gen";
import type { StageMediaPart } from "./stageMedia";
import { CAMERA_ENCODINGS, publishedTracks, type StagePhase, stagePhaseOf, stageRefusal } from "./stageRules";
import { STAGE_PEER_CONFIG, type StageDeps, type StageProblem } from "./stageViewer";

/** What a camera is asked for: enough pixels for three simulcast layers. */
const CAMERA_SIZE: MediaTrackConstraints = { width: { ideal: 1280 }, height: { ideal: 720 } };
/** Attempts to put the tracks back after the connection to the node failed. */
const MAX_RECOVERIES = 3;

/** One local source and the line it is sent on. */
interface Sent {
  track: MediaStreamTrack;
  transceiver: RTCRtpTransceiver | null;
}

export class StagePublisher {
  /** Whether this tab is on the stage (publishing, or on its way). */
  readonly onStage = signal(false);
  readonly starting = signal(false);
  readonly phase = signal<StagePhase>("idle");
  readonly microphone = signal<DeviceState>("none");
  /** `off` once the person turned a started camera off (the device is released). */
  readonly camera = signal<DeviceState>("none");
  readonly sharing = signal(false);
  /** The camera, for this person's own preview. */
  readonly preview = signal<MediaStream | null>(null);
  readonly problem = signal<{ kind: MediaProblem; message: string } | null>(null);
  /** The node refused (403: not brought on the stage by a moderator) or publishing failed. */
  readonly refusal = signal<StageProblem | null>(null);
  /** Known once the devices are allowed (before that, browsers give no labels). */
  readonly devices = signal<{ audio: MediaDeviceInfo[]; video: MediaDeviceInfo[] }>({ audio: [], video: [] });
  readonly microphoneId = signal("");
  readonly cameraId = signal("");
  /** Set by `StageSession`: `media_stop` went out, which ends this tab's viewing too. */
  onStopped: (() => void) | null = null;

  private pc: RTCPeerConnection | null = null;
  private readonly sent = new Map<TrackSource, Sent>();
  private readonly sources = new WeakMap<RTCRtpTransceiver, TrackSource>();
  /** The msid stream of every line: one per tab, so viewers group its tracks. */
  private stream: MediaStream | null = null;
  private negotiation: Promise<void> | null = null;
  private again = false;
  private everConnected = false;
  private recoveries = 0;
  private closed = false;

  constructor(
    private readonly part: StageMediaPart,
    private readonly deps: StageDeps,
  ) {
    const storage = deps.storage();
    this.microphoneId.value = storage?.getItem(DEVICE_KEY.audio) ?? "";
    this.cameraId.value = storage?.getItem(DEVICE_KEY.video) ?? "";
  }

  /** The peer connection, for diagnostics (null while off the stage). */
  get connection(): RTCPeerConnection | null {
    return this.pc;
  }

  // --- Going on and off the stage ----------------------------------------------------

  /** Starts the camera and microphone (either alone if the other is missing) and publishes. */
  async goOnStage(): Promise<void> {
    if (this.closed || this.onStage.value || this.starting.value) return;
    this.starting.value = true;
    batch(() => {
      this.problem.value = null;
      this.refusal.value = null;
    });
    try {
      const tracks = await this.capture(["audio", "video"]);
      if (tracks.length === 0 || this.closed) {
        for (const track of tracks) track.stop();
        return;
      }
      for (const track of tracks)
        this.sent.set(track.kind === "audio" ? "microphone" : "camera", { track, transceiver: null });
      this.onStage.value = true;
      this.syncStates();
      this.openPeer();
      await this.publishOrGiveUp();
      void this.refreshDevices();
    } finally {
      this.starting.value = false;
    }
  }

  /** Leaves the stage: stops sending and the devices, and tells the node (`media_stop`). */
  async leave(): Promise<void> {
    if (!this.onStage.value) return;
    this.takeDown();
    try {
      await this.part.stop();
    } catch {
      // The node ends it anyway when the room is left or the connection closes.
    }
    this.onStopped?.();
  }

  /**
   * A moderator took this person off the stage, and the node already stopped their publishing:
   * stop this side too (the devices, the connection), without `media_stop`, which would end
   * this tab's viewing as well. A refusal that the removal caused on the way (a republish
   * the node refused) is no longer worth saying.
   */
  takenOff(): void {
    if (this.closed) return;
    this.takeDown();
    batch(() => {
      this.refusal.value = null;
      this.problem.value = null;
    });
  }

  /** After a reconnect of the WebSocket (the node ended the old connection): publish again. */
  republish(): void {
    if (!this.onStage.value || this.closed) return;
    this.openPeer();
    void this.publishOrGiveUp();
  }

  /** The connection to the node failed: end it there, then publish the same tracks anew. */
  async recover(): Promise<void> {
    if (!this.onStage.value || this.closed) return;
    this.closePeer();
    this.phase.value = "reconnecting";
    try {
      await this.part.stop();
    } catch {
      // Publishing again says whether the node can be reached.
    }
    this.onStopped?.();
    if (!this.onStage.value || this.closed) return;
    this.openPeer();
    await this.publishOrGiveUp();
  }

  // --- What is sent -------------------------------------------------------------------

  /** Mutes or unmutes the microphone (it stays on the stage, sending silence). */
  toggleMicrophone(): void {
    const track = this.sent.get("microphone")?.track;
    if (!track) return;
    track.enabled = !track.enabled;
    this.syncStates();
  }

  /** Turns the camera off (it leaves the stage and the device is released) or on again. */
  async toggleCamera(): Promise<void> {
    if (this.sent.has("camera")) {
      this.unsend("camera");
      this.camera.value = "off";
      await this.renegotiate();
      return;
    }
    await this.add("camera", () => this.capture(["video"]));
  }

  /** Starts the microphone when going on stage found none, or it was lost. */
  async startMicrophone(): Promise<void> {
    await this.add("microphone", () => this.capture(["audio"]));
  }

  /** Shares a screen or window (the browser asks which). */
  async shareScreen(): Promise<void> {
    const media = this.deps.media();
    if (!media?.getDisplayMedia) {
      this.problem.value = { kind: "unsupported", message: "" };
      return;
    }
    await this.add("screen", async () => {
      try {
        return (await media.getDisplayMedia({ video: true, audio: false })).getVideoTracks();
      } catch (e) {
        // Cancelling the browser's picker is a choice, not a problem.
        if (mediaProblem(e) !== "denied") this.reportProblem(e);
        return [];
      }
    });
  }

  async stopSharing(): Promise<void> {
    if (!this.sent.has("screen")) return;
    this.unsend("screen");
    await this.renegotiate();
  }

  /** Switches to another microphone or camera, in place (no new offer). */
  async selectDevice(kind: MediaKind, deviceId: string): Promise<void> {
    (kind === "audio" ? this.microphoneId : this.cameraId).value = deviceId;
    try {
      this.deps.storage()?.setItem(DEVICE_KEY[kind], deviceId);
    } catch {
      // Remembered for this page only.
    }
    const source: TrackSource = kind === "audio" ? "microphone" : "camera";
    const current = this.sent.get(source);
    const media = this.deps.media();
    if (!current || !media || this.closed) return;
    try {
      const constraints = this.constraints(kind, true);
      let fresh: MediaStreamTrack | undefined;
      try {
        fresh = (await media.getUserMedia(constraints)).getTracks()[0];
      } catch (e) {
        // Some devices open one camera at a time: free the old one and try again.
        if (mediaProblem(e) !== "busy") throw e;
        current.track.stop();
        fresh = (await media.getUserMedia(constraints)).getTracks()[0];
      }
      if (!fresh) return;
      if (this.closed || this.sent.get(source) !== current) {
        fresh.stop();
        return;
      }
      fresh.enabled = current.track.enabled;
      await current.transceiver?.sender.replaceTrack(fresh);
      this.watch(source, fresh);
      current.track.onended = null;
      current.track.stop();
      this.sent.set(source, { track: fresh, transceiver: current.transceiver });
      this.syncStates();
    } catch (e) {
      this.reportProblem(e);
    }
  }

  // --- Inside -------------------------------------------------------------------------

  private async add(source: TrackSource, capture: () => Promise<MediaStreamTrack[]>): Promise<void> {
    if (!this.onStage.value || this.sent.has(source) || this.starting.value) return;
    this.starting.value = true;
    this.problem.value = null;
    try {
      const [track, ...extra] = await capture();
      for (const other of extra) other.stop();
      if (!track) return;
      if (!this.onStage.value || this.closed || this.sent.has(source)) {
        track.stop();
        return;
      }
      const sent: Sent = { track, transceiver: null };
      this.sent.set(source, sent);
      this.watch(source, track);
      if (this.pc) sent.transceiver = this.addLine(this.pc, source, track);
      this.syncStates();
      await this.renegotiate();
      if (source === "camera" || source === "microphone") void this.refreshDevices();
    } finally {
      this.starting.value = false;
    }
  }

  /** Stops a source and its line (the line stays in the session, inactive). */
  private unsend(source: TrackSource): void {
    const sent = this.sent.get(source);
    if (!sent) return;
    this.sent.delete(source);
    sent.track.onended = null;
    sent.track.stop();
    const transceiver = sent.transceiver;
    if (transceiver && this.pc) {
      void transceiver.sender.replaceTrack(null).catch(() => undefined);
      transceiver.direction = "inactive";
    }
    this.syncStates();
  }

  /** The camera or microphone, as the person chose them (`exact` when switching). */
  private constraints(kind: MediaKind, exact = false): MediaStreamConstraints {
    const id = kind === "audio" ? this.microphoneId.value : this.cameraId.value;
    const device: MediaTrackConstraints = id ? { deviceId: exact ? { exact: id } : { ideal: id } } : {};
    return kind === "audio" ? { audio: id ? device : true } : { video: { ...CAMERA_SIZE, ...device } };
  }

  /** Opens the devices of `kinds` (each alone when together fails for a missing one). */
  private async capture(kinds: MediaKind[]): Promise<MediaStreamTrack[]> {
    const media = this.deps.media();
    if (!media?.getUserMedia) {
      this.problem.value = { kind: "unsupported", message: "" };
      return [];
    }
    const together: MediaStreamConstraints = {};
    for (const kind of kinds) Object.assign(together, this.constraints(kind));
    const got: MediaStreamTrack[] = [];
    let failure: unknown = null;
    try {
      got.push(...(await media.getUserMedia(together)).getTracks());
    } catch (e) {
      failure = e;
      // One of the two may exist: a laptop without a camera still has a microphone.
      if (kinds.length > 1 && mediaProblem(e) === "missing") {
        for (const kind of kinds) {
          try {
            got.push(...(await media.getUserMedia(this.constraints(kind))).getTracks());
          } catch {
            // Reported below as the one missing.
          }
        }
      }
    }
    const missing = kinds.filter((k) => !got.some((t) => t.kind === k));
    if (got.length === 0) this.reportProblem(failure);
    else if (missing.length > 0) {
      this.problem.value = { kind: missing[0] === "video" ? "noCamera" : "noMicrophone", message: "" };
    }
    for (const track of got) this.watch(track.kind === "audio" ? "microphone" : "camera", track);
    return got;
  }

  private reportProblem(e: unknown): void {
    this.problem.value = { kind: mediaProblem(e), message: e instanceof Error ? e.message : String(e) };
  }

  /** A device that goes away (unplugged, a screen share ended from the browser's bar). */
  private watch(source: TrackSource, track: MediaStreamTrack): void {
    track.onended = () => {
      if (this.sent.get(source)?.track !== track || this.closed) return;
      this.unsend(source);
      if (source === "camera") this.camera.value = "off";
      void this.renegotiate();
    };
  }

  /** A new peer connection with a line for every source being sent. */
  private openPeer(): void {
    this.closePeer();
    const pc = this.deps.createPeer(STAGE_PEER_CONFIG);
    this.pc = pc;
    // Kept from an earlier connection, so a new one after a loss says "reconnecting".
    pc.onconnectionstatechange = () => {
      if (this.pc !== pc) return;
      if (pc.connectionState === "connected") {
        this.everConnected = true;
        this.recoveries = 0;
      }
      this.updatePhase();
      if (pc.connectionState === "failed" && this.recoveries < MAX_RECOVERIES) {
        this.recoveries += 1;
        void this.recover();
      }
    };
    this.stream = this.deps.createStream([]);
    for (const source of ["microphone", "camera", "screen"] as const) {
      const sent = this.sent.get(source);
      if (sent) sent.transceiver = this.addLine(pc, source, sent.track);
    }
    this.updatePhase();
  }

  /** A send-only line for `track`; a camera's with simulcast layers where the browser takes them. */
  private addLine(pc: RTCPeerConnection, source: TrackSource, track: MediaStreamTrack): RTCRtpTransceiver {
    const streams = this.stream ? [this.stream] : [];
    let transceiver: RTCRtpTransceiver | null = null;
    if (source === "camera") {
      for (const encodings of CAMERA_ENCODINGS) {
        try {
          const init: RTCRtpTransceiverInit = { direction: "sendonly", streams };
          if (encodings.length > 0) init.sendEncodings = encodings.map((e) => ({ ...e }));
          transceiver = pc.addTransceiver(track, init);
          break;
        } catch (e) {
          console.warn("stage: the camera's layers were refused; trying fewer", e);
        }
      }
    }
    transceiver ??= pc.addTransceiver(track, { direction: "sendonly", streams });
    this.sources.set(transceiver, source);
    return transceiver;
  }

  /** Publishes; a refusal takes this tab off the stage and says why. */
  private async publishOrGiveUp(): Promise<void> {
    try {
      await this.renegotiate();
    } catch (e) {
      if (this.closed) return;
      // A lost WebSocket: publishing starts again after the reconnect.
      if (e instanceof RequestError && e.code === 0) return;
      const kind = e instanceof RequestError ? stageRefusal(e.code) : "failed";
      this.takeDown();
      this.refusal.value = { kind, message: e instanceof Error ? e.message : String(e) };
    }
  }

  /** Offers what is sent now; one offer at a time, a change meanwhile offered after it. */
  private renegotiate(): Promise<void> {
    if (this.negotiation) {
      this.again = true;
      return this.negotiation;
    }
    const run = async () => {
      try {
        do {
          this.again = false;
          await this.offerOnce();
        } while (this.again && this.pc);
      } finally {
        this.negotiation = null;
      }
    };
    this.negotiation = run();
    return this.negotiation;
  }

  private async offerOnce(): Promise<void> {
    const pc = this.pc;
    if (!pc) return;
    await pc.setLocalDescription(await pc.createOffer());
    const sdp = pc.localDescription?.sdp;
    if (!sdp) return;
    const lines = pc.getTransceivers().flatMap((t) => {
      const source = this.sources.get(t);
      return source ? [{ mid: t.mid, source }] : [];
    });
    let answer: string;
    try {
      // The node learns this side's address from its connectivity checks (it is ICE-lite),
      // so the offer goes out without waiting for candidates.
      answer = await this.part.publish(sdp, publishedTracks(lines));
    } catch (e) {
      if (this.pc === pc && pc.signalingState === "have-local-offer") {
        await pc.setLocalDescription({ type: "rollback" }).catch(() => undefined);
      }
      throw e;
    }
    if (this.pc !== pc) return;
    await pc.setRemoteDescription({ type: "answer", sdp: answer });
  }

  private updatePhase(): void {
    this.phase.value = stagePhaseOf(this.pc?.connectionState ?? null, this.everConnected, false);
  }

  private syncStates(): void {
    const microphone = this.sent.get("microphone")?.track;
    const camera = this.sent.get("camera")?.track;
    batch(() => {
      this.microphone.value = !microphone ? "none" : microphone.enabled ? "on" : "off";
      // A camera that was on and is no longer was turned off (or lost): "off", not "none".
      if (camera) this.camera.value = "on";
      else if (!this.onStage.value) this.camera.value = "none";
      else if (this.camera.value === "on") this.camera.value = "off";
      this.sharing.value = this.sent.has("screen");
      if (this.preview.value?.getVideoTracks()[0] !== camera) {
        this.preview.value = camera ? this.deps.createStream([camera]) : null;
      }
    });
  }

  private async refreshDevices(): Promise<void> {
    const media = this.deps.media();
    if (!media?.enumerateDevices) return;
    try {
      const all = await media.enumerateDevices();
      const inUse = (source: TrackSource) => this.sent.get(source)?.track.getSettings?.().deviceId ?? "";
      batch(() => {
        this.devices.value = {
          audio: all.filter((d) => d.kind === "audioinput" && d.deviceId),
          video: all.filter((d) => d.kind === "videoinput" && d.deviceId),
        };
        if (inUse("microphone")) this.microphoneId.value = inUse("microphone");
        if (inUse("camera")) this.cameraId.value = inUse("camera");
      });
    } catch {
      // Listing devices is a convenience: without it, the default devices stay in use.
    }
  }

  private closePeer(): void {
    const pc = this.pc;
    if (!pc) return;
    this.pc = null;
    pc.onconnectionstatechange = null;
    pc.close();
    for (const sent of this.sent.values()) sent.transceiver = null;
  }

  /** Off the stage here: the connection closed, every device stopped. */
  private takeDown(): void {
    this.closePeer();
    for (const sent of this.sent.values()) {
      sent.track.onended = null;
      sent.track.stop();
    }
    this.sent.clear();
    this.again = false;
    this.everConnected = false;
    batch(() => {
      this.onStage.value = false;
      this.phase.value = "idle";
      this.syncStates();
    });
  }

  /** The page is gone (the node ends the publishing when the room is left). */
  close(): void {
    if (this.closed) return;
    this.takeDown();
    this.closed = true;
  }
}
