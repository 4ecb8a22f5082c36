"""Real-world SQLite statements, grouped in scenarios, for the translation corpus test.

Sources: the example app (examples/personality-spark: its migration and the queries in src/entry.py), the D1
docs' examples (Customers, prepared statements, batch), Drizzle's SQLite DDL/DML as drizzle-kit and
drizzle-orm emit them, SQLAlchemy's SQLite DDL/DML, and the usual hand-written SQL of Workers (upserts, JSON,
dates, pagination, aggregates). Each step is ``(sql, params)`` or ``(sql, params, SHAPE)`` for steps whose
value is not deterministic (now, random): those compare the type and length of each value only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SHAPE = "shape"
ROOT = Path(__file__).resolve().parents[2]

Step = tuple[Any, ...]

_SPARK_MIGRATION = (ROOT / "examples/personality-spark/migrations/0001_init.sql").read_text()

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

SCENARIOS: dict[str, list[Step]] = {
    "personality-spark": _SPARK,
    "d1-docs": _DOCS,
    "drizzle": _DRIZZLE,
    "sqlalchemy": _SQLALCHEMY,
    "handwritten": _HANDWRITTEN,
    "types": _TYPES,
}

# Statements known to differ on a backend, with the reason (each is documented in docs/d1-backends.md).
_RETURNING = "MariaDB/MySQL have no UPDATE … RETURNING: refused by name (the next query then sees the old row)"
_AUTO_INCREMENT = ("MySQL's AUTO_INCREMENT spends a number on a conflicting INSERT (upsert, OR IGNORE): later "
                   "rowids, and so meta.last_row_id, run ahead of SQLite's")
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("mysql", 'update "users" set "name" = ?, "verified" = ? where "users"."id" = ? returning "id", "name"'):
        _RETURNING,
    ("mysql", 'select "name" from "users" where "users"."email" like ? order by "name"'): _RETURNING,
    **{("mysql", step[0]): _AUTO_INCREMENT for step in _HANDWRITTEN if "counters" in step[0]},
}
