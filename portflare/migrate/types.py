"""Pure mapping rules between PostgreSQL / MySQL column types and D1 (SQLite), and back.

Nothing here does I/O: each rule is a function of a type (or a value) and is tested by a parametrize table.

* ``parse_type`` spells any PostgreSQL or MySQL type as one canonical ``SqlType`` (``timestamptz``,
  ``numeric(12,2)``, ``text[]``...).
* ``to_sqlite`` / ``to_postgres`` give the column type in the other dialect, a CHECK if one keeps the meaning,
  and a note when the mapping loses something (precision, a time zone, enum ordering, array operators).
* ``encoder`` turns a driver's Python value into a *portable* value: one of SQLite's five storage classes
  (None, int, float, str, bytes). Every copy and every checksum goes through portable values, so "the same
  row" means the same thing on both sides. ``pg_decoder`` turns a portable value back into what asyncpg
  expects for a PostgreSQL column type.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import sqlglot
from sqlglot import exp

TimestampMode = Literal["unix", "unixms", "iso"]
TIMESTAMP_MODES: tuple[TimestampMode, ...] = ("unix", "unixms", "iso")
Portable = None | int | float | str | bytes

_SYNONYMS = {
    "int": "integer", "int4": "integer", "mediumint": "integer", "serial": "integer", "serial4": "integer",
    "int8": "bigint", "bigserial": "bigint", "serial8": "bigint", "int2": "smallint", "tinyint": "smallint",
    "smallserial": "smallint", "year": "smallint",
    "decimal": "numeric", "dec": "numeric", "fixed": "numeric",
    "float4": "real", "float": "real", "float8": "double precision", "double": "double precision",
    "bool": "boolean",
    "character varying": "varchar", "character": "char", "bpchar": "char", "nvarchar": "varchar",
    "nchar": "char", "string": "text", "tinytext": "text", "mediumtext": "text", "longtext": "text",
    "citext": "text", "name": "text", "clob": "text",
    "timestamp with time zone": "timestamptz", "timestamp without time zone": "timestamp",
    "datetime": "timestamp", "time with time zone": "timetz", "time without time zone": "time",
    "blob": "bytea", "tinyblob": "bytea", "mediumblob": "bytea", "longblob": "bytea", "binary": "bytea",
    "varbinary": "bytea", "bit varying": "varbit",
}
INTEGERS = frozenset({"integer", "bigint", "smallint"})
TEXTS = frozenset({"text", "varchar", "char"})
TIMESTAMPS = frozenset({"timestamptz", "timestamp"})


@dataclass(frozen=True)
class SqlType:
    base: str  # canonical name: "integer", "numeric", "timestamptz", "varchar", "enum", ...
    params: tuple[int, ...] = ()
    array: bool = False

    def __str__(self) -> str:
        params = f"({','.join(map(str, self.params))})" if self.params else ""
        return f"{self.base}{params}{'[]' * self.array}"


def parse_type(text: str, *, enum: bool = False) -> SqlType:
    """``'character varying(255)'``, ``'NUMERIC(12, 2)'``, ``'int[]'``, ``'_int4'``, ``'tinyint(1)'`` ... as a
    ``SqlType``. ``enum=True`` (the catalogue said so) makes any name an enum."""
    spelled = " ".join(text.strip().lower().split())
    array = spelled.endswith("[]") or spelled.startswith("_") or spelled.startswith("array")
    spelled = spelled.rstrip("[] ").lstrip("_")
    if spelled.startswith("array<") or spelled.startswith("array("):
        spelled = spelled[6:].rstrip(">)")
    if enum or spelled.startswith("enum(") or spelled.startswith("set("):
        return SqlType("enum", (), array)
    spelled = spelled.replace(" unsigned", "").replace(" zerofill", "")
    match = re.match(r"^(.*?)\s*\(([\d,\s]*)\)\s*(.*)$", spelled)
    params: tuple[int, ...] = ()
    if match:
        params = tuple(int(p) for p in match.group(2).split(",") if p.strip())
        spelled = f"{match.group(1)} {match.group(3)}".strip()
    if spelled == "tinyint" and params == (1,):
        return SqlType("boolean", (), array)  # MySQL's BOOLEAN
    base = _SYNONYMS.get(spelled, spelled)
    if base == "timestamptz" or base == "timestamp" or base in TEXTS or base == "numeric":
        return SqlType(base, params, array)
    if base == "real" and params and params[0] > 24:  # float(p) with p > 24 is double precision
        base = "double precision"
    return SqlType(base, () if base in INTEGERS or base in ("real", "double precision") else params, array)


@dataclass(frozen=True)
class Mapped:
    """A column type in the target dialect, the CHECK that keeps its meaning, and what is lost, if anything."""

    type: str
    check: str | None = None  # SQL with ``{col}`` for the quoted column name
    lossy: str | None = None


def to_sqlite(source: SqlType, mode: TimestampMode = "unix",
              enum_values: tuple[str, ...] | None = None) -> Mapped:
    """A PostgreSQL/MySQL type as a D1 (SQLite) column type."""
    base = source.base
    if source.array:
        return Mapped("TEXT", lossy=f"{source} stored as JSON text: use json_each() where the app used ANY() "
                                    "or array operators")
    if base in INTEGERS:
        return Mapped("INTEGER")
    if base == "boolean":
        return Mapped("INTEGER", check="{col} IN (0, 1)")
    if base in ("real", "double precision"):
        return Mapped("REAL")
    if base in ("numeric", "money"):
        if base == "numeric" and len(source.params) == 2 and source.params[1] == 0 and source.params[0] <= 18:
            return Mapped("INTEGER")  # numeric(p,0) with p <= 18 fits SQLite's 64-bit INTEGER exactly
        return Mapped("TEXT", lossy=f"{source} stored as TEXT to keep every digit: SQL arithmetic and "
                                    "ordering see strings (CAST to REAL loses precision)")
    if base in TIMESTAMPS:
        zone = "time zone dropped (stored as UTC); " if base == "timestamptz" else "read as UTC; "
        if mode == "iso":
            return Mapped("TEXT", lossy=f"{base}: {zone}ISO-8601 text")
        unit = "seconds, sub-second part dropped" if mode == "unix" else "milliseconds, microseconds dropped"
        return Mapped("INTEGER", lossy=f"{base}: {zone}unix {unit}")
    if base == "date":
        return Mapped("TEXT")  # ISO YYYY-MM-DD sorts and compares correctly as text
    if base in ("time", "timetz", "interval"):
        return Mapped("TEXT", lossy=f"{base} stored as text" + (": time zone offset kept only as text"
                                                                if base == "timetz" else ""))
    if base in ("json", "jsonb"):
        lossy = "jsonb operators (->, ->>, @>, ?) become SQLite json_extract()/->>" if base == "jsonb" else None
        return Mapped("TEXT", check="json_valid({col})", lossy=lossy)
    if base == "uuid":
        return Mapped("TEXT")
    if base == "bytea":
        return Mapped("BLOB")
    if base in TEXTS:
        if source.params and base != "text":
            return Mapped("TEXT", check=f"length({{col}}) <= {source.params[0]}")
        return Mapped("TEXT")
    if base == "enum":
        values = ", ".join(quote_literal(v) for v in enum_values or ())
        return Mapped("TEXT", check=f"{{col}} IN ({values})" if values else None,
                      lossy="enum stored as TEXT with CHECK IN (...): ordering by enum position is lost")
    return Mapped("TEXT", lossy=f"{source} has no SQLite counterpart: stored as its text form")


def sqlite_affinity(declared: str) -> str:
    """SQLite's column affinity rules (https://sqlite.org/datatype3.html §3.1), in order."""
    upper = declared.upper()
    if "INT" in upper:
        return "INTEGER"
    if any(s in upper for s in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if not upper or "BLOB" in upper:
        return "BLOB"
    if any(s in upper for s in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


def to_postgres(declared: str, *, identity: bool = False) -> Mapped:
    """A D1 (SQLite) declared column type as a PostgreSQL type. Names that say more than their affinity
    (BOOLEAN, DATETIME, JSON, UUID, DATE) keep that meaning; everything else follows SQLite's affinity."""
    upper = declared.upper().strip()
    word = re.split(r"[\s(]", upper, maxsplit=1)[0] if upper else ""
    if identity:
        return Mapped("bigint")
    if word in ("BOOLEAN", "BOOL"):
        return Mapped("boolean")
    if word in ("DATETIME", "TIMESTAMP", "TIMESTAMPTZ"):
        return Mapped("timestamptz", lossy=f"{declared}: SQLite keeps any value; text or unix seconds are "
                                           "read as UTC timestamps")
    if word == "DATE":
        return Mapped("date")
    if word in ("JSON", "JSONB"):
        return Mapped("json")
    if word == "UUID":
        return Mapped("uuid")
    affinity = sqlite_affinity(upper)
    if affinity == "INTEGER":
        return Mapped("bigint")
    if affinity == "TEXT":
        return Mapped("text")
    if affinity == "REAL":
        return Mapped("double precision")
    if affinity == "BLOB":
        return Mapped("bytea", lossy="typeless column: SQLite allows any value; mapped to bytea" if not upper
                      else None)
    return Mapped("numeric", lossy=f"{declared}: NUMERIC affinity holds integers, reals or text in SQLite; "
                                   "PostgreSQL numeric accepts only numbers")


_NOW = re.compile(r"^\(?\s*(now\(\d*\)|current_timestamp(?:\(\d*\))?|localtimestamp|transaction_timestamp\(\)|"
                  r"statement_timestamp\(\)|clock_timestamp\(\))\s*\)?(::[\w\s]+)?$", re.I)
_LITERAL = re.compile(r"^\(?('(?:[^']|'')*'|-?\d+(?:\.\d+)?)\)?(?:::[\w\s.\"]+(?:\[\])?)*$")


def _strip_casts(text: str, dialect: str) -> str:
    """``'free'::plan`` / ``CAST('{}' AS text[])`` → the literal inside; anything else unchanged."""
    try:
        node = sqlglot.parse_one(text, read=dialect)
    except sqlglot.errors.ParseError:
        return text
    while isinstance(node, exp.Cast | exp.Paren):
        node = node.this
    if isinstance(node, exp.Literal | exp.Boolean | exp.Null) or (
            isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal)):
        return node.sql(dialect)
    return text


def sqlite_default(default: str, source: SqlType, mode: TimestampMode = "unix",
                   dialect: str = "postgres") -> tuple[str | None, str | None]:
    """A PostgreSQL/MySQL column default as SQLite can express it: ``(sql, None)`` or ``(None, why dropped)``."""
    text = _strip_casts(default.strip(), dialect)
    lower = text.lower()
    if "nextval(" in lower or lower == "auto_increment":
        return None, None  # identity: SQLite's INTEGER PRIMARY KEY assigns ids itself
    if _NOW.match(text):
        if mode == "iso":
            return "(strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))", None
        if mode == "unixms":
            return "(CAST(unixepoch('subsec') * 1000 AS INTEGER))", None
        return "(unixepoch())", None
    if lower in ("current_date", "(current_date)"):
        return "CURRENT_DATE", None
    if lower.split("::")[0] in ("true", "false", "'t'", "'f'", "b'1'", "b'0'"):
        return ("1" if lower.split("::")[0] in ("true", "'t'", "b'1'") else "0"), None
    if lower.startswith("null"):
        return "NULL", None
    match = _LITERAL.match(text)
    if match:
        literal = match.group(1)
        if source.array and literal.startswith("'{"):
            inner = literal[2:-2]
            items = [item.strip().strip('"') for item in inner.split(",") if item.strip()] if inner else []
            return quote_literal(json.dumps(items, separators=(",", ":"))), None
        if source.base in TIMESTAMPS and literal.startswith("'"):
            return None, f"timestamp literal default {text} dropped (values are stored as {mode})"
        if source.base in ("numeric", "money") and not literal.startswith("'"):
            literal = quote_literal(literal)  # numeric is TEXT in D1: keep the default's exact digits
        return literal, None
    return None, f"default {text} has no SQLite equivalent: dropped (set it in the app)"


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- values ---------------------------------------------------------------------------------------------------

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def timestamp_encoder(mode: TimestampMode) -> Callable[[dt.datetime], Portable]:
    if mode == "unix":
        # datetime.timestamp() is C and ~5x faster than timedelta arithmetic; floor keeps pre-1970 exact too.
        return lambda v: math.floor((v if v.tzinfo is not None else v.replace(tzinfo=dt.UTC)).timestamp())
    if mode == "unixms":
        return lambda v: (_aware(v) - _EPOCH) // dt.timedelta(milliseconds=1)

    def iso(v: dt.datetime) -> str:
        text = _aware(v).astimezone(dt.UTC).replace(tzinfo=None).isoformat()
        return text + "Z"

    return iso


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    raise TypeError(f"cannot store {type(value).__name__} in a JSON array")


def to_json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def encoder(mode: TimestampMode) -> Callable[[Any], Portable]:
    """The driver value → portable value conversion, dispatched on the value's Python type."""
    stamp = timestamp_encoder(mode)
    table: dict[type, Callable[[Any], Portable]] = {
        dt.datetime: stamp,
        dt.date: lambda v: v.isoformat(),
        dt.time: lambda v: v.isoformat(),
        dt.timedelta: str,
        decimal.Decimal: str,
        bool: int,
        uuid.UUID: str,
        list: to_json_text,
        tuple: to_json_text,
        dict: to_json_text,
        bytearray: bytes,
        memoryview: bytes,
        set: lambda v: ",".join(sorted(v)),  # MySQL SET
    }

    def encode(value: Any) -> Portable:
        convert = table.get(type(value))
        if convert is not None:
            return convert(value)
        if isinstance(value, int | float | str | bytes) or value is None:
            return value
        return str(value)

    return encode


def needs_encoding(source: SqlType) -> bool:
    """False when the driver already returns a portable value for every row of this type (the fast path)."""
    return source.array or not (source.base in INTEGERS or source.base in TEXTS
                                or source.base in ("real", "double precision", "enum", "json", "jsonb"))


def _to_datetime(value: Portable, mode: TimestampMode, aware: bool) -> dt.datetime:
    if isinstance(value, int | float):
        seconds = value / 1000 if mode == "unixms" else value
        result = _EPOCH + dt.timedelta(seconds=seconds)
    elif isinstance(value, str):
        result = _aware(dt.datetime.fromisoformat(value))
    else:
        raise ValueError(f"cannot read {value!r} as a timestamp")
    return result if aware else result.astimezone(dt.UTC).replace(tzinfo=None)


def _to_bool(value: Portable) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "t", "true", "yes", "y", "on")
    return bool(value)


def _json_array(value: Portable, element: Callable[[Any], Any]) -> list[Any]:
    items = json.loads(value) if isinstance(value, str | bytes) else value

    def walk(item: Any) -> Any:
        if isinstance(item, list):
            return [walk(i) for i in item]
        return None if item is None else element(item)

    if not isinstance(items, list):
        raise ValueError(f"expected a JSON array, got {value!r}")
    return [walk(i) for i in items]


def pg_decoder(target: SqlType, mode: TimestampMode) -> Callable[[Portable], Any] | None:
    """Portable value → the Python value asyncpg's binary COPY wants for ``target`` (None: pass as is)."""
    scalar = _pg_scalar(target.base, mode)
    if target.array:
        element = scalar or (lambda v: v)
        return lambda v: _json_array(v, element)
    return scalar


_NONE = type(None)


def pg_native(target: SqlType) -> frozenset[type]:
    """The portable value types asyncpg's binary COPY already takes for ``target`` as they are: a column whose
    values all have one of these types skips ``pg_decoder`` (a Python call per value is most of a D1 →
    PostgreSQL copy's cost otherwise)."""
    if target.array:
        return frozenset({_NONE})
    base = target.base
    if base in INTEGERS:
        return frozenset({_NONE, int})
    if base in ("real", "double precision"):
        return frozenset({_NONE, int, float})
    if base in ("numeric", "money"):
        return frozenset({_NONE, int, str})  # not float: Decimal(str(v)) keeps its shortest repr
    if base in TEXTS or base in ("enum", "uuid", "json", "jsonb"):
        return frozenset({_NONE, str})
    if base == "bytea":
        return frozenset({_NONE, bytes})
    return frozenset({_NONE})


def _pg_scalar(base: str, mode: TimestampMode) -> Callable[[Any], Any] | None:
    if base in INTEGERS:
        return int
    if base in ("real", "double precision"):
        return float
    if base in ("numeric", "money"):
        return lambda v: decimal.Decimal(str(v))
    if base == "boolean":
        return _to_bool
    if base in TIMESTAMPS:
        aware = base == "timestamptz"
        return lambda v: _to_datetime(v, mode, aware)
    if base == "date":
        return lambda v: dt.date.fromisoformat(v) if isinstance(v, str) else _to_datetime(v, mode, True).date()
    if base in ("time", "timetz"):
        return lambda v: dt.time.fromisoformat(v)
    if base in ("json", "jsonb"):
        return lambda v: v if isinstance(v, str) else to_json_text(v)
    if base == "bytea":
        return lambda v: v.encode() if isinstance(v, str) else bytes(v)
    if base in TEXTS or base in ("enum", "uuid"):
        return lambda v: v if isinstance(v, str) else str(v)
    return None
