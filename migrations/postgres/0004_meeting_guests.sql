-- Guests: people without an account may join a meeting that allows it, by its link, with a
-- display name only (always through the lobby). A guest is a users row with an unusable
-- password and `guest_of` naming its one meeting.
ALTER TABLE meetings ADD COLUMN allow_guests BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN guest_of BIGINT REFERENCES meetings (id) ON DELETE CASCADE;
