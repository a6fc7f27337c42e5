import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { boothRoomId, callRoomId } from "../booth";
import { CallSession } from "../call";
import { CallVideo } from "../components/CallVideo";
import { Chat } from "../components/Chat";
import { formatTime } from "../format";
import { t } from "../i18n";
import { ErrorCode } from "../proto.gen";
import { boothRoom, type CallRoom, callRoom } from "../rooms";
import { followLink, navigate } from "../router";
import { connection } from "../session";

/**
 * A private call between a visitor and a booth's staff member: who it is with, video and
 * sound (src/call.ts), and its chat.
 */
export function Call(props: { id: string }) {
  const room = useSignal<CallRoom | null>(null);
  const session = useSignal<CallSession | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    const current = callRoom(connection, callRoomId(props.id.toLowerCase()));
    // Before the room's snapshot arrives, so the session announces itself on joining.
    const call = new CallSession(current.parts.call, () => connection.welcome.value?.user.id ?? null);
    room.value = current;
    session.value = call;
    document.title = `${t("call.title")} · ${t("app.name")}`;
    // Closing the tab or going elsewhere: the other member hears of it at once (`bye`).
    const leave = () => call.leave();
    window.addEventListener("pagehide", leave);
    return () => {
      window.removeEventListener("pagehide", leave);
      call.leave();
      current.dispose();
      room.value = null;
      session.value = null;
      document.title = t("app.name");
    };
  }, [props.id]);

  const r = room.value;
  const s = session.value;
  const call = r?.parts.call.info.value ?? null;
  const you = r?.you.value ?? null;
  const error = r?.joinError.value ?? null;
  const welcome = connection.welcome.value;

  useEffect(() => {
    if (you || error) heading.current?.focus();
  }, [you !== null, error !== null]);

  // The staff member of the call (the call's second member) stays in the booth's room while
  // here, so it stays on duty instead of going offline when the grace period ends.
  const staffBooth = call?.booth && welcome && call.members[1]?.id === welcome.user.id ? call.booth : null;
  useEffect(() => {
    if (!staffBooth) return;
    const booth = boothRoom(connection, boothRoomId(staffBooth));
    return () => booth.dispose();
  }, [staffBooth]);

  const back = call?.booth ? `/booths/${call.booth}` : "/expo";
  const leave = (
    <p>
      <a href={back} onClick={followLink}>
        <span aria-hidden="true">← </span>
        {call?.booth ? t("call.leave") : t("call.leaveHall")}
      </a>
    </p>
  );

  if (error) {
    return (
      <div class="room call-page">
        {leave}
        <h1 ref={heading} tabIndex={-1}>
          {error.code === ErrorCode.forbidden
            ? t("call.forbidden")
            : error.code === ErrorCode.not_found
              ? t("call.notFound")
              : t("call.title")}
        </h1>
        <p role="alert">
          {error.code === ErrorCode.forbidden
            ? t("call.forbiddenHelp")
            : error.code === ErrorCode.not_found
              ? t("call.notFoundHelp")
              : t("call.joinFailed", { message: error.message })}
        </p>
      </div>
    );
  }
  if (!r || !s || !you || !welcome) return <p>{t("app.loading")}</p>;

  const others = (call?.members ?? []).filter((m) => m.id !== welcome.user.id);
  const leaveCall = () => {
    s.leave();
    navigate(back);
  };
  return (
    <div class="room call-page">
      {leave}
      <div class="room-header">
        <h1 ref={heading} tabIndex={-1}>
          {others.length > 0
            ? t("call.with", { names: others.map((m) => m.name).join(", ") })
            : t("call.title")}
        </h1>
        {call && <p class="when">{t("call.opened", { time: formatTime(call.opened_at) })}</p>}
      </div>
      <div class="room-layout">
        <div class="room-main">
          {call && others[0] && (
            <CallVideo
              session={s}
              peerName={others[0].name}
              iceServers={r.parts.call.iceServers.value}
              onLeave={leaveCall}
            />
          )}
          <section class="card" aria-labelledby="members-heading">
            <h2 id="members-heading">{t("call.members")}</h2>
            {call ? (
              <ul class="members" data-testid="call-members">
                {call.members.map((m) => (
                  <li key={m.id}>
                    {m.name}
                    {m.id === welcome.user.id && (
                      <>
                        {" "}
                        <span class="tag">{t("chat.you")}</span>
                      </>
                    )}
                  </li>
                ))}
              </ul>
            ) : (
              <p>{t("app.loading")}</p>
            )}
            <p class="help">{t("call.private")}</p>
          </section>
        </div>
        <Chat chat={r.parts.chat} you={you} me={welcome.user.id} maxChars={welcome.limits.chat_max_chars} />
      </div>
    </div>
  );
}
