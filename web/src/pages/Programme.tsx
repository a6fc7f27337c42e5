import { useComputed, useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { api, type EventInfo, type SessionView, type Speaker, type Track } from "../api";
import { Checkbox } from "../components/Checkbox";
import { SearchField } from "../components/SearchField";
import { Select } from "../components/Select";
import { dayKey, formatDay, formatTime, languageName, viewerZone } from "../format";
import { formatNumber, t } from "../i18n";
import { followLink } from "../router";
import { liveSessions } from "../session";

interface Loaded {
  event: EventInfo | null;
  tracks: Track[];
  speakers: Map<string, Speaker>;
  sessions: SessionView[];
}

interface Live {
  state: "live" | "break";
  present: number;
}

export function Programme() {
  const data = useSignal<Loaded | null>(null);
  const error = useSignal<string | null>(null);
  const day = useSignal("");
  const track = useSignal("");
  const tag = useSignal("");
  const language = useSignal("");
  const query = useSignal("");
  const liveOnly = useSignal(false);
  const heading = useRef<HTMLHeadingElement>(null);

  const load = () => {
    error.value = null;
    Promise.all([api.event(), api.tracks(), api.speakers(), api.sessions()])
      .then(([event, tracks, speakers, sessions]) => {
        sessions.sort((a, b) => Date.parse(a.starts_at) - Date.parse(b.starts_at));
        data.value = { event, tracks, speakers: new Map(speakers.map((s) => [s.id, s])), sessions };
      })
      .catch((e: unknown) => {
        error.value = t("programme.loadFailed", { message: e instanceof Error ? e.message : String(e) });
      });
  };

  useEffect(() => {
    heading.current?.focus();
    load();
  }, []);

  /** Live state: the event room's summaries once they arrive, the REST snapshot before. */
  const liveOf = (session: SessionView): Live | undefined => {
    const summaries = liveSessions.value;
    if (summaries) {
      const line = summaries.get(session.room);
      return line && (line.state === "live" || line.state === "break")
        ? { state: line.state, present: line.present }
        : undefined;
    }
    return session.live;
  };

  const options = useComputed(() => {
    const sessions = data.value?.sessions ?? [];
    const days = new Map<string, number>();
    const tags = new Set<string>();
    const languages = new Set<string>();
    for (const s of sessions) {
      const start = Date.parse(s.starts_at);
      if (!days.has(dayKey(start))) days.set(dayKey(start), start);
      for (const x of s.tags) tags.add(x);
      for (const x of s.languages) languages.add(x);
    }
    const natural = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true });
    return { days: [...days], tags: [...tags].sort(natural), languages: [...languages].sort() };
  });

  const loaded = data.value;
  const words = query.value.toLowerCase().split(/\s+/).filter(Boolean);
  const visible = (loaded?.sessions ?? []).filter(
    (s) =>
      (!day.value || dayKey(Date.parse(s.starts_at)) === day.value) &&
      (!track.value || s.track === track.value) &&
      (!tag.value || s.tags.includes(tag.value)) &&
      (!language.value || s.languages.includes(language.value)) &&
      (!liveOnly.value || liveOf(s) !== undefined) &&
      words.every(
        (w) =>
          s.title.toLowerCase().includes(w) ||
          s.description.toLowerCase().includes(w) ||
          s.tags.some((x) => x.toLowerCase() === w),
      ),
  );
  const trackName = new Map(loaded?.tracks.map((x) => [x.id, x.name]));

  return (
    <div class="programme">
      <h1 ref={heading} tabIndex={-1}>
        {loaded?.event?.name ?? t("programme.title")}
      </h1>
      {loaded?.event && (
        <p class="help">{t("programme.zoneNote", { viewer: viewerZone, event: loaded.event.time_zone })}</p>
      )}
      {error.value && (
        <div class="error" role="alert">
          <p>{error.value}</p>
          <button type="button" onClick={load}>
            {t("programme.retry")}
          </button>
        </div>
      )}
      {!loaded && !error.value && <p>{t("app.loading")}</p>}
      {loaded && (
        <>
          <search>
            <form class="filters" aria-label={t("programme.filters")} onSubmit={(e) => e.preventDefault()}>
              <Select label={t("programme.day")} value={day.value} onChange={(v) => (day.value = v)}>
                <option value="">{t("programme.allDays")}</option>
                {options.value.days.map(([key, ms]) => (
                  <option key={key} value={key}>
                    {formatDay(ms)}
                  </option>
                ))}
              </Select>
              <Select label={t("programme.track")} value={track.value} onChange={(v) => (track.value = v)}>
                <option value="">{t("programme.allTracks")}</option>
                {loaded.tracks.map((x) => (
                  <option key={x.id} value={x.id}>
                    {x.name}
                  </option>
                ))}
              </Select>
              <Select label={t("programme.tag")} value={tag.value} onChange={(v) => (tag.value = v)}>
                <option value="">{t("programme.allTags")}</option>
                {options.value.tags.map((x) => (
                  <option key={x} value={x}>
                    {x}
                  </option>
                ))}
              </Select>
              <Select
                label={t("programme.language")}
                value={language.value}
                onChange={(v) => (language.value = v)}
              >
                <option value="">{t("programme.allLanguages")}</option>
                {options.value.languages.map((x) => (
                  <option key={x} value={x}>
                    {languageName(x)}
                  </option>
                ))}
              </Select>
              <SearchField
                id="programme-search"
                label={t("programme.search")}
                placeholder={t("programme.searchPlaceholder")}
                value={query}
              />
              <Checkbox id="programme-live" label={t("programme.liveOnly")} value={liveOnly} />
            </form>
          </search>
          <p aria-live="polite" class="help">
            {visible.length === 1
              ? t("programme.countOne")
              : t("programme.count", { count: formatNumber(visible.length) })}
          </p>
          {loaded.sessions.length === 0 && <p>{t("programme.noEvent")}</p>}
          {loaded.sessions.length > 0 && visible.length === 0 && <p>{t("programme.empty")}</p>}
          <ul class="sessions">
            {visible.map((s) => (
              <li key={s.id}>
                <SessionCard
                  session={s}
                  live={liveOf(s)}
                  trackName={s.track ? trackName.get(s.track) : undefined}
                  speakers={s.speakers.map((id) => loaded.speakers.get(id)?.name ?? id)}
                />
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

function SessionCard(props: {
  session: SessionView;
  live: Live | undefined;
  trackName: string | undefined;
  speakers: string[];
}) {
  const { session, live } = props;
  const start = Date.parse(session.starts_at);
  const end = Date.parse(session.ends_at);
  return (
    <article class="session-card" aria-labelledby={`session-${session.id}`}>
      <header>
        <p class="when">
          <time dateTime={session.starts_at}>{formatDay(start)}</time>
          {", "}
          {t("programme.time", { start: formatTime(start), end: formatTime(end) })}
        </p>
        {live && (
          <p class={`badge ${live.state}`}>
            <span aria-hidden="true">● </span>
            {live.state === "live" ? t("programme.live") : t("programme.break")}
            {" · "}
            {t("programme.watching", { count: formatNumber(live.present) })}
          </p>
        )}
      </header>
      <h2 id={`session-${session.id}`}>
        <a href={`/sessions/${session.id}`} onClick={followLink}>
          {session.title}
        </a>
      </h2>
      {props.trackName && <p class="track">{props.trackName}</p>}
      {props.speakers.length > 0 && <p>{t("programme.speakers", { list: props.speakers.join(", ") })}</p>}
      {session.languages.length > 0 && (
        <p>{t("programme.languages", { list: session.languages.map(languageName).join(", ") })}</p>
      )}
      {session.tags.length > 0 && (
        <ul class="tags">
          {session.tags.map((x) => (
            <li key={x}>{x}</li>
          ))}
        </ul>
      )}
    </article>
  );
}
