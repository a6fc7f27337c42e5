import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { t } from "../i18n";
import { connection } from "../session";

/**
 * Says when the connection is down and when it comes back (and whether the node could
 * replay what was missed). A status region, so screen readers hear it too.
 */
export function ConnectionBanner() {
  const status = connection.status.value;
  const now = useSignal(Date.now());
  const showRestored = useSignal(false);

  // A countdown while waiting to reconnect.
  useEffect(() => {
    if (status.kind !== "waiting") return;
    const timer = window.setInterval(() => {
      now.value = Date.now();
    }, 500);
    return () => window.clearInterval(timer);
  }, [status.kind]);

  const resume = connection.lastResume.value;
  useEffect(() => {
    if (status.kind !== "open" || resume === null) return;
    showRestored.value = true;
    const timer = window.setTimeout(() => {
      showRestored.value = false;
    }, 6_000);
    return () => window.clearTimeout(timer);
  }, [status.kind, resume]);

  let content: preact.ComponentChildren = null;
  let tone = "info";
  if (status.kind === "waiting") {
    const seconds = Math.max(0, Math.ceil((status.retryAt - now.value) / 1000));
    tone = "warn";
    content = (
      <>
        <span>{t("conn.lost", { seconds })}</span>{" "}
        <button type="button" onClick={() => connection.retryNow()}>
          {t("conn.retryNow")}
        </button>
      </>
    );
  } else if (status.kind === "connecting" && status.attempt > 0) {
    tone = "warn";
    content = t("conn.retrying");
  } else if (status.kind === "closed") {
    tone = "error";
    content = t("conn.closed", { message: status.reason || String(status.code) });
  } else if (status.kind === "open" && showRestored.value) {
    content = resume === "exact" ? t("conn.restored") : t("conn.resynced");
  }

  return (
    <div
      class={content ? `connection-banner ${tone}` : "connection-banner empty"}
      role="status"
      data-state={status.kind}
    >
      {content}
    </div>
  );
}
