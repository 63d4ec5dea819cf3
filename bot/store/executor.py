"""What the shared SQL runs on: one backend connection, inside the current transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


class Row(Protocol):
    def __getitem__(self, key: str, /) -> Any: ...


class Executor(Protocol):
    """Runs the shared SQL on one backend connection, inside the current transaction."""

    async def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    async def many(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    async def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute; returns the rows changed."""
        ...

    async def send(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Execute a statement whose result nobody needs. Both backends run it at once (psycopg's
        pipeline mode, which would send it with what follows, was measured and left out: see
        docs/performance.md); an error raises here."""
        ...

    async def run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    async def lock(self, name: str, shared: bool = False) -> None:
        """Hold ``name`` until this transaction ends; other transactions asking for it wait
        (shared holders wait only for an exclusive one)."""
        ...

    async def try_lock(self, name: str) -> bool:
        """Like ``lock``, but False at once when another transaction holds it."""
        ...

    async def restart_identities(self, *columns: tuple[str, str]) -> None:
        """After rows were inserted with explicit ids: new rows continue after the largest."""
        ...


@dataclass(frozen=True)
class Changes:
    """What a commit changed, for whoever waits on it."""

    requests: frozenset[int] = frozenset()
    notices: bool = False  # outbox rows were queued
    all_requests: bool = False  # too many to name: every waiter should look again

    def __bool__(self) -> bool:
        return bool(self.requests) or self.notices or self.all_requests


@dataclass
class ChangeLog:
    requests: set[int] = field(default_factory=set)
    notices: bool = False

    def frozen(self) -> Changes:
        return Changes(frozenset(self.requests), self.notices)
