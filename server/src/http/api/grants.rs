//! The role-grant endpoints (organisers): listing, granting and revoking roles, event-wide
//! or for one session or booth. A change closes the user's open connections so that they
//! reconnect with their new rights.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode};
use plenary_proto::Role;

use super::{ApiResult, json_body, organiser, programme};
use crate::AppState;
use crate::http::problem::Problem;
use crate::programme::model::{FieldError, RoleGrant, Session};
use crate::store::StoredGrant;

/// Every role grant (organisers).
#[utoipa::path(get, path = "/api/grants", tag = "organiser", security(("bearer" = [])),
    responses((status = 200, body = [StoredGrant]), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub(super) async fn list_grants(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<StoredGrant>>> {
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
pub(super) async fn add_grant(
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
pub(super) async fn remove_grant(
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
