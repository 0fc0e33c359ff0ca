DROP TABLE rate_limit_pauses;
