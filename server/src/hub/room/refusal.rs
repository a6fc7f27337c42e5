//! A refusal: why a room did not do what a member asked, as the `error` the member gets.
//! The one map from the domain's errors to wire codes.

use plenary_proto::ErrorCode;

use crate::domain::booth::BoothError;
use crate::domain::chat::{ChatError, ChatRefusal};
use crate::domain::poll::PollError;
use crate::domain::qa::QaError;
use crate::domain::stage::StageError;

/// A refusal, sent to the caller as an `error`.
#[derive(Debug)]
pub(super) struct Refusal {
    pub(super) code: ErrorCode,
    pub(super) message: String,
    pub(super) retry_after_ms: Option<u64>,
}

impl Refusal {
    pub(super) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Refusal { code, message: message.into(), retry_after_ms: None }
    }
}

impl From<StageError> for Refusal {
    fn from(e: StageError) -> Self {
        let code = match e {
            StageError::InvalidTransition { .. } | StageError::Ended => ErrorCode::Conflict,
            StageError::NoChange | StageError::EmptyTitle | StageError::ControlCharacters { .. } => ErrorCode::Invalid,
            StageError::TooLong { .. } => ErrorCode::TooLarge,
        };
        Refusal::new(code, e.to_string())
    }
}

impl From<QaError> for Refusal {
    fn from(e: QaError) -> Self {
        let code = match e {
            QaError::NotFound(_) => ErrorCode::NotFound,
            QaError::Forbidden => ErrorCode::Forbidden,
            QaError::Stale { .. }
            | QaError::InvalidTransition { .. }
            | QaError::InvalidMerge
            | QaError::DuplicateId
            | QaError::VotingClosed => ErrorCode::Conflict,
            QaError::Empty | QaError::ControlCharacters => ErrorCode::Invalid,
            QaError::TooLong(_) => ErrorCode::TooLarge,
        };
        Refusal::new(code, e.to_string())
    }
}

impl From<PollError> for Refusal {
    fn from(e: PollError) -> Self {
        let code = match e {
            PollError::NotFound(_) => ErrorCode::NotFound,
            PollError::Forbidden => ErrorCode::Forbidden,
            PollError::Stale { .. }
            | PollError::InvalidTransition { .. }
            | PollError::AlreadyAnswered
            | PollError::DuplicateId => ErrorCode::Conflict,
            PollError::Invalid(_) => ErrorCode::Invalid,
        };
        Refusal::new(code, e.to_string())
    }
}

impl From<ChatRefusal> for Refusal {
    fn from(e: ChatRefusal) -> Self {
        let code = match &e {
            ChatRefusal::Text(text) => return Refusal::from(text.clone()),
            ChatRefusal::Muted { .. } => ErrorCode::Muted,
            ChatRefusal::NoMessage(_) | ChatRefusal::NotMuted(_) => ErrorCode::NotFound,
            ChatRefusal::BadMinutes => ErrorCode::Invalid,
            ChatRefusal::NoChat
            | ChatRefusal::NotYours
            | ChatRefusal::ModeratorsOnly(_)
            | ChatRefusal::OrganisersOnly => ErrorCode::Forbidden,
        };
        Refusal::new(code, e.to_string())
    }
}

impl From<ChatError> for Refusal {
    fn from(e: ChatError) -> Self {
        let code = match e {
            ChatError::Empty => ErrorCode::Invalid,
            ChatError::TooLong { .. } => ErrorCode::TooLarge,
        };
        Refusal::new(code, e.to_string())
    }
}

impl From<BoothError> for Refusal {
    fn from(e: BoothError) -> Self {
        let code = match e {
            BoothError::Forbidden => ErrorCode::Forbidden,
            BoothError::NotFound(_) => ErrorCode::NotFound,
            BoothError::Taken | BoothError::NotWaiting | BoothError::AlreadyWaiting | BoothError::NobodyAvailable => {
                ErrorCode::Conflict
            }
            BoothError::Invalid(_) => ErrorCode::Invalid,
        };
        Refusal::new(code, e.to_string())
    }
}
