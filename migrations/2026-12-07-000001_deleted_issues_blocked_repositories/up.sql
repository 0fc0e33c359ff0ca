-- GitHub answered 410 Gone for the issue or its timeline: deleted there. The row stays;
-- lists leave it out unless asked (`include_deleted=true`) and its timeline is not read again.
ALTER TABLE issues ADD COLUMN deleted_at TIMESTAMPTZ;

-- GitHub answered 451, or 403 "Repository access blocked" (a DMCA or terms-of-service
-- block): the scheduled jobs leave the repository alone for 24 hours from then.
ALTER TABLE tracked_repositories ADD COLUMN blocked_at TIMESTAMPTZ;
