//! The room's own commands: stage changes, chat, deletions, mutes and announcements, and
//! applying a room event to the room's state.

use super::*;
use crate::domain::chat::{ChatCommand, ChatRights, ChatRoom};

impl Room {
    pub(super) fn current_stage(&self) -> Stage {
        self.stage.clone().unwrap_or_else(|| {
            let slug = self.id.as_str().strip_prefix("session:").unwrap_or(self.id.as_str());
            let title = self.ctx.sessions.as_ref().and_then(|s| s.title(slug)).unwrap_or_else(|| slug.to_owned());
            stage::initial(&title, 0)
        })
    }

    pub(super) async fn request(
        &mut self,
        peer: &Arc<Peer>,
        identity: &Identity,
        rid: RequestId,
        request: RoomRequest,
    ) -> Result<(), Refusal> {
        let you = self.you(identity);
        let now = unix_millis();
        let event = match request {
            RoomRequest::Stage(change) => {
                if self.kind != RoomKind::Session {
                    return Err(Refusal::new(ErrorCode::NotFound, format!("{} has no stage", self.id)));
                }
                if !you.can_manage_stage {
                    return Err(Refusal::new(ErrorCode::Forbidden, "only moderators and organisers manage the stage"));
                }
                // Validated against this node's view of the stage and published only if the
                // room's stream has not moved since: a transition another node published
                // meanwhile is applied first and this one validated again, so two moderators
                // on two nodes cannot both end, or both resume, the same stage.
                for _ in 0..STAGE_ATTEMPTS {
                    let next = stage::apply(&self.current_stage(), change.clone(), now)?;
                    let ended = next.state == StageState::Ended;
                    let event = RoomEvent::Stage { stage: next, by: identity.user().clone() };
                    if self.publish_if_current(StreamEvent::Room(event)).await? {
                        self.ack(peer, rid);
                        if ended {
                            self.end_qa(identity).await;
                        }
                        return Ok(());
                    }
                    self.catch_up(None).await;
                }
                return Err(Refusal::new(ErrorCode::Conflict, "the stage kept changing meanwhile; try again"));
            }
            RoomRequest::ChatSend { text } => {
                let id = MessageId::parse(uuid::Uuid::now_v7().simple().to_string()).expect("hex is a valid id");
                let event = self.decide_chat(identity, &you, ChatCommand::Send { id, text }, now)?;
                self.take_chat_token(identity.user())?;
                event
            }
            RoomRequest::ChatHistory { before, limit } => {
                let limit = usize::from(limit.unwrap_or(CHAT_PAGE as u16)).clamp(1, CHAT_PAGE);
                let in_memory = before.as_ref().is_none_or(|b| self.chat.get(b).is_some());
                let (messages, more) =
                    if in_memory { self.chat_page(before.as_ref(), limit) } else { (Vec::new(), false) };
                match &self.ctx.writer {
                    // Older messages than memory holds come from the record, read in a task of
                    // its own (tracked, so shutdown waits for it) so the room does not wait for
                    // the database.
                    Some(writer) if messages.len() < limit => {
                        let older_than = messages.first().map(|m| m.id.clone()).or(before);
                        let (store, room, peer) = (writer.store().clone(), self.id.clone(), peer.clone());
                        self.ctx.tracker.spawn(async move {
                            let wanted = limit - messages.len();
                            let answer = match store.chat_page(&room, older_than.as_ref(), wanted).await {
                                Ok((mut older, more)) => {
                                    older.extend(messages);
                                    let page = page::take_newest(older, page::PAGE_BYTES);
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
                            return Err(Refusal::new(
                                ErrorCode::NotFound,
                                format!("no message {before} in {}", self.id),
                            ));
                        }
                        let _ = peer.send_msg(&ServerMsg::ChatHistory { rid, room: self.id.clone(), messages, more });
                    }
                }
                return Ok(());
            }
            RoomRequest::ChatDelete { id } => self.decide_chat(identity, &you, ChatCommand::Delete { id }, now)?,
            RoomRequest::Mute { user, minutes } => {
                self.decide_chat(identity, &you, ChatCommand::Mute { user, minutes }, now)?
            }
            RoomRequest::Unmute { user } => self.decide_chat(identity, &you, ChatCommand::Unmute { user }, now)?,
            RoomRequest::Qa(request) => return self.qa_request(peer, identity, rid, request).await,
            RoomRequest::QaPage { before } => return self.questions_page(peer, identity, rid, before.as_ref()),
            RoomRequest::BoothPage { after } => return self.booth_page(peer, identity, rid, after.as_ref()),
            RoomRequest::Poll(request) => return self.poll_request(peer, identity, rid, request).await,
            RoomRequest::Booth(request) => return self.booth_request(peer, identity, rid, request).await,
            RoomRequest::Signal { to, signal } => {
                self.relay_signal(identity.user(), to, signal).await?;
                let _ = peer.send_msg(&ServerMsg::Ack { rid });
                return Ok(());
            }
            RoomRequest::Announce { text } => self.decide_chat(identity, &you, ChatCommand::Announce { text }, now)?,
        };
        self.publish(event).await?;
        self.ack(peer, rid);
        Ok(())
    }

    /// A chat command decided by `chat::decide` against this room's log and mutes.
    fn decide_chat(
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

    pub(super) fn apply(&mut self, event: &RoomEvent) {
        match event {
            RoomEvent::Stage { stage, .. } => {
                self.stats.set_stage_state(stage.state);
                self.stage = Some(stage.clone());
            }
            RoomEvent::Chat { message } => {
                // The record and the bus history may both hold a message.
                if self.chat.get(&message.id).is_none() && self.chat.append(message.clone()) {
                    self.older_chat_in_record |= self.ctx.writer.is_some();
                }
            }
            RoomEvent::ChatDeleted { id, .. } => {
                self.chat.delete(id);
            }
            RoomEvent::UserMuted { user, until, .. } => {
                self.muted.insert(user.clone(), *until);
            }
            RoomEvent::UserUnmuted { user, .. } => {
                self.muted.remove(user);
            }
            // Clients' views of the boards: the boards change through `apply_qa` and the like.
            RoomEvent::Questions { .. } | RoomEvent::Polls { .. } | RoomEvent::Booth { .. } => {}
            RoomEvent::CallOpened { call } => self.call = Some(call.clone()),
            RoomEvent::CallJoined { member } => {
                if let Some(call) = &mut self.call
                    && !call.members.iter().any(|m| m.id == member.id)
                {
                    call.members.push(member.clone());
                }
            }
            RoomEvent::CallLeft { user } => {
                if let Some(call) = &mut self.call {
                    call.members.retain(|m| m.id != *user);
                }
            }
            RoomEvent::Announcement { announcement } => {
                if self.announcements.len() == ANNOUNCEMENTS_KEPT {
                    self.announcements.pop_front();
                }
                self.announcements.push_back(announcement.clone());
            }
        }
    }
}
