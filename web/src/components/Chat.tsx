import { useSignal } from "@preact/signals";
import { useLayoutEffect, useRef } from "preact/hooks";
import { api } from "../api";
import type { ChatPart } from "../chat";
import type { RequestError } from "../connection";
import { formatTime } from "../format";
import { t } from "../i18n";
import { linkify } from "../linkify";
import type { ChatMessage, Membership, UserId } from "../proto.gen";
import { connection } from "../session";
import { Announcer } from "./Announcer";
import { ErrorAlert } from "./ErrorAlert";

/** Messages in the page at once, however many the chat holds: the list is windowed. */
export const WINDOW = 120;
/** How far the window moves when the reader scrolls past its edge. */
const STEP = 60;
/** Pixels from an edge that count as being at it. */
const EDGE = 48;
const MUTE_MINUTES = 15;
/** How long "Remove" keeps someone out of the session. */
const REMOVE_MINUTES = 24 * 60;

/** The message the reader is looking at, to keep in place when the list above it changes. */
interface Anchor {
  id: string;
  offset: number;
  /** The first message in the DOM when the anchor was taken: restore once that changes. */
  firstId: string | undefined;
}

export function Chat(props: { chat: ChatPart; you: Membership; me: UserId; maxChars: number }) {
  const { chat, you, me } = props;
  // null: follow the newest message; else the id of the newest message in the window.
  const windowEndId = useSignal<string | null>(null);
  const list = useRef<HTMLElement>(null);
  const anchor = useRef<Anchor | null>(null);
  chat.version.value; // re-render on every chat change

  const messages = chat.messages;
  const total = messages.length;
  let end = total;
  if (windowEndId.value !== null) {
    const id = windowEndId.value;
    let found = -1;
    for (let i = total - 1; i >= 0; i--) {
      if (messages[i]?.id === id) {
        found = i;
        break;
      }
    }
    end = found >= 0 ? found + 1 : total;
  }
  const start = Math.max(0, end - WINDOW);
  const following = windowEndId.value === null || end === total;
  const visible = messages.slice(start, end);
  const unseen = total - end;

  // Keeps the message the reader was looking at in place when the window moves or older
  // messages arrive above it, and stays at the bottom while following.
  useLayoutEffect(() => {
    const element = list.current;
    if (!element) return;
    const saved = anchor.current;
    if (saved) {
      const firstId = element.querySelector<HTMLElement>("[data-id]")?.dataset.id;
      // Older messages (or a moved window) are not in the DOM yet: keep the anchor for the
      // render that brings them.
      if (firstId === saved.firstId) return;
      anchor.current = null;
      const item = element.querySelector<HTMLElement>(`[data-id="${CSS.escape(saved.id)}"]`);
      if (item) {
        element.scrollTop = item.offsetTop - saved.offset;
        return;
      }
    }
    if (windowEndId.value === null) element.scrollTop = element.scrollHeight;
  });

  const rememberAnchor = () => {
    const element = list.current;
    if (!element) return;
    const top = element.scrollTop;
    const items = element.querySelectorAll<HTMLElement>("[data-id]");
    for (const item of items) {
      if (item.offsetTop + item.offsetHeight > top) {
        anchor.current = {
          id: item.dataset.id ?? "",
          offset: item.offsetTop - top,
          firstId: items[0]?.dataset.id,
        };
        return;
      }
    }
  };

  const onScroll = () => {
    const element = list.current;
    if (!element) return;
    const atBottom = element.scrollHeight - element.scrollTop - element.clientHeight < EDGE;
    const atTop = element.scrollTop < EDGE;
    if (atBottom) {
      if (end >= total) {
        windowEndId.value = null;
      } else {
        rememberAnchor();
        const next = Math.min(total, end + STEP);
        windowEndId.value = next >= total ? null : (messages[next - 1]?.id ?? null);
      }
    } else if (windowEndId.value === null && end > 0) {
      windowEndId.value = messages[end - 1]?.id ?? null;
    }
    if (atTop) {
      if (start > 0) {
        rememberAnchor();
        const next = Math.max(WINDOW, end - STEP);
        windowEndId.value = messages[Math.min(next, total) - 1]?.id ?? null;
      } else if (chat.more.value && !chat.loadingOlder.value) {
        loadOlder();
      }
    }
  };

  /** Fetches the page before the oldest message and moves the window up onto it. */
  const loadOlder = () => {
    rememberAnchor();
    chat
      .loadOlder()
      .then(() => {
        const top = chat.messages[Math.min(chat.messages.length, WINDOW) - 1];
        if (top) windowEndId.value = top.id;
      })
      .catch(() => undefined);
  };

  const jumpToLatest = () => {
    windowEndId.value = null;
  };

  return (
    <section class="chat" aria-labelledby="chat-heading">
      <div class="chat-header">
        <h2 id="chat-heading">{t("chat.title")}</h2>
        <Announcer chat={chat} me={me} />
      </div>
      <section
        ref={list}
        class="chat-log"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take focus so keyboard users can scroll it
        tabIndex={0}
        aria-label={t("chat.log")}
        onScroll={onScroll}
      >
        {start === 0 && !chat.more.value && total > 0 && <p class="chat-start">{t("chat.start")}</p>}
        {start === 0 && chat.more.value && (
          <button type="button" class="link" disabled={chat.loadingOlder.value} onClick={loadOlder}>
            {chat.loadingOlder.value ? t("chat.loadingOlder") : t("chat.loadOlder")}
          </button>
        )}
        {total === 0 && <p class="chat-start">{t("chat.empty")}</p>}
        <ol class="messages">
          {visible.map((m) => (
            <Message key={m.id} message={m} chat={chat} you={you} me={me} />
          ))}
        </ol>
      </section>
      {!following && (
        <button type="button" class="jump" onClick={jumpToLatest}>
          {unseen > 0 ? t("chat.jumpLatest", { count: unseen }) : t("chat.jumpLatestNone")}
        </button>
      )}
      <Composer chat={chat} you={you} me={me} maxChars={props.maxChars} onSent={jumpToLatest} />
    </section>
  );
}

function Message(props: { message: ChatMessage; chat: ChatPart; you: Membership; me: UserId }) {
  const { message, chat, you, me } = props;
  const failure = useSignal<string | null>(null);
  const author = message.author;
  const mine = author.id === me;
  const muted = chat.muted.value.has(author.id);
  const act = (action: () => Promise<unknown>) => {
    failure.value = null;
    action().catch((e: RequestError) => {
      failure.value = t("mod.failed", { message: e.message });
    });
  };
  return (
    <li class={mine ? "message mine" : "message"} data-id={message.id}>
      <p class="meta">
        <span class="author">{author.name}</span>
        {mine && <span class="tag">{t("chat.you")}</span>}
        {author.country && <span class="country">{author.country}</span>}
        {muted && <span class="tag warn">{t("chat.mutedBadge")}</span>}
        <time dateTime={new Date(message.at).toISOString()}>{formatTime(message.at)}</time>
      </p>
      <p class="text" dir="auto">
        {linkify(message.text).map((segment, i) =>
          segment.kind === "link" ? (
            <a
              key={i}
              href={segment.href}
              target="_blank"
              rel="noopener noreferrer nofollow ugc"
              title={t("chat.linkExternal", { url: segment.href })}
            >
              {segment.text}
            </a>
          ) : (
            segment.text
          ),
        )}
      </p>
      {(you.can_moderate || mine) && (
        <div class="message-actions">
          <button
            type="button"
            class="small"
            aria-label={t("chat.deleteLabel", { name: author.name })}
            onClick={() => act(() => chat.deleteMessage(message.id))}
          >
            {t("chat.delete")}
          </button>
          {you.can_moderate && !mine && !muted && (
            <button
              type="button"
              class="small"
              aria-label={t("chat.muteLabel", { name: author.name })}
              onClick={() => act(() => chat.mute(author.id, MUTE_MINUTES))}
            >
              {t("chat.mute")}
            </button>
          )}
          {you.can_moderate && !mine && muted && (
            <button
              type="button"
              class="small"
              aria-label={t("chat.unmuteLabel", { name: author.name })}
              onClick={() => act(() => chat.unmute(author.id))}
            >
              {t("chat.unmute")}
            </button>
          )}
          {you.can_moderate && !mine && (
            <button
              type="button"
              class="small"
              aria-label={t("chat.removeLabel", { name: author.name })}
              onClick={() => {
                if (window.confirm(t("chat.removeConfirm", { name: author.name }))) {
                  act(() => api.removeFromRoom(author.id, chat.room, REMOVE_MINUTES));
                }
              }}
            >
              {t("chat.remove")}
            </button>
          )}
        </div>
      )}
      <ErrorAlert message={failure.value} />
    </li>
  );
}

function Composer(props: {
  chat: ChatPart;
  you: Membership;
  me: UserId;
  maxChars: number;
  onSent: () => void;
}) {
  const { chat, you } = props;
  const text = useSignal("");
  const sending = useSignal(false);
  const error = useSignal<string | null>(null);
  const mutedUntil = chat.muted.value.get(props.me);
  const isMuted = chat.muted.value.has(props.me);
  const length = [...text.value].length;
  const over = length - props.maxChars;
  const connected = connection.status.value.kind === "open";

  if (!you.can_chat && !isMuted) return <p class="notice">{t("chat.cannotChat")}</p>;

  const submit = async (event?: Event) => {
    event?.preventDefault();
    const value = text.value.trim();
    if (!value || over > 0 || sending.value) return;
    sending.value = true;
    error.value = null;
    try {
      await chat.send(value);
      text.value = "";
      props.onSent();
    } catch (e) {
      error.value = t("chat.failed", { message: (e as RequestError).message });
    } finally {
      sending.value = false;
    }
  };

  return (
    <form class="composer" onSubmit={submit}>
      {isMuted && (
        <p class="notice" role="status">
          {mutedUntil ? t("chat.mutedUntil", { time: formatTime(mutedUntil) }) : t("chat.muted")}
        </p>
      )}
      <label for="chat-input">{t("chat.input")}</label>
      <div class="composer-row">
        <textarea
          id="chat-input"
          rows={2}
          dir="auto"
          value={text.value}
          aria-describedby="chat-status"
          aria-invalid={over > 0}
          onInput={(e) => {
            text.value = e.currentTarget.value;
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              void submit();
            }
          }}
        />
        <button
          type="submit"
          class="primary"
          disabled={sending.value || over > 0 || text.value.trim() === ""}
        >
          {t("chat.send")}
        </button>
      </div>
      <p id="chat-status" class={over > 0 ? "help error-text" : "help"}>
        {sending.value
          ? connected
            ? t("chat.sending")
            : t("chat.queued")
          : over > 0
            ? t("chat.tooLong", { count: over })
            : length > props.maxChars * 0.8
              ? t("chat.remaining", { count: props.maxChars - length })
              : ""}
      </p>
      <ErrorAlert message={error.value} />
    </form>
  );
}
