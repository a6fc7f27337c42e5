//! A session's green room (`green:<slug>`): where its speakers and moderators meet on video
//! before they go on stage, a small mesh call of at most [`GREEN_ROOM_CAPACITY`] people.
//! Who is in it is part of the room's stream (`call_joined` / `call_left`), so every node
//! knows the members the call's signalling may be relayed to; a member gone from every node
//! (its node killed included) is taken out after the presence exchange no longer shows it,
//! and people connected but missing from the list (a step the stream no longer holds) are
//! put back in.

use std::collections::HashMap;

use plenary_proto::{CallInfo, UserProfile};

use super::booth::ABSENCE_CONFIRM_MS;
use super::call::{apply_member_event, ice_servers, relay_signal};
use super::kinds::{KindSnapshot, RoomKindState, unsupported};
use super::*;
use crate::domain::permissions::may_enter_green_room;
use crate::store::StoredRoom;

/// People in a green room at once: each one sends to and receives from every other.
pub const GREEN_ROOM_CAPACITY: usize = 6;

/// A green room's own state.
#[derive(Debug)]
pub(super) struct GreenRoom {
    /// Who is in the call now, as the stream has it.
    call: CallInfo,
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

/// A green room's call: nobody in it yet.
fn empty_call() -> CallInfo {
    CallInfo { members: Vec::new(), booth: None, opened_at: unix_millis() }
}

impl GreenRoom {
    pub(super) fn new() -> GreenRoom {
        GreenRoom { call: empty_call(), missing: HashMap::new(), profiles: HashMap::new() }
    }

    fn is_member(&self, user: &UserId) -> bool {
        self.call.members.iter().any(|m| m.id == *user)
    }

    /// Publishes `member` joining unless already in, decided on the stream's latest state;
    /// `refuse_when_full` makes a full room an error rather than nothing to do.
    async fn announce(
        &mut self,
        core: &mut RoomCore,
        member: &UserProfile,
        refuse_when_full: bool,
    ) -> Result<bool, Refusal> {
        let decide = |green: &GreenRoom, _: &RoomCore| {
            if green.is_member(&member.id) {
                return Ok(None);
            }
            if green.call.members.len() >= GREEN_ROOM_CAPACITY {
                return if refuse_when_full { Err(full()) } else { Ok(None) };
            }
            Ok(Some((StreamEvent::Room(RoomEvent::CallJoined { member: member.clone() }), Vec::new())))
        };
        core.publish_step(self, true, "green room", decide).await
    }
}

impl StreamState for GreenRoom {
    fn apply_event(&mut self, _core: &RoomCore, event: &RoomEvent) {
        apply_member_event(&mut self.call, event);
    }

    fn restore(&mut self, _core: &RoomCore, stored: StoredRoom) {
        if let Some(call) = stored.call {
            self.call = call;
        }
    }

    fn reset(&mut self, _core: &RoomCore) {
        self.call = empty_call();
    }
}

impl RoomKindState for GreenRoom {
    /// The session's speakers and moderators only.
    fn admit(&self, core: &RoomCore, identity: &Identity) -> Result<(), Refusal> {
        if !may_enter_green_room(identity, core.id.name()) {
            return Err(Refusal::new(
                ErrorCode::Forbidden,
                "the green room is for the session's speakers and moderators",
            ));
        }
        Ok(())
    }

    /// A member is announced (`call_joined`) unless already in, decided on the stream's
    /// latest state, so two people joining on two nodes at once cannot both take the last
    /// place. Refused when the room is full or the announcement cannot be made (the member
    /// could not be signalled).
    async fn enter(&mut self, core: &mut RoomCore, identity: &Identity) -> Result<(), Refusal> {
        self.announce(core, &identity.profile, true).await?;
        self.missing.remove(identity.user());
        self.profiles.insert(identity.user().clone(), identity.profile.clone());
        Ok(())
    }

    fn snapshot(&self, core: &RoomCore, identity: &Identity, _moderator: bool) -> KindSnapshot {
        KindSnapshot {
            call: Some(self.call.clone()),
            ice_servers: ice_servers(core, identity),
            ..KindSnapshot::default()
        }
    }

    async fn request(
        &mut self,
        core: &mut RoomCore,
        peer: &Arc<Peer>,
        identity: &Identity,
        rid: RequestId,
        request: RoomRequest,
    ) -> Result<(), Refusal> {
        let RoomRequest::Signal { to, signal } = request else { return Err(unsupported(&core.id, &request)) };
        relay_signal(core, &self.call, identity.user(), to, signal).await?;
        let _ = peer.send_msg(&ServerMsg::Ack { rid });
        Ok(())
    }

    /// The members this node reports as here (for the others' presence rounds).
    fn members_changed(&self, core: &RoomCore) {
        let mut here: Vec<UserId> = core.connections_per_user.keys().cloned().collect();
        here.sort();
        *core.stats.watched.lock().expect("stats lock") = here;
        core.stats.needs_rounds.store(!self.call.members.is_empty(), Ordering::Relaxed);
    }

    /// Members connected nowhere for [`ABSENCE_CONFIRM_MS`] are taken out; people connected
    /// here or elsewhere but missing from the list are put back in (those elsewhere named by
    /// their id: this node does not know their name).
    async fn presence_round(&mut self, core: &mut RoomCore, everywhere: Vec<UserId>) {
        let now = unix_millis();
        let local = &core.connections_per_user;
        self.profiles.retain(|user, _| local.contains_key(user));
        let listed: Vec<UserId> = self.call.members.iter().map(|m| m.id.clone()).collect();
        let mut unlisted: Vec<UserProfile> = Vec::new();
        for user in local.keys().chain(everywhere.iter()) {
            if !listed.contains(user) && !unlisted.iter().any(|m| m.id == *user) {
                let profile = self.profiles.get(user).cloned().unwrap_or_else(|| UserProfile {
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
                self.missing.remove(member);
            } else {
                let since = *self.missing.entry(member.clone()).or_insert(now);
                if now - since >= ABSENCE_CONFIRM_MS {
                    gone.push(member.clone());
                }
            }
        }
        self.missing.retain(|user, _| listed.contains(user));
        for member in unlisted {
            if let Err(refusal) = self.announce(core, &member, false).await {
                tracing::debug!(room = %core.id, error = %refusal.message, "green room member not put back");
            }
        }
        for user in gone {
            let decide = |green: &GreenRoom, _: &RoomCore| {
                Ok(green
                    .is_member(&user)
                    .then(|| (StreamEvent::Room(RoomEvent::CallLeft { user: user.clone() }), Vec::new())))
            };
            if let Err(refusal) = core.publish_step(self, true, "green room", decide).await {
                tracing::debug!(room = %core.id, error = %refusal.message, "green room departure not published");
            }
        }
        self.members_changed(core);
    }
}
