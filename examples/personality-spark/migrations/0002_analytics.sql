-- Migration number: 0002 	 analytics fed by the quiz-events queue, rolled up daily by the cron trigger
CREATE TABLE quiz_analytics (
    result_id TEXT PRIMARY KEY,       -- one row per submission: redelivered events are ignored
    quiz_type TEXT NOT NULL,
    user_id TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX idx_quiz_analytics_created ON quiz_analytics (created_at);
CREATE TABLE quiz_daily_stats (
    day TEXT NOT NULL,                -- YYYY-MM-DD, UTC
    quiz_type TEXT NOT NULL,
    submissions INTEGER NOT NULL,
    unique_users INTEGER NOT NULL,
    PRIMARY KEY (day, quiz_type)
);
