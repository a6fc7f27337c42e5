// Dates and times in the viewer's time zone and locale.
import { formatNumber, locale, t } from "./i18n";

export const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

const timeFormat = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(locale, { weekday: "long", day: "numeric", month: "long" });

export const formatTime = (ms: number): string => timeFormat.format(ms);
export const formatDay = (ms: number): string => dayFormat.format(ms);

/** A duration to the second: "45 s", "2 min 5 s", "1 h 2 min". */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return t("duration.hours", { hours: formatNumber(hours), minutes: formatNumber(minutes) });
  if (minutes > 0) {
    return t("duration.minutes", { minutes: formatNumber(minutes), seconds: formatNumber(seconds) });
  }
  return t("duration.seconds", { seconds: formatNumber(seconds) });
}

const relative = (() => {
  try {
    return new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  } catch {
    return null;
  }
})();

/** How long before `now` the moment `at` was, in words: "just now", "3 minutes ago", "2 hours ago". */
export function formatAgo(at: number, now: number): string {
  const minutes = Math.floor(Math.max(0, now - at) / 60_000);
  if (minutes < 1) return t("time.justNow");
  const [value, unit]: [number, Intl.RelativeTimeFormatUnit] =
    minutes < 60 ? [minutes, "minute"] : [Math.floor(minutes / 60), "hour"];
  return relative?.format(-value, unit) ?? formatTime(at);
}

/** `YYYY-MM-DD` of `ms` in the viewer's zone: the key that groups the programme by day. */
export function dayKey(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

const languageNames = (() => {
  try {
    return new Intl.DisplayNames([locale], { type: "language" });
  } catch {
    return null;
  }
})();

export const languageName = (code: string): string => languageNames?.of(code) ?? code;

const regionNames = (() => {
  try {
    return new Intl.DisplayNames([locale], { type: "region" });
  } catch {
    return null;
  }
})();

export const countryName = (code: string): string => regionNames?.of(code) ?? code;
