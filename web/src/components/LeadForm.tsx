import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { ApiError, api, type Booth, type FieldError, type SharedCard } from "../api";
import { formatDay, formatTime } from "../format";
import { t } from "../i18n";
import type { MessageKey } from "../i18n/en";
import { type CardField, cardOf, EMPTY_CARD, fieldOf, looksLikeEmail } from "../lead";
import { InputLimits } from "../proto.gen";
import { Checkbox } from "./Checkbox";
import { ErrorAlert } from "./ErrorAlert";

type Field = CardField;
const FIELDS: Array<{
  field: Field;
  label: MessageKey;
  type: string;
  autoComplete: string;
  required?: boolean;
}> = [
  { field: "name", label: "lead.name", type: "text", autoComplete: "name", required: true },
  { field: "email", label: "lead.email", type: "email", autoComplete: "email", required: true },
  { field: "organisation", label: "lead.organisation", type: "text", autoComplete: "organization" },
  { field: "job_title", label: "lead.jobTitle", type: "text", autoComplete: "organization-title" },
  { field: "phone", label: "lead.phone", type: "tel", autoComplete: "tel" },
];

const LABELS: Record<Field, MessageKey> = {
  name: "lead.name",
  email: "lead.email",
  organisation: "lead.organisation",
  job_title: "lead.jobTitle",
  phone: "lead.phone",
  note: "lead.note",
};

/** A visitor's contact card for the booth: share it (with explicit consent), see it, withdraw it. */
export function LeadForm(props: { booth: Booth; defaultName: string }) {
  const { booth } = props;
  const shared = useSignal<SharedCard | null>(null);
  const loaded = useSignal(false);
  const values = useSignal<Record<Field, string>>({ ...EMPTY_CARD, name: props.defaultName });
  const consent = useSignal(false);
  const busy = useSignal(false);
  const errors = useSignal<Partial<Record<Field | "consent", string>>>({});
  const failure = useSignal<string | null>(null);
  const result = useSignal("");

  useEffect(() => {
    let cancelled = false;
    api
      .lead(booth.id)
      .then((card) => {
        if (cancelled) return;
        shared.value = card;
        if (card) values.value = { ...EMPTY_CARD, ...card.card };
        consent.value = card !== null;
      })
      .catch((e: unknown) => {
        if (!cancelled)
          failure.value = t("lead.loadFailed", { message: e instanceof Error ? e.message : String(e) });
      })
      .finally(() => {
        if (!cancelled) loaded.value = true;
      });
    return () => {
      cancelled = true;
    };
  }, [booth.id]);

  const set = (field: Field, value: string) => {
    values.value = { ...values.value, [field]: value };
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy.value) return;
    const found: Partial<Record<Field | "consent", string>> = {};
    const v = values.value;
    if (!v.name.trim()) found.name = t("lead.error.name");
    if (!looksLikeEmail(v.email.trim())) found.email = t("lead.error.email");
    if (!consent.value) found.consent = t("lead.error.consent", { name: booth.organisation });
    errors.value = found;
    failure.value = null;
    result.value = "";
    if (Object.keys(found).length > 0) {
      focusFirstError(found);
      return;
    }
    busy.value = true;
    try {
      shared.value = await api.shareLead(booth.id, cardOf(v));
      result.value = t("lead.sharedNow", { name: booth.organisation });
    } catch (e) {
      if (e instanceof ApiError && e.errors.length > 0) {
        const byField: Partial<Record<Field | "consent", string>> = {};
        const other: FieldError[] = [];
        for (const error of e.errors) {
          const field = fieldOf(error.location);
          if (field === "consent") byField.consent = t("lead.error.consent", { name: booth.organisation });
          else if (field)
            byField[field] = t("lead.fieldError", { field: t(LABELS[field]), message: error.message });
          else other.push(error);
        }
        errors.value = byField;
        failure.value = t("lead.failed", {
          message: [e.message, ...other.map((o) => `${o.location}: ${o.message}`)].join(" "),
        });
        focusFirstError(byField);
      } else {
        failure.value = t("lead.failed", { message: e instanceof Error ? e.message : String(e) });
      }
    } finally {
      busy.value = false;
    }
  };

  const withdraw = async () => {
    if (busy.value) return;
    busy.value = true;
    failure.value = null;
    result.value = "";
    try {
      await api.withdrawLead(booth.id);
      shared.value = null;
      consent.value = false;
      result.value = t("lead.withdrawn", { name: booth.organisation });
      // The button is gone with the card: the focus goes to the section's heading.
      window.setTimeout(() => document.getElementById("lead-heading")?.focus(), 0);
    } catch (e) {
      failure.value = t("lead.withdrawFailed", { message: e instanceof Error ? e.message : String(e) });
    } finally {
      busy.value = false;
    }
  };

  const describedBy = (field: Field | "consent", help?: string) =>
    [help, errors.value[field] ? `lead-${field}-error` : undefined].filter(Boolean).join(" ") || undefined;
  const fieldError = (field: Field | "consent") =>
    errors.value[field] ? (
      <p id={`lead-${field}-error`} class="error-text">
        {errors.value[field]}
      </p>
    ) : null;

  const card = shared.value;
  return (
    <section class="card lead" aria-labelledby="lead-heading">
      <h2 id="lead-heading" tabIndex={-1}>
        {t("lead.title")}
      </h2>
      <p class="help">{t("lead.intro", { name: booth.organisation })}</p>
      {!loaded.value && <p>{t("app.loading")}</p>}
      {card && (
        <p class="shared-state" data-testid="lead-state">
          <strong>{t("lead.sharedState", { name: booth.organisation })}</strong>{" "}
          {t("lead.sharedAt", { day: formatDay(card.shared_at), time: formatTime(card.shared_at) })}
        </p>
      )}
      {loaded.value && !card && <p data-testid="lead-state">{t("lead.notShared")}</p>}
      {loaded.value && (
        <form class="lead-form" onSubmit={submit} noValidate>
          {FIELDS.map((f) => (
            <div class="field" key={f.field}>
              <label for={`lead-${f.field}`}>
                {t(f.label)}
                {!f.required && <span class="optional"> {t("lead.optional")}</span>}
              </label>
              <input
                id={`lead-${f.field}`}
                type={f.type}
                autoComplete={f.autoComplete}
                required={f.required}
                maxLength={InputLimits.card_field_max_chars}
                dir="auto"
                value={values.value[f.field]}
                aria-invalid={errors.value[f.field] ? true : undefined}
                aria-describedby={describedBy(f.field)}
                onInput={(e) => set(f.field, e.currentTarget.value)}
              />
              {fieldError(f.field)}
            </div>
          ))}
          <div class="field">
            <label for="lead-note">
              {t("lead.note")}
              <span class="optional"> {t("lead.optional")}</span>
            </label>
            <textarea
              id="lead-note"
              rows={3}
              dir="auto"
              maxLength={InputLimits.callback_note_max_chars}
              value={values.value.note}
              aria-invalid={errors.value.note ? true : undefined}
              aria-describedby={describedBy("note")}
              onInput={(e) => set("note", e.currentTarget.value)}
            />
            {fieldError("note")}
          </div>
          <Checkbox
            id="lead-consent"
            label={t("lead.consent", { name: booth.organisation })}
            value={consent}
            describedBy={describedBy("consent", "lead-consent-help")}
            invalid={Boolean(errors.value.consent)}
          />
          <p id="lead-consent-help" class="help">
            {t("lead.consentHelp")}
          </p>
          {fieldError("consent")}
          <div class="button-row">
            <button type="submit" class="primary" aria-disabled={busy.value || undefined}>
              {card ? t("lead.update") : t("lead.share")}
            </button>
            {card && (
              <button
                type="button"
                class="danger"
                aria-disabled={busy.value || undefined}
                onClick={() => void withdraw()}
              >
                {t("lead.withdraw")}
              </button>
            )}
          </div>
        </form>
      )}
      <p role="status" class="help">
        {result.value}
      </p>
      <ErrorAlert message={failure.value} />
    </section>
  );
}

function focusFirstError(found: Partial<Record<Field | "consent", string>>): void {
  const order: Array<Field | "consent"> = [
    "name",
    "email",
    "organisation",
    "job_title",
    "phone",
    "note",
    "consent",
  ];
  const first = order.find((f) => found[f]);
  if (first) document.getElementById(`lead-${first}`)?.focus();
}
