-- Polls: each poll's latest definition and state (JSON), and one answer per user and poll
-- (its choices as a JSON array). Poll changes go to the Q&A audit log as well.

CREATE TABLE polls (
    room TEXT NOT NULL,
    id TEXT NOT NULL,
    state TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (room, id)
);

CREATE TABLE poll_answers (
    room TEXT NOT NULL,
    poll TEXT NOT NULL,
    voter TEXT NOT NULL,
    choices TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (room, poll, voter)
);
