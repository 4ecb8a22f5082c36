"""The mapping rules, as tables."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from portflare.migrate.ddl import postgres_ddl, schema_from_pg_dump, schema_from_sqlite_sql, sqlite_ddl
from portflare.migrate.model import ForeignKey, Table, fk_order
from portflare.migrate.types import (
    SqlType,
    encoder,
    parse_type,
    pg_decoder,
    pg_native,
    sqlite_default,
    to_postgres,
    to_sqlite,
)

FIXTURE = (Path(__file__).parent / "fixture_pg.sql").read_text()


@pytest.mark.parametrize(("text", "expected"), [
    ("integer", SqlType("integer")),
    ("int4", SqlType("integer")),
    ("bigserial", SqlType("bigint")),
    ("int(11) unsigned", SqlType("integer")),
    ("tinyint(1)", SqlType("boolean")),
    ("character varying(255)", SqlType("varchar", (255,))),
    ("numeric(12,2)", SqlType("numeric", (12, 2))),
    ("DECIMAL(12, 2)", SqlType("numeric", (12, 2))),
    ("timestamp with time zone", SqlType("timestamptz")),
    ("TIMESTAMPTZ", SqlType("timestamptz")),
    ("timestamp(3) without time zone", SqlType("timestamp", (3,))),
    ("datetime", SqlType("timestamp")),
    ("text[]", SqlType("text", (), True)),
    ("_int4", SqlType("integer", (), True)),
    ("enum('a','b')", SqlType("enum")),
    ("float8", SqlType("double precision")),
    ("jsonb", SqlType("jsonb")),
    ("longblob", SqlType("bytea")),
])
def test_parse_type(text: str, expected: SqlType) -> None:
    assert parse_type(text) == expected


@pytest.mark.parametrize(("source", "mode", "sqlite_type", "check", "lossy"), [
    ("bigint", "unix", "INTEGER", None, None),
    ("boolean", "unix", "INTEGER", "{col} IN (0, 1)", None),
    ("numeric(12,2)", "unix", "TEXT", None, "every digit"),
    ("numeric(10,0)", "unix", "INTEGER", None, None),
    ("timestamptz", "unix", "INTEGER", None, "time zone dropped"),
    ("timestamptz", "unixms", "INTEGER", None, "milliseconds"),
    ("timestamp", "iso", "TEXT", None, "ISO-8601"),
    ("jsonb", "unix", "TEXT", "json_valid({col})", "jsonb operators"),
    ("json", "unix", "TEXT", "json_valid({col})", None),
    ("uuid", "unix", "TEXT", None, None),
    ("text[]", "unix", "TEXT", None, "JSON text"),
    ("varchar(10)", "unix", "TEXT", "length({col}) <= 10", None),
    ("bytea", "unix", "BLOB", None, None),
    ("date", "unix", "TEXT", None, None),
    ("inet", "unix", "TEXT", None, "no SQLite counterpart"),
])
def test_to_sqlite(source: str, mode: str, sqlite_type: str, check: str | None, lossy: str | None) -> None:
    mapped = to_sqlite(parse_type(source), mode)  # type: ignore[arg-type]
    assert (mapped.type, mapped.check) == (sqlite_type, check)
    assert (lossy is None) == (mapped.lossy is None)
    if lossy:
        assert lossy in (mapped.lossy or "")


def test_enum_becomes_text_with_check() -> None:
    mapped = to_sqlite(SqlType("enum"), "unix", ("free", "it's"))
    assert mapped.check == "{col} IN ('free', 'it''s')" and "enum" in (mapped.lossy or "")


@pytest.mark.parametrize(("default", "source", "expected"), [
    ("now()", "timestamptz", "(unixepoch())"),
    ("CURRENT_TIMESTAMP", "timestamptz", "(unixepoch())"),
    ("current_timestamp()", "datetime", "(unixepoch())"),
    ("false", "boolean", "0"),
    ("TRUE", "boolean", "1"),
    ("'free'::plan", "enum", "'free'"),
    ("'{}'::text[]", "text[]", "'[]'"),
    ("0", "numeric(12,2)", "'0'"),
    ("42", "integer", "42"),
    ("nextval('users_id_seq'::regclass)", "integer", None),
    ("gen_random_uuid()", "uuid", None),
])
def test_sqlite_default(default: str, source: str, expected: str | None) -> None:
    sql, _dropped = sqlite_default(default, parse_type(source))
    assert sql == expected


def test_dropped_default_says_why() -> None:
    assert "no SQLite equivalent" in (sqlite_default("gen_random_uuid()", SqlType("uuid"))[1] or "")


@pytest.mark.parametrize(("declared", "expected"), [
    ("INTEGER", "bigint"), ("TEXT", "text"), ("REAL", "double precision"), ("BLOB", "bytea"), ("", "bytea"),
    ("BOOLEAN", "boolean"), ("DATETIME", "timestamptz"), ("VARCHAR(20)", "text"), ("NUMERIC", "numeric"),
    ("JSON", "json"), ("DOUBLE", "double precision"),
])
def test_to_postgres(declared: str, expected: str) -> None:
    assert to_postgres(declared).type == expected


STAMP = dt.datetime(2024, 3, 1, 12, 0, 0, 500_000, tzinfo=dt.UTC)


@pytest.mark.parametrize(("value", "mode", "expected"), [
    (STAMP, "unix", 1709294400),
    (STAMP, "unixms", 1709294400500),
    (STAMP, "iso", "2024-03-01T12:00:00.500000Z"),
    (STAMP.replace(tzinfo=None), "unix", 1709294400),
    (dt.datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=dt.UTC), "unix", -1),
    (dt.date(2024, 1, 2), "unix", "2024-01-02"),
    (Decimal("12.50"), "unix", "12.50"),
    (True, "unix", 1),
    (uuid.UUID(int=1), "unix", "00000000-0000-0000-0000-000000000001"),
    (["a", 'b"c'], "unix", '["a","b\\"c"]'),
    (memoryview(b"\x00\xff"), "unix", b"\x00\xff"),
    (None, "unix", None),
    (7, "unix", 7),
])
def test_encoder(value: object, mode: str, expected: object) -> None:
    assert encoder(mode)(value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(("target", "mode", "portable", "expected"), [
    ("boolean", "unix", 1, True),
    ("timestamptz", "unix", 1709294400, dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC)),
    ("timestamptz", "unixms", 1709294400500, STAMP),
    ("timestamptz", "iso", "2024-03-01T12:00:00.500000Z", STAMP),
    ("timestamp", "unix", 1709294400, dt.datetime(2024, 3, 1, 12)),
    ("numeric(12,2)", "unix", "12.50", Decimal("12.50")),
    ("text[]", "unix", '["a","b"]', ["a", "b"]),
    ("integer[]", "unix", "[[1,2],[3,null]]", [[1, 2], [3, None]]),
    ("date", "unix", "2024-01-02", dt.date(2024, 1, 2)),
    ("text", "unix", 5, "5"),
    ("bytea", "unix", b"\x01", b"\x01"),
])
def test_pg_decoder(target: str, mode: str, portable: object, expected: object) -> None:
    decode = pg_decoder(parse_type(target), mode)  # type: ignore[arg-type]
    assert decode is not None and decode(portable) == expected  # type: ignore[arg-type]


def test_decoded_converts_only_columns_asyncpg_cannot_take_as_they_are() -> None:
    from portflare.migrate.postgres import _decoded

    columns = ["bigint", "double precision", "boolean", "text", "bigint"]
    decoders = [(i, d, pg_native(parse_type(t))) for i, t in enumerate(columns)
                if (d := pg_decoder(parse_type(t), "unix"))]
    rows = [(1, 2, 1, "a", 5), (2, None, 0, "b", "6")]  # SQLite can hold text in an INTEGER column
    out = _decoded(rows, decoders)
    assert [list(r) for r in out] == [[1, 2, True, "a", 5], [2, None, False, "b", 6]]
    assert type(out[0][1]) is int  # native for double precision: asyncpg takes an int as it is
    clean = [(1, 2.5, None, "a", 5)]
    assert _decoded(clean, decoders) is clean  # nothing to convert: the rows go to COPY untouched


@pytest.mark.parametrize(("item", "tables", "expected"), [
    ("users:created_at > now()", [], {"users": "created_at > now()"}),
    ("published", ["quizzes"], {"quizzes": "published"}),
    ("created_at > '2024-01-01 10:00'", ["users"], {"users": "created_at > '2024-01-01 10:00'"}),
    ("created_at::date = '2024-01-01'", ["users"], {"users": "created_at::date = '2024-01-01'"}),
    ('"odd ""t""":x = 1', [], {'odd "t"': "x = 1"}),
    ("quizzes:published", ["users"], {"quizzes": "published"}),  # a table named: source_tables refuses it
    ("published", [], None),
    ("created_at > '2024-01-01 10:00'", [], None),
    ("score > 1", ["users", "quizzes"], None),
])
def test_parse_where(item: str, tables: list[str], expected: dict[str, str] | None) -> None:
    from portflare.migrate.data import parse_where
    from portflare.migrate.endpoint import MigrateError

    if expected is None:
        with pytest.raises(MigrateError, match="name the table as TABLE:CONDITION"):
            parse_where([item], tables)
    else:
        assert parse_where([item], tables) == expected


def test_fk_order_parents_first_self_reference_ignored_cycle_last() -> None:
    tables = [Table("results", foreign_keys=[ForeignKey(("u",), "users", ("id",))]),
              Table("users", foreign_keys=[ForeignKey(("ref",), "users", ("id",))]),
              Table("a", foreign_keys=[ForeignKey(("b",), "b", ("id",))]),
              Table("b", foreign_keys=[ForeignKey(("a",), "a", ("id",))])]
    assert [t.name for t in fk_order(tables)] == ["users", "results", "a", "b"]


def test_pg_dump_to_d1_ddl_runs_in_sqlite_and_keeps_constraints() -> None:
    schema = schema_from_pg_dump(FIXTURE)
    assert [t.name for t in schema.tables] == ["users", "quizzes", "quiz_results"]
    users = schema.table("users")
    assert users.primary_key == ("id",) and users.column("id").identity
    assert users.column("plan").enum_values == ("free", "plus", "team")
    ddl = sqlite_ddl(schema)
    text = ddl.text("test")
    assert "-- Lossy mappings" in text and any("users.balance" in n for n in ddl.lossy)
    conn = sqlite3.connect(":memory:")
    conn.executescript(text)
    back = schema_from_sqlite_sql(text)
    results = back.table("quiz_results")
    assert {fk.ref_table for fk in results.foreign_keys} == {"users", "quizzes"}
    assert back.table("users").foreign_keys[0].ref_table == "users"  # self-reference kept
    unique = {i.name: i for i in results.indexes}
    assert unique["quiz_results_user_quiz"].unique and len(unique["quiz_results_user_quiz"].columns) == 3
    assert unique["idx_quiz_results_user"].columns == ('"user_id"', '"created_at" DESC')
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO users (email, plan, balance, tags, created_at) VALUES ('a', 'gold', '0', '[]', 0)")
    conn.execute("INSERT INTO users (email, plan) VALUES ('a', 'plus')")
    assert conn.execute("SELECT is_admin, balance, tags, typeof(created_at) FROM users").fetchone() == (
        0, "0", "[]", "integer")


def test_d1_schema_to_postgres_ddl() -> None:
    sql = Path(__file__).parents[2].joinpath("examples/personality-spark/migrations/0001_init.sql").read_text()
    ddl = postgres_ddl(schema_from_sqlite_sql(sql), "app")
    text = ddl.text("t")
    assert 'CREATE TABLE IF NOT EXISTS "app"."quiz_results"' in text
    assert '"created_at" bigint NOT NULL DEFAULT (EXTRACT(EPOCH FROM now())::bigint)' in text
    assert 'ON "app"."quiz_results" ("user_id", "created_at" DESC)' in text
