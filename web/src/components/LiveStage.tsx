import { useSignal } from "@preact/signals";
import { useEffect, useMemo, useRef } from "preact/hooks";
import { t } from "../i18n";
import type { MessageKey } from "../i18n/en";
import type { Membership, StageQuality, UserId } from "../proto.gen";
import type { StageSession } from "../stageMedia";
import {
  QUALITIES,
  type StagePhase,
  type StageTile,
  speakersOf,
  stageLayout,
  stageStanding,
} from "../stageRules";
import type { StageProblem } from "../stageViewer";
import { ErrorAlert } from "./ErrorAlert";
import { Select } from "./Select";
import { StageControls } from "./StageControls";
import { StageLineup } from "./StageLineup";

const CONNECTION_TEXT: Record<StagePhase, MessageKey> = {
  idle: "stage.connection.idle",
  connecting: "stage.connection.connecting",
  connected: "stage.connection.connected",
  reconnecting: "stage.connection.reconnecting",
  failed: "stage.connection.failed",
};

const QUALITY_TEXT: Record<StageQuality, MessageKey> = {
  auto: "stage.quality.auto",
  low: "stage.quality.low",
  audio_only: "stage.quality.audio_only",
};

function problemText(problem: StageProblem | null): string | null {
  if (!problem) return null;
  const message = problem.message;
  switch (problem.kind) {
    case "full":
      return t("stage.problem.full");
    case "notWebrtc":
      return t("stage.problem.notWebrtc");
    case "busy":
      return t("stage.problem.busy");
    case "forbidden":
      return t("stage.problem.forbidden", { message });
    case "failed":
      return t("stage.problem.failed", { message });
  }
}

/**
 * A session's WebRTC stage as everyone in it sees it: the screen share or the active
 * speaker's camera large, the other speakers small, names on every tile, the speakers' sound
 * (with a "Play sound" button when the browser will not start it by itself), the connection
 * in words, the quality menu, this person's own place on stage (going live, or raising a hand
 * to be brought on) when they have one, and the lineup for those who manage the stage.
 * `kind` is the session's kind in the programme (an interactive one takes anyone's hand).
 */
export function LiveStage(props: {
  session: StageSession;
  me: UserId | null;
  you: Membership | null;
  kind: string;
}) {
  const { session, me, you } = props;
  const { viewer, part, lineup } = session;
  const tracks = part.tracks.value;
  const standing = stageStanding({
    you,
    kind: props.kind,
    me,
    onStage: lineup.onStage.value,
    hands: lineup.hands.value,
  });
  // Someone taken off (or live while the lineup changes) keeps the controls that say so.
  const hasControls = standing !== "audience" || session.publisher.onStage.value || session.takenOff.value;
  const received = viewer.received.value;
  const phase = viewer.phase.value;
  const quality = viewer.quality.value;
  const layout = stageLayout(tracks, viewer.activeSpeaker.value);
  const speakers = speakersOf(tracks);
  const names = speakers.map((s) => (s.user === me ? t("stage.you", { name: s.name }) : s.name)).join(", ");
  // Everyone's microphone but this person's own (which the node sends back too).
  const sounds = tracks.filter((track) => track.source === "microphone" && track.user !== me);
  const soundBlocked = useSignal(false);
  const soundBox = useRef<HTMLDivElement>(null);

  const playSound = () => {
    const players = soundBox.current?.querySelectorAll("audio") ?? [];
    Promise.all([...players].map((audio) => audio.play())).then(
      () => {
        soundBlocked.value = false;
      },
      () => undefined,
    );
  };

  return (
    <div class="live-stage" data-testid="live-stage">
      <p role="status" class={`stage-connection ${phase}`} data-testid="stage-connection">
        {t(CONNECTION_TEXT[phase])}
      </p>
      <ErrorAlert message={problemText(viewer.problem.value)} />
      {(phase === "failed" || viewer.problem.value) && (
        <div class="call-failed">
          {phase === "failed" && <p class="help">{t("stage.failedHelp")}</p>}
          <button type="button" onClick={() => viewer.retry()}>
            {t("stage.retry")}
          </button>
        </div>
      )}
      <div aria-live="polite" data-testid="stage-people">
        {layout.main ? (
          <p class="stage-people">{t("stage.onStage", { names })}</p>
        ) : (
          <div class="stage-placeholder stage-empty">
            <p>
              <strong>{t("stage.empty")}</strong>
            </p>
            <p class="help">{t("stage.emptyHelp")}</p>
          </div>
        )}
      </div>
      {layout.main && (
        <div class="stage-tiles">
          <Tile tile={layout.main} track={tileTrack(layout.main, received)} me={me} quality={quality} large />
          {layout.others.length > 0 && (
            <ul class="stage-others">
              {layout.others.map((tile) => (
                <li key={tile.key}>
                  <Tile
                    tile={tile}
                    track={tileTrack(tile, received)}
                    me={me}
                    quality={quality}
                    large={false}
                  />
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {soundBlocked.value && sounds.length > 0 && (
        <div class="stage-sound">
          <button type="button" class="primary" onClick={playSound}>
            {t("stage.playSound")}
          </button>{" "}
          <span class="help">{t("stage.soundBlocked")}</span>
        </div>
      )}
      <div ref={soundBox} hidden>
        {sounds.map((track) => (
          <Sound
            key={track.id}
            track={received.get(track.id) ?? null}
            onBlocked={() => {
              soundBlocked.value = true;
            }}
          />
        ))}
      </div>
      <div class="stage-settings">
        <Select
          label={t("stage.quality")}
          value={quality}
          onChange={(value) => {
            const chosen = QUALITIES.find((q) => q === value);
            if (chosen) void viewer.setQuality(chosen);
          }}
        >
          {QUALITIES.map((q) => (
            <option key={q} value={q}>
              {t(QUALITY_TEXT[q])}
            </option>
          ))}
        </Select>
      </div>
      {hasControls && <StageControls session={session} standing={standing} />}
      {you?.can_manage_stage && <StageLineup lineup={lineup} tracks={tracks} me={me} />}
    </div>
  );
}

function tileTrack(tile: StageTile, received: ReadonlyMap<string, MediaStreamTrack>) {
  return tile.video ? (received.get(tile.video.id) ?? null) : null;
}

/** One camera or screen (or a speaker heard only), with the name under it. */
function Tile(props: {
  tile: StageTile;
  track: MediaStreamTrack | null;
  me: UserId | null;
  quality: StageQuality;
  large: boolean;
}) {
  const { tile, track } = props;
  const video = useRef<HTMLVideoElement>(null);
  const playing = useSignal(false);
  const stream = useMemo(() => (track ? new MediaStream([track]) : null), [track]);
  const showVideo = tile.video !== null && props.quality !== "audio_only";
  useEffect(() => {
    const element = video.current;
    playing.value = false;
    if (!element) return;
    if (element.srcObject !== stream) element.srcObject = stream;
    // Muted, so browsers let it play without a gesture on the page.
    if (stream) element.play().catch(() => undefined);
  }, [stream, showVideo]);

  const name = tile.user === props.me ? t("stage.you", { name: tile.name }) : tile.name;
  const label =
    tile.video?.source === "screen"
      ? t("stage.screen", { name: tile.name })
      : t("stage.camera", { name: tile.name });
  const placeholder = !tile.video
    ? t("stage.soundOnly", { name: tile.name })
    : !showVideo
      ? t("stage.videoOff")
      : playing.value
        ? null
        : t("stage.waitingVideo", { name: tile.name });
  return (
    <figure
      class={props.large ? "stage-tile large" : "stage-tile"}
      data-testid="stage-tile"
      data-source={tile.video?.source ?? "microphone"}
    >
      <div class="video-frame">
        {showVideo && (
          <video
            ref={video}
            muted
            autoplay
            playsInline
            aria-label={label}
            data-testid="stage-video"
            onPlaying={() => {
              playing.value = true;
            }}
            onEmptied={() => {
              playing.value = false;
            }}
          />
        )}
        {placeholder && (
          <p class={showVideo ? "video-placeholder" : "video-placeholder static"} aria-hidden="true">
            {placeholder}
          </p>
        )}
      </div>
      <figcaption>
        <span class="name">{tile.video?.source === "screen" ? t("stage.screen", { name }) : name}</span>
      </figcaption>
    </figure>
  );
}

/** One speaker's sound; reports when the browser refuses to start it without a gesture. */
function Sound(props: { track: MediaStreamTrack | null; onBlocked: () => void }) {
  const audio = useRef<HTMLAudioElement>(null);
  const stream = useMemo(() => (props.track ? new MediaStream([props.track]) : null), [props.track]);
  useEffect(() => {
    const element = audio.current;
    if (!element) return;
    element.srcObject = stream;
    if (!stream) return;
    element.play().catch((e: unknown) => {
      if (e instanceof DOMException && e.name === "NotAllowedError") props.onBlocked();
    });
  }, [stream]);
  // biome-ignore lint/a11y/useMediaCaption: live sound has no caption file; the session's captions and chat are the text channel
  return <audio ref={audio} data-testid="stage-audio" />;
}
