import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import type { SessionView } from "../api";
import { t } from "../i18n";
import type { Membership, Stage as StageData, UserId } from "../proto.gen";
import type { StageSession } from "../stageMedia";
import { ErrorAlert } from "./ErrorAlert";
import { LiveStage } from "./LiveStage";

const HLS_TYPE = "application/vnd.apple.mpegurl";

/** What a WebRTC stage needs: this tab's media on it, who this person is and what they may do in the room. */
export interface LiveStageProps {
  media: StageSession;
  me: UserId | null;
  you: Membership | null;
}

/** The stage: its state in words, who speaks, and the session's stream (or live stage). */
export function Stage(props: {
  session: SessionView;
  stage: StageData | null;
  live?: LiveStageProps | null;
}) {
  const { session, stage } = props;
  const state = stage?.state ?? "scheduled";
  const label = {
    scheduled: t("room.stage.scheduled"),
    live: t("room.stage.live"),
    break: t("room.stage.break"),
    ended: t("room.stage.ended"),
  }[state];
  return (
    <section class="stage" aria-labelledby="stage-heading">
      <div class="stage-header">
        <h2 id="stage-heading">{t("room.stage")}</h2>
        <p class={`stage-state ${state}`} aria-live="polite">
          <span aria-hidden="true">{state === "live" ? "● " : "○ "}</span>
          {label}
        </p>
      </div>
      {stage?.speaker && <p class="speaker">{t("room.stage.speaker", { name: stage.speaker })}</p>}
      {state === "ended" && session.stage.kind !== "webrtc" ? (
        <p class="stage-placeholder">{t("room.stage.ended.note")}</p>
      ) : (
        <>
          {/* A live stage stays: speakers may still be on it after the session ended. */}
          {state === "ended" && <p>{t("room.stage.ended.note")}</p>}
          <StageSource session={session} live={props.live ?? null} />
        </>
      )}
    </section>
  );
}

function StageSource(props: { session: SessionView; live: LiveStageProps | null }) {
  const source = props.session.stage;
  switch (source.kind) {
    case "hls":
      return <HlsPlayer url={source.url} title={props.session.title} />;
    case "embed":
      return (
        <div class="player">
          <iframe
            src={source.url}
            title={t("room.stage.embedTitle", { title: props.session.title })}
            sandbox="allow-scripts allow-same-origin allow-presentation"
            allow="autoplay; encrypted-media; fullscreen; picture-in-picture"
            referrerpolicy="no-referrer"
            loading="lazy"
          />
        </div>
      );
    case "webrtc":
      return props.live ? (
        <LiveStage
          session={props.live.media}
          me={props.live.me}
          you={props.live.you}
          kind={props.session.kind}
        />
      ) : (
        <p class="stage-placeholder">{t("app.loading")}</p>
      );
    default:
      return <p class="stage-placeholder">{t("room.stage.noSource")}</p>;
  }
}

/**
 * Plays an HLS stream natively where the browser can (Safari, recent Chromium), else with
 * hls.js, which is loaded only then: it is larger than the rest of the client.
 */
function HlsPlayer(props: { url: string; title: string }) {
  const video = useRef<HTMLVideoElement>(null);
  const error = useSignal<string | null>(null);

  useEffect(() => {
    const element = video.current;
    if (!element) return;
    let destroy: (() => void) | undefined;
    let cancelled = false;
    error.value = null;
    const fail = (message: string) => {
      error.value = t("room.stage.playFailed", { message });
    };
    const play = () => {
      element.play().catch(() => {
        // Autoplay refused: the controls let the viewer start it.
      });
    };
    const useHlsJs = async () => {
      const { default: Hls } = await import("hls.js");
      if (cancelled) return;
      if (!Hls.isSupported()) {
        fail("this browser cannot play HLS");
        return;
      }
      const hls = new Hls({ enableWorker: false, lowLatencyMode: true });
      hls.on(Hls.Events.ERROR, (_event, data) => {
        if (data.fatal) fail(data.details);
      });
      hls.on(Hls.Events.MANIFEST_PARSED, play);
      hls.loadSource(props.url);
      hls.attachMedia(element);
      destroy = () => hls.destroy();
    };
    if (element.canPlayType(HLS_TYPE)) {
      element.src = props.url;
      element.addEventListener("loadedmetadata", play, { once: true });
      // Some browsers claim HLS support they lack: fall back to hls.js on a media error.
      element.addEventListener(
        "error",
        () => {
          element.removeAttribute("src");
          useHlsJs().catch((e: unknown) => fail(String(e)));
        },
        { once: true },
      );
      destroy = () => {
        element.removeAttribute("src");
        element.load();
      };
    } else {
      useHlsJs().catch((e: unknown) => fail(String(e)));
    }
    return () => {
      cancelled = true;
      destroy?.();
    };
  }, [props.url]);

  return (
    <div class="player">
      {/* Muted so that autoplay is allowed; the controls unmute. Captions arrive with the stream. */}
      <video
        ref={video}
        controls
        muted
        playsInline
        aria-label={t("room.stage.videoLabel", { title: props.title })}
      />
      <ErrorAlert message={error.value} />
    </div>
  );
}
