"""Real-world SQLite statements, grouped in scenarios, for the translation corpus test.

Sources: the example app (examples/personality-spark: its migration and the queries in src/entry.py), the D1
docs' examples (Customers, prepared statements, batch), Drizzle's SQLite DDL/DML as drizzle-kit and
drizzle-orm emit them, SQLAlchemy's SQLite DDL/DML, and the usual hand-written SQL of Workers (upserts, JSON,
dates, pagination, aggregates). Each step is ``(sql, params)``, ``(sql, params, SHAPE)`` for steps whose
value is not deterministic (now, random): those compare the type and length of each value only, or
``(sql, params, UNORDERED)`` for rows SQLite returns in no defined order (RETURNING).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SHAPE = "shape"
UNORDERED = "unordered"  # rows in no defined order (RETURNING): compared as a multiset
ROOT = Path(__file__).resolve().parents[2]

Step = tuple[Any, ...]

_SPARK_MIGRATION = (ROOT / "examples/personality-spark/migrations/0001_init.sql").read_text()
_SPARK_ANALYTICS = (ROOT / "examples/personality-spark/migrations/0002_analytics.sql").read_text()

_SPARK: list[Step] = [(_SPARK_MIGRATION, ())]
for i, (user, quiz) in enumerate([("u1", "big5"), ("u1", "mbti"), ("u2", "big5"), (None, "love"), ("u1", "love")]):
    _SPARK.append((
        "INSERT INTO quiz_results (id, quiz_id, quiz_type, user_id, answers, scores) VALUES (?, ?, ?, ?, ?, ?)",
        (f"r{i}", f"q-{quiz}", quiz, user, '{"q1": 3, "q2": 5}', f'{{"openness": {50 + i}, "label": "x{i}"}}'),
    ))
_SPARK += [
    ("SELECT id, quiz_type, scores, created_at > 0 AS recent FROM quiz_results WHERE user_id = ? "
     "ORDER BY created_at DESC, rowid DESC LIMIT ?", ("u1", 10)),
    ("SELECT id, quiz_type, scores FROM quiz_results WHERE user_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?",
     ("u2", 1)),
    ("SELECT id, quiz_type, scores FROM quiz_results WHERE id = ?", ("r2",)),
    ("SELECT id, quiz_type, scores FROM quiz_results WHERE id = ?", ("nope",)),
    ("SELECT 1 AS ok", ()),
    ("SELECT quiz_type, count(*) AS n FROM quiz_results GROUP BY quiz_type ORDER BY quiz_type", ()),
    ("SELECT json_extract(scores, '$.openness') AS openness, json_extract(scores, '$.label') AS label "
     "FROM quiz_results ORDER BY id", ()),
    ("SELECT id FROM quiz_results WHERE json_extract(scores, '$.openness') > 51 ORDER BY id", ()),
    ("SELECT id FROM quiz_results WHERE json_extract(scores, '$.label') = 'x3'", ()),
    ("SELECT id FROM quiz_results WHERE user_id IS NULL", ()),
    ("SELECT count(*) FROM quiz_results WHERE created_at <= unixepoch()", ()),
    ("DELETE FROM quiz_results WHERE user_id = ?", ("u2",)),
    ("SELECT count(*) AS n FROM quiz_results", ()),
    (_SPARK_ANALYTICS, ()),
]
# The queue consumer (INSERT OR IGNORE makes redelivery harmless) and the cron roll-up of src/entry.py.
_ROLLUP = ("INSERT INTO quiz_daily_stats (day, quiz_type, submissions, unique_users) "
           "SELECT date(created_at, 'unixepoch') AS day, quiz_type, COUNT(*), COUNT(DISTINCT user_id) "
           "FROM quiz_analytics WHERE created_at >= ? GROUP BY day, quiz_type "
           "ON CONFLICT (day, quiz_type) DO UPDATE SET "
           "submissions = excluded.submissions, unique_users = excluded.unique_users")
_DAILY_STATS = "SELECT day, quiz_type, submissions, unique_users FROM quiz_daily_stats ORDER BY day DESC, quiz_type"
_ANALYTICS_INSERT = ("INSERT OR IGNORE INTO quiz_analytics (result_id, quiz_type, user_id, created_at) "
                     "VALUES (?, ?, ?, ?)")
for i, (user, quiz) in enumerate([("u1", "big5"), ("u2", "big5"), ("u1", "mbti"), (None, "big5"), ("u1", "big5")]):
    _SPARK.append((_ANALYTICS_INSERT, (f"r{i}", quiz, user, 1704067200 + i * 40000)))
_SPARK += [
    (_ANALYTICS_INSERT, ("r1", "big5", "u2", 1704067200)),  # a redelivered event
    (_ROLLUP, (1704067200,)),
    (_DAILY_STATS, ()),
    (_ANALYTICS_INSERT, ("r9", "mbti", "u3", 1704067200 + 10)),
    (_ROLLUP, (1704067200,)),
    (_DAILY_STATS, ()),
]

# D1 docs: worker-api/prepared-statements, d1-database, get-started.
_DOCS: list[Step] = [
    ("DROP TABLE IF EXISTS Customers", ()),
    ("CREATE TABLE IF NOT EXISTS Customers (CustomerId INTEGER PRIMARY KEY, CompanyName TEXT, ContactName TEXT)",
     ()),
    ("INSERT INTO Customers (CustomerID, CompanyName, ContactName) VALUES (1, 'Alfreds Futterkiste', "
     "'Maria Anders'), (4, 'Around the Horn', 'Thomas Hardy'), (11, 'Bs Beverages', 'Victoria Ashworth'), "
     "(13, 'Bs Beverages', 'Random Name')", ()),
    ("SELECT * FROM Customers", ()),
    ("SELECT * FROM Customers WHERE CompanyName = ?", ("Bs Beverages",)),
    ("SELECT * FROM Customers WHERE CompanyName = ?1 AND ContactName = ?2", ("Bs Beverages", "Random Name")),
    ("SELECT * FROM Customers WHERE CompanyName = ? AND CustomerId = ?", ("Bs Beverages", 11)),
    ("SELECT CompanyName FROM Customers WHERE CustomerId = ?", (4,)),
    ("SELECT COUNT(*) AS total FROM Customers", ()),
    ("SELECT count(*) FROM Customers", ()),
    ("SELECT * FROM Customers LIMIT 2", ()),
    ("SELECT * FROM Customers ORDER BY CustomerId DESC LIMIT ? OFFSET ?", (2, 1)),
    ("UPDATE Customers SET CompanyName = ? WHERE CustomerId = ?", ("Updated", 1)),
    ("INSERT INTO Customers (CompanyName, ContactName) VALUES (?, ?)", ("New Co", "Someone")),
    ("SELECT CustomerId, CompanyName FROM Customers ORDER BY CustomerId", ()),
    ("DELETE FROM Customers WHERE CustomerId = ?", (13,)),
    ("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'Customers'", ()),
    ("PRAGMA table_info(Customers)", ()),
    ("PRAGMA table_list", ()),
]

# Drizzle (drizzle-kit generate, drizzle-orm's sqlite-core query builder).
_DRIZZLE: list[Step] = [
    ("CREATE TABLE `users` (\n\t`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,\n\t`name` text NOT NULL,\n\t"
     "`email` text NOT NULL,\n\t`role` text DEFAULT 'user' NOT NULL,\n\t`verified` integer DEFAULT false NOT NULL,"
     "\n\t`created_at` integer DEFAULT (unixepoch()) NOT NULL\n)", ()),
    ("CREATE UNIQUE INDEX `users_email_unique` ON `users` (`email`)", ()),
    ("CREATE TABLE `posts` (\n\t`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,\n\t`title` text NOT NULL,\n\t"
     "`content` text,\n\t`author_id` integer NOT NULL,\n\t`published_at` text,\n\tFOREIGN KEY (`author_id`) "
     "REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade\n)", ()),
    ("CREATE INDEX `posts_author_idx` ON `posts` (`author_id`)", ()),
]
for i, name in enumerate(["ada", "bob", "cy", "dee"]):
    _DRIZZLE.append(('insert into "users" ("id", "name", "email", "role", "verified", "created_at") values '
                     '(null, ?, ?, ?, ?, ?) returning "id", "name", "email"',
                     (name, f"{name}@example.com", "admin" if i == 0 else "user", i % 2, 1700000000 + i)))
for i in range(6):
    _DRIZZLE.append(('insert into "posts" ("id", "title", "content", "author_id", "published_at") values '
                     '(null, ?, ?, ?, ?)', (f"post {i}", None if i == 3 else f"body {i}", i % 3 + 1,
                                            None if i % 2 else f"2024-01-0{i + 1} 10:00:00")))
_DRIZZLE += [
    ('select "id", "name", "email", "role", "verified", "created_at" from "users" where "users"."email" = ? '
     'limit ?', ("bob@example.com", 1)),
    ('select "id", "name" from "users" where ("users"."role" = ? and "users"."verified" = ?)', ("user", 1)),
    ('select "id", "name" from "users" order by "users"."created_at" desc limit ? offset ?', (2, 1)),
    ('select "users"."name", "posts"."title" from "posts" inner join "users" on "posts"."author_id" = '
     '"users"."id" where "posts"."published_at" is not null order by "posts"."id"', ()),
    ('select "users"."id", count("posts"."id") from "users" left join "posts" on "users"."id" = "posts"."author_id" '
     'group by "users"."id" order by "users"."id"', ()),
    ('select count(*) from "posts" where "posts"."author_id" in (?, ?)', (1, 2)),
    ('update "users" set "name" = ?, "verified" = ? where "users"."id" = ? returning "id", "name"', ("Ada", 1, 1)),
    ('update "posts" set "published_at" = ? where "posts"."published_at" is null', ("2024-02-01 00:00:00",)),
    ('insert into "users" ("id", "name", "email", "role", "verified", "created_at") values (null, ?, ?, ?, ?, ?) '
     'on conflict ("users"."email") do update set "name" = ?', ("Bobby", "bob@example.com", "user", 0, 1, "Bobby")),
    ('insert into "users" ("name", "email", "created_at") values (?, ?, ?) on conflict do nothing',
     ("dup", "cy@example.com", 1)),
    ('select "name" from "users" where "users"."email" like ? order by "name"', ("%EXAMPLE.com",)),
    ('delete from "users" where "users"."id" = ? returning "id"', (4,)),
    ('select "id", "author_id" from "posts" order by "id"', ()),
    ('select "title" from "posts" where "posts"."content" is null', ()),
]

# SQLAlchemy (metadata.create_all and ORM/Core statements with the sqlite dialect).
_SQLALCHEMY: list[Step] = [
    ("\nCREATE TABLE authors (\n\tid INTEGER NOT NULL, \n\tname VARCHAR(100) NOT NULL, \n\tbio TEXT, \n\t"
     "PRIMARY KEY (id), \n\tUNIQUE (name)\n)\n\n", ()),
    ("\nCREATE TABLE books (\n\tid INTEGER NOT NULL, \n\ttitle VARCHAR(200) NOT NULL, \n\tprice NUMERIC(10, 2), \n\t"
     "rating FLOAT, \n\tin_stock BOOLEAN NOT NULL, \n\tauthor_id INTEGER, \n\tcreated_at DATETIME DEFAULT "
     "(CURRENT_TIMESTAMP), \n\tPRIMARY KEY (id), \n\tFOREIGN KEY(author_id) REFERENCES authors (id)\n)\n\n", ()),
    ("CREATE INDEX ix_books_title ON books (title)", ()),
    ("INSERT INTO authors (name, bio) VALUES (?, ?)", ("Le Guin", "Earthsea")),
    ("INSERT INTO authors (name, bio) VALUES (?, ?)", ("Pratchett", None)),
    ("INSERT INTO authors (name, bio) VALUES (?, ?) RETURNING id", ("Banks", "Culture")),
]
for i in range(8):
    _SQLALCHEMY.append(("INSERT INTO books (title, price, rating, in_stock, author_id) VALUES (?, ?, ?, ?, ?)",
                        (f"Book {i}", 9.99 + i, 3.5 + i / 4, i % 2 == 0, i % 3 + 1)))
_SQLALCHEMY += [
    ("SELECT books.id, books.title, books.price, books.rating, books.in_stock, books.author_id \nFROM books \n"
     "WHERE books.id = ?", (3,)),
    ("SELECT books.id, books.title \nFROM books \nWHERE books.in_stock = 1 ORDER BY books.id DESC\n LIMIT ? OFFSET ?",
     (3, 0)),
    ("SELECT count(*) AS count_1 \nFROM (SELECT books.id AS books_id \nFROM books \nWHERE books.rating > ?) AS anon_1",
     (4.0,)),
    ("SELECT authors.name, avg(books.price) AS avg_price, max(books.rating) AS best \nFROM authors JOIN books ON "
     "authors.id = books.author_id GROUP BY authors.name HAVING count(books.id) > ? ORDER BY authors.name", (2,)),
    ("SELECT authors.name \nFROM authors \nWHERE EXISTS (SELECT 1 \nFROM books \nWHERE authors.id = books.author_id "
     "AND books.price > ?) ORDER BY authors.name", (15,)),
    ("UPDATE books SET price=? WHERE books.id = ?", (12.5, 2)),
    ("UPDATE books SET in_stock=? WHERE books.author_id = ?", (False, 1)),
    ("SELECT books.title, books.price FROM books WHERE books.price BETWEEN ? AND ? ORDER BY books.price", (10, 14)),
    ("SELECT sum(books.price) AS total, min(books.price) AS cheapest FROM books", ()),
    ("DELETE FROM books WHERE books.id IN (?, ?, ?)", (6, 7, 8)),
    ("SELECT books.id, books.in_stock FROM books ORDER BY books.id", ()),
    ("SELECT length(created_at) AS n FROM books WHERE id = 1", ()),
]

# Hand-written Worker SQL: counters, sessions, upserts, JSON, dates, strings, aggregates.
_HANDWRITTEN: list[Step] = [
    ("CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL DEFAULT 0, updated_at TEXT "
     "DEFAULT (datetime('now')))", ()),
    ("CREATE TABLE sessions (id TEXT PRIMARY KEY DEFAULT (lower(hex(randomblob(16)))), user_id INTEGER NOT NULL, "
     "data TEXT NOT NULL DEFAULT '{}', expires_at INTEGER NOT NULL)", ()),
    ("CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB, n REAL)", ()),
    ("CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, payload TEXT, at INTEGER)",
     ()),
]
for name in ("hits", "hits", "likes", "hits", "shares"):
    _HANDWRITTEN.append(("INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET "
                         "value = value + 1", (name,)))
_HANDWRITTEN += [
    ("SELECT name, value FROM counters ORDER BY name", ()),
    ("INSERT OR IGNORE INTO counters (name, value) VALUES (?, ?)", ("hits", 100)),
    ("INSERT OR IGNORE INTO counters (name, value) VALUES (?, ?)", ("views", 100)),
    ("INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)", ("likes", 7)),
    ("REPLACE INTO counters (name, value) VALUES (?, ?)", ("shares", 9)),
    ("SELECT name, value FROM counters ORDER BY value DESC, name", ()),
    ("SELECT length(updated_at) AS n, updated_at LIKE '20%' AS modern FROM counters WHERE name = ?", ("hits",)),
    ("INSERT INTO sessions (user_id, expires_at) VALUES (?, ?) RETURNING length(id) AS n, data", (1, 1900000000)),
    ("INSERT INTO sessions (id, user_id, data, expires_at) VALUES (?, ?, ?, ?)",
     ("s2", 2, '{"theme":"dark","tags":["a","b"],"n":2.5}', 1700000000)),
    ("SELECT json_extract(data, '$.theme') AS theme, json_extract(data, '$.tags') AS tags, "
     "json_extract(data, '$.n') AS n, json_extract(data, '$.tags[1]') AS second FROM sessions WHERE id = ?", ("s2",)),
    ("SELECT count(*) AS live FROM sessions WHERE expires_at > ?", (1800000000,)),
    ("DELETE FROM sessions WHERE expires_at < unixepoch()", ()),
    ("SELECT count(*) AS n FROM sessions", ()),
    ("INSERT INTO kv (k, v, n) VALUES (?, ?, ?), (?, ?, ?)", ("a", b"\x00\x01\xff", 1.5, "b", None, 2.0)),
    ("SELECT k, v, n FROM kv ORDER BY k", ()),
    ("SELECT k, hex(v) AS h, length(v) AS len FROM kv WHERE v IS NOT NULL", ()),
    ("UPDATE kv SET n = n * 2 WHERE k = ?", ("a",)),
    ("SELECT n, n / 2, 7 / 2, 7 % 3, 7.0 / 2, -7 / 2, abs(-3), round(2.567, 2) FROM kv WHERE k = 'a'", ()),
]
for i, kind in enumerate(["click", "view", "click", "buy", "view", "click"]):
    _HANDWRITTEN.append(("INSERT INTO events (kind, payload, at) VALUES (?, ?, ?)",
                         (kind, f'{{"i": {i}, "page": "/p{i % 3}"}}', 1704067200 + i * 86400)))
_HANDWRITTEN += [
    ("SELECT kind, count(*) AS n FROM events GROUP BY kind HAVING count(*) > 1 ORDER BY n DESC, kind", ()),
    ("SELECT id, kind FROM events WHERE kind IN ('buy', 'view') ORDER BY id LIMIT 10", ()),
    ("SELECT date(at, 'unixepoch') AS day, count(*) AS n FROM events GROUP BY day ORDER BY day", ()),
    ("SELECT datetime(at, 'unixepoch') AS t FROM events WHERE id = ?", (1,)),
    ("SELECT strftime('%Y-%m', at, 'unixepoch') AS month FROM events WHERE id = 1", ()),
    ("SELECT date('2024-01-31', '+1 day') AS d, datetime('2024-01-01 10:00:00', '-2 hours') AS t", ()),
    ("SELECT unixepoch('2024-01-01 00:00:00') AS e", ()),
    ("SELECT datetime('now') AS now, date('now') AS today, unixepoch() AS e, CURRENT_TIMESTAMP AS ts", (), SHAPE),
    ("SELECT lower(hex(randomblob(16))) AS id", (), SHAPE),
    ("SELECT id FROM events WHERE at BETWEEN ? AND ? ORDER BY id", (1704067200, 1704240000)),
    ("SELECT max(id) AS last, min(at) AS first, sum(id) AS s, avg(id) AS a, total(id) AS t FROM events", ()),
    ("SELECT kind, group_concat(id) AS ids FROM events GROUP BY kind ORDER BY kind", ()),
    ("SELECT kind, group_concat(id, '|') AS ids FROM events WHERE kind = 'click' GROUP BY kind", ()),
    ("SELECT upper(kind) AS k, length(kind) AS n, substr(kind, 1, 2) AS p, replace(kind, 'c', 'k') AS r, "
     "trim('  x  ') AS t, instr(kind, 'i') AS pos FROM events WHERE id = 1", ()),
    ("SELECT kind || '-' || id AS label FROM events ORDER BY id LIMIT 3", ()),
    ("SELECT coalesce(NULL, payload) AS p, ifnull(NULL, 'dflt') AS d, nullif(kind, 'click') AS n FROM events "
     "WHERE id = 1", ()),
    ("SELECT CASE WHEN id % 2 = 0 THEN 'even' ELSE 'odd' END AS parity, iif(id > 3, 'big', 'small') AS size "
     "FROM events ORDER BY id", ()),
    ("SELECT CAST(at AS TEXT) AS s, CAST('42' AS INTEGER) AS i, CAST(id AS REAL) AS r FROM events WHERE id = 2", ()),
    ("WITH recent AS (SELECT id, kind FROM events WHERE id > ?) SELECT kind, count(*) AS n FROM recent "
     "GROUP BY kind ORDER BY kind", (2,)),
    ("SELECT e.id, c.value FROM events e JOIN counters c ON c.name = 'hits' WHERE e.id < 3 ORDER BY e.id", ()),
    ("SELECT id FROM events WHERE id NOT IN (SELECT id FROM events WHERE kind = 'click') ORDER BY id", ()),
    ("SELECT id, kind FROM events ORDER BY kind, id DESC LIMIT 2 OFFSET 1", ()),
    ("SELECT DISTINCT kind FROM events ORDER BY kind", ()),
    ("SELECT kind FROM events WHERE id = 1 UNION SELECT kind FROM events WHERE id = 4 ORDER BY kind", ()),
    ("SELECT id, rowid FROM events WHERE rowid = ?", (3,)),
    ("UPDATE events SET payload = NULL WHERE kind = ? AND id > ?", ("view", 1)),
    ("SELECT id, payload IS NULL AS gone FROM events ORDER BY id", ()),
    ("DELETE FROM events WHERE kind = ?", ("buy",)),
    ("INSERT INTO events (kind) VALUES (?)", ("late",)),
    ("SELECT id, kind, at FROM events ORDER BY id DESC LIMIT 1", ()),
    ("SELECT ? AS a, ? AS b, ? AS c, ? AS d", (1, 2.5, "three", None)),
    ("SELECT 1 = 1 AS t, 1 > 2 AS f, NULL IS NULL AS n, 'a' < 'b' AS lt, 'B' < 'a' AS binary_order", ()),
    ("SELECT 'Abc' LIKE 'abc' AS ci, 'abc' = 'ABC' AS eq", ()),
    ("SELECT count(*) AS n FROM events WHERE payload LIKE ?", ("%/p1%",)),
    ("ALTER TABLE events ADD COLUMN source TEXT DEFAULT 'web'", ()),
    ("SELECT id, source FROM events ORDER BY id LIMIT 2", ()),
    ("INSERT INTO events (kind, source) VALUES (?, ?)", ("api", "cli")),
    ("SELECT source, count(*) AS n FROM events GROUP BY source ORDER BY source", ()),
    ("CREATE INDEX IF NOT EXISTS events_kind_at ON events (kind, at DESC)", ()),
    ("DROP INDEX events_kind_at", ()),
    ("CREATE VIEW click_events AS SELECT id, at FROM events WHERE kind = 'click'", ()),
    ("SELECT count(*) AS n FROM click_events", ()),
]

# A table per SQLite type affinity, exercised with every value type it may meet through D1.
_TYPES: list[Step] = [
    ("CREATE TABLE typed (i INTEGER, r REAL, t TEXT, b BLOB, n NUMERIC, flag BOOLEAN, d DATETIME, "
     "v VARCHAR(20), dec DECIMAL(10, 2))", ()),
]
for values in [(1, 1.5, "x", b"\x01", 1, True, "2024-01-01 00:00:00", "v", 1.25),
               (-5, 0.0, "", b"", 2.5, False, None, None, 3),
               (2**40, -1e10, "é ünïcode ✓", bytes(range(8)), None, 1, "2030-12-31 23:59:59", "z" * 20, None),
               (0, 2.0, "multi\nline 'quoted'", None, 10, 0, "2000-02-29 12:00:00", "", 0.5)]:
    _TYPES.append(("INSERT INTO typed (i, r, t, b, n, flag, d, v, dec) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", values))
_TYPES += [
    ("SELECT * FROM typed ORDER BY i", ()),
    ("SELECT i + 1 AS a, r * 2 AS b, t || '!' AS c, length(b) AS d, n + 0 AS e, flag AS f FROM typed ORDER BY i",
     ()),
    ("SELECT count(*) AS n FROM typed WHERE flag", ()),
    ("SELECT count(*) AS n FROM typed WHERE NOT flag", ()),
    ("SELECT i FROM typed WHERE d > ? ORDER BY i", ("2020-01-01",)),
    ("SELECT i FROM typed WHERE i = ?", ("1",)),
    ("SELECT t FROM typed WHERE t = ?", ("x",)),
    ("SELECT sum(flag) AS s, sum(i > 0) AS pos FROM typed", ()),
    ("SELECT i, t FROM typed ORDER BY t", ()),
    ("SELECT i, v FROM typed ORDER BY v, i", ()),
    ("SELECT i, v FROM typed ORDER BY v DESC, i", ()),
    ("UPDATE typed SET t = ? WHERE i = ?", (42, 0)),
    ("SELECT t FROM typed WHERE i = 0", ()),
]

# D1 docs: Query JSON (json_extract, ->>, filtering and ordering on JSON values) and foreign keys.
_DOCS_JSON: list[Step] = [
    ("CREATE TABLE sensor_readings (id INTEGER PRIMARY KEY, device TEXT NOT NULL, raw_data TEXT NOT NULL)", ()),
]
for i, (device, temp, aqi, ok) in enumerate([("a", "77.4", [21, 42, 58], "true"), ("b", "68.1", [5, 7, 9], "false"),
                                            ("a", "81.0", [30, 31, 32], "true"), ("c", "59.5", [1, 2, 3], "null")]):
    _DOCS_JSON.append(("INSERT INTO sensor_readings (device, raw_data) VALUES (?, ?)", (device, (
        f'{{"measurement": {{"temp_f": "{temp}", "aqi": {aqi}, "o3": [0.3, 0.4]}}, "online": {ok}, '
        f'"seq": {i}, "ratio": {i / 2}, "location": "room {i % 2}"}}'))))
_DOCS_JSON += [
    ("SELECT json_extract(raw_data, '$.measurement.temp_f') AS temp_f FROM sensor_readings ORDER BY id", ()),
    ("SELECT raw_data ->> '$.measurement.aqi[1]' AS aqi FROM sensor_readings ORDER BY id", ()),
    ("SELECT json_extract(raw_data, '$.measurement.aqi') AS aqi, json_extract(raw_data, '$.measurement') AS m "
     "FROM sensor_readings WHERE id = 1", ()),
    ("SELECT id FROM sensor_readings WHERE json_extract(raw_data, '$.measurement.aqi[0]') > 20 ORDER BY id", ()),
    ("SELECT id FROM sensor_readings WHERE json_extract(raw_data, '$.online') ORDER BY id", ()),
    ("SELECT id FROM sensor_readings WHERE json_extract(raw_data, '$.online') = 0", ()),
    ("SELECT id FROM sensor_readings WHERE json_extract(raw_data, '$.online') IS NULL", ()),
    ("SELECT id FROM sensor_readings WHERE raw_data ->> '$.location' = ? ORDER BY id", ("room 1",)),
    ("SELECT id FROM sensor_readings WHERE json_extract(raw_data, '$.seq') = ?", (2,)),
    ("SELECT id FROM sensor_readings WHERE json_extract(raw_data, '$.location') IN ('room 0', 'nowhere') "
     "ORDER BY id", ()),
    ("SELECT id FROM sensor_readings WHERE json_extract(raw_data, '$.ratio') BETWEEN 0.5 AND 1 ORDER BY id", ()),
    ("SELECT id, json_extract(raw_data, '$.ratio') AS ratio FROM sensor_readings "
     "ORDER BY json_extract(raw_data, '$.ratio') DESC", ()),
    ("SELECT id FROM sensor_readings ORDER BY json_extract(raw_data, '$.measurement.temp_f')", ()),
    ("SELECT json_extract(raw_data, '$.location') AS loc, count(*) AS n FROM sensor_readings "
     "GROUP BY json_extract(raw_data, '$.location') ORDER BY loc", ()),
    ("SELECT device, sum(json_extract(raw_data, '$.seq')) AS total_seq FROM sensor_readings GROUP BY device "
     "ORDER BY device", ()),
    ("SELECT id, json_extract(raw_data, '$.seq') + 1 AS next FROM sensor_readings ORDER BY id", ()),
    ("SELECT upper(json_extract(raw_data, '$.location')) AS loc FROM sensor_readings WHERE id = 2", ()),
    ("SELECT coalesce(json_extract(raw_data, '$.online'), 'unknown') AS online FROM sensor_readings ORDER BY id", ()),
    ("SELECT json_extract(raw_data, '$.missing') AS absent FROM sensor_readings WHERE id = 1", ()),
    ("SELECT json_extract('{\"b\":false}', '$.b') = 0 AS f, json_extract('{\"b\":true}', '$.b') AS t", ()),
    ("CREATE TABLE teams (id INTEGER PRIMARY KEY, name TEXT NOT NULL)", ()),
    ("CREATE TABLE members (id INTEGER PRIMARY KEY, team_id INTEGER NOT NULL REFERENCES teams(id) "
     "ON DELETE CASCADE, name TEXT NOT NULL)", ()),
    ("INSERT INTO teams (id, name) VALUES (1, 'core'), (2, 'edge')", ()),
    ("INSERT INTO members (team_id, name) VALUES (1, 'a'), (1, 'b'), (2, 'c')", ()),
    ("INSERT INTO members (team_id, name) VALUES (3, 'orphan')", ()),
    ("DELETE FROM teams WHERE id = 1", ()),
    ("SELECT name FROM members ORDER BY id", ()),
]

# The constructs the issue 3 audit found answered differently by the servers, in everyday Worker SQL.
_AUDIT: list[Step] = [
    ("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER, price REAL, "
     "active BOOLEAN NOT NULL DEFAULT 1, meta TEXT, added TEXT)", ()),
]
for name, qty, price, active, meta, added in ([
        ("Widget", 3, 2.5, 1, '{"b":true,"tags":["x","y"]}', "2024-01-31 10:00:00"),
        ("gadget", 5, 0.5, 0, '{"b":false}', "2024-03-31 23:59:59"),
        ("Àpple", None, 2.0, 1, '{"b":null,"n":7}', "2024-02-29 00:00:00"),
        ("bolt", 12, 1.25, 1, None, "2023-12-31 12:30:00"),
        ("10", 0, 100.0, 0, '{"n":2.5}', None)]):
    _AUDIT.append(("INSERT INTO items (name, qty, price, active, meta, added) VALUES (?, ?, ?, ?, ?, ?)",
                   (name, qty, price, active, meta, added)))
_AUDIT += [
    ("SELECT CAST(1.9 AS INTEGER) AS a, CAST(-1.9 AS INTEGER) AS b, CAST('12abc' AS INTEGER) AS c, "
     "CAST('abc' AS INTEGER) AS d, CAST('  7' AS INTEGER) AS e", ()),
    ("SELECT id, CAST(price AS INTEGER) AS whole, CAST(price AS TEXT) AS label, CAST(qty AS REAL) AS q "
     "FROM items ORDER BY id", ()),
    ("SELECT CAST(name AS INTEGER) AS n, CAST('3.75kg' AS REAL) AS kg, CAST('12.0' AS NUMERIC) AS num FROM items "
     "WHERE id = 5", ()),
    ("SELECT CAST(? AS INTEGER) AS a, CAST(? AS TEXT) AS b, CAST(? AS REAL) AS c", ("42x", 2.0, "1.5")),
    ("SELECT round(price) AS r0, round(price, 1) AS r1, round(-price) AS neg FROM items ORDER BY id", ()),
    ("SELECT round(2.5) AS a, round(0.5) AS b, round(-2.5) AS c, round(2.675, 2) AS d, round(5) AS e", ()),
    ("SELECT substr(name, -3) AS tail, substr(name, -3, 2) AS mid, substr(name, 0, 2) AS head, "
     "substr(name, 2) AS rest FROM items ORDER BY id", ()),
    ("SELECT substr('hello', ?, ?) AS s", (-4, 2)),
    ("SELECT upper(substr(name, 1, 1)) || substr(name, 2) AS title FROM items ORDER BY id", ()),
    ("SELECT name, max(qty) AS most FROM items", ()),
    ("SELECT name FROM items WHERE qty = (SELECT max(qty) FROM items)", ()),
    ("SELECT date('2024-03-31', '-1 month') AS a, date('2024-01-31', '+1 month') AS b, "
     "date('2024-02-29', '+1 year') AS c, date('2024-01-31', '+13 months') AS d", ()),
    ("SELECT id, date(added, '+1 month') AS next, datetime(added, '-1 month', 'start of month') AS prev "
     "FROM items ORDER BY id", ()),
    ("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', '2024-01-02 03:04:05.678') AS iso, "
     "strftime('%H:%M', added) AS hm FROM items WHERE id = 1", ()),
    ("SELECT typeof(1.0) AS a, typeof(1) AS b, typeof('x') AS c, typeof(NULL) AS d, typeof(price) AS e, "
     "typeof(qty) AS f FROM items WHERE id = 1", ()),
    ("SELECT price || '' AS p, price || ' EUR' AS label, 'x' || qty AS q FROM items ORDER BY id", ()),
    ("SELECT id FROM items WHERE json_extract(meta, '$.b') ORDER BY id", ()),
    ("SELECT id FROM items WHERE json_extract(meta, '$.b') = 0", ()),
    ("SELECT id, json_extract(meta, '$.b') AS b, json_extract(meta, '$.tags') AS tags FROM items ORDER BY id", ()),
    ("SELECT id FROM items WHERE name > 2 ORDER BY id", ()),
    ("SELECT id FROM items WHERE name = 10", ()),
    ("SELECT id FROM items WHERE active = 'true'", ()),
    ("SELECT id FROM items WHERE qty = '5'", ()),
    ("SELECT id FROM items WHERE qty > ? ORDER BY id", ("4",)),
    ("SELECT coalesce(qty, 'none') AS q FROM items ORDER BY id", ()),
    ("SELECT ifnull(qty, 0) AS q, coalesce(price, 0) AS p FROM items ORDER BY id", ()),
    ("SELECT iif(active, 'on', 0) AS state, CASE WHEN qty > 4 THEN qty ELSE 'few' END AS stock FROM items "
     "ORDER BY id", ()),
    ("SELECT 10 = '10' AS a, 10 = 10.0 AS b, '10' = '10' AS c, 1 < 'a' AS d", ()),
    ("SELECT lower('ÀB') AS l, upper('é') AS u, lower(name) AS n FROM items WHERE id = 3", ()),
    ("SELECT id FROM items WHERE name LIKE 'à%'", ()),
    ("SELECT id FROM items WHERE name LIKE 'w%' OR name LIKE 'G%' ORDER BY id", ()),
    ("SELECT id FROM items ORDER BY id LIMIT ? OFFSET ?", ("1", "1")),
    ("SELECT id FROM items ORDER BY id LIMIT -1 OFFSET 3", ()),
    ("SELECT id FROM items ORDER BY id LIMIT ? OFFSET ?", (-1, 2)),
    ("SELECT id FROM items ORDER BY id LIMIT 2, 1", ()),
    ("SELECT id FROM items WHERE name GLOB '[a-z]*' ORDER BY id", ()),
    ("SELECT id FROM items WHERE name GLOB '*o*' ORDER BY id", ()),
    ("SELECT id FROM items WHERE name NOT GLOB 'W?dget' ORDER BY id", ()),
    ("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT DEFAULT 'empty', at INTEGER DEFAULT 0)", ()),
    ("INSERT INTO notes DEFAULT VALUES", ()),
    ("INSERT INTO notes DEFAULT VALUES RETURNING id, body", ()),
    ("SELECT name FROM items ORDER BY name COLLATE NOCASE", ()),
    ("SELECT id FROM items WHERE name = 'WIDGET' COLLATE NOCASE", ()),
    ("SELECT count(*) FILTER (WHERE active) AS on_count, sum(qty) FILTER (WHERE qty > 3) AS big FROM items", ()),
    ("SELECT id FROM items WHERE active IS TRUE ORDER BY id", ()),
    ("SELECT id FROM items WHERE active IS NOT TRUE ORDER BY id", ()),
    ("SELECT count(*) AS n FROM (SELECT id FROM items WHERE active)", ()),
    ("SELECT length(123) AS a, length(1.5) AS b, length(price) AS c, length(name) AS d FROM items WHERE id = 1", ()),
    ("SELECT hex(10) AS a, hex(price) AS b, hex('é') AS c FROM items WHERE id = 1", ()),
    ("SELECT qty % 5 AS m, qty % 0 AS z, price % 2 AS r FROM items ORDER BY id", ()),
    ("SELECT max(qty, 4) AS a, min(qty, 4) AS b FROM items ORDER BY id", ()),
    ("SELECT avg(qty) AS a, avg(price) AS b, sum(qty) AS c, total(qty) AS d, sum(price) AS e FROM items", ()),
    ("SELECT 0.1 + 0.2 AS a, 1.0 AS b, 7.0 / 2 AS c, 2.5e3 AS d, CAST(0.1 + 0.2 AS TEXT) AS e", ()),
    ("INSERT INTO items (name, qty) VALUES (?, ?)", ("text qty", "12")),
    ("UPDATE items SET qty = qty * 2 WHERE id = ?", (1,)),
    ("UPDATE items SET name = ? WHERE id = ?", (3.0, 4)),
    ("SELECT id, name, qty FROM items ORDER BY id", ()),
    ("INSERT INTO items (name, qty) VALUES (?, ?)", ("half", 1.5)),
]

# More Drizzle: drizzle-orm's sqlite-core shapes (boolean and timestamp modes, relational filters, upserts).
_DRIZZLE_MORE: list[Step] = [
    ("CREATE TABLE `todos` (\n\t`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,\n\t`text` text NOT NULL,\n\t"
     "`done` integer DEFAULT false NOT NULL,\n\t`priority` integer DEFAULT 0,\n\t`created_at` integer NOT NULL,\n\t"
     "`due` text\n)", ()),
    ("CREATE INDEX `todos_done_idx` ON `todos` (`done`,`priority`)", ()),
]
for i in range(8):
    _DRIZZLE_MORE.append(('insert into "todos" ("id", "text", "done", "priority", "created_at", "due") values '
                          '(null, ?, ?, ?, ?, ?) returning "id", "text", "done", "priority", "created_at", "due"',
                          (f"task {i}", i % 3 == 0, i % 4, 1700000000 + i * 3600,
                           None if i % 2 else f"2024-0{i % 9 + 1}-15")))
_DRIZZLE_MORE += [
    ('select "id", "text", "done" from "todos" where "todos"."done" = ? order by "todos"."id" desc', (False,)),
    ('select "id", "text" from "todos" where ("todos"."priority" >= ? and "todos"."done" = ?) order by '
     '"todos"."priority" desc, "todos"."id" limit ?', (2, 0, 3)),
    ('select count(*) from "todos" where "todos"."done" = ?', (True,)),
    ('select "id" from "todos" where "todos"."text" like ? order by "todos"."id"', ("%TASK 1%",)),
    ('select "id" from "todos" where "todos"."due" is not null and "todos"."due" < ? order by "todos"."due"',
     ("2024-06-01",)),
    ('select "id" from "todos" where "todos"."id" in (select "id" from "todos" where "todos"."priority" = ?) '
     'order by "id"', (3,)),
    ('select "id" from "todos" where not "todos"."done" and "todos"."priority" between ? and ? order by "id"',
     (1, 2)),
    ('select "id", "created_at" from "todos" where "todos"."created_at" > ? order by "todos"."created_at" limit ?',
     (1700010000, 2)),
    ('update "todos" set "done" = ? where "todos"."id" = ?', (True, 2)),
    ('update "todos" set "priority" = "todos"."priority" + 1 where "todos"."done" = ?', (1,)),
    ('insert into "todos" ("id", "text", "done", "priority", "created_at", "due") values (?, ?, ?, ?, ?, ?) '
     'on conflict ("todos"."id") do update set "text" = excluded."text", "done" = excluded."done"',
     (3, "renamed", True, 0, 1700000000, None)),
    ('delete from "todos" where "todos"."done" = ? returning "id"', (True,), UNORDERED),
    ('select "id", "text", "done", "priority" from "todos" order by "id"', ()),
    ('select "priority", count("id") as "n" from "todos" group by "todos"."priority" having count("id") > ? '
     'order by "priority"', (0,)),
    ('select max("created_at") as "latest", min("priority") as "low" from "todos"', ()),
    ('select "id" from "todos" order by "todos"."id" limit ? offset ?', (2, 2)),
    ('select exists (select 1 from "todos" where "todos"."priority" = ?) as "found"', (9,)),
]

# More SQLAlchemy: sqlite-dialect Core/ORM output (offset-only pagination, ilike, is_(True), window functions).
_SQLALCHEMY_MORE: list[Step] = [
    ("\nCREATE TABLE accounts (\n\tid INTEGER NOT NULL, \n\temail VARCHAR(255) NOT NULL, \n\tbalance FLOAT "
     "NOT NULL, \n\tis_admin BOOLEAN NOT NULL, \n\tjoined DATE, \n\tPRIMARY KEY (id), \n\tUNIQUE (email)\n)\n\n",
     ()),
]
for email, balance, admin, joined in ([
        ("Ann@Example.com", 10.5, True, "2023-05-01"), ("bob@example.com", 0.0, False, "2023-06-15"),
        ("cat@example.org", 250.25, False, None), ("dan@example.com", -3.75, True, "2024-01-01")]):
    _SQLALCHEMY_MORE.append(("INSERT INTO accounts (email, balance, is_admin, joined) VALUES (?, ?, ?, ?)",
                             (email, balance, admin, joined)))
_SQLALCHEMY_MORE += [
    ("SELECT accounts.id, accounts.email \nFROM accounts ORDER BY accounts.id\n LIMIT ? OFFSET ?", (-1, 2)),
    ("SELECT accounts.id \nFROM accounts \nWHERE lower(accounts.email) LIKE lower(?) ORDER BY accounts.id",
     ("%EXAMPLE.COM",)),
    ("SELECT accounts.id \nFROM accounts \nWHERE accounts.is_admin IS 1 ORDER BY accounts.id", ()),
    ("SELECT accounts.id \nFROM accounts \nWHERE accounts.is_admin = 0 ORDER BY accounts.id", ()),
    ("SELECT accounts.email, row_number() OVER (ORDER BY accounts.balance DESC) AS anon_1 \nFROM accounts "
     "ORDER BY anon_1", ()),
    ("SELECT accounts.id, sum(accounts.balance) OVER (ORDER BY accounts.id) AS running \nFROM accounts "
     "ORDER BY accounts.id", ()),
    ("SELECT count(*) AS count_1 \nFROM accounts \nWHERE accounts.joined >= ?", ("2023-06-01",)),
    ("SELECT accounts.id, CAST(accounts.balance AS VARCHAR) AS anon_1 \nFROM accounts ORDER BY accounts.id", ()),
    ("SELECT coalesce(sum(accounts.balance), ?) AS anon_1 \nFROM accounts \nWHERE accounts.is_admin = 1", (0,)),
    ("SELECT coalesce(sum(accounts.balance), ?) AS anon_1 \nFROM accounts \nWHERE accounts.id > ?", (0, 99)),
    ("UPDATE accounts SET balance=(accounts.balance + ?) WHERE accounts.id = ?", (4.5, 2)),
    ("UPDATE accounts SET is_admin=? WHERE accounts.email = ?", (True, "bob@example.com")),
    ("SELECT accounts.id, accounts.balance, accounts.is_admin \nFROM accounts ORDER BY accounts.id", ()),
    ("SELECT accounts.id \nFROM accounts \nWHERE accounts.id IN (?, ?) AND accounts.balance > ? ORDER BY "
     "accounts.id", (1, 4, -10)),
    ("SELECT max(accounts.balance) AS max_1, min(accounts.joined) AS min_1 \nFROM accounts", ()),
    ("SELECT accounts.id \nFROM accounts \nWHERE accounts.joined IS NULL", ()),
    ("DELETE FROM accounts WHERE accounts.balance < ?", (0,)),
    ("SELECT count(*) AS n FROM accounts", ()),
]

# More hand-written Worker SQL: a shop with orders, cursors, CTEs, windows, set operations.
_SHOP: list[Step] = [
    ("CREATE TABLE products (id INTEGER PRIMARY KEY AUTOINCREMENT, sku TEXT NOT NULL UNIQUE, title TEXT NOT NULL, "
     "price REAL NOT NULL CHECK (price >= 0), stock INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL "
     "DEFAULT (unixepoch()))", ()),
    ("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'new', "
     "placed_at TEXT NOT NULL)", ()),
    ("CREATE TABLE order_items (order_id INTEGER NOT NULL REFERENCES orders(id), product_id INTEGER NOT NULL "
     "REFERENCES products(id), qty INTEGER NOT NULL, unit_price REAL NOT NULL, PRIMARY KEY (order_id, product_id))",
     ()),
]
for sku, title, price, stock in ([("A-1", "Mug", 9.5, 10), ("B-2", "Tee", 19.99, 0),
                                        ("C-3", "Cap", 15.0, 4), ("D-4", "Pin", 1.25, 100)]):
    _SHOP.append(("INSERT INTO products (sku, title, price, stock) VALUES (?, ?, ?, ?)", (sku, title, price, stock)))
for i, (customer, status, placed) in enumerate([("ann", "paid", "2024-01-05 09:00:00"),
                                                ("bob", "new", "2024-01-06 10:30:00"),
                                                ("ann", "shipped", "2024-02-01 12:00:00")]):
    _SHOP.append(("INSERT INTO orders (id, customer, status, placed_at) VALUES (?, ?, ?, ?)",
                  (i + 1, customer, status, placed)))
_SHOP += [
    ("INSERT INTO order_items (order_id, product_id, qty, unit_price) VALUES (1, 1, 2, 9.5), (1, 4, 10, 1.25), "
     "(2, 3, 1, 15.0), (3, 1, 1, 9.5), (3, 3, 2, 14.0)", ()),
    ("SELECT o.id, o.customer, sum(i.qty * i.unit_price) AS total FROM orders o JOIN order_items i "
     "ON i.order_id = o.id GROUP BY o.id ORDER BY o.id", ()),
    ("SELECT o.customer, count(DISTINCT o.id) AS orders, round(sum(i.qty * i.unit_price), 2) AS spent "
     "FROM orders o JOIN order_items i ON i.order_id = o.id GROUP BY o.customer ORDER BY spent DESC", ()),
    ("SELECT p.title, coalesce(sum(i.qty), 0) AS sold FROM products p LEFT JOIN order_items i "
     "ON i.product_id = p.id GROUP BY p.id ORDER BY sold DESC, p.title", ()),
    ("SELECT id, title FROM products WHERE stock = 0 OR price > ? ORDER BY id", (15,)),
    ("SELECT id, title, price FROM products WHERE id > ? ORDER BY id LIMIT ?", (1, 2)),
    ("SELECT id, placed_at FROM orders WHERE placed_at < ? ORDER BY placed_at DESC LIMIT 2", ("2024-02-01",)),
    ("UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ?", (3, 1, 3)),
    ("UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ?", (3, 2, 3)),
    ("INSERT INTO products (sku, title, price) VALUES (?, ?, ?) ON CONFLICT(sku) DO UPDATE SET "
     "price = excluded.price, title = excluded.title", ("A-1", "Mug v2", 10.0)),
    ("INSERT INTO products (sku, title, price) VALUES (?, ?, ?) ON CONFLICT(sku) DO NOTHING", ("B-2", "x", 1)),
    ("INSERT INTO products (sku, title, price) VALUES (?, ?, ?) RETURNING id, sku", ("E-5", "Bag", 30)),
    ("SELECT id, sku, title, price, stock FROM products ORDER BY id", ()),
    ("INSERT INTO products (sku, title, price) VALUES (?, ?, ?)", ("F-6", "Bad", -1)),
    ("INSERT INTO order_items (order_id, product_id, qty, unit_price) VALUES (9, 1, 1, 1.0)", ()),
    ("WITH totals AS (SELECT order_id, sum(qty * unit_price) AS total FROM order_items GROUP BY order_id) "
     "SELECT o.customer, t.total FROM totals t JOIN orders o ON o.id = t.order_id WHERE t.total > ? "
     "ORDER BY t.total", (20,)),
    ("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 5) SELECT sum(x) AS s, "
     "count(*) AS c FROM n", ()),
    ("SELECT customer, status, rank() OVER (PARTITION BY customer ORDER BY placed_at) AS nth FROM orders "
     "ORDER BY customer, nth", ()),
    ("SELECT id, lag(id) OVER (ORDER BY id) AS prev, lead(id) OVER (ORDER BY id) AS next FROM orders ORDER BY id",
     ()),
    ("SELECT customer FROM orders WHERE status = 'paid' UNION ALL SELECT customer FROM orders WHERE "
     "status = 'new' ORDER BY customer", ()),
    ("SELECT product_id FROM order_items WHERE order_id = 1 INTERSECT SELECT product_id FROM order_items "
     "WHERE order_id = 3", ()),
    ("SELECT id FROM products EXCEPT SELECT product_id FROM order_items ORDER BY id", ()),
    ("SELECT count(*) AS n, count(DISTINCT customer) AS customers, group_concat(DISTINCT status) AS statuses "
     "FROM orders", ()),
    ("SELECT title FROM products WHERE title LIKE '%' || ? || '%' ORDER BY title", ("a",)),
    ("SELECT id FROM products WHERE sku IN (?, ?, ?) ORDER BY id", ("A-1", "C-3", "Z-9")),
    ("SELECT id, CASE status WHEN 'new' THEN 0 WHEN 'paid' THEN 1 ELSE 2 END AS step FROM orders ORDER BY id", ()),
    ("SELECT id, trim(customer) AS c, replace(status, 'e', 'E') AS s, instr(status, 'i') AS pos, "
     "nullif(status, 'new') AS not_new FROM orders ORDER BY id", ()),
    ("SELECT date(placed_at) AS d, time(placed_at) AS t, strftime('%m/%d', placed_at) AS md, "
     "strftime('%j %w', placed_at) AS jw FROM orders ORDER BY id", ()),
    ("SELECT datetime(placed_at, '+1 day', 'start of day') AS next_day, unixepoch(placed_at) AS epoch "
     "FROM orders WHERE id = 2", ()),
    ("SELECT id, abs(price - 10) AS diff, price * stock AS value FROM products ORDER BY id", ()),
    ("SELECT sum(stock) AS units, avg(price) AS mean, min(price) AS low, max(price) AS high FROM products", ()),
    ("UPDATE orders SET status = 'cancelled' WHERE id IN (SELECT order_id FROM order_items WHERE product_id = ?)",
     (3,)),
    ("SELECT id, status FROM orders ORDER BY id", ()),
    ("DELETE FROM order_items WHERE order_id IN (SELECT id FROM orders WHERE status = 'cancelled')", ()),
    ("SELECT count(*) AS n FROM order_items", ()),
    ("SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%' "
     "ORDER BY name", ()),
    ("PRAGMA table_info(products)", ()),
    ("PRAGMA foreign_key_list(order_items)", ()),
    ("PRAGMA index_list(products)", ()),
]

SCENARIOS: dict[str, list[Step]] = {
    "personality-spark": _SPARK,
    "d1-docs": _DOCS,
    "drizzle": _DRIZZLE,
    "sqlalchemy": _SQLALCHEMY,
    "handwritten": _HANDWRITTEN,
    "types": _TYPES,
    "d1-docs-json": _DOCS_JSON,
    "audit": _AUDIT,
    "drizzle-more": _DRIZZLE_MORE,
    "sqlalchemy-more": _SQLALCHEMY_MORE,
    "shop": _SHOP,
}

# Statements known to differ on a backend, each with its reason as docs/d1-backends.md states it (the test checks
# that the docs contain the reason word for word). A statement text is excused for all its occurrences in the
# scenario; the test fails if none of them differs any more.
AUTO_INCREMENT = "MySQL's AUTO_INCREMENT spends a number on an INSERT that conflicts"
UPDATE_RETURNING = "MySQL has no UPDATE … RETURNING"
CASCADE_CHANGES = "meta.changes does not count the rows that foreign-key actions change"
BARE_COLUMN = "a bare column next to an aggregate is refused"
NON_INTEGRAL = "a non-integral number for an INTEGER column is refused"
GROUP_CONCAT_ORDER = "group_concat() without an order follows the server's order"

_COUNTER_UPSERT = _HANDWRITTEN[4][0]
EXCEPTIONS: dict[tuple[str, str], str] = {
    **{("mysql", sql): AUTO_INCREMENT for sql in [
        # quiz_analytics and counters have a hidden rowid: after a redelivered event or an upsert that updates,
        # MySQL's next rowid (meta.last_row_id, also reported by later statements) runs ahead of SQLite's.
        _ANALYTICS_INSERT, _ROLLUP, _DAILY_STATS, _COUNTER_UPSERT,
        "SELECT name, value FROM counters ORDER BY name",
        "INSERT OR IGNORE INTO counters (name, value) VALUES (?, ?)",
        "INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)",
        "REPLACE INTO counters (name, value) VALUES (?, ?)",
        "SELECT name, value FROM counters ORDER BY value DESC, name",
        "SELECT length(updated_at) AS n, updated_at LIKE '20%' AS modern FROM counters WHERE name = ?",
    ]},
    ("mysql", 'update "users" set "name" = ?, "verified" = ? where "users"."id" = ? returning "id", "name"'):
        UPDATE_RETURNING,
    # ... and so the next query still sees the old name.
    ("mysql", 'select "name" from "users" where "users"."email" like ? order by "name"'): UPDATE_RETURNING,
    **{(backend, sql): reason for backend in ("postgres", "mysql") for sql, reason in [
        ("DELETE FROM teams WHERE id = 1", CASCADE_CHANGES),
        ("SELECT name, max(qty) AS most FROM items", BARE_COLUMN),
        ("INSERT INTO items (name, qty) VALUES (?, ?)", NON_INTEGRAL),
        ("SELECT count(*) AS n, count(DISTINCT customer) AS customers, group_concat(DISTINCT status) AS statuses "
         "FROM orders", GROUP_CONCAT_ORDER),
    ]},
}
