"""The translation corpus: every statement of tests/d1/corpus.py through the binding on SQLite and on a server
backend, compared result by result (rows with their column names, ``changes``, ``last_row_id``, or the error).

Run with ``-s`` to see the fraction that translates and matches; anything short of 100 % fails, except the
statements listed in ``corpus.EXCEPTIONS`` (each documented in docs/d1-backends.md).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from portflare.backends import BackendTarget
from portflare.bindings.d1 import D1Database, open_binding
from portflare.bindings.d1.splitter import split_statements
from portflare.errors import JsException
from tests.conftest import require_service
from tests.d1.corpus import EXCEPTIONS, SCENARIOS, SHAPE
from tests.d1.servers import MYSQL_URL, POSTGRES_URL, drop_database

SERVERS = {"postgres": (POSTGRES_URL, 5432), "mysql": (MYSQL_URL, 3306)}


async def _outcome(db: D1Database, step: tuple[Any, ...]) -> Any:
    sql, params = step[0], step[1]
    try:
        statements = split_statements(sql)
        if len(statements) > 1:
            results = await db.batch([db.prepare(s) for s in statements])
            return [(r.meta.changes, r.meta.last_row_id) for r in results]
        result = await db.prepare(sql).bind(*params).all()
    except JsException as exc:
        return ("error", str(exc))
    rows = [list(row.items()) for row in result.results]
    if len(step) > 2 and step[2] == SHAPE:
        rows = [[(k, type(v).__name__, len(v) if isinstance(v, str) else None) for k, v in row] for row in rows]
    return rows, result.meta.changes, result.meta.last_row_id


@pytest.mark.parametrize("backend", sorted(SERVERS))
async def test_corpus_matches_sqlite(backend: str, tmp_path: Path) -> None:
    url, port = SERVERS[backend]
    require_service(backend, "127.0.0.1", port)
    total = matched = excused = 0
    mismatches: list[str] = []
    for scenario, steps in SCENARIOS.items():
        resource = f"corpus_{uuid.uuid4().hex[:10]}"
        reference = await open_binding(BackendTarget("d1", "DB", resource, tmp_path / scenario))
        server = await open_binding(BackendTarget("d1", "DB", resource, tmp_path, url))
        try:
            for step in steps:
                expected = await _outcome(reference, step)
                got = await _outcome(server, step)
                total += 1
                if got == expected:
                    matched += 1
                elif (backend, step[0]) in EXCEPTIONS:
                    excused += 1
                else:
                    mismatches.append(f"[{scenario}] {step[0]!r} {step[1]!r}\n  sqlite: {expected!r}\n  "
                                      f"{backend}: {got!r}")
        finally:
            await reference._aclose()
            await server._aclose()
            await drop_database(backend, resource)
    print(f"\nD1 corpus on {backend}: {matched}/{total} statements translate and match SQLite "
          f"({100 * matched / total:.1f} %); {excused} documented exceptions (docs/d1-backends.md)")
    assert not mismatches, "\n".join(mismatches)
