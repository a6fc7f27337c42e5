//! Removing people: bans from the event or a room (`/api/bans`) and revoking a token by its
//! id (`/api/tokens/revoke`). A change is written to the store, then to this node's
//! `AccessCache`, and the connections it concerns are closed at once; other nodes pick it up
//! at their programme reload (10 s) and close theirs.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use plenary_proto::{CloseCode, Role, RoomId, RoomKind};
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};

use super::api::{ApiResult, caller, json_body, organiser};
use super::problem::Problem;
use crate::AppState;
use crate::auth::Identity;
use crate::clock::{unix_millis, unix_secs};
use crate::domain::permissions::membership;
use crate::domain::text::normalise_line;
use crate::programme::access::{Ban, RevokedToken};
use crate::programme::model::FieldError;

/// Longest ban reason, in characters.
const MAX_REASON_CHARS: usize = 500;
/// Longest ban: a year (a longer one is a ban without an end).
const MAX_BAN_MINUTES: u32 = 366 * 24 * 60;
/// How long a revoked token id is kept when the caller does not say when the token expires:
/// longer than any token this node mints.
const DEFAULT_REVOCATION_SECS: i64 = 90 * 24 * 3600;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/bans", get(list_bans).post(add_ban).delete(lift_ban))
        .route("/api/tokens/revoke", post(revoke_token))
}

#[derive(Debug, OpenApi)]
#[openapi(
    paths(list_bans, add_ban, lift_ban, revoke_token),
    components(schemas(Ban, BanRequest, LiftRequest, RevokeRequest))
)]
pub struct AccessDoc;

/// Who to remove, from where, for how long and why.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BanRequest {
    user: String,
    /// A room id (`session:<slug>`, `booth:<slug>`, ...); absent for the whole event.
    #[serde(default)]
    room: Option<String>,
    /// Absent for a ban without an end.
    #[serde(default)]
    minutes: Option<u32>,
    #[serde(default)]
    reason: Option<String>,
}

/// Which ban to lift.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LiftRequest {
    user: String,
    #[serde(default)]
    room: Option<String>,
}

/// A token to stop accepting: its `jti`, and when it expires (Unix seconds; the id is kept
/// until then, 90 days when absent).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    jti: String,
    #[serde(default)]
    expires_at: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct BanFilter {
    /// Only the bans of this room.
    room: Option<String>,
}

fn parse_room(room: Option<&str>) -> ApiResult<Option<RoomId>> {
    match room.filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(room) => match RoomId::parse(room) {
            Ok(room) if room.kind().is_some() => Ok(Some(room)),
            _ => Err(Problem::invalid(
                "not a room",
                vec![FieldError::new("room", format!("{room:?} is not a room id such as session:<slug>"))],
            )),
        },
    }
}

/// Organisers remove anyone from anywhere; a moderator from a session it moderates; booth
/// staff from their booth.
fn may_remove(state: &AppState, identity: &Identity, room: Option<&RoomId>) -> ApiResult<()> {
    if identity.has(Role::Organiser) {
        return Ok(());
    }
    let Some(room) = room else {
        return Err(Problem::forbidden("only organisers remove someone from the whole event"));
    };
    let staff = room.kind() == Some(RoomKind::Booth)
        && (identity.staffs.iter().any(|b| *b == room.name())
            || state.sessions.as_ref().is_some_and(|index| {
                index.booth(room.name()).is_some_and(|booth| booth.staff.iter().any(|s| s == identity.user().as_str()))
            }));
    if membership(identity, room, staff).can_moderate {
        Ok(())
    } else {
        Err(Problem::forbidden(format!("only organisers and the moderators of {room} remove someone from it")))
    }
}

/// Bans in force (organisers: all; moderators: those of a room they moderate, with `room`).
#[utoipa::path(get, path = "/api/bans", tag = "organiser",
    params(("room" = Option<String>, Query, description = "only the bans of this room")), security(("bearer" = [])),
    responses((status = 200, body = [Ban]), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_bans(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(filter): Query<BanFilter>,
) -> ApiResult<Json<Vec<Ban>>> {
    let identity = caller(&state, &headers)?;
    let room = parse_room(filter.room.as_deref())?;
    if room.is_none() {
        organiser(&state, &headers)?;
    }
    may_remove(&state, &identity, room.as_ref())?;
    let bans = state.access.list(unix_millis());
    Ok(Json(bans.into_iter().filter(|b| room.is_none() || b.room == room).collect()))
}

/// Removes someone from the event or a room, for `minutes` or until lifted. Their open
/// connections close at once (4504 from the event, 4005 from a room) and they cannot come
/// back in until the ban ends.
#[utoipa::path(post, path = "/api/bans", tag = "organiser", request_body = BanRequest, security(("bearer" = [])),
    responses((status = 201, body = Ban), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn add_ban(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<BanRequest>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Ban>)> {
    let identity = caller(&state, &headers)?;
    let request = json_body(body)?;
    let room = parse_room(request.room.as_deref())?;
    may_remove(&state, &identity, room.as_ref())?;
    let mut errors = Vec::new();
    if plenary_proto::UserId::parse(request.user.as_str()).is_err() {
        errors.push(FieldError::new("user", "not a user id"));
    }
    if request.user == identity.user().as_str() {
        errors.push(FieldError::new("user", "you cannot remove yourself"));
    }
    let reason = normalise_line(request.reason.as_deref().unwrap_or(""));
    if reason.chars().count() > MAX_REASON_CHARS {
        errors.push(FieldError::new("reason", format!("at most {MAX_REASON_CHARS} characters")));
    }
    if request.minutes.is_some_and(|m| m == 0 || m > MAX_BAN_MINUTES) {
        errors.push(FieldError::new("minutes", format!("from 1 to {MAX_BAN_MINUTES}, or absent for no end")));
    }
    if !errors.is_empty() {
        return Err(Problem::invalid("the ban is not valid", errors));
    }
    let now = unix_millis();
    let ban = Ban {
        user: request.user,
        room,
        until: request.minutes.map(|m| now + i64::from(m) * 60_000),
        reason,
        by: identity.user().to_string(),
        at: now,
    };
    if let Some(store) = &state.access_store {
        store.ban(&ban).await?;
    }
    state.access.ban(ban.clone());
    crate::enforce_bans(&state.access, &state.user_connections, &ban.user);
    Ok((StatusCode::CREATED, Json(ban)))
}

/// Lifts a ban before its end.
#[utoipa::path(delete, path = "/api/bans", tag = "organiser", request_body = LiftRequest, security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn lift_ban(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<LiftRequest>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let identity = caller(&state, &headers)?;
    let request = json_body(body)?;
    let room = parse_room(request.room.as_deref())?;
    may_remove(&state, &identity, room.as_ref())?;
    let existed = match &state.access_store {
        Some(store) => store.unban(&request.user, room.as_ref()).await?,
        None => state.access.list(unix_millis()).iter().any(|b| b.user == request.user && b.room == room),
    };
    if !existed {
        return Err(Problem::not_found("no such ban"));
    }
    state.access.unban(&request.user, room.as_ref());
    Ok(StatusCode::NO_CONTENT)
}

/// Stops accepting one token (organisers): connections opened with it close with 4502 at
/// once here and within the reload on other nodes; `hello`, `refresh` and the REST API
/// refuse it. Tokens minted by `plenary token` and guest sign-in carry a `jti`.
#[utoipa::path(post, path = "/api/tokens/revoke", tag = "organiser", request_body = RevokeRequest,
    security(("bearer" = [])), responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn revoke_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<RevokeRequest>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let by = organiser(&state, &headers)?;
    let request = json_body(body)?;
    if request.jti.is_empty() || request.jti.len() > 128 {
        return Err(Problem::invalid("not a token id", vec![FieldError::new("jti", "1 to 128 bytes")]));
    }
    let token = RevokedToken {
        expires_at: request.expires_at.unwrap_or_else(|| unix_secs() + DEFAULT_REVOCATION_SECS),
        jti: request.jti,
    };
    if let Some(store) = &state.access_store {
        store.revoke_token(&token, by.user().as_str(), unix_millis()).await?;
    }
    state.access.revoke(&token.jti);
    state.user_connections.close_token(&token.jti, CloseCode::InvalidToken);
    Ok(StatusCode::NO_CONTENT)
}
