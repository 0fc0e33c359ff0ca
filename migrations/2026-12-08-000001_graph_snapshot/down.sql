DROP TABLE graph_snapshot;
