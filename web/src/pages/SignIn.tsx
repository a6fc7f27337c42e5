import { useSignal } from "@preact/signals";
import { useEffect, useMemo, useRef } from "preact/hooks";
import { ApiError, api, type ClientConfig } from "../api";
import { signIn, signOutReason } from "../auth";
import { ErrorAlert } from "../components/ErrorAlert";
import { COUNTRY_CODES } from "../countries";
import { countryName } from "../format";
import { t } from "../i18n";
import { InputLimits } from "../proto.gen";

export function SignIn() {
  const config = useSignal<ClientConfig | null>(null);
  const name = useSignal("");
  const country = useSignal("");
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    heading.current?.focus();
    api
      .client()
      .then((c) => {
        config.value = c;
      })
      .catch((e: unknown) => {
        error.value = t("signin.error.generic", { message: e instanceof Error ? e.message : String(e) });
      });
  }, []);

  const countries = useMemo(
    () =>
      COUNTRY_CODES.map((code) => ({ code, name: countryName(code) })).sort((a, b) =>
        a.name.localeCompare(b.name),
      ),
    [],
  );

  const submit = async (event: Event) => {
    event.preventDefault();
    const trimmed = name.value.trim();
    if (trimmed.length === 0 || [...trimmed].length > InputLimits.name_max_chars) {
      error.value = t("signin.error.name");
      return;
    }
    busy.value = true;
    error.value = null;
    try {
      const grant = await api.guest(trimmed, country.value || null);
      signIn(grant.token);
    } catch (e) {
      error.value = t("signin.error.generic", { message: e instanceof ApiError ? e.message : String(e) });
    } finally {
      busy.value = false;
    }
  };

  return (
    <div class="signin">
      <h1 ref={heading} tabIndex={-1}>
        {t("signin.title")}
      </h1>
      <p>{t("signin.intro")}</p>
      {signOutReason.value && (
        <p class="notice" role="alert">
          {signOutReason.value}
        </p>
      )}
      {config.value?.guest_signin && (
        <form class="card" onSubmit={submit} aria-labelledby="guest-heading" noValidate>
          <h2 id="guest-heading">{t("signin.guest.heading")}</h2>
          <label for="guest-name">{t("signin.guest.name")}</label>
          <input
            id="guest-name"
            name="name"
            autoComplete="name"
            required
            maxLength={InputLimits.name_max_chars}
            aria-describedby="guest-name-help"
            value={name.value}
            onInput={(e) => {
              name.value = e.currentTarget.value;
            }}
          />
          <p id="guest-name-help" class="help">
            {t("signin.guest.nameHelp")}
          </p>
          <label for="guest-country">{t("signin.guest.country")}</label>
          <select
            id="guest-country"
            name="country"
            autoComplete="country"
            value={country.value}
            onChange={(e) => {
              country.value = e.currentTarget.value;
            }}
          >
            <option value="">{t("signin.guest.countryNone")}</option>
            {countries.map((c) => (
              <option key={c.code} value={c.code}>
                {c.name}
              </option>
            ))}
          </select>
          <button type="submit" class="primary" disabled={busy.value}>
            {busy.value ? t("signin.guest.busy") : t("signin.guest.submit")}
          </button>
        </form>
      )}
      {config.value && !config.value.guest_signin && <p class="notice">{t("signin.guest.disabled")}</p>}
      <ErrorAlert message={error.value} />
      <section class="card" aria-labelledby="token-heading">
        <h2 id="token-heading">{t("signin.token.heading")}</h2>
        <p>{t("signin.token.help")}</p>
      </section>
    </div>
  );
}
