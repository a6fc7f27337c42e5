// Generated from proto/ by `UPDATE_TS=1 cargo test -p plenary-proto --test typescript`.
// Do not edit: a test fails when this file and the Rust types disagree.

/** The `code` of an `error` message (proto/PROTOCOL.md, section 18). */
export const ErrorCode = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  not_joined: 405,
  conflict: 409,
  too_large: 413,
  invalid: 422,
  muted: 423,
  too_many_rooms: 428,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** WebSocket close codes (proto/PROTOCOL.md, section 19). */
export const CloseCode = {
  normal: 1000,
  going_away: 1001,
  message_too_big: 1009,
  internal_error: 1011,
  slow_consumer: 4000,
  idle_timeout: 4001,
  hello_timeout: 4002,
  server_full: 4003,
  too_many_connections: 4004,
  rights_changed: 4005,
  protocol_violation: 4500,
  unsupported_protocol: 4501,
  invalid_token: 4502,
  token_expired: 4503,
  removed: 4504,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** The longest text the node accepts in each field, in characters (proto/PROTOCOL.md, section 20). */
export const InputLimits = {
  question_max_chars: 500,
  poll_text_max_chars: 200,
  stage_title_max_chars: 200,
  stage_speaker_max_chars: 120,
  callback_note_max_chars: 500,
  card_field_max_chars: 200,
  name_max_chars: 64,
} as const;

/** The protocol versions this client and the node speak. */
export const SUPPORTED_PROTOCOLS = [1];

export type RoomId = string;

export type UserId = string;

export type MessageId = string;

export type Epoch = string;

export type ConnectionId = string;

export type RequestId = number;

export type Seq = number;

export type ClientMsg = { "type": "hello", protocol: Array<number>, token: string, } | { "type": "refresh", rid: RequestId, token: string, } | { "type": "join", rid: RequestId, room: RoomId, since?: StreamPosition | null, } | { "type": "leave", rid: RequestId, room: RoomId, } | { "type": "stage_update", rid: RequestId, room: RoomId, state?: StageState | null, title?: string | null, speaker?: string | null, } | { "type": "chat_send", rid: RequestId, room: RoomId, text: string, } | { "type": "chat_history", rid: RequestId, room: RoomId, before?: MessageId | null, limit?: number | null, } | { "type": "chat_delete", rid: RequestId, room: RoomId, id: MessageId, } | { "type": "mute", rid: RequestId, room: RoomId, user: UserId, minutes?: number | null, } | { "type": "unmute", rid: RequestId, room: RoomId, user: UserId, } | { "type": "announce", rid: RequestId, text: string, } | { "type": "qa_ask", rid: RequestId, room: RoomId, text: string, anonymous?: boolean, } | { "type": "qa_vote", rid: RequestId, room: RoomId, id: MessageId, up: boolean, } | { "type": "qa_withdraw", rid: RequestId, room: RoomId, id: MessageId, } | { "type": "qa_page", rid: RequestId, room: RoomId, before?: MessageId | null, } | { "type": "qa_moderate", rid: RequestId, room: RoomId, id: MessageId, version: number, action: QaAction, 
/**
 * `approve`: the edited text, when the moderator changed it.
 */
text?: string | null, 
/**
 * `dismiss`: a short reason code, e.g. `off-topic`.
 */
reason?: string | null, 
/**
 * `merge`: the question this one duplicates, and the version of it the caller saw.
 */
into?: MessageId | null, into_version?: number | null, 
/**
 * `rank`: the position in the shortlist (lowest first); absent takes it off.
 */
rank?: number | null, } | { "type": "poll_create", rid: RequestId, room: RoomId, question: string, options: Array<string>, multiple?: boolean, changeable?: boolean, results: PollResults, } | { "type": "poll_control", rid: RequestId, room: RoomId, id: MessageId, version: number, action: PollAction, 
/**
 * `set_results`: the new visibility.
 */
results?: PollResults | null, } | { "type": "poll_answer", rid: RequestId, room: RoomId, id: MessageId, choices: Array<number>, } | { "type": "booth_status", rid: RequestId, room: RoomId, status: StaffStatus, } | { "type": "booth_request", rid: RequestId, room: RoomId, message?: string | null, } | { "type": "booth_cancel", rid: RequestId, room: RoomId, id: MessageId, } | { "type": "booth_accept", rid: RequestId, room: RoomId, id: MessageId, } | { "type": "booth_page", rid: RequestId, room: RoomId, after?: MessageId | null, } | { "type": "call_signal", rid: RequestId, room: RoomId, to: UserId, signal: Signal, } | { "type": "media_publish", rid: RequestId, room: RoomId, sdp: string, tracks: Array<PublishedTrack>, } | { "type": "media_view", rid: RequestId, room: RoomId, quality: StageQuality, } | { "type": "media_answer", rid: RequestId, room: RoomId, sdp: string, } | { "type": "media_quality", rid: RequestId, room: RoomId, quality: StageQuality, } | { "type": "media_stop", rid: RequestId, room: RoomId, } | { "type": "stage_hand", rid: RequestId, room: RoomId, raised: boolean, } | { "type": "stage_invite", rid: RequestId, room: RoomId, user: UserId, on: boolean, };

export type ServerMsg = { "type": "welcome", protocol: number, connection: ConnectionId, user: UserProfile, roles: Array<Role>, 
/**
 * When the token expires, in Unix *seconds* (the JWT `exp`); `refresh` before then.
 */
expires_at: number, limits: Limits, } | { "type": "ack", rid: RequestId, } | { "type": "error", rid?: RequestId | null, code: ErrorCode, message: string, retry_after_ms?: number | null, } | { "type": "snapshot", rid: RequestId, room: RoomId, epoch: Epoch, seq: Seq, 
/**
 * Present when the join asked to resume: `false` says the missed events could not
 * be replayed, so this snapshot replaces the client's state.
 */
recovered?: boolean | null, stage?: Stage | null, attendance: Attendance, 
/**
 * The newest chat messages, oldest first.
 */
chat: Array<ChatMessage>, 
/**
 * Whether older chat messages exist (ask with `chat_history`).
 */
chat_more: boolean, 
/**
 * In the event room: the latest announcements, oldest first.
 */
announcements?: Array<Announcement>, 
/**
 * In a session room: the questions the caller may see (the top ones by votes and
 * the newest; for moderators also the queue).
 */
questions?: Array<QuestionView>, 
/**
 * Whether the caller may see more questions than this page holds (ask with
 * `qa_page`, `before` the oldest one here).
 */
questions_more?: boolean, 
/**
 * Which of the questions in this snapshot the caller has voted for.
 */
my_votes?: Array<MessageId>, 
/**
 * In a session room: its polls (moderators also see drafts).
 */
polls?: Array<PollView>, 
/**
 * The caller's answers to those polls.
 */
my_answers?: Array<PollChoice>, 
/**
 * In a booth room: its staff and the requests the caller may see.
 */
booth?: BoothView | null, 
/**
 * In a call room: who the call is for.
 */
call?: CallInfo | null, 
/**
 * In a call room: the STUN and TURN servers (with this member's time-limited TURN
 * credentials) for its peer connections.
 */
ice_servers?: Array<IceServer>, 
/**
 * In a session room with a WebRTC stage: the tracks on it now.
 */
stage_tracks?: Array<StageTrack>, 
/**
 * In a session room with a WebRTC stage: who a moderator brought on it.
 */
on_stage?: Array<StageMember>, 
/**
 * In a session room with a WebRTC stage: the raised hands, oldest first.
 */
hands?: Array<RaisedHand>, you: Membership, } | { "type": "resumed", rid: RequestId, room: RoomId, epoch: Epoch, replayed: number, attendance: Attendance, you: Membership, } | { "type": "event", room: RoomId, seq: Seq, event: RoomEvent, } | { "type": "attendance", room: RoomId, attendance: Attendance, } | { "type": "attendance_summary", sessions: Array<SessionAttendance>, } | { "type": "resync", room: RoomId, epoch: Epoch, } | { "type": "qa_votes", room: RoomId, votes: Array<QuestionVotes>, } | { "type": "poll_results", room: RoomId, tallies: Array<PollTally>, } | { "type": "signal", room: RoomId, from: UserId, signal: Signal, } | { "type": "media_published", rid: RequestId, room: RoomId, sdp: string, } | { "type": "media_offer", rid?: RequestId | null, room: RoomId, sdp: string, } | { "type": "booth_summary", booths: Array<BoothCounts>, } | { "type": "questions_page", rid: RequestId, room: RoomId, questions: Array<QuestionView>, my_votes?: Array<MessageId>, 
/**
 * Whether still older questions exist.
 */
more: boolean, } | { "type": "booth_requests", rid: RequestId, room: RoomId, requests: Array<ContactRequestView>, 
/**
 * Whether still newer requests exist.
 */
more: boolean, } | { "type": "chat_history", rid: RequestId, room: RoomId, messages: Array<ChatMessage>, 
/**
 * Whether still older messages exist.
 */
more: boolean, };

export type RoomEvent = { "type": "stage", stage: Stage, by: UserId, } | { "type": "chat", message: ChatMessage, } | { "type": "chat_deleted", id: MessageId, by: UserId, } | { "type": "user_muted", user: UserId, until?: number | null, by: UserId, } | { "type": "user_unmuted", user: UserId, by: UserId, } | { "type": "announcement", announcement: Announcement, } | { "type": "questions", changed?: Array<QuestionView>, removed?: Array<MessageId>, } | { "type": "polls", changed?: Array<PollView>, removed?: Array<MessageId>, } | { "type": "booth", staff?: Array<StaffView>, requests?: Array<ContactRequestView>, } | { "type": "call_opened", call: CallInfo, } | { "type": "call_joined", member: UserProfile, } | { "type": "call_left", user: UserId, } | { "type": "stage_tracks", tracks: Array<StageTrack>, } | { "type": "stage_lineup", on_stage: Array<StageMember>, hands: Array<RaisedHand>, };

export type Announcement = { text: string, by: UserProfile, at: number, };

export type Stage = { state: StageState, title: string, speaker?: string | null, 
/**
 * When the stage first went live.
 */
started_at?: number | null, 
/**
 * When the stage ended.
 */
ended_at?: number | null, 
/**
 * When anything on the stage last changed.
 */
updated_at: number, };

export type StageState = "scheduled" | "live" | "break" | "ended";

export type ChatMessage = { id: MessageId, author: UserProfile, text: string, at: number, };

export type UserProfile = { id: UserId, name: string, 
/**
 * ISO 3166-1 alpha-2, when the user gave one.
 */
country?: string | null, };

export type Role = "attendee" | "speaker" | "exhibitor" | "moderator" | "organiser";

export type Membership = { 
/**
 * The caller's highest role that applies in this room.
 */
role: Role, can_chat: boolean, can_moderate: boolean, can_manage_stage: boolean, can_announce: boolean, 
/**
 * In a booth room: the caller is one of its staff (sets its status, takes its requests,
 * moderates its chat).
 */
booth_staff?: boolean, };

export type Attendance = { 
/**
 * Connected members now (a user with two tabs counts once per tab).
 */
present: number, 
/**
 * Distinct users who have joined since the room opened on this node.
 */
unique: number, };

export type SessionAttendance = { room: RoomId, state: StageState, present: number, };

export type StreamPosition = { epoch: Epoch, seq: Seq, };

export type Limits = { 
/**
 * Largest frame the node reads; a larger one closes the connection with 1009.
 */
max_message_bytes: number, 
/**
 * Rooms one connection may be in at once.
 */
max_rooms: number, 
/**
 * Longest chat message, in characters.
 */
chat_max_chars: number, 
/**
 * Sustained commands per second per connection.
 */
commands_per_second: number, 
/**
 * Largest frame the node sends. Every answer and snapshot is paged to stay well below
 * it; a frame that would exceed it is replaced by an `error` (code 500).
 */
max_frame_bytes: number, };

export type QaAction = "approve" | "dismiss" | "restore" | "hide" | "unhide" | "highlight" | "unhighlight" | "answered" | "reopen" | "merge" | "star" | "unstar" | "rank" | "delete";

export type QuestionState = "pending" | "published" | "hidden" | "live" | "answered" | "dismissed" | "withdrawn" | "merged";

export type QuestionView = { id: MessageId, text: string, state: QuestionState, 
/**
 * Name this version in moderator actions.
 */
version: number, votes: number, 
/**
 * Absent for an anonymous question (except to the asker itself).
 */
asker?: UserProfile | null, 
/**
 * Moderators only: on the shortlist.
 */
starred?: boolean, 
/**
 * Moderators only: position in the shortlist.
 */
rank?: number | null, 
/**
 * Moderators and the asker: why it was dismissed.
 */
dismiss_reason?: string | null, merged_into?: MessageId | null, asked_at: number, updated_at: number, answered_by?: UserId | null, };

export type QuestionVotes = { id: MessageId, votes: number, };

export type PollView = { id: MessageId, question: string, options: Array<string>, 
/**
 * Several options may be chosen.
 */
multiple: boolean, 
/**
 * An answer may be changed while the poll is open.
 */
changeable: boolean, results: PollResults, state: PollState, 
/**
 * Name this version in `poll_control`.
 */
version: number, created_at: number, updated_at: number, 
/**
 * The results, when this member may see them (moderators always).
 */
tally?: PollTally | null, };

export type PollState = "draft" | "open" | "closed";

export type PollResults = "live" | "after_close" | "hidden";

export type PollAction = "open" | "close" | "set_results" | "delete";

export type PollTally = { id: MessageId, 
/**
 * Voters per option, in the order of `options`.
 */
counts: Array<number>, 
/**
 * Users who answered.
 */
voters: number, };

export type PollChoice = { id: MessageId, choices: Array<number>, };

export type StaffStatus = "available" | "busy" | "away" | "offline";

export type StaffView = { user: UserId, name: string, status: StaffStatus, };

export type ContactKind = "live" | "callback";

export type ContactState = "waiting" | "accepted" | "cancelled";

export type ContactRequestView = { id: MessageId, visitor: UserProfile, kind: ContactKind, message?: string | null, state: ContactState, 
/**
 * A waiting live request's place in the queue, from 1.
 */
position?: number | null, accepted_by?: UserProfile | null, 
/**
 * An accepted request's private room (join it).
 */
call?: RoomId | null, 
/**
 * A cancelled request: `true` when the visitor cancelled it, `false` when it lapsed.
 */
cancelled_by_visitor?: boolean | null, created_at: number, updated_at: number, };

export type BoothView = { staff: Array<StaffView>, 
/**
 * Staff: every waiting request and those accepted or cancelled lately. A visitor: its
 * own.
 */
requests: Array<ContactRequestView>, 
/**
 * Whether the caller may see more requests than this page holds (ask with
 * `booth_page`, `after` the last one here).
 */
more?: boolean, };

export type CallInfo = { members: Array<UserProfile>, 
/**
 * The booth whose request opened the call.
 */
booth?: string | null, opened_at: number, };

export type BoothCounts = { 
/**
 * The booth's id in the programme (its room is `booth:<id>`).
 */
booth: string, 
/**
 * Connections at the booth over every node, its staff not counted.
 */
visitors: number, 
/**
 * Staff members available now.
 */
staff_on_duty: number, };

export type Signal = { "kind": "ready", reply?: boolean, } | { "kind": "offer", sdp: string, } | { "kind": "answer", sdp: string, } | { "kind": "candidate", candidate: string, sdp_mid?: string | null, sdp_m_line_index?: number | null, username_fragment?: string | null, } | { "kind": "end_of_candidates" } | { "kind": "restart" } | { "kind": "media", audio: boolean, video: boolean, } | { "kind": "bye" };

export type IceServer = { urls: Array<string>, 
/**
 * TURN: `<expiry unix seconds>:<user id>`.
 */
username?: string | null, 
/**
 * TURN: base64 HMAC-SHA1 of `username` with the TURN server's shared secret.
 */
credential?: string | null, };

export type TrackSource = "camera" | "microphone" | "screen";

export type StageTrack = { 
/**
 * Unique on the stage; the `msid` track id of the track in the viewer's SDP.
 */
id: string, 
/**
 * Who publishes it (the `msid` stream id of all of their tracks).
 */
user: UserId, 
/**
 * Their display name.
 */
name: string, source: TrackSource, 
/**
 * The simulcast layers the speaker sends (`rid`s), lowest first; empty: one layer.
 */
layers?: Array<string>, };

export type PublishedTrack = { mid: string, source: TrackSource, };

export type StageQuality = "auto" | "low" | "audio_only";

export type StageMember = { user: UserId, name: string, };

export type RaisedHand = { user: UserId, name: string, 
/**
 * One of the session's speakers (ready to go on), rather than an attendee.
 */
speaker: boolean, 
/**
 * Unix ms.
 */
at: number, };
