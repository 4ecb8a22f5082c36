-- Migration number: 0001 	 initial schema
CREATE TABLE quiz_results (
    id TEXT PRIMARY KEY,
    quiz_id TEXT NOT NULL,
    quiz_type TEXT NOT NULL,
    user_id TEXT,
    answers TEXT NOT NULL,            -- JSON: {"<question_id>": 1..5}
    scores TEXT NOT NULL,             -- JSON: {"<trait>": 0..100}
    created_at INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE INDEX idx_quiz_results_user ON quiz_results (user_id, created_at DESC);
