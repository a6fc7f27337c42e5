import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { ApiError, api, type SessionView } from "../api";
import type { PeerMedia, PeerSession } from "../call";
import { MediaControls } from "../components/CallVideo";
import { Chat } from "../components/Chat";
import { LocalVideo, RemoteVideo } from "../components/VideoTiles";
import { GREEN_ROOM_LIMIT, GreenSession, greenRoomId } from "../green";
import { formatNumber, t } from "../i18n";
import type { MessageKey } from "../i18n/en";
import { ErrorCode, type UserProfile } from "../proto.gen";
import { type GreenRoom, greenRoom } from "../rooms";
import { followLink, navigate } from "../router";
import { connection } from "../session";

const STATE_TEXT: Record<string, MessageKey> = {
  waiting: "green.state.waiting",
  connecting: "green.state.connecting",
  connected: "green.state.connected",
  reconnecting: "green.state.reconnecting",
  failed: "green.state.failed",
  left: "green.state.left",
};

function mediaText(media: PeerMedia | null): string {
  if (!media) return t("green.media.unknown");
  if (media.audio && media.video) return t("green.media.both");
  if (media.audio) return t("green.media.audioOnly");
  if (media.video) return t("green.media.videoOnly");
  return t("green.media.none");
}

/**
 * A session's green room: its speakers and moderators on video (a mesh, src/green.ts), who is
 * in it with each one's connection and microphone in words, the camera and microphone
 * controls of a call, and a chat.
 */
export function Green(props: { id: string }) {
  const info = useSignal<SessionView | null>(null);
  const room = useSignal<GreenRoom | null>(null);
  const session = useSignal<GreenSession | null>(null);
  const attempt = useSignal(0);
  const news = useSignal("");
  const heading = useRef<HTMLHeadingElement>(null);
  const known = useRef<Map<string, string>>(new Map());

  useEffect(() => {
    let cancelled = false;
    api
      .session(props.id)
      .then((s) => {
        if (cancelled) return;
        info.value = s;
        document.title = `${t("green.heading", { title: s.title })} · ${t("app.name")}`;
      })
      .catch((e: unknown) => {
        // The room's own answer (404 or 403) says what is wrong; the title is a nicety.
        if (!(e instanceof ApiError)) console.warn("green room: no session title", e);
      });
    return () => {
      cancelled = true;
      document.title = t("app.name");
    };
  }, [props.id]);

  useEffect(() => {
    const current = greenRoom(connection, greenRoomId(props.id));
    // Before the room's snapshot arrives, so the session announces itself on joining.
    const green = new GreenSession(current.parts.green, () => connection.welcome.value?.user.id ?? null);
    room.value = current;
    session.value = green;
    known.current = new Map();
    const leave = () => green.leave();
    window.addEventListener("pagehide", leave);
    return () => {
      window.removeEventListener("pagehide", leave);
      green.leave();
      current.dispose();
      room.value = null;
      session.value = null;
    };
  }, [props.id, attempt.value]);

  const r = room.value;
  const s = session.value;
  const call = r?.parts.call.info.value ?? null;
  const you = r?.you.value ?? null;
  const error = r?.joinError.value ?? null;
  const welcome = connection.welcome.value;
  const me = welcome?.user.id ?? null;

  useEffect(() => {
    if (you || error) heading.current?.focus();
  }, [you !== null, error !== null]);

  // Comings and goings, said once in the live region.
  const members = call?.members ?? null;
  useEffect(() => {
    if (!members) return;
    const before = known.current;
    const now = new Map(members.map((m) => [m.id, m.name]));
    if (before.size > 0) {
      for (const [id, name] of now)
        if (!before.has(id) && id !== me) news.value = t("green.joined", { name });
      for (const [id, name] of before) if (!now.has(id)) news.value = t("green.left", { name });
    }
    known.current = now;
  }, [members]);

  const sessionPage = `/sessions/${props.id}`;
  const title = info.value?.title;
  const back = (
    <p>
      <a href={sessionPage} onClick={followLink}>
        <span aria-hidden="true">← </span>
        {t("green.back")}
      </a>
    </p>
  );

  if (error) {
    const [headline, help] =
      error.code === ErrorCode.forbidden
        ? [t("green.forbidden"), t("green.forbiddenHelp")]
        : error.code === ErrorCode.conflict
          ? [t("green.full"), t("green.fullHelp")]
          : error.code === ErrorCode.not_found
            ? [t("green.notFound"), t("green.notFoundHelp")]
            : [t("green.title"), t("green.joinFailed", { message: error.message })];
    return (
      <div class="room green-page">
        {back}
        <h1 ref={heading} tabIndex={-1}>
          {headline}
        </h1>
        <p role="alert" data-testid="green-error">
          {help}
        </p>
        {error.code === ErrorCode.conflict && (
          <button type="button" class="primary" onClick={() => (attempt.value += 1)}>
            {t("green.retry")}
          </button>
        )}
      </div>
    );
  }
  if (!r || !s || !you || !welcome) return <p>{t("app.loading")}</p>;

  const peers = s.peerSessions.value;
  const list = call?.members ?? [];
  const others = list.filter((m) => m.id !== me);
  const leaveRoom = () => {
    s.leave();
    navigate(sessionPage);
  };

  return (
    <div class="room green-page">
      {back}
      <div class="room-header">
        <h1 ref={heading} tabIndex={-1}>
          {title ? t("green.heading", { title }) : t("green.title")}
        </h1>
      </div>
      <p class="visually-hidden" role="status" data-testid="green-news">
        {news.value}
      </p>
      <div class="room-layout">
        <div class="room-main">
          <section class="card call-video" aria-labelledby="green-video-heading">
            <h2 id="green-video-heading">{t("green.videos")}</h2>
            {others.length === 0 && <p class="help">{t("green.alone")}</p>}
            <ul class="green-grid" data-testid="green-grid">
              <LocalTile session={s} />
              {others.map((m) => (
                <PeerTile key={m.id} member={m} peer={peers.get(m.id) ?? null} session={s} />
              ))}
            </ul>
            <MediaControls
              session={s}
              name={t("green.others")}
              iceServers={r.parts.call.iceServers.value}
              onLeave={leaveRoom}
              leaveLabel={t("green.leave")}
            />
          </section>
          <section class="card" aria-labelledby="green-members-heading">
            <h2 id="green-members-heading">{t("green.members")}</h2>
            <p class="help">
              {t("green.membersCount", {
                count: formatNumber(list.length),
                limit: formatNumber(GREEN_ROOM_LIMIT),
              })}
            </p>
            <ul class="members" data-testid="green-members">
              {list.map((m) => (
                <MemberLine key={m.id} member={m} me={me} peer={peers.get(m.id) ?? null} session={s} />
              ))}
            </ul>
            <p class="help">{t("green.private")}</p>
          </section>
        </div>
        <Chat chat={r.parts.chat} you={you} me={welcome.user.id} maxChars={welcome.limits.chat_max_chars} />
      </div>
    </div>
  );
}

function MemberLine(props: {
  member: UserProfile;
  me: string | null;
  peer: PeerSession | null;
  session: GreenSession;
}) {
  const { member, peer, session } = props;
  if (member.id === props.me) {
    const media = { audio: session.microphone.value === "on", video: session.camera.value === "on" };
    return <li data-user={member.id}>{t("green.you", { name: member.name, media: mediaText(media) })}</li>;
  }
  const phase = peer?.phase.value ?? "left";
  return (
    <li data-user={member.id} data-state={phase}>
      {t("green.member", {
        name: member.name,
        state: t(STATE_TEXT[phase] ?? "green.state.waiting"),
        media: mediaText(peer?.peerMedia.value ?? null),
      })}
      {phase === "failed" && (
        <>
          {" "}
          <button type="button" onClick={() => session.reconnect(member.id)}>
            {t("green.reconnect", { name: member.name })}
          </button>
        </>
      )}
    </li>
  );
}

function LocalTile(props: { session: GreenSession }) {
  const { session } = props;
  return (
    <li>
      <LocalVideo
        stream={session.localStream.value}
        version={session.tracksVersion.value}
        camera={session.camera.value}
      />
    </li>
  );
}

function PeerTile(props: { member: UserProfile; peer: PeerSession | null; session: GreenSession }) {
  const { member, peer } = props;
  return (
    <li data-user={member.id}>
      <RemoteVideo
        name={member.name}
        stream={peer?.remoteStream.value ?? null}
        version={peer?.tracksVersion.value ?? 0}
        phase={peer?.phase.value ?? "left"}
        videoOn={peer?.peerMedia.value?.video !== false}
      />
    </li>
  );
}
