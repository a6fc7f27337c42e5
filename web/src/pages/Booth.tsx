import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { ApiError, api, type Booth as BoothInfo } from "../api";
import { boothRoomId, type StaffStatus, type StaffView, staffOnDuty } from "../booth";
import { Chat } from "../components/Chat";
import { AnalyticsPanel, ExhibitorConsole } from "../components/ExhibitorConsole";
import { LeadForm } from "../components/LeadForm";
import { TalkPanel } from "../components/TalkPanel";
import { t } from "../i18n";
import { ErrorCode } from "../proto.gen";
import { type BoothRoom, boothRoom } from "../rooms";
import { followLink } from "../router";
import { connection } from "../session";
import { onDutyText, visitorsText } from "./Expo";

/** A booth: its profile, staff, chat, the visitor's request and card, the staff's console. */
export function Booth(props: { id: string }) {
  const booth = useSignal<BoothInfo | null>(null);
  const error = useSignal<string | null>(null);
  const room = useSignal<BoothRoom | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    let cancelled = false;
    booth.value = null;
    error.value = null;
    const current = boothRoom(connection, boothRoomId(props.id));
    room.value = current;
    api
      .booth(props.id)
      .then((b) => {
        if (cancelled) return;
        booth.value = b;
        document.title = `${b.organisation} · ${t("app.name")}`;
      })
      .catch((e: unknown) => {
        if (cancelled) return;
        error.value =
          e instanceof ApiError && e.status === 404
            ? t("booth.notFound")
            : t("booth.loadFailed", { message: e instanceof Error ? e.message : String(e) });
      });
    return () => {
      cancelled = true;
      current.dispose();
      room.value = null;
      document.title = t("app.name");
    };
  }, [props.id]);

  useEffect(() => {
    if (booth.value) heading.current?.focus();
  }, [booth.value]);

  const back = (
    <p>
      <a href="/expo" onClick={followLink}>
        <span aria-hidden="true">← </span>
        {t("booth.back")}
      </a>
    </p>
  );

  const r = room.value;
  const joinError = r?.joinError.value;
  if (error.value || joinError?.code === ErrorCode.not_found) {
    return (
      <div class="room">
        {back}
        <h1>{t("booth.notFound")}</h1>
        {error.value && error.value !== t("booth.notFound") && <p role="alert">{error.value}</p>}
      </div>
    );
  }
  const b = booth.value;
  if (!b || !r) return <p>{t("app.loading")}</p>;

  const you = r.you.value;
  const attendance = r.attendance.value;
  const welcome = connection.welcome.value;
  const { chat, booth: live } = r.parts;
  const staff = live.staff.value;
  const isStaff = you?.booth_staff === true;
  const organiser = welcome?.roles.includes("organiser") ?? false;

  return (
    <div class="room booth-page">
      {back}
      <div class="room-header">
        {b.logo_url && (
          <img class="logo" src={b.logo_url} alt={t("booth.logoAlt", { name: b.organisation })} />
        )}
        <h1 ref={heading} tabIndex={-1}>
          {b.organisation}
        </h1>
        {attendance && (
          <p class="attendance" data-testid="attendance">
            {t("booth.here", { visitors: visitorsText(attendance.present) })}
          </p>
        )}
      </div>
      {joinError && (
        <p class="error" role="alert">
          {t("booth.joinFailed", { message: joinError.message })}
        </p>
      )}
      <div class="room-layout">
        <div class="room-main">
          {isStaff && welcome && (
            <ExhibitorConsole
              live={live}
              booth={b}
              me={welcome.user.id}
              onProfileSaved={(saved) => {
                booth.value = saved;
              }}
            />
          )}
          {!isStaff && you && welcome && <TalkPanel booth={live} me={welcome.user.id} />}
          <section class="card booth-profile" aria-labelledby="about-heading">
            <h2 id="about-heading">{t("booth.about", { name: b.organisation })}</h2>
            {b.description ? (
              <p class="description" dir="auto">
                {b.description}
              </p>
            ) : (
              <p class="help">{t("booth.noDescription")}</p>
            )}
            <BoothLinks links={b.links} />
            {b.tags.length > 0 && (
              <ul class="tags" aria-label={t("expo.tags")}>
                {b.tags.map((x) => (
                  <li key={x}>{x}</li>
                ))}
              </ul>
            )}
          </section>
          <StaffList staff={staff} />
          {!isStaff && you && welcome && <LeadForm booth={b} defaultName={welcome.user.name} />}
          {!isStaff && organiser && (
            <section class="card" aria-labelledby="figures-heading">
              <h2 id="figures-heading">{t("console.figures")}</h2>
              <AnalyticsPanel booth={b} />
            </section>
          )}
        </div>
        {you && welcome && (
          <Chat chat={chat} you={you} me={welcome.user.id} maxChars={welcome.limits.chat_max_chars} />
        )}
      </div>
    </div>
  );
}

/** The booth's links that are absolute http(s) URLs, opening in a new tab. */
function BoothLinks(props: { links: string[] }) {
  const links = props.links.flatMap((link) => {
    try {
      const url = new URL(link);
      return url.protocol === "https:" || url.protocol === "http:" ? [url] : [];
    } catch {
      return [];
    }
  });
  if (links.length === 0) return null;
  return (
    <>
      <h3>{t("booth.links")}</h3>
      <ul class="booth-links">
        {links.map((url) => (
          <li key={url.href}>
            <a href={url.href} target="_blank" rel="noopener noreferrer">
              {url.host + (url.pathname === "/" ? "" : url.pathname)}
              <span class="visually-hidden"> {t("booth.newTab")}</span>
            </a>
          </li>
        ))}
      </ul>
    </>
  );
}

const STATUS_SYMBOL: Record<StaffStatus, string> = {
  available: "●",
  busy: "◐",
  away: "○",
  offline: "×",
};

/** A staff member's status: a shape and the word (never colour alone). */
export function StatusBadge(props: { status: StaffStatus }) {
  return (
    <span class={`status status-${props.status}`}>
      <span aria-hidden="true">{STATUS_SYMBOL[props.status]} </span>
      {t(`staff.${props.status}`)}
    </span>
  );
}

function StaffList(props: { staff: readonly StaffView[] }) {
  const { staff } = props;
  return (
    <section class="card" aria-labelledby="staff-heading">
      <h2 id="staff-heading">{t("booth.staff")}</h2>
      <p class="help" data-testid="on-duty">
        {onDutyText(staffOnDuty(staff))}
      </p>
      {staff.length === 0 ? (
        <p>{t("booth.noStaff")}</p>
      ) : (
        <ul class="staff-list">
          {staff.map((s) => (
            <li key={s.user}>
              <span class="name">{s.name}</span> <StatusBadge status={s.status} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
