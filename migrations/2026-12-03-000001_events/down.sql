DROP TABLE event_feeds;
DROP TABLE event_gaps;
DROP TABLE events;
