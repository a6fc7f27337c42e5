//! A private call room (`call:<id>`), opened when a booth's staff member accepts a visitor's
//! request: only the call's members may join, and its WebRTC signalling is relayed between
//! them over the bus. The members come from the call's first stream event or its record; a
//! room for a call nobody knows goes after [`UNKNOWN_CALL_TTL`], so joins naming made-up
//! calls cannot fill the node with rooms. The signalling and member list are shared with
//! the green room.

use std::time::Duration;

use bytes::Bytes;
use plenary_proto::{CallInfo, Signal};

use super::kinds::{KindSnapshot, RoomKindState, unsupported};
use super::*;
use crate::store::StoredRoom;

/// How long a call room whose call is unknown stays after a refused join.
const UNKNOWN_CALL_TTL: Duration = Duration::from_secs(1);

/// A call room's own state.
#[derive(Debug, Default)]
pub(super) struct CallRoom {
    /// The call's members, once its stream or the record names them.
    call: Option<CallInfo>,
}

impl StreamState for CallRoom {
    fn apply_event(&mut self, _core: &RoomCore, event: &RoomEvent) {
        if let RoomEvent::CallOpened { call } = event {
            self.call = Some(call.clone());
        } else if let Some(call) = &mut self.call {
            apply_member_event(call, event);
        }
    }

    fn restore(&mut self, _core: &RoomCore, stored: StoredRoom) {
        if stored.call.is_some() {
            self.call = stored.call;
        }
    }

    fn reset(&mut self, _core: &RoomCore) {
        self.call = None;
    }
}

impl RoomKindState for CallRoom {
    /// Opened before the call's record was written, or after its stream was trimmed: the
    /// members come from the record.
    async fn prepare(&mut self, core: &mut RoomCore) {
        if self.call.is_some() {
            return;
        }
        let Some(writer) = &core.ctx.writer else { return };
        match writer.store().call(&core.id).await {
            Ok(call) => self.call = call,
            Err(e) => tracing::warn!(room = %core.id, error = %e, "could not read the call's record"),
        }
    }

    fn admit(&self, core: &RoomCore, identity: &Identity) -> Result<(), Refusal> {
        match &self.call {
            None => Err(Refusal::new(ErrorCode::NotFound, format!("no call {}", core.id))),
            Some(call) if call.members.iter().any(|m| m.id == *identity.user()) => Ok(()),
            Some(_) => Err(Refusal::new(ErrorCode::Forbidden, "this call is private to its members")),
        }
    }

    fn snapshot(&self, core: &RoomCore, identity: &Identity, _moderator: bool) -> KindSnapshot {
        KindSnapshot { call: self.call.clone(), ice_servers: ice_servers(core, identity), ..KindSnapshot::default() }
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
        let Some(call) = &self.call else {
            return Err(Refusal::new(ErrorCode::NotFound, format!("{} is not a call", core.id)));
        };
        relay_signal(core, call, identity.user(), to, signal).await?;
        let _ = peer.send_msg(&ServerMsg::Ack { rid });
        Ok(())
    }

    fn idle_ttl(&self, default: Duration) -> Duration {
        if self.call.is_none() { UNKNOWN_CALL_TTL } else { default }
    }
}

/// Applies `call_joined` and `call_left` to a call's member list.
pub(super) fn apply_member_event(call: &mut CallInfo, event: &RoomEvent) {
    match event {
        RoomEvent::CallJoined { member } if !call.members.iter().any(|m| m.id == member.id) => {
            call.members.push(member.clone());
        }
        RoomEvent::CallLeft { user } => call.members.retain(|m| m.id != *user),
        _ => {}
    }
}

/// The ICE servers (STUN, and TURN with credentials of the caller's own) a call member's
/// snapshot carries.
pub(super) fn ice_servers(core: &RoomCore, identity: &Identity) -> Vec<plenary_proto::IceServer> {
    crate::ice::ice_servers(&core.ctx.settings, identity.user(), crate::clock::unix_secs())
}

/// Relays `signal` from `from` to `to`, a member of this call, on whichever node holds
/// its connections.
pub(super) async fn relay_signal(
    core: &RoomCore,
    call: &CallInfo,
    from: &UserId,
    to: UserId,
    signal: Signal,
) -> Result<(), Refusal> {
    if to == *from {
        return Err(Refusal::new(ErrorCode::Invalid, "a signal goes to another member of the call"));
    }
    if !call.members.iter().any(|m| m.id == *from) {
        return Err(Refusal::new(ErrorCode::Forbidden, "you are not a member of this call now; join it again"));
    }
    if !call.members.iter().any(|m| m.id == to) {
        return Err(Refusal::new(ErrorCode::Forbidden, format!("{to} is not a member of this call")));
    }
    let frame = ServerMsg::Signal { room: core.id.clone(), from: from.clone(), signal }.to_json();
    let mut payload = Vec::with_capacity(to.as_str().len() + 1 + frame.len());
    payload.extend_from_slice(to.as_str().as_bytes());
    payload.push(b'\n');
    payload.extend_from_slice(frame.as_bytes());
    core.ctx.bus.notify(&core.id, Bytes::from(payload)).await.map_err(|e| {
        tracing::warn!(room = %core.id, error = %e, "relaying a signal failed");
        Refusal::new(ErrorCode::Unavailable, "the event bus is unavailable; try again")
    })
}
