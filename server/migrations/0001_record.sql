-- The record of what the hub produced. One text for SQLite and PostgreSQL: ids are text,
-- times are Unix milliseconds in BIGINT, flags would be INTEGER.

CREATE TABLE chat_messages (
    room TEXT NOT NULL,
    id TEXT NOT NULL,
    author_id TEXT NOT NULL,
    author_name TEXT NOT NULL,
    author_country TEXT,
    body TEXT NOT NULL,
    at BIGINT NOT NULL,
    -- A deleted message stays as a tombstone: who deleted it and when.
    deleted_at BIGINT,
    deleted_by TEXT,
    PRIMARY KEY (room, id)
);

-- Every stage change, in order: the stage's audit trail.
CREATE TABLE stage_changes (
    id TEXT PRIMARY KEY,
    room TEXT NOT NULL,
    at BIGINT NOT NULL,
    state TEXT NOT NULL,
    title TEXT NOT NULL,
    speaker TEXT,
    started_at BIGINT,
    ended_at BIGINT,
    changed_by TEXT NOT NULL
);
CREATE INDEX stage_changes_by_room ON stage_changes (room, at);

-- Mutes in force (a lapsed timed mute stays until replaced or lifted).
CREATE TABLE mutes (
    room TEXT NOT NULL,
    user_id TEXT NOT NULL,
    until BIGINT,
    muted_by TEXT NOT NULL,
    muted_at BIGINT NOT NULL,
    PRIMARY KEY (room, user_id)
);

-- Every moderation decision: deletions, mutes, unmutes.
CREATE TABLE moderation_log (
    id TEXT PRIMARY KEY,
    room TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL,
    until BIGINT
);
CREATE INDEX moderation_log_by_room ON moderation_log (room, at);

-- One row per visit: a connection's time in a room.
CREATE TABLE attendance (
    id TEXT PRIMARY KEY,
    room TEXT NOT NULL,
    user_id TEXT NOT NULL,
    country TEXT,
    joined_at BIGINT NOT NULL,
    left_at BIGINT
);
CREATE INDEX attendance_by_room ON attendance (room, joined_at);

-- Users as their tokens last described them.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    country TEXT,
    last_seen_at BIGINT NOT NULL
);
