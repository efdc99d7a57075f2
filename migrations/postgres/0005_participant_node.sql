-- Which node holds a participation open: in a cluster, a node that dies leaves its
-- participations open, and a surviving node closes those of nodes that are gone.
ALTER TABLE participants ADD COLUMN node_id TEXT;
