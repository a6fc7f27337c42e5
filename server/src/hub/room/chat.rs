//! The core's chat, which every kind of room has (who may write is the membership's
//! concern): sending, history pages (older ones read from the record off the actor),
//! deletions and mutes, decided by `domain::chat::decide`, rate-limited here, and applied
//! to the room's log.

use super::*;
use crate::domain::chat::{self, ChatCommand, ChatRights, ChatRoom};
use crate::domain::page::{self, PAGE_BYTES};
use crate::domain::rate::TokenBucket;
use plenary_proto::{ChatMessage, Membership, MessageId};

impl RoomCore {
    pub(super) async fn chat_request(
        &mut self,
        state: &mut dyn StreamState,
        peer: &Arc<Peer>,
        identity: &Identity,
        you: &Membership,
        rid: RequestId,
        request: ChatRequest,
    ) -> Result<(), Refusal> {
        let now = unix_millis();
        let event = match request {
            ChatRequest::Send { text } => {
                let id = crate::domain::new_id();
                let event = self.decide_chat(identity, you, ChatCommand::Send { id, text }, now)?;
                self.take_chat_token(identity.user())?;
                event
            }
            ChatRequest::History { before, limit } => return self.chat_history(peer, rid, before, limit),
            ChatRequest::Delete { id } => self.decide_chat(identity, you, ChatCommand::Delete { id }, now)?,
            ChatRequest::Mute { user, minutes } => {
                self.decide_chat(identity, you, ChatCommand::Mute { user, minutes }, now)?
            }
            ChatRequest::Unmute { user } => self.decide_chat(identity, you, ChatCommand::Unmute { user }, now)?,
        };
        self.publish(state, event).await?;
        self.ack(peer, rid);
        Ok(())
    }

    /// Answers `chat_history`: from memory, and older messages than memory holds from the
    /// record, read in a task of its own (tracked, so shutdown waits for it) so the room does
    /// not wait for the database.
    fn chat_history(
        &self,
        peer: &Arc<Peer>,
        rid: RequestId,
        before: Option<MessageId>,
        limit: Option<u16>,
    ) -> Result<(), Refusal> {
        let limit = usize::from(limit.unwrap_or(CHAT_PAGE as u16)).clamp(1, CHAT_PAGE);
        let in_memory = before.as_ref().is_none_or(|b| self.chat.get(b).is_some());
        let (messages, more) = if in_memory { self.chat_page(before.as_ref(), limit) } else { (Vec::new(), false) };
        match &self.ctx.writer {
            Some(writer) if messages.len() < limit => {
                let older_than = messages.first().map(|m| m.id.clone()).or(before);
                let (store, room, peer) = (writer.store().clone(), self.id.clone(), peer.clone());
                self.ctx.tracker.spawn(async move {
                    let wanted = limit - messages.len();
                    let answer = match store.chat_page(&room, older_than.as_ref(), wanted).await {
                        Ok((mut older, more)) => {
                            older.extend(messages);
                            let page = page::take_newest(older, PAGE_BYTES);
                            ServerMsg::ChatHistory { rid, room, messages: page.items, more: more || page.more }
                        }
                        Err(e) => {
                            tracing::error!(%room, error = %e, "reading chat history failed");
                            ServerMsg::Error {
                                rid: Some(rid),
                                code: ErrorCode::Unavailable,
                                message: "chat history is unavailable; try again".into(),
                                retry_after_ms: None,
                            }
                        }
                    };
                    let _ = peer.send_msg(&answer);
                });
            }
            _ => {
                let more = more || self.older_chat_in_record;
                if !in_memory {
                    let before = before.map(|b| b.to_string()).unwrap_or_default();
                    return Err(Refusal::new(ErrorCode::NotFound, format!("no message {before} in {}", self.id)));
                }
                let _ = peer.send_msg(&ServerMsg::ChatHistory { rid, room: self.id.clone(), messages, more });
            }
        }
        Ok(())
    }

    /// Up to `limit` chat messages before `before` (or the newest), oldest first, within a
    /// page's bytes; and whether older ones exist.
    pub(super) fn chat_page(&self, before: Option<&MessageId>, limit: usize) -> (Vec<ChatMessage>, bool) {
        let (messages, more) = self.chat.page(before, limit);
        let page = page::take_newest(messages, PAGE_BYTES);
        (page.items, more || page.more)
    }

    /// A chat command decided by `chat::decide` against this room's log and mutes.
    pub(super) fn decide_chat(
        &self,
        identity: &Identity,
        you: &Membership,
        command: ChatCommand,
        now: i64,
    ) -> Result<RoomEvent, Refusal> {
        let room =
            ChatRoom { log: self.chat.as_ref(), muted: &self.muted, max_chars: self.ctx.settings.chat_max_chars };
        let rights =
            ChatRights { can_chat: you.can_chat, can_moderate: you.can_moderate, can_announce: you.can_announce };
        Ok(chat::decide(&room, &identity.profile, rights, command, now)?)
    }

    /// Takes one from the caller's budget of chat messages (questions and booth requests
    /// count against it too).
    pub(super) fn take_chat_token(&mut self, user: &UserId) -> Result<(), Refusal> {
        let settings = &self.ctx.settings;
        let now = Instant::now();
        let bucket = self
            .chat_buckets
            .entry(user.clone())
            .or_insert_with(|| TokenBucket::new(settings.chat_burst, f64::from(settings.chat_per_minute) / 60.0, now));
        bucket.try_take(now).map_err(|wait| Refusal {
            code: ErrorCode::RateLimited,
            message: format!("slow down: at most {} chat messages and questions a minute", settings.chat_per_minute),
            retry_after_ms: Some(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1)),
        })
    }

    /// Applies what a room event changes of the chat and its mutes (the rest is the kind's).
    pub(super) fn apply_chat(&mut self, event: &RoomEvent) {
        match event {
            RoomEvent::Chat { message } => self.append_chat(message),
            RoomEvent::ChatDeleted { id, .. } => {
                self.chat.delete(id);
            }
            RoomEvent::UserMuted { user, until, .. } => {
                self.muted.insert(user.clone(), *until);
            }
            RoomEvent::UserUnmuted { user, .. } => {
                self.muted.remove(user);
            }
            _ => {}
        }
    }

    fn append_chat(&mut self, message: &ChatMessage) {
        // The record and the bus history may both hold a message.
        let evicted = self.chat.get(&message.id).is_none() && self.chat.append(message.clone());
        self.older_chat_in_record |= evicted && self.ctx.writer.is_some();
    }
}
