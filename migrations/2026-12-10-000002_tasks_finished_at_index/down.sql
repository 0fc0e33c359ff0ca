DROP INDEX tasks_finished_at_idx;
