"""``json_extract(x, path)`` and ``x ->> path``, by where the value is used.

SQLite returns a JSON value as an SQL value of its own type: ``null`` is NULL, ``true``/``false`` are 1/0,
numbers are INTEGER or REAL, strings TEXT, objects and arrays their minified JSON text. A server expression has
one type, so the translation depends on the position:

* in the top-level select list, the JSON itself is returned and read back as SQLite values (``sqlite_json``);
* in a comparison, ``IN`` or ``BETWEEN``, a helper compares it with SQLite's cross-type order (NULL < numbers <
  text: ``json_extract(x, '$.b') = 0`` is true for ``false``, a string is greater than any number);
* as a condition (``WHERE json_extract(x, '$.on')``), its truth value; with ``IS NULL``, whether it is NULL;
* in arithmetic and sums, its number; in string functions, ``||``, ``LIKE`` and ``CAST(… AS TEXT)``, its text;
* in ORDER BY, three keys that order NULLs, then numbers, then text, as SQLite orders mixed values.

Anywhere else it is refused by name rather than given a value of the wrong type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp, jsonpath
from sqlglot.errors import ParseError

from portflare.bindings.d1.translate_types import (
    BLOB,
    INTEGER,
    NULL,
    NUMBERS,
    NUMERIC,
    REAL,
    TEXT,
    affinity,
    branches,
    cast_affinity,
    stored_affinity,
    value_type,
)
from portflare.bindings.d1.translate_values import (
    POSTGRES,
    call,
    is_number,
    literal_value,
    result_position,
    server_cast,
    stored_column,
)

if TYPE_CHECKING:
    from portflare.bindings.d1.translate import Context

_JSON = (exp.JSONExtractScalar, exp.JSONExtract)
_FLIP: dict[type[exp.Expr], type[exp.Expr]] = {exp.GT: exp.LT, exp.GTE: exp.LTE, exp.LT: exp.GT, exp.LTE: exp.GTE,
                                              exp.EQ: exp.EQ, exp.NEQ: exp.NEQ}
_CONDITIONS = (exp.Where, exp.Having, exp.And, exp.Or, exp.Not, exp.Filter)
_NUMERIC_USES = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.IntDiv, exp.Neg, exp.Sum, exp.Avg, exp.Abs,
                 exp.Round, exp.Sign)
_TEXT_USES = (exp.DPipe, exp.Lower, exp.Upper, exp.Length, exp.Substring, exp.Replace, exp.Trim, exp.StrPosition,
              exp.GroupConcat, exp.Like, exp.ILike, exp.Glob, exp.Hex, exp.Escape)
_DYNAMIC = (exp.Coalesce, exp.If, exp.Case, exp.Nullif)


def apply(tree: exp.Expr, context: Context) -> list[int]:
    """Rewrite every ``json_extract``; returns the top-level select positions whose value is JSON."""
    for select in tree.find_all(exp.Select):
        _resolve_order_references(select)
    for call_node in list(tree.find_all(exp.Anonymous)):
        if str(call_node.this).lower() == "json_array_length":
            call_node.replace(_array_length(call_node, context))
    positions: list[int] = []
    for node in reversed(list(tree.find_all(*_JSON))):
        if node.parent is None and node is not tree:
            continue
        position = _rewrite(node, context)
        if position is not None:
            positions.append(position)
    return positions


def _path(node: exp.Expr, context: Context) -> list[str | int]:
    if isinstance(node, exp.JSONExtract):
        raise context.error("the -> operator (JSON text of a value)")
    if node.args.get("expressions"):
        raise context.error("json_extract() with several paths")
    path = node.expression
    if not isinstance(path, exp.JSONPath):
        raise context.error("json_extract() with a path that is not a string literal")
    parts: list[str | int] = []
    for part in path.expressions:
        if isinstance(part, exp.JSONPathRoot):
            continue
        if isinstance(part, exp.JSONPathKey) and isinstance(part.this, str):
            parts.append(part.this)
        elif isinstance(part, exp.JSONPathSubscript) and isinstance(part.this, int):
            parts.append(part.this)
        else:
            raise context.error(f"the JSON path {path.sql()}")
    return parts


def _extraction(node: exp.Expr, context: Context, binary: bool) -> exp.Expr:
    """The JSON value at the path (PostgreSQL json, or jsonb where it must be compared for GROUP BY)."""
    parts = _path(node, context)
    if context.dialect == POSTGRES:
        document = server_cast(node.this, "JSONB" if binary else "JSON")
        if not parts:
            return document
        name = "JSONB_EXTRACT_PATH" if binary else "JSON_EXTRACT_PATH"
        return call(name, document, *[exp.Literal.string(str(p)) for p in parts])
    text = "$" + "".join(f"[{p}]" if isinstance(p, int) else _key(p) for p in parts)
    return call("JSON_EXTRACT", node.this, exp.Literal.string(text))


def _array_length(node: exp.Anonymous, context: Context) -> exp.Expr:
    """``json_array_length(x[, path])``: the array's length, 0 for any other JSON value, NULL for no value."""
    args = list(node.expressions)
    if not args or len(args) > 2:
        raise context.error("json_array_length() with these arguments")
    path: exp.Expr = exp.JSONPath(expressions=[exp.JSONPathRoot()])
    if len(args) == 2:
        text = literal_value(args[1])
        if not isinstance(text, str):
            raise context.error("json_array_length() with a path that is not a string literal")
        try:
            path = jsonpath.parse(text)
        except ParseError:
            raise context.error(f"the JSON path '{text}'") from None
    raw = _extraction(exp.JSONExtractScalar(this=args[0], expression=path), context, binary=False)
    if context.dialect == POSTGRES:
        return call("pf_json_array_length", raw)
    kind = call("JSON_TYPE", raw.copy())
    return exp.If(this=exp.Is(this=raw.copy(), expression=exp.Null()), true=exp.Null(), false=exp.If(
        this=exp.EQ(this=kind, expression=exp.Literal.string("ARRAY")), true=call("JSON_LENGTH", raw),
        false=exp.Literal.number(0)))


def _key(key: str) -> str:
    return f".{key}" if key.isidentifier() else '."' + key.replace('"', '\\"') + '"'


def _as_json(value: exp.Expr, context: Context, binary: bool) -> exp.Expr:
    """The helpers take PostgreSQL ``json``."""
    if context.dialect == POSTGRES and binary:
        return server_cast(value, "JSON")
    return value


def _enclosing_select(node: exp.Expr) -> exp.Select | None:
    parent = node.parent
    while parent is not None and not isinstance(parent, exp.Select):
        parent = parent.parent
    return parent


def _grouped(select: exp.Select | None) -> bool:
    """PostgreSQL compares json only as jsonb: GROUP BY, DISTINCT and UNION need it."""
    if select is None:
        return False
    return bool(select.args.get("group") or select.args.get("distinct")) or isinstance(select.parent,
                                                                                        exp.SetOperation)


def _rewrite(node: exp.Expr, context: Context) -> int | None:
    select = _enclosing_select(node)
    binary = _grouped(select)
    raw = _extraction(node, context, binary)
    value, parent = node, node.parent
    while isinstance(parent, exp.Paren):
        value, parent = parent, parent.parent
    pg = context.dialect == POSTGRES

    def helper(name: str) -> exp.Expr:
        return call(name, _as_json(raw.copy(), context, binary))

    column = stored_column(value, context)
    if column is not None or isinstance(parent, exp.ComputedColumnConstraint):
        # A stored value takes the column's affinity: text in a TEXT column, a number in a numeric one.
        if isinstance(parent, exp.ComputedColumnConstraint):
            definition = parent.parent.parent if parent.parent is not None else None
            if not pg:
                raise context.error("a generated column computed with json_extract() (MariaDB allows no stored "
                                    "function there)")
            declared = definition.args.get("kind") if isinstance(definition, exp.ColumnDef) else None
            kind = cast_affinity(declared) if isinstance(declared, exp.DataType) else None  # not in table_info
        else:
            kind = stored_affinity(column) if column is not None else None
        if kind not in (TEXT, INTEGER, REAL, NUMERIC):
            raise context.error("json_extract() stored into a column that is neither TEXT nor numeric")
        value.replace(helper("pf_json_text" if kind == TEXT else "pf_json_num"))
        return None
    item, holder = (parent, parent.parent) if isinstance(parent, exp.Alias) else (value, parent)
    if isinstance(holder, exp.Select) and item.arg_key == "expressions":
        root = node.root()
        top = holder is root or (isinstance(root, exp.SetOperation) and holder.parent is root)
        if not top and not (pg and _is_in_from(holder)):
            raise context.error("json_extract() in the select list of a subquery")
        position = result_position(holder, int(item.index or 0))
        if position is None and not pg:
            raise context.error("json_extract() between two * in the select list")
        value.replace(raw)
        return position if top and not pg else None
    if parent is None:
        raise context.error("json_extract() as a whole statement")
    if isinstance(parent, tuple(_FLIP)):
        _comparison(parent, value, raw, context, binary)
        return None
    if isinstance(parent, exp.In) and value.arg_key == "this":
        if parent.args.get("query") is not None:
            raise context.error("json_extract() IN (a subquery)")
        matches = [exp.EQ(this=_compare_call(raw, entry, context, binary), expression=exp.Literal.number(0))
                   for entry in parent.expressions]
        parent.replace(exp.Paren(this=exp.or_(*matches)) if matches else exp.Boolean(this=False))
        return None
    if isinstance(parent, exp.Between) and value.arg_key == "this":
        low = exp.GTE(this=_compare_call(raw, parent.args["low"], context, binary), expression=exp.Literal.number(0))
        high = exp.LTE(this=_compare_call(raw, parent.args["high"], context, binary),
                       expression=exp.Literal.number(0))
        parent.replace(exp.Paren(this=exp.and_(low, high)))
        return None
    if isinstance(parent, exp.Is):
        value.replace(helper("pf_json_text"))
        return None
    if isinstance(parent, _CONDITIONS) or (isinstance(parent, exp.If) and value.arg_key == "this") or \
            (isinstance(parent, exp.Join) and value.arg_key == "on"):
        value.replace(helper("pf_json_bool"))
        return None
    if isinstance(parent, exp.Ordered):
        if pg and select is not None and (select.args.get("distinct") or isinstance(select.parent,
                                                                                  exp.SetOperation)):
            # PostgreSQL orders a DISTINCT or UNION only by its select list, where the three sort keys are not.
            raise context.error("ORDER BY a json_extract() value of a SELECT DISTINCT or a UNION")
        keys = [helper("pf_json_rank"), helper("pf_json_sortnum"), helper("pf_json_text")]
        order = parent.parent
        position = int(parent.index or 0)
        items = list(order.expressions) if order is not None else []
        expanded = [exp.Ordered(this=key, desc=parent.args.get("desc"), nulls_first=parent.args.get("nulls_first"))
                    for key in keys]
        if order is not None:
            order.set("expressions", items[:position] + expanded + items[position + 1:])
        return None
    if isinstance(parent, exp.Group):
        value.replace(raw)
        return None
    if isinstance(parent, _NUMERIC_USES) or (isinstance(parent, exp.Anonymous) and str(parent.this).lower() == \
            "total"):
        value.replace(helper("pf_json_num"))
        return None
    if isinstance(parent, _TEXT_USES):
        value.replace(helper("pf_json_text"))
        return None
    if isinstance(parent, exp.Cast):
        text = cast_affinity(parent.to) in (TEXT, BLOB)
        value.replace(helper("pf_json_text" if text else "pf_json_num"))
        return None
    if isinstance(parent, _DYNAMIC) and _in_select_list(parent):
        replacement = raw if pg else exp.Nullif(this=raw, expression=exp.Literal.string("null"))
        replacement.meta["json"] = True
        value.replace(replacement)
        return None
    if isinstance(parent, _DYNAMIC):
        others = {value_type(b, context) for b in _siblings(parent, value)} - {NULL}
        if others and others <= NUMBERS:
            value.replace(helper("pf_json_num"))
            return None
        if others == {TEXT}:
            value.replace(helper("pf_json_text"))
            return None
    what = parent.key.upper() if parent is not None else "this statement"
    raise context.error(f"json_extract() inside {what} (its type is only known per value)")


def _is_in_from(select: exp.Select) -> bool:
    return isinstance(select.parent, (exp.Subquery, exp.CTE))


def _in_select_list(node: exp.Expr) -> bool:
    """``node`` is (part of) an item of the statement's top-level select list."""
    child, parent = node, node.parent
    while parent is not None and not isinstance(parent, exp.Select):
        child, parent = parent, parent.parent
    return parent is not None and parent is node.root() and child.arg_key == "expressions"


def _siblings(parent: exp.Expr, value: exp.Expr) -> list[exp.Expr]:
    return [b for b in branches(parent) if b is not value]


def _compare_call(raw: exp.Expr, other: exp.Expr, context: Context, binary: bool) -> exp.Expr:
    """``pf_json_cmp``: -1, 0 or 1 comparing the JSON value with ``other`` by SQLite's order."""
    subject = _as_json(raw.copy(), context, binary)
    if context.dialect == POSTGRES:
        return call("pf_json_cmp", subject, other.copy())
    kind = value_type(other, context)
    literal = literal_value(other)
    if kind in (INTEGER, REAL) or isinstance(literal, (int, float)):
        return call("pf_json_cmp_num", subject, other.copy())
    if kind == TEXT:
        return call("pf_json_cmp_text", subject, other.copy())
    return exp.If(this=is_number(other),  # a bound value: a number or a text, known only when it runs
                  true=call("pf_json_cmp_num", subject, other.copy()),
                  false=call("pf_json_cmp_text", subject.copy(), other.copy()))


def _comparison(node: exp.Expr, value: exp.Expr, raw: exp.Expr, context: Context, binary: bool) -> None:
    left = value.arg_key == "this"
    other = node.expression if left else node.this
    if other.find(*_JSON) is not None:
        raise context.error("a comparison between two json_extract() values")
    if affinity(other, context) == TEXT:  # a TEXT column converts the JSON value to text (§4.2)
        value.replace(call("pf_json_text", _as_json(raw, context, binary)))
        return
    operator = type(node) if left else _FLIP[type(node)]
    node.replace(operator(this=_compare_call(raw, other, context, binary), expression=exp.Literal.number(0)))


def _resolve_order_references(select: exp.Select) -> None:
    """``ORDER BY alias`` or ``ORDER BY 2`` naming a json_extract item: order by the expression itself, so that
    it gets SQLite's ordering of mixed values."""
    order = select.args.get("order")
    if order is None:
        return
    items = {}
    for index, item in enumerate(select.expressions):
        value = item.this if isinstance(item, exp.Alias) else item
        if isinstance(value, _JSON):
            items[str(index + 1)] = value
            if isinstance(item, exp.Alias):
                items[item.alias.lower()] = value
    if not items:
        return
    for ordered in order.expressions:
        key = ordered.this
        name = None
        if isinstance(key, exp.Literal) and not key.is_string:
            name = str(key.this)
        elif isinstance(key, exp.Column) and not key.table:
            name = key.name.lower()
        if name in items:
            ordered.set("this", items[name].copy())
