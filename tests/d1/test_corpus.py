"""The translation corpus: every statement of tests/d1/corpus.py on SQLite and on a server backend, compared
value by value with its type (``1`` and ``1.0``, ``'2'`` and ``2`` differ), with the column names, ``changes``
and ``last_row_id``, or the error.

Statements run through the backend as the binding runs them (``plan`` then ``execute``), below the Worker's
JavaScript conversion that would blur an INTEGER 2 and a REAL 2.0. Run with ``-s`` to see the fraction per
engine. A statement may differ only if ``corpus.EXCEPTIONS`` lists it for that engine, with a reason that
docs/d1-backends.md states; an exception that no longer differs fails too, so the list stays exact.
"""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from portflare.backends import BackendTarget
from portflare.bindings.d1 import D1Database, open_binding
from portflare.bindings.d1.base import SqlError
from portflare.bindings.d1.validate import bind_value, plan
from tests.conftest import require_service
from tests.d1.corpus import EXCEPTIONS, SCENARIOS, SHAPE, UNORDERED, Step
from tests.d1.servers import MYSQL_URL, POSTGRES_URL, drop_database

SERVERS = {"postgres": (POSTGRES_URL, 5432), "mysql": (MYSQL_URL, 3306)}
DOCS = (Path(__file__).resolve().parents[2] / "docs" / "d1-backends.md").read_text()


def _typed(value: Any) -> tuple[str, Any]:
    return type(value).__name__, value


async def _outcome(db: D1Database, step: Step) -> Any:
    sql, params = step[0], tuple(map(bind_value, step[1]))
    try:
        statements = plan(sql, params)
        results = await db.backend.execute(statements, atomic=len(statements) > 1)
    except SqlError as exc:
        return "error", str(exc)
    if len(results) > 1:
        return [(r.changes, r.last_row_id) for r in results]
    result = results[0]
    rows = [[(column, *_typed(value)) for column, value in zip(result.columns, row, strict=True)]
            for row in result.rows]
    if len(step) > 2 and step[2] == SHAPE:
        rows = [[(c, kind, len(v) if isinstance(v, str) else None) for c, kind, v in row] for row in rows]
    if len(step) > 2 and step[2] == UNORDERED:
        rows.sort(key=repr)
    return rows, result.changes, result.last_row_id


def test_every_exception_is_documented() -> None:
    for (backend, sql), reason in EXCEPTIONS.items():
        assert reason in DOCS, f"{backend}: {sql!r}: the reason is not in docs/d1-backends.md: {reason!r}"


@pytest.mark.parametrize("backend", sorted(SERVERS))
async def test_corpus_matches_sqlite(backend: str, tmp_path: Path) -> None:
    url, port = SERVERS[backend]
    require_service(backend, "127.0.0.1", port)
    total = matched = 0
    failures: list[str] = []
    differing: set[str] = set()
    reasons: Counter[str] = Counter()
    for scenario, steps in SCENARIOS.items():
        resource = f"corpus_{uuid.uuid4().hex[:10]}"
        reference = await open_binding(BackendTarget("d1", "DB", resource, tmp_path / scenario))
        server = await open_binding(BackendTarget("d1", "DB", resource, tmp_path, url))
        try:
            for step in steps:
                expected = await _outcome(reference, step)
                got = await _outcome(server, step)
                total += 1
                reason = EXCEPTIONS.get((backend, step[0]))
                if got == expected:
                    matched += 1
                elif reason is not None:
                    reasons[reason] += 1
                    differing.add(step[0])
                else:
                    failures.append(f"[{scenario}] {step[0]!r} {step[1]!r}\n  sqlite: {expected!r}\n  "
                                    f"{backend}: {got!r}")
        finally:
            await reference._aclose()
            await server._aclose()
            await drop_database(backend, resource)
    for (engine, sql), reason in EXCEPTIONS.items():
        if engine == backend and sql not in differing:
            failures.append(f"{sql!r} is excused on {backend} ({reason}) but gives SQLite's results")
    print(f"\nD1 corpus on {backend}: {matched}/{total} statements give SQLite's results "
          f"({100 * matched / total:.1f} %); the other {sum(reasons.values())} are documented exceptions "
          "(docs/d1-backends.md):")
    for reason, count in reasons.most_common():
        print(f"  {count:3d}  {reason}")
    assert not failures, "\n".join(failures)
