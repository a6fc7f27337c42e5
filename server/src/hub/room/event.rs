//! The event room (`event`): everyone is in it; it carries the organisers' announcements
//! (the latest [`ANNOUNCEMENTS_KEPT`] in a joining member's snapshot) and the programme's
//! live attendance summary.

use std::collections::VecDeque;

use plenary_proto::Announcement;

use super::kinds::{KindSnapshot, RoomKindState, unsupported};
use super::*;
use crate::domain::chat::ChatCommand;

/// Announcements kept for the event room's snapshot.
const ANNOUNCEMENTS_KEPT: usize = 20;

/// The event room's own state.
#[derive(Debug, Default)]
pub(super) struct EventRoom {
    announcements: VecDeque<Announcement>,
}

impl StreamState for EventRoom {
    fn apply_event(&mut self, _core: &RoomCore, event: &RoomEvent) {
        if let RoomEvent::Announcement { announcement } = event {
            if self.announcements.len() == ANNOUNCEMENTS_KEPT {
                self.announcements.pop_front();
            }
            self.announcements.push_back(announcement.clone());
        }
    }

    fn reset(&mut self, _core: &RoomCore) {
        self.announcements.clear();
    }
}

impl RoomKindState for EventRoom {
    fn snapshot(&self, _core: &RoomCore, _identity: &Identity, _moderator: bool) -> KindSnapshot {
        KindSnapshot { announcements: self.announcements.iter().cloned().collect(), ..KindSnapshot::default() }
    }

    /// A programme page needs the live counts now, not at the next change.
    async fn joined(&mut self, core: &mut RoomCore, peer: &Arc<Peer>, _identity: &Identity) {
        let summary = core.ctx.latest_summary.lock().expect("summary lock").clone();
        if let Some(frame) = summary {
            let _ = peer.send(frame);
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
        let RoomRequest::Announce { text } = request else { return Err(unsupported(&core.id, &request)) };
        let you = self.membership(core, identity);
        let event = core.decide_chat(identity, &you, ChatCommand::Announce { text }, unix_millis())?;
        core.publish(self, event).await?;
        core.ack(peer, rid);
        Ok(())
    }
}
