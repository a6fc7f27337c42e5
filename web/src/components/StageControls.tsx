import { useRef } from "preact/hooks";
import type { MediaKind } from "../callRules";
import { t } from "../i18n";
import type { MessageKey } from "../i18n/en";
import type { StageSession } from "../stageMedia";
import type { StagePublisher } from "../stagePublisher";
import type { StagePhase } from "../stageRules";
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

/**
 * A speaker's own controls: going on stage (camera and microphone, started only then),
 * muting, the camera off and on, sharing a screen, the choice of devices, and leaving the
 * stage; what is happening in words, and why it could not, in an alert.
 */
export function StageControls(props: { session: StageSession }) {
  const { publisher } = props.session;
  const box = useRef<HTMLElement>(null);
  const onStage = publisher.onStage.value;
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

  return (
    <section class="stage-controls" aria-labelledby="stage-controls-heading" ref={box}>
      <h3 id="stage-controls-heading">{t("stage.publish.heading")}</h3>
      <p role="status" class={`call-state ${onStage ? phase : "idle"}`} data-testid="stage-publish-state">
        {onStage ? t(STATE_TEXT[phase]) : t("stage.publish.state.idle")}
        {onStage && microphone === "off" && <> {t("stage.publish.microphoneMuted")}</>}
        {onStage && sharing && <> {t("stage.publish.sharing")}</>}
      </p>
      <ErrorAlert message={refusalText(publisher)} />
      <ErrorAlert message={problemText(publisher)} />
      {!onStage ? (
        <>
          <p class="help">{t("stage.publish.help")}</p>
          <div class="button-row">
            <button
              type="button"
              class="primary"
              disabled={starting}
              onClick={() => act(() => publisher.goOnStage())}
            >
              {starting ? t("stage.publish.starting") : t("stage.publish.go")}
            </button>
          </div>
        </>
      ) : (
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
