import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { ApiError, api, type Booth, type BoothAnalytics, type Lead } from "../api";
import {
  type BoothPart,
  CHOSEN_STATUSES,
  type ContactRequestView,
  callPath,
  consoleQueue,
  type StaffStatus,
  splitList,
} from "../booth";
import { RequestError } from "../connection";
import { formatDay, formatDuration, formatTime } from "../format";
import { formatNumber, t } from "../i18n";
import { ErrorCode, type MessageId, type UserId } from "../proto.gen";
import { followLink } from "../router";
import { ErrorAlert } from "./ErrorAlert";

/**
 * The booth staff's console: status, the request queue, shared cards, the booth's figures
 * and its profile.
 */
export function ExhibitorConsole(props: {
  /** The booth's live state from its room: staff and requests. */
  live: BoothPart;
  booth: Booth;
  me: UserId;
  onProfileSaved: (booth: Booth) => void;
}) {
  const { live, booth, me } = props;
  return (
    <section class="card console" aria-labelledby="console-heading">
      <h2 id="console-heading">{t("console.title")}</h2>
      <StatusSwitch live={live} me={me} />
      <RequestQueue live={live} me={me} />
      <section class="console-part" aria-labelledby="leads-heading">
        <h3 id="leads-heading">{t("console.leads")}</h3>
        <LeadsTable booth={booth} />
      </section>
      <section class="console-part" aria-labelledby="figures-heading">
        <h3 id="figures-heading">{t("console.figures")}</h3>
        <AnalyticsPanel booth={booth} />
      </section>
      <ProfileEditor booth={booth} onSaved={props.onProfileSaved} />
    </section>
  );
}

function ProfileEditor(props: { booth: Booth; onSaved: (booth: Booth) => void }) {
  const { booth } = props;
  const description = useSignal(booth.description);
  const links = useSignal(booth.links.join("\n"));
  const logo = useSignal(booth.logo_url ?? "");
  const tags = useSignal(booth.tags.join(", "));
  const busy = useSignal(false);
  const result = useSignal<{ ok: boolean; text: string } | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy.value) return;
    busy.value = true;
    result.value = null;
    try {
      const saved = await api.updateProfile(booth.id, {
        description: description.value.trim(),
        links: splitList(links.value, /\n/),
        ...(logo.value.trim() ? { logo_url: logo.value.trim() } : {}),
        tags: splitList(tags.value, /,/),
      });
      props.onSaved(saved);
      result.value = { ok: true, text: t("profile.saved") };
    } catch (e) {
      const detail =
        e instanceof ApiError && e.errors.length > 0
          ? e.errors.map((x) => `${x.location}: ${x.message}`).join("; ")
          : e instanceof Error
            ? e.message
            : String(e);
      result.value = { ok: false, text: t("profile.failed", { message: detail }) };
    } finally {
      busy.value = false;
    }
  };

  return (
    <details class="console-part profile-editor">
      <summary>{t("profile.title")}</summary>
      <form class="lead-form" onSubmit={submit}>
        <label for="profile-description">{t("profile.description")}</label>
        <textarea
          id="profile-description"
          rows={4}
          dir="auto"
          value={description.value}
          onInput={(e) => {
            description.value = e.currentTarget.value;
          }}
        />
        <label for="profile-links">{t("profile.links")}</label>
        <textarea
          id="profile-links"
          rows={3}
          dir="ltr"
          aria-describedby="profile-links-help"
          value={links.value}
          onInput={(e) => {
            links.value = e.currentTarget.value;
          }}
        />
        <p id="profile-links-help" class="help">
          {t("profile.linksHelp")}
        </p>
        <label for="profile-logo">{t("profile.logo")}</label>
        <input
          id="profile-logo"
          type="url"
          dir="ltr"
          value={logo.value}
          onInput={(e) => {
            logo.value = e.currentTarget.value;
          }}
        />
        <label for="profile-tags">{t("profile.tags")}</label>
        <input
          id="profile-tags"
          aria-describedby="profile-tags-help"
          value={tags.value}
          onInput={(e) => {
            tags.value = e.currentTarget.value;
          }}
        />
        <p id="profile-tags-help" class="help">
          {t("profile.tagsHelp")}
        </p>
        <div class="button-row">
          <button type="submit" class="primary" aria-disabled={busy.value || undefined}>
            {t("profile.save")}
          </button>
        </div>
        <p role="status" class={result.value && !result.value.ok ? "error-text" : "help"}>
          {result.value?.text ?? ""}
        </p>
      </form>
    </details>
  );
}

function StatusSwitch(props: { live: BoothPart; me: UserId }) {
  const { live, me } = props;
  /** The status just chosen, shown until the node's view of it arrives. */
  const chosen = useSignal<StaffStatus | null>(null);
  const result = useSignal<{ ok: boolean; text: string } | null>(null);
  const mine = live.staff.value.find((s) => s.user === me)?.status;
  const shown = chosen.value ?? mine;

  useEffect(() => {
    if (chosen.value === mine) chosen.value = null;
  }, [mine]);

  // The radios stay enabled while a change is on its way: disabling them would drop the
  // keyboard focus (arrow keys move through the group).
  const choose = async (status: StaffStatus) => {
    chosen.value = status;
    result.value = null;
    try {
      await live.setStatus(status);
      result.value = { ok: true, text: t("console.statusSet", { status: t(`staff.${status}`) }) };
    } catch (e) {
      if (chosen.value === status) chosen.value = null;
      result.value = { ok: false, text: t("console.failed", { message: (e as RequestError).message }) };
    }
  };

  return (
    <>
      <fieldset class="status-switch">
        <legend>{t("console.status")}</legend>
        {CHOSEN_STATUSES.map((status) => (
          <label key={status} class="inline">
            <input
              type="radio"
              name="booth-status"
              value={status}
              checked={shown === status}
              onChange={() => void choose(status)}
            />{" "}
            {t(`staff.${status}`)}
          </label>
        ))}
      </fieldset>
      <p class="help">{t("console.statusHelp")}</p>
      <p role="status" class={result.value && !result.value.ok ? "error-text" : "help"}>
        {result.value?.text ?? ""}
      </p>
    </>
  );
}

function RequestQueue(props: { live: BoothPart; me: UserId }) {
  const { live, me } = props;
  const failure = useSignal<string | null>(null);
  const queueHeading = useRef<HTMLHeadingElement>(null);
  const pending = useSignal<MessageId | null>(null);
  const justAccepted = useSignal<MessageId | null>(null);
  const announced = useSignal("");
  const known = useRef<Set<MessageId> | null>(null);
  const callLink = useRef<HTMLAnchorElement>(null);

  const requests = live.requests.value;
  const queue = consoleQueue(requests.values());
  const accepted = justAccepted.value ? requests.get(justAccepted.value) : undefined;
  const acceptedCall = accepted?.state === "accepted" ? callPath(accepted.call) : null;

  // New requests are announced politely (the first list, from the snapshot, is not).
  useEffect(() => {
    const waiting = [...queue.live, ...queue.callbacks];
    if (known.current === null) {
      known.current = new Set(waiting.map((r) => r.id));
      return;
    }
    const seen = known.current;
    const fresh = waiting.filter((r) => !seen.has(r.id));
    for (const r of fresh) seen.add(r.id);
    const latest = fresh.at(-1);
    if (latest) {
      announced.value =
        fresh.length === 1
          ? latest.kind === "callback"
            ? t("console.newCallback", { name: latest.visitor.name })
            : t("console.newRequest", { name: latest.visitor.name })
          : t("console.newRequests", { count: formatNumber(fresh.length) });
    }
  }, [requests]);

  useEffect(() => {
    if (acceptedCall) callLink.current?.focus();
  }, [acceptedCall]);

  // The Accept buttons stay enabled while an accept is on its way (a disabled button drops
  // the keyboard focus); a second press is ignored instead. The failure is shown above the
  // queue, since the request it names has usually left it (another staff member took it).
  const accept = async (request: ContactRequestView) => {
    if (pending.value) return;
    pending.value = request.id;
    failure.value = null;
    try {
      await live.accept(request.id);
      justAccepted.value = request.id;
    } catch (e) {
      const error = e instanceof RequestError ? e : new RequestError(0, String(e));
      failure.value =
        error.code === ErrorCode.conflict
          ? t("console.taken")
          : t("console.failed", { message: error.message });
      window.setTimeout(() => {
        if (document.activeElement === document.body || !document.activeElement?.isConnected) {
          queueHeading.current?.focus();
        }
      }, 0);
    } finally {
      pending.value = null;
    }
  };

  const item = (request: ContactRequestView, index: number | null) => (
    <li key={request.id} class="request">
      <p class="meta">
        {index !== null && <span class="position">{formatNumber(request.position ?? index + 1)}.</span>}
        <span class="name">{request.visitor.name}</span>
        <span class="since">{t("console.since", { time: formatTime(request.created_at) })}</span>
      </p>
      {request.message && (
        <p class="text" dir="auto">
          {request.message}
        </p>
      )}
      <button
        type="button"
        class="primary small"
        aria-disabled={pending.value !== null || undefined}
        aria-label={t("console.acceptLabel", { name: request.visitor.name })}
        onClick={() => void accept(request)}
      >
        {t("console.accept")}
      </button>
    </li>
  );

  return (
    <>
      <div class="visually-hidden" aria-live="polite" aria-atomic="true" data-testid="console-announcer">
        {announced.value}
      </div>
      {accepted && acceptedCall && (
        <div class="accepted-call">
          <p>{t("console.acceptedYou", { name: accepted.visitor.name })}</p>
          <a ref={callLink} class="button primary" href={acceptedCall} onClick={followLink}>
            {t("console.joinCall", { name: accepted.visitor.name })}
          </a>
        </div>
      )}
      <section class="console-part" aria-labelledby="queue-heading">
        <h3 id="queue-heading" ref={queueHeading} tabIndex={-1}>
          {t("console.queue", { count: formatNumber(queue.live.length) })}
        </h3>
        <ErrorAlert message={failure.value} />
        {queue.live.length === 0 ? (
          <p class="help">{t("console.queueEmpty")}</p>
        ) : (
          <ol class="requests">{queue.live.map((r, i) => item(r, i))}</ol>
        )}
      </section>
      <section class="console-part" aria-labelledby="callbacks-heading">
        <h3 id="callbacks-heading">
          {t("console.callbacks", { count: formatNumber(queue.callbacks.length) })}
        </h3>
        {queue.callbacks.length === 0 ? (
          <p class="help">{t("console.callbacksEmpty")}</p>
        ) : (
          <ul class="requests">{queue.callbacks.map((r) => item(r, null))}</ul>
        )}
      </section>
      {queue.recent.length > 0 && (
        <section class="console-part" aria-labelledby="recent-heading">
          <h3 id="recent-heading">{t("console.recent")}</h3>
          <ul class="requests recent">
            {queue.recent.map((r) => {
              const call = r.state === "accepted" && r.accepted_by?.id === me ? callPath(r.call) : null;
              return (
                <li key={r.id} class="request">
                  <p class="meta">
                    <span class="name">{r.visitor.name}</span>
                    <span>
                      {r.state === "accepted"
                        ? r.accepted_by?.id === me
                          ? t("console.acceptedByYou")
                          : t("console.acceptedBy", { name: r.accepted_by?.name ?? "" })
                        : r.cancelled_by_visitor
                          ? t("console.cancelledByVisitor")
                          : t("console.lapsed")}
                    </span>
                    <span class="since">{formatTime(r.updated_at)}</span>
                  </p>
                  {r.message && (
                    <p class="text" dir="auto">
                      {r.message}
                    </p>
                  )}
                  {call && (
                    <a href={call} onClick={followLink}>
                      {t("console.joinCall", { name: r.visitor.name })}
                    </a>
                  )}
                </li>
              );
            })}
          </ul>
        </section>
      )}
    </>
  );
}

/** Saves `blob` as a file through a temporary link (the CSV needs the bearer token, so it is fetched). */
function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function LeadsTable(props: { booth: Booth }) {
  const { booth } = props;
  const leads = useSignal<Lead[] | null>(null);
  const error = useSignal<string | null>(null);
  const busy = useSignal(false);
  const status = useSignal("");

  const load = () => {
    error.value = null;
    api
      .leads(booth.id)
      .then((list) => {
        leads.value = [...list].sort((a, b) => b.shared_at - a.shared_at);
      })
      .catch((e: unknown) => {
        error.value = t("console.leadsFailed", { message: e instanceof Error ? e.message : String(e) });
      });
  };
  useEffect(load, [booth.id]);

  const download = async () => {
    if (busy.value) return;
    busy.value = true;
    error.value = null;
    status.value = "";
    try {
      const name = `leads-${booth.id}.csv`;
      saveBlob(await api.leadsCsv(booth.id), name);
      status.value = t("console.downloaded", { name });
    } catch (e) {
      error.value = t("console.downloadFailed", { message: e instanceof Error ? e.message : String(e) });
    } finally {
      busy.value = false;
    }
  };

  const list = leads.value;
  return (
    <>
      <div class="button-row">
        <button type="button" aria-disabled={busy.value || undefined} onClick={() => void download()}>
          {t("console.download")}
        </button>
        <button type="button" onClick={load}>
          {t("console.refreshLeads")}
        </button>
      </div>
      <p role="status" class="help">
        {status.value}
      </p>
      <ErrorAlert message={error.value} />
      {list === null && !error.value && <p>{t("app.loading")}</p>}
      {list?.length === 0 && <p class="help">{t("console.leadsEmpty")}</p>}
      {list && list.length > 0 && (
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take focus so keyboard users can scroll it
        <section class="table-scroll" tabIndex={0} aria-label={t("console.leadsTable")}>
          <table class="leads">
            <caption>{t("console.leadsCaption", { count: formatNumber(list.length) })}</caption>
            <thead>
              <tr>
                <th scope="col">{t("lead.name")}</th>
                <th scope="col">{t("lead.email")}</th>
                <th scope="col">{t("lead.organisation")}</th>
                <th scope="col">{t("lead.jobTitle")}</th>
                <th scope="col">{t("lead.phone")}</th>
                <th scope="col">{t("lead.note")}</th>
                <th scope="col">{t("console.sharedAt")}</th>
              </tr>
            </thead>
            <tbody>
              {list.map((lead) => (
                <tr key={typeof lead.visitor === "string" ? lead.visitor : lead.visitor.id}>
                  <th scope="row" dir="auto">
                    {lead.card.name}
                  </th>
                  <td>
                    <a href={`mailto:${lead.card.email}`}>{lead.card.email}</a>
                  </td>
                  <td dir="auto">{lead.card.organisation ?? ""}</td>
                  <td dir="auto">{lead.card.job_title ?? ""}</td>
                  <td>{lead.card.phone ?? ""}</td>
                  <td dir="auto">{lead.card.note ?? ""}</td>
                  <td>
                    <time dateTime={new Date(lead.shared_at).toISOString()}>
                      {formatDay(lead.shared_at)} {formatTime(lead.shared_at)}
                    </time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </>
  );
}

/** The booth's figures (staff and organisers). */
export function AnalyticsPanel(props: { booth: Booth }) {
  const { booth } = props;
  const figures = useSignal<BoothAnalytics | null>(null);
  const error = useSignal<string | null>(null);

  const load = () => {
    error.value = null;
    api
      .analytics(booth.id)
      .then((a) => {
        figures.value = a;
      })
      .catch((e: unknown) => {
        error.value = t("console.figuresFailed", { message: e instanceof Error ? e.message : String(e) });
      });
  };
  useEffect(load, [booth.id]);

  const f = figures.value;
  return (
    <>
      <ErrorAlert message={error.value} />
      {!f && !error.value && <p>{t("app.loading")}</p>}
      {f && (
        <dl class="figures">
          <div>
            <dt>{t("figures.visits")}</dt>
            <dd>{formatNumber(f.visits)}</dd>
          </div>
          <div>
            <dt>{t("figures.unique")}</dt>
            <dd>{formatNumber(f.unique_visitors)}</dd>
          </div>
          <div>
            <dt>{t("figures.dwell")}</dt>
            <dd>{formatDuration(f.average_dwell_ms)}</dd>
          </div>
          <div>
            <dt>{t("figures.answered")}</dt>
            <dd>{formatNumber(f.requests_answered)}</dd>
          </div>
          <div>
            <dt>{t("figures.missed")}</dt>
            <dd>{formatNumber(f.requests_missed)}</dd>
          </div>
          <div>
            <dt>{t("figures.callbacks")}</dt>
            <dd>{formatNumber(f.callbacks_waiting)}</dd>
          </div>
        </dl>
      )}
      <button type="button" onClick={load}>
        {t("figures.refresh")}
      </button>
    </>
  );
}
