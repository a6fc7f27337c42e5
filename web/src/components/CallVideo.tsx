import { useRef } from "preact/hooks";
import {
  type CallPhase,
  type CallSession,
  hasRelay,
  type MediaKind,
  type MediaSession,
  type PeerMedia,
} from "../call";
import { t } from "../i18n";
import type { MessageKey } from "../i18n/en";
import type { IceServer } from "../proto.gen";
import { ErrorAlert } from "./ErrorAlert";
import { LocalVideo, RemoteVideo } from "./VideoTiles";

export const PHASE_TEXT: Record<CallPhase, MessageKey> = {
  waiting: "call.state.waiting",
  connecting: "call.state.connecting",
  connected: "call.state.connected",
  reconnecting: "call.state.reconnecting",
  failed: "call.state.failed",
  left: "call.state.left",
};

/** The other member's microphone and camera, in words (nothing until it has said). */
export function peerMediaText(name: string, media: PeerMedia | null): string {
  if (!media) return "";
  if (media.audio && media.video) return t("call.peer.both", { name });
  if (media.audio) return t("call.peer.audioOnly", { name });
  if (media.video) return t("call.peer.videoOnly", { name });
  return t("call.peer.none", { name });
}

function problemText(session: MediaSession, name: string): string | null {
  const problem = session.problem.value;
  if (!problem) return null;
  switch (problem.kind) {
    case "denied":
      return t("call.media.denied", { name });
    case "missing":
      return t("call.media.missing", { name });
    case "noCamera":
      return t("call.media.noCamera");
    case "noMicrophone":
      return t("call.media.noMicrophone");
    case "busy":
      return t("call.media.busy");
    case "unsupported":
      return t("call.media.unsupported", { name });
    case "failed":
      return t("call.media.failed", { message: problem.message });
  }
}

/**
 * The call's video: the other member's video and sound, this member's preview, the state of
 * the connection in words, the camera and microphone (started only on request), the choice
 * of devices, the relay-only setting, and leaving.
 */
export function CallVideo(props: {
  session: CallSession;
  peerName: string;
  iceServers: readonly IceServer[];
  onLeave: () => void;
}) {
  const { session, peerName: name } = props;
  const phase = session.phase.value;
  const peerMedia = session.peerMedia.value;
  const remote = session.remoteStream.value;
  const local = session.localStream.value;
  const version = session.tracksVersion.value;
  const camera = session.camera.value;

  return (
    <section class="card call-video" aria-labelledby="video-heading">
      <h2 id="video-heading">{t("call.video")}</h2>
      <p role="status" class={`call-state ${phase}`} data-testid="call-state">
        {t(PHASE_TEXT[phase], { name })}
      </p>
      {phase === "failed" && (
        <div class="call-failed">
          <p class="help">{t("call.failedHelp")}</p>
          <button type="button" onClick={() => session.reconnect()}>
            {t("call.reconnect")}
          </button>
        </div>
      )}
      <div class="call-videos">
        <RemoteVideo
          name={name}
          stream={remote}
          version={version}
          phase={phase}
          videoOn={peerMedia?.video !== false}
          caption={
            <>
              {" "}
              <span aria-live="polite" data-testid="peer-media">
                {peerMediaText(name, peerMedia)}
              </span>
            </>
          }
        />
        <LocalVideo stream={local} version={version} camera={camera} />
      </div>
      <MediaControls session={session} name={name} iceServers={props.iceServers} onLeave={props.onLeave} />
    </section>
  );
}

/**
 * The camera and microphone of a call or green room (started only on request), muting, the
 * choice of devices, the relay-only setting, and leaving. `name` is who the messages speak
 * of (the other member, or "the others").
 */
export function MediaControls(props: {
  session: MediaSession;
  name: string;
  iceServers: readonly IceServer[];
  onLeave: () => void;
  leaveLabel?: string;
}) {
  const { session, name } = props;
  const controls = useRef<HTMLDivElement>(null);
  const microphone = session.microphone.value;
  const camera = session.camera.value;
  const starting = session.starting.value;
  const relayOnly = session.relayOnly.value;
  const devices = session.devices.value;
  const servers = props.iceServers;
  const nothingStarted = microphone === "none" && camera === "none";

  const start = async (want: { audio: boolean; video: boolean }) => {
    await session.start(want);
    // The start buttons give way to the mute buttons: keep the keyboard focus in the controls.
    if (document.activeElement === document.body || !document.activeElement) {
      controls.current?.querySelector<HTMLButtonElement>("button:not(:disabled)")?.focus();
    }
  };

  return (
    <>
      <ErrorAlert message={problemText(session, name)} />
      <div class="button-row call-controls" ref={controls}>
        {nothingStarted ? (
          <>
            <button
              type="button"
              class="primary"
              disabled={starting}
              onClick={() => start({ audio: true, video: true })}
            >
              {starting ? t("call.starting") : t("call.start")}
            </button>
            <button type="button" disabled={starting} onClick={() => start({ audio: true, video: false })}>
              {t("call.startAudio")}
            </button>
          </>
        ) : (
          <>
            {microphone === "none" ? (
              <button type="button" disabled={starting} onClick={() => start({ audio: true, video: false })}>
                {t("call.startMicrophone")}
              </button>
            ) : (
              <button
                type="button"
                aria-pressed={microphone === "off"}
                onClick={() => session.toggle("audio")}
              >
                {t("call.mute")}
              </button>
            )}
            {camera === "none" ? (
              <button type="button" disabled={starting} onClick={() => start({ audio: false, video: true })}>
                {t("call.startCamera")}
              </button>
            ) : (
              <button type="button" aria-pressed={camera === "off"} onClick={() => session.toggle("video")}>
                {t("call.cameraOff")}
              </button>
            )}
          </>
        )}
        <button type="button" class="danger" onClick={props.onLeave}>
          {props.leaveLabel ?? t("call.leaveCall")}
        </button>
      </div>
      {nothingStarted && <p class="help">{t("call.startHelp", { name })}</p>}
      <fieldset class="call-settings">
        <legend>{t("call.settings")}</legend>
        {microphone !== "none" && devices.audio.length > 0 && (
          <DeviceSelect kind="audio" session={session} devices={devices.audio} />
        )}
        {camera !== "none" && devices.video.length > 0 && (
          <DeviceSelect kind="video" session={session} devices={devices.video} />
        )}
        <ErrorAlert
          message={
            session.switchError.value ? t("call.switchFailed", { message: session.switchError.value }) : null
          }
        />
        <div class="field checkbox">
          <input
            id="relay-only"
            type="checkbox"
            checked={relayOnly}
            aria-describedby="relay-only-help"
            onChange={(e) => session.setRelayOnly(e.currentTarget.checked)}
          />
          <label for="relay-only">{t("call.relayOnly")}</label>
        </div>
        <p id="relay-only-help" class="help">
          {t("call.relayOnlyHelp", { name })}
        </p>
        {relayOnly && !hasRelay(servers) && <p class="notice">{t("call.relayMissing")}</p>}
      </fieldset>
    </>
  );
}

function DeviceSelect(props: {
  kind: MediaKind;
  session: MediaSession;
  devices: readonly MediaDeviceInfo[];
}) {
  const { kind, session } = props;
  const id = `device-${kind}`;
  const value = (kind === "audio" ? session.microphoneId : session.cameraId).value;
  return (
    <div class="field">
      <label for={id}>{kind === "audio" ? t("call.microphone") : t("call.camera")}</label>
      <select id={id} value={value} onChange={(e) => void session.selectDevice(kind, e.currentTarget.value)}>
        {props.devices.map((d, i) => (
          <option key={d.deviceId} value={d.deviceId}>
            {d.label ||
              t(kind === "audio" ? "call.deviceNumber.audio" : "call.deviceNumber.video", { number: i + 1 })}
          </option>
        ))}
      </select>
    </div>
  );
}
