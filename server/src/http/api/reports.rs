//! The report endpoints: one session's attendance, chat transcript, questions, polls and
//! Q&A audit log, and the event's attendance by session, day and track, as JSON or CSV.
//! They are for organisers (the Q&A and poll exports also for moderators).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use plenary_proto::RoomId;
use serde::Serialize;
use utoipa::ToSchema;

use super::programme::find_session;
use super::{ApiResult, cell, csv_response, moderator_or_organiser, organiser, programme, records};
use crate::AppState;
use crate::domain::analytics::{self, AttendanceReport};
use crate::http::problem::Problem;
use crate::programme::model::{Session, parse_time};

/// One session's attendance.
#[utoipa::path(get, path = "/api/sessions/{id}/attendance", tag = "analytics", security(("bearer" = [])),
    params(("id" = String, Path, description = "session slug")),
    responses((status = 200, body = AttendanceReport), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub(super) async fn session_attendance(
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
pub(super) async fn session_transcript(
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
pub(super) async fn session_questions(
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
            q.id.to_string(),
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
pub(super) async fn session_qa_audit(
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
pub(super) async fn session_polls(
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
                poll.id.to_string(),
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
pub(super) async fn analytics_sessions(
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
pub(super) async fn analytics_sessions_csv(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
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
pub(super) async fn analytics_event(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<EventAnalytics>> {
    organiser(&state, &headers)?;
    Ok(Json(event_report(&state).await?))
}

/// The event's attendance as CSV: one row in all, then one per day and per track
/// (organisers).
#[utoipa::path(get, path = "/api/analytics/event.csv", tag = "analytics", security(("bearer" = [])),
    responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = Problem),
        (status = 403, body = Problem)))]
pub(super) async fn analytics_event_csv(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
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
