// The node's REST API as the client uses it (the full API is described at
// /api/openapi.json). Every call rejects with an ApiError carrying a readable message.
// Calls about the signed-in user send its token as a bearer token (it is not a cookie).
import { credentials } from "./auth";
import type { RoomId, UserId, UserProfile } from "./proto.gen";

export type StageSource =
  | { kind: "none" }
  | { kind: "hls"; url: string }
  | { kind: "embed"; url: string }
  | { kind: "webrtc" };

export interface EventInfo {
  name: string;
  time_zone: string;
  starts_on: string;
  ends_on: string;
}

export interface Track {
  id: string;
  name: string;
  description: string;
  position: number;
}

export interface Speaker {
  id: string;
  name: string;
  affiliation: string;
}

export interface LiveNow {
  state: "live" | "break";
  present: number;
}

export interface SessionView {
  id: string;
  title: string;
  description: string;
  kind: string;
  starts_at: string;
  ends_at: string;
  track?: string;
  languages: string[];
  tags: string[];
  speakers: string[];
  stage: StageSource;
  /** How the session's Q&A runs. */
  qa?: { moderated: boolean; anonymous: boolean };
  room: string;
  live?: LiveNow;
}

export interface ClientConfig {
  guest_signin: boolean;
  protocol: number[];
  chat_max_chars: number;
}

export interface GuestToken {
  token: string;
  user: string;
  expires_at: number;
}

/** An exhibition booth, as the programme has it. */
export interface Booth {
  id: string;
  organisation: string;
  description: string;
  links: string[];
  logo_url?: string;
  track?: string;
  tags: string[];
  /** User ids of its staff. */
  staff: string[];
}

/** What a booth's staff may edit of it. */
export interface BoothProfile {
  description: string;
  links: string[];
  logo_url?: string;
  tags: string[];
}

/** A visitor's contact card, shared with a booth. */
export interface ContactCard {
  name: string;
  email: string;
  organisation?: string;
  job_title?: string;
  phone?: string;
  note?: string;
}

export interface SharedCard {
  card: ContactCard;
  /** When it was shared, in Unix ms. */
  shared_at: number;
}

/** A card shared with a booth, as its staff see it. */
export interface Lead extends SharedCard {
  visitor: string | UserProfile;
}

export interface BoothAnalytics {
  booth: string;
  visits: number;
  unique_visitors: number;
  average_dwell_ms: number;
  requests_answered: number;
  requests_missed: number;
  callbacks_waiting: number;
}

/** One field a validation problem (422) names. */
export interface FieldError {
  location: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The fields at fault, for a validation problem. */
    readonly errors: FieldError[] = [],
  ) {
    super(message);
  }
}

function bearer(): Record<string, string> {
  const token = credentials.peek()?.token;
  return token ? { authorization: `Bearer ${token}` } : {};
}

async function send(path: string, init?: RequestInit, signedIn = false): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(path, {
      ...init,
      headers: { accept: "application/json", ...(signedIn ? bearer() : {}), ...init?.headers },
    });
  } catch {
    throw new ApiError(0, "the server cannot be reached");
  }
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    let errors: FieldError[] = [];
    try {
      const body = (await response.json()) as {
        error?: string;
        detail?: string;
        title?: string;
        errors?: FieldError[];
      };
      message = body.detail ?? body.error ?? body.title ?? message;
      if (Array.isArray(body.errors)) errors = body.errors;
    } catch {
      // Not JSON: keep the status line.
    }
    throw new ApiError(response.status, message, errors);
  }
  return response;
}

async function request<T>(path: string, init?: RequestInit, signedIn = false): Promise<T> {
  const response = await send(path, init, signedIn);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** A request as the signed-in user, with a JSON body. */
function authed<T>(method: string, path: string, body?: unknown): Promise<T> {
  return request<T>(
    path,
    body === undefined
      ? { method }
      : { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) },
    true,
  );
}

const booth = (id: string) => `/api/booths/${encodeURIComponent(id)}`;

export const api = {
  client: () => request<ClientConfig>("/api/client"),
  event: async (): Promise<EventInfo | null> => {
    try {
      return await request<EventInfo>("/api/event");
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  },
  tracks: () => request<Track[]>("/api/tracks"),
  speakers: () => request<Speaker[]>("/api/speakers"),
  sessions: () => request<SessionView[]>("/api/sessions"),
  session: (id: string) => request<SessionView>(`/api/sessions/${encodeURIComponent(id)}`),
  guest: (name: string, country: string | null) =>
    request<GuestToken>("/api/guest", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(country ? { name, country } : { name }),
    }),
  /**
   * Removes someone from a room (moderators of it and organisers) for `minutes`: their
   * connections close and the room refuses them until then.
   */
  removeFromRoom: (user: UserId, room: RoomId, minutes: number) =>
    authed<unknown>("POST", "/api/bans", { user, room, minutes }),
  booths: () => request<Booth[]>("/api/booths"),
  booth: (id: string) => request<Booth>(booth(id)),
  /** The card this user shared with the booth, or null. */
  lead: async (id: string): Promise<SharedCard | null> => {
    try {
      return await authed<SharedCard>("GET", `${booth(id)}/lead`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  },
  shareLead: (id: string, card: ContactCard) =>
    authed<SharedCard>("PUT", `${booth(id)}/lead`, { card, consent: true }),
  withdrawLead: (id: string) => authed<void>("DELETE", `${booth(id)}/lead`),
  /** Booth staff: the cards visitors shared. */
  leads: (id: string) => authed<Lead[]>("GET", `${booth(id)}/leads`),
  /** Booth staff: the cards as a CSV file. */
  leadsCsv: async (id: string): Promise<Blob> =>
    (await send(`${booth(id)}/leads.csv`, { headers: { accept: "text/csv" } }, true)).blob(),
  analytics: (id: string) => authed<BoothAnalytics>("GET", `${booth(id)}/analytics`),
  updateProfile: (id: string, profile: BoothProfile) => authed<Booth>("PUT", `${booth(id)}/profile`, profile),
};
