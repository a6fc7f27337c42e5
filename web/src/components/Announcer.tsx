import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import type { ChatPart } from "../chat";
import { t } from "../i18n";
import type { ChatMessage, UserId } from "../proto.gen";

type Mode = "all" | "summary" | "off";
const STORAGE_KEY = "plenary.announce";
/** Shortest gap between two announcements, per mode: a busy chat must not flood a screen reader. */
const INTERVAL_MS: Record<Mode, number> = { all: 1_500, summary: 8_000, off: Number.POSITIVE_INFINITY };
const MAX_SPOKEN_CHARS = 140;

function storedMode(): Mode {
  const value = localStorage.getItem(STORAGE_KEY);
  return value === "all" || value === "off" ? value : "summary";
}

/**
 * Announces new chat messages to screen readers through a polite live region, throttled
 * and summarised, with a setting to turn it down or off (remembered across visits).
 */
export function Announcer(props: { chat: ChatPart; me: UserId }) {
  const mode = useSignal<Mode>(storedMode());
  const spoken = useSignal("");
  const pending = useRef<ChatMessage[]>([]);
  const timer = useRef<number | undefined>(undefined);
  const lastSpoke = useRef(0);

  useEffect(() => {
    const flush = () => {
      timer.current = undefined;
      const batch = pending.current;
      pending.current = [];
      const latest = batch.at(-1);
      if (!latest || mode.value === "off") return;
      const text =
        latest.text.length > MAX_SPOKEN_CHARS ? `${latest.text.slice(0, MAX_SPOKEN_CHARS)}…` : latest.text;
      spoken.value =
        batch.length === 1
          ? t("chat.announce.one", { name: latest.author.name, text })
          : t("chat.announce.many", { count: batch.length, name: latest.author.name, text });
      lastSpoke.current = Date.now();
    };
    props.chat.onNewMessage = (message) => {
      if (mode.value === "off" || message.author.id === props.me) return;
      pending.current.push(message);
      if (timer.current === undefined) {
        const wait = Math.max(0, lastSpoke.current + INTERVAL_MS[mode.value] - Date.now());
        timer.current = window.setTimeout(flush, wait);
      }
    };
    return () => {
      props.chat.onNewMessage = null;
      window.clearTimeout(timer.current);
    };
  }, [props.chat, props.me]);

  return (
    <div class="announcer">
      <label for="announce-mode">{t("chat.announce.label")}</label>
      <select
        id="announce-mode"
        value={mode.value}
        onChange={(e) => {
          const value = e.currentTarget.value as Mode;
          mode.value = value;
          localStorage.setItem(STORAGE_KEY, value);
          if (value === "off") pending.current = [];
        }}
      >
        <option value="all">{t("chat.announce.all")}</option>
        <option value="summary">{t("chat.announce.summary")}</option>
        <option value="off">{t("chat.announce.off")}</option>
      </select>
      <div class="visually-hidden" aria-live="polite" aria-atomic="true" data-testid="chat-announcer">
        {spoken.value}
      </div>
    </div>
  );
}
