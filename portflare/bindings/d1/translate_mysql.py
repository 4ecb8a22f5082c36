"""The MySQL/MariaDB half of the translation (see ``translate.py`` for the shared passes).

MySQL specifics: ``INSERT OR REPLACE`` is MySQL's own ``REPLACE`` (same delete-then-insert semantics),
``INSERT OR IGNORE``/``ON CONFLICT DO NOTHING`` are ``INSERT IGNORE``, ``ON CONFLICT … DO UPDATE`` is
``ON DUPLICATE KEY UPDATE`` with ``excluded.x`` as ``VALUES(x)``. TEXT columns that take part in a key become
``VARCHAR(255)`` (MySQL cannot index a TEXT column whole); plain indexes on TEXT columns index a prefix.
Integer division stays integral when both operands are integers by the schema. ``INSERT … DEFAULT VALUES`` is
``INSERT … VALUES ()``. The helper functions of ``server_functions.py`` are created in every database.
"""

from __future__ import annotations

from sqlglot import exp

from portflare.bindings.d1.base import SqlError
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
    values_rows,
)
from portflare.bindings.d1.translate import (
    dropped_name as _dropped,
)

DIALECT = "mysql"
KEY_TEXT = "VARCHAR(255)"
NUMERIC_DECIMAL = "DECIMAL(65, 30)"
INDEX_PREFIX = 191
MAX_RANDOM_BYTES = 1024
MAX_BLOB = 2_000_000

_STRFTIME = {"Y": "%Y", "m": "%m", "d": "%d", "H": "%H", "M": "%i", "S": "%s", "j": "%j", "w": "%w", "%": "%%"}


def _strftime(fmt: str) -> str | None:
    return strftime_format(fmt, _STRFTIME)


_MONTH_START = "CAST(DATE_FORMAT(__t__, '%Y-%m-01') AS DATETIME(3))"
TIME = TimeDialect(
    now="UTC_TIMESTAMP(3)",
    from_epoch="FROM_UNIXTIME(__v__)",
    from_text="CAST(__v__ AS DATETIME(3))",
    add="__t__ + INTERVAL {n} {unit}",
    add_micros="__t__ + INTERVAL {n} MICROSECOND",
    add_months=f"{_MONTH_START} + INTERVAL {{n}} MONTH + INTERVAL TIMESTAMPDIFF(MICROSECOND, {_MONTH_START}, __t__) "
               "MICROSECOND",
    start_of="CAST(DATE_FORMAT(__t__, '{unit}') AS DATETIME(3))",
    start_units={"day": "%Y-%m-%d", "month": "%Y-%m-01", "year": "%Y-01-01"},
    formats={
        "datetime": "DATE_FORMAT(__t__, '%Y-%m-%d %H:%i:%s')",
        "date": "DATE_FORMAT(__t__, '%Y-%m-%d')",
        "time": "DATE_FORMAT(__t__, '%H:%i:%s')",
        "format": "DATE_FORMAT(__t__, __f__)",
    },
    epoch="CAST(FLOOR(UNIX_TIMESTAMP(__t__)) AS SIGNED)",
    strftime=_strftime,
    special={"f": "CONCAT(DATE_FORMAT(__t__, '%s'), '.', LPAD(FLOOR(MICROSECOND(__t__) / 1000), 3, '0'))"},
)


def translate_tree(tree: exp.Expr, context: Context, original: str) -> Translation:
    if isinstance(tree, exp.Create):
        return _create(tree, context)
    if isinstance(tree, exp.Drop):
        kind = str(tree.args.get("kind") or "").upper()
        name = _dropped(tree)
        if kind == "INDEX" and name is not None:
            owner = context.catalog.indexes.get(name.lower())
            if owner is None:  # IF EXISTS of a missing index: nothing to do, as in SQLite
                return Translation("SELECT 1", kind="ddl", returns_rows=False, verb="RAW")
            index = '`' + context.spell(name).replace('`', '``') + '`'
            on = '`' + owner.replace('`', '``') + '`'
            return Translation(f"DROP INDEX {index} ON {on}", kind="ddl", returns_rows=False, verb="RAW")
        return Translation("", kind="ddl", returns_rows=False, table=_dropped(tree))
    if isinstance(tree, exp.Alter):
        table = context.catalog.table(tree.this.name)
        for action in tree.args.get("actions") or []:
            if isinstance(action, exp.ColumnDef) and table is not None:
                _column_def(action, table, context)
        _expressions(tree, context)
        return Translation("", kind="ddl", returns_rows=False, table=tree.this.name)
    if not isinstance(tree, (exp.Select, exp.SetOperation, exp.Insert, exp.Update, exp.Delete)):
        raise context.error(f"{tree.key.upper()} statements")
    _qualify_late_stars(tree, context)
    resolve_rowid(tree, context)
    name_projections(tree, original)
    json_columns = _expressions(tree, context)
    kind = statement_kind(tree)
    hide = has_star(tree) and any(t.rowid is None for t in context.aliases.values())
    if isinstance(tree, exp.Insert):
        return _insert(tree, context, hide)
    if isinstance(tree, exp.Update):
        if tree.args.get("returning"):
            raise context.error("UPDATE … RETURNING")
        if tree.args.get("from_") or tree.args.get("from"):
            raise context.error("UPDATE … FROM")
    if isinstance(tree, (exp.Update, exp.Delete)):
        if tree.args.get("alternative"):
            raise context.error(f"UPDATE OR {tree.args['alternative']}")
        returns = bool(tree.args.get("returning"))
        return Translation("", kind=kind, returns_rows=returns, table=target_table(tree), hide_rowid=hide)
    return Translation("", kind=kind, hide_rowid=hide, json_columns=json_columns)


def _qualify_late_stars(tree: exp.Expr, context: Context) -> None:
    """MySQL takes a bare ``*`` only as the first select item (``SELECT x, * FROM t`` is a syntax error there);
    SQLite anywhere. A later one becomes ``t.*`` for each table of the FROM clause and its joins, in order,
    which is what SQLite's ``*`` expands to."""
    for select in list(tree.find_all(exp.Select)):
        items = select.expressions
        if not any(isinstance(item, exp.Star) for item in items[1:]):
            continue
        from_ = select.args.get("from_") or select.args.get("from")
        sources = [from_.this] if from_ is not None else []
        sources += [join.this for join in select.args.get("joins") or ()]
        names = [source.alias_or_name for source in sources]
        if not names or not all(names):
            raise context.error("* after other select items, with a source that has no name")
        expanded: list[exp.Expr] = []
        for index, item in enumerate(items):
            if index and isinstance(item, exp.Star):
                expanded += [exp.Column(this=exp.Star(), table=exp.to_identifier(name)) for name in names]
            else:
                expanded.append(item)
        select.set("expressions", expanded)


def _expressions(tree: exp.Expr, context: Context) -> tuple[int, ...]:
    """The passes every statement's expressions get: SQLite's values (``sqlite_semantics``), then this
    dialect's own: date and time functions, integer division. Returns the select positions holding JSON."""
    json_columns = sqlite_semantics(tree, context)
    rewrite_functions(tree, context, lambda name, args, node: _function(name, args, context))
    for division in list(tree.find_all(exp.Div)):
        if _integral(division.this, context) and _integral(division.expression, context):
            division.replace(exp.IntDiv(this=division.this, expression=division.expression))
    return json_columns


def _integral(node: exp.Expr, context: Context) -> bool:
    while isinstance(node, (exp.Paren, exp.Neg)):
        node = node.this
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Mod)):
        return _integral(node.this, context) and _integral(node.expression, context)
    if isinstance(node, exp.Literal):
        return not node.is_string and node.this.lstrip("-").isdigit()
    if isinstance(node, exp.Column):
        table = context.aliases.get(node.table.lower()) if node.table else context.single_table()
        info = table.column(node.name) if table else None
        return info is not None and info.affinity == "INTEGER"
    if isinstance(node, exp.Count):
        return True
    return False


def _function(name: str, args: list[exp.Expr], context: Context) -> exp.Expr | None:
    if name in ("datetime", "date", "time", "unixepoch", "strftime"):
        return time_function(name, args, context, TIME)
    if name == "randomblob" and len(args) == 1:
        size = args[0]
        if isinstance(size, exp.Literal) and not size.is_string and size.this.isdigit():
            if int(size.this) > MAX_BLOB:
                raise SqlError("string or blob too big", "SQLITE_TOOBIG")
            if int(size.this) > MAX_RANDOM_BYTES:
                raise context.error(f"randomblob() of more than {MAX_RANDOM_BYTES} bytes (MySQL's RANDOM_BYTES)")
        return exp.Anonymous(this="RANDOM_BYTES", expressions=args)
    if name == "total" and len(args) == 1:
        return template("COALESCE(SUM(__x__), 0) + 0e0", DIALECT, x=args[0])
    return None


def _insert(tree: exp.Insert, context: Context, hide: bool) -> Translation:
    if tree.args.get("default"):  # INSERT INTO t DEFAULT VALUES
        tree.set("default", None)
        tree.set("this", exp.Schema(this=tree.this, expressions=[]))
        tree.set("expression", exp.Values(expressions=[exp.Tuple(expressions=[])]))
    table = explicit_insert_columns(tree, context)
    alternative = str(tree.args.get("alternative") or "").upper()
    tree.set("alternative", None)
    verb = ""
    conflict = tree.args.get("conflict")
    if isinstance(conflict, exp.OnConflict):
        unwrap_ordered(conflict, target_table(tree))
        action = str(conflict.args.get("action") or "").upper()
        if "NOTHING" in action:
            verb = "INSERT IGNORE"
            tree.set("conflict", None)
        else:
            if conflict.args.get("where"):
                raise context.error("ON CONFLICT … DO UPDATE … WHERE")
            for column in list(conflict.find_all(exp.Column)):
                if column.table.lower() == "excluded":
                    column.replace(exp.Anonymous(this="VALUES", expressions=[exp.column(column.name)]))
            tree.set("conflict", exp.OnConflict(duplicate=True, action=exp.var("UPDATE"),
                                                expressions=conflict.expressions))
    if alternative == "REPLACE":
        verb = "REPLACE"
    elif alternative == "IGNORE":
        verb = "INSERT IGNORE"
    elif alternative not in ("", "ABORT", "FAIL", "ROLLBACK"):
        raise context.error(f"INSERT OR {alternative}")
    upsert = 0
    if verb == "REPLACE" or isinstance(tree.args.get("conflict"), exp.OnConflict):
        upsert = values_rows(tree) or -1  # -1: the rows its SELECT produced (MySQL reports "Records: N")
    returning = tree.args.get("returning")
    generated = table is None or not _explicit_rowids(tree, table)
    return Translation("", kind="insert", returns_rows=returning is not None, verb=verb, generated_rowid=generated,
                       table=table.name if table else None, upsert_rows=upsert, hide_rowid=hide)


def _explicit_rowids(tree: exp.Insert, table: TableInfo) -> bool:
    """Whether every row of the INSERT gives its rowid (MySQL then reports the last one, not the first)."""
    columns = [c.lower() for c in insert_columns(tree)]
    if table.rowid_column.lower() not in columns or not isinstance(tree.expression, exp.Values):
        return False
    position = columns.index(table.rowid_column.lower())
    for row in tree.expression.expressions:
        values = row.expressions if isinstance(row, exp.Tuple) else [row]
        if position >= len(values) or isinstance(values[position], exp.Null):
            return False
    return True


def _create(tree: exp.Create, context: Context) -> Translation:
    kind = str(tree.args.get("kind") or "").upper()
    if kind == "TABLE":
        schema = tree.this
        if not isinstance(schema, exp.Schema):
            raise context.error("CREATE TABLE … AS SELECT")
        table = context.catalog.table(schema.this.name)
        if table is None:
            raise context.error(f"CREATE TABLE {schema.this.name}")
        for item in schema.expressions:
            if isinstance(item, exp.Identifier):
                raise context.error(f'a column without a declared type ("{item.name}", SQLite\'s dynamic typing)')
            if isinstance(item, exp.ColumnDef):
                _column_def(item, table, context)
        hidden = table.rowid is None and table.column("rowid") is None
        if hidden:
            schema.append("expressions", exp.ColumnDef(
                this=exp.to_identifier("rowid"), kind=exp.DataType.build("BIGINT"),
                constraints=[exp.ColumnConstraint(kind=exp.NotNullColumnConstraint()),
                             exp.ColumnConstraint(kind=exp.AutoIncrementColumnConstraint()),
                             exp.ColumnConstraint(kind=exp.UniqueColumnConstraint())]))
        name_checks(schema, context.original, table_level=True)
        tree.set("properties", None)
        _expressions(tree, context)
        after = rowid_triggers(table) if table.rowid is not None or hidden else ()
        return Translation("", kind="ddl", returns_rows=False, table=table.name, after=after)
    if kind == "INDEX":
        unique = bool(tree.args.get("unique"))
        index = tree.this
        table = context.catalog.table(index.args["table"].name) if isinstance(index, exp.Index) and \
            index.args.get("table") is not None else None
        params = index.args.get("params") if isinstance(index, exp.Index) else None
        for ordered in params.args.get("columns") or [] if params is not None else []:
            if not isinstance(ordered.this if isinstance(ordered, exp.Ordered) else ordered, exp.Column):
                raise context.error("an index on an expression (MariaDB indexes columns only)")
        if table is not None and params is not None and not unique:
            for ordered in params.args.get("columns") or []:
                column = ordered.this if isinstance(ordered, exp.Ordered) else ordered
                info = table.column(column.name) if isinstance(column, exp.Column) else None
                if info is not None and _text_like(info.affinity, info.declared):
                    column.replace(exp.Anonymous(this=column.name, expressions=[exp.Literal.number(INDEX_PREFIX)]))
        _expressions(tree, context)
        return Translation("", kind="ddl", returns_rows=False)
    if kind == "VIEW":
        _expressions(tree, context)
        return Translation("", kind="ddl", returns_rows=False)
    raise context.error(f"CREATE {kind}")


def rowid_triggers(table: TableInfo) -> tuple[str, ...]:
    """``last_insert_rowid()``: an AFTER INSERT trigger (which an upsert's update does not fire, as SQLite's
    does not change it) leaves the inserted rowid in ``@pf_rowid``."""
    name = "`" + table.name.replace("`", "``") + "`"
    trigger = "`" + (table.name[:50] + "_rowid").replace("`", "``") + "`"
    col = "`" + table.rowid_column.replace("`", "``") + "`"
    return (f"CREATE TRIGGER IF NOT EXISTS {trigger} AFTER INSERT ON {name} FOR EACH ROW "
            f"SET @pf_rowid = NEW.{col}",)


def _text_like(affinity: str, declared: str) -> bool:
    upper = declared.upper()
    return affinity in ("TEXT", "BLOB") or "DATE" in upper or "TIME" in upper or "JSON" in upper


def _column_def(column: exp.ColumnDef, table: TableInfo, context: Context) -> None:
    info = table.column(column.name)
    if info is None:
        return
    declared = info.declared.upper()
    key = info.name.lower() in table.indexed
    if info.affinity == "INTEGER" or "BOOL" in declared:
        target = "BIGINT"
    elif info.affinity == "TEXT" or "JSON" in declared:
        target = KEY_TEXT if key else "LONGTEXT"
    elif "DATE" in declared or "TIME" in declared:
        target = KEY_TEXT if key else "VARCHAR(64)"
    elif info.affinity == "BLOB":
        target = "VARBINARY(255)" if key else "LONGBLOB"
    elif info.affinity == "REAL":
        target = "DOUBLE"
    else:
        # NUMERIC affinity keeps a whole number as an INTEGER and any other as a REAL, never rounded to a
        # declared scale: the widest exact DECIMAL reads back as both (DECIMAL(10, 2) would round 9.999).
        target = NUMERIC_DECIMAL
    column.set("kind", exp.DataType.build(target, dialect=DIALECT))
    constraints = portable_constraints(column, context)
    if table.rowid is not None and info.name == table.rowid:
        constraints.append(exp.ColumnConstraint(kind=exp.AutoIncrementColumnConstraint()))
    column.set("constraints", constraints)
