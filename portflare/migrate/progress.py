"""The progress bar every long ``migrate`` command shows: rows, rows/s and ETA, on stderr.

Library code reports through a ``Reporter`` (a plain callable protocol), so it stays testable without a
terminal; ``--json`` runs use ``NullReporter``.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class Reporter(Protocol):
    def start(self, name: str, total: int | None, done: int = 0) -> None: ...

    def advance(self, name: str, n: int) -> None: ...

    def finish(self, name: str) -> None: ...


class NullReporter:
    def start(self, name: str, total: int | None, done: int = 0) -> None:
        pass

    def advance(self, name: str, n: int) -> None:
        pass

    def finish(self, name: str) -> None:
        pass


class RateColumn(ProgressColumn):
    """``123,456 rows/s``."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} {self.unit}/s" if speed else f"- {self.unit}/s", style="progress.data.speed")


class BarReporter:
    """A rich progress bar per table (or per namespace/bucket), as a context manager."""

    def __init__(self, unit: str = "rows", console: Console | None = None) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(unit),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=console or Console(stderr=True), transient=False,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> BarReporter:
        self._progress.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._progress.stop()

    def start(self, name: str, total: int | None, done: int = 0) -> None:
        self._tasks[name] = self._progress.add_task(name, total=total, completed=done)

    def advance(self, name: str, n: int) -> None:
        self._progress.advance(self._tasks[name], n)

    def finish(self, name: str) -> None:
        task = self._tasks[name]
        total = self._progress.tasks[self._tasks_index(task)].completed
        self._progress.update(task, total=total)

    def _tasks_index(self, task: TaskID) -> int:
        return next(i for i, t in enumerate(self._progress.tasks) if t.id == task)
