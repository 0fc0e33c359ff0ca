DROP TABLE contribution_totals;
DROP TABLE weekly_contributions;
DROP FUNCTION contribution_week(TIMESTAMPTZ);
