//! The programme import endpoint (organisers): a JSON, CSV or pretalx file, parsed by
//! [`crate::programme::import`] and written all or nothing.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

use super::programme::save;
use super::{ApiResult, organiser};
use crate::AppState;
use crate::http::problem::Problem;
use crate::store::ApplySummary;

/// The largest programme file accepted by `/api/import`.
const IMPORT_MAX_BYTES: usize = 16 * 1024 * 1024;

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
pub(super) async fn import(
    State(state): State<AppState>,
    request: axum::extract::Request,
) -> ApiResult<Json<ApplySummary>> {
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
