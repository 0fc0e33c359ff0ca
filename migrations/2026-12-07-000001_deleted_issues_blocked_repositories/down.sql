ALTER TABLE tracked_repositories DROP COLUMN blocked_at;
ALTER TABLE issues DROP COLUMN deleted_at;
