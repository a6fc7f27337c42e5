import { credentials, signOut } from "./auth";
import { ConnectionBanner } from "./components/ConnectionBanner";
import { t } from "./i18n";
import { Booth } from "./pages/Booth";
import { Call } from "./pages/Call";
import { Expo } from "./pages/Expo";
import { Green } from "./pages/Green";
import { Presenter } from "./pages/Presenter";
import { Programme } from "./pages/Programme";
import { Room } from "./pages/Room";
import { SignIn } from "./pages/SignIn";
import { followLink, route } from "./router";
import { announcement } from "./session";

/** The page frame: skip link, banner with navigation, connection status, the page. */
export function App() {
  const signedIn = credentials.value;
  const current = route.value;
  return (
    <>
      <a class="skip-link" href="#main">
        {t("app.skip")}
      </a>
      <header class="site-header">
        <a class="brand" href="/" onClick={followLink}>
          {t("app.name")}
        </a>
        {signedIn && (
          <nav aria-label={t("nav.main")}>
            <a href="/" onClick={followLink} aria-current={current.page === "programme" ? "page" : undefined}>
              {t("nav.programme")}
            </a>
            <a href="/expo" onClick={followLink} aria-current={current.page === "expo" ? "page" : undefined}>
              {t("nav.expo")}
            </a>
          </nav>
        )}
        {signedIn && (
          <div class="account">
            <span>{t("nav.signedInAs", { name: signedIn.name })}</span>
            <button type="button" onClick={() => signOut()}>
              {t("nav.signOut")}
            </button>
          </div>
        )}
      </header>
      {signedIn && <ConnectionBanner />}
      {signedIn && announcement.value && (
        <aside class="announcement" aria-label={t("announcement.label")}>
          <p>
            <strong>{announcement.value.by.name}: </strong>
            <span dir="auto">{announcement.value.text}</span>
          </p>
          <button
            type="button"
            onClick={() => {
              announcement.value = null;
            }}
          >
            {t("announcement.dismiss")}
          </button>
        </aside>
      )}
      <main id="main" tabIndex={-1}>
        {!signedIn ? (
          <SignIn />
        ) : current.page === "session" ? (
          <Room key={current.id} id={current.id} />
        ) : current.page === "green" ? (
          <Green key={current.id} id={current.id} />
        ) : current.page === "presenter" ? (
          <Presenter key={current.id} id={current.id} />
        ) : current.page === "programme" ? (
          <Programme />
        ) : current.page === "expo" ? (
          <Expo />
        ) : current.page === "booth" ? (
          <Booth key={current.id} id={current.id} />
        ) : current.page === "call" ? (
          <Call key={current.id} id={current.id} />
        ) : (
          <h1>{t("room.notFound")}</h1>
        )}
      </main>
    </>
  );
}
