// The kinds of room a page joins, each the room core (src/room.ts) with the parts it needs:
// a session has a stage (its state, and the tracks, signalling and lineup of a WebRTC stage),
// chat, Q&A and polls; a booth a chat and its staff and requests; a private call a chat and the
// call; a green room a chat, the call and its comings and goings.
// A part a kind lacks is not there at all (a booth has no Q&A to keep up to date).
import { BoothPart, CallPart } from "./booth";
import { ChatPart } from "./chat";
import type { Connection } from "./connection";
import { GreenPart } from "./green";
import { PollsPart } from "./polls";
import type { RoomId } from "./proto.gen";
import { QaPart } from "./qa";
import { Room } from "./room";
import { StagePart } from "./stage";
import { LineupPart } from "./stageLineup";
import { StageMediaPart } from "./stageMedia";

export type SessionRoom = Room<{
  stage: StagePart;
  media: StageMediaPart;
  lineup: LineupPart;
  chat: ChatPart;
  qa: QaPart;
  polls: PollsPart;
}>;
export type BoothRoom = Room<{ chat: ChatPart; booth: BoothPart }>;
export type CallRoom = Room<{ chat: ChatPart; call: CallPart }>;
export type GreenRoom = Room<{ chat: ChatPart; call: CallPart; green: GreenPart }>;

/** A session's room (`session:<slug>`, the session and presenter pages). */
export function sessionRoom(connection: Connection, room: RoomId): SessionRoom {
  return new Room(connection, room, (link) => {
    const stage = new StagePart(link);
    const lineup = new LineupPart(link);
    // An ended stage has no lineup, and the node says so only with the `stage` event.
    stage.onChanged = (changed) => lineup.stageChanged(changed);
    return {
      stage,
      media: new StageMediaPart(link),
      lineup,
      chat: new ChatPart(link),
      qa: new QaPart(link),
      polls: new PollsPart(link),
    };
  });
}

/** A booth's room (`booth:<slug>`). */
export function boothRoom(connection: Connection, room: RoomId): BoothRoom {
  return new Room(connection, room, (link) => ({ chat: new ChatPart(link), booth: new BoothPart(link) }));
}

/** A private call's room (`call:<id>`). */
export function callRoom(connection: Connection, room: RoomId): CallRoom {
  return new Room(connection, room, (link) => ({ chat: new ChatPart(link), call: new CallPart(link) }));
}

/** A session's green room (`green:<slug>`). */
export function greenRoom(connection: Connection, room: RoomId): GreenRoom {
  return new Room(connection, room, (link) => {
    const call = new CallPart(link);
    return { chat: new ChatPart(link), call, green: new GreenPart(call) };
  });
}
