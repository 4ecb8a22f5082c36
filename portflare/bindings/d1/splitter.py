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
    kept, as wrangler keeps them; D1 drops them when it runs a batch. (wrangler matches only upper-case
    ``BEGIN``/``END`` and no ``CASE``; we read the words case-insensitively and nest them, a strict superset.)
    """
    return [s for s in (piece.strip() for piece in _pieces(sql)) if s]


def _pieces(sql: str) -> Iterator[str]:
    """The text between top-level ``;``s, untrimmed (SQLite's error offsets count from a piece's start)."""
    current: list[str] = []
    depth = 0
    first_word: str | None = None
    for kind, text in tokens(sql):
        if kind == "semi" and depth == 0:
            yield "".join(current)
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
    yield "".join(current)


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


MAX_PARAMETERS = 100  # D1's bound-parameter limit (SQLITE_LIMIT_VARIABLE_NUMBER on Cloudflare)


@dataclass(frozen=True)
class StatementInfo:
    sql: str  # from just after the previous top-level ";" (leading space kept, as SQLite sees it in workerd)
    parameters: int  # the highest parameter index the statement uses (SQLite's sqlite3_bind_parameter_count)
    first_word: str  # upper-cased, "" for none
    reserved_name: bool  # an identifier starting with _cf_, which D1 refuses
    parameter_error: tuple[str, int] | None = None  # SQLite's message for a parameter over the limit, offset
    pragma: str = ""  # lower-cased name of a PRAGMA statement's pragma ("table_info"), without its schema


@lru_cache(maxsize=1024)
def analyze(sql: str) -> tuple[StatementInfo, ...]:
    """The non-blank statements of one ``prepare(sql)``, with what D1 checks about each.

    Parameters are numbered as SQLite numbers them: ``?`` takes the next index, ``?NNN`` that index, and a
    named parameter (``:a``, ``@a``, ``$a``) the next index on its first use (bound by position, as workerd
    binds them). Cached: Workers prepare the same few SQL strings over and over.
    """
    infos: list[StatementInfo] = []
    for piece in _pieces(sql):
        count = 0
        names: dict[str, int] = {}
        first = ""
        reserved = False
        significant = False
        error: tuple[str, int] | None = None
        position = 0  # in UTF-8 bytes, as SQLite reports offsets
        pragma_words: list[str] = []  # the words (and dots) after PRAGMA, up to the first other token
        for kind, text in tokens(piece):
            if kind == "param":
                significant = True
                if text == "?":
                    count += 1
                    index = count
                elif text[0] == "?":
                    index = int(text[1:])
                    if index < 1 or index > MAX_PARAMETERS:
                        error = error or (f"variable number must be between ?1 and ?{MAX_PARAMETERS}", position)
                    count = max(count, index)
                    names.setdefault(text, index)
                else:
                    if text not in names:
                        count += 1
                        names[text] = count
                    index = names[text]
                if index > MAX_PARAMETERS and error is None:
                    error = ("too many SQL variables", position)
            elif kind in ("word", "quoted"):
                significant = True
                name = text if kind == "word" else text[1:-1]
                if kind == "word" and not first:
                    first = text.upper()
                elif first == "PRAGMA" and len(pragma_words) < 3:
                    pragma_words.append(name)
                if name[:4].lower() == "_cf_":
                    reserved = True
            elif kind not in ("space", "comment"):
                significant = True
                if first == "PRAGMA" and text == "." and len(pragma_words) == 1:
                    pragma_words.append(text)
            position += len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
        if significant:
            pragma = (pragma_words[2] if pragma_words[1:2] == ["."] and len(pragma_words) > 2
                      else pragma_words[0] if pragma_words else "")
            infos.append(StatementInfo(piece.rstrip(), count, first, reserved, error, pragma.lower()))
    return tuple(infos)
