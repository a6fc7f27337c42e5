//! Chat rules (what a message may contain) and the [`ChatLog`] that keeps a room's recent
//! messages. The log is a trait so the system of record can stand behind it later; today's
//! [`MemoryChatLog`] is a bounded buffer.

use std::collections::VecDeque;

use plenary_proto::{ChatMessage, MessageId};

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
}
