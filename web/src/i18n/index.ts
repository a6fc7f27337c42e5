// Looks up UI strings in the active catalogue. English is complete; a catalogue for
// another language may leave keys out, and those fall back to English.
import { type Catalogue, en, type MessageKey } from "./en";

/** Languages written right to left (of the six UN languages: Arabic). */
const RTL = new Set(["ar", "he", "fa", "ur"]);

const catalogues: Record<string, Partial<Catalogue>> = { en };

function pickLocale(): string {
  const params = new URLSearchParams(window.location.search);
  const wanted = [params.get("lang"), ...navigator.languages].filter((l): l is string => Boolean(l));
  for (const tag of wanted) {
    const base = tag.toLowerCase().split("-")[0] ?? "";
    if (base in catalogues || RTL.has(base)) return base;
  }
  return "en";
}

export const locale = pickLocale();
const active: Partial<Catalogue> = catalogues[locale] ?? en;

/** The writing direction of the active locale. */
export const dir: "ltr" | "rtl" = RTL.has(locale) ? "rtl" : "ltr";

/** The string for `key`, with `{name}` placeholders replaced from `values`. */
export function t(key: MessageKey, values?: Record<string, string | number>): string {
  const template = active[key] ?? en[key];
  if (!values) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = values[name];
    return value === undefined ? whole : String(value);
  });
}

/** Numbers in the viewer's locale. */
export const formatNumber = (n: number): string => new Intl.NumberFormat(locale).format(n);
