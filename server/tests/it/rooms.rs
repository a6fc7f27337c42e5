//! The room registry: rooms are evicted after idling empty, the bus forgets their topic,
//! and a later join starts a fresh room in a new epoch.

use plenary_proto::Role::Attendee;
use plenary_proto::{ServerMsg, StreamPosition};
use plenary_server::bus::MemoryBroker;

use crate::support::*;

#[tokio::test]
async fn empty_rooms_are_evicted_and_come_back_fresh() {
    let broker = MemoryBroker::new(100);
    let server = TestServer::spawn_on_configured(&broker, |s| s.room_idle_ttl_secs = 0).await;
    let room = session("ephemeral");
    let mut ada = server.client("ada", &[Attendee]).await;
    let ServerMsg::Snapshot { epoch, seq, .. } = ada.join(&room).await else { unreachable!() };
    drop(ada);
    eventually("the room to be evicted", || async { server.state.hub.room_count() == 0 }).await;
    eventually("the bus to forget the topic", || async { broker.topics() == 0 }).await;

    let mut bob = server.client("bob", &[Attendee]).await;
    let answer = bob.join_since(&room, Some(StreamPosition { epoch: epoch.clone(), seq })).await;
    let ServerMsg::Snapshot { recovered, epoch: new_epoch, .. } = answer else { panic!("{answer:?}") };
    assert_eq!(recovered, Some(false), "the old epoch's history is gone");
    assert_ne!(new_epoch, epoch);
    assert_eq!(server.state.hub.room_count(), 1);
}
