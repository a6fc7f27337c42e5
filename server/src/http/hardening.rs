//! What every HTTP response of a node carries, whichever handler made it: the security
//! headers (the client's pages set a stricter set of their own, which is kept), and, under
//! `/api`, errors as problem details (`application/problem+json`) even when axum itself
//! refused the request (a body over the size limit, a bad query, a wrong method).

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::problem::Problem;

/// The largest error body axum writes that is turned into a problem's `detail`; its
/// rejections are one line.
const MAX_REJECTION_BYTES: usize = 4096;

/// Headers every response carries unless its handler set them. A response that is not a
/// page (JSON, CSV, metrics, a 404) is never to be rendered, framed or read by another
/// site, so its Content-Security-Policy allows nothing.
fn default_headers() -> [(HeaderName, HeaderValue); 5] {
    [
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (HeaderName::from_static("cross-origin-resource-policy"), HeaderValue::from_static("same-origin")),
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'")),
    ]
}

/// Adds the [`default_headers`] that the response does not already have.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in default_headers() {
        headers.entry(name).or_insert(value);
    }
    response
}

/// Turns an error response under `/api` that is not yet a problem (axum's rejections are
/// plain text, a 405 has no body) into one with the same status and headers.
pub async fn problem_errors(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let status = response.status();
    if !is_api || !(status.is_client_error() || status.is_server_error()) || is_problem(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, MAX_REJECTION_BYTES).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_owned(),
        Err(_) => String::new(),
    };
    let detail = if text.is_empty() { status.canonical_reason().unwrap_or("error").to_lowercase() } else { text };
    let problem = Problem::new(status, slug(status), detail).into_response();
    let (problem_parts, problem_body) = problem.into_parts();
    // Keep what the handler said besides the body (Retry-After, Allow).
    parts.headers.remove(header::CONTENT_LENGTH);
    for name in [header::CONTENT_TYPE, header::CONTENT_LENGTH] {
        if let Some(value) = problem_parts.headers.get(&name) {
            parts.headers.insert(name, value.clone());
        }
    }
    Response::from_parts(parts, problem_body)
}

fn is_problem(response: &Response) -> bool {
    response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"))
}

/// The problem type for a status, as the handlers name them.
fn slug(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad-request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too-large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid",
        StatusCode::TOO_MANY_REQUESTS => "too-many-requests",
        s if s.is_server_error() => "server-error",
        _ => "error",
    }
}
