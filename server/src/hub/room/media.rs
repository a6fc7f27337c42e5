//! A session's WebRTC stage as its room sees it: who may publish (its moderators, and whoever
//! a moderator brought on: the lineup, from raised hands), who may view (its members), and
//! the tracks on it. The lineup, the hands and the tracks reach every member in the room's
//! stream (`stage_lineup`, `stage_tracks`) and in snapshots. The media itself is the node's
//! media plane's (`hub::StageMedia`), which the room hands each permitted command to.

use plenary_proto::{RaisedHand, StageMember};

use super::kinds::{RoomKindState, unsupported};
use super::session::SessionRoom;
use super::stream::Decision;
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
                let on_stage = self.lineup.iter().any(|m| m.user == *identity.user());
                if !you.can_manage_stage && !on_stage {
                    return Err(Refusal::new(
                        ErrorCode::Forbidden,
                        "a moderator brings you on the stage first: raise your hand",
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

    /// Raised hands and the moderators' lineup: decided on the lineup as the stream has it and
    /// published on top of it, so two moderators on two nodes cannot both fill the last place.
    pub(super) async fn lineup_request(
        &mut self,
        core: &mut RoomCore,
        peer: &Arc<Peer>,
        identity: &Identity,
        rid: RequestId,
        request: LineupRequest,
    ) -> Result<(), Refusal> {
        let slug = Self::slug(core);
        let index = core.ctx.sessions.clone();
        if !index.as_ref().is_some_and(|s| s.webrtc_stage(slug)) {
            return Err(unsupported(&core.id, &RoomRequest::Lineup(request)));
        }
        let now = unix_millis();
        let me = StageMember { user: identity.user().clone(), name: identity.profile.name.clone() };
        let change = match request {
            LineupRequest::Hand { raised } => {
                let speaker = identity.speaks.iter().any(|s| *s == slug);
                if !speaker && !index.as_ref().is_some_and(|s| s.takes_hands(slug)) {
                    return Err(Refusal::new(
                        ErrorCode::Forbidden,
                        "this session takes raised hands from its speakers only",
                    ));
                }
                let change = LineupChange::Hand { member: me, speaker, raised, at: now };
                // A hand that changes something counts against the chat allowance; one that
                // changes nothing (raised twice, or raised while on the stage) costs nothing.
                if change.apply(&self.lineup, &self.hands)?.is_some() {
                    core.take_chat_token(identity.user())?;
                }
                change
            }
            LineupRequest::Invite { user, on } => {
                if !self.membership(core, identity).can_manage_stage {
                    return Err(Refusal::new(ErrorCode::Forbidden, "only moderators bring people on the stage"));
                }
                LineupChange::Invite { user, on }
            }
        };
        let decide = |session: &SessionRoom, _: &RoomCore| -> Decision {
            let Some((on_stage, hands)) = change.apply(&session.lineup, &session.hands)? else { return Ok(None) };
            Ok(Some((StreamEvent::Room(RoomEvent::StageLineup { on_stage, hands }), Vec::new())))
        };
        core.publish_decided(self, peer, rid, true, "stage lineup", decide).await
    }

    /// Takes the lineup and hands the stream now has; whoever left the lineup stops
    /// publishing on this node (every node applies the event, so on every node).
    pub(super) fn apply_lineup(&mut self, core: &RoomCore, on_stage: &[StageMember], hands: &[RaisedHand]) {
        let gone: Vec<UserId> =
            self.lineup.iter().filter(|m| !on_stage.iter().any(|n| n.user == m.user)).map(|m| m.user.clone()).collect();
        self.lineup = on_stage.to_vec();
        self.hands = hands.to_vec();
        if let (false, Some(media)) = (gone.is_empty(), core.ctx.media.clone()) {
            let room = core.id.clone();
            core.ctx.tracker.spawn(async move {
                for user in gone {
                    media.stop_user(&room, &user).await;
                }
            });
        }
    }
}

/// Raised hands at once, at most.
const MAX_HANDS: usize = 500;
/// People a moderator brought on the stage at once, at most.
const MAX_ON_STAGE: usize = 50;

/// One change to the lineup or the hands, decided on them as they are.
#[derive(Debug, Clone)]
enum LineupChange {
    Hand { member: StageMember, speaker: bool, raised: bool, at: i64 },
    Invite { user: UserId, on: bool },
}

type Lineup = (Vec<StageMember>, Vec<RaisedHand>);

impl LineupChange {
    /// The lineup and hands after the change, `None` when it changes nothing.
    fn apply(&self, lineup: &[StageMember], hands: &[RaisedHand]) -> Result<Option<Lineup>, Refusal> {
        let (mut lineup, mut hands) = (lineup.to_vec(), hands.to_vec());
        match self {
            LineupChange::Hand { member, speaker, raised, at } => {
                let has_hand = hands.iter().any(|h| h.user == member.user);
                let on_stage = lineup.iter().any(|m| m.user == member.user);
                match (raised, has_hand || on_stage) {
                    (true, true) | (false, false) => return Ok(None),
                    (true, false) if hands.len() >= MAX_HANDS => {
                        return Err(Refusal::new(ErrorCode::Conflict, format!("{MAX_HANDS} hands are raised already")));
                    }
                    (true, false) => hands.push(RaisedHand {
                        user: member.user.clone(),
                        name: member.name.clone(),
                        speaker: *speaker,
                        at: *at,
                    }),
                    (false, true) if !has_hand => return Ok(None),
                    (false, true) => hands.retain(|h| h.user != member.user),
                }
            }
            LineupChange::Invite { user, on: true } => {
                if lineup.iter().any(|m| m.user == *user) {
                    return Ok(None);
                }
                if lineup.len() >= MAX_ON_STAGE {
                    return Err(Refusal::new(
                        ErrorCode::Conflict,
                        format!("{MAX_ON_STAGE} people are on the stage already"),
                    ));
                }
                let name = hands.iter().find(|h| h.user == *user).map_or_else(|| user.to_string(), |h| h.name.clone());
                hands.retain(|h| h.user != *user);
                lineup.push(StageMember { user: user.clone(), name });
            }
            LineupChange::Invite { user, on: false } => {
                if !lineup.iter().any(|m| m.user == *user) && !hands.iter().any(|h| h.user == *user) {
                    return Ok(None);
                }
                lineup.retain(|m| m.user != *user);
                hands.retain(|h| h.user != *user);
            }
        }
        Ok(Some((lineup, hands)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str) -> StageMember {
        StageMember { user: UserId::parse(id).unwrap(), name: id.to_uppercase() }
    }

    fn hand(id: &str) -> LineupChange {
        LineupChange::Hand { member: member(id), speaker: false, raised: true, at: 1 }
    }

    fn users(lineup: &Lineup) -> (Vec<&str>, Vec<&str>) {
        (lineup.0.iter().map(|m| m.user.as_str()).collect(), lineup.1.iter().map(|h| h.user.as_str()).collect())
    }

    #[test]
    fn hands_go_up_and_down_once_and_an_invitation_takes_the_hand_onto_the_stage() {
        let up = hand("ada").apply(&[], &[]).unwrap().unwrap();
        assert_eq!(users(&up), (vec![], vec!["ada"]));
        assert!(hand("ada").apply(&up.0, &up.1).unwrap().is_none(), "a hand raised twice changes nothing");
        let on = LineupChange::Invite { user: UserId::parse("ada").unwrap(), on: true };
        let staged = on.apply(&up.0, &up.1).unwrap().unwrap();
        assert_eq!(users(&staged), (vec!["ada"], vec![]));
        assert_eq!(staged.0[0].name, "ADA", "the name the hand gave");
        assert!(hand("ada").apply(&staged.0, &staged.1).unwrap().is_none(), "on stage: no hand to raise");
        let off = LineupChange::Invite { user: UserId::parse("ada").unwrap(), on: false };
        assert_eq!(users(&off.apply(&staged.0, &staged.1).unwrap().unwrap()), (vec![], vec![]));
        let down = LineupChange::Hand { member: member("ada"), speaker: false, raised: false, at: 2 };
        assert!(down.apply(&[], &[]).unwrap().is_none(), "lowering no hand changes nothing");
        assert_eq!(users(&down.apply(&up.0, &up.1).unwrap().unwrap()), (vec![], vec![]));
    }

    #[test]
    fn the_lists_are_bounded() {
        let hands: Vec<RaisedHand> = (0..MAX_HANDS)
            .map(|n| RaisedHand {
                user: UserId::parse(format!("u{n}")).unwrap(),
                name: "U".into(),
                speaker: false,
                at: 0,
            })
            .collect();
        assert_eq!(hand("late").apply(&[], &hands).unwrap_err().code, ErrorCode::Conflict);
        let lineup: Vec<StageMember> = (0..MAX_ON_STAGE).map(|n| member(&format!("s{n}"))).collect();
        let invite = LineupChange::Invite { user: UserId::parse("one-more").unwrap(), on: true };
        assert_eq!(invite.apply(&lineup, &[]).unwrap_err().code, ErrorCode::Conflict);
    }
}
