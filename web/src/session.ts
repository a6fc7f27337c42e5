// The tab's live session with the node: one Connection while someone is signed in, and
// the event room (announcements, which sessions are live and how many watch them), which
// every page shares.
import { effect, signal } from "@preact/signals";
import { credentials, signOut } from "./auth";
import { Connection } from "./connection";
import { t } from "./i18n";
import { type Announcement, CloseCode, type SessionAttendance } from "./proto.gen";

export const EVENT_ROOM = "event";

export const connection = new Connection(
  () => credentials.peek()?.token ?? null,
  (code, reason) => {
    if (code === CloseCode.removed) {
      signOut(t("signin.removed", { message: reason }));
    } else if (code === CloseCode.token_expired || code === CloseCode.invalid_token) {
      signOut(
        code === CloseCode.token_expired
          ? t("signin.expired")
          : t("signin.error.tokenRejected", { message: reason }),
      );
    }
  },
);

/** Sessions live or on a break now, by room, from the event room's summaries. */
export const liveSessions = signal<ReadonlyMap<string, SessionAttendance> | null>(null);
/** The newest announcement, until dismissed. */
export const announcement = signal<Announcement | null>(null);

let leaveEventRoom: (() => void) | null = null;

effect(() => {
  const signedIn = credentials.value !== null;
  if (signedIn && !leaveEventRoom) {
    connection.start();
    leaveEventRoom = connection.join(EVENT_ROOM, {
      snapshot: (s) => {
        announcement.value = s.announcements?.at(-1) ?? null;
      },
      event: (e) => {
        if (e.type === "announcement") announcement.value = e.announcement;
      },
      summary: (sessions) => {
        liveSessions.value = new Map(sessions.map((s) => [s.room, s]));
      },
    });
  } else if (!signedIn && leaveEventRoom) {
    leaveEventRoom();
    leaveEventRoom = null;
    connection.stop();
    liveSessions.value = null;
    announcement.value = null;
  }
});
