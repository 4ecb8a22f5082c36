"""A schema-only SQLite mirror of a server-hosted D1 database.

PostgreSQL and MySQL hold the data; an in-memory SQLite holds the same *schema* (every DDL statement replayed
in order), so the questions SQLite answers best are asked of SQLite itself:

* validation — each statement is compiled (``EXPLAIN``) before translation, so a typo, an unknown table, column
  or function fails with SQLite's exact message (``near "SELEC": syntax error``, ``no such table: t``);
* the catalogue the translator needs (declared types, the ``INTEGER PRIMARY KEY`` rowid alias, unique keys),
  read from SQLite's own PRAGMAs rather than re-derived by parsing DDL;
* ``PRAGMA table_info`` & co., ``sqlite_schema`` queries and the DDL half of ``wrangler d1 export``.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from portflare.bindings.d1.base import SqlValue
from portflare.bindings.d1.sqlite import sql_error

_AUTOINCREMENT = re.compile(r"\bAUTOINCREMENT\b", re.IGNORECASE)


def affinity(declared: str) -> str:
    """SQLite's column affinity for a declared type (https://sqlite.org/datatype3.html §3.1)."""
    upper = declared.upper()
    if "INT" in upper:
        return "INTEGER"
    if "CHAR" in upper or "CLOB" in upper or "TEXT" in upper:
        return "TEXT"
    if not upper or "BLOB" in upper:
        return "BLOB"
    if "REAL" in upper or "FLOA" in upper or "DOUB" in upper:
        return "REAL"
    return "NUMERIC"


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    name: str
    declared: str  # the declared type as written ("" for none)
    notnull: bool
    pk: int  # position in the primary key, 0 if not part of it

    @property
    def affinity(self) -> str:
        return affinity(self.declared)


@dataclass(frozen=True, eq=False)
class TableInfo:
    name: str
    columns: tuple[ColumnInfo, ...]
    rowid: str | None  # the INTEGER PRIMARY KEY column aliasing the rowid; None: a hidden "rowid" column
    autoincrement: bool
    unique: tuple[tuple[str, ...], ...]  # primary key first, then UNIQUE constraints and unique indexes
    indexed: frozenset[str] = frozenset()  # lower-cased columns in some key, index or foreign key

    def column(self, name: str) -> ColumnInfo | None:
        lowered = name.lower()
        return next((c for c in self.columns if c.name.lower() == lowered), None)

    @property
    def rowid_column(self) -> str:
        return self.rowid or "rowid"


@dataclass(frozen=True, eq=False)
class Catalog:
    """An immutable snapshot of the schema; identity-hashed, so it keys translation caches cheaply."""

    tables: Mapping[str, TableInfo] = field(default_factory=dict)  # by lower-cased name
    names: Mapping[str, str] = field(default_factory=dict)  # lower-cased identifier -> declared spelling
    indexes: Mapping[str, str] = field(default_factory=dict)  # lower-cased index name -> its table

    def table(self, name: str) -> TableInfo | None:
        return self.tables.get(name.lower())


EMPTY_CATALOG = Catalog()


class Shadow:
    """The schema of one database in an in-memory SQLite connection."""

    def __init__(self, ddl: Iterable[str] = ()) -> None:
        self._conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA foreign_keys=ON")
        for sql in ddl:
            self._conn.execute(sql)
        self.catalog = self._read_catalog()

    def close(self) -> None:
        self._conn.close()

    def check(self, sql: str, parameters: int) -> None:
        """Compile ``sql`` against the schema; raise SQLite's own ``SqlError`` if SQLite would refuse it."""
        try:
            self._conn.execute(f"EXPLAIN {sql}", (None,) * parameters)
        except sqlite3.Error as exc:
            raise sql_error(exc) from None

    def query(self, sql: str, params: tuple[SqlValue, ...] = ()) -> tuple[tuple[str, ...], list[tuple[SqlValue, ...]]]:
        """Run a read-only statement (a PRAGMA, a ``sqlite_schema`` query) on the mirror."""
        try:
            cursor = self._conn.execute(sql, params)
            rows: list[tuple[SqlValue, ...]] = cursor.fetchall()
        except sqlite3.Error as exc:
            raise sql_error(exc) from None
        return tuple(d[0] for d in cursor.description or ()), rows

    # --- DDL, applied in step with the server's transaction ------------------------------------------------

    def begin(self) -> None:
        if not self._conn.in_transaction:
            self._conn.execute("BEGIN")

    def apply(self, sql: str) -> None:
        """Run one DDL statement on the mirror (inside ``begin()``); SQLite's refusal raises ``SqlError``."""
        try:
            self._conn.execute(sql)
        except sqlite3.Error as exc:
            raise sql_error(exc) from None
        self.catalog = self._read_catalog()

    def replay(self, ddl: Iterable[str]) -> None:
        """Apply DDL another process already committed on the server (outside any transaction)."""
        for sql in ddl:
            try:
                self._conn.execute(sql)
            except sqlite3.Error:
                continue  # e.g. CREATE TABLE after our own copy of it: the mirror already has it
        self.catalog = self._read_catalog()

    def commit(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("COMMIT")

    def rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")
            self.catalog = self._read_catalog()

    # --- the catalogue -------------------------------------------------------------------------------------

    def _read_catalog(self) -> Catalog:
        conn = self._conn
        tables: dict[str, TableInfo] = {}
        names: dict[str, str] = {}
        rows = conn.execute(
            "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        ).fetchall()
        for name, sql in rows:
            columns = tuple(
                ColumnInfo(str(c[1]), str(c[2] or ""), bool(c[3]), int(c[5]))
                for c in conn.execute(f"PRAGMA table_info({_quote(name)})")
            )
            pk = sorted((c for c in columns if c.pk), key=lambda c: c.pk)
            without_rowid = bool(re.search(r"\bWITHOUT\s+ROWID\s*$", sql or "", re.IGNORECASE))
            rowid = pk[0].name if len(pk) == 1 and pk[0].declared.upper() == "INTEGER" else None
            unique: list[tuple[str, ...]] = [tuple(c.name for c in pk)] if pk else []
            indexed = {c.name.lower() for c in pk}
            for index in conn.execute(f"PRAGMA index_list({_quote(name)})").fetchall():
                cols = tuple(str(r[2]) for r in conn.execute(f"PRAGMA index_info({_quote(index[1])})"))
                indexed.update(c.lower() for c in cols)
                if index[2] and index[3] != "pk" and cols not in unique:
                    unique.append(cols)
            for fk in conn.execute(f"PRAGMA foreign_key_list({_quote(name)})").fetchall():
                indexed.add(str(fk[3]).lower())
            tables[name.lower()] = TableInfo(
                name=name, columns=columns, rowid=rowid if not without_rowid else pk[0].name if pk else None,
                autoincrement=bool(_AUTOINCREMENT.search(sql or "")), unique=tuple(unique),
                indexed=frozenset(indexed),
            )
            names.setdefault(name.lower(), name)
            for column in columns:
                names.setdefault(column.name.lower(), column.name)
        indexes: dict[str, str] = {}
        for name, kind, table_name in conn.execute(
                "SELECT name, type, tbl_name FROM sqlite_schema WHERE type IN ('index', 'view')"):
            names.setdefault(str(name).lower(), str(name))
            if kind == "index":
                indexes[str(name).lower()] = str(table_name)
        return Catalog(tables=tables, names=names, indexes=indexes)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
