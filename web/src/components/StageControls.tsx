import { useSignal } from "@preact/signals";
import { useRef } from "preact/hooks";
import type { MediaKind } from "../callRules";
import { RequestError } from "../connection";
import { t } from "../i18n";
import type { MessageKey } from "../i18n/en";
import type { StageSession } from "../stageMedia";
import type { StagePublisher } from "../stagePublisher";
import { type LineupRefusal, lineupRefusal, type StagePhase, type StageStanding } from "../stageRules";
import { ErrorAlert } from "./ErrorAlert";
import { Select } from "./Select";
import { LocalVideo } from "./VideoTiles";

const STATE_TEXT: Record<StagePhase, MessageKey> = {
  idle: "stage.publish.state.idle",
  connecting: "stage.publish.state.connecting",
  connected: "stage.publish.state.connected",
  reconnecting: "stage.publish.state.reconnecting",
  failed: "stage.publish.state.failed",
};

function problemText(publisher: StagePublisher): string | null {
  const problem = publisher.problem.value;
  if (!problem) return null;
  switch (problem.kind) {
    case "denied":
      return t("stage.media.denied");
    case "missing":
      return t("stage.media.missing");
    case "noCamera":
      return t("stage.media.noCamera");
    case "noMicrophone":
      return t("stage.media.noMicrophone");
    case "busy":
      return t("stage.media.busy");
    case "unsupported":
      return t("stage.media.unsupported");
    case "failed":
      return t("stage.media.failed", { message: problem.message });
  }
}

function refusalText(publisher: StagePublisher): string | null {
  const refusal = publisher.refusal.value;
  if (!refusal) return null;
  const message = refusal.message;
  switch (refusal.kind) {
    case "forbidden":
      return t("stage.publish.refused.forbidden", { message });
    case "full":
      return t("stage.publish.refused.full", { message });
    case "notWebrtc":
      return t("stage.publish.refused.notWebrtc");
    case "busy":
      return t("stage.publish.refused.busy");
    case "failed":
      return t("stage.publish.refused.failed", { message });
  }
}

const HAND_REFUSAL_TEXT: Record<LineupRefusal, MessageKey> = {
  forbidden: "stage.hand.refused.forbidden",
  full: "stage.hand.refused.full",
  tooFast: "stage.hand.refused.tooFast",
  notWebrtc: "stage.hand.refused.notWebrtc",
  failed: "stage.hand.refused.failed",
};

/** What the status line says while this person is not publishing. */
function idleText(standing: StageStanding, takenOff: boolean, stageEnded: boolean): string {
  switch (standing) {
    case "broughtOn":
      return t("stage.publish.state.broughtOn");
    case "waiting":
      return t("stage.publish.state.waiting");
    case "free":
      return t("stage.publish.state.idle");
    default:
      if (!takenOff) return t("stage.publish.state.idle");
      return t(stageEnded ? "stage.publish.state.stageEnded" : "stage.publish.state.takenOff");
  }
}

/**
 * This person's own place on the stage. Moderators go on stage when they like; a speaker (or,
 * in an interactive session, anyone) raises a hand and waits until a moderator brings them
 * on, then goes live; taken off, they are told so and may raise a hand again. Live: muting,
 * the camera off and on, sharing a screen, the choice of devices, and leaving the stage.
 * What is happening is in words, and why it could not, in an alert.
 */
export function StageControls(props: { session: StageSession; standing: StageStanding }) {
  const { publisher, lineup } = props.session;
  const { standing } = props;
  const box = useRef<HTMLElement>(null);
  const handBusy = useSignal(false);
  const handProblem = useSignal<string | null>(null);
  const onStage = publisher.onStage.value;
  const takenOff = props.session.takenOff.value;
  const starting = publisher.starting.value;
  const phase = publisher.phase.value;
  const microphone = publisher.microphone.value;
  const camera = publisher.camera.value;
  const sharing = publisher.sharing.value;
  const devices = publisher.devices.value;

  /** Runs `action`; when the button pressed gave way to others, keeps the focus in the controls. */
  const act = async (action: () => Promise<void> | void) => {
    await action();
    if (!document.activeElement || document.activeElement === document.body) {
      box.current?.querySelector<HTMLButtonElement>("button:not(:disabled)")?.focus();
    }
  };

  /** Raises or lowers the hand; the lineup event that follows changes the controls. */
  const setHand = (raised: boolean) =>
    act(async () => {
      handBusy.value = true;
      handProblem.value = null;
      try {
        await lineup.raiseHand(raised);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        const kind = e instanceof RequestError ? lineupRefusal(e.code) : "failed";
        handProblem.value = t(HAND_REFUSAL_TEXT[kind], { message });
      } finally {
        handBusy.value = false;
      }
    });

  const mayGoLive = standing === "free" || standing === "broughtOn";
  return (
    <section class="stage-controls" aria-labelledby="stage-controls-heading" ref={box}>
      <h3 id="stage-controls-heading">{t("stage.publish.heading")}</h3>
      <p role="status" class={`call-state ${onStage ? phase : "idle"}`} data-testid="stage-publish-state">
        {onStage ? t(STATE_TEXT[phase]) : idleText(standing, takenOff, lineup.stageEnded.value)}
        {onStage && microphone === "off" && <> {t("stage.publish.microphoneMuted")}</>}
        {onStage && sharing && <> {t("stage.publish.sharing")}</>}
      </p>
      <ErrorAlert message={refusalText(publisher)} />
      <ErrorAlert message={problemText(publisher)} />
      <ErrorAlert message={handProblem.value} />
      {!onStage && mayGoLive && (
        <>
          {standing === "free" && <p class="help">{t("stage.publish.help")}</p>}
          <div class="button-row">
            <button
              type="button"
              class="primary"
              disabled={starting}
              onClick={() => act(() => publisher.goOnStage())}
            >
              {starting
                ? t("stage.publish.starting")
                : t(standing === "free" ? "stage.publish.go" : "stage.publish.goLive")}
            </button>
          </div>
        </>
      )}
      {!onStage && (standing === "waiting" || standing === "mayRaise") && (
        <>
          {standing === "mayRaise" && (
            <p class="help">{t(takenOff ? "stage.hand.helpAgain" : "stage.hand.help")}</p>
          )}
          <div class="button-row">
            <button
              type="button"
              class={standing === "mayRaise" ? "primary" : undefined}
              disabled={handBusy.value}
              onClick={() => setHand(standing === "mayRaise")}
            >
              {standing === "waiting" ? t("stage.hand.lower") : t("stage.hand.raise")}
            </button>
          </div>
        </>
      )}
      {onStage && (
        <>
          {camera === "on" && (
            <div class="stage-preview">
              <LocalVideo stream={publisher.preview.value} version={0} camera={camera} />
            </div>
          )}
          <div class="button-row call-controls">
            {microphone === "none" ? (
              <button
                type="button"
                disabled={starting}
                onClick={() => act(() => publisher.startMicrophone())}
              >
                {t("stage.publish.startMicrophone")}
              </button>
            ) : (
              <button
                type="button"
                aria-pressed={microphone === "off"}
                onClick={() => publisher.toggleMicrophone()}
              >
                {t("stage.publish.mute")}
              </button>
            )}
            {camera === "on" ? (
              <button type="button" disabled={starting} onClick={() => act(() => publisher.toggleCamera())}>
                {t("stage.publish.cameraOff")}
              </button>
            ) : (
              <button type="button" disabled={starting} onClick={() => act(() => publisher.toggleCamera())}>
                {t("stage.publish.cameraOn")}
              </button>
            )}
            {sharing ? (
              <button type="button" onClick={() => act(() => publisher.stopSharing())}>
                {t("stage.publish.stopSharing")}
              </button>
            ) : (
              <button type="button" disabled={starting} onClick={() => act(() => publisher.shareScreen())}>
                {t("stage.publish.share")}
              </button>
            )}
            {phase === "failed" && (
              <button type="button" onClick={() => act(() => publisher.recover())}>
                {t("stage.publish.again")}
              </button>
            )}
            <button type="button" class="danger" onClick={() => act(() => publisher.leave())}>
              {t("stage.publish.leave")}
            </button>
          </div>
          {(devices.audio.length > 0 || devices.video.length > 0) && (
            <fieldset class="call-settings">
              <legend>{t("stage.publish.devices")}</legend>
              {microphone !== "none" && devices.audio.length > 0 && (
                <DeviceSelect kind="audio" publisher={publisher} devices={devices.audio} />
              )}
              {camera === "on" && devices.video.length > 0 && (
                <DeviceSelect kind="video" publisher={publisher} devices={devices.video} />
              )}
            </fieldset>
          )}
        </>
      )}
    </section>
  );
}

function DeviceSelect(props: {
  kind: MediaKind;
  publisher: StagePublisher;
  devices: readonly MediaDeviceInfo[];
}) {
  const { kind, publisher } = props;
  const value = (kind === "audio" ? publisher.microphoneId : publisher.cameraId).value;
  return (
    <Select
      label={kind === "audio" ? t("call.microphone") : t("call.camera")}
      value={value}
      onChange={(id) => void publisher.selectDevice(kind, id)}
    >
      {props.devices.map((d, i) => (
        <option key={d.deviceId} value={d.deviceId}>
          {d.label ||
            t(kind === "audio" ? "call.deviceNumber.audio" : "call.deviceNumber.video", { number: i + 1 })}
        </option>
      ))}
    </Select>
  );
}
