-- What hosts and co-hosts did in a meeting (mute, remove, lock, ...), in order: the meeting's
-- moderation history, read by its host.
CREATE TABLE host_actions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    meeting_id INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    -- participations (participants.id), so a reconnect or a second stay is told apart
    actor_id   INTEGER NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
    target_id  INTEGER REFERENCES participants (id) ON DELETE CASCADE,
    action     TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);
CREATE INDEX host_actions_meeting_idx ON host_actions (meeting_id, id);
