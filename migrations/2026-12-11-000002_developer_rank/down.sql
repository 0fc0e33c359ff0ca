DROP TABLE developer_rank_run;
DROP TABLE developer_ranks;
