//! [`SqlStore`]: the [`Store`] on sqlx's `Any` driver, so one set of queries and one
//! migration serve SQLite and PostgreSQL (`$n` placeholders, `ON CONFLICT`, times as
//! BIGINT milliseconds, ids as text).

use std::borrow::Cow;
use std::collections::BTreeMap;

use async_trait::async_trait;
use plenary_proto::{ChatMessage, MessageId, RoomId, Stage, StageState, UserId, UserProfile};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Row};

use super::{Record, Store, StoreError, StoredRoom, TranscriptLine, Visit};

/// The schema's migrations, embedded so the binary runs from any directory.
fn migrator() -> Migrator {
    let migration = |version, description, sql: &'static str| {
        Migration::new(version, Cow::Borrowed(description), MigrationType::Simple, sql.into_sql_str(), false)
    };
    Migrator::with_migrations(vec![
        migration(1, "record", include_str!("../../migrations/0001_record.sql")),
        migration(2, "programme", include_str!("../../migrations/0002_programme.sql")),
        migration(3, "qa", include_str!("../../migrations/0003_qa.sql")),
        migration(4, "session qa", include_str!("../../migrations/0004_session_qa.sql")),
        migration(5, "polls", include_str!("../../migrations/0005_polls.sql")),
        migration(6, "booths", include_str!("../../migrations/0006_booths.sql")),
        migration(7, "access", include_str!("../../migrations/0007_access.sql")),
    ])
}

use sqlx::SqlSafeStr as _;

/// A [`Store`] on SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub(super) pool: AnyPool,
}

impl SqlStore {
    /// Who call room `room` is for: its recorded opening, or else the accepted request it is
    /// named after (the opening's record not written yet, or lost).
    async fn call_of(&self, room: &RoomId) -> Result<Option<plenary_proto::CallInfo>, StoreError> {
        let opened = sqlx::query("SELECT body FROM calls WHERE room = $1")
            .bind(room.as_str())
            .fetch_optional(&self.pool)
            .await?;
        if let Some(row) = opened {
            let body: String = row.try_get("body")?;
            return serde_json::from_str(&body).map(Some).map_err(|e| StoreError::Corrupt(format!("call: {e}")));
        }
        let request = sqlx::query("SELECT room, body FROM contact_requests WHERE id = $1 AND state = 'accepted'")
            .bind(room.name())
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = request else { return Ok(None) };
        let booth: String = row.try_get("room")?;
        let body: String = row.try_get("body")?;
        let request: crate::domain::booth::ContactRequest =
            serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(format!("contact request: {e}")))?;
        let crate::domain::booth::RequestState::Accepted { by } = &request.state else { return Ok(None) };
        Ok(Some(plenary_proto::CallInfo {
            members: vec![
                UserProfile { id: request.visitor.clone(), name: request.visitor_name.clone(), country: None },
                UserProfile { id: by.clone(), name: by.to_string(), country: None },
            ],
            booth: Some(booth.strip_prefix("booth:").unwrap_or(&booth).to_owned()),
            opened_at: request.updated_at,
        }))
    }

    /// A booth room's contact requests, oldest first: all, or those waiting or changed
    /// since `changed_since`.
    async fn requests_of(
        &self,
        room: &RoomId,
        changed_since: Option<i64>,
    ) -> Result<Vec<crate::domain::booth::ContactRequest>, StoreError> {
        let rows = sqlx::query(
            "SELECT body FROM contact_requests WHERE room = $1 AND (state = 'waiting' OR updated_at >= $2)
             ORDER BY created_at, id",
        )
        .bind(room.as_str())
        .bind(changed_since.unwrap_or(i64::MIN))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let body: String = row.try_get("body")?;
                serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(format!("contact request: {e}")))
            })
            .collect()
    }

    /// A room's polls, oldest first, and their answers.
    #[allow(clippy::type_complexity)]
    async fn polls_of(
        &self,
        room: &RoomId,
    ) -> Result<(Vec<crate::domain::poll::Poll>, Vec<(MessageId, UserId, std::collections::BTreeSet<u8>)>), StoreError>
    {
        let rows = sqlx::query("SELECT body FROM polls WHERE room = $1 ORDER BY created_at, id")
            .bind(room.as_str())
            .fetch_all(&self.pool)
            .await?;
        let mut polls = Vec::with_capacity(rows.len());
        for row in &rows {
            let body: String = row.try_get("body")?;
            polls.push(serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(format!("poll: {e}")))?);
        }
        let mut answers = Vec::new();
        if !polls.is_empty() {
            let rows = sqlx::query("SELECT poll, voter, choices FROM poll_answers WHERE room = $1")
                .bind(room.as_str())
                .fetch_all(&self.pool)
                .await?;
            for row in &rows {
                let voter = UserId::parse(row.try_get::<String, _>("voter")?).map_err(corrupt)?;
                let choices: String = row.try_get("choices")?;
                let choices =
                    serde_json::from_str(&choices).map_err(|e| StoreError::Corrupt(format!("poll answer: {e}")))?;
                let poll = MessageId::parse(row.try_get::<String, _>("poll")?).map_err(corrupt)?;
                answers.push((poll, voter, choices));
            }
        }
        Ok((polls, answers))
    }

    /// A room's questions with their voters, oldest first.
    async fn questions_of(&self, room: &RoomId) -> Result<Vec<crate::domain::qa::Question>, StoreError> {
        let rows = sqlx::query("SELECT body FROM questions WHERE room = $1 ORDER BY asked_at, id")
            .bind(room.as_str())
            .fetch_all(&self.pool)
            .await?;
        let mut questions = Vec::with_capacity(rows.len());
        for row in &rows {
            let body: String = row.try_get("body")?;
            questions.push(
                serde_json::from_str::<crate::domain::qa::Question>(&body)
                    .map_err(|e| StoreError::Corrupt(format!("question: {e}")))?,
            );
        }
        if !questions.is_empty() {
            let votes = sqlx::query("SELECT question, voter FROM question_votes WHERE room = $1")
                .bind(room.as_str())
                .fetch_all(&self.pool)
                .await?;
            let mut by_question: std::collections::HashMap<MessageId, Vec<UserId>> = std::collections::HashMap::new();
            for row in &votes {
                let voter = UserId::parse(row.try_get::<String, _>("voter")?).map_err(corrupt)?;
                let question = MessageId::parse(row.try_get::<String, _>("question")?).map_err(corrupt)?;
                by_question.entry(question).or_default().push(voter);
            }
            for question in &mut questions {
                question.votes = by_question.remove(&question.id).unwrap_or_default().into_iter().collect();
            }
        }
        Ok(questions)
    }
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://...`) and brings the
    /// schema up to date.
    pub async fn open(url: &str) -> Result<SqlStore, StoreError> {
        sqlx::any::install_default_drivers();
        // SQLite serialises writers anyway; a single connection avoids "database is locked".
        let connections = if url.starts_with("sqlite:") { 1 } else { 8 };
        let pool = AnyPoolOptions::new().max_connections(connections).connect(url).await?;
        if url.starts_with("sqlite:") {
            sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await?;
            sqlx::query("PRAGMA synchronous = NORMAL").execute(&pool).await?;
        }
        migrator().run(&pool).await?;
        Ok(SqlStore { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn state_name(state: StageState) -> &'static str {
    match state {
        StageState::Scheduled => "scheduled",
        StageState::Live => "live",
        StageState::Break => "break",
        StageState::Ended => "ended",
    }
}

fn parse_state(name: &str) -> Result<StageState, StoreError> {
    Ok(match name {
        "scheduled" => StageState::Scheduled,
        "live" => StageState::Live,
        "break" => StageState::Break,
        "ended" => StageState::Ended,
        other => return Err(StoreError::Corrupt(format!("stage state {other:?}"))),
    })
}

fn corrupt(e: plenary_proto::IdError) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn chat_from_row(row: &AnyRow) -> Result<ChatMessage, StoreError> {
    Ok(ChatMessage {
        id: MessageId::parse(row.try_get::<String, _>("id")?).map_err(corrupt)?,
        author: UserProfile {
            id: UserId::parse(row.try_get::<String, _>("author_id")?).map_err(corrupt)?,
            name: row.try_get("author_name")?,
            country: row.try_get("author_country")?,
        },
        text: row.try_get("body")?,
        at: row.try_get("at")?,
    })
}

fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

#[async_trait]
impl Store for SqlStore {
    async fn write(&self, batch: &[Record]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut seen_users: BTreeMap<&str, (&UserProfile, i64)> = BTreeMap::new();
        for record in batch {
            match record {
                Record::Chat { room, message } => {
                    sqlx::query(
                        "INSERT INTO chat_messages (room, id, author_id, author_name, author_country, body, at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)
                         ON CONFLICT (room, id) DO NOTHING",
                    )
                    .bind(room.as_str())
                    .bind(message.id.as_str())
                    .bind(message.author.id.as_str())
                    .bind(message.author.name.as_str())
                    .bind(message.author.country.as_deref())
                    .bind(message.text.as_str())
                    .bind(message.at)
                    .execute(&mut *tx)
                    .await?;
                }
                Record::ChatDeleted { room, id, by, at } => {
                    sqlx::query(
                        "UPDATE chat_messages SET deleted_at = $1, deleted_by = $2
                         WHERE room = $3 AND id = $4 AND deleted_at IS NULL",
                    )
                    .bind(*at)
                    .bind(by.as_str())
                    .bind(room.as_str())
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await?;
                    log_moderation(&mut tx, room, "delete_message", id.as_str(), by, *at, None).await?;
                }
                Record::Stage { room, stage, by } => {
                    sqlx::query(
                        "INSERT INTO stage_changes (id, room, at, state, title, speaker, started_at, ended_at, changed_by)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(new_id())
                    .bind(room.as_str())
                    .bind(stage.updated_at)
                    .bind(state_name(stage.state))
                    .bind(stage.title.as_str())
                    .bind(stage.speaker.as_deref())
                    .bind(stage.started_at)
                    .bind(stage.ended_at)
                    .bind(by.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
                Record::Muted { room, user, until, by, at } => {
                    sqlx::query(
                        "INSERT INTO mutes (room, user_id, until, muted_by, muted_at) VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (room, user_id) DO UPDATE
                         SET until = excluded.until, muted_by = excluded.muted_by, muted_at = excluded.muted_at",
                    )
                    .bind(room.as_str())
                    .bind(user.as_str())
                    .bind(*until)
                    .bind(by.as_str())
                    .bind(*at)
                    .execute(&mut *tx)
                    .await?;
                    log_moderation(&mut tx, room, "mute", user.as_str(), by, *at, *until).await?;
                }
                Record::Unmuted { room, user, by, at } => {
                    sqlx::query("DELETE FROM mutes WHERE room = $1 AND user_id = $2")
                        .bind(room.as_str())
                        .bind(user.as_str())
                        .execute(&mut *tx)
                        .await?;
                    log_moderation(&mut tx, room, "unmute", user.as_str(), by, *at, None).await?;
                }
                Record::QuestionPut { room, question, by, votes_changed } => {
                    let mut body = question.clone();
                    body.votes.clear();
                    let json = serde_json::to_string(&body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    let state = serde_json::to_value(question.state)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default();
                    sqlx::query(
                        "INSERT INTO questions (room, id, state, body, asked_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
                         ON CONFLICT (room, id) DO UPDATE
                         SET state = excluded.state, body = excluded.body, updated_at = excluded.updated_at",
                    )
                    .bind(room.as_str())
                    .bind(question.id.as_str())
                    .bind(state.as_str())
                    .bind(json)
                    .bind(question.asked_at)
                    .bind(question.updated_at)
                    .execute(&mut *tx)
                    .await?;
                    if *votes_changed {
                        // A merge: the target's voters are the union, written whole.
                        sqlx::query("DELETE FROM question_votes WHERE room = $1 AND question = $2")
                            .bind(room.as_str())
                            .bind(question.id.as_str())
                            .execute(&mut *tx)
                            .await?;
                        for voter in &question.votes {
                            sqlx::query(
                                "INSERT INTO question_votes (room, question, voter, at) VALUES ($1, $2, $3, $4)",
                            )
                            .bind(room.as_str())
                            .bind(question.id.as_str())
                            .bind(voter.as_str())
                            .bind(question.updated_at)
                            .execute(&mut *tx)
                            .await?;
                        }
                    }
                    audit(&mut tx, room, question.id.as_str(), &state, question.version, by, question.updated_at)
                        .await?;
                }
                Record::QuestionRemoved { room, id, by, at } => {
                    for table in [
                        "DELETE FROM questions WHERE room = $1 AND id = $2",
                        "DELETE FROM question_votes WHERE room = $1 AND question = $2",
                    ] {
                        sqlx::query(table).bind(room.as_str()).bind(id.as_str()).execute(&mut *tx).await?;
                    }
                    audit(&mut tx, room, id.as_str(), "deleted", 0, by, *at).await?;
                }
                Record::QuestionVote { room, question, voter, up, at } => {
                    let query = if *up {
                        "INSERT INTO question_votes (room, question, voter, at) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (room, question, voter) DO NOTHING"
                    } else {
                        "DELETE FROM question_votes WHERE room = $1 AND question = $2 AND voter = $3 AND $4 >= 0"
                    };
                    sqlx::query(query)
                        .bind(room.as_str())
                        .bind(question.as_str())
                        .bind(voter.as_str())
                        .bind(*at)
                        .execute(&mut *tx)
                        .await?;
                }
                Record::PollPut { room, poll, by } => {
                    let json = serde_json::to_string(poll).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    let state = serde_json::to_value(poll.state)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default();
                    sqlx::query(
                        "INSERT INTO polls (room, id, state, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
                         ON CONFLICT (room, id) DO UPDATE
                         SET state = excluded.state, body = excluded.body, updated_at = excluded.updated_at",
                    )
                    .bind(room.as_str())
                    .bind(poll.id.as_str())
                    .bind(state.as_str())
                    .bind(json)
                    .bind(poll.created_at)
                    .bind(poll.updated_at)
                    .execute(&mut *tx)
                    .await?;
                    audit(&mut tx, room, poll.id.as_str(), &format!("poll:{state}"), poll.version, by, poll.updated_at)
                        .await?;
                }
                Record::ContactRequest { room, request } => {
                    let json = serde_json::to_string(request).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    sqlx::query(
                        "INSERT INTO contact_requests (room, id, visitor, state, body, created_at, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)
                         ON CONFLICT (room, id) DO UPDATE
                         SET state = excluded.state, body = excluded.body, updated_at = excluded.updated_at",
                    )
                    .bind(room.as_str())
                    .bind(request.id.as_str())
                    .bind(request.visitor.as_str())
                    .bind(request.state.name())
                    .bind(json)
                    .bind(request.created_at)
                    .bind(request.updated_at)
                    .execute(&mut *tx)
                    .await?;
                }
                Record::BoothStaff { room, user, presence, at } => {
                    let json = serde_json::to_string(presence).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    sqlx::query(
                        "INSERT INTO booth_staff (room, user_id, body, updated_at) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (room, user_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
                    )
                    .bind(room.as_str())
                    .bind(user.as_str())
                    .bind(json)
                    .bind(*at)
                    .execute(&mut *tx)
                    .await?;
                }
                Record::CallOpened { room, call } => {
                    let json = serde_json::to_string(call).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    sqlx::query(
                        "INSERT INTO calls (room, body, opened_at) VALUES ($1, $2, $3) ON CONFLICT (room) DO NOTHING",
                    )
                    .bind(room.as_str())
                    .bind(json)
                    .bind(call.opened_at)
                    .execute(&mut *tx)
                    .await?;
                }
                Record::PollRemoved { room, id, by, at } => {
                    for query in [
                        "DELETE FROM polls WHERE room = $1 AND id = $2",
                        "DELETE FROM poll_answers WHERE room = $1 AND poll = $2",
                    ] {
                        sqlx::query(query).bind(room.as_str()).bind(id.as_str()).execute(&mut *tx).await?;
                    }
                    audit(&mut tx, room, id.as_str(), "poll:deleted", 0, by, *at).await?;
                }
                Record::PollAnswer { room, poll, voter, choices, at } => {
                    let choices = serde_json::to_string(choices).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    sqlx::query(
                        "INSERT INTO poll_answers (room, poll, voter, choices, at) VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (room, poll, voter) DO UPDATE SET choices = excluded.choices, at = excluded.at",
                    )
                    .bind(room.as_str())
                    .bind(poll.as_str())
                    .bind(voter.as_str())
                    .bind(choices)
                    .bind(*at)
                    .execute(&mut *tx)
                    .await?;
                }
                Record::Joined { visit, room, user, at } => {
                    // Users are written once per batch, below, in id order (so two nodes
                    // writing the same users never wait on each other's row locks):
                    // reconnecting users would otherwise rewrite the same row many times over.
                    seen_users.insert(user.id.as_str(), (user, *at));
                    sqlx::query(
                        "INSERT INTO attendance (id, room, user_id, country, joined_at) VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (id) DO NOTHING",
                    )
                    .bind(visit.as_str())
                    .bind(room.as_str())
                    .bind(user.id.as_str())
                    .bind(user.country.as_deref())
                    .bind(*at)
                    .execute(&mut *tx)
                    .await?;
                }
                Record::Left { visit, at } => {
                    sqlx::query("UPDATE attendance SET left_at = $1 WHERE id = $2 AND left_at IS NULL")
                        .bind(*at)
                        .bind(visit.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        for (user, at) in seen_users.into_values() {
            sqlx::query(
                "INSERT INTO users (id, name, country, last_seen_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO UPDATE
                 SET name = excluded.name, country = excluded.country, last_seen_at = excluded.last_seen_at",
            )
            .bind(user.id.as_str())
            .bind(user.name.as_str())
            .bind(user.country.as_deref())
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn room(&self, room: &RoomId, chat_limit: usize, now: i64) -> Result<StoredRoom, StoreError> {
        let stage = sqlx::query(
            "SELECT state, title, speaker, started_at, ended_at, at FROM stage_changes
             WHERE room = $1 ORDER BY at DESC, id DESC LIMIT 1",
        )
        .bind(room.as_str())
        .fetch_optional(&self.pool)
        .await?
        .map(|row| -> Result<Stage, StoreError> {
            Ok(Stage {
                state: parse_state(&row.try_get::<String, _>("state")?)?,
                title: row.try_get("title")?,
                speaker: row.try_get("speaker")?,
                started_at: row.try_get("started_at")?,
                ended_at: row.try_get("ended_at")?,
                updated_at: row.try_get("at")?,
            })
        })
        .transpose()?;
        let (chat, chat_more) = self.chat_page(room, None, chat_limit).await?;
        let rows = sqlx::query("SELECT user_id, until FROM mutes WHERE room = $1 AND (until IS NULL OR until > $2)")
            .bind(room.as_str())
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        let mutes = rows
            .iter()
            .map(|row| {
                let user = UserId::parse(row.try_get::<String, _>("user_id")?).map_err(corrupt)?;
                Ok((user, row.try_get::<Option<i64>, _>("until")?))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let questions = self.questions_of(room).await?;
        let (polls, poll_answers) = self.polls_of(room).await?;
        let requests = self.requests_of(room, Some(now - super::RECENT_REQUESTS_MS)).await?;
        let call = if room.kind() == Some(plenary_proto::RoomKind::Call) { self.call_of(room).await? } else { None };
        let rows = sqlx::query("SELECT user_id, body FROM booth_staff WHERE room = $1")
            .bind(room.as_str())
            .fetch_all(&self.pool)
            .await?;
        let booth_staff = rows
            .iter()
            .map(|row| {
                let user = UserId::parse(row.try_get::<String, _>("user_id")?).map_err(corrupt)?;
                let body: String = row.try_get("body")?;
                let presence = serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(format!("staff: {e}")))?;
                Ok((user, presence))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(StoredRoom { stage, chat, chat_more, mutes, questions, polls, poll_answers, requests, call, booth_staff })
    }

    async fn chat_page(
        &self,
        room: &RoomId,
        before: Option<&MessageId>,
        limit: usize,
    ) -> Result<(Vec<ChatMessage>, bool), StoreError> {
        // One more than asked tells whether older messages exist. Message ids sort in the
        // order they were accepted.
        let fetch = i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1;
        let rows = match before {
            Some(before) => {
                sqlx::query(
                    "SELECT id, author_id, author_name, author_country, body, at FROM chat_messages
                     WHERE room = $1 AND deleted_at IS NULL AND id < $2 ORDER BY id DESC LIMIT $3",
                )
                .bind(room.as_str())
                .bind(before.as_str())
                .bind(fetch)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(
                    "SELECT id, author_id, author_name, author_country, body, at FROM chat_messages
                     WHERE room = $1 AND deleted_at IS NULL ORDER BY id DESC LIMIT $2",
                )
                .bind(room.as_str())
                .bind(fetch)
                .fetch_all(&self.pool)
                .await?
            }
        };
        let more = rows.len() > limit;
        let mut messages = rows.iter().take(limit).map(chat_from_row).collect::<Result<Vec<_>, _>>()?;
        messages.reverse();
        Ok((messages, more))
    }

    async fn visits(&self, room: Option<&RoomId>) -> Result<Vec<Visit>, StoreError> {
        let rows = match room {
            Some(room) => {
                sqlx::query(
                    "SELECT room, user_id, country, joined_at, left_at FROM attendance WHERE room = $1
                     ORDER BY joined_at, id",
                )
                .bind(room.as_str())
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query("SELECT room, user_id, country, joined_at, left_at FROM attendance ORDER BY joined_at, id")
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter()
            .map(|row| {
                Ok(Visit {
                    room: RoomId::parse(row.try_get::<String, _>("room")?).map_err(corrupt)?,
                    user: UserId::parse(row.try_get::<String, _>("user_id")?).map_err(corrupt)?,
                    country: row.try_get("country")?,
                    joined_at: row.try_get("joined_at")?,
                    left_at: row.try_get("left_at")?,
                })
            })
            .collect()
    }

    async fn questions(&self, room: &RoomId) -> Result<Vec<crate::domain::qa::Question>, StoreError> {
        self.questions_of(room).await
    }

    async fn contact_requests(&self, room: &RoomId) -> Result<Vec<crate::domain::booth::ContactRequest>, StoreError> {
        self.requests_of(room, None).await
    }

    async fn call(&self, room: &RoomId) -> Result<Option<plenary_proto::CallInfo>, StoreError> {
        self.call_of(room).await
    }

    async fn put_lead(&self, lead: &super::StoredLead) -> Result<(), StoreError> {
        let json = serde_json::to_string(&lead.card).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO leads (booth, visitor, body, shared_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (booth, visitor) DO UPDATE SET body = excluded.body, shared_at = excluded.shared_at",
        )
        .bind(lead.booth.as_str())
        .bind(lead.visitor.as_str())
        .bind(json)
        .bind(lead.shared_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn delete_lead(&self, booth: &str, visitor: &UserId) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM leads WHERE booth = $1 AND visitor = $2")
            .bind(booth)
            .bind(visitor.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn leads(&self, booth: &str, visitor: Option<&UserId>) -> Result<Vec<super::StoredLead>, StoreError> {
        let rows = sqlx::query(
            "SELECT booth, visitor, body, shared_at FROM leads WHERE booth = $1 AND ($2 = '' OR visitor = $2)
             ORDER BY shared_at, visitor",
        )
        .bind(booth)
        .bind(visitor.map_or("", |v| v.as_str()))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let body: String = row.try_get("body")?;
                Ok(super::StoredLead {
                    booth: row.try_get("booth")?,
                    visitor: UserId::parse(row.try_get::<String, _>("visitor")?).map_err(corrupt)?,
                    card: serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(format!("lead: {e}")))?,
                    shared_at: row.try_get("shared_at")?,
                })
            })
            .collect()
    }

    async fn qa_audit(&self, room: &RoomId) -> Result<Vec<super::AuditLine>, StoreError> {
        let rows =
            sqlx::query("SELECT question, state, version, actor, at FROM qa_audit WHERE room = $1 ORDER BY at, id")
                .bind(room.as_str())
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|row| {
                Ok(super::AuditLine {
                    subject: row.try_get("question")?,
                    state: row.try_get("state")?,
                    version: row.try_get("version")?,
                    actor: row.try_get("actor")?,
                    at: row.try_get("at")?,
                })
            })
            .collect()
    }

    async fn polls(
        &self,
        room: &RoomId,
    ) -> Result<(Vec<crate::domain::poll::Poll>, Vec<(MessageId, UserId, std::collections::BTreeSet<u8>)>), StoreError>
    {
        self.polls_of(room).await
    }

    async fn rooms_on_stage(&self) -> Result<Vec<(RoomId, StageState)>, StoreError> {
        // The latest change of each room, with ties in time broken by id as `room()` does.
        let rows = sqlx::query("SELECT room, state FROM stage_changes ORDER BY room, at DESC, id DESC")
            .fetch_all(&self.pool)
            .await?;
        let mut rooms: Vec<(RoomId, StageState)> = Vec::new();
        for row in &rows {
            let room = RoomId::parse(row.try_get::<String, _>("room")?).map_err(corrupt)?;
            if rooms.last().is_some_and(|(last, _)| *last == room) {
                continue;
            }
            rooms.push((room, parse_state(&row.try_get::<String, _>("state")?)?));
        }
        rooms.retain(|(_, state)| matches!(state, StageState::Live | StageState::Break));
        Ok(rooms)
    }

    async fn transcript(&self, room: &RoomId) -> Result<Vec<TranscriptLine>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, author_id, author_name, author_country, body, at, deleted_at, deleted_by FROM chat_messages
             WHERE room = $1 ORDER BY id",
        )
        .bind(room.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(TranscriptLine {
                    message: chat_from_row(row)?,
                    deleted_at: row.try_get("deleted_at")?,
                    deleted_by: row.try_get("deleted_by")?,
                })
            })
            .collect()
    }
}

/// One line of the Q&A audit log: who moved which question or poll to which state and
/// version, when.
async fn audit(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    room: &RoomId,
    subject: &str,
    state: &str,
    version: u64,
    actor: &UserId,
    at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO qa_audit (id, room, question, state, version, actor, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(new_id())
    .bind(room.as_str())
    .bind(subject)
    .bind(state)
    .bind(i64::try_from(version).unwrap_or(i64::MAX))
    .bind(actor.as_str())
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn log_moderation(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    room: &RoomId,
    action: &str,
    target: &str,
    actor: &UserId,
    at: i64,
    until: Option<i64>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO moderation_log (id, room, action, target, actor, at, until) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(new_id())
    .bind(room.as_str())
    .bind(action)
    .bind(target)
    .bind(actor.as_str())
    .bind(at)
    .bind(until)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
