-- The programme. Lists (languages, tags, speakers, links, staff) and the stage source are
-- JSON text: the same on SQLite and PostgreSQL, and filtered in memory (a programme holds
-- hundreds to a few thousand sessions).

CREATE TABLE event_settings (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL
);

CREATE TABLE tracks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    position INTEGER NOT NULL
);

CREATE TABLE speakers (
    id TEXT PRIMARY KEY,
    external_id TEXT UNIQUE,
    name TEXT NOT NULL,
    affiliation TEXT NOT NULL,
    bio TEXT NOT NULL,
    country TEXT
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    external_id TEXT UNIQUE,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    kind TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    track TEXT,
    languages TEXT NOT NULL,
    tags TEXT NOT NULL,
    speakers TEXT NOT NULL,
    stage TEXT NOT NULL
);
CREATE INDEX sessions_by_start ON sessions (starts_at);

CREATE TABLE booths (
    id TEXT PRIMARY KEY,
    external_id TEXT UNIQUE,
    organisation TEXT NOT NULL,
    description TEXT NOT NULL,
    links TEXT NOT NULL,
    logo_url TEXT,
    track TEXT,
    tags TEXT NOT NULL,
    staff TEXT NOT NULL
);

-- Roles organisers hand out; `scope` is '' for event-wide grants.
CREATE TABLE role_grants (
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    scope TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, role, scope)
);
