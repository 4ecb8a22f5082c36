-- The quiz app's "before" schema on PostgreSQL (personality-spark before it moved to D1).
CREATE TYPE plan AS ENUM ('free', 'plus', 'team');

CREATE TABLE users (
    id bigserial PRIMARY KEY,
    email character varying(255) NOT NULL,
    display_name text,
    plan plan NOT NULL DEFAULT 'free',
    is_admin boolean NOT NULL DEFAULT false,
    balance numeric(12, 2) NOT NULL DEFAULT 0,
    tags text[] NOT NULL DEFAULT '{}',
    referred_by bigint REFERENCES users (id) ON DELETE SET NULL,
    external_id uuid,
    avatar bytea,
    birthday date,
    score real,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    CONSTRAINT users_email_key UNIQUE (email)
);

CREATE TABLE quizzes (
    id text PRIMARY KEY,
    quiz_type text NOT NULL,
    title text NOT NULL,
    published boolean NOT NULL DEFAULT true
);

CREATE TABLE quiz_results (
    id uuid PRIMARY KEY,
    quiz_id text NOT NULL REFERENCES quizzes (id) ON DELETE CASCADE,
    user_id bigint REFERENCES users (id),
    answers jsonb NOT NULL,
    scores json NOT NULL,
    price_paid numeric(10, 2),
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    CONSTRAINT quiz_results_user_quiz UNIQUE (user_id, quiz_id, created_at)
);
CREATE INDEX idx_quiz_results_user ON quiz_results (user_id, created_at DESC);
CREATE INDEX idx_users_email_lower ON users (lower(email));
