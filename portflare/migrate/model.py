"""The schema as the migrator sees it, whatever database it came from.

Column types keep the source's own spelling (``numeric(12,2)``, ``timestamp with time zone``, ``INTEGER``) next
to the dialect they belong to; ``types.py`` maps them. Unique constraints are kept as unique indexes, which is
what SQLite makes of them anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field

INTERNAL_PREFIXES = ("_portflare_", "sqlite_", "_cf_")


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # as the source dialect spells it, lower-cased; "" for SQLite's typeless columns
    nullable: bool = True
    default: str | None = None  # SQL expression in the source dialect
    enum_values: tuple[str, ...] | None = None  # for enum-typed columns
    identity: bool = False  # serial / GENERATED AS IDENTITY / AUTO_INCREMENT / SQLite rowid alias


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str | None = None  # "CASCADE", "SET NULL", ... (None = NO ACTION)
    on_update: str | None = None


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str, ...]  # column names, or SQL expressions (source dialect) / "col DESC"
    unique: bool = False


@dataclass
class Table:
    name: str
    columns: list[Column] = field(default_factory=list)
    primary_key: tuple[str, ...] = ()
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)  # CHECK expressions, source dialect

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"table {self.name} has no column {name}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass
class Schema:
    dialect: str  # "postgres", "sqlite" or "mysql"
    tables: list[Table] = field(default_factory=list)

    def table(self, name: str) -> Table:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)

    def select(self, names: list[str] | tuple[str, ...] | None) -> Schema:
        """Only the named tables (all user tables when ``names`` is empty), in FK-safe order."""
        tables = [t for t in self.tables if not t.name.startswith(INTERNAL_PREFIXES)]
        if names:
            known = {t.name for t in tables}
            missing = [n for n in names if n not in known]
            if missing:
                raise KeyError(", ".join(missing))
            tables = [t for t in tables if t.name in names]
        return Schema(self.dialect, fk_order(tables))


def fk_order(tables: list[Table]) -> list[Table]:
    """Parents before children (Kahn's algorithm, stable on the input order). Self-references are ignored;
    tables caught in a cycle come last in their input order, and the copy defers FK checks for them."""
    by_name = {t.name: t for t in tables}
    parents = {t.name: {fk.ref_table for fk in t.foreign_keys if fk.ref_table != t.name and fk.ref_table in by_name}
               for t in tables}
    ordered: list[Table] = []
    placed: set[str] = set()
    progress = True
    while progress:
        progress = False
        for table in tables:
            if table.name not in placed and parents[table.name] <= placed:
                ordered.append(table)
                placed.add(table.name)
                progress = True
    ordered.extend(t for t in tables if t.name not in placed)
    return ordered
