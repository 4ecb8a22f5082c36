"""D1's value conversion, limits and error wording, applied once above every backend.

Messages follow local workerd/Miniflare, where SQLite's own message and primary code name follow
``D1_ERROR: `` (D1 compiles SQLite with its limits, so over-limit input gets SQLite's wording).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, NoReturn

from portflare.bindings.d1.base import SqlError, SqlValue, Statement
from portflare.bindings.d1.splitter import TRANSACTION_WORDS, StatementInfo, analyze
from portflare.errors import JsException
from portflare.jsobject import JsDict, JsList, py_value

MAX_STATEMENT_BYTES = 100_000
MAX_VALUE_BYTES = 2_000_000  # a string, a BLOB or a whole row
MAX_SAFE_INTEGER = 2**53 - 1

NO_STATEMENTS = "No SQL statements detected."
ONLY_LAST_HAS_PARAMS = (
    "When executing multiple SQL statements in a single call, only the last statement can have parameters."
)
TRANSACTIONS_REFUSED = (
    "To execute a transaction, please use the state.storage.transaction() or state.storage.transactionSync() "
    "APIs instead of the SQL BEGIN TRANSACTION or SAVEPOINT statements. The JavaScript API is safer because it "
    "will automatically roll back on exceptions, and because it interacts correctly with Durable Objects' "
    "automatic atomic write coalescing."
)


# The PRAGMAs D1 runs (workerd's allowlist, plus the schema-reading ones D1's docs list); any other is refused
# as "not authorized", which also keeps a Worker from changing the journal mode or locking under us.
ALLOWED_PRAGMAS = frozenset({
    "table_list", "table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list",
    "foreign_key_check", "quick_check", "optimize", "data_version", "case_sensitive_like", "foreign_keys",
    "defer_foreign_keys", "ignore_check_constraints", "legacy_alter_table", "recursive_triggers",
    "reverse_unordered_selects",
})


def d1_error(message: str, *, prefix: str = "D1_ERROR", cause: str | None = None) -> JsException:
    """``new Error("D1_ERROR: " + msg, {cause: new Error(msg)})``, as workerd raises it."""
    error = JsException(f"{prefix}: {message}")
    error.__cause__ = JsException(message if cause is None else cause)
    return error


def bare_message(exc: BaseException) -> str:
    """A D1 error's JS ``cause`` message (``no such table: t: SQLITE_ERROR``), as wrangler prints failures."""
    cause = exc.__cause__
    if isinstance(exc, JsException) and isinstance(cause, JsException):
        return cause.message
    return str(exc)


def reraise(error: JsException) -> NoReturn:
    """Raise a ``d1_error`` inside ``except``: its JS-style cause stands in for the backend's exception."""
    raise error from error.__cause__


# --- values -------------------------------------------------------------------------------------------------

def _js_typeof(value: Any) -> str:
    if callable(value):
        return "function"
    if isinstance(value, int) and not isinstance(value, bool):
        return "bigint"
    return "object"


def _js_string(value: Any) -> str:
    if isinstance(value, dict):
        return "[object Object]"
    if isinstance(value, (list, tuple)):
        return ",".join("" if v is None else _js_string(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def bind_value(value: Any) -> SqlValue:
    """One ``bind()`` argument as SQLite will store it, or ``D1_TYPE_ERROR`` as workerd raises at ``bind``.

    None → NULL; bool → 1/0; int and float; str; bytes-likes and lists of ints 0..255 → BLOB. An int beyond
    ±(2**53 - 1) is refused as ``'bigint'``: Pyodide passes such an int to JS as a BigInt, which D1 refuses.
    """
    kind = type(value)
    if kind is str or (kind is int and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER) or value is None:
        return value  # type: ignore[no-any-return]  # the common cases first: this runs per bound value
    if isinstance(value, (str, float)):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return value
    elif isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    else:
        value = py_value(value)  # to_js(...) results and JsProxy-likes
        if isinstance(value, (list, tuple)) and all(
            isinstance(b, int) and not isinstance(b, bool) and 0 <= b < 256 for b in value
        ):
            return bytes(value)
        if isinstance(value, (str, float, bytes, bytearray, memoryview)):
            return bind_value(value)
    raise d1_error(f"Type '{_js_typeof(value)}' not supported for value '{_js_string(value)}'",
                   prefix="D1_TYPE_ERROR")


def bind_values(values: tuple[Any, ...]) -> tuple[SqlValue, ...]:
    """``bind_value`` of each of ``values``; the tuple itself when all are text, NULL or safe integers, as
    bound values mostly are (they need no conversion, and a point query saves building a second tuple)."""
    for value in values:
        kind = type(value)
        if kind is not str and value is not None and (
                kind is not int or not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER):
            return tuple(map(bind_value, values))
    return values


def read_value(value: SqlValue) -> Any:
    """A column value as a Worker on Cloudflare receives it.

    BLOB → list of byte values (D1 returns ``number[]``). Numbers cross JS as doubles, and Pyodide turns a
    safe-integer double into ``int``: so ``2.0`` reads as ``2`` and integers beyond 2**53 lose precision as
    floats — exactly what the same Worker sees on Cloudflare.
    """
    kind = type(value)
    if kind is str or value is None:  # the common cases first: this runs once per column of every row
        return value
    if kind is int:
        return value if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else float(value)  # type: ignore[operator]
    if isinstance(value, bytes):
        return JsList(value)
    if isinstance(value, int):
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return value
        return float(value)
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_SAFE_INTEGER:
        return int(value)
    return value


def read_row(columns: Sequence[str], row: Sequence[SqlValue]) -> JsDict:
    """A row object; with duplicate column names the later column wins, as in JS ``Object.fromEntries``.

    ``row`` has one value per column (the driver's own description), so ``zip`` needs no ``strict`` check,
    which would add a third to the cost of a point query's row.
    """
    for value in row:  # most rows hold only text, NULLs and safe integers, which read as themselves
        kind = type(value)
        if kind is not str and value is not None and (
                kind is not int or not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER):  # type: ignore[operator]
            return JsDict(zip(columns, map(read_value, row)))  # noqa: B905
    return JsDict(zip(columns, row))  # noqa: B905


# --- statements ---------------------------------------------------------------------------------------------

def _size(value: SqlValue) -> int:
    if isinstance(value, str):
        # UTF-8 is at most 4 bytes a character: only long strings need encoding to be measured.
        return len(value) if len(value) * 4 <= MAX_VALUE_BYTES else len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, bytes):
        return len(value)
    return 8


def check_statement(info: StatementInfo) -> None:
    """Refuse what D1 refuses before running anything: transactions, reserved names, over-long SQL.

    Raises ``SqlError``, as the database would, so callers word it like any other failure.
    """
    if info.first_word in TRANSACTION_WORDS:
        raise SqlError(TRANSACTIONS_REFUSED, "")
    if info.reserved_name or (info.first_word == "PRAGMA" and info.pragma not in ALLOWED_PRAGMAS):
        raise SqlError("not authorized", "SQLITE_AUTH")
    if len(info.sql) * 4 > MAX_STATEMENT_BYTES and len(info.sql.encode()) > MAX_STATEMENT_BYTES:
        raise SqlError("statement too long", "SQLITE_TOOBIG")
    if info.parameter_error is not None:
        message, offset = info.parameter_error
        raise SqlError(message, offset=offset)


def check_params(params: Sequence[SqlValue]) -> None:
    """Refuse a bound string or BLOB, or a row of them, over D1's 2,000,000-byte limit (SQLite's wording)."""
    total = 0
    for value in params:
        kind = type(value)
        if kind is int or kind is float or value is None:  # _size inlined for the common cases
            size = 8
        elif kind is str and len(value) * 4 <= MAX_VALUE_BYTES:  # type: ignore[arg-type]
            size = len(value)  # type: ignore[arg-type]
        else:
            size = _size(value)
        total += size
        if size > MAX_VALUE_BYTES or total > MAX_VALUE_BYTES:
            raise SqlError("string or blob too big", "SQLITE_TOOBIG")


@lru_cache(maxsize=1024)
def _checked(sql: str) -> tuple[StatementInfo, ...]:
    # Cached with analyze(): the same SQL is refused or accepted the same way every time.
    infos = analyze(sql)
    for info in infos:
        check_statement(info)
    if any(info.parameters for info in infos[:-1]):
        raise SqlError(ONLY_LAST_HAS_PARAMS, "")
    return infos


def plan(sql: str, params: tuple[SqlValue, ...]) -> list[Statement]:
    """The backend statements for one prepared statement: its SQL split, parameters on the last one.

    Returns ``[]`` for comment-only SQL (the caller decides whether that is ``No SQL statements detected.``).
    Raises ``SqlError`` for what D1 refuses.
    """
    infos = _checked(sql)
    if not infos:
        return []
    last = infos[-1]
    _check_bound(last, params)
    if len(infos) == 1:
        return [Statement(last.sql, params)]
    return [Statement(info.sql) for info in infos[:-1]] + [Statement(last.sql, params)]


def single(sql: str, params: tuple[SqlValue, ...]) -> str | None:
    """The statement to run when a prepared statement is exactly one statement (checked as ``plan`` checks
    it), without building a plan; None when it is several or none (``plan`` then says what to do)."""
    infos = _checked(sql)
    if len(infos) != 1:
        return None
    info = infos[0]
    _check_bound(info, params)
    return info.sql


def _check_bound(info: StatementInfo, params: tuple[SqlValue, ...]) -> None:
    if params:
        check_params(params)
    if len(params) != info.parameters:
        raise SqlError("Wrong number of parameter bindings for SQL query.", "")
