-- The virtual exhibition: each contact request's latest state (JSON), each booth staff
-- member's latest presence (JSON), the private calls accepted requests opened (who may join),
-- and the contact cards visitors shared with a booth (deleted when the visitor withdraws
-- consent).

CREATE TABLE contact_requests (
    room TEXT NOT NULL,
    id TEXT NOT NULL,
    visitor TEXT NOT NULL,
    state TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (room, id)
);

CREATE TABLE booth_staff (
    room TEXT NOT NULL,
    user_id TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (room, user_id)
);

CREATE TABLE calls (
    room TEXT NOT NULL PRIMARY KEY,
    body TEXT NOT NULL,
    opened_at BIGINT NOT NULL
);

CREATE TABLE leads (
    booth TEXT NOT NULL,
    visitor TEXT NOT NULL,
    body TEXT NOT NULL,
    shared_at BIGINT NOT NULL,
    PRIMARY KEY (booth, visitor)
);
