// A visitor's contact card as the card form edits it: the fields, what goes on the wire,
// and which field a validation problem names.
import type { ContactCard } from "./api";

export type CardField = keyof ContactCard;

/** Every field, empty. */
export const EMPTY_CARD: Record<CardField, string> = {
  name: "",
  email: "",
  organisation: "",
  job_title: "",
  phone: "",
  note: "",
};

/** The field a problem's `location` names (`card.email`, `/card/email`, `email`), if any. */
export function fieldOf(location: string): CardField | "consent" | null {
  const last = location.split(/[./]/).filter(Boolean).at(-1) ?? "";
  if (last === "consent") return "consent";
  return Object.hasOwn(EMPTY_CARD, last) ? (last as CardField) : null;
}

/** The card to send: trimmed, optional fields left out when empty. */
export function cardOf(values: Record<CardField, string>): ContactCard {
  const card: ContactCard = { name: values.name.trim(), email: values.email.trim() };
  for (const field of ["organisation", "job_title", "phone", "note"] as const) {
    const value = values[field].trim();
    if (value) card[field] = value;
  }
  return card;
}

/** Whether `email` looks like an address (the node checks the same shape). */
export function looksLikeEmail(email: string): boolean {
  const at = email.indexOf("@");
  const domain = email.slice(at + 1);
  return (
    at > 0 &&
    !/\s/.test(email) &&
    !domain.includes("@") &&
    domain.includes(".") &&
    !domain.startsWith(".") &&
    !domain.endsWith(".")
  );
}
