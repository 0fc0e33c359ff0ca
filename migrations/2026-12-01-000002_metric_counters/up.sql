-- Counters every process adds to, so one scrape of any web process shows the work of all
-- workers: GitHub responses, task runs and their duration buckets. Each process keeps
-- its increments in memory and adds them here (with a finished task's status update, and
-- every few seconds).
CREATE TABLE metric_counters (
    family     TEXT NOT NULL,
    -- The sample's labels as a JSON object of strings ({} for none).
    labels     JSONB NOT NULL CONSTRAINT metric_counters_labels_is_object
                   CHECK (jsonb_typeof(labels) = 'object'),
    value      DOUBLE PRECISION NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (family, labels)
);
