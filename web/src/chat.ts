// A room's chat and who may not chat now (a room part, src/room.ts): the messages (at most
// MAX_MESSAGES kept, oldest dropped first), older pages on request, deletions and mutes, and
// the chat commands. The messages live in a plain array with a version signal, so a message
// costs O(1) instead of copying 10,000 messages into a new array.
import { batch, signal } from "@preact/signals";
import type { Snapshot } from "./connection";
import type { ChatMessage, RoomEvent, RoomId, UserId } from "./proto.gen";
import type { RoomLink, RoomPart } from "./room";

export const MAX_MESSAGES = 20_000;
const HISTORY_PAGE = 50;

export class ChatPart implements RoomPart {
  /** Oldest first. Read `version` to be told of changes. */
  readonly messages: ChatMessage[] = [];
  readonly version = signal(0);
  /** Whether the node has messages older than the first one here. */
  readonly more = signal(false);
  readonly loadingOlder = signal(false);
  /** Users who may not chat now, with the end of the mute (null: until unmuted). */
  readonly muted = signal<ReadonlyMap<UserId, number | null>>(new Map());
  /** Called for each new chat message (for the screen-reader announcer). */
  onNewMessage: ((message: ChatMessage) => void) | null = null;

  constructor(private readonly link: RoomLink) {}

  /** The room this chat belongs to. */
  get room(): RoomId {
    return this.link.room;
  }

  snapshot(s: Snapshot): void {
    this.messages.splice(0, this.messages.length, ...s.chat);
    this.more.value = s.chat_more;
    this.muted.value = new Map();
    this.version.value += 1;
  }

  event(event: RoomEvent): boolean {
    switch (event.type) {
      case "chat":
        this.messages.push(event.message);
        if (this.messages.length > MAX_MESSAGES) {
          this.messages.splice(0, this.messages.length - MAX_MESSAGES);
          this.more.value = true;
        }
        this.version.value += 1;
        this.onNewMessage?.(event.message);
        return true;
      case "chat_deleted": {
        const index = this.messages.findIndex((m) => m.id === event.id);
        if (index >= 0) {
          this.messages.splice(index, 1);
          this.version.value += 1;
        }
        return true;
      }
      case "user_muted": {
        const next = new Map(this.muted.value);
        next.set(event.user, event.until ?? null);
        this.muted.value = next;
        return true;
      }
      case "user_unmuted": {
        const next = new Map(this.muted.value);
        next.delete(event.user);
        this.muted.value = next;
        return true;
      }
      default:
        return false;
    }
  }

  dispose(): void {
    this.onNewMessage = null;
  }

  /** Loads the page of messages before the oldest one here. */
  async loadOlder(): Promise<void> {
    if (this.loadingOlder.value || !this.more.value) return;
    this.loadingOlder.value = true;
    try {
      const before = this.messages[0]?.id;
      const reply = await this.link.request({
        type: "chat_history",
        room: this.link.room,
        limit: HISTORY_PAGE,
        ...(before ? { before } : {}),
      });
      if (reply.type !== "chat_history") return;
      const known = new Set(this.messages.map((m) => m.id));
      const older = reply.messages.filter((m) => !known.has(m.id));
      batch(() => {
        this.messages.unshift(...older);
        this.more.value = reply.more;
        this.version.value += 1;
      });
    } finally {
      this.loadingOlder.value = false;
    }
  }

  send(text: string) {
    return this.link.request({ type: "chat_send", room: this.link.room, text });
  }

  deleteMessage(id: string) {
    return this.link.request({ type: "chat_delete", room: this.link.room, id });
  }

  mute(user: UserId, minutes: number) {
    return this.link.request({ type: "mute", room: this.link.room, user, minutes });
  }

  unmute(user: UserId) {
    return this.link.request({ type: "unmute", room: this.link.room, user });
  }
}
