-- When a timeline item (a comment) was last edited, as its payload says: a webhook
-- delivery older than the stored item changes nothing (SPEC-3 A, out of order).
ALTER TABLE timeline_items ADD COLUMN updated_at TIMESTAMPTZ;
