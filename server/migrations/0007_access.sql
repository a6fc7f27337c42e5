-- Who may not be in the event or a room, and which tokens no longer open a connection.
-- A ban's `scope` is '' for the whole event or a room id (`session:keynote`); `until_ms` is
-- NULL for a ban without an end. A revoked token is kept until it would have expired.

CREATE TABLE bans (
    user_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    until_ms BIGINT,
    reason TEXT NOT NULL,
    banned_by TEXT NOT NULL,
    banned_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, scope)
);

CREATE TABLE revoked_tokens (
    jti TEXT NOT NULL PRIMARY KEY,
    expires_at BIGINT NOT NULL,
    revoked_by TEXT NOT NULL,
    revoked_at BIGINT NOT NULL
);
