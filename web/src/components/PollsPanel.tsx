import { useSignal } from "@preact/signals";
import type { RequestError } from "../connection";
import { formatNumber, t } from "../i18n";
import type { MessageKey } from "../i18n/en";
import type { PollsPart } from "../polls";
import { InputLimits, type Membership, type PollResults, type PollView } from "../proto.gen";
import { Checkbox } from "./Checkbox";
import { ErrorAlert } from "./ErrorAlert";

/** The session's polls: answer them; moderators draft, open, close and delete them. */
export function PollsPanel(props: { polls: PollsPart; you: Membership }) {
  const { polls, you } = props;
  polls.version.value; // re-render on every poll change
  const all = [...polls.polls.values()].sort((a, b) => b.created_at - a.created_at);
  const visible = you.can_moderate ? all : all.filter((p) => p.state !== "draft");
  return (
    <section class="polls card" aria-labelledby="polls-heading">
      <h2 id="polls-heading">{t("poll.title")}</h2>
      {you.can_moderate && <CreatePoll polls={polls} />}
      {visible.length === 0 && <p class="help">{t("poll.empty")}</p>}
      <ul class="questions">
        {visible.map((p) => (
          <li key={p.id}>
            <Poll polls={polls} poll={p} moderator={you.can_moderate} />
          </li>
        ))}
      </ul>
    </section>
  );
}

function Poll(props: { polls: PollsPart; poll: PollView; moderator: boolean }) {
  const { polls, poll } = props;
  const mine = polls.myAnswers.value.get(poll.id);
  const picked = useSignal<number[]>(mine ?? []);
  const failure = useSignal<string | null>(null);
  const inputName = `poll-${poll.id}`;
  const canAnswer = poll.state === "open" && (!mine || poll.changeable);
  const submit = (event: Event) => {
    event.preventDefault();
    failure.value = null;
    polls.answer(poll.id, picked.value).catch((e: RequestError) => {
      failure.value = t("poll.failed", { message: e.message });
    });
  };
  const act = (action: "open" | "close" | "delete") => {
    if (action === "delete" && !window.confirm(t("poll.action.deleteConfirm"))) return;
    failure.value = null;
    polls.control(poll, action).catch((e: RequestError) => {
      failure.value = t("mod.failed", { message: e.message });
    });
  };
  return (
    <article class={`question poll ${poll.state}`} aria-label={poll.question}>
      <form onSubmit={submit}>
        <fieldset disabled={!canAnswer}>
          <legend dir="auto">
            {poll.question} <span class="tag">{t(`poll.state.${poll.state}` as MessageKey)}</span>
          </legend>
          {poll.options.map((option, index) => (
            <label key={option} class="inline option">
              <input
                type={poll.multiple ? "checkbox" : "radio"}
                name={inputName}
                value={index}
                checked={picked.value.includes(index)}
                onChange={(e) => {
                  const on = e.currentTarget.checked;
                  picked.value = poll.multiple
                    ? on
                      ? [...picked.value, index].sort()
                      : picked.value.filter((c) => c !== index)
                    : [index];
                }}
              />{" "}
              <span dir="auto">{option}</span>
            </label>
          ))}
          {canAnswer && (
            <button type="submit" class="small primary" disabled={picked.value.length === 0}>
              {mine ? t("poll.change") : t("poll.submit")}
            </button>
          )}
        </fieldset>
      </form>
      {mine && (
        <p class="help">
          {t("poll.answered", { choices: mine.map((c) => poll.options[c] ?? String(c)).join(", ") })}
        </p>
      )}
      <Tally poll={poll} />
      {props.moderator && (
        <div class="message-actions">
          {poll.state === "draft" && (
            <button
              type="button"
              class="small primary"
              aria-label={t("poll.action.label", { action: t("poll.action.open"), question: poll.question })}
              onClick={() => act("open")}
            >
              {t("poll.action.open")}
            </button>
          )}
          {poll.state === "open" && (
            <button
              type="button"
              class="small"
              aria-label={t("poll.action.label", { action: t("poll.action.close"), question: poll.question })}
              onClick={() => act("close")}
            >
              {t("poll.action.close")}
            </button>
          )}
          <button
            type="button"
            class="small danger"
            aria-label={t("poll.action.label", { action: t("poll.action.delete"), question: poll.question })}
            onClick={() => act("delete")}
          >
            {t("poll.action.delete")}
          </button>
        </div>
      )}
      <ErrorAlert message={failure.value} />
    </article>
  );
}

function Tally(props: { poll: PollView }) {
  const { poll } = props;
  const tally = poll.tally;
  if (!tally) {
    if (poll.state === "draft") return null;
    return <p class="help">{poll.results === "hidden" ? t("poll.resultsHidden") : t("poll.resultsLater")}</p>;
  }
  return (
    <div class="tally" aria-live="polite">
      <p class="help">{t("poll.voters", { count: formatNumber(tally.voters) })}</p>
      <ul class="tally-list">
        {poll.options.map((option, index) => {
          const count = tally.counts[index] ?? 0;
          const percent = tally.voters > 0 ? Math.round((count * 100) / tally.voters) : 0;
          return (
            <li key={option}>
              <span dir="auto">{t("poll.count", { option, count: formatNumber(count), percent })}</span>
              <meter min={0} max={Math.max(1, tally.voters)} value={count} aria-label={option} />
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function CreatePoll(props: { polls: PollsPart }) {
  const question = useSignal("");
  const options = useSignal("");
  const multiple = useSignal(false);
  const changeable = useSignal(true);
  const results = useSignal<PollResults>("after_close");
  const failure = useSignal<string | null>(null);
  const submit = (event: Event) => {
    event.preventDefault();
    failure.value = null;
    const list = options.value
      .split("\n")
      .map((o) => o.trim())
      .filter(Boolean);
    props.polls.create(question.value.trim(), list, multiple.value, changeable.value, results.value).then(
      () => {
        question.value = "";
        options.value = "";
      },
      (e: RequestError) => {
        failure.value = t("poll.failed", { message: e.message });
      },
    );
  };
  return (
    <details class="create-poll">
      <summary>{t("poll.create.title")}</summary>
      <form class="ask" onSubmit={submit}>
        <label for="poll-question">{t("poll.create.question")}</label>
        <input
          id="poll-question"
          value={question.value}
          maxLength={InputLimits.poll_text_max_chars}
          onInput={(e) => {
            question.value = e.currentTarget.value;
          }}
        />
        <label for="poll-options">{t("poll.create.options")}</label>
        <textarea
          id="poll-options"
          rows={4}
          value={options.value}
          onInput={(e) => {
            options.value = e.currentTarget.value;
          }}
        />
        <Checkbox id="poll-multiple" label={t("poll.create.multiple")} value={multiple} />
        <Checkbox id="poll-changeable" label={t("poll.create.changeable")} value={changeable} />
        <label for="poll-results">{t("poll.create.results")}</label>
        <select
          id="poll-results"
          value={results.value}
          onChange={(e) => {
            results.value = e.currentTarget.value as PollResults;
          }}
        >
          {(["live", "after_close", "hidden"] as const).map((r) => (
            <option key={r} value={r}>
              {t(`poll.results.${r}` as MessageKey)}
            </option>
          ))}
        </select>
        <button type="submit" class="primary">
          {t("poll.create.submit")}
        </button>
        <ErrorAlert message={failure.value} />
      </form>
    </details>
  );
}
