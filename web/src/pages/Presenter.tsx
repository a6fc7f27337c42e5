import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api, type SessionView } from "../api";
import { PresenterQuestions } from "../components/QaPanel";
import { t } from "../i18n";
import { type SessionRoom, sessionRoom } from "../rooms";
import { followLink } from "../router";
import { connection } from "../session";

/** The presenter view of a session: the question on stage, large enough for a projector. */
export function Presenter(props: { id: string }) {
  const session = useSignal<SessionView | null>(null);
  const room = useSignal<SessionRoom | null>(null);
  const error = useSignal<string | null>(null);
  useEffect(() => {
    let current: SessionRoom | null = null;
    let cancelled = false;
    api.session(props.id).then(
      (s) => {
        if (cancelled) return;
        session.value = s;
        current = sessionRoom(connection, s.room);
        room.value = current;
      },
      (e: unknown) => {
        error.value = e instanceof Error ? e.message : String(e);
      },
    );
    return () => {
      cancelled = true;
      current?.dispose();
    };
  }, [props.id]);
  if (error.value) {
    return (
      <div>
        <h1>{t("room.notFound")}</h1>
        <p role="alert">{error.value}</p>
      </div>
    );
  }
  if (!session.value || !room.value) return <p>{t("app.loading")}</p>;
  return (
    <div class="presenter-page">
      <p>
        <a href={`/sessions/${props.id}`} onClick={followLink}>
          <span aria-hidden="true">← </span>
          {session.value.title}
        </a>
      </p>
      <h1>{t("qa.presenter.title")}</h1>
      <PresenterQuestions qa={room.value.parts.qa} />
    </div>
  );
}
