//! The exhibition's REST side: contact cards visitors share with a booth (leads, shared and
//! withdrawn by the visitor, read only by that booth's staff), booth analytics (a booth's
//! staff see their own, organisers every booth), and the profile a booth's staff edit.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, put};
use axum::{Json, Router};
use plenary_proto::{Role, RoomId};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use super::api::{ApiResult, caller, cell, csv_response, json_body, organiser, programme, records};
use super::problem::Problem;
use crate::AppState;
use crate::auth::Identity;
use crate::clock::unix_millis;
use crate::domain::booth::{BoothAnalytics, ContactCard, booth_analytics};
use crate::programme::model::{Booth, FieldError, format_time};
use crate::store::StoredLead;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/booths/{id}/lead", get(get_lead).put(put_lead).delete(delete_lead))
        .route("/api/booths/{id}/leads", get(list_leads))
        .route("/api/booths/{id}/leads.csv", get(leads_csv))
        .route("/api/booths/{id}/analytics", get(one_booth_analytics))
        .route("/api/booths/{id}/profile", put(put_profile))
        .route("/api/analytics/booths", get(all_booth_analytics))
}

#[derive(Debug, OpenApi)]
#[openapi(
    paths(
        get_lead,
        put_lead,
        delete_lead,
        list_leads,
        leads_csv,
        one_booth_analytics,
        all_booth_analytics,
        put_profile
    ),
    components(schemas(ContactCard, LeadShare, SharedLead, Lead, BoothAnalytics, BoothProfile))
)]
pub struct BoothsDoc;

/// A visitor shares its card: `consent` must be `true`, the visitor's explicit agreement.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LeadShare {
    pub card: ContactCard,
    #[serde(default)]
    pub consent: bool,
}

/// The caller's own card at a booth.
#[derive(Debug, Serialize, ToSchema)]
pub struct SharedLead {
    pub card: ContactCard,
    pub shared_at: i64,
}

/// A card as the booth's staff read it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Lead {
    pub visitor: String,
    pub card: ContactCard,
    pub shared_at: i64,
}

/// What a booth's staff may change of its profile (organisers change the rest).
#[derive(Debug, Deserialize, ToSchema)]
pub struct BoothProfile {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub links: Vec<String>,
    #[serde(default)]
    pub logo_url: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

async fn booth(state: &AppState, id: &str) -> ApiResult<Booth> {
    programme(state)?
        .booths()
        .await?
        .into_iter()
        .find(|b| b.id == id)
        .ok_or_else(|| Problem::not_found(format!("no booth {id:?}")))
}

/// Whether `identity` is one of `booth`'s staff: named on it, or granted `exhibitor` for it.
fn is_staff(identity: &Identity, booth: &Booth) -> bool {
    identity.staffs.iter().any(|s| *s == booth.id.as_str()) || booth.staff.iter().any(|s| s == identity.user().as_str())
}

/// The caller, who must be one of `booth`'s staff.
fn staff_of(state: &AppState, headers: &HeaderMap, booth: &Booth, what: &str) -> ApiResult<Identity> {
    let identity = caller(state, headers)?;
    if is_staff(&identity, booth) {
        Ok(identity)
    } else {
        Err(Problem::forbidden(format!("only the staff of booth {:?} {what}", booth.id)))
    }
}

/// The caller's card at the booth.
#[utoipa::path(get, path = "/api/booths/{id}/lead", tag = "exhibition", security(("bearer" = [])),
    params(("id" = String, Path, description = "booth slug")),
    responses((status = 200, body = SharedLead), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_lead(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<SharedLead>> {
    let identity = caller(&state, &headers)?;
    booth(&state, &id).await?;
    let lead = records(&state)?.leads(&id, Some(identity.user())).await?.into_iter().next();
    lead.map(|l| Json(SharedLead { card: l.card, shared_at: l.shared_at }))
        .ok_or_else(|| Problem::not_found(format!("you have not shared your card with {id:?}")))
}

/// Shares (or updates) the caller's card with the booth; needs `consent: true`.
#[utoipa::path(put, path = "/api/booths/{id}/lead", tag = "exhibition", request_body = LeadShare,
    security(("bearer" = [])), params(("id" = String, Path, description = "booth slug")),
    responses((status = 200, body = SharedLead), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn put_lead(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Json<LeadShare>, JsonRejection>,
) -> ApiResult<Json<SharedLead>> {
    let identity = caller(&state, &headers)?;
    booth(&state, &id).await?;
    let share = json_body(body)?;
    if !share.consent {
        return Err(Problem::invalid(
            "sharing a card needs the visitor's consent",
            vec![FieldError::new("consent", "must be true: the visitor agrees to share the card with this booth")],
        ));
    }
    let card = share.card.validated().map_err(|errors| {
        Problem::invalid(
            format!("{} problem(s) in the card; nothing was shared", errors.len()),
            errors.into_iter().map(|(field, message)| FieldError::new(format!("card.{field}"), message)).collect(),
        )
    })?;
    let lead = StoredLead { booth: id, visitor: identity.user().clone(), card, shared_at: unix_millis() };
    records(&state)?.put_lead(&lead).await?;
    Ok(Json(SharedLead { card: lead.card, shared_at: lead.shared_at }))
}

/// Withdraws the caller's card from the booth: the booth no longer sees it.
#[utoipa::path(delete, path = "/api/booths/{id}/lead", tag = "exhibition", security(("bearer" = [])),
    params(("id" = String, Path, description = "booth slug")),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn delete_lead(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let identity = caller(&state, &headers)?;
    if records(&state)?.delete_lead(&id, identity.user()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(format!("you have not shared your card with {id:?}")))
    }
}

/// The cards shared with the booth (its staff only).
#[utoipa::path(get, path = "/api/booths/{id}/leads", tag = "exhibition", security(("bearer" = [])),
    params(("id" = String, Path, description = "booth slug")),
    responses((status = 200, body = [Lead]), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn list_leads(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<Lead>>> {
    let booth = booth(&state, &id).await?;
    staff_of(&state, &headers, &booth, "read its leads")?;
    let leads = records(&state)?.leads(&id, None).await?;
    Ok(Json(
        leads
            .into_iter()
            .map(|l| Lead { visitor: l.visitor.to_string(), card: l.card, shared_at: l.shared_at })
            .collect(),
    ))
}

/// The cards shared with the booth as CSV (its staff only), formula-safe.
#[utoipa::path(get, path = "/api/booths/{id}/leads.csv", tag = "exhibition", security(("bearer" = [])),
    params(("id" = String, Path, description = "booth slug")),
    responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn leads_csv(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> ApiResult<Response> {
    let booth = booth(&state, &id).await?;
    staff_of(&state, &headers, &booth, "export its leads")?;
    let leads = records(&state)?.leads(&id, None).await?;
    let mut csv = csv::Writer::from_writer(Vec::new());
    let _ = csv.write_record(["shared_at", "visitor", "name", "email", "organisation", "job_title", "phone", "note"]);
    for lead in leads {
        let card = lead.card;
        let _ = csv.write_record([
            format_time(lead.shared_at),
            cell(lead.visitor.to_string()),
            cell(card.name),
            cell(card.email),
            cell(card.organisation.unwrap_or_default()),
            cell(card.job_title.unwrap_or_default()),
            cell(card.phone.unwrap_or_default()),
            cell(card.note.unwrap_or_default()),
        ]);
    }
    Ok(csv_response(csv, &format!("leads-{id}.csv")))
}

async fn analytics_of(state: &AppState, booth: &Booth) -> ApiResult<BoothAnalytics> {
    let room = RoomId::booth(&booth.id).map_err(|e| Problem::bad_request(e.to_string()))?;
    let store = records(state)?;
    let visits = store.visits(Some(&room)).await?;
    let requests = store.contact_requests(&room).await?;
    let mut staff: Vec<String> = booth.staff.clone();
    staff.extend(
        programme(state)?
            .grants()
            .await?
            .into_iter()
            .filter(|g| g.grant.role == "exhibitor" && g.grant.scope.as_deref() == Some(booth.id.as_str()))
            .map(|g| g.grant.user),
    );
    Ok(booth_analytics(&booth.id, &visits, &requests, &staff, unix_millis()))
}

/// A booth's visits, visitors, dwell time and requests (its staff and organisers).
#[utoipa::path(get, path = "/api/booths/{id}/analytics", tag = "exhibition", security(("bearer" = [])),
    params(("id" = String, Path, description = "booth slug")),
    responses((status = 200, body = BoothAnalytics), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn one_booth_analytics(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<BoothAnalytics>> {
    let booth = booth(&state, &id).await?;
    let identity = caller(&state, &headers)?;
    if !identity.has(Role::Organiser) && !is_staff(&identity, &booth) {
        return Err(Problem::forbidden(format!("only organisers and the staff of booth {id:?} read its analytics")));
    }
    Ok(Json(analytics_of(&state, &booth).await?))
}

/// Every booth's analytics (organisers).
#[utoipa::path(get, path = "/api/analytics/booths", tag = "organiser", security(("bearer" = [])),
    responses((status = 200, body = [BoothAnalytics]), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn all_booth_analytics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<BoothAnalytics>>> {
    organiser(&state, &headers)?;
    let mut all = Vec::new();
    for booth in programme(&state)?.booths().await? {
        all.push(analytics_of(&state, &booth).await?);
    }
    Ok(Json(all))
}

/// Changes the booth's description, links, logo and tags (its staff).
#[utoipa::path(put, path = "/api/booths/{id}/profile", tag = "exhibition", request_body = BoothProfile,
    security(("bearer" = [])), params(("id" = String, Path, description = "booth slug")),
    responses((status = 200, body = Booth), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn put_profile(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Json<BoothProfile>, JsonRejection>,
) -> ApiResult<Json<Booth>> {
    let mut booth = booth(&state, &id).await?;
    staff_of(&state, &headers, &booth, "edit its profile")?;
    let profile = json_body(body)?;
    booth.description = profile.description;
    booth.links = profile.links;
    booth.logo_url = profile.logo_url.filter(|u| !u.trim().is_empty());
    booth.tags = profile.tags;
    booth.normalise();
    let errors: Vec<FieldError> = booth
        .validate("")
        .into_iter()
        .map(|e| FieldError::new(e.location.trim_start_matches('.').to_owned(), e.message))
        .collect();
    if !errors.is_empty() {
        return Err(Problem::invalid(
            format!("{} problem(s) in the profile; nothing was written", errors.len()),
            errors,
        ));
    }
    let store = programme(&state)?;
    if !store
        .update_booth_profile(&id, &booth.description, &booth.links, booth.logo_url.as_deref(), &booth.tags)
        .await?
    {
        return Err(Problem::not_found(format!("no booth {id:?}")));
    }
    // The rest as stored now (an organiser may have changed it meanwhile).
    Ok(Json(self::booth(&state, &id).await?))
}
