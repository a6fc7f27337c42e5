//! The REST API under `/api`: public programme reads, organiser endpoints (programme
//! records, imports, role grants) and attendance analytics with CSV exports. Every
//! organiser endpoint checks the caller's bearer token; nothing is open by default.
//! The OpenAPI document is generated from these handlers (utoipa) at `/api/openapi.json`.

// utoipa's generated code for query parameters names their types with full paths.
#![allow(unused_qualifications)]

use std::collections::BTreeMap;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use plenary_proto::{Role, RoomId, StageState};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::problem::Problem;
use crate::AppState;
use crate::auth::Identity;
use crate::domain::analytics::{self, AttendanceReport, CountryCount};
use crate::programme::model::{
    Booth, Event, FieldError, Programme, RoleGrant, Session, SessionKind, Speaker, StageSource, Track, parse_time,
};
use crate::store::{ApplySummary, ProgrammeStore, RecordKind, Store, StoredGrant};

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

/// The largest programme file accepted by `/api/import`.
const IMPORT_MAX_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Plenary", description = "The programme, organiser and analytics API of a Plenary node."),
    paths(
        get_event, put_event, list_tracks, put_track, delete_track, list_speakers, put_speaker, delete_speaker,
        list_sessions, get_session, put_session, delete_session, session_attendance, session_transcript, session_questions, session_polls, session_qa_audit,
        list_booths, get_booth, put_booth, delete_booth, list_grants, add_grant, remove_grant,
        analytics_sessions, analytics_sessions_csv, analytics_event, analytics_event_csv, import, crate::http::guest, crate::http::client_config
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

// ----- the event ---------------------------------------------------------------------

/// The event: name, time zone and dates.
#[utoipa::path(get, path = "/api/event", tag = "programme",
    responses((status = 200, body = Event), (status = 404, body = Problem)))]
async fn get_event(State(state): State<AppState>) -> ApiResult<Json<Event>> {
    programme(&state)?.event().await?.map(Json).ok_or_else(|| Problem::not_found("no event is configured"))
}

/// Sets the event's name, time zone and dates (organisers).
#[utoipa::path(put, path = "/api/event", tag = "organiser", request_body = Event, security(("bearer" = [])),
    responses((status = 200, body = Event), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn put_event(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<Event>, JsonRejection>,
) -> ApiResult<Json<Event>> {
    organiser(&state, &headers)?;
    let mut event = json_body(body)?;
    event.normalise();
    let programme_update = Programme { event: Some(event.clone()), ..Programme::default() };
    save(&state, programme_update).await?;
    Ok(Json(event))
}

/// Puts a programme fragment (one record from a PUT, or an import) through the text rules,
/// validates it and writes it.
async fn save(state: &AppState, mut programme_update: Programme) -> ApiResult<ApplySummary> {
    programme_update.normalise();
    let store = programme(state)?;
    let known_tracks: Vec<String> = store.tracks().await?.into_iter().map(|t| t.id).collect();
    let known_speakers: Vec<String> = store.speakers().await?.into_iter().map(|s| s.id).collect();
    let errors = programme_update.validate(&known_tracks, &known_speakers);
    if !errors.is_empty() {
        return Err(Problem::invalid(format!("{} problem(s) in the input; nothing was written", errors.len()), errors));
    }
    let summary = store.apply(&programme_update).await?;
    if !programme_update.sessions.is_empty() || !programme_update.booths.is_empty() {
        refresh_index(state).await?;
    }
    Ok(summary)
}

/// Rebuilds the in-memory programme index after the programme's sessions or booths changed.
async fn refresh_index(state: &AppState) -> ApiResult<()> {
    if let Some(index) = &state.sessions {
        let store = programme(state)?;
        index.replace(&store.sessions().await?, &store.booths().await?);
    }
    Ok(())
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

/// A programme record that `PUT /api/<kind>/{id}` creates or replaces.
trait PutRecord: Clone {
    fn id(&self) -> &str;
    fn external_id(&self) -> Option<&str>;
    fn into_programme(self) -> Programme;
    /// The text rules on the record's human-visible fields.
    fn normalise(&mut self);
    /// The ids and external ids of the stored records of this kind.
    async fn stored(store: &dyn ProgrammeStore) -> ApiResult<Vec<(String, Option<String>)>>;
}

macro_rules! put_record {
    ($type:ty, $field:ident) => {
        impl PutRecord for $type {
            fn id(&self) -> &str {
                &self.id
            }
            fn external_id(&self) -> Option<&str> {
                self.external_id.as_deref()
            }
            fn into_programme(self) -> Programme {
                Programme { $field: vec![self], ..Programme::default() }
            }
            fn normalise(&mut self) {
                <$type>::normalise(self)
            }
            async fn stored(store: &dyn ProgrammeStore) -> ApiResult<Vec<(String, Option<String>)>> {
                Ok(store.$field().await?.into_iter().map(|r| (r.id, r.external_id)).collect())
            }
        }
    };
}

put_record!(Speaker, speakers);
put_record!(Session, sessions);
put_record!(Booth, booths);

impl PutRecord for Track {
    fn id(&self) -> &str {
        &self.id
    }
    fn external_id(&self) -> Option<&str> {
        None
    }
    fn into_programme(self) -> Programme {
        Programme { tracks: vec![self], ..Programme::default() }
    }
    fn normalise(&mut self) {
        Track::normalise(self)
    }
    async fn stored(_: &dyn ProgrammeStore) -> ApiResult<Vec<(String, Option<String>)>> {
        Ok(Vec::new())
    }
}

/// Creates or replaces the record the path names (organisers). An external id that belongs
/// to another record is refused: the store would update that record instead.
async fn put_record<R: PutRecord>(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    body: Result<Json<R>, JsonRejection>,
) -> ApiResult<Json<R>> {
    organiser(state, headers)?;
    let mut record = json_body(body)?;
    // Normalised here too (`save` does it again), so the answer shows what was stored.
    record.normalise();
    check_path_id(id, record.id())?;
    if let Some(external_id) = record.external_id() {
        let stored = R::stored(programme(state)?).await?;
        if let Some((other, _)) = stored.iter().find(|(other, ext)| ext.as_deref() == Some(external_id) && other != id)
        {
            return Err(Problem::invalid(
                "the external id belongs to another record",
                vec![FieldError::new("external_id", format!("{external_id:?} is the external id of {other:?}"))],
            ));
        }
    }
    save(state, record.clone().into_programme()).await?;
    Ok(Json(record))
}

fn check_path_id(path_id: &str, body_id: &str) -> ApiResult<()> {
    if path_id == body_id {
        Ok(())
    } else {
        Err(Problem::invalid(
            "the id in the path and in the body differ",
            vec![FieldError::new("id", format!("expected {path_id:?}, got {body_id:?}"))],
        ))
    }
}

async fn delete_record(state: &AppState, headers: &HeaderMap, kind: RecordKind, id: &str) -> ApiResult<StatusCode> {
    organiser(state, headers)?;
    if programme(state)?.delete(kind, id).await? {
        if matches!(kind, RecordKind::Session | RecordKind::Booth) {
            refresh_index(state).await?;
        }
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(format!("no record {id:?}")))
    }
}

// ----- tracks and speakers -------------------------------------------------------------

/// Every track, in order.
#[utoipa::path(get, path = "/api/tracks", tag = "programme", responses((status = 200, body = [Track])))]
async fn list_tracks(State(state): State<AppState>) -> ApiResult<Json<Vec<Track>>> {
    Ok(Json(programme(&state)?.tracks().await?))
}

/// Creates or replaces a track (organisers).
#[utoipa::path(put, path = "/api/tracks/{id}", tag = "organiser", request_body = Track, security(("bearer" = [])),
    params(("id" = String, Path, description = "track slug")),
    responses((status = 200, body = Track), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn put_track(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    track: Result<Json<Track>, JsonRejection>,
) -> ApiResult<Json<Track>> {
    put_record(&state, &headers, &id, track).await
}

/// Deletes a track (organisers).
#[utoipa::path(delete, path = "/api/tracks/{id}", tag = "organiser", security(("bearer" = [])),
    params(("id" = String, Path, description = "track slug")),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn delete_track(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    delete_record(&state, &headers, RecordKind::Track, &id).await
}

/// Every speaker, by name.
#[utoipa::path(get, path = "/api/speakers", tag = "programme", responses((status = 200, body = [Speaker])))]
async fn list_speakers(State(state): State<AppState>) -> ApiResult<Json<Vec<Speaker>>> {
    Ok(Json(programme(&state)?.speakers().await?))
}

/// Creates or replaces a speaker (organisers).
#[utoipa::path(put, path = "/api/speakers/{id}", tag = "organiser", request_body = Speaker, security(("bearer" = [])),
    params(("id" = String, Path, description = "speaker slug")),
    responses((status = 200, body = Speaker), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn put_speaker(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    speaker: Result<Json<Speaker>, JsonRejection>,
) -> ApiResult<Json<Speaker>> {
    put_record(&state, &headers, &id, speaker).await
}

/// Deletes a speaker (organisers).
#[utoipa::path(delete, path = "/api/speakers/{id}", tag = "organiser", security(("bearer" = [])),
    params(("id" = String, Path, description = "speaker slug")),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn delete_speaker(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    delete_record(&state, &headers, RecordKind::Speaker, &id).await
}

// ----- sessions --------------------------------------------------------------------------

/// A session with its live state on this node.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    #[serde(flatten)]
    pub session: Session,
    /// The session's live room, to `join` over the WebSocket.
    pub room: String,
    /// Present while the stage is live or on a break.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveNow>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LiveNow {
    /// `live` or `break`.
    pub state: String,
    /// Connections in the room now.
    pub present: u32,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SessionFilter {
    /// A day, `YYYY-MM-DD`, in the event's time zone.
    day: Option<String>,
    /// A track id.
    track: Option<String>,
    /// A tag, e.g. `C3` or `SDG5` (case-insensitive).
    tag: Option<String>,
    /// A language code, e.g. `fr`.
    language: Option<String>,
    /// Only sessions whose stage is live or on a break now.
    live: Option<bool>,
    /// Words that must all appear in the title, description or tags.
    q: Option<String>,
}

fn live_now(state: &AppState) -> BTreeMap<RoomId, LiveNow> {
    state
        .hub
        .live_sessions()
        .into_iter()
        .map(|s| {
            let label = if s.state == StageState::Live { "live" } else { "break" };
            (s.room, LiveNow { state: label.to_owned(), present: s.present })
        })
        .collect()
}

fn view(session: Session, live: &mut BTreeMap<RoomId, LiveNow>) -> SessionView {
    let room = session.room();
    SessionView {
        live: room.as_ref().and_then(|r| live.remove(r)),
        room: room.map(|r| r.to_string()).unwrap_or_default(),
        session,
    }
}

/// The programme, filtered by day, track, tag, language, live state and text.
#[utoipa::path(get, path = "/api/sessions", tag = "programme", params(SessionFilter),
    responses((status = 200, body = [SessionView]), (status = 400, body = Problem)))]
async fn list_sessions(
    State(state): State<AppState>,
    Query(filter): Query<SessionFilter>,
) -> ApiResult<Json<Vec<SessionView>>> {
    let store = programme(&state)?;
    let day_range = match &filter.day {
        Some(day) => Some(day_bounds(day, store.event().await?.as_ref())?),
        None => None,
    };
    let words: Vec<String> = filter.q.as_deref().unwrap_or("").split_whitespace().map(str::to_lowercase).collect();
    let mut live = live_now(&state);
    let sessions = store
        .sessions()
        .await?
        .into_iter()
        .filter(|s| {
            let starts = parse_time(&s.starts_at).unwrap_or(0);
            let ends = parse_time(&s.ends_at).unwrap_or(0);
            day_range.is_none_or(|(from, to)| starts < to && ends > from)
                && filter.track.as_ref().is_none_or(|t| s.track.as_ref() == Some(t))
                && filter.tag.as_ref().is_none_or(|t| s.tags.iter().any(|x| x.eq_ignore_ascii_case(t)))
                && filter.language.as_ref().is_none_or(|l| s.languages.iter().any(|x| x.eq_ignore_ascii_case(l)))
                && words.iter().all(|w| {
                    s.title.to_lowercase().contains(w)
                        || s.description.to_lowercase().contains(w)
                        || s.tags.iter().any(|t| t.to_lowercase() == *w)
                })
        })
        .map(|s| view(s, &mut live))
        .filter(|v| !filter.live.unwrap_or(false) || v.live.is_some())
        .collect();
    Ok(Json(sessions))
}

/// The start and end (Unix ms) of `day` in the event's time zone (UTC without an event).
fn day_bounds(day: &str, event: Option<&Event>) -> ApiResult<(i64, i64)> {
    let date: jiff::civil::Date =
        day.parse().map_err(|_| Problem::bad_request(format!("day {day:?} is not a YYYY-MM-DD date")))?;
    let zone = event.and_then(|e| jiff::tz::TimeZone::get(&e.time_zone).ok()).unwrap_or(jiff::tz::TimeZone::UTC);
    let start = date.to_zoned_datetime(zone.clone()).map_err(|e| Problem::bad_request(e.to_string()))?;
    let end =
        date.tomorrow().and_then(|d| d.to_zoned_datetime(zone)).map_err(|e| Problem::bad_request(e.to_string()))?;
    Ok((start.timestamp().as_millisecond(), end.timestamp().as_millisecond()))
}

async fn find_session(state: &AppState, id: &str) -> ApiResult<Session> {
    programme(state)?
        .sessions()
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| Problem::not_found(format!("no session {id:?}")))
}

/// One session.
#[utoipa::path(get, path = "/api/sessions/{id}", tag = "programme",
    params(("id" = String, Path, description = "session slug")),
    responses((status = 200, body = SessionView), (status = 404, body = Problem)))]
async fn get_session(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<SessionView>> {
    let session = find_session(&state, &id).await?;
    Ok(Json(view(session, &mut live_now(&state))))
}

/// Creates or replaces a session (organisers).
#[utoipa::path(put, path = "/api/sessions/{id}", tag = "organiser", request_body = Session, security(("bearer" = [])),
    params(("id" = String, Path, description = "session slug")),
    responses((status = 200, body = Session), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn put_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    session: Result<Json<Session>, JsonRejection>,
) -> ApiResult<Json<Session>> {
    put_record(&state, &headers, &id, session).await
}

/// Deletes a session (organisers). Its record (chat, attendance) is kept.
#[utoipa::path(delete, path = "/api/sessions/{id}", tag = "organiser", security(("bearer" = [])),
    params(("id" = String, Path, description = "session slug")),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn delete_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    delete_record(&state, &headers, RecordKind::Session, &id).await
}

// ----- booths --------------------------------------------------------------------------

/// Every exhibition booth.
#[utoipa::path(get, path = "/api/booths", tag = "programme", responses((status = 200, body = [Booth])))]
async fn list_booths(State(state): State<AppState>) -> ApiResult<Json<Vec<Booth>>> {
    Ok(Json(programme(&state)?.booths().await?))
}

/// One booth.
#[utoipa::path(get, path = "/api/booths/{id}", tag = "programme",
    params(("id" = String, Path, description = "booth slug")),
    responses((status = 200, body = Booth), (status = 404, body = Problem)))]
async fn get_booth(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Booth>> {
    programme(&state)?
        .booths()
        .await?
        .into_iter()
        .find(|b| b.id == id)
        .map(Json)
        .ok_or_else(|| Problem::not_found(format!("no booth {id:?}")))
}

/// Creates or replaces a booth (organisers).
#[utoipa::path(put, path = "/api/booths/{id}", tag = "organiser", request_body = Booth, security(("bearer" = [])),
    params(("id" = String, Path, description = "booth slug")),
    responses((status = 200, body = Booth), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn put_booth(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    booth: Result<Json<Booth>, JsonRejection>,
) -> ApiResult<Json<Booth>> {
    put_record(&state, &headers, &id, booth).await
}

/// Deletes a booth (organisers).
#[utoipa::path(delete, path = "/api/booths/{id}", tag = "organiser", security(("bearer" = [])),
    params(("id" = String, Path, description = "booth slug")),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn delete_booth(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    delete_record(&state, &headers, RecordKind::Booth, &id).await
}

// ----- role grants -----------------------------------------------------------------------

/// Every role grant (organisers).
#[utoipa::path(get, path = "/api/grants", tag = "organiser", security(("bearer" = [])),
    responses((status = 200, body = [StoredGrant]), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_grants(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Json<Vec<StoredGrant>>> {
    organiser(&state, &headers)?;
    Ok(Json(programme(&state)?.grants().await?))
}

fn check_grant(state_sessions: &[Session], grant: &RoleGrant) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if plenary_proto::UserId::parse(grant.user.as_str()).is_err() {
        errors.push(FieldError::new("user", "not a valid user id"));
    }
    match Role::parse(&grant.role) {
        None | Some(Role::Attendee) => {
            errors.push(FieldError::new("role", "one of moderator, speaker, exhibitor, organiser"))
        }
        Some(Role::Organiser) if grant.scope.is_some() => {
            errors.push(FieldError::new("scope", "an organiser grant is event-wide: leave scope out"))
        }
        Some(Role::Moderator | Role::Speaker) => {
            if let Some(scope) = &grant.scope
                && !state_sessions.iter().any(|s| &s.id == scope)
            {
                errors.push(FieldError::new("scope", format!("no session {scope:?}")));
            }
        }
        _ => {}
    }
    errors
}

/// Grants a role, event-wide or for one session or booth (organisers). The user's open
/// connections close with 4005 (on other nodes within their programme reload) and
/// reconnect with the new rights.
#[utoipa::path(post, path = "/api/grants", tag = "organiser", request_body = RoleGrant, security(("bearer" = [])),
    responses((status = 201, body = RoleGrant), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn add_grant(
    State(state): State<AppState>,
    headers: HeaderMap,
    grant: Result<Json<RoleGrant>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<RoleGrant>)> {
    let by = organiser(&state, &headers)?;
    let grant = json_body(grant)?;
    let store = programme(&state)?;
    let errors = check_grant(&store.sessions().await?, &grant);
    if !errors.is_empty() {
        return Err(Problem::invalid("the grant is not valid", errors));
    }
    store.grant(&grant, by.user().as_str(), crate::clock::unix_millis()).await?;
    state.grants.add(grant.clone());
    state.user_connections.close_user(&grant.user, plenary_proto::CloseCode::RightsChanged);
    Ok((StatusCode::CREATED, Json(grant)))
}

/// Revokes a role grant (organisers): the user's open connections close with 4005 at once
/// here and within the programme reload (10 s) on other nodes.
#[utoipa::path(delete, path = "/api/grants", tag = "organiser", request_body = RoleGrant, security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn remove_grant(
    State(state): State<AppState>,
    headers: HeaderMap,
    grant: Result<Json<RoleGrant>, JsonRejection>,
) -> ApiResult<StatusCode> {
    organiser(&state, &headers)?;
    let grant = json_body(grant)?;
    if programme(&state)?.revoke(&grant).await? {
        state.grants.remove(&grant);
        state.user_connections.close_user(&grant.user, plenary_proto::CloseCode::RightsChanged);
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found("no such grant"))
    }
}

// ----- imports -------------------------------------------------------------------------------

#[derive(Debug, Deserialize, IntoParams)]
pub struct ImportParams {
    /// `json` (the native format), `csv` (one file of one kind), or `pretalx` (a
    /// pretalx / frab `schedule.json` export).
    format: String,
    /// For `csv`: `tracks`, `speakers`, `sessions` or `booths`.
    kind: Option<String>,
}

/// Imports a programme file (organisers). All or nothing: any problem, in the file or in
/// what it refers to, is reported with its line or path and nothing is written. Records
/// with an external id update the record imported before under that id.
#[utoipa::path(post, path = "/api/import", tag = "organiser", params(ImportParams), security(("bearer" = [])),
    request_body(content = String, description = "the file", content_type = "text/plain"),
    responses((status = 200, body = ApplySummary), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn import(State(state): State<AppState>, request: axum::extract::Request) -> ApiResult<Json<ApplySummary>> {
    // The caller is checked before the body is read: nobody else makes the node buffer a file.
    organiser(&state, request.headers())?;
    let params = Query::<ImportParams>::try_from_uri(request.uri()).map_err(|e| Problem::bad_request(e.body_text()))?.0;
    let bytes = axum::body::to_bytes(request.into_body(), IMPORT_MAX_BYTES)
        .await
        .map_err(|_| Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", "the file is larger than 16 MiB"))?;
    let body = String::from_utf8(bytes.to_vec()).map_err(|_| Problem::bad_request("the file is not UTF-8 text"))?;
    use crate::programme::import;
    let parsed = match params.format.as_str() {
        "json" => import::from_json(&body),
        "pretalx" => import::from_pretalx(&body),
        "csv" => {
            let kind = params
                .kind
                .as_deref()
                .and_then(import::CsvKind::parse)
                .ok_or_else(|| Problem::bad_request("csv needs kind=tracks, speakers, sessions or booths"))?;
            import::from_csv(kind, &body)
        }
        other => return Err(Problem::bad_request(format!("unknown format {other:?}: json, csv or pretalx"))),
    };
    let programme_update = parsed.map_err(|errors| {
        Problem::invalid(format!("{} problem(s) in the file; nothing was written", errors.len()), errors)
    })?;
    Ok(Json(save(&state, programme_update).await?))
}

// ----- analytics and exports ---------------------------------------------------------------

/// One session's attendance.
#[utoipa::path(get, path = "/api/sessions/{id}/attendance", tag = "analytics", security(("bearer" = [])),
    params(("id" = String, Path, description = "session slug")),
    responses((status = 200, body = AttendanceReport), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn session_attendance(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<AttendanceReport>> {
    organiser(&state, &headers)?;
    let session = find_session(&state, &id).await?;
    let room = session.room().ok_or_else(|| Problem::not_found("the session has no room"))?;
    let visits = records(&state)?.visits(Some(&room)).await?;
    Ok(Json(analytics::report(&visits, open_visits_end(&session))))
}

/// One session's chat transcript as CSV, deleted messages included and marked.
#[utoipa::path(get, path = "/api/sessions/{id}/transcript.csv", tag = "analytics", security(("bearer" = [])),
    params(("id" = String, Path, description = "session slug")),
    responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = Problem),
        (status = 403, body = Problem)))]
async fn session_transcript(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    organiser(&state, &headers)?;
    let room = RoomId::session(&id).map_err(|e| Problem::bad_request(e.to_string()))?;
    let lines = records(&state)?.transcript(&room).await?;
    let mut csv = csv::Writer::from_writer(Vec::new());
    let _ = csv.write_record(["id", "at", "author_id", "author_name", "country", "text", "deleted_at", "deleted_by"]);
    for line in lines {
        let m = line.message;
        let _ = csv.write_record([
            m.id.to_string(),
            crate::programme::model::format_time(m.at),
            cell(m.author.id.to_string()),
            cell(m.author.name),
            m.author.country.unwrap_or_default(),
            cell(m.text),
            line.deleted_at.map(crate::programme::model::format_time).unwrap_or_default(),
            line.deleted_by.unwrap_or_default(),
        ]);
    }
    Ok(csv_response(csv, &format!("transcript-{id}.csv")))
}

/// One session's questions as CSV (moderators and organisers): every question in every
/// state, with its votes, times and who answered it; the asker of an anonymous question only
/// where the event allows moderators to see it.
#[utoipa::path(get, path = "/api/sessions/{id}/questions.csv", tag = "analytics", security(("bearer" = [])),
    params(("id" = String, Path, description = "session slug")),
    responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = Problem),
        (status = 403, body = Problem)))]
async fn session_questions(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    moderator_or_organiser(&state, &headers, "export questions")?;
    let room = RoomId::session(&id).map_err(|e| Problem::bad_request(e.to_string()))?;
    let questions = records(&state)?.questions(&room).await?;
    let reveal = state.settings.qa_reveal_anonymous;
    let mut csv = csv::Writer::from_writer(Vec::new());
    let _ = csv.write_record([
        "id",
        "asked_at",
        "state",
        "votes",
        "text",
        "anonymous",
        "asker_id",
        "asker_name",
        "answered_by",
        "updated_at",
    ]);
    for q in questions {
        let named = !q.anonymous || reveal;
        let state_name = serde_json::to_value(q.state).ok().and_then(|v| v.as_str().map(str::to_owned));
        let _ = csv.write_record([
            q.id.clone(),
            crate::programme::model::format_time(q.asked_at),
            state_name.unwrap_or_default(),
            q.votes.len().to_string(),
            cell(q.text),
            q.anonymous.to_string(),
            if named { cell(q.asker.to_string()) } else { String::new() },
            if named { cell(q.asker_name) } else { String::new() },
            q.answered_by.map(|u| cell(u.to_string())).unwrap_or_default(),
            crate::programme::model::format_time(q.updated_at),
        ]);
    }
    Ok(csv_response(csv, &format!("questions-{id}.csv")))
}

/// One session's Q&A and poll audit log (organisers): every change of every question and
/// poll, who made it and when, oldest first.
#[utoipa::path(get, path = "/api/sessions/{id}/qa-audit", tag = "analytics", security(("bearer" = [])),
    params(("id" = String, Path, description = "session slug")),
    responses((status = 200, body = [crate::store::AuditLine]), (status = 401, body = Problem),
        (status = 403, body = Problem)))]
async fn session_qa_audit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<crate::store::AuditLine>>> {
    organiser(&state, &headers)?;
    let room = RoomId::session(&id).map_err(|e| Problem::bad_request(e.to_string()))?;
    Ok(Json(records(&state)?.qa_audit(&room).await?))
}

/// One session's poll results as CSV (moderators and organisers): a line per option, with
/// its count and the poll's voters.
#[utoipa::path(get, path = "/api/sessions/{id}/polls.csv", tag = "analytics", security(("bearer" = [])),
    params(("id" = String, Path, description = "session slug")),
    responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = Problem),
        (status = 403, body = Problem)))]
async fn session_polls(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    moderator_or_organiser(&state, &headers, "export polls")?;
    let room = RoomId::session(&id).map_err(|e| Problem::bad_request(e.to_string()))?;
    let (polls, answers) = records(&state)?.polls(&room).await?;
    let mut board = crate::domain::poll::PollBoard::default();
    for poll in polls.iter().cloned() {
        board.polls.insert(poll.id.clone(), poll);
    }
    for (poll, user, choices) in answers {
        board.answers.entry(poll).or_default().insert(user, choices);
    }
    let mut csv = csv::Writer::from_writer(Vec::new());
    let _ =
        csv.write_record(["poll_id", "question", "state", "created_at", "option", "option_text", "count", "voters"]);
    for poll in &polls {
        let Some((counts, voters)) = board.tally(&poll.id) else { continue };
        let state_name = serde_json::to_value(poll.state).ok().and_then(|v| v.as_str().map(str::to_owned));
        for (index, (option, count)) in poll.options.iter().zip(counts).enumerate() {
            let _ = csv.write_record([
                poll.id.clone(),
                cell(poll.question.clone()),
                state_name.clone().unwrap_or_default(),
                crate::programme::model::format_time(poll.created_at),
                index.to_string(),
                cell(option.clone()),
                count.to_string(),
                voters.to_string(),
            ]);
        }
    }
    Ok(csv_response(csv, &format!("polls-{id}.csv")))
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

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionAnalytics {
    pub session: String,
    pub title: String,
    pub starts_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub track: Option<String>,
    pub attendance: AttendanceReport,
}

/// How long after a session's scheduled end a visit still open counts as going on.
const OVERRUN_MS: i64 = 3_600_000;

/// When a visit still open at the time of a report counts as ended. During a session (and
/// an hour after its scheduled end, for overruns) that is now; later it is the session's end,
/// so visits whose end was never recorded (a node that crashed) do not grow a finished
/// session's figures for ever.
fn open_visits_end(session: &Session) -> i64 {
    let now = crate::clock::unix_millis();
    match parse_time(&session.ends_at) {
        Ok(end) if now > end + OVERRUN_MS => end,
        _ => now,
    }
}

async fn session_reports(state: &AppState) -> ApiResult<Vec<SessionAnalytics>> {
    let sessions = programme(state)?.sessions().await?;
    let visits = records(state)?.visits(None).await?;
    let mut by_room: BTreeMap<&RoomId, Vec<&crate::store::Visit>> = BTreeMap::new();
    for visit in &visits {
        by_room.entry(&visit.room).or_default().push(visit);
    }
    Ok(sessions
        .into_iter()
        .map(|s| {
            let room = s.room();
            let visits = room.as_ref().and_then(|r| by_room.get(r)).cloned().unwrap_or_default();
            SessionAnalytics {
                attendance: analytics::report(visits, open_visits_end(&s)),
                session: s.id,
                title: s.title,
                starts_at: s.starts_at,
                track: s.track,
            }
        })
        .collect())
}

/// Attendance of every session (organisers).
#[utoipa::path(get, path = "/api/analytics/sessions", tag = "analytics", security(("bearer" = [])),
    responses((status = 200, body = [SessionAnalytics]), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn analytics_sessions(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<SessionAnalytics>>> {
    organiser(&state, &headers)?;
    Ok(Json(session_reports(&state).await?))
}

/// Attendance of every session as CSV (organisers).
#[utoipa::path(get, path = "/api/analytics/sessions.csv", tag = "analytics", security(("bearer" = [])),
    responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = Problem),
        (status = 403, body = Problem)))]
async fn analytics_sessions_csv(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    organiser(&state, &headers)?;
    let mut csv = csv::Writer::from_writer(Vec::new());
    let _ = csv.write_record([
        "session",
        "title",
        "starts_at",
        "track",
        "unique_attendees",
        "peak_concurrent",
        "average_minutes",
        "top_countries",
    ]);
    for row in session_reports(&state).await? {
        let a = row.attendance;
        let countries: Vec<String> = a.top_countries.iter().map(|c| format!("{}:{}", c.country, c.attendees)).collect();
        let _ = csv.write_record([
            row.session,
            cell(row.title),
            row.starts_at,
            row.track.unwrap_or_default(),
            a.unique_attendees.to_string(),
            a.peak_concurrent.to_string(),
            format!("{:.1}", a.average_minutes),
            countries.join(" "),
        ]);
    }
    Ok(csv_response(csv, "attendance-by-session.csv"))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupAnalytics {
    /// The day (`YYYY-MM-DD`, event time zone) or track id.
    pub key: String,
    pub attendance: AttendanceReport,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventAnalytics {
    pub total: AttendanceReport,
    pub by_day: Vec<GroupAnalytics>,
    pub by_track: Vec<GroupAnalytics>,
}

/// The event's attendance in all, by day and by track (organisers).
#[utoipa::path(get, path = "/api/analytics/event", tag = "analytics", security(("bearer" = [])),
    responses((status = 200, body = EventAnalytics), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn analytics_event(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Json<EventAnalytics>> {
    organiser(&state, &headers)?;
    Ok(Json(event_report(&state).await?))
}

/// The event's attendance as CSV: one row in all, then one per day and per track
/// (organisers).
#[utoipa::path(get, path = "/api/analytics/event.csv", tag = "analytics", security(("bearer" = [])),
    responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = Problem),
        (status = 403, body = Problem)))]
async fn analytics_event_csv(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    organiser(&state, &headers)?;
    let report = event_report(&state).await?;
    let mut csv = csv::Writer::from_writer(Vec::new());
    let _ =
        csv.write_record(["group", "key", "unique_attendees", "peak_concurrent", "average_minutes", "top_countries"]);
    let mut row = |group: &str, key: &str, a: &AttendanceReport| {
        let countries: Vec<String> = a.top_countries.iter().map(|c| format!("{}:{}", c.country, c.attendees)).collect();
        let _ = csv.write_record([
            group.to_owned(),
            key.to_owned(),
            a.unique_attendees.to_string(),
            a.peak_concurrent.to_string(),
            format!("{:.1}", a.average_minutes),
            countries.join(" "),
        ]);
    };
    row("event", "", &report.total);
    for day in &report.by_day {
        row("day", &day.key, &day.attendance);
    }
    for track in &report.by_track {
        row("track", &track.key, &track.attendance);
    }
    Ok(csv_response(csv, "attendance-by-day-and-track.csv"))
}

async fn event_report(state: &AppState) -> ApiResult<EventAnalytics> {
    let store = programme(state)?;
    let zone = store
        .event()
        .await?
        .and_then(|e| jiff::tz::TimeZone::get(&e.time_zone).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let sessions = store.sessions().await?;
    let mut visits = records(state)?.visits(None).await?;
    let now = crate::clock::unix_millis();
    let session_of: BTreeMap<RoomId, &Session> = sessions.iter().filter_map(|s| Some((s.room()?, s))).collect();
    for visit in &mut visits {
        if visit.left_at.is_none()
            && let Some(session) = session_of.get(&visit.room)
        {
            visit.left_at = Some(open_visits_end(session).max(visit.joined_at));
        }
    }
    let mut by_day: BTreeMap<String, Vec<&crate::store::Visit>> = BTreeMap::new();
    let mut by_track: BTreeMap<String, Vec<&crate::store::Visit>> = BTreeMap::new();
    let mut all = Vec::new();
    for visit in &visits {
        let Some(session) = session_of.get(&visit.room) else { continue };
        all.push(visit);
        let day = jiff::Timestamp::from_millisecond(parse_time(&session.starts_at).unwrap_or(0))
            .map(|t| t.to_zoned_datetime(zone.clone()).date().to_string())
            .unwrap_or_default();
        by_day.entry(day).or_default().push(visit);
        if let Some(track) = &session.track {
            by_track.entry(track.clone()).or_default().push(visit);
        }
    }
    let group = |groups: BTreeMap<String, Vec<&crate::store::Visit>>| -> Vec<GroupAnalytics> {
        groups
            .into_iter()
            .map(|(key, visits)| GroupAnalytics { key, attendance: analytics::report(visits, now) })
            .collect()
    };
    Ok(EventAnalytics { total: analytics::report(all, now), by_day: group(by_day), by_track: group(by_track) })
}
