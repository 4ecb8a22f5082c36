"""What SQLite knows about an expression before it runs: its type, where that is fixed, and its affinity.

SQLite values carry their own type, PostgreSQL and MySQL expressions have one fixed type; the translation
needs to know which SQLite type an expression will produce wherever the servers would produce a different one
(``CAST``, ``round``, text conversion of a REAL, comparisons between text and numbers, ``coalesce`` of
mixed types…). ``value_type`` answers with one of ``INTEGER``, ``REAL``, ``TEXT``, ``BLOB``, ``NULL``,
``NUMERIC`` (a number, integer or real by value: a NUMERIC column, ``sum`` of one) or ``None`` when the type
is only known per value (a bound parameter, ``json_extract``, a CASE whose branches differ).

``affinity`` is SQLite's own notion (https://sqlite.org/datatype3.html §3.2): a column reference has its
column's affinity and ``CAST(x AS T)`` has T's; every other expression has none. Comparisons convert their
operands by it (§4.2), which the servers don't do.

``real_text`` and ``numeric_text`` are SQLite's conversions between REAL and TEXT, in Python, for the values
the translation can fold or the backend converts before binding.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, NoReturn

from sqlglot import exp

from portflare.bindings.d1.base import SqlError
from portflare.bindings.d1.shadow import ColumnInfo
from portflare.bindings.d1.shadow import affinity as declared_affinity

if TYPE_CHECKING:
    from portflare.bindings.d1.translate import Context

INTEGER = "INTEGER"
REAL = "REAL"
TEXT = "TEXT"
BLOB = "BLOB"
NULL = "NULL"
NUMERIC = "NUMERIC"
NUMBERS = frozenset({INTEGER, REAL, NUMERIC})

MIN_INT = -(2**63)
MAX_INT = 2**63 - 1

_INT_LITERAL = re.compile(r"^\d+$")
# A well-formed SQLite number in text (what NUMERIC affinity converts): optional blanks around it.
_NUMBER_TEXT = re.compile(r"^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$")
_INT_PREFIX = re.compile(r"^\s*([+-]?\d+)")
_REAL_PREFIX = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)")

# Functions whose SQLite result type does not depend on their arguments.
_FIXED: dict[type[exp.Expr], str] = {
    exp.Count: INTEGER, exp.Length: INTEGER, exp.StrPosition: INTEGER, exp.Unicode: INTEGER, exp.Rand: INTEGER,
    exp.Avg: REAL, exp.Round: REAL, exp.Lower: TEXT, exp.Upper: TEXT, exp.Trim: TEXT, exp.Replace: TEXT,
    exp.Hex: TEXT, exp.LowerHex: TEXT, exp.GroupConcat: TEXT, exp.DPipe: TEXT, exp.Typeof: TEXT,
    exp.TimeToStr: TEXT, exp.Chr: TEXT, exp.Date: TEXT, exp.CurrentTimestamp: TEXT, exp.CurrentDate: TEXT,
    exp.CurrentTime: TEXT, exp.Like: INTEGER, exp.ILike: INTEGER, exp.Glob: INTEGER, exp.Exists: INTEGER,
    exp.Is: INTEGER, exp.In: INTEGER, exp.Between: INTEGER, exp.Not: INTEGER, exp.And: INTEGER, exp.Or: INTEGER,
    exp.EQ: INTEGER, exp.NEQ: INTEGER, exp.GT: INTEGER, exp.GTE: INTEGER, exp.LT: INTEGER, exp.LTE: INTEGER,
    exp.NullSafeEQ: INTEGER, exp.NullSafeNEQ: INTEGER, exp.Escape: INTEGER, exp.BitwiseAnd: INTEGER,
    exp.BitwiseOr: INTEGER, exp.BitwiseNot: INTEGER, exp.BitwiseLeftShift: INTEGER,
    exp.BitwiseRightShift: INTEGER, exp.Boolean: INTEGER, exp.HexString: BLOB, exp.Null: NULL,
}
_ANONYMOUS: dict[str, str] = {
    "total": REAL, "unixepoch": INTEGER, "datetime": TEXT, "date": TEXT, "time": TEXT, "strftime": TEXT,
    "randomblob": BLOB, "zeroblob": BLOB, "instr": INTEGER, "json_array_length": INTEGER, "json_valid": INTEGER,
    "json_type": TEXT, "json": TEXT, "printf": TEXT, "format": TEXT, "quote": TEXT, "char": TEXT,
    "soundex": TEXT, "julianday": REAL, "changes": INTEGER, "last_insert_rowid": INTEGER,
    "total_changes": INTEGER, "sqlite_version": TEXT, "ltrim": TEXT, "rtrim": TEXT, "trim": TEXT,
    # the helper functions of server_functions.py
    "pf_text": TEXT, "pf_real_text": TEXT, "pf_num_text": TEXT, "pf_int": INTEGER, "pf_int_text": INTEGER,
    "pf_real": REAL, "pf_real_parse": REAL, "pf_numeric": NUMERIC, "pf_blob": BLOB, "pf_round": REAL,
    "pf_length": INTEGER, "pf_lower": TEXT, "pf_upper": TEXT, "pf_json_text": TEXT, "pf_json_num": NUMERIC,
    "pf_json_bool": INTEGER, "pf_json_cmp": INTEGER, "pf_json_cmp_num": INTEGER, "pf_json_cmp_text": INTEGER,
    "pf_int_check": INTEGER, "pf_json_array_length": INTEGER,
}


def cast_affinity(to: exp.DataType) -> str:
    """The affinity (and type) ``CAST(x AS <to>)`` gives, by SQLite's rules for the type name as written
    (sqlglot reads BLOB as VARBINARY; its SQLite spelling would turn NUMERIC into REAL)."""
    if to.this in (exp.DType.VARBINARY, exp.DType.BINARY):
        return BLOB
    return declared_affinity(to.sql())


def value_type(node: exp.Expr | None, context: Context) -> str | None:
    """The SQLite type ``node`` produces for every row, or None when it depends on the value."""
    if node is None:
        return None
    while isinstance(node, exp.Paren):
        node = node.this
    fixed = _FIXED.get(type(node))
    if fixed is not None:
        return fixed
    if isinstance(node, exp.Literal):
        return TEXT if node.is_string else literal_number_type(str(node.this))
    if isinstance(node, exp.Neg):
        if isinstance(node.this, exp.Literal) and str(node.this.this) == str(2**63):
            return INTEGER
        inner = value_type(node.this, context)
        return inner if inner in NUMBERS or inner == NULL else None
    if isinstance(node, exp.Column):
        info = column_info(node, context)
        if info is None:
            return None
        return stored_affinity(info)
    if isinstance(node, exp.Cast):
        kind = cast_affinity(node.to)
        return NUMERIC if kind == NUMERIC else kind
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.IntDiv)):
        return arithmetic_type(value_type(node.this, context), value_type(node.expression, context))
    if isinstance(node, (exp.Sum, exp.Max, exp.Min, exp.Abs)):
        inner = value_type(node.this, context)
        if isinstance(node, exp.Sum) and inner not in (INTEGER, REAL):
            return NUMERIC if inner in (NUMERIC, NULL) else None
        return inner
    if isinstance(node, exp.Sign):
        return INTEGER if value_type(node.this, context) in NUMBERS else None
    if isinstance(node, exp.Substring):
        inner = value_type(node.this, context)
        return BLOB if inner == BLOB else TEXT if inner is not None else None
    if isinstance(node, (exp.Coalesce, exp.Greatest, exp.Least, exp.Case, exp.If, exp.Nullif)):
        return combined(value_type(branch, context) for branch in branches(node))
    if isinstance(node, exp.Subquery):
        select = node.this
        if isinstance(select, exp.Select) and len(select.expressions) == 1:
            item = select.expressions[0]
            return value_type(item.this if isinstance(item, exp.Alias) else item, context)
        return None
    if isinstance(node, exp.Alias):
        return value_type(node.this, context)
    if isinstance(node, exp.Anonymous):
        return _ANONYMOUS.get(str(node.this).lower())
    return None


def branches(node: exp.Expr) -> list[exp.Expr]:
    """The expressions whose value a COALESCE, min/max, CASE, iif or nullif returns."""
    if isinstance(node, (exp.Coalesce, exp.Greatest, exp.Least)):
        return [node.this, *node.expressions]
    if isinstance(node, exp.Case):
        values: list[exp.Expr] = [branch.args["true"] for branch in node.args.get("ifs") or []]
        default = node.args.get("default")
        return [*values, default if default is not None else exp.Null()]
    if isinstance(node, exp.If):
        false = node.args.get("false")
        return [node.args["true"], false if false is not None else exp.Null()]
    if isinstance(node, exp.Nullif):
        return [node.this]
    return []


def combined(types: Iterable[str | None]) -> str | None:
    """One type for values that may come from several expressions (NULL fits any)."""
    seen = {t for t in types if t != NULL}
    if not seen:
        return NULL
    if len(seen) == 1:
        return seen.pop()
    return None


def arithmetic_type(left: str | None, right: str | None) -> str | None:
    if NULL in (left, right):
        return NULL
    if left == INTEGER and right == INTEGER:
        return INTEGER
    if REAL in (left, right) and left in NUMBERS and right in NUMBERS:
        return REAL
    return None


def literal_number_type(text: str) -> str:
    if _INT_LITERAL.match(text) and int(text) <= MAX_INT:
        return INTEGER
    return REAL


def column_info(node: exp.Column, context: Context) -> ColumnInfo | None:
    """The declared column a reference names, when the statement's tables make that certain."""
    if node.table:
        table = context.aliases.get(node.table.lower())
    else:
        table = context.single_table()
    return table.column(node.name) if table is not None else None


def stored_affinity(column: ColumnInfo) -> str:
    """The column's affinity as the servers store it: a DATE, TIME or JSON column (NUMERIC in SQLite, holding
    the text of dates) is a text column there."""
    declared = column.declared.upper()
    if column.affinity == NUMERIC and ("DATE" in declared or "TIME" in declared or "JSON" in declared):
        return TEXT
    return column.affinity


def affinity(node: exp.Expr | None, context: Context) -> str | None:
    """SQLite's affinity of an expression: a column's, a CAST's target, or None (no affinity)."""
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Column):
        info = column_info(node, context)
        return stored_affinity(info) if info is not None else None
    if isinstance(node, exp.Cast):
        return cast_affinity(node.to)
    return None


# --- SQLite's conversions, in Python -----------------------------------------------------------------------

def real_text(value: float) -> str:
    """A REAL as SQLite writes it as TEXT (``printf("%!.15g")``): 2.0 → '2.0', 0.1 + 0.2 → '0.3',
    1e20 → '1.0e+20'."""
    if math.isnan(value):
        return ""
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    text = f"{value:.15g}"
    mantissa, _, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    if mantissa == "-0.0":
        mantissa = "0.0"
    if not exponent:
        return mantissa
    sign = exponent[0]
    digits = exponent[1:].lstrip("0").rjust(2, "0")
    return f"{mantissa}e{sign}{digits}"


def text_of(value: int | float | str | bytes | None) -> str | bytes | None:
    """A value as SQLite's TEXT affinity stores it: numbers become their text."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return real_text(value)
    return value


def numeric_text(text: str) -> int | float | None:
    """A well-formed number in ``text`` as NUMERIC affinity converts it (an integral value becomes an
    INTEGER), or None when the text is not entirely a number."""
    if not _NUMBER_TEXT.match(text):
        return None
    stripped = text.strip()
    try:
        if _INT_LITERAL.match(stripped.lstrip("+-")):
            number = int(stripped)
            if MIN_INT <= number <= MAX_INT:
                return number
        real = float(stripped)
    except ValueError:
        return None
    if real.is_integer() and -(2**53) <= real <= 2**53:
        return int(real)
    return real


def int_prefix(text: str) -> int:
    """``CAST(text AS INTEGER)``: the longest integer prefix, clamped to 64 bits; 0 if there is none."""
    match = _INT_PREFIX.match(text)
    if match is None:
        return 0
    return max(MIN_INT, min(MAX_INT, int(match.group(1))))


def real_prefix(text: str) -> float:
    """``CAST(text AS REAL)``: the longest number prefix as a REAL; 0.0 if there is none."""
    match = _REAL_PREFIX.match(text)
    return float(match.group(1)) if match else 0.0


def truncate_real(value: float) -> int:
    """``CAST(real AS INTEGER)``: towards zero, clamped to 64 bits."""
    if math.isnan(value):
        return 0
    if value >= MAX_INT:
        return MAX_INT
    if value <= MIN_INT:
        return MIN_INT
    return int(value)


# --- bound values MySQL sees only as literals -----------------------------------------------------------------

NO_LIMIT = 18446744073709551615  # MySQL's largest LIMIT: "no limit"
_TYPE_NAMES = {int: "integer", float: "real", str: "text", bytes: "blob", type(None): "null"}


def coerce(value: int | float | str | bytes | None, kind: str) -> int | float | str | bytes | None:
    """A bound value converted as SQLite would convert it at the place the translation marked (``kind``):

    ``text``: a number stored or compared as TEXT; ``numeric``: a text compared with a number column (a text
    that is no number is refused: MySQL would compare it as 0); ``integer``: a value for an INTEGER column (a
    non-integral one is refused: SQLite would store a REAL there); ``limit``/``offset``: a count (negative:
    none); ``typeof``: the value's SQLite type name; ``json``: the value as JSON text of its type.
    """
    if kind == "text":
        return text_of(value)
    if kind == "typeof":
        return _TYPE_NAMES[type(value)]
    if kind == "json":
        if value is None or isinstance(value, bytes):
            return None if value is None else _mismatch("a BLOB in a mixed-type expression")
        return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else text_of(value)
    if kind in ("limit", "offset"):
        count = count_value(value)
        if count < 0:
            return NO_LIMIT if kind == "limit" else 0
        return count
    if isinstance(value, str):
        number = numeric_text(value)
        if number is None:
            return _mismatch(f"'{value}' where a number is expected (SQLite would keep it as TEXT)")
        value = number
    if kind == "integer" and isinstance(value, float):
        if not value.is_integer():
            return _mismatch(f"{real_text(value)} in an INTEGER column (SQLite would store a REAL)")
        return int(value)
    return value


def count_value(value: object) -> int:
    """A LIMIT or OFFSET value as SQLite takes it: an integer, or a REAL or text holding one; anything else is
    refused in SQLite's own words."""
    if isinstance(value, str):
        value = numeric_text(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise SqlError("datatype mismatch", "SQLITE_MISMATCH")
    return value


def _mismatch(what: str) -> NoReturn:
    raise SqlError(f"datatype mismatch: {what}", "SQLITE_MISMATCH")


def coerce_params(args: tuple[int | float | str | bytes | None, ...],
                  kinds: tuple[tuple[int, str], ...]) -> tuple[int | float | str | bytes | None, ...]:
    values = list(args)
    for position, kind in kinds:
        values[position] = coerce(values[position], kind)
    return tuple(values)
