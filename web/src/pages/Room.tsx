import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { ApiError, api, type SessionView } from "../api";
import { Chat } from "../components/Chat";
import { ModeratorPanel } from "../components/ModeratorPanel";
import { PollsPanel } from "../components/PollsPanel";
import { QaPanel } from "../components/QaPanel";
import { Stage } from "../components/Stage";
import { formatDay, formatTime } from "../format";
import { formatNumber, t } from "../i18n";
import { type SessionRoom, sessionRoom } from "../rooms";
import { followLink } from "../router";
import { connection } from "../session";
import { StageSession } from "../stageMedia";

/**
 * A live session: stage, attendance, chat, and moderator controls for those who hold the role.
 * A WebRTC stage's media (`StageSession`) belong to the page: viewing starts with the room.
 */
export function Room(props: { id: string }) {
  const session = useSignal<SessionView | null>(null);
  const error = useSignal<string | null>(null);
  const room = useSignal<SessionRoom | null>(null);
  const media = useSignal<StageSession | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    let current: SessionRoom | null = null;
    let stageMedia: StageSession | null = null;
    let cancelled = false;
    session.value = null;
    error.value = null;
    api
      .session(props.id)
      .then((s) => {
        if (cancelled) return;
        session.value = s;
        document.title = `${s.title} · ${t("app.name")}`;
        current = sessionRoom(connection, s.room);
        // Before the room's snapshot can arrive, so viewing starts with the first join.
        if (s.stage.kind === "webrtc") {
          const joined = current;
          stageMedia = new StageSession(current.parts.media, current.parts.lineup, {
            connection: () => connection.welcome.value?.connection ?? null,
            user: () => connection.welcome.value?.user.id ?? null,
            managesStage: () => joined.you.value?.can_manage_stage ?? false,
          });
        }
        media.value = stageMedia;
        room.value = current;
      })
      .catch((e: unknown) => {
        if (cancelled) return;
        error.value =
          e instanceof ApiError && e.status === 404
            ? t("room.notFound")
            : t("room.joinFailed", { message: e instanceof Error ? e.message : String(e) });
      });
    return () => {
      cancelled = true;
      stageMedia?.close();
      current?.dispose();
      media.value = null;
      room.value = null;
      document.title = t("app.name");
    };
  }, [props.id]);

  useEffect(() => {
    if (session.value) heading.current?.focus();
  }, [session.value]);

  const back = (
    <p>
      <a href="/" onClick={followLink}>
        <span aria-hidden="true">← </span>
        {t("room.back")}
      </a>
    </p>
  );

  if (error.value) {
    return (
      <div class="room">
        {back}
        <h1>{t("room.notFound")}</h1>
        <p role="alert">{error.value}</p>
      </div>
    );
  }
  const s = session.value;
  const r = room.value;
  if (!s || !r) return <p>{t("app.loading")}</p>;

  const { stage, chat, qa, polls } = r.parts;
  const you = r.you.value;
  const attendance = r.attendance.value;
  const welcome = connection.welcome.value;
  // Speakers cannot be told apart client-side (grants are per session): the green room link
  // shows to every speaker, moderator and organiser, and the green room explains when one is
  // not this session's. Who may go on the live stage is the lineup's (LiveStage).
  const stageRole = (role: string | undefined) =>
    role === "speaker" || role === "moderator" || role === "organiser";
  const greenRoom = you?.can_moderate || (welcome?.roles ?? []).some(stageRole);
  const stageMedia = media.value;
  const start = Date.parse(s.starts_at);
  const end = Date.parse(s.ends_at);

  return (
    <div class="room">
      {back}
      <div class="room-header">
        <h1 ref={heading} tabIndex={-1}>
          {s.title}
        </h1>
        <p class="when">
          {formatDay(start)}, {t("programme.time", { start: formatTime(start), end: formatTime(end) })}
        </p>
        {attendance && (
          <p class="attendance" data-testid="attendance">
            {attendance.present === 1
              ? t("room.attendanceOne")
              : t("room.attendance", { count: formatNumber(attendance.present) })}
          </p>
        )}
      </div>
      {r.joinError.value && (
        <p class="error" role="alert">
          {t("room.joinFailed", { message: r.joinError.value.message })}
        </p>
      )}
      <div class="room-layout">
        <div class="room-main">
          <Stage
            session={s}
            stage={stage.current.value}
            live={stageMedia && { media: stageMedia, me: welcome?.user.id ?? null, you }}
          />
          {you?.can_manage_stage && <ModeratorPanel stage={stage} />}
          {you && welcome && (
            <QaPanel
              qa={qa}
              you={you}
              me={welcome.user.id}
              sessionId={s.id}
              settings={s.qa ?? { moderated: true, anonymous: true }}
            />
          )}
          {you && <PollsPanel polls={polls} you={you} />}
          {greenRoom && (
            <p class="green-link">
              <a href={`/sessions/${props.id}/green`} onClick={followLink} aria-describedby="green-link-help">
                {t("green.link")}
              </a>{" "}
              <span id="green-link-help" class="help">
                {t("green.linkHelp")}
              </span>
            </p>
          )}
          {s.description && <p class="description">{s.description}</p>}
        </div>
        {you && welcome && (
          <Chat chat={chat} you={you} me={welcome.user.id} maxChars={welcome.limits.chat_max_chars} />
        )}
      </div>
    </div>
  );
}
