ALTER TABLE timeline_items DROP COLUMN updated_at;
