//! Bans and revoked token ids in the database: [`AccessStore`] and its SQL implementation
//! on [`SqlStore`]. Written by the REST API, read at start and at every programme reload.

use async_trait::async_trait;
use plenary_proto::RoomId;
use sqlx::Row;

use super::{SqlStore, StoreError};
use crate::programme::access::{Ban, RevokedToken};

#[async_trait]
pub trait AccessStore: Send + Sync + 'static {
    /// Bans in force at `now_ms` (ended ones are left out).
    async fn bans(&self, now_ms: i64) -> Result<Vec<Ban>, StoreError>;
    /// Adds a ban, or replaces the user's ban of the same scope.
    async fn ban(&self, ban: &Ban) -> Result<(), StoreError>;
    /// Whether a ban of that scope existed.
    async fn unban(&self, user: &str, room: Option<&RoomId>) -> Result<bool, StoreError>;
    /// Token ids revoked, of tokens not yet expired at `now_secs`.
    async fn revoked_tokens(&self, now_secs: i64) -> Result<Vec<RevokedToken>, StoreError>;
    async fn revoke_token(&self, token: &RevokedToken, by: &str, at: i64) -> Result<(), StoreError>;
}

#[async_trait]
impl AccessStore for SqlStore {
    async fn bans(&self, now_ms: i64) -> Result<Vec<Ban>, StoreError> {
        let rows = sqlx::query(
            "SELECT user_id, scope, until_ms, reason, banned_by, banned_at FROM bans
             WHERE until_ms IS NULL OR until_ms > $1 ORDER BY banned_at",
        )
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let scope: String = row.try_get("scope")?;
                let room = match scope.as_str() {
                    "" => None,
                    room => Some(RoomId::parse(room).map_err(|e| StoreError::Corrupt(format!("ban scope: {e}")))?),
                };
                Ok(Ban {
                    user: row.try_get("user_id")?,
                    room,
                    until: row.try_get("until_ms")?,
                    reason: row.try_get("reason")?,
                    by: row.try_get("banned_by")?,
                    at: row.try_get("banned_at")?,
                })
            })
            .collect()
    }

    async fn ban(&self, ban: &Ban) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO bans (user_id, scope, until_ms, reason, banned_by, banned_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (user_id, scope) DO UPDATE SET until_ms = excluded.until_ms, reason = excluded.reason,
             banned_by = excluded.banned_by, banned_at = excluded.banned_at",
        )
        .bind(ban.user.as_str())
        .bind(ban.room.as_ref().map_or("", RoomId::as_str))
        .bind(ban.until)
        .bind(ban.reason.as_str())
        .bind(ban.by.as_str())
        .bind(ban.at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn unban(&self, user: &str, room: Option<&RoomId>) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM bans WHERE user_id = $1 AND scope = $2")
            .bind(user)
            .bind(room.map_or("", RoomId::as_str))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn revoked_tokens(&self, now_secs: i64) -> Result<Vec<RevokedToken>, StoreError> {
        let rows = sqlx::query("SELECT jti, expires_at FROM revoked_tokens WHERE expires_at > $1")
            .bind(now_secs)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok(RevokedToken { jti: row.try_get("jti")?, expires_at: row.try_get("expires_at")? }))
            .collect()
    }

    async fn revoke_token(&self, token: &RevokedToken, by: &str, at: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO revoked_tokens (jti, expires_at, revoked_by, revoked_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at",
        )
        .bind(token.jti.as_str())
        .bind(token.expires_at)
        .bind(by)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
