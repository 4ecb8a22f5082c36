"""D1's SQLite dialect, translated to PostgreSQL or MySQL with sqlglot.

``translate(sql, dialect, catalog)`` is pure and cached per (statement text, dialect, schema snapshot): a Worker
prepares the same few statements over and over, so each is parsed once. It turns one SQLite statement into
one statement for the server plus what the backend needs to make the result look like SQLite's
(``Translation``). Parameters stay bound: ``?``/``?NNN`` become ``$N`` (asyncpg) or ``%s`` (aiomysql) with the
order of D1 parameters to pass, never values in the text.

What the translation does, for both dialects (dialect specifics live in ``translate_postgres.py`` and
``translate_mysql.py``):

* identifiers are quoted and spelled as declared (SQLite's names are case-insensitive, the servers' are not),
  and unaliased expressions in the select list are aliased with their SQLite text, so row keys match;
* ``rowid`` resolves to the ``INTEGER PRIMARY KEY`` column, or to a hidden ``rowid`` column the DDL adds to
  tables without one;
* SQLite functions (date and time, ``unixepoch``, ``json_extract``, ``randomblob``…), ``INSERT OR
  REPLACE/IGNORE``, ``ON CONFLICT``, ``LIKE``'s case-insensitivity and 0/1 booleans get their equivalents;
* whatever has no faithful equivalent raises ``TranslationError`` naming the construct, never a statement that
  would run and return something else.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache
from typing import Protocol

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokenizer_core import TokenType
from sqlglot.tokens import Tokenizer

from portflare.bindings.d1 import translate_clauses, translate_functions, translate_json, translate_values
from portflare.bindings.d1.base import SqlError
from portflare.bindings.d1.shadow import Catalog, TableInfo
from portflare.bindings.d1.splitter import tokens

POSTGRES = "postgres"
MYSQL = "mysql"
DIALECT_NAMES = {POSTGRES: "PostgreSQL", MYSQL: "MySQL"}

_PRAGMA = re.compile(r"\s*PRAGMA\s+(?:\w+\.)?(\w+)\s*(?:=\s*(.*?)|\(\s*(.*?)\s*\))?\s*$", re.IGNORECASE | re.DOTALL)
_ROWID_NAMES = frozenset({"rowid", "_rowid_", "oid"})
PARAM_MARK = re.compile(r"__pfp(\d+)(?:_([a-z]+))?__")
CAST_MARK = re.compile(r"__pfcast(\d+)__")


class TranslationError(SqlError):
    """A statement (or a part of it) that has no faithful equivalent in the server's dialect."""

    def __init__(self, construct: str, dialect: str) -> None:
        super().__init__(f"{construct} cannot be translated to {DIALECT_NAMES.get(dialect, dialect)}")


@dataclass(frozen=True, slots=True)
class Translation:
    sql: str
    params: tuple[int, ...] = ()  # for each driver placeholder, in order: the 0-based D1 parameter it takes
    kind: str = "select"  # select | insert | update | delete | ddl | pragma | shadow
    returns_rows: bool = True
    extra_column: bool = False  # the last result column is ours (the inserted rowid, or a row marker)
    hide_rowid: bool = False  # a * over a table with a hidden rowid column: drop result columns named rowid
    json_columns: tuple[int, ...] = ()  # result positions holding JSON to read back (negative: from the end)
    casts: tuple[int, ...] = ()  # postgres: parameters typed by their value (``__pfcastN__`` in ``sql``)
    after: tuple[str, ...] = ()  # statements to run right after ``sql`` (a DDL's companions)
    table: str | None = None  # the table an INSERT, UPDATE, DELETE or DDL acts on
    upsert_rows: int = 0  # mysql: VALUES rows of a REPLACE / ON DUPLICATE KEY UPDATE; -1: rows of its SELECT
    pragma: tuple[str, str | None] | None = None  # (name, value) of a PRAGMA
    generated_rowid: bool = True  # mysql: the INSERT lets the server number its rows
    verb: str = ""  # mysql: "REPLACE" or "INSERT IGNORE" in place of the rendered INSERT
    coerce: tuple[tuple[int, str], ...] = ()  # mysql: (driver placeholder, translate_types.coerce kind)


@dataclass
class Context:
    """What one translation pass knows: the dialect, the schema and the statement's tables."""

    dialect: str
    catalog: Catalog
    aliases: dict[str, TableInfo]  # lower-cased table name or alias -> table
    spellings: dict[str, str]
    original: str = ""  # the statement as the Worker wrote it

    def error(self, construct: str) -> TranslationError:
        return TranslationError(construct, self.dialect)

    def spell(self, name: str) -> str:
        lowered = name.lower()
        known = self.catalog.names.get(lowered)
        if known is not None:
            return known
        return self.spellings.setdefault(lowered, name)

    def single_table(self) -> TableInfo | None:
        tables = {id(t): t for t in self.aliases.values()}
        return next(iter(tables.values())) if len(tables) == 1 else None


def translate(sql: str, dialect: str, catalog: Catalog) -> Translation:
    """One SQLite statement as the ``dialect`` server should run it. Raises ``TranslationError``."""
    return _translate(sql, dialect, catalog)


@lru_cache(maxsize=4096)
def _translate(sql: str, dialect: str, catalog: Catalog) -> Translation:
    pragma = _PRAGMA.match(sql)
    if pragma:
        value = pragma.group(2) if pragma.group(2) is not None else pragma.group(3)
        return Translation(sql, kind="pragma", pragma=(pragma.group(1).lower(), value))
    text, count = number_parameters(sql)
    if re.match(r"\s*REPLACE\s+INTO\b", text, re.IGNORECASE):
        text = re.sub(r"^\s*REPLACE", "INSERT OR REPLACE", text, count=1, flags=re.IGNORECASE)
    if re.match(r"\s*CREATE\s+(?:TEMP\w*\s+)?TRIGGER\b", text, re.IGNORECASE):
        raise TranslationError("CREATE TRIGGER", dialect)
    if re.match(r"\s*CREATE\s+VIRTUAL\s+TABLE\b", text, re.IGNORECASE):
        raise TranslationError("CREATE VIRTUAL TABLE (fts5 and other virtual tables)", dialect)
    try:
        tree = sqlglot.parse_one(text, read="sqlite")
    except (ParseError, TokenError) as exc:
        construct = str(exc).splitlines()[0]
        raise TranslationError(f"this statement (sqlglot: {construct})", dialect) from None
    if isinstance(tree, (exp.Command, exp.Block)) or tree is None:
        raise TranslationError(f"{sql.split(None, 1)[0].upper()} statements of this form", dialect)
    if _only_sqlite_tables(tree):
        return Translation(sql, kind="shadow", returns_rows=True)
    context = Context(dialect, catalog, _table_aliases(tree, catalog), {}, sql)
    module = _dialect_module(dialect)
    translation = module.translate_tree(tree, context, sql)
    if translation.verb == "RAW":  # the dialect wrote the statement itself
        return replace(translation, verb="")
    return _finish(translation, tree, context, count)


def _dialect_module(dialect: str) -> DialectModule:
    if dialect == POSTGRES:
        from portflare.bindings.d1 import translate_postgres

        return translate_postgres
    if dialect == MYSQL:
        from portflare.bindings.d1 import translate_mysql

        return translate_mysql
    raise ValueError(dialect)


class DialectModule(Protocol):
    """What ``translate_postgres`` and ``translate_mysql`` provide."""

    def translate_tree(self, tree: exp.Expr, context: Context, original: str) -> Translation: ...


def _finish(translation: Translation, tree: exp.Expr, context: Context, count: int) -> Translation:
    """Quote identifiers, write placeholders for the driver and render the SQL."""
    canonicalize_identifiers(tree, context)
    casts: list[int] = []
    for placeholder in list(tree.find_all(exp.Placeholder)):
        name = str(placeholder.name or "")
        if not name.startswith("pf"):
            raise context.error("named parameters")
        index = int(name[2:])
        kind = placeholder.meta.get("coerce")
        if context.dialect == POSTGRES and _untyped_position(placeholder):
            casts.append(index - 1)
            placeholder.replace(exp.Var(this=f"__pfcast{index}__"))
        elif context.dialect == MYSQL and kind:
            placeholder.replace(exp.Var(this=f"__pfp{index}_{kind}__"))
        else:
            placeholder.replace(exp.Var(this=f"__pfp{index}__"))
    rendered = tree.sql(dialect=context.dialect, identify=True)
    if translation.verb:
        rendered = re.sub(r"^INSERT", translation.verb, rendered, count=1)
    coerce: tuple[tuple[int, str], ...] = ()
    if context.dialect == MYSQL:
        rendered = rendered.replace("%", "%%")
        marks = list(PARAM_MARK.finditer(rendered))
        order = tuple(int(m.group(1)) - 1 for m in marks)
        coerce = tuple((i, m.group(2)) for i, m in enumerate(marks) if m.group(2))
        rendered = PARAM_MARK.sub("%s", rendered)
    else:
        rendered = PARAM_MARK.sub(lambda m: f"${m.group(1)}", rendered)
        order = tuple(range(count))
    return replace(translation, sql=rendered, params=order, casts=tuple(sorted(set(casts))), coerce=coerce)


def number_parameters(sql: str) -> tuple[str, int]:
    """``?`` and ``?NNN`` as ``:pfN`` markers sqlglot keeps apart; returns the text and SQLite's parameter count."""
    parts: list[str] = []
    count = 0
    named: dict[str, int] = {}
    for kind, text in tokens(sql):
        if kind == "param":
            if text[0] == "?":
                number = int(text[1:]) if len(text) > 1 else count + 1
            else:  # :a, @a, $a: the next index on first use (D1 binds them by position)
                number = named.get(text) or named.setdefault(text, count + 1)
            count = max(count, number)
            parts.append(f":pf{number}")
        else:
            parts.append(text)
    return "".join(parts), count


def _only_sqlite_tables(tree: exp.Expr) -> bool:
    names = [t.name.lower() for t in tree.find_all(exp.Table)]
    return bool(names) and all(n in ("sqlite_schema", "sqlite_master") for n in names)


def _table_aliases(tree: exp.Expr, catalog: Catalog) -> dict[str, TableInfo]:
    aliases: dict[str, TableInfo] = {}
    for table in tree.find_all(exp.Table):
        info = catalog.table(table.name)
        if info is not None:
            aliases[table.name.lower()] = info
            if table.alias:
                aliases[table.alias.lower()] = info
    if isinstance(tree, exp.Insert) and tree.args.get("conflict") is not None:
        target = catalog.table(target_table(tree) or "")
        if target is not None:
            aliases.setdefault("excluded", target)  # ON CONFLICT … DO UPDATE SET x = excluded.x
    return aliases


def _untyped_position(node: exp.Expr) -> bool:
    """A parameter PostgreSQL would type as text: one in a select-list item or a function's argument."""
    parent = node.parent
    while parent is not None and not isinstance(parent, (exp.Select, exp.Where, exp.Having, exp.Join, exp.Values,
                                                          exp.Update, exp.Limit, exp.Offset, exp.Order)):
        if isinstance(parent, exp.Cast) and parent.meta.get("server"):
            return False  # a CAST the translation added types it (translate_values.server_cast)
        if isinstance(parent, (exp.Func)) and not isinstance(parent, (exp.Binary, exp.Cast, exp.In)):
            return True
        node, parent = parent, parent.parent
    return isinstance(parent, exp.Select) and node.arg_key == "expressions"


# --- passes shared by both dialects ---------------------------------------------------------------------------

def sqlite_semantics(tree: exp.Expr, context: Context) -> tuple[int, ...]:
    """The passes that make the server compute SQLite's values (translate_json, translate_clauses,
    translate_values, translate_functions); returns the top-level select positions whose value is JSON to read back."""
    translate_clauses.check_bare_columns(tree, context)
    positions = translate_json.apply(tree, context)
    translate_clauses.apply(tree, context)
    translate_values.apply(tree, context)
    translate_functions.functions(tree, context)
    positions += translate_functions.mixed_projections(tree, context)
    translate_values.real_literals(tree, context)
    return tuple(sorted(set(positions)))


def canonicalize_identifiers(tree: exp.Expr, context: Context) -> None:
    for identifier in tree.find_all(exp.Identifier):
        identifier.set("this", context.spell(identifier.name))
        identifier.set("quoted", True)


def resolve_rowid(tree: exp.Expr, context: Context) -> None:
    """``rowid``/``_rowid_``/``oid`` → the table's INTEGER PRIMARY KEY column or its hidden ``rowid``."""
    for column in list(tree.find_all(exp.Column)):
        if column.name.lower() not in _ROWID_NAMES:
            continue
        table = context.aliases.get(column.table.lower()) if column.table else context.single_table()
        if table is None or table.column(column.name) is not None:
            continue  # a real column of that name, or a table we do not know: leave it to the server
        column.set("this", exp.to_identifier(table.rowid_column))


def name_projections(tree: exp.Expr, original: str) -> None:
    """Alias select-list expressions with their SQLite text (SQLite names a column by what was written)."""
    select = tree
    while isinstance(select, exp.SetOperation):
        select = select.this
    if not isinstance(select, exp.Select):
        return
    texts = projection_texts(original)
    if texts is None or len(texts) != len(select.expressions):
        return
    for item, text in zip(list(select.expressions), texts, strict=True):
        if isinstance(item, (exp.Alias, exp.Star)) or (isinstance(item, exp.Column) and item.is_star):
            continue
        if isinstance(item, exp.Column):
            written = text.split(".")[-1].strip('"`[]')
            if written.lower() in _ROWID_NAMES or item.name == written:
                continue  # SQLite names a rowid alias after its column, as the server will
        item.replace(exp.alias_(item.copy(), text, quoted=True))


@lru_cache(maxsize=1024)
def projection_texts(sql: str) -> tuple[str, ...] | None:
    """The source text of each top-level select-list item of ``sql`` (``None`` if it cannot tell)."""
    try:
        toks = Tokenizer(dialect="sqlite").tokenize(sql)
    except TokenError:
        return None
    depth = 0
    start = None
    for i, token in enumerate(toks):
        if token.token_type in (TokenType.L_PAREN,):
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
        elif depth == 0 and token.token_type == TokenType.SELECT:
            start = i + 1
            break
    if start is None:
        return None
    while start < len(toks) and toks[start].token_type in (TokenType.DISTINCT, TokenType.ALL):
        start += 1
    enders = {TokenType.FROM, TokenType.WHERE, TokenType.GROUP_BY, TokenType.ORDER_BY, TokenType.LIMIT,
              TokenType.UNION, TokenType.EXCEPT, TokenType.INTERSECT, TokenType.HAVING, TokenType.WINDOW,
              TokenType.SEMICOLON}
    items: list[str] = []
    first = start
    depth = 0
    i = start
    while i < len(toks):
        token = toks[i]
        if token.token_type in (TokenType.L_PAREN,):
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
        elif depth == 0 and (token.token_type in enders or token.token_type == TokenType.COMMA):
            items.append(sql[toks[first].start:toks[i - 1].end + 1])
            if token.token_type != TokenType.COMMA:
                return tuple(items)
            first = i + 1
        i += 1
    if first < len(toks):
        items.append(sql[toks[first].start:toks[-1].end + 1])
    return tuple(items)


def explicit_insert_columns(insert: exp.Insert, context: Context) -> TableInfo | None:
    """Give ``INSERT INTO t VALUES (…)`` its column list (a hidden rowid must not take a value)."""
    target = insert.this
    table_expr = target.this if isinstance(target, exp.Schema) else target
    table = context.catalog.table(table_expr.name) if isinstance(table_expr, exp.Table) else None
    if table is not None and not isinstance(target, exp.Schema) and insert.expression is not None:
        columns = [exp.to_identifier(c.name) for c in table.columns]
        insert.set("this", exp.Schema(this=table_expr, expressions=columns))
    return table


def insert_columns(insert: exp.Insert) -> list[str]:
    target = insert.this
    if isinstance(target, exp.Schema):
        return [e.name for e in target.expressions]
    return []


def values_rows(insert: exp.Insert) -> int:
    values = insert.expression
    return len(values.expressions) if isinstance(values, exp.Values) else 0


# --- functions --------------------------------------------------------------------------------------------

_UNTRANSLATABLE = frozenset({
    "changes", "last_insert_rowid", "total_changes", "sqlite_version", "sqlite_source_id", "zeroblob", "printf",
    "format", "glob", "soundex", "likelihood", "likely", "unlikely", "quote", "unicode", "char", "julianday",
    "load_extension", "json_each", "json_tree", "json_patch", "json_set", "json_insert", "json_replace",
    "json_remove", "json_object", "json_array", "json_group_array", "json_group_object", "json_quote",
    "json_type", "json", "jsonb", "timediff", "sqlite_compileoption_used", "highlight", "snippet", "bm25",
})

_MODIFIER = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s+(year|month|day|hour|minute|second)s?\s*$", re.IGNORECASE)

Template = Callable[..., exp.Expr]


@lru_cache(maxsize=256)
def _parsed(template: str, dialect: str) -> exp.Expr:
    return sqlglot.parse_one(template, read=dialect)


def template(sql: str, dialect: str, **args: exp.Expr) -> exp.Expr:
    """``sql`` (in ``dialect``) with each ``__name__`` column replaced by ``args[name]``."""
    tree = _parsed(sql, dialect).copy()
    for column in list(tree.find_all(exp.Column)):
        key = column.name
        if key.startswith("__") and key.endswith("__") and key[2:-2] in args:
            column.replace(args[key[2:-2]].copy())
    return tree


def strftime_format(fmt: str, codes: dict[str, str], literal: Callable[[str], str] = str) -> str | None:
    """A SQLite ``strftime`` format in another engine's codes (``literal`` writes plain characters), or None
    when it uses a code the engine cannot express."""
    out: list[str] = []
    i = 0
    while i < len(fmt):
        if fmt[i] == "%":
            if i + 1 >= len(fmt) or fmt[i + 1] not in codes:
                return None
            out.append(codes[fmt[i + 1]])
            i += 2
            continue
        out.append(literal(fmt[i]))
        i += 1
    return "".join(out)


def portable_constraints(column: exp.ColumnDef, context: Context) -> list[exp.ColumnConstraint]:
    """A column's constraints without SQLite-only ones: AUTOINCREMENT (each engine adds its own) and
    COLLATE BINARY (the default) are dropped, other collations and ON CONFLICT clauses refused by name."""
    constraints = []
    for constraint in column.args.get("constraints") or []:
        kind = constraint.args.get("kind")
        if isinstance(kind, exp.AutoIncrementColumnConstraint):
            continue
        if isinstance(kind, exp.CollateColumnConstraint):
            collation = kind.this.name.upper() if isinstance(kind.this, exp.Expr) else str(kind.this).upper()
            if collation == "BINARY":
                continue
            # Every comparison, ordering and unique key of the column would have to fold case.
            raise context.error(f"a column declared COLLATE {collation} (use COLLATE {collation} in the queries)")
        if "ON CONFLICT" in constraint.sql("sqlite").upper():
            raise context.error("a column constraint's ON CONFLICT clause")
        constraints.append(constraint)
    return constraints


def name_checks(schema: exp.Schema, original: str, table_level: bool) -> None:
    """Name each unnamed CHECK constraint after its expression as written, so that the server's error names
    what SQLite's does (``CHECK constraint failed: price >= 0``). ``table_level`` moves column CHECKs to the
    table (MariaDB names column checks after the column)."""
    texts = iter(_check_texts(original))
    moved: list[exp.Expr] = []
    for item in list(schema.expressions):
        if isinstance(item, exp.ColumnDef):
            for constraint in list(item.args.get("constraints") or []):
                if not isinstance(constraint.args.get("kind"), exp.CheckColumnConstraint):
                    continue
                text = next(texts, None)
                if constraint.this is None and text:
                    constraint.set("this", exp.to_identifier(text[:63]))
                if table_level and constraint.this is not None:
                    item.set("constraints", [c for c in item.args["constraints"] if c is not constraint])
                    moved.append(exp.Constraint(this=constraint.this, expressions=[constraint.args["kind"]]))
        elif isinstance(item, exp.CheckColumnConstraint):
            text = next(texts, None)
            if text:
                item.replace(exp.Constraint(this=exp.to_identifier(text[:63]), expressions=[item.copy()]))
        elif isinstance(item, exp.Constraint) and any(isinstance(e, exp.CheckColumnConstraint)
                                                       for e in item.expressions):
            next(texts, None)
    for constraint in moved:
        schema.append("expressions", constraint)


def _check_texts(sql: str) -> list[str]:
    """The text inside each ``CHECK (…)`` of ``sql``, in order."""
    try:
        toks = Tokenizer(dialect="sqlite").tokenize(sql)
    except TokenError:
        return []
    texts = []
    for i, token in enumerate(toks):
        if token.text.upper() != "CHECK" or i + 1 >= len(toks) or toks[i + 1].token_type != TokenType.L_PAREN:
            continue
        depth = 0
        for j in range(i + 1, len(toks)):
            if toks[j].token_type == TokenType.L_PAREN:
                depth += 1
            elif toks[j].token_type == TokenType.R_PAREN:
                depth -= 1
                if depth == 0:
                    texts.append(sql[toks[i + 1].end + 1:toks[j].start].strip())
                    break
    return texts


@dataclass(frozen=True)
class TimeDialect:
    now: str  # the current UTC time as a timestamp
    from_epoch: str
    from_text: str
    add: str  # __t__ plus a whole number {n} of {unit} (DAY, HOUR, MINUTE, SECOND)
    add_micros: str  # __t__ plus {n} microseconds (fractional modifiers)
    add_months: str  # __t__ plus {n} months, days past the month's end carried on as SQLite does
    start_of: str  # __t__ truncated to the {unit}
    start_units: dict[str, str]  # day | month | year -> what {unit} is for start_of
    formats: dict[str, str]  # datetime / date / time -> format expression over __t__
    epoch: str
    strftime: Callable[[str], str | None]  # an SQLite format -> the dialect's format string, or None
    special: dict[str, str] = field(default_factory=dict)  # strftime codes the format cannot write -> over __t__


_SECONDS = {"DAY": 86400, "HOUR": 3600, "MINUTE": 60, "SECOND": 1}
# A fractional month or year adds that fraction of 30 or 365 days (SQLite's date.c).
_DAYS_PER = {"MONTH": 30, "YEAR": 365}


def time_function(name: str, args: list[exp.Expr], context: Context, spec: TimeDialect) -> exp.Expr:
    """``datetime``/``date``/``time``/``unixepoch``/``strftime`` of SQLite as ``spec``'s expressions."""
    dialect = context.dialect
    fmt: str | None = None
    if name == "strftime":
        if not args or not isinstance(args[0], exp.Literal) or not args[0].is_string:
            raise context.error("strftime() with a format that is not a string literal")
        fmt = args[0].this
        args = args[1:]
    value = args[0] if args else exp.Literal.string("now")
    modifiers = args[1:]
    stamp: exp.Expr
    if isinstance(value, exp.Literal) and value.is_string and value.this.lower() == "now":
        stamp = template(spec.now, dialect)
    elif any(isinstance(m, exp.Literal) and m.this.lower() == "unixepoch" for m in modifiers):
        stamp = template(spec.from_epoch, dialect, v=value)
    else:
        stamp = template(spec.from_text, dialect, v=value)
    for modifier in modifiers:
        if not isinstance(modifier, exp.Literal) or not modifier.is_string:
            raise context.error(f"{name}() with a modifier that is not a string literal")
        text = modifier.this.lower().strip()
        if text == "unixepoch":
            continue
        match = _MODIFIER.match(text)
        if match:
            stamp = _add(stamp, Decimal(match.group(1)), match.group(2).upper(), spec, dialect)
        elif text in ("start of day", "start of month", "start of year"):
            stamp = template(spec.start_of.format(unit=spec.start_units[text.split()[-1]]), dialect, t=stamp)
        else:
            raise context.error(f"the {name}() modifier '{modifier.this}'")
    if name == "unixepoch" or fmt == "%s":
        epoch = template(spec.epoch, dialect, t=stamp)
        return epoch if name == "unixepoch" else exp.cast(epoch, exp.DataType.build("TEXT"))
    if fmt is not None:
        parts: list[exp.Expr] = []
        for piece, code in _split_format(fmt, spec.special):
            if piece:
                converted = spec.strftime(piece)
                if converted is None:
                    raise context.error(f"the strftime() format '{fmt}'")
                parts.append(template(spec.formats["format"], dialect, t=stamp, f=exp.Literal.string(converted)))
            if code:
                parts.append(template(spec.special[code], dialect, t=stamp))
        if not parts:
            return exp.Literal.string("")
        return parts[0] if len(parts) == 1 else exp.Concat(expressions=parts)
    return template(spec.formats[name], dialect, t=stamp)


def _add(stamp: exp.Expr, amount: Decimal, unit: str, spec: TimeDialect, dialect: str) -> exp.Expr:
    """A ``±N unit`` modifier: whole months and years move the calendar (31 January + 1 month is 2 March, as
    SQLite normalizes 31 February); fractions become milliseconds, as SQLite counts them."""
    if unit in _DAYS_PER:
        whole = int(amount)
        months = whole * (12 if unit == "YEAR" else 1)
        if months:
            stamp = template(spec.add_months.format(n=months), dialect, t=stamp)
        fraction = amount - whole
        if fraction:
            stamp = _add_micros(stamp, fraction * _DAYS_PER[unit] * 86400, spec, dialect)
        return stamp
    if amount == amount.to_integral_value():
        return template(spec.add.format(n=int(amount), unit=unit), dialect, t=stamp)
    return _add_micros(stamp, amount * _SECONDS[unit], spec, dialect)


def _add_micros(stamp: exp.Expr, seconds: Decimal, spec: TimeDialect, dialect: str) -> exp.Expr:
    millis = int(seconds * 1000 + (Decimal("0.5") if seconds >= 0 else Decimal("-0.5")))
    return template(spec.add_micros.format(n=millis * 1000), dialect, t=stamp)


def _split_format(fmt: str, special: dict[str, str]) -> list[tuple[str, str]]:
    """A strftime format as (plain format, special code after it) pairs, cut at the codes in ``special``."""
    pieces: list[tuple[str, str]] = []
    current: list[str] = []
    i = 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            if fmt[i + 1] in special:
                pieces.append(("".join(current), fmt[i + 1]))
                current = []
            else:
                current.append(fmt[i:i + 2])
            i += 2
            continue
        current.append(fmt[i])
        i += 1
    pieces.append(("".join(current), ""))
    return pieces


def function_name(node: exp.Expr) -> str | None:
    """The SQLite function a node stands for, for the calls both dialects rewrite."""
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    if isinstance(node, exp.CurrentTimestamp):
        return "current_timestamp"
    if isinstance(node, exp.CurrentDate):
        return "current_date"
    if isinstance(node, exp.CurrentTime):
        return "current_time"
    if isinstance(node, exp.Date):
        return "date"
    if isinstance(node, exp.TimeToStr):
        return "strftime"
    return None


def function_args(node: exp.Expr) -> list[exp.Expr]:
    if isinstance(node, exp.TimeToStr):
        value = node.this
        if isinstance(value, (exp.TsOrDsToTimestamp, exp.StrToTime, exp.TsOrDsToDate)):
            value = value.this
        return [node.args["format"], value]
    if isinstance(node, exp.Date):
        return [node.this, *node.expressions] if node.this is not None else list(node.expressions)
    if isinstance(node, exp.Anonymous):
        return list(node.expressions)
    return []


def rewrite_functions(tree: exp.Expr, context: Context, rewrite: Callable[[str, list[exp.Expr],
                      exp.Expr], exp.Expr | None]) -> exp.Expr:
    """Bottom-up: each SQLite call the dialect rewrites is replaced; unknown SQLite-only ones are refused."""

    def visit(node: exp.Expr) -> exp.Expr:
        name = function_name(node)
        if name is None or node.meta.get("server"):
            return node
        if name in _UNTRANSLATABLE:
            raise context.error(f"the SQLite function {name}()")
        args = function_args(node)
        if name == "current_timestamp":
            name, args = "datetime", []
        elif name == "current_date":
            name, args = "date", []
        elif name == "current_time":
            name, args = "time", []
        result = rewrite(name, args, node)
        return node if result is None else result

    return tree.transform(visit, copy=False)


def has_star(tree: exp.Expr) -> bool:
    select = tree
    while isinstance(select, exp.SetOperation):
        select = select.this
    return isinstance(select, exp.Select) and translate_values.selects_star(select)


def statement_kind(tree: exp.Expr) -> str:
    if isinstance(tree, exp.Insert):
        return "insert"
    if isinstance(tree, exp.Update):
        return "update"
    if isinstance(tree, exp.Delete):
        return "delete"
    if isinstance(tree, (exp.Create, exp.Drop, exp.Alter)):
        return "ddl"
    return "select"


def target_table(tree: exp.Expr) -> str | None:
    target = tree.this
    if isinstance(target, exp.Schema):
        target = target.this
    return target.name if isinstance(target, exp.Table) else None


def dropped_name(tree: exp.Drop) -> str | None:
    """The object a DROP names (sqlglot keeps it in ``tables``)."""
    tables = tree.args.get("tables") or ([tree.this] if tree.this is not None else [])
    return str(tables[0].name) if tables else None


def unwrap_ordered(conflict: exp.OnConflict, table: str | None) -> None:
    """Normalize an upsert: the conflict target as bare columns (sqlglot writes SQLite's implicit NULLS FIRST
    into it), and unqualified columns of DO UPDATE qualified with the table, as SQLite resolves them."""
    keys = [k.this if isinstance(k, exp.Ordered) else k for k in conflict.args.get("conflict_keys") or []]
    conflict.set("conflict_keys", [exp.to_identifier(k.name) if isinstance(k, exp.Column) else k for k in keys])
    if table is None:
        return
    for update in conflict.expressions:
        value = update.expression if isinstance(update, exp.EQ) else None
        for column in list(value.find_all(exp.Column)) if value is not None else []:
            if not column.table:
                column.set("table", exp.to_identifier(table))
    where = conflict.args.get("where")
    for column in list(where.find_all(exp.Column)) if where is not None else []:
        if not column.table:
            column.set("table", exp.to_identifier(table))
