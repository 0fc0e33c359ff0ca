CREATE OR REPLACE FUNCTION notify_task_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('gitomatic_task_status', NEW.id::text);
    RETURN NULL;
END
$$;
