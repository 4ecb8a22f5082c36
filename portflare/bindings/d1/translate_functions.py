"""SQLite's built-in functions where the servers' namesakes answer differently, and select items of mixed type.

* ``round`` (half away from zero), ``substr`` (negative and zero starts), ``length``/``hex``/``instr``/…
  of a number (of its SQLite text), ASCII-only ``lower``/``upper``, ``avg`` as a REAL, ``typeof`` (MySQL:
  where the type is static), ``%`` of REALs and by zero, PostgreSQL's ``GREATEST``/``LEAST`` with NULLs;
* a select-list ``coalesce``/``CASE``/``iif`` whose branches have different SQLite types, which a server would
  unify into one type: each branch is written as JSON of its own type and the row value read back from it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlglot import exp

from portflare.bindings.d1.translate_types import (
    BLOB,
    INTEGER,
    NULL,
    NUMERIC,
    REAL,
    TEXT,
    branches,
    value_type,
)
from portflare.bindings.d1.translate_values import (
    COMPUTED,
    MYSQL,
    POSTGRES,
    ascii_case,
    bottom_up,
    call,
    literal_value,
    mark,
    mysql_cast,
    result_position,
    server_cast,
    to_text,
)

if TYPE_CHECKING:  # translate.py imports this module
    from portflare.bindings.d1.translate import Context

SUBSTR_TO_END = 1_000_000_000  # substr(s, y): SQLite takes up to its length limit, longer than any D1 value


def functions(tree: exp.Expr, context: Context) -> None:
    """SQLite's built-in functions where the servers' namesakes answer differently."""
    for node in bottom_up(tree, exp.Round, exp.Substring, exp.Length, exp.Lower, exp.Upper, exp.Avg,
                           exp.DPipe, exp.GroupConcat, exp.Replace, exp.Trim, exp.StrPosition, exp.Hex,
                           exp.Typeof, exp.Mod, exp.Greatest, exp.Least, exp.Sign):
        replacement = _function(node, context)
        if replacement is not None and replacement is not node:
            node.replace(replacement)


def _function(node: exp.Expr, context: Context) -> exp.Expr | None:
    pg = context.dialect == POSTGRES
    if isinstance(node, exp.Round):
        decimals = node.args.get("decimals")
        return call("pf_round", node.this, decimals if decimals is not None else exp.Literal.number(0))
    if isinstance(node, exp.Substring):
        return _substr(node, context)
    if isinstance(node, exp.Length):
        kind = value_type(node.this, context)
        if pg:
            return None if kind in (TEXT, BLOB) else call("pf_length", node.this)
        if kind in (REAL, NUMERIC):
            node.set("this", to_text(node.this, context))
        return None
    if isinstance(node, (exp.Lower, exp.Upper)):
        return ascii_case(node.this, context, upper=isinstance(node, exp.Upper))
    if isinstance(node, exp.Avg):
        _text_or_value(node, "this", lambda v: server_cast(v, "DOUBLE PRECISION", POSTGRES)
                       if pg else exp.Add(this=exp.Paren(this=v), expression=exp.Literal.number("0e0")))
        return None
    if isinstance(node, exp.DPipe):
        node.set("this", to_text(node.this, context))
        node.set("expression", to_text(node.expression, context))
        return None
    if isinstance(node, exp.GroupConcat):
        _text_or_value(node, "this", lambda v: to_text(v, context))
        return None
    if isinstance(node, (exp.Replace, exp.Trim, exp.StrPosition)):
        for key in ("this", "expression", "replacement", "substr"):
            value = node.args.get(key)
            if isinstance(value, exp.Expr):
                node.set(key, to_text(value, context))
        return None
    if isinstance(node, exp.Hex):
        if value_type(node.this, context) not in (TEXT, BLOB):  # hex() of a number is hex of its text
            node.set("this", to_text(node.this, context))
        return None
    if isinstance(node, exp.Typeof):
        return None if pg else _mysql_typeof(node, context)
    if isinstance(node, exp.Mod):
        return _mod(node, context)
    if isinstance(node, (exp.Greatest, exp.Least)) and pg:
        # SQLite's scalar max()/min() are NULL when any argument is; PostgreSQL's GREATEST/LEAST skip NULLs.
        operands = branches(node)
        nullable = [o for o in operands if literal_value(o) is COMPUTED]
        if not nullable:
            return None
        condition = exp.or_(*[exp.Is(this=o.copy(), expression=exp.Null()) for o in nullable])
        return exp.Case(ifs=[exp.If(this=condition, true=exp.Null())], default=node.copy())
    if isinstance(node, exp.Sign) and pg:
        return server_cast(node.copy(), "BIGINT")
    return None


def _text_or_value(node: exp.Expr, key: str, convert: Callable[[exp.Expr], exp.Expr]) -> None:
    value = node.args.get(key)
    if isinstance(value, exp.Distinct):
        value.set("expressions", [convert(e) for e in value.expressions])
    elif isinstance(value, exp.Expr) and not isinstance(value, exp.Star):
        node.set(key, convert(value))


def _substr(node: exp.Substring, context: Context) -> exp.Expr | None:
    subject, start, length = node.this, node.args.get("start"), node.args.get("length")
    kind = value_type(subject, context)
    if kind != BLOB:
        subject = to_text(subject, context)
        node.set("this", subject)
    start_value = literal_value(start) if start is not None else COMPUTED
    length_value = literal_value(length) if length is not None else None
    if isinstance(start_value, int) and start_value >= 1 and (
            length is None or (isinstance(length_value, int) and length_value >= 0)):
        return None  # 1-based start and a count: the servers' substring agrees
    if start is None:
        return None
    count = length if length is not None else exp.Literal.number(SUBSTR_TO_END)
    if context.dialect == POSTGRES:
        return call("pf_substr", subject if kind in (TEXT, BLOB) else call("pf_text", subject), start, count)
    size = exp.Anonymous(this="CHAR_LENGTH", expressions=[subject.copy()])
    bounds = [call("pf_substr_bound", size.copy(), start.copy(), count.copy(), exp.Literal.number(part))
              for part in (1, 2)]
    return exp.Substring(this=subject, start=bounds[0], length=bounds[1])


def _mysql_typeof(node: exp.Typeof, context: Context) -> exp.Expr:
    value = node.this
    kind = value_type(value, context)
    if isinstance(value, exp.Placeholder):
        mark(value, "typeof")
        return value
    names = {INTEGER: "integer", REAL: "real", TEXT: "text", BLOB: "blob"}
    if kind == NULL:
        return exp.Literal.string("null")
    if kind in names:
        name: exp.Expr = exp.Literal.string(names[kind])
    elif kind == NUMERIC:
        name = exp.If(this=exp.EQ(this=value.copy(), expression=call("TRUNCATE", value.copy(), exp.Literal.number(0))),
                      true=exp.Literal.string("integer"), false=exp.Literal.string("real"))
    else:
        raise context.error(f"typeof() of {value.sql('sqlite')} (its type is only known per value)")
    return exp.Case(ifs=[exp.If(this=exp.Is(this=value.copy(), expression=exp.Null()),
                                true=exp.Literal.string("null"))], default=name)


def _mod(node: exp.Mod, context: Context) -> exp.Expr | None:
    """``x % y``: of the integer parts (a REAL result if either is REAL), NULL when y is 0."""
    left, right = value_type(node.this, context), value_type(node.expression, context)
    real = REAL in (left, right)
    if context.dialect == POSTGRES:
        this = node.this if left == INTEGER else call("pf_int", node.this)
        divisor = node.expression if right == INTEGER else call("pf_int", node.expression)
        result: exp.Expr = exp.Mod(this=this, expression=exp.Nullif(this=divisor, expression=exp.Literal.number(0)))
        return server_cast(exp.Paren(this=result), "DOUBLE PRECISION") if real else result
    if not real:
        return None
    result = exp.Mod(this=mysql_cast(node.this, left, INTEGER), expression=mysql_cast(node.expression, right,
                                                                                          INTEGER))
    return exp.Add(this=exp.Paren(this=result), expression=exp.Literal.number("0e0"))


def mixed_projections(tree: exp.Expr, context: Context) -> list[int]:
    """A select-list coalesce/CASE/iif whose branches have different SQLite types (``coalesce(n, 'none')``,
    ``ifnull(avg(x), 0)``): each branch is written as JSON of its own type and the row value read back from it.
    Returns the positions (MySQL reads them as JSON; PostgreSQL's json type is decoded by the driver)."""
    select = tree
    if not isinstance(select, exp.Select):
        return []
    positions = []
    for index, item in enumerate(select.expressions):
        value = item.this if isinstance(item, exp.Alias) else item
        if not isinstance(value, (exp.Coalesce, exp.Case, exp.If)):
            continue
        types = {value_type(b, context) for b in branches(value)} - {NULL}
        if len(types) <= 1 and None not in types:
            continue
        position = result_position(select, index)
        if position is None and context.dialect != POSTGRES:  # PostgreSQL's json type is decoded by type
            raise context.error("a coalesce/CASE of mixed types between two * in the select list")
        for branch in branches(value):
            if branch.parent is not None:
                branch.replace(_json_of(branch, context))
        if isinstance(value, exp.Case) and value.args.get("default") is None:
            value.set("default", exp.Null())
        if context.dialect == POSTGRES:
            value.replace(server_cast(value.copy(), "JSON"))
        elif position is not None:
            positions.append(position)
    return positions


def _json_of(node: exp.Expr, context: Context) -> exp.Expr:
    """``node``'s value as JSON text of its SQLite type (NULL stays NULL)."""
    kind = value_type(node, context)
    if kind == NULL:
        return exp.Null()
    if context.dialect == POSTGRES:
        return call("pf_json", node.copy())
    if node.meta.get("json"):
        return node.copy()  # json_extract's value, already JSON (translate_json)
    if isinstance(node, exp.Placeholder):
        mark(node, "json")
        return node
    if kind == TEXT:
        return call("JSON_QUOTE", node.copy())
    if kind == INTEGER:
        return server_cast(node.copy(), "CHAR", MYSQL)
    if kind in (REAL, NUMERIC):
        return to_text(node.copy(), context)
    return call("JSON_EXTRACT", call("JSON_ARRAY", node.copy()), exp.Literal.string("$[0]"))
