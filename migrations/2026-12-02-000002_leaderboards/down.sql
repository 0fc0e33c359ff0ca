DROP TRIGGER tasks_status_notify ON tasks;
DROP TRIGGER tasks_created_notify ON tasks;
DROP FUNCTION notify_task_status();
DROP TABLE leaderboard_weights;
DROP TABLE contributions;
DROP FUNCTION is_bot(TEXT, TEXT);
