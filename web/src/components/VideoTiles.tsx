import { useSignal } from "@preact/signals";
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import type { CallPhase, DeviceState } from "../call";
import { t } from "../i18n";

/**
 * Another member's video, playing as soon as its stream arrives; when the browser refuses to
 * play with sound before a gesture on the page, a button plays it. `caption` follows the name.
 */
export function RemoteVideo(props: {
  name: string;
  stream: MediaStream | null;
  /** Changes when the stream's tracks change (play again). */
  version: number;
  phase: CallPhase;
  /** The member's camera is on (as it last said). */
  videoOn: boolean;
  caption?: ComponentChildren;
}) {
  const { name, stream, phase } = props;
  const video = useRef<HTMLVideoElement>(null);
  const blocked = useSignal(false);
  const play = () =>
    video.current?.play().then(
      () => {
        blocked.value = false;
      },
      (e: unknown) => {
        if (e instanceof DOMException && e.name === "NotAllowedError") blocked.value = true;
      },
    );
  useEffect(() => {
    const v = video.current;
    if (!v) return;
    if (v.srcObject !== stream) v.srcObject = stream;
    if (stream) void play();
  }, [stream, props.version]);

  const shown = phase === "connected" && props.videoOn;
  return (
    <>
      <figure class="remote-video">
        <div class="video-frame">
          {/* biome-ignore lint/a11y/useMediaCaption: a live call has no caption file; the chat beside it is the text channel */}
          <video ref={video} autoplay playsInline data-testid="remote-video" aria-label={name} />
          {!shown && (
            <p class="video-placeholder" aria-hidden="true">
              {phase === "connected" ? t("call.peerVideoOff", { name }) : t("call.peerNoVideo", { name })}
            </p>
          )}
        </div>
        <figcaption>
          <span class="name">{name}</span>
          {props.caption}
        </figcaption>
      </figure>
      {blocked.value && stream && (
        <button type="button" class="primary" onClick={() => void play()}>
          {t("call.play", { name })}
        </button>
      )}
    </>
  );
}

/** This member's own camera preview (muted). */
export function LocalVideo(props: { stream: MediaStream | null; version: number; camera: DeviceState }) {
  const video = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const v = video.current;
    if (v && v.srcObject !== props.stream) v.srcObject = props.stream;
  }, [props.stream, props.version]);
  return (
    <figure class="local-video">
      <div class="video-frame">
        <video ref={video} autoplay playsInline muted data-testid="local-video" />
        {props.camera !== "on" && (
          <p class="video-placeholder" aria-hidden="true">
            {props.camera === "off" ? t("call.yourCameraOff") : t("call.yourNoCamera")}
          </p>
        )}
      </div>
      <figcaption>
        <span class="name">{t("call.you")}</span>
      </figcaption>
    </figure>
  );
}
