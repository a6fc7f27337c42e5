-- Q&A: each question's latest state (the whole question as JSON, its votes kept apart so a
-- vote is one row), the votes, and an audit log of every change: who moved which question to
-- which state and version, when.

CREATE TABLE questions (
    room TEXT NOT NULL,
    id TEXT NOT NULL,
    state TEXT NOT NULL,
    body TEXT NOT NULL,
    asked_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (room, id)
);

CREATE TABLE question_votes (
    room TEXT NOT NULL,
    question TEXT NOT NULL,
    voter TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (room, question, voter)
);

CREATE TABLE qa_audit (
    id TEXT PRIMARY KEY,
    room TEXT NOT NULL,
    question TEXT NOT NULL,
    state TEXT NOT NULL,
    version BIGINT NOT NULL,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL
);

CREATE INDEX qa_audit_by_room ON qa_audit (room, at);
