//! Chat rules: what a message may contain, who may send, delete, mute and announce
//! ([`decide`], which turns a command into the room event or says why not), and the
//! [`ChatLog`] that keeps a room's recent messages (a trait so the system of record can
//! stand behind it; today's [`MemoryChatLog`] is a bounded buffer).

use std::collections::{HashMap, VecDeque};

use plenary_proto::{Announcement, ChatMessage, MessageId, RoomEvent, UserId, UserProfile};

use crate::domain::text::normalise_text;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    #[error("the message is empty")]
    Empty,
    #[error("the message is longer than {max} characters")]
    TooLong { max: usize },
}

/// Normalises a chat text (the text rules, [`normalise_text`]: line endings to `\n`, other
/// control characters, bidi controls and invisible characters removed, NFC, trimmed); then
/// checks it is non-empty and at most `max_chars`.
pub fn validate_text(text: &str, max_chars: usize) -> Result<String, ChatError> {
    let cleaned = normalise_text(text);
    if cleaned.is_empty() {
        return Err(ChatError::Empty);
    }
    if cleaned.chars().count() > max_chars {
        return Err(ChatError::TooLong { max: max_chars });
    }
    Ok(cleaned)
}

/// Longest mute, in minutes (a week).
pub const MAX_MUTE_MINUTES: u32 = 7 * 24 * 60;
/// Longest announcement, in characters.
pub const ANNOUNCEMENT_MAX_CHARS: usize = 2_000;

/// A chat command as the room takes it (the message id is chosen by the room).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatCommand {
    Send { id: MessageId, text: String },
    Delete { id: MessageId },
    Mute { user: UserId, minutes: Option<u32> },
    Unmute { user: UserId },
    Announce { text: String },
}

/// What the sender may do in the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatRights {
    pub can_chat: bool,
    pub can_moderate: bool,
    pub can_announce: bool,
}

/// What the rules read of the room.
pub struct ChatRoom<'a> {
    pub log: &'a dyn ChatLog,
    /// Muted users, until when (Unix ms; `None` until unmuted).
    pub muted: &'a HashMap<UserId, Option<i64>>,
    pub max_chars: usize,
}

impl std::fmt::Debug for ChatRoom<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatRoom").field("muted", &self.muted.len()).field("max_chars", &self.max_chars).finish()
    }
}

impl ChatRoom<'_> {
    pub fn is_muted(&self, user: &UserId, now: i64) -> bool {
        self.muted.get(user).is_some_and(|until| until.is_none_or(|until| until > now))
    }
}

/// Why a chat command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatRefusal {
    #[error("this room has no chat for you")]
    NoChat,
    #[error("a moderator muted you in this room{}", until.map(|u| format!(" until {u}")).unwrap_or_default())]
    Muted { until: Option<i64> },
    #[error(transparent)]
    Text(#[from] ChatError),
    #[error("no message {0} here")]
    NoMessage(MessageId),
    #[error("only moderators and the author delete a message")]
    NotYours,
    #[error("only moderators {0}")]
    ModeratorsOnly(&'static str),
    #[error("minutes must be between 1 and {MAX_MUTE_MINUTES}")]
    BadMinutes,
    #[error("{0} is not muted here")]
    NotMuted(UserId),
    #[error("only organisers announce")]
    OrganisersOnly,
}

/// Decides a chat command by `author` with `rights` at `now`: the room event to publish, or
/// why not. Rate limits are the room's (they keep state per user).
pub fn decide(
    room: &ChatRoom<'_>,
    author: &UserProfile,
    rights: ChatRights,
    command: ChatCommand,
    now: i64,
) -> Result<RoomEvent, ChatRefusal> {
    match command {
        ChatCommand::Send { id, text } => {
            if !rights.can_chat {
                return Err(ChatRefusal::NoChat);
            }
            if room.is_muted(&author.id, now) {
                return Err(ChatRefusal::Muted { until: room.muted.get(&author.id).copied().flatten() });
            }
            let text = validate_text(&text, room.max_chars)?;
            Ok(RoomEvent::Chat { message: ChatMessage { id, author: author.clone(), text, at: now } })
        }
        ChatCommand::Delete { id } => {
            let message = room.log.get(&id).ok_or_else(|| ChatRefusal::NoMessage(id.clone()))?;
            if !rights.can_moderate && message.author.id != author.id {
                return Err(ChatRefusal::NotYours);
            }
            Ok(RoomEvent::ChatDeleted { id, by: author.id.clone() })
        }
        ChatCommand::Mute { user, minutes } => {
            if !rights.can_moderate {
                return Err(ChatRefusal::ModeratorsOnly("mute"));
            }
            if minutes.is_some_and(|m| m == 0 || m > MAX_MUTE_MINUTES) {
                return Err(ChatRefusal::BadMinutes);
            }
            let until = minutes.map(|m| now + i64::from(m) * 60_000);
            Ok(RoomEvent::UserMuted { user, until, by: author.id.clone() })
        }
        ChatCommand::Unmute { user } => {
            if !rights.can_moderate {
                return Err(ChatRefusal::ModeratorsOnly("unmute"));
            }
            if !room.is_muted(&user, now) {
                return Err(ChatRefusal::NotMuted(user));
            }
            Ok(RoomEvent::UserUnmuted { user, by: author.id.clone() })
        }
        ChatCommand::Announce { text } => {
            if !rights.can_announce {
                return Err(ChatRefusal::OrganisersOnly);
            }
            let text = validate_text(&text, ANNOUNCEMENT_MAX_CHARS)?;
            Ok(RoomEvent::Announcement { announcement: Announcement { text, by: author.clone(), at: now } })
        }
    }
}

/// A room's chat messages, oldest first.
pub trait ChatLog: Send + Sync + 'static {
    /// Adds the newest message; returns whether an old one was evicted to make room.
    fn append(&mut self, message: ChatMessage) -> bool;
    /// Removes a message and returns it.
    fn delete(&mut self, id: &MessageId) -> Option<ChatMessage>;
    fn get(&self, id: &MessageId) -> Option<&ChatMessage>;
    /// Up to `limit` messages before `before` (or the newest when `None`), oldest first,
    /// and whether older ones exist. An unknown `before` yields nothing.
    fn page(&self, before: Option<&MessageId>, limit: usize) -> (Vec<ChatMessage>, bool);
}

/// Keeps the newest `capacity` messages.
#[derive(Debug)]
pub struct MemoryChatLog {
    messages: VecDeque<ChatMessage>,
    capacity: usize,
}

impl MemoryChatLog {
    pub fn new(capacity: usize) -> Self {
        MemoryChatLog { messages: VecDeque::with_capacity(capacity.min(64)), capacity: capacity.max(1) }
    }

    fn position(&self, id: &MessageId) -> Option<usize> {
        // Lookups are almost always of recent messages: search from the newest.
        self.messages.iter().rposition(|m| &m.id == id)
    }
}

impl ChatLog for MemoryChatLog {
    fn append(&mut self, message: ChatMessage) -> bool {
        let evicted = self.messages.len() == self.capacity;
        if evicted {
            self.messages.pop_front();
        }
        self.messages.push_back(message);
        evicted
    }

    fn delete(&mut self, id: &MessageId) -> Option<ChatMessage> {
        let index = self.position(id)?;
        self.messages.remove(index)
    }

    fn get(&self, id: &MessageId) -> Option<&ChatMessage> {
        self.position(id).map(|i| &self.messages[i])
    }

    fn page(&self, before: Option<&MessageId>, limit: usize) -> (Vec<ChatMessage>, bool) {
        let end = match before {
            Some(id) => match self.position(id) {
                Some(i) => i,
                None => return (Vec::new(), false),
            },
            None => self.messages.len(),
        };
        let start = end.saturating_sub(limit);
        (self.messages.range(start..end).cloned().collect(), start > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plenary_proto::{UserId, UserProfile};

    fn message(n: u32) -> ChatMessage {
        ChatMessage {
            id: MessageId::parse(format!("m{n:04}")).unwrap(),
            author: UserProfile { id: UserId::parse("u").unwrap(), name: "U".into(), country: None },
            text: format!("hello {n}"),
            at: i64::from(n),
        }
    }

    #[test]
    fn text_rules() {
        assert_eq!(validate_text("  hi  ", 10).unwrap(), "hi");
        assert_eq!(validate_text("a\r\nb\u{7}", 10).unwrap(), "a\nb");
        assert_eq!(validate_text(" \n\t ", 10), Err(ChatError::Empty));
        assert_eq!(validate_text("\u{0}", 10), Err(ChatError::Empty));
        assert_eq!(validate_text("ééééé", 5).unwrap(), "ééééé", "limit counts characters");
        assert_eq!(validate_text("123456", 5), Err(ChatError::TooLong { max: 5 }));
        assert_eq!(validate_text("\u{2066}a\u{2069}\u{2028}b\u{200B}", 10).unwrap(), "a\nb");
        assert_eq!(validate_text("\u{202E}\u{FEFF}", 10), Err(ChatError::Empty));
    }

    #[test]
    fn log_is_bounded_and_pages_backwards() {
        let mut log = MemoryChatLog::new(5);
        for n in 0..8 {
            log.append(message(n));
        }
        let (newest, more) = log.page(None, 3);
        assert_eq!(newest.iter().map(|m| m.at).collect::<Vec<_>>(), vec![5, 6, 7]);
        assert!(more);
        let (older, more) = log.page(Some(&newest[0].id), 3);
        assert_eq!(older.iter().map(|m| m.at).collect::<Vec<_>>(), vec![3, 4]);
        assert!(!more);
        assert_eq!(log.page(Some(&message(0).id), 3), (vec![], false), "evicted id");
    }

    #[test]
    fn delete_removes() {
        let mut log = MemoryChatLog::new(5);
        log.append(message(1));
        log.append(message(2));
        assert_eq!(log.delete(&message(1).id).map(|m| m.at), Some(1));
        assert!(log.get(&message(1).id).is_none());
        assert!(log.delete(&message(1).id).is_none());
        assert_eq!(log.page(None, 10).0.len(), 1);
    }

    mod decisions {
        use super::*;

        fn person(id: &str) -> UserProfile {
            UserProfile { id: UserId::parse(id).unwrap(), name: id.to_uppercase(), country: None }
        }

        const ATTENDEE: ChatRights = ChatRights { can_chat: true, can_moderate: false, can_announce: false };
        const MODERATOR: ChatRights = ChatRights { can_chat: true, can_moderate: true, can_announce: false };

        #[test]
        fn who_may_send_delete_mute_and_announce() {
            let mut log = MemoryChatLog::new(10);
            log.append(message(1));
            let mut muted = HashMap::new();
            muted.insert(UserId::parse("loud").unwrap(), Some(5_000));
            let room = ChatRoom { log: &log, muted: &muted, max_chars: 20 };
            let send = |text: &str| ChatCommand::Send { id: MessageId::parse("m9").unwrap(), text: text.into() };
            assert!(matches!(decide(&room, &person("ada"), ATTENDEE, send("hi"), 0), Ok(RoomEvent::Chat { .. })));
            let silent = ChatRights { can_chat: false, ..ATTENDEE };
            assert_eq!(decide(&room, &person("ada"), silent, send("hi"), 0), Err(ChatRefusal::NoChat));
            assert_eq!(
                decide(&room, &person("loud"), ATTENDEE, send("hi"), 1_000),
                Err(ChatRefusal::Muted { until: Some(5_000) })
            );
            assert!(decide(&room, &person("loud"), ATTENDEE, send("hi"), 5_000).is_ok(), "the mute ended");
            assert_eq!(
                decide(&room, &person("ada"), ATTENDEE, send(&"x".repeat(21)), 0),
                Err(ChatRefusal::Text(ChatError::TooLong { max: 20 }))
            );
            let delete = || ChatCommand::Delete { id: MessageId::parse("m0001").unwrap() };
            assert_eq!(decide(&room, &person("ada"), ATTENDEE, delete(), 0), Err(ChatRefusal::NotYours));
            assert!(decide(&room, &person("u"), ATTENDEE, delete(), 0).is_ok(), "the author deletes its own");
            assert!(decide(&room, &person("mod"), MODERATOR, delete(), 0).is_ok());
            let mute = |minutes| ChatCommand::Mute { user: UserId::parse("ada").unwrap(), minutes };
            assert_eq!(
                decide(&room, &person("ada"), ATTENDEE, mute(Some(5)), 0),
                Err(ChatRefusal::ModeratorsOnly("mute"))
            );
            assert_eq!(decide(&room, &person("mod"), MODERATOR, mute(Some(0)), 0), Err(ChatRefusal::BadMinutes));
            assert!(matches!(
                decide(&room, &person("mod"), MODERATOR, mute(Some(5)), 1_000),
                Ok(RoomEvent::UserMuted { until: Some(301_000), .. })
            ));
            let unmute = |user: &str| ChatCommand::Unmute { user: UserId::parse(user).unwrap() };
            assert!(decide(&room, &person("mod"), MODERATOR, unmute("loud"), 0).is_ok());
            assert!(matches!(
                decide(&room, &person("mod"), MODERATOR, unmute("ada"), 0),
                Err(ChatRefusal::NotMuted(_))
            ));
            let announce = ChatCommand::Announce { text: "Welcome".into() };
            assert_eq!(decide(&room, &person("mod"), MODERATOR, announce.clone(), 0), Err(ChatRefusal::OrganisersOnly));
            let organiser = ChatRights { can_announce: true, ..MODERATOR };
            assert!(matches!(
                decide(&room, &person("org"), organiser, announce, 0),
                Ok(RoomEvent::Announcement { .. })
            ));
        }
    }
}
