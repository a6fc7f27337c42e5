//! A session's WebRTC stage as its room sees it: who may publish (the session's speakers and
//! moderators) and view (its members), and the tracks on it, which reach every member in
//! the room's stream (`stage_tracks`) and in snapshots. The media itself is the node's media
//! plane's (`hub::StageMedia`), which the room hands each permitted command to.

use super::kinds::{RoomKindState, unsupported};
use super::session::SessionRoom;
use super::*;
use crate::hub::Hub;
use crate::hub::stage_media::Offer;

impl SessionRoom {
    pub(super) fn media_request(
        &mut self,
        core: &mut RoomCore,
        peer: &Arc<Peer>,
        identity: &Identity,
        rid: RequestId,
        request: MediaRequest,
    ) -> Result<(), Refusal> {
        let slug = Self::slug(core);
        if !core.ctx.sessions.as_ref().is_some_and(|s| s.webrtc_stage(slug)) {
            return Err(unsupported(&core.id, &RoomRequest::Media(request)));
        }
        let Some(media) = core.ctx.media.clone() else {
            return Err(Refusal::new(ErrorCode::Unavailable, "this node has no media port for the stage"));
        };
        let hub = Hub { ctx: core.ctx.clone() };
        match request {
            MediaRequest::Publish { sdp, tracks } => {
                let you = self.membership(core, identity);
                let speaker = identity.speaks.iter().any(|s| *s == slug);
                if !you.can_manage_stage && !speaker {
                    return Err(Refusal::new(
                        ErrorCode::Forbidden,
                        "only the session's speakers and moderators publish",
                    ));
                }
                let offer = Offer { room: core.id.clone(), rid, sdp, tracks };
                media.publish(&hub, peer, &identity.profile, offer);
            }
            MediaRequest::View { quality } => media.view(&hub, peer, (identity.user(), &core.id), rid, quality),
            MediaRequest::Answer { sdp } => media.answer(&hub, peer, rid, sdp),
            MediaRequest::Quality { quality } => media.set_quality(&hub, peer, rid, quality),
            MediaRequest::Stop => {
                let (peer, room) = (peer.clone(), core.id.clone());
                core.ctx.tracker.spawn(async move {
                    hub.stop_media(peer.id, Some(&room)).await;
                    let _ = peer.send_msg(&ServerMsg::Ack { rid });
                });
            }
        }
        Ok(())
    }
}
