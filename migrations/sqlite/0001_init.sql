-- Mini Meeting schema for SQLite. Timestamps are RFC 3339 UTC text written by the application,
-- so the same SQL serves SQLite and PostgreSQL.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
-- Emails are stored lower-cased; the index also refuses case variants written by other tools.
CREATE UNIQUE INDEX users_email_key ON users (email COLLATE NOCASE);

CREATE TABLE meetings (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    code       TEXT    NOT NULL UNIQUE,
    title      TEXT    NOT NULL,
    host_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status     TEXT    NOT NULL DEFAULT 'created'
               CHECK (status IN ('created', 'active', 'paused', 'ended')),
    started_at TEXT,
    ended_at   TEXT,
    created_at TEXT    NOT NULL
);
CREATE INDEX meetings_host_created_idx ON meetings (host_id, created_at DESC, id DESC);
CREATE INDEX meetings_created_idx ON meetings (created_at DESC, id DESC);

CREATE TABLE participants (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    meeting_id INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at  TEXT    NOT NULL,
    left_at    TEXT
);
-- At most one open participation per (meeting, user): a reconnect reuses it.
CREATE UNIQUE INDEX participants_open_key ON participants (meeting_id, user_id) WHERE left_at IS NULL;
CREATE INDEX participants_meeting_idx ON participants (meeting_id, joined_at);
CREATE INDEX participants_user_idx ON participants (user_id, meeting_id);

CREATE TABLE refresh_sessions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id  TEXT    NOT NULL,
    -- hex SHA-256 of the opaque token; the raw token is never stored
    token_hash TEXT    NOT NULL UNIQUE,
    parent_id  INTEGER REFERENCES refresh_sessions (id) ON DELETE SET NULL,
    used_at    TEXT,
    expires_at TEXT    NOT NULL,
    revoked_at TEXT,
    created_at TEXT    NOT NULL
);
CREATE INDEX refresh_sessions_family_idx ON refresh_sessions (family_id);
CREATE INDEX refresh_sessions_user_idx ON refresh_sessions (user_id);
