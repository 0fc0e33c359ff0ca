DROP TABLE metric_counters;
