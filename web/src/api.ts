// The node's REST API as the client uses it (the full API is described at
// /api/openapi.json). Every call rejects with an ApiError carrying a readable message.

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

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function request<T>(path: string, init?: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers: { accept: "application/json", ...init?.headers } });
  } catch {
    throw new ApiError(0, "the server cannot be reached");
  }
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = (await response.json()) as { error?: string; detail?: string; title?: string };
      message = body.detail ?? body.error ?? body.title ?? message;
    } catch {
      // Not JSON: keep the status line.
    }
    throw new ApiError(response.status, message);
  }
  return (await response.json()) as T;
}

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
};
