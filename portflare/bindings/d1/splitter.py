"""Reading SQL text the way D1 and wrangler do, without a parser.

One tokenizer serves every caller: ``split_statements`` (wrangler's ``splitter.ts``: split on ``;`` outside
quotes, comments, ``$$`` dollar quotes and compound ``BEGIN … END`` / ``CASE … END`` bodies), ``trim_transaction``
(wrangler's ``trimmer.ts``, for ``sqlite3 .dump`` files) and ``analyze`` (what D1 checks before running a
prepared statement: its statements, their parameters, transaction statements and ``_cf_`` names).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from portflare.errors import PortflareError

_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
    | (?P<string>'(?:[^']|'')*(?:'|\Z))
    | (?P<quoted>"(?:[^"]|"")*(?:"|\Z)|`(?:[^`]|``)*(?:`|\Z)|\[[^\]]*(?:\]|\Z))
    | (?P<dollar>\$(?P<tag>[^\W$]*)\$.*?(?:\$(?P=tag)\$|\Z))
    | (?P<param>\?[0-9]*|[:@$][^\W\d][\w$]*)
    | (?P<word>[^\W\d][\w$]*)
    | (?P<semi>;)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

# The words that, starting a statement, make it a transaction statement D1 refuses.
TRANSACTION_WORDS = frozenset({"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"})

SEVERAL_TRANSACTIONS = (
    "Wrangler could not process the provided SQL file, as it contains several transactions.\n"
    "D1 runs your SQL in a transaction for you.\n"
    "Please export an SQL file from your SQLite database and try again."
)


class SqlFileError(PortflareError):
    """An SQL file ``d1 execute``/``migrations apply`` cannot run as one batch."""


def tokens(sql: str) -> Iterator[tuple[str, str]]:
    """``(kind, text)`` pairs covering ``sql`` exactly; kinds are the group names of ``_TOKEN``."""
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup
        if kind == "tag":  # the inner group of a dollar quote
            kind = "dollar"
        yield kind or "other", match.group()


def split_statements(sql: str) -> list[str]:
    """Statements of ``sql``, trimmed, without empty ones (wrangler's ``splitSqlQuery``).

    A ``;`` ends a statement unless it is quoted, commented, or inside a compound body: a ``BEGIN`` that does
    not start its statement (a trigger body) or a ``CASE``, each closed by its ``END``. Comment-only pieces are
    kept, as wrangler keeps them; D1 drops them when it runs a batch.
    """
    statements: list[str] = []
    current: list[str] = []
    depth = 0
    first_word: str | None = None
    for kind, text in tokens(sql):
        if kind == "semi" and depth == 0:
            statements.append("".join(current).strip())
            current, first_word = [], None
            continue
        current.append(text)
        if kind != "word":
            continue
        word = text.upper()
        if first_word is None:
            first_word = word
            if word == "CASE":
                depth += 1
        elif word == "CASE" or word == "BEGIN":
            depth += 1
        elif word == "END" and depth:
            depth -= 1
    statements.append("".join(current).strip())
    return [s for s in statements if s]


def is_blank(sql: str) -> bool:
    """True when ``sql`` holds nothing but white space and comments (no statement to run)."""
    return all(kind in ("space", "comment") for kind, _ in tokens(sql))


def trim_transaction(sql: str) -> str:
    """Remove the ``BEGIN TRANSACTION;``/``COMMIT;`` pair ``sqlite3 .dump`` wraps a file in (wrangler's trimmer).

    Like wrangler this is textual, first occurrence only; a file still holding ``BEGIN TRANSACTION`` after
    that has several transactions, which one D1 batch cannot honour.
    """
    if "BEGIN TRANSACTION" not in sql:
        return sql
    trimmed = sql.replace("BEGIN TRANSACTION;", "", 1).replace("COMMIT;", "", 1)
    if "BEGIN TRANSACTION" in trimmed:
        raise SqlFileError(SEVERAL_TRANSACTIONS)
    return trimmed


def file_statements(sql: str) -> list[str]:
    """The statements ``wrangler d1 execute --file`` sends as one batch."""
    return split_statements(trim_transaction(sql))


@dataclass(frozen=True)
class StatementInfo:
    sql: str
    parameters: int  # the highest parameter index the statement uses (SQLite's sqlite3_bind_parameter_count)
    named_parameters: bool  # :name, @name or $name, which D1 does not support
    first_word: str  # upper-cased, "" for none
    reserved_name: bool  # an identifier starting with _cf_, which D1 refuses


@lru_cache(maxsize=1024)
def analyze(sql: str) -> tuple[StatementInfo, ...]:
    """The non-blank statements of one ``prepare(sql)``, with what D1 checks about each.

    Cached: Workers prepare the same few SQL strings over and over, so a point query pays this once.
    """
    infos: list[StatementInfo] = []
    for statement in split_statements(sql):
        count = 0
        named = False
        first = ""
        reserved = False
        significant = False
        for kind, text in tokens(statement):
            if kind == "param":
                significant = True
                if text[0] != "?":
                    named = True
                    count += 1
                elif len(text) > 1:
                    count = max(count, int(text[1:]))
                else:
                    count += 1
            elif kind in ("word", "quoted"):
                significant = True
                name = text if kind == "word" else text[1:-1]
                if kind == "word" and not first:
                    first = text.upper()
                if name[:4].lower() == "_cf_":
                    reserved = True
            elif kind not in ("space", "comment"):
                significant = True
        if significant:
            infos.append(StatementInfo(statement, count, named, first, reserved))
    return tuple(infos)
