"""SQLite's value rules on the servers: conversions, casts and the functions whose answers differ.

Shared by both dialects, run on the parsed statement before the dialect's own passes. Each pass finds the
expressions where PostgreSQL or MySQL would compute another value than SQLite and rewrites them, mostly into
calls of the helper functions of ``server_functions.py``, with the SQLite type of the operands
(``translate_types.value_type``) deciding which rewrite is needed:

* text conversions (``||``, ``CAST(x AS TEXT)``, string functions, columns of TEXT affinity): a REAL is
  written as SQLite writes it (``2.0``, not ``2``);
* ``CAST`` to INTEGER/REAL/NUMERIC/TEXT/BLOB with SQLite's rules (truncation, the numeric prefix of a text);
* comparisons with SQLite's affinity conversions (https://sqlite.org/datatype3.html §4.2): ``name > 2`` on a
  TEXT column compares text, ``flag = 'true'`` on an INTEGER column is false, ``10 = '10'`` is false;
* values stored into INTEGER and TEXT columns converted as the column's affinity would (a non-integral number
  in an INTEGER column is refused: SQLite would keep it as a REAL, the servers would round it);
* (SQLite's functions and mixed-type select items are ``translate_functions.py``'s);
* REAL literals as the servers' double type (``1.0`` is a REAL in SQLite, a decimal on the servers).

Bound parameters that MySQL sees only as literal values get a conversion kind instead (``mark``), applied by
the backend to the value before binding (``translate_types.coerce``).
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from sqlglot import exp

from portflare.bindings.d1.base import SqlError
from portflare.bindings.d1.shadow import ColumnInfo, TableInfo
from portflare.bindings.d1.translate_types import (
    BLOB,
    INTEGER,
    NULL,
    NUMBERS,
    NUMERIC,
    REAL,
    TEXT,
    affinity,
    cast_affinity,
    int_prefix,
    literal_number_type,
    numeric_text,
    real_prefix,
    real_text,
    stored_affinity,
    truncate_real,
    value_type,
)

if TYPE_CHECKING:  # translate.py imports this module
    from portflare.bindings.d1.translate import Context

POSTGRES = "postgres"
MYSQL = "mysql"
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
_CLASS = {INTEGER: 1, REAL: 1, NUMERIC: 1, TEXT: 2, BLOB: 3}
MISMATCH = "SQLITE_MISMATCH"


def call(name: str, *args: exp.Expr) -> exp.Anonymous:
    """A call of a server function (marked, so that later passes don't take it for SQLite's namesake)."""
    node = exp.Anonymous(this=name, expressions=list(args))
    node.meta["server"] = True
    return node


def server_cast(node: exp.Expr, to: str, dialect: str | None = None) -> exp.Cast:
    """A CAST in the server's terms (marked: the CAST pass converts only the statement's own casts)."""
    cast = exp.cast(node, exp.DataType.build(to, dialect=dialect))
    cast.meta["server"] = True
    return cast


def mark(node: exp.Expr, kind: str) -> None:
    """Ask the backend to convert a bound parameter's value by ``kind`` (MySQL only; see coerce())."""
    if isinstance(node, exp.Placeholder):
        node.meta["coerce"] = kind


def number(value: int | float) -> exp.Expr:
    if isinstance(value, float):
        text = repr(value)
        literal = exp.Literal.number(text if text[0] != "-" else text[1:])
        return exp.Neg(this=literal) if value < 0 else literal
    return exp.Literal.number(value) if value >= 0 else exp.Neg(this=exp.Literal.number(-value))


def selects_star(select: exp.Select) -> bool:
    """``*`` or ``t.*`` is among the select items."""
    return any(_is_star(e) for e in select.expressions)


def _is_star(item: exp.Expr) -> bool:
    return isinstance(item, exp.Star) or (isinstance(item, exp.Column) and item.is_star)


def result_position(select: exp.Select, index: int) -> int | None:
    """Where select item ``index`` lands in a result row. A ``*`` expands to columns the translation does not
    count, so behind one the position is counted from the row's end (negative); between two it can't be known
    (None)."""
    items = select.expressions
    if not any(_is_star(e) for e in items[:index]):
        return index
    if not any(_is_star(e) for e in items[index + 1:]):
        return index - len(items)
    return None


class _Computed(Enum):
    VALUE = "computed"


COMPUTED = _Computed.VALUE  # what literal_value() returns for anything but a literal


def literal_value(node: exp.Expr) -> int | float | str | _Computed | None:
    """The value of a literal (a number, a string, NULL, a negated number), or ``COMPUTED``."""
    negate = False
    if isinstance(node, exp.Neg):
        negate, node = True, node.this
    if isinstance(node, exp.Null) and not negate:
        return None
    if not isinstance(node, exp.Literal):
        return COMPUTED
    if node.is_string:
        return COMPUTED if negate else str(node.this)
    text = str(node.this)
    value: int | float = int(text) if literal_number_type(text) == INTEGER else float(text)
    return -value if negate else value


# --- text -----------------------------------------------------------------------------------------------------

def to_text(node: exp.Expr, context: Context) -> exp.Expr:
    """``node`` converted to TEXT as SQLite converts it (a REAL keeps its ``.0``); unchanged when already text."""
    kind = value_type(node, context)
    if kind in (TEXT, NULL):
        return node
    value = literal_value(node)
    if isinstance(value, (int, float)):
        return exp.Literal.string(str(value) if isinstance(value, int) else real_text(value))
    if context.dialect == POSTGRES:
        return node if kind == BLOB else call("pf_text", node)
    if isinstance(node, exp.Placeholder):
        mark(node, "text")
        return node
    if kind == REAL:
        return call("pf_real_text", node)
    if kind == NUMERIC:
        return call("pf_num_text", node)
    if kind == INTEGER:
        return server_cast(node, "CHAR", MYSQL)
    return node


def ascii_case(node: exp.Expr, context: Context, upper: bool) -> exp.Expr:
    """SQLite's lower()/upper(): ASCII letters only."""
    value = literal_value(node)
    if isinstance(value, str):
        folded = "".join(chr(ord(c) - 32) if upper and "a" <= c <= "z" else chr(ord(c) + 32)
                         if not upper and "A" <= c <= "Z" else c for c in value)
        return exp.Literal.string(folded)
    return call("pf_upper" if upper else "pf_lower", to_text(node, context))


# --- the passes -----------------------------------------------------------------------------------------------

def apply(tree: exp.Expr, context: Context) -> None:
    """Comparisons, stored values and casts (then translate_functions, then ``real_literals``)."""
    comparisons(tree, context)
    assignments(tree, context)
    casts(tree, context)


def bottom_up(tree: exp.Expr, *types: type[exp.Expr]) -> list[exp.Expr]:
    return list(reversed(list(tree.find_all(*types))))


def comparisons(tree: exp.Expr, context: Context) -> None:
    """Apply SQLite's comparison affinity (§4.2), and decide comparisons between a number and a text, which
    SQLite never finds equal (numbers sort before text), where the servers would convert one of them."""
    for node in bottom_up(tree, *_COMPARISONS):
        if is_assignment(node):
            continue
        if not _convert_operand(node.this, node.expression, context):
            _convert_operand(node.expression, node.this, context)
        _constant(node, context)
    for node in bottom_up(tree, exp.In, exp.Between):
        subject = node.this
        others = list(node.expressions) if isinstance(node, exp.In) else [node.args["low"], node.args["high"]]
        for other in others:
            if other is not None:
                _convert_operand(subject, other, context)
        if isinstance(node, exp.In) and node.expressions:
            _drop_impossible(node, context)


def is_assignment(node: exp.Expr) -> bool:
    """``SET a = b`` of an UPDATE or an upsert: sqlglot parses it as an ``=`` comparison."""
    return isinstance(node, exp.EQ) and isinstance(node.parent, (exp.Update, exp.OnConflict)) and \
        node.arg_key == "expressions"


def stored_column(node: exp.Expr, context: Context) -> ColumnInfo | None:
    """The column ``node`` is stored into: an UPDATE/upsert SET value, or a position of an INSERT's VALUES row
    or of its SELECT's select list."""
    parent = node.parent
    if isinstance(parent, exp.EQ) and is_assignment(parent) and node.arg_key == "expression":
        owner = parent.parent
        insert = owner.parent if isinstance(owner, exp.OnConflict) else owner
        table = _insert_table(insert, context) if isinstance(insert, exp.Insert) else \
            context.catalog.table(insert.this.name) if isinstance(insert, exp.Update) else None
        return table.column(parent.this.name) if table is not None else None
    row = parent
    if isinstance(row, exp.Alias):
        node, row = row, row.parent
    if isinstance(row, exp.Tuple) and isinstance(row.parent, exp.Values):
        insert = row.parent.parent
    elif isinstance(row, exp.Select) and node.arg_key == "expressions":
        insert = row.parent
    else:
        return None
    if not isinstance(insert, exp.Insert):
        return None
    table = _insert_table(insert, context)
    if table is None:
        return None
    names = _insert_columns(insert, table)
    index = int(node.index or 0)
    return table.column(names[index]) if index < len(names) else None


def _convert_operand(side: exp.Expr, other: exp.Expr, context: Context) -> bool:
    """Convert ``other`` by ``side``'s affinity; True when a rule applied."""
    side_affinity = affinity(side, context)
    other_affinity = affinity(other, context)
    if side_affinity in NUMBERS and other_affinity in (TEXT, BLOB, None):
        _to_number(other, context)
        return True
    if side_affinity == TEXT and other_affinity is None:
        _to_text_operand(other, context)
        return True
    return False


def _to_number(node: exp.Expr, context: Context) -> None:
    value = literal_value(node)
    if isinstance(value, str):
        converted = numeric_text(value)
        if converted is not None:
            node.replace(number(converted))
        return  # a text that is not a number stays text: _constant decides the comparison
    if isinstance(node, exp.Placeholder):
        mark(node, "numeric")
        return
    if value_type(node, context) == TEXT and not isinstance(node, exp.Literal):
        # SQLite converts the text per row (a well-formed number compares as one, any other text as text).
        raise context.error(f"comparing a number column with the text expression {node.sql('sqlite')}")


def _to_text_operand(node: exp.Expr, context: Context) -> None:
    if value_type(node, context) in (TEXT, NULL):
        return
    if isinstance(node, exp.Placeholder) and context.dialect == POSTGRES:
        return  # typed as text by the column it is compared with; the driver converts numbers (postgres.py)
    node.replace(to_text(node.copy(), context))


def _constant(node: exp.Expr, context: Context) -> None:
    """A comparison between values of different storage classes: known without running it (NULL aside)."""
    left, right = node.this, node.expression
    left_type, right_type = value_type(left, context), value_type(right, context)
    if left_type not in _CLASS or right_type not in _CLASS or _CLASS[left_type] == _CLASS[right_type]:
        return
    order = _CLASS[left_type] - _CLASS[right_type]
    results: dict[type[exp.Expr], bool] = {exp.EQ: False, exp.NEQ: True, exp.GT: order > 0, exp.GTE: order > 0,
                                           exp.LT: order < 0, exp.LTE: order < 0}
    result = results[type(node)]
    node.replace(_known(result, [left, right]))


def _known(result: bool, operands: list[exp.Expr]) -> exp.Expr:
    """``result``, or NULL when an operand is NULL (``x = x`` is NULL exactly then), as a predicate."""
    checks = [exp.EQ(this=o.copy(), expression=o.copy()) for o in operands if literal_value(o) is COMPUTED]
    value = exp.and_(*checks) if checks else exp.Boolean(this=True)
    if result:
        return exp.Paren(this=value)
    return exp.Paren(this=exp.Not(this=exp.Paren(this=value)))


def _drop_impossible(node: exp.In, context: Context) -> None:
    """``x IN (…)`` never matches a list value of another storage class (after affinity): drop those."""
    subject_type = value_type(node.this, context)
    if subject_type not in _CLASS:
        return
    keep = [e for e in node.expressions
            if value_type(e, context) not in _CLASS or _CLASS[value_type(e, context) or ""] == _CLASS[subject_type]]
    if len(keep) == len(node.expressions):
        return
    if keep:
        node.set("expressions", keep)
    else:
        node.replace(_known(False, [node.this]))


def assignments(tree: exp.Expr, context: Context) -> None:
    """Values stored into a column, converted as the column's affinity converts them."""
    if isinstance(tree, exp.Insert):
        table = _insert_table(tree, context)
        if table is None:
            return
        columns = _insert_columns(tree, table)
        source = tree.expression
        rows: list[list[exp.Expr]] = []
        if isinstance(source, exp.Values):
            rows = [list(row.expressions) if isinstance(row, exp.Tuple) else [row] for row in source.expressions]
        elif isinstance(source, exp.Select):
            rows = [[e.this if isinstance(e, exp.Alias) else e for e in source.expressions]]
        for row in rows:
            for name, value in zip(columns, row, strict=False):
                _store(value, table.column(name), context)
        conflict = tree.args.get("conflict")
        if isinstance(conflict, exp.OnConflict):
            for update in conflict.expressions or []:
                if isinstance(update, exp.EQ):
                    _store(update.expression, table.column(update.this.name), context)
    elif isinstance(tree, exp.Update):
        table = context.catalog.table(tree.this.name) if isinstance(tree.this, exp.Table) else None
        if table is None:
            return
        for update in tree.expressions:
            if isinstance(update, exp.EQ):
                _store(update.expression, table.column(update.this.name), context)


def _insert_table(tree: exp.Insert, context: Context) -> TableInfo | None:
    target = tree.this
    table = target.this if isinstance(target, exp.Schema) else target
    return context.catalog.table(table.name) if isinstance(table, exp.Table) else None


def _insert_columns(tree: exp.Insert, table: TableInfo) -> list[str]:
    """The columns an INSERT's values go to, in order: those it names, else all of the table's."""
    target = tree.this
    return [e.name for e in target.expressions] if isinstance(target, exp.Schema) else [c.name for c in table.columns]


def _store(value: exp.Expr, column: ColumnInfo | None, context: Context) -> None:
    kind = stored_affinity(column) if column is not None else None
    if kind == INTEGER:
        _store_integer(value, context)
    elif kind == TEXT and isinstance(value, exp.Placeholder):
        mark(value, "text")  # PostgreSQL types it as text from the column; its driver converts (postgres.py)
    elif kind == TEXT and value_type(value, context) in NUMBERS:
        value.replace(to_text(value.copy(), context))


def _store_integer(value: exp.Expr, context: Context) -> None:
    literal = literal_value(value)
    if literal is None or isinstance(literal, int):
        return
    if isinstance(literal, float):
        if literal.is_integer():
            value.replace(number(int(literal)))
            return
        raise SqlError(f"datatype mismatch: {real_text(literal)} in an INTEGER column (SQLite would store a REAL; "
                       f"{_name(context)} cannot)", MISMATCH)
    if isinstance(literal, str):
        converted = numeric_text(literal)
        if isinstance(converted, float) and converted.is_integer():
            converted = int(converted)
        if not isinstance(converted, int):
            raise SqlError(f"datatype mismatch: '{literal}' in an INTEGER column (SQLite would store it as "
                           f"{'a REAL' if converted is not None else 'TEXT'}; {_name(context)} cannot)", MISMATCH)
        value.replace(number(converted))
        return
    if isinstance(value, exp.Placeholder):
        mark(value, "integer")  # PostgreSQL types it from the column, and the backend checks the value
        return
    if isinstance(value, exp.Var) or value_type(value, context) in (INTEGER, NULL):
        return  # DEFAULT, or an integer expression
    copy = value.copy()
    if context.dialect == POSTGRES:
        value.replace(call("pf_int_check", copy))
    else:
        value.replace(exp.Add(this=exp.Paren(this=copy), expression=call("pf_int_check", copy.copy())))


def casts(tree: exp.Expr, context: Context) -> None:
    """``CAST(x AS T)`` with SQLite's conversion rules; literals are converted here, in Python."""
    for node in bottom_up(tree, exp.Cast):
        if not isinstance(node, exp.Cast) or isinstance(node.parent, exp.ColumnDef) or node.meta.get("server"):
            continue
        target = cast_affinity(node.to)
        node.replace(_cast(node.this, target, context))


def _cast(value: exp.Expr, target: str, context: Context) -> exp.Expr:
    literal = literal_value(value)
    if literal is None:
        return exp.Null()
    if literal is not COMPUTED:
        folded = _fold_cast(literal, target)
        if folded is not None:
            return folded
    kind = value_type(value, context)
    if kind == target or kind == NULL or (target == NUMERIC and kind in NUMBERS):
        return value  # CAST of a number to NUMERIC is a no-op in SQLite
    if target == TEXT:
        return to_text(value, context)
    if context.dialect == POSTGRES:
        name = {INTEGER: "pf_int", REAL: "pf_real", NUMERIC: "pf_numeric", BLOB: "pf_blob"}[target]
        return call(name, value)
    return mysql_cast(value, kind, target)


def _fold_cast(value: int | float | str, target: str) -> exp.Expr | None:
    if target == INTEGER:
        if isinstance(value, str):
            return number(int_prefix(value))
        return number(truncate_real(value) if isinstance(value, float) else value)
    if target == REAL:
        return number(float(real_prefix(value) if isinstance(value, str) else value))
    if target == TEXT:
        return exp.Literal.string(value if isinstance(value, str) else str(value) if isinstance(value, int)
                                  else real_text(value))
    if target == NUMERIC:
        if not isinstance(value, str):
            return number(value)
        real = real_prefix(value)
        if real.is_integer() and abs(real) < 2**63:
            return number(int(real))
        return number(real)
    return None


def mysql_cast(value: exp.Expr, kind: str | None, target: str) -> exp.Expr:
    truncated = server_cast(call("TRUNCATE", value, exp.Literal.number(0)), "SIGNED", MYSQL)
    if target == INTEGER:
        if kind in (REAL, NUMERIC, INTEGER):
            return truncated
        if kind in (TEXT, BLOB):
            return call("pf_int_text", value)
        return exp.If(this=is_number(value), true=truncated, false=call("pf_int_text", value.copy()))
    if target == REAL:
        as_double = exp.Add(this=exp.Paren(this=value), expression=exp.Literal.number("0e0"))
        if kind in NUMBERS:
            return as_double
        if kind in (TEXT, BLOB):
            return call("pf_real_parse", value)
        return exp.If(this=is_number(value), true=as_double, false=call("pf_real_parse", value.copy()))
    if target == NUMERIC:
        decimal = server_cast(value, "DECIMAL(65, 30)", MYSQL)
        if kind in NUMBERS:
            return decimal
        parsed = server_cast(call("pf_real_parse", value.copy()), "DECIMAL(65, 30)", MYSQL)
        if kind in (TEXT, BLOB):
            return parsed
        return exp.If(this=is_number(value), true=decimal, false=parsed)
    return server_cast(value, "BINARY", MYSQL)


def is_number(value: exp.Expr) -> exp.Expr:
    """MySQL: true for a numeric value (numbers have the binary collation; text has the database's)."""
    return exp.EQ(this=call("COLLATION", value.copy()), expression=exp.Literal.string("binary"))


def real_literals(tree: exp.Expr, context: Context) -> None:
    """A literal such as ``1.0`` is a REAL (a double) in SQLite, a decimal on the servers."""
    for literal in list(tree.find_all(exp.Literal)):
        if literal.is_string or literal_number_type(str(literal.this)) != REAL:
            continue
        if isinstance(literal.parent, (exp.DataType, exp.DataTypeParam, exp.Limit, exp.Offset)):
            continue
        if isinstance(literal.parent, exp.Neg) and str(literal.this) == str(2**63):
            continue  # -9223372036854775808 is SQLite's smallest INTEGER
        if context.dialect == POSTGRES:
            literal.replace(server_cast(literal.copy(), "DOUBLE PRECISION"))
        elif "e" not in str(literal.this).lower():
            literal.set("this", f"{literal.this}e0")


def _name(context: Context) -> str:
    return "PostgreSQL" if context.dialect == POSTGRES else "MySQL"
