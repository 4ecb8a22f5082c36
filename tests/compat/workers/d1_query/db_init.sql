-- Seed for the corpus's D1 sample (the upstream sample loads a CSV of quotes with `wrangler d1 execute`).
DROP TABLE IF EXISTS qtable;
CREATE TABLE qtable (id INTEGER PRIMARY KEY, quote TEXT NOT NULL, author TEXT NOT NULL);
INSERT INTO qtable (quote, author) VALUES ('Simple is better than complex.', 'Tim Peters');
INSERT INTO qtable (quote, author) VALUES ('Readability counts.', 'Tim Peters');
