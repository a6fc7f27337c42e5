//! The programme in the database: [`ProgrammeStore`] and its SQL implementation on
//! [`SqlStore`]. Writes go through [`ProgrammeStore::apply`], one transaction for a whole
//! programme (an import, or one record from the REST API), upserting by id, and by external
//! id for imported records so that a re-import updates instead of duplicating.

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use utoipa::ToSchema;

use super::{SqlStore, StoreError};
use crate::programme::model::{
    Booth, Event, Programme, RoleGrant, Session, SessionKind, Speaker, StageSource, Track, format_time, parse_time,
};

/// How many records an `apply` created or updated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ApplySummary {
    pub tracks: u32,
    pub speakers: u32,
    pub sessions: u32,
    pub booths: u32,
}

/// A stored role grant, with who granted it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StoredGrant {
    #[serde(flatten)]
    pub grant: RoleGrant,
    pub granted_by: String,
    pub granted_at: i64,
}

#[async_trait]
pub trait ProgrammeStore: Send + Sync + 'static {
    async fn event(&self) -> Result<Option<Event>, StoreError>;
    async fn tracks(&self) -> Result<Vec<Track>, StoreError>;
    async fn speakers(&self) -> Result<Vec<Speaker>, StoreError>;
    /// Every session, by start time.
    async fn sessions(&self) -> Result<Vec<Session>, StoreError>;
    async fn booths(&self) -> Result<Vec<Booth>, StoreError>;
    /// Creates or updates everything in `programme` in one transaction. The caller has
    /// validated it.
    async fn apply(&self, programme: &Programme) -> Result<ApplySummary, StoreError>;
    /// Deletes one record of `kind` (`sessions`, `speakers`, `tracks`, `booths`); whether
    /// it existed.
    async fn delete(&self, kind: RecordKind, id: &str) -> Result<bool, StoreError>;
    async fn grants(&self) -> Result<Vec<StoredGrant>, StoreError>;
    async fn grant(&self, grant: &RoleGrant, by: &str, at: i64) -> Result<(), StoreError>;
    /// Whether the grant existed.
    async fn revoke(&self, grant: &RoleGrant) -> Result<bool, StoreError>;
    /// Changes only a booth's profile (description, links, logo, tags), so an organiser's
    /// concurrent change of its other fields (its staff) is not undone; whether it exists.
    async fn update_booth_profile(
        &self,
        id: &str,
        description: &str,
        links: &[String],
        logo_url: Option<&str>,
        tags: &[String],
    ) -> Result<bool, StoreError>;
}

/// A kind of programme record that can be deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    Track,
    Speaker,
    Session,
    Booth,
}

impl RecordKind {
    fn table(self) -> &'static str {
        match self {
            RecordKind::Track => "tracks",
            RecordKind::Speaker => "speakers",
            RecordKind::Session => "sessions",
            RecordKind::Booth => "booths",
        }
    }
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("lists of strings serialise")
}

fn from_json<T: DeserializeOwned>(row: &AnyRow, column: &str) -> Result<T, StoreError> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

/// The id to store a record under. A record with an external id keeps the id it was first
/// stored under, so a re-import whose slugs changed still updates it; a new one gets its own
/// slug, or the slug with `-2`, `-3`, ... when another record (hand-made, or imported with
/// another external id, or earlier in this import) already has it. A record without an
/// external id is stored under its id, replacing what is there.
async fn resolve_id(
    tx: &mut Transaction<'_, Any>,
    table: &'static str,
    id: &str,
    external_id: Option<&str>,
    taken: &mut std::collections::HashSet<(&'static str, String)>,
) -> Result<String, StoreError> {
    let Some(external_id) = external_id else {
        taken.insert((table, id.to_owned()));
        return Ok(id.to_owned());
    };
    let (by_external, by_id) = match table {
        "speakers" => ("SELECT id FROM speakers WHERE external_id = $1", "SELECT id FROM speakers WHERE id = $1"),
        "sessions" => ("SELECT id FROM sessions WHERE external_id = $1", "SELECT id FROM sessions WHERE id = $1"),
        _ => ("SELECT id FROM booths WHERE external_id = $1", "SELECT id FROM booths WHERE id = $1"),
    };
    if let Some(row) = sqlx::query(by_external).bind(external_id).fetch_optional(&mut **tx).await? {
        let stored: String = row.try_get("id")?;
        taken.insert((table, stored.clone()));
        return Ok(stored);
    }
    for n in 1..1000 {
        let candidate = if n == 1 {
            id.to_owned()
        } else {
            let suffix = format!("-{n}");
            format!("{}{suffix}", &id[..id.len().min(48 - suffix.len())].trim_end_matches('-'))
        };
        if taken.contains(&(table, candidate.clone())) {
            continue;
        }
        if sqlx::query(by_id).bind(candidate.as_str()).fetch_optional(&mut **tx).await?.is_none() {
            taken.insert((table, candidate.clone()));
            return Ok(candidate);
        }
    }
    Err(StoreError::Corrupt(format!("no free id for {id:?} in {table}")))
}

fn session_from_row(row: &AnyRow) -> Result<Session, StoreError> {
    let kind: String = row.try_get("kind")?;
    Ok(Session {
        id: row.try_get("id")?,
        external_id: row.try_get("external_id")?,
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        kind: SessionKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("session kind {kind:?}")))?,
        starts_at: format_time(row.try_get("starts_at")?),
        ends_at: format_time(row.try_get("ends_at")?),
        track: row.try_get("track")?,
        languages: from_json(row, "languages")?,
        tags: from_json(row, "tags")?,
        speakers: from_json(row, "speakers")?,
        stage: from_json::<StageSource>(row, "stage")?,
        qa: from_json(row, "qa")?,
    })
}

#[async_trait]
impl ProgrammeStore for SqlStore {
    async fn event(&self) -> Result<Option<Event>, StoreError> {
        let row = sqlx::query("SELECT name, time_zone, starts_on, ends_on FROM event_settings WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(Event {
                name: row.try_get("name")?,
                time_zone: row.try_get("time_zone")?,
                starts_on: row.try_get("starts_on")?,
                ends_on: row.try_get("ends_on")?,
            })
        })
        .transpose()
    }

    async fn tracks(&self) -> Result<Vec<Track>, StoreError> {
        let rows = sqlx::query("SELECT id, name, description, position FROM tracks ORDER BY position, id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(Track {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    description: row.try_get("description")?,
                    position: i32::try_from(row.try_get::<i64, _>("position")?).unwrap_or(i32::MAX),
                })
            })
            .collect()
    }

    async fn speakers(&self) -> Result<Vec<Speaker>, StoreError> {
        let rows =
            sqlx::query("SELECT id, external_id, name, affiliation, bio, country FROM speakers ORDER BY name, id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|row| {
                Ok(Speaker {
                    id: row.try_get("id")?,
                    external_id: row.try_get("external_id")?,
                    name: row.try_get("name")?,
                    affiliation: row.try_get("affiliation")?,
                    bio: row.try_get("bio")?,
                    country: row.try_get("country")?,
                })
            })
            .collect()
    }

    async fn sessions(&self) -> Result<Vec<Session>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, external_id, title, description, kind, starts_at, ends_at, track, languages, tags, speakers, stage,
             qa FROM sessions ORDER BY starts_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(session_from_row).collect()
    }

    async fn booths(&self) -> Result<Vec<Booth>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, external_id, organisation, description, links, logo_url, track, tags, staff
             FROM booths ORDER BY organisation, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Booth {
                    id: row.try_get("id")?,
                    external_id: row.try_get("external_id")?,
                    organisation: row.try_get("organisation")?,
                    description: row.try_get("description")?,
                    links: from_json(row, "links")?,
                    logo_url: row.try_get("logo_url")?,
                    track: row.try_get("track")?,
                    tags: from_json(row, "tags")?,
                    staff: from_json(row, "staff")?,
                })
            })
            .collect()
    }

    async fn update_booth_profile(
        &self,
        id: &str,
        description: &str,
        links: &[String],
        logo_url: Option<&str>,
        tags: &[String],
    ) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE booths SET description = $1, links = $2, logo_url = $3, tags = $4 WHERE id = $5")
                .bind(description)
                .bind(to_json(&links))
                .bind(logo_url)
                .bind(to_json(&tags))
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn apply(&self, programme: &Programme) -> Result<ApplySummary, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut summary = ApplySummary::default();
        let mut taken = std::collections::HashSet::new();
        // The file's speaker ids to the ids they are stored under, for the sessions' lists.
        let mut speaker_ids = std::collections::HashMap::new();
        if let Some(event) = &programme.event {
            sqlx::query(
                "INSERT INTO event_settings (id, name, time_zone, starts_on, ends_on) VALUES (1, $1, $2, $3, $4)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, time_zone = excluded.time_zone,
                 starts_on = excluded.starts_on, ends_on = excluded.ends_on",
            )
            .bind(event.name.as_str())
            .bind(event.time_zone.as_str())
            .bind(event.starts_on.as_str())
            .bind(event.ends_on.as_str())
            .execute(&mut *tx)
            .await?;
        }
        for track in &programme.tracks {
            sqlx::query(
                "INSERT INTO tracks (id, name, description, position) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description,
                 position = excluded.position",
            )
            .bind(track.id.as_str())
            .bind(track.name.as_str())
            .bind(track.description.as_str())
            .bind(i64::from(track.position))
            .execute(&mut *tx)
            .await?;
            summary.tracks += 1;
        }
        for speaker in &programme.speakers {
            let id = resolve_id(&mut tx, "speakers", &speaker.id, speaker.external_id.as_deref(), &mut taken).await?;
            speaker_ids.insert(speaker.id.clone(), id.clone());
            sqlx::query(
                "INSERT INTO speakers (id, external_id, name, affiliation, bio, country) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (id) DO UPDATE SET external_id = excluded.external_id, name = excluded.name,
                 affiliation = excluded.affiliation, bio = excluded.bio, country = excluded.country",
            )
            .bind(id)
            .bind(speaker.external_id.as_deref())
            .bind(speaker.name.as_str())
            .bind(speaker.affiliation.as_str())
            .bind(speaker.bio.as_str())
            .bind(speaker.country.as_deref())
            .execute(&mut *tx)
            .await?;
            summary.speakers += 1;
        }
        for session in &programme.sessions {
            let starts = parse_time(&session.starts_at).map_err(StoreError::Corrupt)?;
            let ends = parse_time(&session.ends_at).map_err(StoreError::Corrupt)?;
            let id = resolve_id(&mut tx, "sessions", &session.id, session.external_id.as_deref(), &mut taken).await?;
            let speakers: Vec<&String> = session.speakers.iter().map(|s| speaker_ids.get(s).unwrap_or(s)).collect();
            sqlx::query(
                "INSERT INTO sessions (id, external_id, title, description, kind, starts_at, ends_at, track, languages,
                 tags, speakers, stage, qa) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                 ON CONFLICT (id) DO UPDATE SET external_id = excluded.external_id, title = excluded.title,
                 description = excluded.description, kind = excluded.kind, starts_at = excluded.starts_at,
                 ends_at = excluded.ends_at, track = excluded.track, languages = excluded.languages,
                 tags = excluded.tags, speakers = excluded.speakers, stage = excluded.stage, qa = excluded.qa",
            )
            .bind(id)
            .bind(session.external_id.as_deref())
            .bind(session.title.as_str())
            .bind(session.description.as_str())
            .bind(session.kind.as_str())
            .bind(starts)
            .bind(ends)
            .bind(session.track.as_deref())
            .bind(to_json(&session.languages))
            .bind(to_json(&session.tags))
            .bind(to_json(&speakers))
            .bind(to_json(&session.stage))
            .bind(to_json(&session.qa))
            .execute(&mut *tx)
            .await?;
            summary.sessions += 1;
        }
        for booth in &programme.booths {
            let id = resolve_id(&mut tx, "booths", &booth.id, booth.external_id.as_deref(), &mut taken).await?;
            sqlx::query(
                "INSERT INTO booths (id, external_id, organisation, description, links, logo_url, track, tags, staff)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (id) DO UPDATE SET external_id = excluded.external_id,
                 organisation = excluded.organisation, description = excluded.description, links = excluded.links,
                 logo_url = excluded.logo_url, track = excluded.track, tags = excluded.tags, staff = excluded.staff",
            )
            .bind(id)
            .bind(booth.external_id.as_deref())
            .bind(booth.organisation.as_str())
            .bind(booth.description.as_str())
            .bind(to_json(&booth.links))
            .bind(booth.logo_url.as_deref())
            .bind(booth.track.as_deref())
            .bind(to_json(&booth.tags))
            .bind(to_json(&booth.staff))
            .execute(&mut *tx)
            .await?;
            summary.booths += 1;
        }
        tx.commit().await?;
        Ok(summary)
    }

    async fn delete(&self, kind: RecordKind, id: &str) -> Result<bool, StoreError> {
        let sql = match kind.table() {
            "tracks" => "DELETE FROM tracks WHERE id = $1",
            "speakers" => "DELETE FROM speakers WHERE id = $1",
            "sessions" => "DELETE FROM sessions WHERE id = $1",
            _ => "DELETE FROM booths WHERE id = $1",
        };
        let done = sqlx::query(sql).bind(id).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn grants(&self) -> Result<Vec<StoredGrant>, StoreError> {
        let rows = sqlx::query(
            "SELECT user_id, role, scope, granted_by, granted_at FROM role_grants ORDER BY user_id, role, scope",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let scope: String = row.try_get("scope")?;
                Ok(StoredGrant {
                    grant: RoleGrant {
                        user: row.try_get("user_id")?,
                        role: row.try_get("role")?,
                        scope: (!scope.is_empty()).then_some(scope),
                    },
                    granted_by: row.try_get("granted_by")?,
                    granted_at: row.try_get("granted_at")?,
                })
            })
            .collect()
    }

    async fn grant(&self, grant: &RoleGrant, by: &str, at: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO role_grants (user_id, role, scope, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (user_id, role, scope) DO UPDATE SET granted_by = excluded.granted_by,
             granted_at = excluded.granted_at",
        )
        .bind(grant.user.as_str())
        .bind(grant.role.as_str())
        .bind(grant.scope.as_deref().unwrap_or(""))
        .bind(by)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn revoke(&self, grant: &RoleGrant) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM role_grants WHERE user_id = $1 AND role = $2 AND scope = $3")
            .bind(grant.user.as_str())
            .bind(grant.role.as_str())
            .bind(grant.scope.as_deref().unwrap_or(""))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
