import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import type { RequestError } from "../connection";
import { formatNumber, t } from "../i18n";
import type { MessageKey } from "../i18n/en";
import {
  InputLimits,
  type Membership,
  type MessageId,
  type QaAction,
  type QuestionState,
  type QuestionView,
  type UserId,
} from "../proto.gen";
import type { QaPart } from "../qa";
import { followLink } from "../router";
import { Checkbox } from "./Checkbox";
import { ErrorAlert } from "./ErrorAlert";

/** Longest question the node accepts, in characters. */
const MAX_QUESTION_CHARS = InputLimits.question_max_chars;
/** Shortest gap between two spoken announcements of new questions. */
const ANNOUNCE_INTERVAL_MS = 5_000;

const stateLabel = (state: QuestionState): string => t(`qa.state.${state}` as MessageKey);

const byVotes = (a: QuestionView, b: QuestionView) => b.votes - a.votes || b.asked_at - a.asked_at;
const byTime = (a: QuestionView, b: QuestionView) => b.asked_at - a.asked_at;

/** The session's Q&A: ask, vote, see what is on stage; for moderators, the desk. */
export function QaPanel(props: {
  qa: QaPart;
  you: Membership;
  me: UserId;
  sessionId: string;
  settings: { moderated: boolean; anonymous: boolean };
}) {
  const { qa, you, me } = props;
  qa.version.value; // re-render on every Q&A change
  const all = [...qa.questions.values()];
  return (
    <section class="qa card" aria-labelledby="qa-heading">
      <div class="qa-header">
        <h2 id="qa-heading">{t("qa.title")}</h2>
        <a href={`/sessions/${props.sessionId}/presenter`} onClick={followLink}>
          {t("qa.presenter.open")}
        </a>
      </div>
      <QuestionAnnouncer qa={qa} me={me} />
      {you.can_chat && <AskForm qa={qa} settings={props.settings} />}
      {you.can_moderate ? <Desk qa={qa} questions={all} /> : <AudienceList qa={qa} questions={all} me={me} />}
    </section>
  );
}

function AskForm(props: { qa: QaPart; settings: { moderated: boolean; anonymous: boolean } }) {
  const text = useSignal("");
  const anonymous = useSignal(false);
  const busy = useSignal(false);
  const result = useSignal<{ ok: boolean; text: string } | null>(null);
  const length = [...text.value].length;
  const submit = async (event: Event) => {
    event.preventDefault();
    const value = text.value.trim();
    if (!value || length > MAX_QUESTION_CHARS) return;
    busy.value = true;
    result.value = null;
    try {
      await props.qa.ask(value, anonymous.value && props.settings.anonymous);
      text.value = "";
      result.value = { ok: true, text: props.settings.moderated ? t("qa.ask.sent") : t("qa.ask.published") };
    } catch (e) {
      result.value = { ok: false, text: t("qa.ask.failed", { message: (e as RequestError).message }) };
    } finally {
      busy.value = false;
    }
  };
  return (
    <form class="ask" onSubmit={submit}>
      <label for="qa-input">{t("qa.ask.label")}</label>
      <textarea
        id="qa-input"
        rows={2}
        dir="auto"
        value={text.value}
        aria-describedby="qa-ask-help"
        aria-invalid={length > MAX_QUESTION_CHARS}
        onInput={(e) => {
          text.value = e.currentTarget.value;
        }}
      />
      <p id="qa-ask-help" class="help">
        {props.settings.moderated ? t("qa.ask.moderated") : ""}{" "}
        {length > MAX_QUESTION_CHARS * 0.8 ? t("chat.remaining", { count: MAX_QUESTION_CHARS - length }) : ""}
      </p>
      <div class="composer-row">
        <Checkbox
          id="qa-anonymous"
          label={t("qa.ask.anonymous")}
          value={anonymous}
          hidden={!props.settings.anonymous}
        />
        <button
          type="submit"
          class="primary"
          disabled={busy.value || !text.value.trim() || length > MAX_QUESTION_CHARS}
        >
          {t("qa.ask.submit")}
        </button>
      </div>
      <p role="status" class={result.value && !result.value.ok ? "error-text" : "help"}>
        {result.value?.text ?? ""}
      </p>
    </form>
  );
}

function AudienceList(props: { qa: QaPart; questions: QuestionView[]; me: UserId }) {
  const sort = useSignal<"top" | "newest">("top");
  const { questions, me } = props;
  const live = questions.find((q) => q.state === "live");
  const open = questions.filter((q) => q.state === "published").sort(sort.value === "top" ? byVotes : byTime);
  const answered = questions.filter((q) => q.state === "answered").sort(byTime);
  const mine = questions.filter(
    (q) => q.asker?.id === me && (q.state === "pending" || q.state === "dismissed" || q.state === "hidden"),
  );
  return (
    <div>
      {live && (
        <div class="qa-live">
          <h3>{t("qa.live")}</h3>
          <QuestionItem qa={props.qa} question={live} me={me} />
        </div>
      )}
      <fieldset class="qa-sort">
        <legend>{t("qa.sort")}</legend>
        {(["top", "newest"] as const).map((value) => (
          <label key={value} class="inline">
            <input
              type="radio"
              name="qa-sort"
              value={value}
              checked={sort.value === value}
              onChange={() => {
                sort.value = value;
              }}
            />{" "}
            {value === "top" ? t("qa.sort.top") : t("qa.sort.newest")}
          </label>
        ))}
      </fieldset>
      {open.length === 0 && !live && <p class="help">{t("qa.empty")}</p>}
      <ul class="questions">
        {open.map((q) => (
          <li key={q.id}>
            <QuestionItem qa={props.qa} question={q} me={me} />
          </li>
        ))}
      </ul>
      {mine.length > 0 && (
        <>
          <h3>{t("qa.yours")}</h3>
          <ul class="questions">
            {mine.map((q) => (
              <li key={q.id}>
                <QuestionItem qa={props.qa} question={q} me={me} />
              </li>
            ))}
          </ul>
        </>
      )}
      {answered.length > 0 && (
        <details>
          <summary>{t("qa.answered", { count: answered.length })}</summary>
          <ul class="questions">
            {answered.map((q) => (
              <li key={q.id}>
                <QuestionItem qa={props.qa} question={q} me={me} />
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

function QuestionItem(props: { qa: QaPart; question: QuestionView; me: UserId }) {
  const { qa, question: q } = props;
  const failure = useSignal<string | null>(null);
  const voted = qa.myVotes.value.has(q.id);
  const votable = q.state === "published" || q.state === "live";
  const mine = q.asker?.id === props.me;
  return (
    <article class={`question ${q.state}`} data-id={q.id} aria-label={q.text}>
      <p class="text" dir="auto">
        {q.text}
      </p>
      <QuestionMeta question={q} />
      <div class="message-actions">
        {votable && (
          <button
            type="button"
            class="small"
            aria-pressed={voted}
            aria-label={voted ? t("qa.unvote") : t("qa.vote")}
            onClick={() => {
              failure.value = null;
              qa.vote(q.id, !voted).catch((e: RequestError) => {
                failure.value = e.message;
              });
            }}
          >
            {voted ? "▲ " : "△ "}
            {formatNumber(q.votes)}
          </button>
        )}
        {mine && (q.state === "pending" || q.state === "published" || q.state === "hidden") && (
          <button
            type="button"
            class="small"
            onClick={() => {
              qa.withdraw(q.id).catch((e: RequestError) => {
                failure.value = e.message;
              });
            }}
          >
            {t("qa.withdraw")}
          </button>
        )}
      </div>
      <ErrorAlert message={failure.value} />
    </article>
  );
}

/** Who asked, the state in words, the shortlist mark (moderators' views only) and the votes. */
function QuestionMeta(props: { question: QuestionView }) {
  const q = props.question;
  return (
    <p class="meta">
      <span>{q.asker ? q.asker.name : t("qa.anonymous")}</span>
      <span class="tag">{stateLabel(q.state)}</span>
      {q.starred && <span class="tag">{t("qa.desk.starred")}</span>}
      <span data-testid="votes">
        {q.votes === 1 ? t("qa.votesOne") : t("qa.votes", { count: formatNumber(q.votes) })}
      </span>
    </p>
  );
}

type DeskFilter = "queue" | "open" | "done" | "dismissed";

const DESK_STATES: Record<DeskFilter, QuestionState[]> = {
  queue: ["pending"],
  open: ["live", "published"],
  done: ["answered"],
  dismissed: ["dismissed", "hidden"],
};

/** Desk shortcuts: key → the action it runs, when the question offers it. */
const SHORTCUTS: Record<string, QaAction[]> = {
  a: ["approve"],
  d: ["dismiss"],
  s: ["star", "unstar"],
  h: ["highlight", "unhighlight"],
  x: ["answered"],
};

function Desk(props: { qa: QaPart; questions: QuestionView[] }) {
  const filter = useSignal<DeskFilter>("queue");
  const list = useRef<HTMLUListElement>(null);
  // Shortcuts act on the question whose controls have focus: the desk is driven from the
  // keyboard without reaching for each button.
  useEffect(() => {
    const element = list.current;
    if (!element) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const target = event.target as HTMLElement;
      if (target.closest("textarea, input, select")) return;
      const actions = SHORTCUTS[event.key.toLowerCase()];
      const item = target.closest<HTMLElement>("[data-id]");
      if (!actions || !item) return;
      const button = actions
        .map((a) => item.querySelector<HTMLButtonElement>(`button[data-action="${a}"]`))
        .find((b) => b !== null);
      if (button) {
        event.preventDefault();
        button.click();
      }
    };
    element.addEventListener("keydown", onKey);
    return () => element.removeEventListener("keydown", onKey);
  }, []);
  const counts = Object.fromEntries(
    (Object.keys(DESK_STATES) as DeskFilter[]).map((f) => [
      f,
      props.questions.filter((q) => DESK_STATES[f].includes(q.state)).length,
    ]),
  ) as Record<DeskFilter, number>;
  const shown = props.questions
    .filter((q) => DESK_STATES[filter.value].includes(q.state))
    .sort(
      (a, b) =>
        (a.state === "live" ? -1 : b.state === "live" ? 1 : 0) ||
        Number(b.starred) - Number(a.starred) ||
        (a.rank ?? Number.MAX_SAFE_INTEGER) - (b.rank ?? Number.MAX_SAFE_INTEGER) ||
        byVotes(a, b),
    );
  const mergeTargets = props.questions.filter((q) => q.state === "published" || q.state === "live");
  const labels: Record<DeskFilter, string> = {
    queue: t("qa.desk.queue", { count: counts.queue }),
    open: t("qa.desk.open", { count: counts.open }),
    done: t("qa.desk.done", { count: counts.done }),
    dismissed: t("qa.desk.dismissed", { count: counts.dismissed }),
  };
  return (
    <div class="desk">
      <h3>{t("qa.desk.title")}</h3>
      <fieldset class="qa-sort">
        <legend>{t("qa.desk.filter")}</legend>
        {(Object.keys(DESK_STATES) as DeskFilter[]).map((f) => (
          <label key={f} class="inline">
            <input
              type="radio"
              name="qa-desk-filter"
              value={f}
              checked={filter.value === f}
              onChange={() => {
                filter.value = f;
              }}
            />{" "}
            {labels[f]}
          </label>
        ))}
      </fieldset>
      <p class="help">{t("qa.desk.shortcuts")}</p>
      {shown.length === 0 && <p class="help">{t("qa.desk.empty")}</p>}
      <ul class="questions" ref={list}>
        {shown.map((q) => (
          <li key={q.id}>
            <DeskItem
              qa={props.qa}
              question={q}
              mergeTargets={mergeTargets.filter((m) => m.id !== q.id)}
              topRank={Math.min(0, ...props.questions.map((x) => x.rank ?? 0))}
            />
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The actions each state offers a moderator (PROTOCOL.md, qa_moderate). */
const DESK_ACTIONS: Record<QuestionState, QaAction[]> = {
  pending: ["approve", "dismiss", "star", "delete"],
  published: ["highlight", "answered", "hide", "dismiss", "star", "delete"],
  hidden: ["unhide", "dismiss", "delete"],
  live: ["unhighlight", "answered", "delete"],
  answered: ["reopen", "delete"],
  dismissed: ["restore", "delete"],
  withdrawn: ["delete"],
  merged: ["delete"],
};

function DeskItem(props: {
  qa: QaPart;
  question: QuestionView;
  mergeTargets: QuestionView[];
  topRank: number;
}) {
  const { qa, question: q } = props;
  const editing = useSignal<string | null>(null);
  const failure = useSignal<string | null>(null);
  const mergeInto = useSignal("");
  const run = (action: QaAction, extra: { text?: string; into?: QuestionView; rank?: number } = {}) => {
    failure.value = null;
    qa.moderate(q, action, extra).then(
      () => {
        editing.value = null;
      },
      (e: RequestError) => {
        failure.value = t("mod.failed", { message: e.message });
      },
    );
  };
  const actions = DESK_ACTIONS[q.state].map((a) => (a === "star" && q.starred ? "unstar" : a));
  return (
    <article class={`question ${q.state}`} data-id={q.id} aria-label={q.text}>
      {editing.value === null ? (
        <p class="text" dir="auto">
          {q.text}
        </p>
      ) : (
        <div>
          <label for={`edit-${q.id}`}>{t("qa.ask.label")}</label>
          <textarea
            id={`edit-${q.id}`}
            rows={2}
            value={editing.value}
            onInput={(e) => {
              editing.value = e.currentTarget.value;
            }}
          />
        </div>
      )}
      <QuestionMeta question={q} />
      <div class="message-actions">
        {editing.value !== null ? (
          <>
            <button
              type="button"
              class="small primary"
              onClick={() => run("approve", { text: editing.value ?? "" })}
            >
              {t("qa.action.saveApprove")}
            </button>
            <button
              type="button"
              class="small"
              onClick={() => {
                editing.value = null;
              }}
            >
              {t("qa.action.cancel")}
            </button>
          </>
        ) : (
          actions.map((action) => (
            <button
              key={action}
              type="button"
              data-action={action}
              class={action === "delete" ? "small danger" : "small"}
              aria-label={t("qa.action.label", {
                action: t(`qa.action.${action}` as MessageKey),
                text: q.text,
              })}
              onClick={() => {
                if (action === "delete" && !window.confirm(t("qa.action.deleteConfirm"))) return;
                run(action);
              }}
            >
              {t(`qa.action.${action}` as MessageKey)}
            </button>
          ))
        )}
        {q.starred && editing.value === null && (
          <button type="button" class="small" onClick={() => run("rank", { rank: props.topRank - 1 })}>
            {t("qa.action.rankUp")}
          </button>
        )}
        {q.state === "pending" && editing.value === null && (
          <button
            type="button"
            class="small"
            onClick={() => {
              editing.value = q.text;
            }}
          >
            {t("qa.action.editApprove")}
          </button>
        )}
      </div>
      {(q.state === "pending" || q.state === "published" || q.state === "hidden") &&
        props.mergeTargets.length > 0 && (
          <div class="composer-row merge">
            <label class="inline" for={`merge-${q.id}`}>
              {t("qa.action.mergeInto")}
            </label>
            <select
              id={`merge-${q.id}`}
              value={mergeInto.value}
              onChange={(e) => {
                mergeInto.value = e.currentTarget.value;
              }}
            >
              <option value="">{t("qa.action.mergeNone")}</option>
              {props.mergeTargets.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.text.length > 60 ? `${m.text.slice(0, 60)}…` : m.text}
                </option>
              ))}
            </select>
            <button
              type="button"
              class="small"
              disabled={!mergeInto.value}
              onClick={() => {
                const target = props.mergeTargets.find((m) => m.id === mergeInto.value);
                if (target) run("merge", { into: target });
              }}
            >
              {t("qa.action.merge")}
            </button>
          </div>
        )}
      <ErrorAlert message={failure.value} />
    </article>
  );
}

/** Announces new questions politely, at most one announcement every few seconds. */
function QuestionAnnouncer(props: { qa: QaPart; me: UserId }) {
  const spoken = useSignal("");
  useEffect(() => {
    let last = 0;
    let pending: QuestionView | null = null;
    let timer: number | undefined;
    const speak = () => {
      timer = undefined;
      if (!pending) return;
      spoken.value = t("qa.announce.new", {
        name: pending.asker?.name ?? t("qa.anonymous"),
        text: pending.text,
      });
      pending = null;
      last = Date.now();
    };
    props.qa.onNewQuestion = (q) => {
      if (q.asker?.id === props.me) return;
      pending = q;
      if (timer === undefined)
        timer = window.setTimeout(speak, Math.max(0, last + ANNOUNCE_INTERVAL_MS - Date.now()));
    };
    return () => {
      props.qa.onNewQuestion = null;
      window.clearTimeout(timer);
    };
  }, [props.qa, props.me]);
  return (
    <div class="visually-hidden" aria-live="polite" aria-atomic="true">
      {spoken.value}
    </div>
  );
}

/** For a speaker's screen or a projector: the question on stage, large, and the top ones. */
export function PresenterQuestions(props: { qa: QaPart }) {
  props.qa.version.value;
  const questions = [...props.qa.questions.values()];
  const live = questions.find((q) => q.state === "live");
  const next = questions
    .filter((q) => q.state === "published")
    .sort(byVotes)
    .slice(0, 3);
  return (
    <div class="presenter">
      <section aria-labelledby="presenter-live">
        <h2 id="presenter-live">{t("qa.live")}</h2>
        {live ? (
          <blockquote class="presenter-question" dir="auto" data-testid="presenter-live">
            <p>{live.text}</p>
            <footer>{live.asker ? live.asker.name : t("qa.anonymous")}</footer>
          </blockquote>
        ) : (
          <p class="help">{t("qa.presenter.none")}</p>
        )}
      </section>
      {next.length > 0 && (
        <section aria-labelledby="presenter-next">
          <h2 id="presenter-next">{t("qa.presenter.next")}</h2>
          <ol>
            {next.map((q: QuestionView) => (
              <li key={q.id as MessageId} dir="auto">
                {q.text} ({q.votes === 1 ? t("qa.votesOne") : t("qa.votes", { count: formatNumber(q.votes) })}
                )
              </li>
            ))}
          </ol>
        </section>
      )}
    </div>
  );
}
