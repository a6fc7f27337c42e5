//! The exhibition hall (`expo`): its members get the booths' live counts (the hub's booth
//! summary) when they join and whenever they change; it holds nothing of its own.

use super::kinds::{RoomKindState, unsupported};
use super::*;

/// The hall's state: nothing beyond the core.
#[derive(Debug, Default)]
pub(super) struct ExpoRoom;

impl StreamState for ExpoRoom {
    fn reset(&mut self, _core: &RoomCore) {}
}

impl RoomKindState for ExpoRoom {
    /// The hall needs the live counts now, not at the next change.
    async fn joined(&mut self, core: &mut RoomCore, peer: &Arc<Peer>, _identity: &Identity) {
        let summary = core.ctx.latest_booths.lock().expect("summary lock").clone();
        if let Some(frame) = summary {
            let _ = peer.send(frame);
        }
    }

    async fn request(
        &mut self,
        core: &mut RoomCore,
        _peer: &Arc<Peer>,
        _identity: &Identity,
        _rid: RequestId,
        request: RoomRequest,
    ) -> Result<(), Refusal> {
        Err(unsupported(&core.id, &request))
    }
}
