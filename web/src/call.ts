// Video and sound in a private call: one RTCPeerConnection to the call's other member,
// negotiated with the "perfect negotiation" pattern over the call room's `call_signal`
// (PROTOCOL.md, Signal). The decisions (who is polite, what a signal maps to, what a media
// error means, which words a state gets) are plain functions in `callRules.ts`, tested on
// their own and re-exported here; the browser objects (RTCPeerConnection, mediaDevices, localStorage) come in through `CallDeps`
// so the negotiation is tested with fakes too.
//
// Presence: signals are not kept, so each side announces itself with `ready` on joining; the
// other answers `ready` with `reply: true` and starts a fresh peer connection (a `ready`
// means the peer's page is new: whatever connection we had is to a page that is gone). A
// reply is never answered. The impolite side opens one audio and one video line at once, so
// the connection is made (and the other side's video received) even before, or without, a
// camera; local tracks are attached to those lines when they start (a renegotiation).
import { batch, signal } from "@preact/signals";
import type { CallPart } from "./booth";
import {
  type CallPhase,
  candidateFromSignal,
  DEVICE_KEY,
  type DeviceState,
  iceConfiguration,
  isPolite,
  loadRelayOnly,
  type MediaKind,
  type MediaProblem,
  mediaProblem,
  otherMember,
  type PeerMedia,
  phaseOf,
  saveRelayOnly,
  signalFromCandidate,
} from "./callRules";
import type { Signal, UserId } from "./proto.gen";

export * from "./callRules";

/** The browser objects a call uses (fakes in the unit tests). */
export interface CallDeps {
  createPeer(config: RTCConfiguration): RTCPeerConnection;
  createStream(): MediaStream;
  media(): MediaDevices | undefined;
  storage(): Storage | undefined;
}

const browser: CallDeps = {
  createPeer: (config) => new RTCPeerConnection(config),
  createStream: () => new MediaStream(),
  media: () => (typeof navigator === "undefined" ? undefined : navigator.mediaDevices),
  storage: () => {
    try {
      return window.localStorage;
    } catch {
      return undefined;
    }
  },
};

/** One peer connection and its negotiation state (a new one after each reset). */
interface Peer {
  pc: RTCPeerConnection;
  polite: boolean;
  makingOffer: boolean;
  ignoreOffer: boolean;
  settingRemoteAnswerPending: boolean;
  everConnected: boolean;
  remote: MediaStream | null;
}

/** What a peer session needs from the session that owns the local media. */
export interface PeerHost {
  readonly deps: CallDeps;
  /** Sends one signal to the member `to`. */
  send(to: UserId, signal: Signal): void;
  /** The local camera and microphone (null before any started). */
  currentStream(): MediaStream | null;
  /** The configuration of a new peer connection (ICE servers, relay only). */
  configuration(): RTCConfiguration;
  /** This side's `media` signal, or null before it announced itself. */
  mediaSignal(): Signal | null;
  /** A remote stream gained a track. */
  tracksChanged(): void;
}

/**
 * One remote member: the peer connection to it, perfect negotiation over its signals, its
 * video and sound, and what it said of its media. A private call has one, a green room one
 * per other member; the local media belong to the owner (`PeerHost`), shared by all.
 */
export class PeerSession {
  readonly phase = signal<CallPhase>("waiting");
  /** The member's microphone and camera, as it last said (`media`). */
  readonly peerMedia = signal<PeerMedia | null>(null);
  readonly remoteStream = signal<MediaStream | null>(null);
  /** Bumped when the remote stream gains a track. */
  readonly tracksVersion = signal(0);

  private current: Peer | null = null;
  private peerLeft = false;

  constructor(
    private readonly host: PeerHost,
    /** Who this session talks to (null while not known). */
    private readonly to: () => UserId | null,
    /** Whether this side is the polite one with this member. */
    private readonly politeSide: () => boolean,
  ) {}

  /** The peer connection (null while waiting). */
  get connection(): RTCPeerConnection | null {
    return this.current?.pc ?? null;
  }

  /** Whether this side yields when both offer at once (known once a connection started). */
  get polite(): boolean | null {
    return this.current?.polite ?? null;
  }

  /** Whether media flows now (a reconnect of the WebSocket leaves it alone). */
  get connected(): boolean {
    return this.current?.pc.connectionState === "connected";
  }

  send(signal: Signal): void {
    const to = this.to();
    if (to) this.host.send(to, signal);
  }

  /** Forgets the connection (it is to a page that may be gone) and says `ready` again. */
  announce(): void {
    this.closePeer();
    this.updatePhase();
    this.send({ kind: "ready" });
  }

  /** Handles one signal from this member. */
  receive(signal: Signal): void {
    switch (signal.kind) {
      case "ready": {
        if (!signal.reply) {
          // The peer's page is new: answer, and connect to it afresh.
          this.send({ kind: "ready", reply: true });
          this.open();
        } else if (!this.current) {
          this.open();
        }
        const media = this.host.mediaSignal();
        if (media) this.send(media);
        return;
      }
      case "offer":
      case "answer":
        void this.description({ type: signal.kind, sdp: signal.sdp });
        return;
      case "candidate":
        void this.candidate(candidateFromSignal(signal));
        return;
      case "end_of_candidates":
        void this.candidate(null);
        return;
      case "restart":
        this.current?.pc.restartIce();
        return;
      case "media":
        this.peerMedia.value = { audio: signal.audio, video: signal.video };
        return;
      case "bye":
        this.left();
        return;
    }
  }

  /** The member left (`bye`, or the room said so): close the connection to it. */
  left(): void {
    batch(() => {
      this.closePeer();
      this.peerLeft = true;
      this.peerMedia.value = null;
      this.updatePhase();
    });
  }

  private async description(description: RTCSessionDescriptionInit): Promise<void> {
    if (!this.current && description.type === "offer") this.open();
    const p = this.current;
    if (!p) return;
    const { pc } = p;
    try {
      const readyForOffer =
        !p.makingOffer && (pc.signalingState === "stable" || p.settingRemoteAnswerPending);
      const collision = description.type === "offer" && !readyForOffer;
      p.ignoreOffer = !p.polite && collision;
      if (p.ignoreOffer) return;
      p.settingRemoteAnswerPending = description.type === "answer";
      await pc.setRemoteDescription(description);
      p.settingRemoteAnswerPending = false;
      if (description.type === "offer") {
        await pc.setLocalDescription();
        this.sendDescription(p);
      }
    } catch (e) {
      p.settingRemoteAnswerPending = false;
      if (this.current === p) console.warn("call: a description was refused", e);
    }
  }

  private async candidate(init: RTCIceCandidateInit | null): Promise<void> {
    const p = this.current;
    if (!p) return;
    try {
      if (init) await p.pc.addIceCandidate(init);
      else await p.pc.addIceCandidate();
    } catch (e) {
      // Candidates of an offer this side ignored, or the end of candidates a browser does
      // not take, fail harmlessly.
      if (!p.ignoreOffer && init && this.current === p) console.warn("call: a candidate was refused", e);
    }
  }

  private sendDescription(p: Peer): void {
    const d = p.pc.localDescription;
    if (this.current !== p || !d) return;
    if (d.type === "offer") this.send({ kind: "offer", sdp: d.sdp });
    else if (d.type === "answer") this.send({ kind: "answer", sdp: d.sdp });
  }

  /** Opens a fresh peer connection to the member. */
  open(): void {
    this.closePeer();
    const polite = this.politeSide();
    const pc = this.host.deps.createPeer(this.host.configuration());
    const p: Peer = {
      pc,
      polite,
      makingOffer: false,
      ignoreOffer: false,
      settingRemoteAnswerPending: false,
      everConnected: false,
      remote: null,
    };
    this.current = p;
    this.peerLeft = false;
    pc.onnegotiationneeded = async () => {
      if (this.current !== p) return;
      try {
        p.makingOffer = true;
        await pc.setLocalDescription();
        this.sendDescription(p);
      } catch (e) {
        if (this.current === p) console.warn("call: negotiation failed", e);
      } finally {
        p.makingOffer = false;
      }
    };
    pc.onicecandidate = (event) => {
      if (this.current === p) this.send(signalFromCandidate(event.candidate));
    };
    pc.ontrack = (event) => {
      if (this.current !== p) return;
      p.remote ??= this.host.deps.createStream();
      if (!p.remote.getTrackById(event.track.id)) p.remote.addTrack(event.track);
      batch(() => {
        this.remoteStream.value = p.remote;
        this.tracksVersion.value += 1;
        this.host.tracksChanged();
      });
    };
    pc.onconnectionstatechange = () => {
      if (this.current !== p) return;
      if (pc.connectionState === "connected") p.everConnected = true;
      if (pc.connectionState === "failed") {
        // The impolite side restarts ICE itself; the polite one asks it to, so both do not
        // offer at once.
        if (p.polite) this.send({ kind: "restart" });
        else pc.restartIce();
      }
      this.updatePhase();
    };
    // The impolite side opens both lines (with what it has); the polite side adds its
    // tracks, which the other side's offer takes over when it arrives first. A line without
    // a track is opened to receive only: sending on it later renegotiates, so the other side
    // learns the new stream's SSRC (Chromium does not render video from an unsignalled one).
    const stream = this.host.currentStream();
    for (const kind of ["audio", "video"] as const) {
      const track = stream?.getTracks().find((t) => t.kind === kind);
      if (track && stream) pc.addTrack(track, stream);
      else if (!polite) pc.addTransceiver(kind, { direction: "recvonly" });
    }
    this.updatePhase();
  }

  /** Closes the peer connection (the session can open another). */
  closePeer(): void {
    const p = this.current;
    if (!p) return;
    this.current = null;
    p.pc.onnegotiationneeded = null;
    p.pc.onicecandidate = null;
    p.pc.ontrack = null;
    p.pc.onconnectionstatechange = null;
    p.pc.close();
    this.remoteStream.value = null;
  }

  private updatePhase(): void {
    const p = this.current;
    this.phase.value = phaseOf(p?.pc.connectionState ?? null, p?.everConnected ?? false, this.peerLeft);
  }

  /** Sends a local track on the connection: on a free line of its kind, else a new one. */
  async attach(track: MediaStreamTrack, stream: MediaStream): Promise<void> {
    const p = this.current;
    if (!p) return;
    const free = p.pc
      .getTransceivers()
      .find(
        (x) =>
          x.receiver.track.kind === track.kind &&
          !x.sender.track &&
          x.direction !== "stopped" &&
          x.currentDirection !== "stopped",
      );
    if (!free) {
      p.pc.addTrack(track, stream);
      return;
    }
    await free.sender.replaceTrack(track);
    free.sender.setStreams?.(stream);
    if (free.direction === "recvonly") free.direction = "sendrecv";
    else if (free.direction === "inactive") free.direction = "sendonly";
  }

  /** Another device's track replaces `old` (without renegotiating when it was sent). */
  async replace(old: MediaStreamTrack, fresh: MediaStreamTrack, stream: MediaStream): Promise<void> {
    const sender = this.current?.pc.getSenders().find((s) => s.track === old);
    if (sender) await sender.replaceTrack(fresh);
    else await this.attach(fresh, stream);
  }

  /** A new configuration (relay only changed): applied with an ICE restart, else afresh. */
  reconfigure(config: RTCConfiguration): void {
    const p = this.current;
    if (!p) return;
    try {
      p.pc.setConfiguration(config);
      p.pc.restartIce();
    } catch {
      this.announce();
    }
  }
}

/**
 * The local camera and microphone, shared by every peer session of a call or green room:
 * started on request, muted, switched to another device, relay only.
 */
export abstract class MediaSession implements PeerHost {
  readonly localStream = signal<MediaStream | null>(null);
  /** Bumped when a stream gains or loses a track. */
  readonly tracksVersion = signal(0);
  readonly microphone = signal<DeviceState>("none");
  readonly camera = signal<DeviceState>("none");
  readonly starting = signal(false);
  readonly problem = signal<{ kind: MediaProblem; message: string } | null>(null);
  /** A failed switch to another device. */
  readonly switchError = signal<string | null>(null);
  /** Known after permission (before, browsers give no labels). */
  readonly devices = signal<{ audio: MediaDeviceInfo[]; video: MediaDeviceInfo[] }>({ audio: [], video: [] });
  readonly microphoneId = signal("");
  readonly cameraId = signal("");
  readonly relayOnly = signal(false);

  protected announced = false;
  protected closed = false;
  private watchingDevices = false;
  private readonly onDeviceChange = () => void this.refreshDevices();

  constructor(
    protected readonly call: CallPart,
    protected readonly me: () => UserId | null,
    readonly deps: CallDeps = browser,
  ) {
    const storage = deps.storage();
    this.relayOnly.value = loadRelayOnly(storage);
    this.microphoneId.value = storage?.getItem(DEVICE_KEY.audio) ?? "";
    this.cameraId.value = storage?.getItem(DEVICE_KEY.video) ?? "";
  }

  /** The peer sessions open now. */
  protected abstract peers(): Iterable<PeerSession>;

  // --- PeerHost ---------------------------------------------------------------------

  send(to: UserId, signal: Signal): void {
    this.call.sendSignal(to, signal).catch(() => undefined);
  }

  currentStream(): MediaStream | null {
    return this.localStream.value;
  }

  configuration(): RTCConfiguration {
    return iceConfiguration(this.call.iceServers.value, this.relayOnly.value);
  }

  mediaSignal(): Signal | null {
    if (!this.announced || this.closed) return null;
    return { kind: "media", audio: this.microphone.value === "on", video: this.camera.value === "on" };
  }

  tracksChanged(): void {
    this.tracksVersion.value += 1;
  }

  protected sendMedia(): void {
    const media = this.mediaSignal();
    if (!media) return;
    for (const peer of this.peers()) peer.send(media);
  }

  setRelayOnly(on: boolean): void {
    this.relayOnly.value = on;
    saveRelayOnly(this.deps.storage(), on);
    for (const peer of this.peers()) peer.reconfigure(this.configuration());
  }

  // --- Local media ------------------------------------------------------------------

  private track(kind: MediaKind): MediaStreamTrack | null {
    return this.localStream.value?.getTracks().find((t) => t.kind === kind) ?? null;
  }

  private constraints(kinds: readonly MediaKind[], exact = false): MediaStreamConstraints {
    const device = (kind: MediaKind): MediaTrackConstraints | boolean => {
      const id = kind === "audio" ? this.microphoneId.value : this.cameraId.value;
      if (!id) return true;
      return { deviceId: exact ? { exact: id } : { ideal: id } };
    };
    return {
      audio: kinds.includes("audio") ? device("audio") : false,
      video: kinds.includes("video") ? device("video") : false,
    };
  }

  /** Starts the microphone and/or camera (those not started yet), after a user's action. */
  async start(want: { audio: boolean; video: boolean }): Promise<void> {
    const media = this.deps.media();
    if (this.closed || this.starting.value) return;
    if (!media?.getUserMedia) {
      this.problem.value = { kind: "unsupported", message: "" };
      return;
    }
    const kinds = (["audio", "video"] as const).filter((k) => want[k] && !this.track(k));
    if (kinds.length === 0) return;
    this.starting.value = true;
    this.problem.value = null;
    const got: MediaStreamTrack[] = [];
    let failure: unknown = null;
    try {
      try {
        got.push(...(await media.getUserMedia(this.constraints(kinds))).getTracks());
      } catch (e) {
        failure = e;
        // One of the two may exist: a laptop without a camera still has a microphone.
        if (kinds.length > 1 && mediaProblem(e) === "missing") {
          for (const kind of kinds) {
            try {
              got.push(...(await media.getUserMedia(this.constraints([kind]))).getTracks());
            } catch {
              // Reported below as the one missing.
            }
          }
        }
      }
      if (this.closed) {
        for (const track of got) track.stop();
        return;
      }
      for (const track of got) this.addLocal(track);
      const missing = kinds.filter((k) => !got.some((t) => t.kind === k));
      if (got.length === 0) {
        this.problem.value = {
          kind: mediaProblem(failure),
          message: failure instanceof Error ? failure.message : String(failure),
        };
      } else if (missing.length > 0) {
        this.problem.value = { kind: missing[0] === "video" ? "noCamera" : "noMicrophone", message: "" };
      }
      if (got.length > 0) {
        await this.refreshDevices();
        if (!this.watchingDevices) {
          media.addEventListener?.("devicechange", this.onDeviceChange);
          this.watchingDevices = true;
        }
      }
      this.sendMedia();
    } finally {
      this.starting.value = false;
    }
  }

  private addLocal(track: MediaStreamTrack): void {
    let stream = this.localStream.value;
    if (!stream) stream = this.deps.createStream();
    stream.addTrack(track);
    track.onended = () => this.lost(track);
    const s = stream;
    batch(() => {
      this.localStream.value = s;
      this.syncStates();
      this.tracksVersion.value += 1;
    });
    for (const peer of this.peers()) void peer.attach(track, stream);
  }

  /** A device went away (unplugged, or taken by the system). */
  private lost(track: MediaStreamTrack): void {
    if (this.closed) return;
    this.localStream.value?.removeTrack(track);
    batch(() => {
      this.syncStates();
      this.tracksVersion.value += 1;
    });
    this.sendMedia();
  }

  private syncStates(): void {
    const state = (kind: MediaKind): DeviceState => {
      const track = this.track(kind);
      return !track ? "none" : track.enabled ? "on" : "off";
    };
    this.microphone.value = state("audio");
    this.camera.value = state("video");
  }

  /** Mutes or unmutes the microphone (audio) or turns the camera off or on (video). */
  toggle(kind: MediaKind): void {
    const track = this.track(kind);
    if (!track) return;
    track.enabled = !track.enabled;
    this.syncStates();
    this.sendMedia();
  }

  async refreshDevices(): Promise<void> {
    const media = this.deps.media();
    if (!media?.enumerateDevices) return;
    try {
      const all = await media.enumerateDevices();
      const audio = all.filter((d) => d.kind === "audioinput" && d.deviceId);
      const video = all.filter((d) => d.kind === "videoinput" && d.deviceId);
      const inUse = (kind: MediaKind) => this.track(kind)?.getSettings?.().deviceId ?? "";
      batch(() => {
        this.devices.value = { audio, video };
        if (inUse("audio")) this.microphoneId.value = inUse("audio");
        if (inUse("video")) this.cameraId.value = inUse("video");
      });
    } catch {
      // Listing devices is a convenience: without it, the default devices stay in use.
    }
  }

  /** Switches to another microphone or camera; the peers see the new one at once. */
  async selectDevice(kind: MediaKind, deviceId: string): Promise<void> {
    (kind === "audio" ? this.microphoneId : this.cameraId).value = deviceId;
    this.switchError.value = null;
    try {
      this.deps.storage()?.setItem(DEVICE_KEY[kind], deviceId);
    } catch {
      // Remembered for this page only.
    }
    const media = this.deps.media();
    const old = this.track(kind);
    const stream = this.localStream.value;
    if (!old || !stream || !media || this.closed) return;
    let fresh: MediaStreamTrack | undefined;
    try {
      try {
        fresh = (await media.getUserMedia(this.constraints([kind], true))).getTracks()[0];
      } catch (e) {
        // Some devices open one camera at a time: free the old one and try again.
        if (mediaProblem(e) !== "busy") throw e;
        old.stop();
        fresh = (await media.getUserMedia(this.constraints([kind], true))).getTracks()[0];
      }
      if (!fresh) return;
      if (this.closed) {
        fresh.stop();
        return;
      }
      fresh.enabled = old.enabled;
      const next = fresh;
      await Promise.all([...this.peers()].map((peer) => peer.replace(old, next, stream)));
      old.onended = null;
      old.stop();
      stream.removeTrack(old);
      stream.addTrack(next);
      next.onended = () => this.lost(next);
      batch(() => {
        this.syncStates();
        this.tracksVersion.value += 1;
      });
    } catch (e) {
      this.switchError.value = e instanceof Error ? e.message : String(e);
      if (old.readyState === "ended") this.lost(old);
    }
  }

  // --- Leaving ----------------------------------------------------------------------

  /** Says `bye` to every peer, closes the connections, stops the camera and microphone. */
  leave(): void {
    if (this.closed) return;
    for (const peer of this.peers()) {
      if (this.announced) peer.send({ kind: "bye" });
      peer.closePeer();
    }
    this.closed = true;
    for (const track of this.localStream.value?.getTracks() ?? []) {
      track.onended = null;
      track.stop();
    }
    if (this.watchingDevices) this.deps.media()?.removeEventListener?.("devicechange", this.onDeviceChange);
    this.call.onJoined = null;
    this.call.onSignal = null;
  }
}

/** A private call: one peer session, to the call's other member. */
export class CallSession extends MediaSession {
  private peerId: UserId | null = null;
  readonly peer = new PeerSession(
    this,
    () => this.peerUser(),
    () => {
      const me = this.me();
      const peer = this.peerUser();
      return me && peer ? isPolite(me, peer, this.call.info.value?.members ?? []) : true;
    },
  );
  readonly phase = this.peer.phase;
  /** The other member's microphone and camera, as it last said (`media`). */
  readonly peerMedia = this.peer.peerMedia;
  readonly remoteStream = this.peer.remoteStream;

  constructor(call: CallPart, me: () => UserId | null, deps: CallDeps = browser) {
    super(call, me, deps);
    call.onJoined = (first) => this.joined(first);
    call.onSignal = (from, s) => this.receive(from, s);
  }

  protected peers(): Iterable<PeerSession> {
    return [this.peer];
  }

  /** The peer connection, for diagnostics (null while waiting). */
  get connection(): RTCPeerConnection | null {
    return this.peer.connection;
  }

  /** Whether this side yields when both offer at once (known once a connection started). */
  get polite(): boolean | null {
    return this.peer.polite;
  }

  private peerUser(): UserId | null {
    return otherMember(this.call.info.value?.members ?? [], this.me())?.id ?? this.peerId;
  }

  private joined(first: boolean): void {
    if (this.closed) return;
    // After a reconnect of the WebSocket, media that still flows needs nothing; otherwise
    // start afresh: what the peer sent meanwhile is lost.
    if (!first && this.peer.connected) return;
    this.announced = true;
    this.peer.announce();
  }

  /** Handles one signal from the other member. */
  receive(from: UserId, signal: Signal): void {
    if (this.closed || from === this.me()) return;
    const expected = otherMember(this.call.info.value?.members ?? [], this.me())?.id;
    if (expected && from !== expected) return;
    this.peerId = from;
    this.peer.receive(signal);
  }

  /** Starts again from scratch with the peer (its page reconnects too). */
  reconnect(): void {
    if (this.closed) return;
    this.announced = true;
    this.peer.announce();
  }
}
