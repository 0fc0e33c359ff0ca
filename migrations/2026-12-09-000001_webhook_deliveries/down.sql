DROP TABLE leaderboard_rebuilds;
DROP TABLE webhook_deliveries;
