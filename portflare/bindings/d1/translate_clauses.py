"""SQLite clauses and operators the servers spell differently, or not at all.

* ``LIMIT -1`` (SQLite's "no limit"), a negative OFFSET (0), and a LIMIT bound as a string;
* ``LIKE``: SQLite folds ASCII letters only and has no default escape character; ``GLOB`` (case-sensitive,
  ``*``/``?``/``[…]``) with a literal pattern, as LIKE or a regular expression;
* ``COLLATE NOCASE`` in ORDER BY and comparisons (ASCII folding), ``COLLATE BINARY`` (the default);
* ``x IS TRUE``/``IS FALSE`` (PostgreSQL's IS TRUE wants a boolean), ``agg(…) FILTER (WHERE …)`` (MariaDB
  lacks it), a subquery in FROM without an alias (SQLite allows it, the servers do not);
* a bare column next to an aggregate (``SELECT name, max(n) FROM t``): SQLite returns the row that min()/max()
  picked, MySQL any row, PostgreSQL refuses; it is refused by name unless the GROUP BY decides the column (it is
  grouped, or its table's primary key is).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from portflare.bindings.d1.translate_types import INTEGER, NO_LIMIT, count_value, value_type
from portflare.bindings.d1.translate_values import (
    COMPUTED,
    POSTGRES,
    ascii_case,
    call,
    literal_value,
    mark,
    server_cast,
    to_text,
)

if TYPE_CHECKING:
    from portflare.bindings.d1.translate import Context

_AGGREGATES = frozenset({"total"})  # SQLite aggregates sqlglot parses as anonymous functions
_LIKE_ESCAPE = "!"


def apply(tree: exp.Expr, context: Context) -> None:
    """Every pass but ``check_bare_columns`` (which runs first, on the statement as written)."""
    derived_table_aliases(tree)
    if context.dialect != POSTGRES:
        filters(tree)
    collations(tree, context)
    likes(tree, context)
    globs(tree, context)
    if context.dialect == POSTGRES:
        is_boolean(tree, context)
    limits(tree, context)


# --- aggregates ---------------------------------------------------------------------------------------------

def _is_aggregate(node: exp.Expr) -> bool:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower() in _AGGREGATES
    return isinstance(node, (exp.AggFunc, exp.Filter))


def _has_aggregate(node: exp.Expr) -> bool:
    if _is_aggregate(node):
        return True
    if isinstance(node, (exp.Subquery, exp.Select, exp.Window, exp.Exists)):
        return False
    return any(_has_aggregate(child) for child in node.iter_expressions())


def check_bare_columns(tree: exp.Expr, context: Context) -> None:
    for select in tree.find_all(exp.Select):
        group = select.args.get("group")
        having = select.args.get("having")
        if not group and not having and not any(_has_aggregate(e) for e in select.expressions):
            continue
        values = [e.this if isinstance(e, exp.Alias) else e for e in select.expressions]
        aliases = {e.alias.lower() for e in select.expressions if isinstance(e, exp.Alias)}
        keys: list[exp.Expr] = []
        for key in group.expressions if group else []:
            if isinstance(key, exp.Literal) and not key.is_string and str(key.this).isdigit() and \
                    0 < int(key.this) <= len(values):
                keys.append(values[int(key.this) - 1])
            elif isinstance(key, exp.Column) and not key.table and key.name.lower() in aliases:
                keys.extend(e.this for e in select.expressions
                            if isinstance(e, exp.Alias) and e.alias.lower() == key.name.lower())
            else:
                keys.append(key)
        texts = {k.sql("sqlite").lower() for k in keys}
        columns = [(k.table.lower(), k.name.lower()) for k in keys if isinstance(k, exp.Column)]
        order = select.args.get("order")
        checked: list[exp.Expr] = [*values]
        if having is not None:
            checked.append(having.this)
        if order is not None:
            checked.extend(o.this for o in order.expressions)
        for value in checked:
            _check_grouped(value, texts, columns, aliases, context)


def _check_grouped(node: exp.Expr, texts: set[str], columns: list[tuple[str, str]], aliases: set[str],
                   context: Context) -> None:
    if node.sql("sqlite").lower() in texts or _is_aggregate(node):
        return
    if isinstance(node, (exp.Subquery, exp.Select, exp.Window, exp.Exists, exp.Literal, exp.Placeholder)):
        return
    if isinstance(node, exp.Column):
        if node.is_star or (not node.table and node.name.lower() in aliases):
            return
        if _decided_by(node, columns, context):
            return
        raise context.error(f'the bare column "{node.name}" next to an aggregate (SQLite takes it from the row '
                            f"that min()/max() picks; GROUP BY it, or select it in a subquery)")
    for child in node.iter_expressions():
        _check_grouped(child, texts, columns, aliases, context)


def _decided_by(column: exp.Column, keys: list[tuple[str, str]], context: Context) -> bool:
    """The column is grouped, or the primary key of its table is (so each group has one value of it)."""
    table_name = column.table.lower()
    name = column.name.lower()
    if any(k_name == name and (not k_table or not table_name or k_table == table_name) for k_table, k_name in keys):
        return True
    table = context.aliases.get(table_name) if table_name else context.single_table()
    if table is None:
        return False
    primary = [c.name.lower() for c in table.columns if c.pk]
    qualifiers = {t for t, info in context.aliases.items() if info is table}
    return bool(primary) and all(
        any(k_name == p and (not k_table or k_table in qualifiers) for k_table, k_name in keys) for p in primary)


def filters(tree: exp.Expr) -> None:
    """``agg(x) FILTER (WHERE c)`` as ``agg(CASE WHEN c THEN x END)`` (MariaDB has no FILTER)."""
    for node in reversed(list(tree.find_all(exp.Filter))):
        aggregate = node.this
        where = node.expression
        condition = where.this if isinstance(where, exp.Where) else where
        target = aggregate.this
        if isinstance(target, exp.Distinct):
            target.set("expressions", [_when(condition, e) for e in target.expressions])
        else:
            aggregate.set("this", _when(condition, exp.Literal.number(1) if isinstance(target, exp.Star) or
                                        target is None else target))
        node.replace(aggregate)


def _when(condition: exp.Expr, value: exp.Expr) -> exp.Expr:
    return exp.Case(ifs=[exp.If(this=condition.copy(), true=value)])


# --- FROM -----------------------------------------------------------------------------------------------------

def derived_table_aliases(tree: exp.Expr) -> None:
    count = 0
    for node in tree.find_all(exp.Subquery):
        if isinstance(node.parent, (exp.From, exp.Join)) and not node.alias:
            count += 1
            node.set("alias", exp.TableAlias(this=exp.to_identifier(f"pf_subquery_{count}")))


# --- collations, LIKE, GLOB -----------------------------------------------------------------------------------

def collations(tree: exp.Expr, context: Context) -> None:
    for node in reversed(list(tree.find_all(exp.Collate))):
        name = node.expression.name.upper()
        if name == "BINARY":
            node.replace(node.this)
            continue
        if name != "NOCASE":
            raise context.error(f"COLLATE {name}")
        parent = node.parent
        while isinstance(parent, exp.Paren):
            parent = parent.parent
        if isinstance(parent, (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.In, exp.Between)):
            node.replace(node.this)
            for key in ("this", "expression", "low", "high"):
                operand = parent.args.get(key)
                if isinstance(operand, exp.Expr):
                    parent.set(key, _fold(operand, context))
            if isinstance(parent, exp.In):
                parent.set("expressions", [_fold(e, context) for e in parent.expressions])
        elif isinstance(parent, (exp.Ordered, exp.Group)):
            node.replace(ascii_case(node.this, context, upper=False))
        else:
            node.replace(node.this)  # the value itself is unchanged; only comparisons and ordering fold


def _fold(node: exp.Expr, context: Context) -> exp.Expr:
    if isinstance(node, exp.Collate):
        node = node.this
    return ascii_case(node, context, upper=False)


def likes(tree: exp.Expr, context: Context) -> None:
    """SQLite's LIKE: ASCII letters match either case, operands are text, and only an ESCAPE clause escapes."""
    for node in reversed(list(tree.find_all(exp.Like))):
        escape = node.parent if isinstance(node.parent, exp.Escape) else None
        node.set("this", ascii_case(node.this, context, upper=False))
        pattern = node.expression
        value = literal_value(pattern)
        if context.dialect != POSTGRES and escape is None:
            # MySQL's LIKE escapes with a backslash by default: double them to keep them literal.
            if isinstance(value, str):
                pattern = exp.Literal.string(value.replace("\\", "\\\\"))
            else:
                pattern = exp.Anonymous(this="REPLACE", expressions=[
                    to_text(pattern, context), exp.Literal.string("\\"), exp.Literal.string("\\\\")])
        node.set("expression", ascii_case(pattern, context, upper=False))
        if context.dialect == POSTGRES and escape is None:
            wrapper = exp.Escape(this=node.copy(), expression=exp.Literal.string(""))
            node.replace(wrapper)


def globs(tree: exp.Expr, context: Context) -> None:
    """``x GLOB 'pattern'``: case-sensitive, ``*`` any text, ``?`` one character, ``[…]`` a class."""
    for node in reversed(list(tree.find_all(exp.Glob))):
        pattern = literal_value(node.expression)
        if not isinstance(pattern, str):
            raise context.error("GLOB with a pattern that is not a string literal")
        subject = to_text(node.this, context)
        if "[" not in pattern:
            like = exp.Like(this=subject, expression=exp.Literal.string(_glob_like(pattern)))
            node.replace(exp.Escape(this=like, expression=exp.Literal.string(_LIKE_ESCAPE)))
            continue
        regex = _glob_regex(pattern, context)
        if context.dialect == POSTGRES:
            node.replace(exp.RegexpLike(this=subject, expression=exp.Literal.string(f"^{regex}$")))
        else:
            found = call("REGEXP_INSTR", subject, exp.Literal.string(f"(?s)(?-i)^{regex}\\z"))
            node.replace(exp.GT(this=found, expression=exp.Literal.number(0)))


def _glob_like(pattern: str) -> str:
    out = []
    for char in pattern:
        if char in "%_" + _LIKE_ESCAPE:
            out.append(_LIKE_ESCAPE + char)
        else:
            out.append({"*": "%", "?": "_"}.get(char, char))
    return "".join(out)


def _glob_regex(pattern: str, context: Context) -> str:
    out = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1:i + 2] in ("^", "]") else i + 1)
            if pattern[i + 1:i + 3] == "^]":
                end = pattern.find("]", i + 3)
            if end < 0:
                raise context.error(f"the GLOB pattern '{pattern}' (an unclosed [)")
            body = pattern[i + 1:end]
            negate = body.startswith("^")
            body = body[1:] if negate else body
            escaped = "".join("\\" + c if c in "\\[]" else c for c in body)
            out.append("[" + ("^" if negate else "") + escaped + "]")
            i = end
        elif char in "\\.^$|()+{}":
            out.append("\\" + char)
        else:
            out.append(char)
        i += 1
    return "".join(out)


# --- IS TRUE / IS FALSE ---------------------------------------------------------------------------------------

def is_boolean(tree: exp.Expr, context: Context) -> None:
    """PostgreSQL: ``x IS TRUE`` wants a boolean x; SQLite's means "x is not NULL and not zero"."""
    for node in reversed(list(tree.find_all(exp.Is))):
        truth = node.expression
        if not isinstance(truth, exp.Boolean):
            continue
        value = node.this if value_type(node.this, context) == INTEGER else call("pf_real", node.this)
        test = exp.NEQ if truth.this else exp.EQ
        node.replace(exp.Paren(this=exp.and_(
            exp.Not(this=exp.Is(this=node.this.copy(), expression=exp.Null())),
            test(this=value.copy(), expression=exp.Literal.number(0)))))


# --- LIMIT / OFFSET -------------------------------------------------------------------------------------------

def limits(tree: exp.Expr, context: Context) -> None:
    for owner in list(tree.find_all(exp.Select, exp.SetOperation)):
        limit = owner.args.get("limit")
        offset = owner.args.get("offset")
        if isinstance(limit, exp.Limit):
            if _bound(limit, "limit", context):
                owner.set("limit", None)
                limit = None
        if isinstance(offset, exp.Offset):
            if _bound(offset, "offset", context):
                owner.set("offset", None)
                offset = None
        if context.dialect != POSTGRES and offset is not None and owner.args.get("limit") is None:
            owner.set("limit", exp.Limit(expression=exp.Literal.number(NO_LIMIT)))


def _bound(clause: exp.Expr, kind: str, context: Context) -> bool:
    """Normalize a LIMIT or OFFSET value; True when the clause has no effect (a negative count)."""
    value_node = clause.expression
    value = literal_value(value_node)
    if value is not COMPUTED:
        number = count_value(value)
        if number < 0:
            return True
        clause.set("expression", exp.Literal.number(number))
        return False
    if isinstance(value_node, exp.Placeholder) and context.dialect != POSTGRES:
        mark(value_node, kind)  # MySQL takes only an integer there; the backend converts the bound value
        return False
    if context.dialect != POSTGRES:
        raise context.error(f"{kind.upper()} with an expression")
    typed = server_cast(value_node.copy(), "BIGINT")
    clause.set("expression", call(f"pf_{kind}", typed))
    return False
