//! A session's green room (`green:<slug>`): where its speakers and moderators meet on video
//! before they go on stage, a small mesh call of at most [`GREEN_ROOM_CAPACITY`] people.
//! Who is in it is part of the room's stream (`call_joined` / `call_left`), so every node
//! knows the members the call's signalling may be relayed to; a member gone from every node
//! (its node killed included) is taken out after the presence exchange no longer shows it,
//! and people connected but missing from the list (a step the stream no longer holds) are
//! put back in.

use std::collections::HashMap;

use plenary_proto::{CallInfo, ErrorCode, Role, RoomEvent, RoomKind, UserId, UserProfile};

use super::booth::ABSENCE_CONFIRM_MS;
use super::{Refusal, Room, StreamEvent};
use crate::auth::Identity;
use crate::clock::unix_millis;

/// People in a green room at once: each one sends to and receives from every other.
pub const GREEN_ROOM_CAPACITY: usize = 6;

/// A green room's own state.
#[derive(Debug, Default)]
pub(super) struct GreenRoom {
    /// Members the last presence rounds did not show anywhere, and since when.
    missing: HashMap<UserId, i64>,
    /// The profiles of the people connected here, to announce them again if the member list
    /// lost them.
    profiles: HashMap<UserId, UserProfile>,
}

fn full() -> Refusal {
    Refusal::new(
        ErrorCode::Conflict,
        format!("the green room is full ({GREEN_ROOM_CAPACITY} people); try again when someone leaves"),
    )
}

fn is_member(room: &Room, user: &UserId) -> bool {
    room.call.as_ref().is_some_and(|c| c.members.iter().any(|m| m.id == *user))
}

fn member_count(room: &Room) -> usize {
    room.call.as_ref().map_or(0, |c| c.members.len())
}

impl Room {
    /// Whether `identity` may enter this green room: organisers, moderators of the session,
    /// and its speakers.
    pub(super) fn admitted_to_green_room(&self, identity: &Identity) -> bool {
        let slug = self.id.name();
        let session = plenary_proto::RoomId::session(slug).ok();
        identity.has(Role::Organiser)
            || (identity.has(Role::Moderator)
                && identity.moderates.as_ref().is_none_or(|rooms| session.as_ref().is_some_and(|s| rooms.contains(s))))
            || identity.speaks.iter().any(|s| s == slug)
    }

    /// Admission to a green room: the session's speakers and moderators only.
    pub(super) fn admit_to_green_room(&self, identity: &Identity) -> Result<(), Refusal> {
        if !self.admitted_to_green_room(identity) {
            return Err(Refusal::new(
                ErrorCode::Forbidden,
                "the green room is for the session's speakers and moderators",
            ));
        }
        Ok(())
    }

    /// Before a green room's member joins: it is announced (`call_joined`) unless already in,
    /// decided on the stream's latest state, so two people joining on two nodes at once cannot
    /// both take the last place. Refused when the room is full or the announcement cannot be
    /// made (the member could not be signalled).
    pub(super) async fn enter_green_room(&mut self, identity: &Identity) -> Result<(), Refusal> {
        if self.kind != RoomKind::Green {
            return Ok(());
        }
        let profile = identity.profile.clone();
        let decide = |room: &Room| {
            if is_member(room, &profile.id) {
                return Ok(None);
            }
            if member_count(room) >= GREEN_ROOM_CAPACITY {
                return Err(full());
            }
            Ok(Some((StreamEvent::Room(RoomEvent::CallJoined { member: profile.clone() }), Vec::new())))
        };
        self.publish_step(true, "green room", decide).await?;
        if let Some(green) = &mut self.green {
            green.missing.remove(identity.user());
            green.profiles.insert(identity.user().clone(), identity.profile.clone());
        }
        Ok(())
    }

    /// The members this node reports as here (for the others' presence rounds).
    pub(super) fn update_green_stats(&self) {
        if self.kind != RoomKind::Green {
            return;
        }
        let mut here: Vec<UserId> = self.connections_per_user.keys().cloned().collect();
        here.sort();
        *self.stats.watched.lock().expect("stats lock") = here;
        let members = self.call.as_ref().is_some_and(|c| !c.members.is_empty());
        self.stats.needs_rounds.store(members, std::sync::atomic::Ordering::Relaxed);
    }

    /// A presence round: members connected nowhere for [`ABSENCE_CONFIRM_MS`] are taken out;
    /// people connected here or elsewhere but missing from the list are put back in (those
    /// elsewhere named by their id: this node does not know their name).
    pub(super) async fn green_presence(&mut self, everywhere: &[UserId]) {
        let now = unix_millis();
        let Some(green) = &mut self.green else { return };
        let local = &self.connections_per_user;
        green.profiles.retain(|user, _| local.contains_key(user));
        let listed: Vec<UserId> =
            self.call.as_ref().map(|c| c.members.iter().map(|m| m.id.clone()).collect()).unwrap_or_default();
        let mut unlisted: Vec<UserProfile> = Vec::new();
        for user in local.keys().chain(everywhere.iter()) {
            if !listed.contains(user) && !unlisted.iter().any(|m| m.id == *user) {
                let profile = green.profiles.get(user).cloned().unwrap_or_else(|| UserProfile {
                    id: user.clone(),
                    name: user.to_string(),
                    country: None,
                });
                unlisted.push(profile);
            }
        }
        let mut gone = Vec::new();
        for member in &listed {
            if local.contains_key(member) || everywhere.binary_search(member).is_ok() {
                green.missing.remove(member);
            } else {
                let since = *green.missing.entry(member.clone()).or_insert(now);
                if now - since >= ABSENCE_CONFIRM_MS {
                    gone.push(member.clone());
                }
            }
        }
        green.missing.retain(|user, _| listed.contains(user));
        for member in unlisted {
            let decide = |room: &Room| {
                let back = !is_member(room, &member.id) && member_count(room) < GREEN_ROOM_CAPACITY;
                Ok(back.then(|| (StreamEvent::Room(RoomEvent::CallJoined { member: member.clone() }), Vec::new())))
            };
            if let Err(refusal) = self.publish_step(true, "green room", decide).await {
                tracing::debug!(room = %self.id, error = %refusal.message, "green room member not put back");
            }
        }
        for user in gone {
            let decide = |room: &Room| {
                Ok(is_member(room, &user)
                    .then(|| (StreamEvent::Room(RoomEvent::CallLeft { user: user.clone() }), Vec::new())))
            };
            if let Err(refusal) = self.publish_step(true, "green room", decide).await {
                tracing::debug!(room = %self.id, error = %refusal.message, "green room departure not published");
            }
        }
        self.update_green_stats();
    }

    /// A green room's call: nobody in it yet.
    pub(super) fn empty_green_call() -> CallInfo {
        CallInfo { members: Vec::new(), booth: None, opened_at: unix_millis() }
    }
}
