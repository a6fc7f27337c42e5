//! The room's paged reads: the questions and chat a snapshot carries, and the answers to
//! `qa_page` and `booth_page`. Each is cut by `domain::page`, so what attendees type never
//! makes a frame larger than a page.

use std::ops::Bound;
use std::sync::Arc;

use plenary_proto::{ChatMessage, ErrorCode, MessageId, QuestionView, RequestId, RoomKind, ServerMsg, UserId};

use super::{Refusal, Room};
use crate::auth::Identity;
use crate::domain::booth;
use crate::domain::page::{self, PAGE_BYTES, PAGE_ITEMS};
use crate::domain::qa::{self, Audience, Question, QuestionState};
use crate::hub::peer::Peer;

impl Room {
    /// Up to `limit` chat messages before `before` (or the newest), oldest first, within a
    /// page's bytes; and whether older ones exist.
    pub(super) fn chat_page(&self, before: Option<&MessageId>, limit: usize) -> (Vec<ChatMessage>, bool) {
        let (messages, more) = self.chat.page(before, limit);
        let page = page::take_newest(messages, PAGE_BYTES);
        (page.items, more || page.more)
    }

    /// The questions a joining member sees, whether it may see more, and which of them it
    /// voted for. Moderators get the newest page of the desk; others the top public
    /// questions by votes, the newest and their own, within one page's bytes.
    pub(super) fn snapshot_questions(
        &self,
        user: &UserId,
        moderator: bool,
    ) -> (Vec<QuestionView>, bool, Vec<MessageId>) {
        let visible: Vec<&Question> = self.qa.questions.values().rev().filter(|q| shown(q, user, moderator)).collect();
        let chosen: Vec<&Question> = if moderator {
            visible.clone()
        } else {
            let mut by_votes = visible.clone();
            // Stable: among equal votes the newest stays first.
            by_votes.sort_by_key(|q| std::cmp::Reverse(q.votes.len()));
            let mut chosen: Vec<&Question> = by_votes.into_iter().take(PAGE_ITEMS).collect();
            let newest = visible.iter().take(PAGE_ITEMS);
            let own = visible.iter().filter(|q| q.asker == *user);
            for q in newest.chain(own) {
                if !chosen.iter().any(|c| c.id == q.id) {
                    chosen.push(q);
                }
            }
            chosen
        };
        let max_items = if moderator { PAGE_ITEMS } else { chosen.len() };
        let page =
            page::take(chosen.into_iter().map(|q| self.question_view(q, user, moderator)), max_items, PAGE_BYTES);
        let more = page.more || page.items.len() < visible.len();
        let votes = self.votes_among(&page.items, user);
        (page.items, more, votes)
    }

    /// Answers `qa_page`: the questions the caller may see, older than `before` (or the
    /// newest), newest first.
    pub(super) fn questions_page(
        &self,
        peer: &Arc<Peer>,
        identity: &Identity,
        rid: RequestId,
        before: Option<&MessageId>,
    ) -> Result<(), Refusal> {
        if self.kind != RoomKind::Session {
            return Err(Refusal::new(ErrorCode::NotFound, format!("{} has no Q&A", self.id)));
        }
        let user = identity.user();
        let moderator = self.privileged(&self.you(identity));
        let upper = before.map_or(Bound::Unbounded, |id| Bound::Excluded(id.as_str().to_owned()));
        let older = self.qa.questions.range((Bound::Unbounded, upper)).rev().map(|(_, q)| q);
        let page = page::take(
            older.filter(|q| shown(q, user, moderator)).map(|q| self.question_view(q, user, moderator)),
            PAGE_ITEMS,
            PAGE_BYTES,
        );
        let my_votes = self.votes_among(&page.items, user);
        let answer =
            ServerMsg::QuestionsPage { rid, room: self.id.clone(), questions: page.items, my_votes, more: page.more };
        let _ = peer.send_msg(&answer);
        Ok(())
    }

    /// Answers `booth_page`: the requests the caller may see (staff: all; a visitor: its
    /// own) made after `after` (or from the oldest), oldest first.
    pub(super) fn booth_page(
        &self,
        peer: &Arc<Peer>,
        identity: &Identity,
        rid: RequestId,
        after: Option<&MessageId>,
    ) -> Result<(), Refusal> {
        let Some(booth) = &self.booth else {
            return Err(Refusal::new(ErrorCode::NotFound, format!("{} is not a booth", self.id)));
        };
        let board = &booth.board;
        let staff = self.is_booth_staff(identity);
        let positions = board.positions();
        let lower = after.map_or(Bound::Unbounded, |id| Bound::Excluded(id.as_str().to_owned()));
        let requests = board
            .requests
            .range((lower, Bound::Unbounded))
            .map(|(_, r)| r)
            .filter(|r| staff || r.visitor == *identity.user())
            .filter_map(|r| booth::request_view(board, r, positions.get(&r.id).copied()));
        let page = page::take(requests, PAGE_ITEMS, PAGE_BYTES);
        let _ = peer.send_msg(&ServerMsg::BoothRequests {
            rid,
            room: self.id.clone(),
            requests: page.items,
            more: page.more,
        });
        Ok(())
    }

    fn question_view(&self, question: &Question, user: &UserId, moderator: bool) -> QuestionView {
        let audience = if moderator {
            Audience::Moderators { reveal_anonymous: self.ctx.settings.qa_reveal_anonymous }
        } else if question.asker == *user {
            Audience::Asker
        } else {
            Audience::Public
        };
        qa::view(question, audience)
    }

    /// Which of `questions` `user` has voted for.
    fn votes_among(&self, questions: &[QuestionView], user: &UserId) -> Vec<MessageId> {
        questions
            .iter()
            .filter(|view| self.qa.questions.get(view.id.as_str()).is_some_and(|q| q.votes.contains(user)))
            .map(|view| view.id.clone())
            .collect()
    }
}

/// Whether a member sees a question in its lists: withdrawn and merged ones only their
/// asker, the rest as `qa::visible_to` says.
fn shown(question: &Question, user: &UserId, moderator: bool) -> bool {
    (!matches!(question.state, QuestionState::Withdrawn | QuestionState::Merged) || question.asker == *user)
        && qa::visible_to(question, user, moderator)
}
