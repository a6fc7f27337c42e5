import { useSignal } from "@preact/signals";
import type { RequestError } from "../connection";
import { t } from "../i18n";
import { InputLimits, type StageState } from "../proto.gen";
import type { StagePart } from "../stage";

/** The transitions each state allows (PROTOCOL.md, stage_update), as buttons. */
const ACTIONS: Record<StageState, Array<{ to: StageState; label: () => string }>> = {
  scheduled: [{ to: "live", label: () => t("mod.goLive") }],
  live: [
    { to: "break", label: () => t("mod.break") },
    { to: "ended", label: () => t("mod.end") },
  ],
  break: [
    { to: "live", label: () => t("mod.resume") },
    { to: "ended", label: () => t("mod.end") },
  ],
  ended: [],
};

/** Stage controls for moderators: state and current speaker. */
export function ModeratorPanel(props: { stage: StagePart }) {
  const { stage } = props;
  const current = stage.current.value;
  const state = current?.state ?? "scheduled";
  const speaker = useSignal(current?.speaker ?? "");
  const busy = useSignal(false);
  const result = useSignal<{ ok: boolean; text: string } | null>(null);

  const run = async (change: { state?: StageState; speaker?: string }) => {
    busy.value = true;
    result.value = null;
    try {
      await stage.update(change);
      result.value = { ok: true, text: t("mod.done") };
    } catch (e) {
      result.value = { ok: false, text: t("mod.failed", { message: (e as RequestError).message }) };
    } finally {
      busy.value = false;
    }
  };

  return (
    <section class="moderator card" aria-labelledby="mod-heading">
      <h2 id="mod-heading">{t("mod.title")}</h2>
      <fieldset>
        <legend>{t("mod.state")}</legend>
        <div class="button-row">
          {ACTIONS[state].map((action) => (
            <button
              key={action.to}
              type="button"
              class={action.to === "ended" ? "danger" : "primary"}
              disabled={busy.value}
              onClick={() => {
                if (action.to === "ended" && !window.confirm(t("mod.endConfirm"))) return;
                void run({ state: action.to });
              }}
            >
              {action.label()}
            </button>
          ))}
        </div>
      </fieldset>
      <form
        class="speaker-form"
        onSubmit={(e) => {
          e.preventDefault();
          void run({ speaker: speaker.value.trim() });
        }}
      >
        <label for="mod-speaker">{t("mod.speaker")}</label>
        <div class="composer-row">
          <input
            id="mod-speaker"
            value={speaker.value}
            maxLength={InputLimits.stage_speaker_max_chars}
            onInput={(e) => {
              speaker.value = e.currentTarget.value;
            }}
          />
          <button type="submit" disabled={busy.value}>
            {t("mod.setSpeaker")}
          </button>
          <button
            type="button"
            disabled={busy.value}
            onClick={() => {
              speaker.value = "";
              void run({ speaker: "" });
            }}
          >
            {t("mod.clearSpeaker")}
          </button>
        </div>
      </form>
      <p role="status" class={result.value && !result.value.ok ? "error-text" : "help"}>
        {result.value?.text ?? ""}
      </p>
    </section>
  );
}
