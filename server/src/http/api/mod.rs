//! The REST API under `/api`: its router, its OpenAPI document and the helpers every
//! endpoint shares (the caller's bearer token and roles, JSON bodies, CSV responses). The
//! endpoints themselves live by resource: `programme` (the event, tracks, speakers,
//! sessions and booths), `import` (programme files), `grants` (role grants) and
//! `reports` (attendance, transcripts, Q&A and poll exports, analytics). Every organiser
//! endpoint checks the caller's bearer token; nothing is open by default. The OpenAPI
//! document is generated from these handlers (utoipa) at `/api/openapi.json`.

// utoipa's generated code for query parameters names their types with full paths.
#![allow(unused_qualifications)]

use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use plenary_proto::Role;
use utoipa::OpenApi;

use super::problem::Problem;
use crate::AppState;
use crate::auth::Identity;
use crate::domain::analytics::{AttendanceReport, CountryCount};
use crate::programme::model::{Booth, Event, FieldError, RoleGrant, Session, SessionKind, Speaker, StageSource, Track};
use crate::store::{ApplySummary, ProgrammeStore, Store, StoredGrant};

mod grants;
mod import;
mod programme;
mod reports;

pub use import::ImportParams;
pub use programme::{LiveNow, SessionFilter, SessionView};
pub use reports::{EventAnalytics, GroupAnalytics, SessionAnalytics};

use grants::{add_grant, list_grants, remove_grant};
use import::import;
use programme::{
    delete_booth, delete_session, delete_speaker, delete_track, get_booth, get_event, get_session, list_booths,
    list_sessions, list_speakers, list_tracks, put_booth, put_event, put_session, put_speaker, put_track,
};
use reports::{
    analytics_event, analytics_event_csv, analytics_sessions, analytics_sessions_csv, session_attendance,
    session_polls, session_qa_audit, session_questions, session_transcript,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/api/event", get(get_event).put(put_event))
        .route("/api/tracks", get(list_tracks))
        .route("/api/tracks/{id}", put(put_track).delete(delete_track))
        .route("/api/speakers", get(list_speakers))
        .route("/api/speakers/{id}", put(put_speaker).delete(delete_speaker))
        .route("/api/sessions", get(list_sessions))
        .route("/api/sessions/{id}", get(get_session).put(put_session).delete(delete_session))
        .route("/api/sessions/{id}/attendance", get(session_attendance))
        .route("/api/sessions/{id}/transcript.csv", get(session_transcript))
        .route("/api/sessions/{id}/questions.csv", get(session_questions))
        .route("/api/sessions/{id}/polls.csv", get(session_polls))
        .route("/api/sessions/{id}/qa-audit", get(session_qa_audit))
        .route("/api/booths", get(list_booths))
        .route("/api/booths/{id}", get(get_booth).put(put_booth).delete(delete_booth))
        .route("/api/grants", get(list_grants).post(add_grant).delete(remove_grant))
        .route("/api/analytics/sessions", get(analytics_sessions))
        .route("/api/analytics/sessions.csv", get(analytics_sessions_csv))
        .route("/api/analytics/event", get(analytics_event))
        .route("/api/analytics/event.csv", get(analytics_event_csv))
        .route("/api/import", axum::routing::post(import))
}

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Plenary", description = "The programme, organiser and analytics API of a Plenary node."),
    paths(
        programme::get_event, programme::put_event, programme::list_tracks, programme::put_track,
        programme::delete_track, programme::list_speakers, programme::put_speaker, programme::delete_speaker,
        programme::list_sessions, programme::get_session, programme::put_session, programme::delete_session,
        reports::session_attendance, reports::session_transcript, reports::session_questions, reports::session_polls,
        reports::session_qa_audit, programme::list_booths, programme::get_booth, programme::put_booth,
        programme::delete_booth, grants::list_grants, grants::add_grant, grants::remove_grant,
        reports::analytics_sessions, reports::analytics_sessions_csv, reports::analytics_event,
        reports::analytics_event_csv, import::import, crate::http::guest, crate::http::client_config
    ),
    components(schemas(
        Problem, FieldError, Event, Track, Speaker, Session, SessionKind, StageSource, Booth, RoleGrant,
        StoredGrant, ApplySummary, SessionView, LiveNow, AttendanceReport, CountryCount, SessionAnalytics,
        EventAnalytics, GroupAnalytics
    )),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

async fn openapi() -> Response {
    let mut doc = ApiDoc::openapi();
    doc.merge(super::booths::BoothsDoc::openapi());
    doc.merge(super::access::AccessDoc::openapi());
    ([(header::CONTENT_TYPE, "application/json")], doc.to_json().unwrap_or_default()).into_response()
}

pub(super) type ApiResult<T> = Result<T, Problem>;

pub(super) fn programme(state: &AppState) -> ApiResult<&dyn ProgrammeStore> {
    state.programme.as_deref().ok_or_else(Problem::no_database)
}

pub(super) fn records(state: &AppState) -> ApiResult<&dyn Store> {
    state.records.as_deref().ok_or_else(Problem::no_database)
}

/// The caller named by the `Authorization: Bearer` token, with the roles granted to them.
pub(super) fn caller(state: &AppState, headers: &HeaderMap) -> ApiResult<Identity> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| Problem::unauthorized("send a token: Authorization: Bearer <token>"))?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| Problem::unauthorized("the Authorization header must be \"Bearer <token>\""))?;
    let identity = state.verifier.verify(token).map_err(|e| Problem::unauthorized(e.to_string()))?;
    if identity.token_id.as_deref().is_some_and(|jti| state.access.is_revoked(jti)) {
        return Err(Problem::unauthorized("this token was revoked; sign in again"));
    }
    if let Some(ban) = state.access.event_ban(identity.user().as_str(), crate::clock::unix_millis()) {
        return Err(Problem::forbidden(ban.explain()));
    }
    let grants = state.grants.of(identity.user().as_str());
    Ok(identity.with_grants(&grants))
}

fn moderator_or_organiser(state: &AppState, headers: &HeaderMap, what: &str) -> ApiResult<Identity> {
    let identity = caller(state, headers)?;
    if identity.has(Role::Organiser) || identity.has(Role::Moderator) {
        Ok(identity)
    } else {
        Err(Problem::forbidden(format!("only moderators and organisers {what}")))
    }
}

pub(super) fn organiser(state: &AppState, headers: &HeaderMap) -> ApiResult<Identity> {
    let identity = caller(state, headers)?;
    if identity.has(Role::Organiser) { Ok(identity) } else { Err(Problem::forbidden("only organisers may do this")) }
}

/// The request's JSON body, or a problem naming what is wrong with it. Authorisation is
/// checked before this, so a caller without rights learns nothing about the body.
pub(super) fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> ApiResult<T> {
    match body {
        Ok(Json(value)) => Ok(value),
        Err(rejection) => {
            let status = rejection.status();
            let detail = rejection.body_text();
            let mut problem = Problem::new(status, "bad-body", detail.clone());
            if status == StatusCode::UNPROCESSABLE_ENTITY {
                problem.errors.push(FieldError::new("body", detail));
            }
            Err(problem)
        }
    }
}

/// A CSV cell that a spreadsheet shows as text: user-supplied text starting with `=`, `+`,
/// `-`, `@` or a control character would otherwise run as a formula when an organiser opens
/// the export (OWASP's CSV injection).
pub(super) fn cell(value: impl Into<String>) -> String {
    let value = value.into();
    if value.starts_with(['=', '+', '-', '@', '\t', '\r', '\n']) { format!("'{value}") } else { value }
}

pub(super) fn csv_response(writer: csv::Writer<Vec<u8>>, filename: &str) -> Response {
    let body = writer.into_inner().unwrap_or_default();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        body,
    )
        .into_response()
}
