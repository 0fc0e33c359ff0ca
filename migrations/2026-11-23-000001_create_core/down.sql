DROP TABLE api_tokens;
DROP TABLE tasks;
DROP TABLE github_pages;
DROP TABLE rate_limits;
DROP TABLE stars;
DROP TABLE follows;
DROP TABLE repositories;
DROP TABLE developers;
