"""``env.DB``: the D1 binding a Worker calls, shaped as Cloudflare's ``D1Database`` (workerd ``d1-api.ts``).

Results are ``JsDict``/``JsList`` (``result.results`` and ``result["results"]`` both work, ``.to_py()`` is a
no-op), errors ``JsException`` whose text is D1's (``Error: D1_ERROR: no such table: t: SQLITE_ERROR``).
Nothing here knows which database runs the SQL: that is the backend's job (``base.py``).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from portflare.bindings.d1.base import (
    D1Backend,
    ImmediateD1Backend,
    RowsResult,
    SqlError,
    SqlValue,
    Statement,
    StatementResult,
)
from portflare.bindings.d1.splitter import is_blank
from portflare.bindings.d1.validate import (
    NO_STATEMENTS,
    bind_values,
    d1_error,
    plan,
    read_row,
    read_value,
    reraise,
    single,
)
from portflare.errors import JsException
from portflare.jsobject import JsDict, JsList, py_value

SERVED_BY = "portflare.db"
Rows = tuple[tuple[str, ...], list[tuple[SqlValue, ...]]]  # column names and rows, for first() and raw()
Params = tuple[SqlValue, ...]
_R = TypeVar("_R")
_CONSTRAINTS = ("first-unconstrained", "first-primary")


class D1Database:
    """A D1 database over one backend. ``prepare`` does no I/O; every awaited call is one backend request."""

    def __init__(self, backend: D1Backend) -> None:
        self._backend = backend
        self._run_now_on: Callable[[str, Params], StatementResult] | None = None
        self._rows_now_on: Callable[[str, Params], RowsResult] | None = None
        if isinstance(backend, ImmediateD1Backend):
            self._run_now_on, self._rows_now_on = backend.run_now, backend.rows_now
        # Bookmarks order the database's states; ours only need to grow (lexicographically) within a process,
        # since a local database has one primary and no replicas to wait for.
        self._bookmark_seq = itertools.count(time.time_ns())
        self._bookmark_at = next(self._bookmark_seq)  # formatted only when a session asks for it

    @property
    def _bookmark(self) -> str:
        return _bookmark(self._bookmark_at)

    @property
    def backend(self) -> D1Backend:
        return self._backend

    def prepare(self, query: str) -> D1PreparedStatement:
        return D1PreparedStatement(self, query)

    async def batch(self, statements: Sequence[D1PreparedStatement]) -> JsList:
        """Run the statements in order in one transaction; any failure rolls all back and raises its error.

        Comment-only statements are dropped (so they get no result), as Miniflare drops them.
        """
        groups = [plan_statement(s) for s in py_value(statements)]
        groups = [g for g in groups if g]
        results = await self._execute(groups, atomic=True)
        return JsList(_result(r) for r in results)

    async def exec(self, query: str) -> JsDict:
        """Maintenance SQL without bindings: each line of ``query.strip()`` is one statement (D1's rule).

        Blank and comment-only lines are skipped (not counted); the rest run in one transaction, as Miniflare
        runs them. A failure names its line, counted in ``query.strip()``:
        ``D1_EXEC_ERROR: Error in line <n>: <line>: <message>``. Miniflare always says line 1 (its batch fails
        as a whole); production names the failing line, and so do we.
        """
        lines = query.strip().split("\n")
        groups: list[tuple[int, list[Statement]]] = []
        for number, line in enumerate(lines, 1):
            if is_blank(line):
                continue
            try:
                groups.append((number, plan(line, ())))
            except SqlError as exc:
                reraise(_exec_error(number, line, exc))
        if not groups:
            raise d1_error(NO_STATEMENTS)
        owners = [number for number, group in groups for _ in group]
        try:
            results = await self._backend.execute([s for _, g in groups for s in g], atomic=True)
        except SqlError as exc:
            number = owners[exc.index] if exc.index is not None else groups[0][0]
            reraise(_exec_error(number, lines[number - 1], exc))
        self._advance(results)
        return JsDict(count=len(groups), duration=sum(r.duration for r in results))

    async def dump(self) -> memoryview:
        """The database as an SQLite database file, in the ``memoryview`` an ``ArrayBuffer`` becomes in Python:
        what workerd's deprecated ``dump()`` returns (D1 answered it for alpha databases). On PostgreSQL/MySQL
        the file is built from the database's export. Errors are ``D1_DUMP_ERROR: <msg>``. For SQL text,
        ``portflare d1 export`` writes wrangler's export format."""
        try:
            image = await self._backend.database_file()
        except SqlError as exc:
            reraise(d1_error(str(exc), prefix="D1_DUMP_ERROR"))
        return memoryview(image)

    def withSession(self, constraintOrBookmark: str | None = None) -> D1DatabaseSession:
        """A session starting from a constraint (``"first-primary"``, ``"first-unconstrained"``, the default
        for None or blank) or from a bookmark returned by ``getBookmark()``."""
        if constraintOrBookmark is not None and not isinstance(constraintOrBookmark, str):
            raise d1_error("invalid bookmark or constraint", prefix="D1_SESSION_ERROR")
        return D1DatabaseSession(self, (constraintOrBookmark or "").strip() or "first-unconstrained")

    async def _aclose(self) -> None:
        await self._backend.close()

    async def _execute(self, groups: list[list[Statement]], *, atomic: bool) -> list[StatementResult]:
        """Run statement groups (one per prepared statement) and merge each group's results into one."""
        if not groups or not all(groups):
            raise d1_error(NO_STATEMENTS)
        try:
            results = await self._backend.execute([s for g in groups for s in g], atomic=atomic)
        except SqlError as exc:
            reraise(d1_error(str(exc)))
        self._advance(results)
        if len(results) == len(groups):  # one statement per prepare(): nothing to merge
            return results
        merged = []
        position = 0
        for group in groups:
            merged.append(_merge(results[position:position + len(group)]))
            position += len(group)
        return merged

    def _advance(self, results: Sequence[StatementResult]) -> None:
        for result in results:
            if result.changed_db:
                self._bookmark_at = next(self._bookmark_seq)
                return

    def _run_now(self, statement: D1PreparedStatement) -> StatementResult | None:
        """``statement``'s result, run at once when the backend can (``ImmediateD1Backend``) and it is one
        statement; None otherwise, and the caller awaits ``_run_one``. A result is never falsy, so callers
        write ``_run_now(s) or await _run_one(s)``."""
        result = self._immediately(statement, self._run_now_on)
        if result is not None and result.changed_db:
            self._bookmark_at = next(self._bookmark_seq)
        return result

    def _rows_now(self, statement: D1PreparedStatement) -> Rows | None:
        """``_run_now`` for ``first``/``raw``, which show no ``meta``: the backend skips building it."""
        result = self._immediately(statement, self._rows_now_on)
        if result is None:
            return None
        columns, rows, _, changed = result
        if changed:
            self._bookmark_at = next(self._bookmark_seq)
        return columns, rows

    def _immediately(self, statement: D1PreparedStatement, run: Callable[[str, Params], _R] | None) -> _R | None:
        """``run`` on ``statement``'s one checked statement; None when the backend has no ``run`` (it waits on
        I/O) or ``statement`` is several statements (those share a transaction: ``_run_one``)."""
        if run is None:
            return None
        params = statement.params
        try:
            sql = single(statement.statement, params)
            return None if sql is None else run(sql, params)
        except SqlError as exc:
            reraise(d1_error(str(exc)))

    async def _rows_one(self, statement: D1PreparedStatement) -> Rows:
        """``_rows_now`` when that returned None: on a server backend, or for several statements."""
        result = await self._run_one(statement)
        return result.columns, result.rows

    async def _run_one(self, statement: D1PreparedStatement) -> StatementResult:
        try:
            group = plan(statement.statement, statement.params)
        except SqlError as exc:
            reraise(d1_error(str(exc)))
        if len(group) != 1:
            # Several statements from one prepare() share a transaction.
            return (await self._execute([group], atomic=True))[0]
        # The point query's path: one statement autocommits atomically by itself, and there is nothing to merge.
        try:
            result = (await self._backend.execute(group, atomic=False))[0]
        except SqlError as exc:
            reraise(d1_error(str(exc)))
        if result.changed_db:
            self._bookmark_at = next(self._bookmark_seq)
        return result


class D1PreparedStatement:
    """SQL plus bound values. Immutable: ``bind`` returns a new statement."""

    __slots__ = ("_db", "params", "statement")

    def __init__(self, database: D1Database, statement: str, params: tuple[SqlValue, ...] = ()) -> None:
        self._db = database
        self.statement = statement
        self.params = params

    def bind(self, *values: Any) -> D1PreparedStatement:
        """Convert the values now (``D1_TYPE_ERROR`` raises here, as in workerd) into a new statement."""
        return D1PreparedStatement(self._db, self.statement, bind_values(values))

    async def first(self, colName: str | None = None) -> Any:
        """The first row (or ``None``); with ``colName``, that column's value. The SQL gets no LIMIT."""
        db = self._db
        columns, rows = db._rows_now(self) or await db._rows_one(self)
        if not rows:
            return None
        row = read_row(columns, rows[0])
        if colName is None:
            return row
        if colName not in row:
            raise d1_error(f"Column not found ({colName})", prefix="D1_COLUMN_NOTFOUND", cause="Column not found")
        return row[colName]

    async def all(self) -> JsDict:
        db = self._db
        return _result(db._run_now(self) or await db._run_one(self))

    async def run(self) -> JsDict:
        """The same as ``all()`` (workerd made them aliases); ``results`` is ``[]`` for writes."""
        db = self._db
        return _result(db._run_now(self) or await db._run_one(self))

    async def raw(self, options: Any = None, *, columnNames: bool = False) -> JsList:
        """Rows as lists; ``columnNames=True`` (or ``{"columnNames": True}``) prepends the column names,
        even when there are no rows. Duplicate column names are all kept here, unlike in row objects."""
        options = py_value(options)
        if isinstance(options, dict):
            columnNames = bool(options.get("columnNames", columnNames))
        db = self._db
        columns, rows = db._rows_now(self) or await db._rows_one(self)
        values = JsList(JsList(read_value(v) for v in row) for row in rows)
        if columnNames:
            values.insert(0, JsList(columns))
        return values

    def __repr__(self) -> str:
        return f"D1PreparedStatement({self.statement!r}, params={self.params!r})"


class D1DatabaseSession:
    """``db.withSession(...)``: sequentially consistent queries, and the bookmark of the latest state seen."""

    def __init__(self, database: D1Database, constraint_or_bookmark: str) -> None:
        self._db = database
        self._bookmark: str | None = None if constraint_or_bookmark in _CONSTRAINTS else constraint_or_bookmark

    def prepare(self, query: str) -> D1PreparedStatement:
        return _SessionStatement(self, query)

    async def batch(self, statements: Sequence[D1PreparedStatement]) -> JsList:
        results = await self._db.batch(statements)
        self._seen()
        return results

    def getBookmark(self) -> str | None:
        return self._bookmark

    def _seen(self) -> None:
        latest = self._db._bookmark
        if self._bookmark is None or latest > self._bookmark:
            self._bookmark = latest


class _SessionStatement(D1PreparedStatement):
    """A statement prepared on a session: it records the bookmark after each run."""

    __slots__ = ("_session",)

    def __init__(self, session: D1DatabaseSession, statement: str, params: tuple[SqlValue, ...] = ()) -> None:
        super().__init__(session._db, statement, params)
        self._session = session

    def bind(self, *values: Any) -> D1PreparedStatement:
        return _SessionStatement(self._session, self.statement, bind_values(values))

    async def first(self, colName: str | None = None) -> Any:
        try:
            return await super().first(colName)
        finally:
            self._session._seen()

    async def all(self) -> JsDict:
        try:
            return await super().all()
        finally:
            self._session._seen()

    async def run(self) -> JsDict:
        try:
            return await super().run()
        finally:
            self._session._seen()

    async def raw(self, options: Any = None, *, columnNames: bool = False) -> JsList:
        try:
            return await super().raw(options, columnNames=columnNames)
        finally:
            self._session._seen()


def plan_statement(statement: D1PreparedStatement) -> list[Statement]:
    if not isinstance(statement, D1PreparedStatement):
        raise d1_error(f"Invalid statement: {statement!r}")
    try:
        return plan(statement.statement, statement.params)
    except SqlError as exc:
        reraise(d1_error(str(exc)))


def _merge(results: Sequence[StatementResult]) -> StatementResult:
    """Several statements of one ``prepare``: the last one's rows, meta summed over all (as one request)."""
    if len(results) == 1:
        return results[0]
    last = results[-1]
    return StatementResult(
        columns=last.columns, rows=last.rows, changes=sum(r.changes for r in results),
        last_row_id=last.last_row_id, rows_read=sum(r.rows_read for r in results),
        rows_written=sum(r.rows_written for r in results), duration=sum(r.duration for r in results),
        size_after=last.size_after, changed_db=any(r.changed_db for r in results),
    )


def _result(result: StatementResult) -> JsDict:
    columns = result.columns
    duration = result.duration
    # Dict displays rather than keyword arguments: this runs for every all()/run().
    return JsDict({
        "success": True,
        "meta": JsDict({
            "served_by": SERVED_BY,
            "served_by_region": "local",
            "served_by_primary": True,
            "timings": JsDict({"sql_duration_ms": duration}),
            "duration": duration,
            "changes": result.changes,
            "last_row_id": read_value(result.last_row_id),
            "changed_db": result.changed_db,
            "size_after": result.size_after,
            "rows_read": result.rows_read,
            "rows_written": result.rows_written,
        }),
        "results": JsList([read_row(columns, row) for row in result.rows]) if result.rows else JsList(),
    })


def _exec_error(number: int, line: str, exc: SqlError) -> JsException:
    return d1_error(f"Error in line {number}: {line}: {exc}", prefix="D1_EXEC_ERROR")


def _bookmark(seq: int) -> str:
    return f"{seq:020x}"
