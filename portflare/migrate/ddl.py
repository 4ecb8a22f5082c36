"""Schemas from DDL text and DDL out.

In: a ``pg_dump --schema-only`` file (parsed by sqlglot, dialect postgres), or SQLite DDL (a ``.sql`` file or
a ``wrangler d1 export --no-data``), which SQLite itself reads: we run it in an in-memory database and ask the
catalogue, so no SQL is parsed by hand. Out: D1/SQLite DDL from any schema, PostgreSQL DDL from a D1 one, both
with every lossy mapping listed in a header comment and returned for the report.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from portflare.migrate.model import Column, ForeignKey, Index, Schema, Table, fk_order
from portflare.migrate.types import (
    TimestampMode,
    parse_type,
    quote_ident,
    sqlite_default,
    to_postgres,
    to_sqlite,
)


@dataclass
class Ddl:
    statements: list[str] = field(default_factory=list)
    lossy: list[str] = field(default_factory=list)  # "table.column: what is lost"

    def text(self, title: str) -> str:
        lines = [f"-- {title}"]
        if self.lossy:
            lines.append("-- Lossy mappings (review before switching the app over):")
            lines.extend(f"--   {note}" for note in self.lossy)
        else:
            lines.append("-- No lossy mappings.")
        return "\n".join(lines) + "\n\n" + "\n\n".join(self.statements) + "\n"


# -- PostgreSQL DDL (pg_dump --schema-only) ------------------------------------------------------------------

def _name(node: exp.Expression | None) -> str:
    if isinstance(node, exp.Schema):
        node = node.this
    if isinstance(node, exp.Table):
        return node.name
    if isinstance(node, exp.Identifier | exp.Column):
        return node.name
    return node.sql("postgres") if node is not None else ""


def _names(nodes: list[exp.Expression]) -> tuple[str, ...]:
    return tuple(_name(n) for n in nodes)


def _fk(node: exp.ForeignKey) -> ForeignKey:
    reference = node.args["reference"]
    options = " ".join(str(o) for o in reference.args.get("options") or []).upper()

    def action(on: str) -> str | None:
        for verb in ("CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT"):
            if f"ON {on} {verb}" in options:
                return verb
        return None

    target = reference.this
    return ForeignKey(_names(node.expressions), _name(target), _names(target.expressions),
                      action("DELETE"), action("UPDATE"))


def index_from_sql(node: exp.Create) -> tuple[str, Index] | None:
    """``CREATE [UNIQUE] INDEX`` (as pg_dump and pg_get_indexdef write it) → (table, Index)."""
    index = node.this
    if not isinstance(index, exp.Index):
        return None
    params = index.args.get("params")
    parts = []
    for column in params.args.get("columns") or [] if params else []:
        inner = column.this if isinstance(column, exp.Ordered) else column
        while isinstance(inner, exp.Paren):
            inner = inner.this
        text = quote_ident(inner.name) if isinstance(inner, exp.Column) else f"({inner.sql('postgres')})"
        if isinstance(column, exp.Ordered) and column.args.get("desc"):
            text += " DESC"
        parts.append(text)
    return _name(index.args.get("table")), Index(index.name, tuple(parts), bool(node.args.get("unique")))


def _apply_constraint(table: Table, constraint: exp.Expression, name: str) -> None:
    if isinstance(constraint, exp.PrimaryKey):
        table.primary_key = _names(constraint.expressions)
    elif isinstance(constraint, exp.UniqueColumnConstraint):
        schema = constraint.this
        columns = _names(schema.expressions) if isinstance(schema, exp.Schema) else ()
        table.indexes.append(Index(name or f"{table.name}_{'_'.join(columns)}_key",
                                   tuple(quote_ident(c) for c in columns), True))
    elif isinstance(constraint, exp.ForeignKey):
        table.foreign_keys.append(_fk(constraint))


def parse_postgres(sql: str) -> list[exp.Expression]:
    # sqlglot logs every statement it keeps as an opaque Command (OWNER TO, sequences); those are expected here.
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return [n for n in sqlglot.parse(sql, read="postgres", error_level=sqlglot.ErrorLevel.IGNORE)
                if isinstance(n, exp.Expression)]
    finally:
        logger.setLevel(level)


def schema_from_pg_dump(sql: str) -> Schema:
    """A ``pg_dump --schema-only`` file (or any PostgreSQL DDL) as a ``Schema``. Statements other than types,
    tables, constraints, defaults and indexes (SET, OWNER, COMMENT, sequences, grants) are ignored."""
    enums: dict[str, tuple[str, ...]] = {}
    tables: dict[str, Table] = {}
    pending_indexes: list[tuple[str, Index]] = []
    for node in parse_postgres(sql):
        if isinstance(node, exp.Create):
            kind = str(node.args.get("kind") or "").upper()
            if kind == "TYPE" and isinstance(node.expression, exp.DataType):
                enums[_name(node.this)] = tuple(str(e.this) for e in node.expression.expressions)
            elif kind == "TABLE" and isinstance(node.this, exp.Schema):
                table = _table_from_create(node.this, enums)
                tables[table.name] = table
            elif kind == "INDEX":
                found = index_from_sql(node)
                if found:
                    pending_indexes.append(found)
        elif isinstance(node, exp.Alter) and _name(node.this) in tables:
            table = tables[_name(node.this)]
            for action in node.args.get("actions") or []:
                if isinstance(action, exp.AddConstraint):
                    for constraint in action.expressions:
                        for inner in constraint.expressions if isinstance(constraint, exp.Constraint) else [constraint]:
                            _apply_constraint(table, inner, _name(constraint.this)
                                              if isinstance(constraint, exp.Constraint) else "")
                elif isinstance(action, exp.AlterColumn) and action.args.get("default") is not None:
                    _set_default(table, action.name, action.args["default"].sql("postgres"))
    for table_name, index in pending_indexes:
        if table_name in tables:
            tables[table_name].indexes.append(index)
    return Schema("postgres", fk_order(list(tables.values())))


def _set_default(table: Table, column: str, default: str) -> None:
    for i, col in enumerate(table.columns):
        if col.name == column:
            identity = "nextval(" in default.lower()
            table.columns[i] = Column(col.name, col.type, col.nullable, None if identity else default,
                                      col.enum_values, identity or col.identity)


def _table_from_create(schema: exp.Schema, enums: dict[str, tuple[str, ...]]) -> Table:
    table = Table(_name(schema.this))
    for item in schema.expressions:
        if isinstance(item, exp.ColumnDef):
            kind = item.args.get("kind")
            type_text = kind.sql("postgres").lower() if kind is not None else "text"
            bare = type_text.rstrip("[]").split(".")[-1].strip('"')
            values = enums.get(bare)
            nullable, default, identity = True, None, False
            for constraint in item.constraints:
                c = constraint.kind
                if isinstance(c, exp.NotNullColumnConstraint):
                    nullable = bool(c.args.get("allow_null"))
                elif isinstance(c, exp.DefaultColumnConstraint):
                    default = c.this.sql("postgres")
                elif isinstance(c, exp.PrimaryKeyColumnConstraint):
                    table.primary_key = (item.name,)
                    nullable = False
                elif isinstance(c, exp.GeneratedAsIdentityColumnConstraint):
                    identity = True
                elif isinstance(c, exp.UniqueColumnConstraint):
                    table.indexes.append(Index(f"{table.name}_{item.name}_key", (quote_ident(item.name),), True))
                elif isinstance(c, exp.Reference):
                    target = c.this
                    table.foreign_keys.append(ForeignKey((item.name,), _name(target), _names(target.expressions)))
            if type_text in ("serial", "bigserial", "smallserial"):
                identity = True
            if default is not None and "nextval(" in default.lower():
                identity, default = True, None
            if values is not None:
                type_text = "enum" + ("[]" if type_text.endswith("[]") else "")
            table.columns.append(Column(item.name, type_text, nullable, default, values, identity))
        elif isinstance(item, exp.Constraint):
            for inner in item.expressions:
                _apply_constraint(table, inner, item.name)
        else:
            _apply_constraint(table, item, "")
    return table


# -- SQLite DDL ----------------------------------------------------------------------------------------------

def schema_from_sqlite(conn: sqlite3.Connection) -> Schema:
    """The user tables of a SQLite database, from its catalogue (PRAGMA table_info / index_list / ...)."""
    tables = []
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table' AND sql NOT NULL "
                                        "AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY rowid")]
    for name in names:
        table = Table(name)
        q = quote_ident(name)
        info = conn.execute(f"PRAGMA table_info({q})").fetchall()
        pk = sorted((r[5], r[1]) for r in info if r[5])
        table.primary_key = tuple(c for _, c in pk)
        for _cid, col, decl, notnull, default, pk_pos in info:
            rowid_alias = len(pk) == 1 and pk_pos == 1 and str(decl).upper() == "INTEGER"
            table.columns.append(Column(col, str(decl).lower(), not notnull and not rowid_alias, default,
                                        identity=rowid_alias))
        fks: dict[int, list[tuple[str, str, str, str, str]]] = {}
        for fid, _seq, ref, src, dst, on_update, on_delete, _match in conn.execute(f"PRAGMA foreign_key_list({q})"):
            fks.setdefault(fid, []).append((ref, src, dst, on_update, on_delete))
        for parts in fks.values():
            ref = parts[0][0]
            ref_cols = tuple(p[2] for p in parts)
            if not all(ref_cols):  # REFERENCES parent without columns: the parent's primary key
                ref_cols = tuple(r[1] for r in conn.execute(f"PRAGMA table_info({quote_ident(ref)})") if r[5])
            table.foreign_keys.append(ForeignKey(
                tuple(p[1] for p in parts), ref, ref_cols,
                None if parts[0][4] == "NO ACTION" else parts[0][4],
                None if parts[0][3] == "NO ACTION" else parts[0][3]))
        for _seq, index_name, unique, origin, _partial in conn.execute(f"PRAGMA index_list({q})"):
            if origin == "pk":
                continue
            sql_row = conn.execute("SELECT sql FROM sqlite_schema WHERE name = ?", (index_name,)).fetchone()
            columns = []
            for _n, cid, col, desc, *_rest in conn.execute(f"PRAGMA index_xinfo({quote_ident(index_name)})"):
                if cid == -1 or not _rest[1]:  # the rowid, or an auxiliary column
                    continue
                columns.append(quote_ident(col) + (" DESC" if desc else "") if col is not None else "(expr)")
            if "(expr)" in columns and sql_row and sql_row[0]:
                parsed = sqlglot.parse_one(sql_row[0], read="sqlite")
                found = index_from_sql(parsed) if isinstance(parsed, exp.Create) else None
                columns = list(found[1].columns) if found else columns
            table.indexes.append(Index(index_name if origin == "c" else f"{name}_{'_'.join(columns)}_key".replace(
                '"', ""), tuple(columns), bool(unique)))
        table_sql = conn.execute("SELECT sql FROM sqlite_schema WHERE name = ?", (name,)).fetchone()[0]
        table.checks = _sqlite_checks(table_sql)
        tables.append(table)
    return Schema("sqlite", fk_order(tables))


def _sqlite_checks(create_sql: str) -> list[str]:
    """The CHECK expressions of a CREATE TABLE (column and table constraints alike), as SQLite SQL."""
    try:
        node = sqlglot.parse_one(create_sql, read="sqlite")
    except sqlglot.errors.ParseError:
        return []
    checks: list[str] = []
    for item in node.this.expressions if isinstance(node.this, exp.Schema) else []:
        constraints = [c.kind for c in item.constraints] if isinstance(item, exp.ColumnDef) else [item]
        checks.extend(c.this.sql("sqlite") for c in constraints if isinstance(c, exp.CheckColumnConstraint))
    return checks


def _pg_checks(table: Table) -> tuple[dict[str, str], list[str]]:
    """Type hints from our own D1 CHECKs (``x IN (0, 1)`` → boolean, ``json_valid(x)`` → json) and the other
    CHECKs translated to PostgreSQL."""
    hints: dict[str, str] = {}
    rest = []
    for check in table.checks:
        for column in table.columns:
            q = quote_ident(column.name)
            if check == f"{q} IN (0, 1)" and "INT" in column.type.upper():
                hints[column.name] = "boolean"
                break
            if check.upper() == f"JSON_VALID({q.upper()})":
                hints[column.name] = "json"
                break
        else:
            try:
                rest.append(sqlglot.transpile(check, read="sqlite", write="postgres")[0])
            except sqlglot.errors.ParseError:
                continue
    return hints, rest


def schema_from_sqlite_sql(sql: str) -> Schema:
    """SQLite DDL text (a D1 migration, ``wrangler d1 export``) → ``Schema``, read by SQLite itself."""
    from portflare.bindings.d1.splitter import file_statements

    conn = sqlite3.connect(":memory:")
    try:
        for statement in file_statements(sql):
            if statement.lstrip().upper().startswith(("INSERT", "PRAGMA", "DELETE", "ANALYZE")):
                continue
            conn.execute(statement)
        return schema_from_sqlite(conn)
    finally:
        conn.close()


def _index_sql(table: str, index: Index, write: str, read: str) -> str:
    columns = []
    for column in index.columns:
        if column.startswith("(") and read != write:
            column = "(" + sqlglot.transpile(column[1:-1], read=read, write=write)[0] + ")"
        columns.append(column)
    unique = "UNIQUE " if index.unique else ""
    return (f"CREATE {unique}INDEX IF NOT EXISTS {quote_ident(index.name)} ON {quote_ident(table)} "
            f"({', '.join(columns)});")


def _fk_sql(fk: ForeignKey) -> str:
    text = (f"FOREIGN KEY ({', '.join(map(quote_ident, fk.columns))}) REFERENCES {quote_ident(fk.ref_table)} "
            f"({', '.join(map(quote_ident, fk.ref_columns))})")
    if fk.on_delete:
        text += f" ON DELETE {fk.on_delete}"
    if fk.on_update:
        text += f" ON UPDATE {fk.on_update}"
    return text


def sqlite_ddl(schema: Schema, mode: TimestampMode = "unix") -> Ddl:
    """D1/SQLite DDL for ``schema`` (from PostgreSQL, MySQL or SQLite), FK-safe ordered."""
    ddl = Ddl()
    for table in fk_order(schema.tables):
        lines, notes = [], []
        single_pk = table.primary_key[0] if len(table.primary_key) == 1 else None
        for column in table.columns:
            q = quote_ident(column.name)
            if schema.dialect == "sqlite":
                declared = column.type.upper()
                line = f"{q} {declared}".rstrip()
                default = column.default
            else:
                source = parse_type(column.type, enum=column.enum_values is not None)
                mapped = to_sqlite(source, mode, column.enum_values)
                if mapped.lossy:
                    notes.append(f"{table.name}.{column.name}: {mapped.lossy}")
                declared = mapped.type
                line = f"{q} {declared}"
                default = None
                if column.default is not None:
                    default, dropped = sqlite_default(column.default, source, mode, schema.dialect)
                    if dropped:
                        notes.append(f"{table.name}.{column.name}: {dropped}")
                if mapped.check:
                    line += f" CHECK ({mapped.check.format(col=q)})"
            if column.name == single_pk:
                line += " PRIMARY KEY"
            # Only INTEGER PRIMARY KEY (the rowid) refuses NULL by itself; any other SQLite primary key takes
            # NULLs (https://sqlite.org/lang_createtable.html#the_primary_key), so it keeps its NOT NULL.
            if not column.nullable and not (column.name == single_pk and declared == "INTEGER"):
                line += " NOT NULL"
            if default is not None:
                line += f" DEFAULT {default}"
            lines.append(line)
        if len(table.primary_key) > 1:
            lines.append(f"PRIMARY KEY ({', '.join(map(quote_ident, table.primary_key))})")
        lines.extend(_fk_sql(fk) for fk in table.foreign_keys)
        if schema.dialect == "sqlite":
            lines.extend(f"CHECK ({check})" for check in table.checks)
        elif table.checks:
            notes.append(f"{table.name}: CHECK constraints not carried over: {'; '.join(table.checks)}")
        body = ",\n    ".join(lines)
        comment = "".join(f"-- lossy: {n}\n" for n in notes)
        ddl.statements.append(f"{comment}CREATE TABLE IF NOT EXISTS {quote_ident(table.name)} (\n    {body}\n);")
        ddl.lossy.extend(notes)
        read = {"postgres": "postgres", "mysql": "mysql"}.get(schema.dialect, "sqlite")
        for index in table.indexes:
            ddl.statements.append(_index_sql(table.name, index, "sqlite", read))
    return ddl


def postgres_ddl(schema: Schema, namespace: str = "public") -> Ddl:
    """PostgreSQL DDL for a D1/SQLite ``schema``, tables qualified by ``namespace``."""
    if schema.dialect != "sqlite":
        raise ValueError("PostgreSQL DDL is written from a D1/SQLite schema")
    ddl = Ddl()
    qualified = quote_ident(namespace) + "."
    for table in fk_order(schema.tables):
        lines, notes = [], []
        hints, checks = _pg_checks(table)
        for column in table.columns:
            mapped = to_postgres(hints.get(column.name, column.type), identity=column.identity)
            if mapped.lossy:
                notes.append(f"{table.name}.{column.name}: {mapped.lossy}")
            line = f"{quote_ident(column.name)} {mapped.type}"
            if column.identity:
                line += " GENERATED BY DEFAULT AS IDENTITY"
            if not column.nullable:
                line += " NOT NULL"
            if column.default is not None:
                default, dropped = _pg_default(column.default, mapped.type)
                if dropped:
                    notes.append(f"{table.name}.{column.name}: {dropped}")
                elif default is not None:
                    line += f" DEFAULT {default}"
            lines.append(line)
        if table.primary_key:
            lines.append(f"PRIMARY KEY ({', '.join(map(quote_ident, table.primary_key))})")
        lines.extend(_fk_sql(fk).replace("REFERENCES ", f"REFERENCES {qualified}") for fk in table.foreign_keys)
        lines.extend(f"CHECK ({check})" for check in checks)
        comment = "".join(f"-- lossy: {n}\n" for n in notes)
        ddl.statements.append(f"{comment}CREATE TABLE IF NOT EXISTS {qualified}{quote_ident(table.name)} (\n    "
                              + ",\n    ".join(lines) + "\n);")
        ddl.lossy.extend(notes)
        for index in table.indexes:
            statement = _index_sql(table.name, index, "postgres", "sqlite")
            ddl.statements.append(statement.replace(f" ON {quote_ident(table.name)}",
                                                    f" ON {qualified}{quote_ident(table.name)}"))
    return ddl


def _pg_default(default: str, pg_type: str) -> tuple[str | None, str | None]:
    text = default.strip()
    lower = text.lower().replace(" ", "")
    if lower in ("(unixepoch())", "unixepoch()", "(strftime('%s','now'))"):
        return ("CURRENT_TIMESTAMP" if pg_type == "timestamptz" else "(EXTRACT(EPOCH FROM now())::bigint)"), None
    if lower in ("current_timestamp", "(current_timestamp)", "(datetime('now'))"):
        return ("CURRENT_TIMESTAMP" if pg_type in ("timestamptz", "date") else
                "(to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'))"), None
    if pg_type == "boolean" and lower in ("0", "1", "(0)", "(1)", "true", "false"):
        return ("true" if lower.strip("()") in ("1", "true") else "false"), None
    try:
        return sqlglot.transpile(text, read="sqlite", write="postgres")[0], None
    except sqlglot.errors.ParseError:
        return None, f"default {text} dropped: not valid PostgreSQL"
