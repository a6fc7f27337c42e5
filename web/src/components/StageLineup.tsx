// The moderators' view of a WebRTC stage's lineup: the raised hands, oldest first (who, a
// "speaker" badge, how long ago), each with "Bring on stage", and who was brought on (live or
// not yet), each with "Take off stage"; a new hand is announced to screen readers.
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { RequestError } from "../connection";
import { formatAgo, formatTime } from "../format";
import { t } from "../i18n";
import type { MessageKey } from "../i18n/en";
import type { RaisedHand, StageTrack, UserId } from "../proto.gen";
import type { LineupPart } from "../stageLineup";
import { type LineupRefusal, lineupRefusal } from "../stageRules";
import { ErrorAlert } from "./ErrorAlert";

const REFUSAL_TEXT: Record<LineupRefusal, MessageKey> = {
  forbidden: "lineup.refused.forbidden",
  full: "lineup.refused.full",
  tooFast: "lineup.refused.tooFast",
  notWebrtc: "lineup.refused.notWebrtc",
  failed: "lineup.refused.failed",
};
/** How often "raised 3 minutes ago" is brought up to date. */
const CLOCK_MS = 30_000;
/** Shortest gap between two spoken announcements of raised hands. */
const ANNOUNCE_INTERVAL_MS = 3_000;

export function StageLineup(props: { lineup: LineupPart; tracks: readonly StageTrack[]; me: UserId | null }) {
  const { lineup } = props;
  const hands = lineup.hands.value;
  const onStage = lineup.onStage.value;
  const busy = useSignal<UserId | null>(null);
  const failure = useSignal<string | null>(null);
  const now = useSignal(Date.now());
  const box = useRef<HTMLElement>(null);
  const live = new Set(props.tracks.map((track) => track.user));

  useEffect(() => {
    const timer = window.setInterval(() => {
      now.value = Date.now();
    }, CLOCK_MS);
    return () => window.clearInterval(timer);
  }, []);

  /** Brings `user` on or takes them off; their row moves, so the focus stays in the lineup. */
  const invite = async (user: UserId, on: boolean) => {
    busy.value = user;
    failure.value = null;
    try {
      await lineup.invite(user, on);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      const kind = e instanceof RequestError ? lineupRefusal(e.code) : "failed";
      failure.value = t(REFUSAL_TEXT[kind], { message });
    } finally {
      busy.value = null;
    }
    if (!document.activeElement || document.activeElement === document.body) {
      box.current?.querySelector<HTMLElement>("button:not(:disabled), h3")?.focus();
    }
  };

  return (
    <section class="stage-lineup" aria-labelledby="lineup-heading" ref={box}>
      <h3 id="lineup-heading" tabIndex={-1}>
        {t("lineup.heading")}
      </h3>
      <p class="help">{t("lineup.help")}</p>
      <HandAnnouncer lineup={lineup} me={props.me} />
      <ErrorAlert message={failure.value} />
      <h4 id="lineup-hands">{t("lineup.hands", { count: hands.length })}</h4>
      {hands.length === 0 ? (
        <p class="help">{t("lineup.noHands")}</p>
      ) : (
        <ul class="lineup-list" aria-labelledby="lineup-hands" data-testid="lineup-hands">
          {hands.map((hand) => (
            <li key={hand.user} class="lineup-person">
              <span class="lineup-name">{hand.name}</span>
              {hand.speaker && <span class="badge">{t("lineup.speaker")}</span>}
              <time
                class="lineup-since"
                dateTime={new Date(hand.at).toISOString()}
                title={formatTime(hand.at)}
              >
                {t("lineup.raised", { when: formatAgo(hand.at, now.value) })}
              </time>
              <button
                type="button"
                class="primary"
                aria-label={t("lineup.bringOnLabel", { name: hand.name })}
                disabled={busy.value === hand.user}
                onClick={() => invite(hand.user, true)}
              >
                {t("lineup.bringOn")}
              </button>
            </li>
          ))}
        </ul>
      )}
      <h4 id="lineup-on">{t("lineup.onStage", { count: onStage.length })}</h4>
      {onStage.length === 0 ? (
        <p class="help">{t("lineup.nobodyOn")}</p>
      ) : (
        <ul class="lineup-list" aria-labelledby="lineup-on" data-testid="lineup-on-stage">
          {onStage.map((member) => (
            <li key={member.user} class="lineup-person">
              <span class="lineup-name">{member.name}</span>
              <span class="lineup-since">
                {live.has(member.user) ? t("lineup.live") : t("lineup.notLive")}
              </span>
              <button
                type="button"
                class="danger"
                aria-label={t("lineup.takeOffLabel", { name: member.name })}
                disabled={busy.value === member.user}
                onClick={() => invite(member.user, false)}
              >
                {t("lineup.takeOff")}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** Says each newly raised hand politely, at most one announcement every few seconds. */
function HandAnnouncer(props: { lineup: LineupPart; me: UserId | null }) {
  const spoken = useSignal("");
  useEffect(() => {
    let last = 0;
    let pending: RaisedHand[] = [];
    let timer: number | undefined;
    const speak = () => {
      timer = undefined;
      const latest = pending.at(-1);
      const count = pending.length;
      pending = [];
      if (!latest) return;
      const name = latest.name;
      spoken.value =
        count > 1
          ? t("lineup.announce.many", { count, name })
          : t(latest.speaker ? "lineup.announce.speaker" : "lineup.announce.one", { name });
      last = Date.now();
    };
    props.lineup.onHandRaised = (hand) => {
      if (hand.user === props.me) return;
      pending.push(hand);
      if (timer === undefined)
        timer = window.setTimeout(speak, Math.max(0, last + ANNOUNCE_INTERVAL_MS - Date.now()));
    };
    return () => {
      props.lineup.onHandRaised = null;
      window.clearTimeout(timer);
    };
  }, [props.lineup, props.me]);
  return (
    <div class="visually-hidden" aria-live="polite" aria-atomic="true" data-testid="lineup-announcer">
      {spoken.value}
    </div>
  );
}
