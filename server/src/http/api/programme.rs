//! The programme endpoints: reading and writing the event, tracks, speakers, sessions
//! (filtered, with their live state on this node) and booths. Writes are for organisers;
//! every write goes through the text rules and the programme's validation before it is
//! stored, and a change to sessions or booths rebuilds the in-memory programme index.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use plenary_proto::{RoomId, StageState};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiResult, json_body, organiser, programme};
use crate::AppState;
use crate::http::problem::Problem;
use crate::programme::model::{Booth, Event, FieldError, Programme, Session, Speaker, Track, parse_time};
use crate::store::{ApplySummary, ProgrammeStore, RecordKind};

// ----- the event ---------------------------------------------------------------------

/// The event: name, time zone and dates.
#[utoipa::path(get, path = "/api/event", tag = "programme",
    responses((status = 200, body = Event), (status = 404, body = Problem)))]
pub(super) async fn get_event(State(state): State<AppState>) -> ApiResult<Json<Event>> {
    programme(&state)?.event().await?.map(Json).ok_or_else(|| Problem::not_found("no event is configured"))
}

/// Sets the event's name, time zone and dates (organisers).
#[utoipa::path(put, path = "/api/event", tag = "organiser", request_body = Event, security(("bearer" = [])),
    responses((status = 200, body = Event), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
pub(super) async fn put_event(
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
pub(super) async fn save(state: &AppState, mut programme_update: Programme) -> ApiResult<ApplySummary> {
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
pub(super) async fn list_tracks(State(state): State<AppState>) -> ApiResult<Json<Vec<Track>>> {
    Ok(Json(programme(&state)?.tracks().await?))
}

/// Creates or replaces a track (organisers).
#[utoipa::path(put, path = "/api/tracks/{id}", tag = "organiser", request_body = Track, security(("bearer" = [])),
    params(("id" = String, Path, description = "track slug")),
    responses((status = 200, body = Track), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
pub(super) async fn put_track(
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
pub(super) async fn delete_track(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    delete_record(&state, &headers, RecordKind::Track, &id).await
}

/// Every speaker, by name.
#[utoipa::path(get, path = "/api/speakers", tag = "programme", responses((status = 200, body = [Speaker])))]
pub(super) async fn list_speakers(State(state): State<AppState>) -> ApiResult<Json<Vec<Speaker>>> {
    Ok(Json(programme(&state)?.speakers().await?))
}

/// Creates or replaces a speaker (organisers).
#[utoipa::path(put, path = "/api/speakers/{id}", tag = "organiser", request_body = Speaker, security(("bearer" = [])),
    params(("id" = String, Path, description = "speaker slug")),
    responses((status = 200, body = Speaker), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
pub(super) async fn put_speaker(
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
pub(super) async fn delete_speaker(
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
pub(super) async fn list_sessions(
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

pub(super) async fn find_session(state: &AppState, id: &str) -> ApiResult<Session> {
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
pub(super) async fn get_session(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<SessionView>> {
    let session = find_session(&state, &id).await?;
    Ok(Json(view(session, &mut live_now(&state))))
}

/// Creates or replaces a session (organisers).
#[utoipa::path(put, path = "/api/sessions/{id}", tag = "organiser", request_body = Session, security(("bearer" = [])),
    params(("id" = String, Path, description = "session slug")),
    responses((status = 200, body = Session), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
pub(super) async fn put_session(
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
pub(super) async fn delete_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    delete_record(&state, &headers, RecordKind::Session, &id).await
}

// ----- booths --------------------------------------------------------------------------

/// Every exhibition booth.
#[utoipa::path(get, path = "/api/booths", tag = "programme", responses((status = 200, body = [Booth])))]
pub(super) async fn list_booths(State(state): State<AppState>) -> ApiResult<Json<Vec<Booth>>> {
    Ok(Json(programme(&state)?.booths().await?))
}

/// One booth.
#[utoipa::path(get, path = "/api/booths/{id}", tag = "programme",
    params(("id" = String, Path, description = "booth slug")),
    responses((status = 200, body = Booth), (status = 404, body = Problem)))]
pub(super) async fn get_booth(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Booth>> {
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
pub(super) async fn put_booth(
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
pub(super) async fn delete_booth(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    delete_record(&state, &headers, RecordKind::Booth, &id).await
}
