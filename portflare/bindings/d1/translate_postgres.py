"""The PostgreSQL half of the translation (see ``translate.py`` for the shared passes).

PostgreSQL specifics: SQLite's 0/1 booleans (``WHERE flag`` becomes ``flag <> 0``, a comparison used as a value
is cast to an integer), ``INSERT OR REPLACE`` becomes ``ON CONFLICT … DO UPDATE`` on the one key the row can
collide on, and every write gets a ``RETURNING`` so the backend learns ``changes`` and ``last_row_id`` without
a second round trip. SQLite's functions that PostgreSQL lacks or computes differently are SQL functions the
backend creates in each database's schema (``server_functions.py``).
"""

from __future__ import annotations

from sqlglot import exp

from portflare.bindings.d1.shadow import TableInfo
from portflare.bindings.d1.translate import (
    Context,
    TimeDialect,
    Translation,
    explicit_insert_columns,
    has_star,
    insert_columns,
    name_checks,
    name_projections,
    portable_constraints,
    resolve_rowid,
    rewrite_functions,
    sqlite_semantics,
    statement_kind,
    strftime_format,
    target_table,
    template,
    time_function,
    unwrap_ordered,
)
from portflare.bindings.d1.translate import (
    dropped_name as _dropped,
)

DIALECT = "postgres"

_STRFTIME = {"Y": "YYYY", "m": "MM", "d": "DD", "H": "HH24", "M": "MI", "S": "SS", "j": "DDD", "f": "SS.MS",
             "%": "%"}


def _strftime(fmt: str) -> str | None:
    return strftime_format(fmt, _STRFTIME, lambda char: f'"{char}"' if char.isalpha() else char)


TIME = TimeDialect(
    now="(NOW() AT TIME ZONE 'UTC')",
    from_epoch="(TO_TIMESTAMP(__v__) AT TIME ZONE 'UTC')",
    from_text="CAST(__v__ AS TIMESTAMP)",
    add="__t__ + INTERVAL '{n} {unit}'",
    add_micros="__t__ + INTERVAL '{n} MICROSECOND'",
    add_months="DATE_TRUNC('month', __t__) + INTERVAL '{n} MONTH' + (__t__ - DATE_TRUNC('month', __t__))",
    start_of="DATE_TRUNC('{unit}', __t__)",
    start_units={"day": "day", "month": "month", "year": "year"},
    formats={
        "datetime": "TO_CHAR(__t__, 'YYYY-MM-DD HH24:MI:SS')",
        "date": "TO_CHAR(__t__, 'YYYY-MM-DD')",
        "time": "TO_CHAR(__t__, 'HH24:MI:SS')",
        "format": "TO_CHAR(__t__, __f__)",
    },
    epoch="CAST(FLOOR(EXTRACT(EPOCH FROM __t__)) AS BIGINT)",
    strftime=_strftime,
    special={"w": "CAST(CAST(EXTRACT(DOW FROM __t__) AS INTEGER) AS TEXT)"},  # 0 = Sunday, as SQLite's %w
)

_PREDICATES = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Is, exp.In, exp.Between, exp.Like,
               exp.ILike, exp.Exists, exp.And, exp.Or, exp.Not, exp.Escape, exp.NullSafeEQ, exp.NullSafeNEQ,
               exp.RegexpLike)


def translate_tree(tree: exp.Expr, context: Context, original: str) -> Translation:
    if isinstance(tree, exp.Create):
        return _create(tree, context)
    if isinstance(tree, exp.Drop):
        return Translation("", kind="ddl", returns_rows=False, table=_dropped(tree))
    if isinstance(tree, exp.Alter):
        for action in tree.args.get("actions") or []:
            if isinstance(action, exp.ColumnDef):
                table = context.catalog.table(tree.this.name)
                if table is not None:
                    _column_def(action, table, context)
        _expressions(tree, context)
        return Translation("", kind="ddl", returns_rows=False, table=tree.this.name)
    if not isinstance(tree, (exp.Select, exp.SetOperation, exp.Insert, exp.Update, exp.Delete)):
        raise context.error(f"{tree.key.upper()} statements")
    resolve_rowid(tree, context)
    name_projections(tree, original)
    _expressions(tree, context)
    kind = statement_kind(tree)
    hide = has_star(tree) and any(t.rowid is None for t in context.aliases.values())
    if isinstance(tree, exp.Insert):
        return _insert(tree, context, hide)
    if isinstance(tree, (exp.Update, exp.Delete)):
        if tree.args.get("alternative"):
            raise context.error(f"UPDATE OR {tree.args['alternative']}")
        if tree.args.get("returning"):
            return Translation("", kind=kind, table=target_table(tree), hide_rowid=hide)
        tree.set("returning", exp.Returning(expressions=[exp.Literal.number(1)]))
        return Translation("", kind=kind, returns_rows=False, extra_column=True, table=target_table(tree))
    return Translation("", kind=kind, hide_rowid=hide)


def _expressions(tree: exp.Expr, context: Context) -> None:
    """The passes every statement's expressions get: SQLite's values (``sqlite_semantics``), then this
    dialect's own: date and time functions, blobs, booleans."""
    sqlite_semantics(tree, context)
    rewrite_functions(tree, context, lambda name, args, node: _function(name, args, node, context))
    for blob in list(tree.find_all(exp.HexString)):
        blob.replace(exp.Anonymous(this="DECODE", expressions=[exp.Literal.string(str(blob.this)),
                                                                exp.Literal.string("hex")]))
    _booleans(tree)


def _function(name: str, args: list[exp.Expr], node: exp.Expr, context: Context) -> exp.Expr | None:
    if name in ("datetime", "date", "time", "unixepoch", "strftime"):
        return time_function(name, args, context, TIME)
    if name == "total" and len(args) == 1:
        return template("CAST(COALESCE(SUM(__x__), 0) AS DOUBLE PRECISION)", DIALECT, x=args[0])
    return None


def _booleans(tree: exp.Expr) -> None:
    """SQLite has no boolean type: TRUE is 1, a condition is any non-zero value, a comparison yields 0/1."""
    for boolean in list(tree.find_all(exp.Boolean)):
        boolean.replace(exp.Literal.number(1 if boolean.this else 0))
    for node in list(tree.find_all(exp.Where, exp.Having, exp.Join, exp.If, exp.Not, exp.And, exp.Or,
                                   exp.CheckColumnConstraint)):
        if isinstance(node, exp.If) and isinstance(node.parent, exp.Case) and node.parent.this is not None:
            continue  # CASE x WHEN v: v is compared with x, not a condition
        keys = {exp.Join: ("on",), exp.And: ("this", "expression"), exp.Or: ("this", "expression")}.get(
            type(node), ("this",))
        for key in keys:
            value = node.args.get(key)
            if isinstance(value, exp.Expr) and not _is_predicate(value):
                node.set(key, exp.NEQ(this=exp.Paren(this=value), expression=exp.Literal.number(0)))
    for predicate in list(tree.find_all(*_PREDICATES)):
        if not _in_condition(predicate):
            predicate.replace(exp.cast(exp.Paren(this=predicate.copy()), exp.DataType.build("INT")))


def _is_predicate(node: exp.Expr) -> bool:
    while isinstance(node, exp.Paren):
        node = node.this
    return isinstance(node, _PREDICATES)


def _in_condition(node: exp.Expr) -> bool:
    parent = node.parent
    if isinstance(parent, (exp.Update, exp.OnConflict)) and node.arg_key == "expressions":
        return True  # SET a = b: an assignment, not a comparison
    while isinstance(parent, exp.Paren):
        node, parent = parent, parent.parent
    if isinstance(parent, (exp.Where, exp.Having, exp.Not, exp.And, exp.Or, exp.Escape, exp.CheckColumnConstraint)):
        return True
    if isinstance(parent, exp.Join):
        return node.arg_key == "on"
    if isinstance(parent, exp.If):
        return node.arg_key == "this"
    return isinstance(parent, exp.Filter)


def _insert(tree: exp.Insert, context: Context, hide: bool) -> Translation:
    table = explicit_insert_columns(tree, context)
    alternative = str(tree.args.get("alternative") or "").upper()
    tree.set("alternative", None)
    conflict = tree.args.get("conflict")
    if isinstance(conflict, exp.OnConflict):
        unwrap_ordered(conflict, target_table(tree))
    if alternative == "IGNORE" and conflict is None:
        tree.set("conflict", exp.OnConflict(action=exp.var("DO NOTHING")))
    elif alternative == "REPLACE":
        _replace(tree, table, context)
    elif alternative not in ("", "ABORT", "FAIL", "ROLLBACK"):
        raise context.error(f"INSERT OR {alternative}")
    returning = tree.args.get("returning")
    marker: exp.Expr = exp.column(table.rowid_column) if table else exp.Literal.number(1)
    if table is not None and conflict is not None and alternative != "REPLACE":
        # An upsert that updates leaves last_insert_rowid() alone: only inserted rows (xmax = 0) report one.
        marker = exp.Case(ifs=[exp.If(this=exp.EQ(this=exp.column("xmax"), expression=exp.Literal.number(0)),
                                      true=marker)])
    if returning is not None:
        returning.append("expressions", marker)
        return Translation("", kind="insert", extra_column=True, table=table.name if table else None,
                           hide_rowid=hide)
    tree.set("returning", exp.Returning(expressions=[marker]))
    return Translation("", kind="insert", returns_rows=False, extra_column=True,
                       table=table.name if table else None)


def _replace(tree: exp.Insert, table: TableInfo | None, context: Context) -> None:
    """SQLite's REPLACE deletes the row(s) the new one collides with; with one possible key, an upsert that
    resets unlisted columns to their defaults does the same."""
    if table is None:
        raise context.error("INSERT OR REPLACE into a table not created through this binding")
    listed = {c.lower() for c in insert_columns(tree)}
    if table.rowid and table.rowid.lower() not in listed:
        keys = [u for u in table.unique if all(c.lower() in listed for c in u)]
    else:
        keys = [u for u in table.unique if all(c.lower() in listed for c in u)]
    if len(keys) > 1:
        raise context.error("INSERT OR REPLACE into a table where the row can collide on several UNIQUE keys")
    if not keys:
        return  # nothing it could collide with: a plain INSERT
    key = {c.lower() for c in keys[0]}
    updates = []
    for column in table.columns:
        if column.name.lower() in key:
            continue
        value: exp.Expr = (exp.column(column.name, table="excluded") if column.name.lower() in listed
                           else _new_rowid(table) if column.name == table.rowid else exp.var("DEFAULT"))
        updates.append(exp.EQ(this=exp.column(column.name), expression=value))
    if table.rowid is None and table.column("rowid") is None:
        updates.append(exp.EQ(this=exp.column("rowid"), expression=_new_rowid(table)))
    if not updates:
        first = keys[0][0]
        updates.append(exp.EQ(this=exp.column(first), expression=exp.column(first, table="excluded")))
    tree.set("conflict", exp.OnConflict(action=exp.var("DO UPDATE"), expressions=updates,
                                        conflict_keys=[exp.to_identifier(c) for c in keys[0]]))


def _new_rowid(table: TableInfo) -> exp.Expr:
    """The rowid SQLite gives the row REPLACE re-inserts: one above the others' (the replaced row is gone)."""
    column, name = exp.to_identifier(table.rowid_column), exp.to_identifier(table.name)
    others = exp.select(exp.func("COALESCE", exp.func("MAX", exp.column(column, table="pf_other")),
                                 exp.Literal.number(0)))
    others = others.from_(exp.Table(this=name, alias=exp.TableAlias(this=exp.to_identifier("pf_other"))))
    others = others.where(exp.NEQ(this=exp.column(column, table="pf_other"), expression=exp.column(column, table=name)))
    return exp.Add(this=exp.Subquery(this=others), expression=exp.Literal.number(1))


def _create(tree: exp.Create, context: Context) -> Translation:
    kind = str(tree.args.get("kind") or "").upper()
    if kind == "TABLE":
        schema = tree.this
        if not isinstance(schema, exp.Schema):
            raise context.error("CREATE TABLE … AS SELECT")
        name = schema.this.name
        table = context.catalog.table(name)
        if table is None:
            raise context.error(f"CREATE TABLE {name}")
        for item in schema.expressions:
            if isinstance(item, exp.Identifier):
                raise context.error(f'a column without a declared type ("{item.name}", SQLite\'s dynamic typing)')
            if isinstance(item, exp.ColumnDef):
                _column_def(item, table, context)
        for reference in schema.find_all(exp.Reference):
            reference.set("options", [*(reference.args.get("options") or []), "DEFERRABLE INITIALLY IMMEDIATE"])
        hidden = table.rowid is None and table.column("rowid") is None
        if hidden:
            schema.append("expressions", exp.ColumnDef(
                this=exp.to_identifier("rowid"), kind=exp.DataType.build("BIGINT"),
                constraints=[exp.ColumnConstraint(kind=exp.UniqueColumnConstraint())]))
        name_checks(schema, context.original, table_level=False)
        tree.set("properties", None)
        _expressions(tree, context)
        after: tuple[str, ...] = ()
        if table.rowid is not None or hidden:
            quoted = '"' + table.name.replace('"', '""') + '"'
            trigger = '"' + f"{table.name}_rowid"[:63].replace('"', '""') + '"'
            literal = "'" + table.rowid_column.replace("'", "''") + "'"
            mode = "'autoincrement'" if table.autoincrement else "'rowid'"
            after = (f"CREATE OR REPLACE TRIGGER {trigger} BEFORE INSERT ON {quoted} FOR EACH ROW "
                     f"EXECUTE FUNCTION pf_rowid({literal}, {mode})",)
        return Translation("", kind="ddl", returns_rows=False, table=table.name, after=after)
    if kind in ("INDEX", "VIEW"):
        _expressions(tree, context)
        return Translation("", kind="ddl", returns_rows=False)
    raise context.error(f"CREATE {kind}")


def _column_def(column: exp.ColumnDef, table: TableInfo, context: Context) -> None:
    info = table.column(column.name)
    if info is None:
        return
    declared = info.declared.upper()
    collate = False
    if info.affinity == "INTEGER":
        target = "BIGINT"
    elif info.affinity == "TEXT" or "DATE" in declared or "TIME" in declared or "JSON" in declared:
        target, collate = "TEXT", True
    elif info.affinity == "BLOB":
        target = "BYTEA"
    elif info.affinity == "REAL":
        target = "DOUBLE PRECISION"
    elif "BOOL" in declared:
        target = "BIGINT"
    else:
        target = "NUMERIC"
    column.set("kind", exp.DataType.build(target, dialect=DIALECT))
    constraints = portable_constraints(column, context)
    if collate:
        constraints.append(exp.ColumnConstraint(
            kind=exp.CollateColumnConstraint(this=exp.Identifier(this="C", quoted=True))))
    column.set("constraints", constraints)
