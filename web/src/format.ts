// Dates and times in the viewer's time zone and locale.
import { locale } from "./i18n";

export const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

const timeFormat = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(locale, { weekday: "long", day: "numeric", month: "long" });

export const formatTime = (ms: number): string => timeFormat.format(ms);
export const formatDay = (ms: number): string => dayFormat.format(ms);

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
