//! HTTP routes: the WebSocket endpoint, guest sign-in, the REST API ([`api`]), health,
//! readiness and metrics.

pub mod access;
pub mod api;
pub mod booths;
pub mod hardening;
pub mod problem;
pub mod web;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use plenary_proto::Role;
use serde::{Deserialize, Serialize};

use self::problem::Problem;
use crate::AppState;
use crate::auth::TokenRequest;
use crate::domain::people::{validate_country, validate_display_name};
use crate::programme::model::FieldError;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/ws", get(crate::ws::upgrade))
        .route("/api/guest", post(guest))
        .route("/api/client", get(client_config))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .merge(api::routes())
        .merge(access::routes())
        .merge(booths::routes())
        .fallback(fallback)
        .layer(middleware::from_fn(hardening::problem_errors))
        .layer(middleware::from_fn(hardening::security_headers))
        .with_state(state)
}

/// The browser client's files and pages, else a problem 404.
async fn fallback(State(state): State<AppState>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    state.web.respond(&method, &uri, &headers).unwrap_or_else(|| Problem::not_found("no such endpoint").into_response())
}

/// What the browser client needs to know before anyone signs in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClientConfig {
    /// Whether `POST /api/guest` issues tokens.
    guest_signin: bool,
    /// The protocol versions this node speaks (for `hello`).
    protocol: Vec<u16>,
    /// Longest chat message, in characters.
    chat_max_chars: usize,
}

/// Settings of this node that shape the browser client.
#[utoipa::path(get, path = "/api/client", tag = "sign-in", responses((status = 200, body = ClientConfig)))]
pub async fn client_config(State(state): State<AppState>) -> Json<ClientConfig> {
    Json(ClientConfig {
        guest_signin: state.settings.guest_signin_enabled() && state.minter.is_some(),
        protocol: plenary_proto::SUPPORTED_PROTOCOLS.to_vec(),
        chat_max_chars: state.settings.chat_max_chars,
    })
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(state): State<AppState>) -> Response {
    if state.shutdown.is_cancelled() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    }
    if !state.bus.is_healthy() {
        return (StatusCode::SERVICE_UNAVAILABLE, "bus unavailable\n").into_response();
    }
    "ready\n".into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    state.metrics.bus_up.set(i64::from(state.bus.is_healthy()));
    let failures = state.bus.failures();
    let counted = state.metrics.bus_failures.get();
    if failures > counted {
        state.metrics.bus_failures.inc_by(failures - counted);
    }
    if let Some(stats) = state.hub.media_stats().await {
        state.metrics.stage.sync(&stats);
    }
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], state.metrics.render())
        .into_response()
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuestRequest {
    name: String,
    #[serde(default)]
    country: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GuestResponse {
    token: String,
    user: String,
    expires_at: i64,
}

/// An attendee token for someone without an account, when the event allows guests.
#[utoipa::path(post, path = "/api/guest", tag = "sign-in", request_body = GuestRequest,
    responses((status = 200, body = GuestResponse), (status = 403, description = "guests not allowed"),
        (status = 422, description = "invalid name or country"),
        (status = 429, description = "too many sign-ins from this address (Retry-After)")))]
pub async fn guest(
    State(state): State<AppState>,
    axum::extract::ConnectInfo(remote): axum::extract::ConnectInfo<std::net::SocketAddr>,
    body: Result<Json<GuestRequest>, JsonRejection>,
) -> Response {
    if !state.settings.guest_signin_enabled() {
        return Problem::forbidden("this event does not allow guest sign-in").into_response();
    }
    if let Err(wait) = state.guest_limiter.try_take(remote.ip()) {
        let seconds = wait.as_secs().max(1).to_string();
        let mut response = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-requests",
            "too many guest sign-ins from this address; try later",
        )
        .into_response();
        if let Ok(value) = axum::http::HeaderValue::from_str(&seconds) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let Some(minter) = &state.minter else {
        return Problem::forbidden("this node has no signing key for guest tokens").into_response();
    };
    let request = match api::json_body(body) {
        Ok(request) => request,
        Err(problem) => return problem.into_response(),
    };
    let invalid = |field: &str, e: String| Problem::invalid(e.clone(), vec![FieldError::new(field, e)]).into_response();
    let name = match validate_display_name(&request.name) {
        Ok(name) => name,
        Err(e) => return invalid("name", e),
    };
    let country = match request.country.as_deref().filter(|c| !c.trim().is_empty()).map(validate_country) {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => return invalid("country", e),
    };
    let sub = format!("guest-{}", uuid::Uuid::new_v4().simple());
    let token_request = TokenRequest {
        sub: sub.clone(),
        name,
        roles: vec![Role::Attendee],
        country,
        scopes: Vec::new(),
        ttl: std::time::Duration::from_secs(state.settings.guest_token_ttl_secs),
    };
    match minter.mint(&token_request) {
        Ok((token, expires_at)) => Json(GuestResponse { token, user: sub, expires_at }).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "minting a guest token failed");
            Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "server-error", "could not issue a token").into_response()
        }
    }
}
