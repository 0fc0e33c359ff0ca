-- A task change notification carries the row as it was when it changed, so a listener
-- that reads it later still sees each status (running, then succeeded) and not the
-- latest one twice. pg_notify refuses payloads of 8000 bytes or more: a row that large
-- (a long error) sends only its id and status, and the listener reads the rest.
CREATE OR REPLACE FUNCTION notify_task_status() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    payload TEXT := row_to_json(NEW)::text;
BEGIN
    IF octet_length(payload) >= 7900 THEN
        payload := json_build_object('id', NEW.id, 'status', NEW.status)::text;
    END IF;
    PERFORM pg_notify('gitomatic_task_status', payload);
    RETURN NULL;
END
$$;
