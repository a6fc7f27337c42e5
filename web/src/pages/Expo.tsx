import { useComputed, useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { api, type Booth, type Track } from "../api";
import { SearchField } from "../components/SearchField";
import { Select } from "../components/Select";
import { type BoothCounts, filterBooths, Hall, hallOptions, hallTotals, sortBooths } from "../expo";
import { formatNumber, t } from "../i18n";
import { followLink } from "../router";
import { connection } from "../session";

/** Characters of a booth's description shown on its card. */
const SHORT_DESCRIPTION = 180;

interface Loaded {
  booths: Booth[];
  trackNames: Map<string, string>;
}

/** The exhibition hall: every booth with its live counts, filters, and a link to each. */
export function Expo() {
  const data = useSignal<Loaded | null>(null);
  const error = useSignal<string | null>(null);
  const track = useSignal("");
  const tag = useSignal("");
  const query = useSignal("");
  const hall = useSignal<Hall | null>(null);
  const spoken = useSignal("");
  const heading = useRef<HTMLHeadingElement>(null);

  const load = () => {
    error.value = null;
    Promise.all([api.booths(), api.tracks().catch((): Track[] => [])])
      .then(([booths, tracks]) => {
        data.value = {
          booths: sortBooths(booths),
          trackNames: new Map(tracks.map((x) => [x.id, x.name])),
        };
      })
      .catch((e: unknown) => {
        error.value = t("expo.loadFailed", { message: e instanceof Error ? e.message : String(e) });
      });
  };

  useEffect(() => {
    heading.current?.focus();
    document.title = `${t("expo.title")} · ${t("app.name")}`;
    load();
    const current = new Hall(connection);
    hall.value = current;
    return () => {
      current.dispose();
      hall.value = null;
      document.title = t("app.name");
    };
  }, []);

  const options = useComputed(() => hallOptions(data.value?.booths ?? []));
  const loaded = data.value;
  const visible = filterBooths(loaded?.booths ?? [], {
    track: track.value,
    tag: tag.value,
    query: query.value,
  });
  const counts = hall.value?.counts.value ?? null;
  const trackName = (id: string) => loaded?.trackNames.get(id) ?? id;

  /** Puts the counts of the booths shown into the polite live region, once, on request. */
  const readCounts = () => {
    let text: string;
    if (!counts) {
      text = t("expo.countsPending");
    } else {
      const totals = hallTotals(visible, counts);
      text = t("expo.countsSpoken", {
        booths: formatNumber(visible.length),
        visitors: formatNumber(totals.visitors),
        staff: formatNumber(totals.staff),
      });
    }
    // Cleared first, so the same words are announced again on a second press.
    spoken.value = "";
    window.setTimeout(() => {
      spoken.value = text;
    }, 100);
  };

  return (
    <div class="expo">
      <h1 ref={heading} tabIndex={-1}>
        {t("expo.title")}
      </h1>
      <p>{t("expo.intro")}</p>
      {error.value && (
        <div class="error" role="alert">
          <p>{error.value}</p>
          <button type="button" onClick={load}>
            {t("programme.retry")}
          </button>
        </div>
      )}
      {hall.value?.joinError.value && (
        <p class="error" role="alert">
          {t("expo.countsFailed", { message: hall.value.joinError.value.message })}
        </p>
      )}
      {!loaded && !error.value && <p>{t("app.loading")}</p>}
      {loaded && (
        <>
          <search>
            <form class="filters" aria-label={t("expo.filters")} onSubmit={(e) => e.preventDefault()}>
              <Select label={t("programme.track")} value={track.value} onChange={(v) => (track.value = v)}>
                <option value="">{t("programme.allTracks")}</option>
                {options.value.tracks.map((x) => (
                  <option key={x} value={x}>
                    {trackName(x)}
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
              <SearchField
                id="expo-search"
                label={t("programme.search")}
                placeholder={t("expo.searchPlaceholder")}
                value={query}
              />
            </form>
          </search>
          <div class="hall-summary">
            <p aria-live="polite" class="help">
              {visible.length === 1
                ? t("expo.countOne")
                : t("expo.count", { count: formatNumber(visible.length) })}
            </p>
            <button type="button" onClick={readCounts} disabled={visible.length === 0}>
              {t("expo.readCounts")}
            </button>
          </div>
          <div class="visually-hidden" aria-live="polite" aria-atomic="true" data-testid="expo-announcer">
            {spoken.value}
          </div>
          {loaded.booths.length === 0 && <p>{t("expo.none")}</p>}
          {loaded.booths.length > 0 && visible.length === 0 && <p>{t("expo.empty")}</p>}
          <ul class="booths">
            {visible.map((b) => (
              <li key={b.id}>
                <BoothCard
                  booth={b}
                  counts={counts ? (counts.get(b.id) ?? null) : undefined}
                  trackName={b.track ? trackName(b.track) : undefined}
                />
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/** "No visitors", "1 visitor", "14 visitors". */
export function visitorsText(n: number): string {
  return n === 0
    ? t("expo.visitorsNone")
    : n === 1
      ? t("expo.visitorsOne")
      : t("expo.visitors", { count: formatNumber(n) });
}

/** "No staff on duty", "1 staff member on duty", "2 staff members on duty". */
export function onDutyText(n: number): string {
  return n === 0
    ? t("expo.onDutyNone")
    : n === 1
      ? t("expo.onDutyOne")
      : t("expo.onDuty", { count: formatNumber(n) });
}

function shorten(text: string): string {
  if (text.length <= SHORT_DESCRIPTION) return text;
  const cut = text.slice(0, SHORT_DESCRIPTION);
  const space = cut.lastIndexOf(" ");
  return `${(space > SHORT_DESCRIPTION / 2 ? cut.slice(0, space) : cut).replace(/[\s.,;:]+$/, "")}…`;
}

/**
 * One booth in the hall. `counts`: undefined until the hall's first summary, null when the
 * summary does not list this booth.
 */
function BoothCard(props: {
  booth: Booth;
  counts: BoothCounts | null | undefined;
  trackName?: string | undefined;
}) {
  const { booth, counts } = props;
  return (
    <article class="booth-card" aria-labelledby={`booth-${booth.id}`}>
      <header>
        {booth.logo_url && <img class="logo" src={booth.logo_url} alt="" loading="lazy" />}
        <h2 id={`booth-${booth.id}`}>
          <a href={`/booths/${booth.id}`} onClick={followLink}>
            {booth.organisation}
          </a>
        </h2>
      </header>
      {props.trackName && <p class="track">{props.trackName}</p>}
      {booth.description && (
        <p class="description" dir="auto">
          {shorten(booth.description)}
        </p>
      )}
      {counts === undefined ? (
        <p class="booth-counts" data-testid={`counts-${booth.id}`}>
          {t("expo.countsLoading")}
        </p>
      ) : (
        <ul class="booth-counts" data-testid={`counts-${booth.id}`} aria-label={t("expo.liveCounts")}>
          <li>{visitorsText(counts?.visitors ?? 0)}</li>
          <li>{onDutyText(counts?.staff_on_duty ?? 0)}</li>
        </ul>
      )}
      {booth.tags.length > 0 && (
        <ul class="tags" aria-label={t("expo.tags")}>
          {booth.tags.map((x) => (
            <li key={x}>{x}</li>
          ))}
        </ul>
      )}
    </article>
  );
}
