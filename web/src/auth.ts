// The signed-in user's token: kept in localStorage so every tab shares it, taken from a
// `?token=` link once and then removed from the address bar (and so from history and
// bookmarks). The token is never logged.
import { signal } from "@preact/signals";

const STORAGE_KEY = "plenary.token";

export interface Credentials {
  token: string;
  /** The JWT `exp`, in Unix seconds. */
  expiresAt: number;
  name: string;
}

function decode(token: string): Credentials | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes)) as { exp?: unknown; name?: unknown };
    if (typeof claims.exp !== "number") return null;
    return { token, expiresAt: claims.exp, name: typeof claims.name === "string" ? claims.name : "" };
  } catch {
    return null;
  }
}

function stillValid(credentials: Credentials | null): Credentials | null {
  return credentials && credentials.expiresAt * 1000 > Date.now() ? credentials : null;
}

function initial(): Credentials | null {
  const url = new URL(window.location.href);
  const fromLink = url.searchParams.get("token");
  if (fromLink !== null) {
    url.searchParams.delete("token");
    window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
    const credentials = stillValid(decode(fromLink));
    if (credentials) {
      localStorage.setItem(STORAGE_KEY, fromLink);
      return credentials;
    }
  }
  const stored = localStorage.getItem(STORAGE_KEY);
  const credentials = stored ? stillValid(decode(stored)) : null;
  if (!credentials) localStorage.removeItem(STORAGE_KEY);
  return credentials;
}

/** The current credentials, or null when nobody is signed in. */
export const credentials = signal<Credentials | null>(initial());
/** Why the user was signed out, to show on the sign-in page. */
export const signOutReason = signal<string | null>(null);

export function signIn(token: string): boolean {
  const decoded = stillValid(decode(token));
  if (!decoded) return false;
  localStorage.setItem(STORAGE_KEY, token);
  signOutReason.value = null;
  credentials.value = decoded;
  return true;
}

export function signOut(reason: string | null = null): void {
  localStorage.removeItem(STORAGE_KEY);
  signOutReason.value = reason;
  credentials.value = null;
}

// Another tab signed in or out.
window.addEventListener("storage", (event) => {
  if (event.key !== STORAGE_KEY) return;
  credentials.value = event.newValue ? stillValid(decode(event.newValue)) : null;
});
