import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { type BoothPart, type ContactRequestView, callPath, staffOnDuty, visitorRequest } from "../booth";
import { RequestError } from "../connection";
import { formatNumber, t } from "../i18n";
import { ErrorCode, InputLimits, type UserId } from "../proto.gen";
import { followLink } from "../router";
import { ErrorAlert } from "./ErrorAlert";

/** What the status region says about the visitor's request. */
function statusText(request: ContactRequestView | null): string {
  if (!request) return "";
  switch (request.state) {
    case "waiting":
      return request.kind === "callback"
        ? t("talk.callbackWaiting")
        : request.position
          ? t("talk.position", { position: formatNumber(request.position) })
          : t("talk.waiting");
    case "accepted":
      return t("talk.accepted", { name: request.accepted_by?.name ?? t("talk.someone") });
    case "cancelled":
      return request.cancelled_by_visitor ? t("talk.cancelled") : t("talk.lapsed");
  }
}

/**
 * A visitor's way to talk to the booth's staff: ask (or leave a callback message when
 * nobody is on duty), see the place in the queue, cancel, and join the call once accepted.
 */
export function TalkPanel(props: { booth: BoothPart; me: UserId }) {
  const { booth, me } = props;
  const message = useSignal("");
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  /** The node said nobody is on duty (the page may not know yet): offer the callback form. */
  const nobodyAvailable = useSignal(false);
  const callLink = useRef<HTMLAnchorElement>(null);
  const section = useRef<HTMLElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const previous = useRef<ContactRequestView | null>(null);

  const request = visitorRequest(booth.requests.value.values(), me);
  const onDuty = staffOnDuty(booth.staff.value);
  /** A waiting request: no new one until it is accepted or cancelled. */
  const waiting = request?.state === "waiting";
  const call = request?.state === "accepted" ? callPath(request.call) : null;

  // Accepted while the visitor waited here: take focus to the way into the call.
  useEffect(() => {
    const before = previous.current;
    previous.current = request;
    if (request?.state === "accepted" && before?.id === request.id && before.state === "waiting") {
      callLink.current?.focus();
    }
  }, [request?.id, request?.state]);

  useEffect(() => {
    if (onDuty > 0) nobodyAvailable.value = false;
  }, [onDuty]);

  // Buttons stay enabled while a request is on its way (a disabled button drops the
  // keyboard focus); a second press is ignored instead.
  const run = async (action: () => Promise<unknown>) => {
    if (busy.value) return;
    const hadFocus = section.current?.contains(document.activeElement) ?? false;
    busy.value = true;
    error.value = null;
    try {
      await action();
      message.value = "";
    } catch (e) {
      const failure = e instanceof RequestError ? e : new RequestError(0, String(e));
      if (failure.code === ErrorCode.conflict && !waiting) nobodyAvailable.value = true;
      error.value = t("talk.failed", { message: failure.message });
    } finally {
      busy.value = false;
      // The pressed button may be gone (the controls follow the request's state): keep
      // the focus in this section.
      if (hadFocus) {
        window.setTimeout(() => {
          if (!section.current?.contains(document.activeElement)) heading.current?.focus();
        }, 0);
      }
    }
  };

  const offerCallback = !waiting && (onDuty === 0 || nobodyAvailable.value);
  const length = [...message.value].length;

  return (
    <section ref={section} class="card talk" aria-labelledby="talk-heading">
      <h2 id="talk-heading" ref={heading} tabIndex={-1}>
        {t("talk.title")}
      </h2>
      <p role="status" aria-atomic="true" class="talk-status" data-testid="talk-status">
        {statusText(request)}
      </p>
      {request?.state === "waiting" && request.kind === "callback" && request.message && (
        <blockquote class="callback-message" dir="auto">
          {request.message}
        </blockquote>
      )}
      {call && (
        <p>
          <a ref={callLink} class="button primary" href={call} onClick={followLink}>
            {t("talk.joinCall")}
          </a>
        </p>
      )}
      {request?.state === "waiting" && (
        <button
          type="button"
          aria-disabled={busy.value || undefined}
          onClick={() => void run(() => booth.cancel(request.id))}
        >
          {t("talk.cancel")}
        </button>
      )}
      {!waiting && !offerCallback && (
        <>
          {!call && <p class="help">{t("talk.intro")}</p>}
          <button
            type="button"
            // After a call, asking again is the lesser action.
            class={call ? undefined : "primary"}
            aria-disabled={busy.value || undefined}
            onClick={() => void run(() => booth.askToTalk())}
          >
            {call ? t("talk.askAgain") : t("talk.ask")}
          </button>
        </>
      )}
      {offerCallback && (
        <form
          class="callback"
          onSubmit={(e) => {
            e.preventDefault();
            const text = message.value.trim();
            if (!text) {
              error.value = t("talk.messageNeeded");
              return;
            }
            void run(() => booth.askToTalk(text));
          }}
        >
          <p>{t("talk.nobody")}</p>
          <label for="callback-message">{t("talk.message")}</label>
          <textarea
            id="callback-message"
            rows={3}
            dir="auto"
            maxLength={InputLimits.callback_note_max_chars}
            aria-describedby="callback-help"
            value={message.value}
            onInput={(e) => {
              message.value = e.currentTarget.value;
            }}
          />
          <p id="callback-help" class="help">
            {t("talk.messageHelp", { count: formatNumber(InputLimits.callback_note_max_chars - length) })}
          </p>
          <button type="submit" class="primary" aria-disabled={busy.value || undefined}>
            {t("talk.askCallback")}
          </button>
        </form>
      )}
      <ErrorAlert message={error.value} />
    </section>
  );
}
