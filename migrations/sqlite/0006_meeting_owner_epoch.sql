-- The claim of the room that runs the meeting: every room started for it takes the next
-- epoch, and the room's writes (lobby, guests, status, host actions) land only while its
-- epoch is the latest, so a room that lost the meeting to another node cannot overwrite it.
ALTER TABLE meetings ADD COLUMN owner_epoch INTEGER NOT NULL DEFAULT 0;
