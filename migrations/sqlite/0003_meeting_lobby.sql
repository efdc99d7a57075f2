-- A meeting's lobby (waiting room): newcomers wait until a host or co-host admits them.
ALTER TABLE meetings ADD COLUMN lobby BOOLEAN NOT NULL DEFAULT 0;
