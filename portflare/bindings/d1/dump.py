"""``wrangler d1 export``'s SQL dump format, written from SQLite's schema (Miniflare's ``dumpSql.ts``,
itself a port of ``sqlite3``'s ``.dump``; D1 runs the same code, so exports match byte for byte).

The walk needs only a ``query(sql) -> (columns, rows)`` callable over SQLite, so any backend that keeps a
SQLite-shaped catalogue can reuse it; the value formatting below is shared by all.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence

from portflare.bindings.d1.base import SqlError, SqlValue

Query = Callable[[str], tuple[tuple[str, ...], list[tuple[SqlValue, ...]]]]

_QUOTED_CREATE = re.compile(r"CREATE TABLE ['\"]")


def escape_id(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _unused(value: str, primary: str, secondary: str) -> str:
    if primary not in value:
        return primary
    if secondary not in value:
        return secondary
    suffix = 0
    while True:
        candidate = f"({primary}{suffix})"
        if candidate not in value:
            return candidate
        suffix += 1


def quote_string(value: str) -> str:
    """A string literal; newlines and carriage returns become ``replace(…,'\\n',char(10))`` as sqlite3 does."""
    has_newline = "\n" in value
    has_return = "\r" in value
    if not has_newline and not has_return:
        return "'" + value.replace("'", "''") + "'"
    newline = _unused(value, "\\n", "\\012")
    carriage = _unused(value, "\\r", "\\015")
    escaped = value.replace("'", "''").replace("\n", newline).replace("\r", carriage)
    output = f"'{escaped}'"
    if has_return:
        output = f"replace({output},'{carriage}',char(13))"
    if has_newline:
        output = f"replace({output},'{newline}',char(10))"
    return output


def format_value(value: SqlValue) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _format_float(value)
    if isinstance(value, str):
        return quote_string(value)
    return "X'" + value.hex() + "'"


def _format_float(value: float) -> str:
    # JS prints numbers shortest-round-trip, with integral doubles bare ("2", not "2.0"). A bare "2" would
    # import as INTEGER, which JS cannot tell apart anyway; we keep REAL columns REAL by writing "2.0".
    if value != value:
        return "NULL"  # SQLite stores NaN as NULL; this cannot come back from a read, but stay valid SQL
    if value in (float("inf"), float("-inf")):
        return "9e999" if value > 0 else "-9e999"
    return repr(value)


def dump_sql(query: Query, *, tables: Sequence[str] = (), no_schema: bool = False,
             no_data: bool = False) -> Iterator[str]:
    """Yield the export's statements in order; raises ``SqlError`` for a virtual table, as D1 refuses them."""
    yield "PRAGMA defer_foreign_keys=TRUE;"
    wanted = set(tables)
    _, schema = query(
        "SELECT name, type, sql FROM sqlite_schema AS o WHERE (true) AND type=='table' AND sql NOT NULL "
        "ORDER BY tbl_name='sqlite_sequence', rowid"
    )
    for name, _type, sql in schema:
        assert isinstance(name, str) and isinstance(sql, str)
        if wanted and name not in wanted:
            continue
        if name == "sqlite_sequence":
            if not no_schema:
                yield "DELETE FROM sqlite_sequence;"
        elif re.match(r"sqlite_stat.", name):
            if not no_schema:
                yield "ANALYZE sqlite_schema;"
        elif sql.startswith("CREATE VIRTUAL TABLE"):
            raise SqlError("D1 Export error: cannot export databases with Virtual Tables (fts5)", "")
        elif name.startswith(("_cf_", "sqlite_")):
            continue
        elif not no_schema:
            # sqlite3's .dump adds IF NOT EXISTS when the table name was quoted; D1 follows it, so do we.
            yield f"CREATE TABLE IF NOT EXISTS {sql[13:]};" if _QUOTED_CREATE.search(sql) else f"{sql};"
        if no_data:
            continue
        _, info = query(f"PRAGMA table_info={escape_id(name)}")
        columns = [str(row[1]) for row in info]
        _, rows = query(f"SELECT {', '.join(escape_id(c) for c in columns)} FROM {escape_id(name)};")
        names = ",".join(escape_id(c) for c in columns)
        for row in rows:
            yield f"INSERT INTO {escape_id(name)} ({names}) VALUES({','.join(format_value(v) for v in row)});"
    if no_schema:
        return
    _, rest = query(
        "SELECT name, sql FROM sqlite_schema AS o WHERE (true) AND sql NOT NULL "
        "AND type IN ('index', 'trigger', 'view') ORDER BY type COLLATE NOCASE"
    )
    for name, sql in rest:
        if wanted and name not in wanted:
            continue
        assert isinstance(sql, str)
        yield f"{sql};"


def sqlite_file(statements: Sequence[str]) -> bytes:
    """An SQLite database file holding what an export's ``statements`` create (for backends that are not
    SQLite, whose ``dump()`` must still hand back an SQLite file)."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript("\n".join(statements))
        return conn.serialize()
    except sqlite3.Error as exc:
        raise SqlError(str(exc)) from exc
    finally:
        conn.close()
