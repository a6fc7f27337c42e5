//! The system of record: what the hub produced (chat with tombstones, stage changes,
//! moderation decisions, attendance visits), kept in SQLite (the default, a file created on
//! first run) or PostgreSQL (`DATABASE_URL=postgres://...`) behind the [`Store`] trait, so
//! room code never sees SQL.
//!
//! Rooms do not write directly: they hand [`Record`]s to the [`StoreWriter`], which writes
//! them in batches, one transaction each, off the fan-out path, and drains what is queued on
//! a clean shutdown.

mod access;
mod programme;
mod sql;
mod writer;

/// Visits are the record's, read by the analytics in `domain`.
pub use crate::domain::analytics::Visit;
pub use access::AccessStore;
pub use programme::{ApplySummary, ProgrammeStore, RecordKind, StoredGrant};
pub use sql::SqlStore;
pub use writer::{StoreWriter, WriterTask};

use async_trait::async_trait;
use plenary_proto::{ChatMessage, MessageId, RoomId, Stage, StageState, UserId, UserProfile};

/// One fact to record.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Chat {
        room: RoomId,
        message: ChatMessage,
    },
    ChatDeleted {
        room: RoomId,
        id: MessageId,
        by: UserId,
        at: i64,
    },
    Stage {
        room: RoomId,
        stage: Stage,
        by: UserId,
    },
    Muted {
        room: RoomId,
        user: UserId,
        until: Option<i64>,
        by: UserId,
        at: i64,
    },
    Unmuted {
        room: RoomId,
        user: UserId,
        by: UserId,
        at: i64,
    },
    /// A connection joined a room; `visit` names this stay until the matching `Left`.
    Joined {
        visit: MessageId,
        room: RoomId,
        user: UserProfile,
        at: i64,
    },
    Left {
        visit: MessageId,
        at: i64,
    },
    /// A question's new state (votes written only when `votes_changed`: a merge); also
    /// logged in the Q&A audit log with `by`.
    QuestionPut {
        room: RoomId,
        question: crate::domain::qa::Question,
        by: UserId,
        votes_changed: bool,
    },
    QuestionRemoved {
        room: RoomId,
        id: MessageId,
        by: UserId,
        at: i64,
    },
    QuestionVote {
        room: RoomId,
        question: MessageId,
        voter: UserId,
        up: bool,
        at: i64,
    },
    PollPut {
        room: RoomId,
        poll: crate::domain::poll::Poll,
        by: UserId,
    },
    PollRemoved {
        room: RoomId,
        id: MessageId,
        by: UserId,
        at: i64,
    },
    PollAnswer {
        room: RoomId,
        poll: MessageId,
        voter: UserId,
        choices: std::collections::BTreeSet<u8>,
        at: i64,
    },
    /// A booth contact request's new state.
    ContactRequest {
        room: RoomId,
        request: crate::domain::booth::ContactRequest,
    },
    /// A booth staff member's presence changed.
    BoothStaff {
        room: RoomId,
        user: UserId,
        presence: crate::domain::booth::StaffPresence,
        at: i64,
    },
    /// A call room was opened for `call.members`.
    CallOpened {
        room: RoomId,
        call: plenary_proto::CallInfo,
    },
}

/// What a room needs from the record when it opens.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredRoom {
    pub stage: Option<Stage>,
    /// The newest chat messages that are not deleted, oldest first.
    pub chat: Vec<ChatMessage>,
    /// Whether the record holds older chat messages than `chat`.
    pub chat_more: bool,
    /// Mutes in force: user and, for a timed mute, its end.
    pub mutes: Vec<(UserId, Option<i64>)>,
    /// The room's questions with their voters, oldest first.
    pub questions: Vec<crate::domain::qa::Question>,
    /// The room's polls, oldest first, and every answer: poll, user, choices.
    pub polls: Vec<crate::domain::poll::Poll>,
    pub poll_answers: Vec<(MessageId, UserId, std::collections::BTreeSet<u8>)>,
    /// A booth's contact requests that are waiting, or changed since `now` minus
    /// [`RECENT_REQUESTS_MS`], oldest first.
    pub requests: Vec<crate::domain::booth::ContactRequest>,
    /// A call room's members.
    pub call: Option<plenary_proto::CallInfo>,
    /// A booth's staff as last recorded.
    pub booth_staff: Vec<(UserId, crate::domain::booth::StaffPresence)>,
}

/// How far back a booth room's record of finished contact requests reaches when it opens.
pub const RECENT_REQUESTS_MS: i64 = 3_600_000;

/// A contact card a visitor shared with a booth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLead {
    pub booth: String,
    pub visitor: UserId,
    pub card: crate::domain::booth::ContactCard,
    pub shared_at: i64,
}

/// One line of the Q&A audit log: `subject` (a question or poll id) moved to `state` (for
/// polls `poll:<state>`; `deleted` / `poll:deleted` when removed) at `version`, by `actor`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct AuditLine {
    pub subject: String,
    pub state: String,
    pub version: i64,
    pub actor: String,
    pub at: i64,
}

/// A chat message as the transcript keeps it, deletions included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptLine {
    pub message: ChatMessage,
    pub deleted_at: Option<i64>,
    pub deleted_by: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("the record holds a value this node cannot read: {0}")]
    Corrupt(String),
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Writes a batch in one transaction: all of it or nothing.
    async fn write(&self, batch: &[Record]) -> Result<(), StoreError>;
    /// The latest stage, the newest `chat_limit` chat messages and the mutes in force at
    /// `now` (Unix ms).
    async fn room(&self, room: &RoomId, chat_limit: usize, now: i64) -> Result<StoredRoom, StoreError>;
    /// Up to `limit` chat messages older than `before` (or the newest), oldest first, and
    /// whether still older ones exist. Deleted messages are left out.
    async fn chat_page(
        &self,
        room: &RoomId,
        before: Option<&MessageId>,
        limit: usize,
    ) -> Result<(Vec<ChatMessage>, bool), StoreError>;
    /// Every visit to `room`, or to every room, by join time.
    async fn visits(&self, room: Option<&RoomId>) -> Result<Vec<Visit>, StoreError>;
    /// A room's whole chat, deleted messages included, oldest first.
    async fn transcript(&self, room: &RoomId) -> Result<Vec<TranscriptLine>, StoreError>;
    /// A room's polls (oldest first) and their answers: poll, user, choices.
    #[allow(clippy::type_complexity)]
    async fn polls(
        &self,
        room: &RoomId,
    ) -> Result<(Vec<crate::domain::poll::Poll>, Vec<(MessageId, UserId, std::collections::BTreeSet<u8>)>), StoreError>;
    /// A room's questions with their voters, oldest first.
    async fn questions(&self, room: &RoomId) -> Result<Vec<crate::domain::qa::Question>, StoreError>;
    /// A room's Q&A and poll audit log, oldest first.
    async fn qa_audit(&self, room: &RoomId) -> Result<Vec<AuditLine>, StoreError>;
    /// Rooms whose stage, by its latest recorded change, is live or on a break, with that
    /// state.
    async fn rooms_on_stage(&self) -> Result<Vec<(RoomId, StageState)>, StoreError>;
    /// Who call room `room` is for: its recorded opening, or else the accepted request it
    /// is named after.
    async fn call(&self, room: &RoomId) -> Result<Option<plenary_proto::CallInfo>, StoreError>;
    /// Every contact request made at a booth room, oldest first.
    async fn contact_requests(&self, room: &RoomId) -> Result<Vec<crate::domain::booth::ContactRequest>, StoreError>;
    /// Shares (or replaces) a visitor's contact card with a booth. Written at once, not
    /// through the writer: the visitor is told it is kept.
    async fn put_lead(&self, lead: &StoredLead) -> Result<(), StoreError>;
    /// Withdraws a visitor's card from a booth; false when none was shared.
    async fn delete_lead(&self, booth: &str, visitor: &UserId) -> Result<bool, StoreError>;
    /// The cards shared with `booth` (oldest first), or only `visitor`'s.
    async fn leads(&self, booth: &str, visitor: Option<&UserId>) -> Result<Vec<StoredLead>, StoreError>;
}
