"""A TCP relay in front of PostgreSQL that reads the client's side of the wire protocol and
records every round trip: each simple query (``Q``) and each ``Sync`` (``S``) the client sends
is one wait for the server, whatever statements rode with it. Nothing is changed on the way:
the bot talks to the real database, and the count is the database's own unit of latency.

Statement texts are kept with each round trip: ``Parse`` carries the text (and names a prepared
statement, which a later ``Bind`` uses by name), ``Q`` carries it directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import struct
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

REQUESTS_BEFORE_STARTUP = {80877103, 80877104}  # SSLRequest, GSSENCRequest: answered with one byte


@dataclass(frozen=True)
class RoundTrip:
    connection: int
    statements: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ; ".join(" ".join(s.split()) for s in self.statements)


@dataclass
class _Conn:
    number: int
    prepared: dict[str, str] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)  # statements since the last Sync
    unnamed: str = ""


class WireCounter:
    """``url`` is the database's URL with this relay's address in it."""

    def __init__(self, database_url: str) -> None:
        parts = urlsplit(database_url)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self._parts = parts
        self._server: asyncio.Server | None = None
        self._numbers = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self.trips: list[RoundTrip] = []

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        user = f"{self._parts.username}@" if self._parts.username else ""
        query = "sslmode=disable&gssencmode=disable"
        return urlunsplit((self._parts.scheme, f"{user}127.0.0.1:{port}", self._parts.path, query, ""))

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    def mark(self) -> int:
        return len(self.trips)

    def since(self, mark: int) -> list[RoundTrip]:
        return self.trips[mark:]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        down = asyncio.create_task(self._pipe(up_reader, writer))
        try:
            await self._client(reader, up_writer, _Conn(next(self._numbers)))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            up_writer.close()
            down.cancel()
            with contextlib.suppress(BaseException):
                await down
            writer.close()
            self._tasks.discard(task)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _client(self, reader: asyncio.StreamReader, up: asyncio.StreamWriter, conn: _Conn) -> None:
        while True:  # untyped start-up messages first
            head = await reader.readexactly(8)
            length, code = struct.unpack("!ii", head)
            up.write(head + await reader.readexactly(length - 8))
            await up.drain()
            if code not in REQUESTS_BEFORE_STARTUP:
                break
        while True:
            kind = await reader.readexactly(1)
            (length,) = struct.unpack("!i", await reader.readexactly(4))
            body = await reader.readexactly(length - 4)
            self._read(conn, kind, body)
            up.write(kind + struct.pack("!i", length) + body)
            await up.drain()

    def _read(self, conn: _Conn, kind: bytes, body: bytes) -> None:
        if kind == b"Q":
            self.trips.append(RoundTrip(conn.number, (_cstring(body, 0)[0],)))
        elif kind == b"P":
            name, at = _cstring(body, 0)
            text, _ = _cstring(body, at)
            if name:
                conn.prepared[name] = text
            else:
                conn.unnamed = text
        elif kind == b"B":
            _portal, at = _cstring(body, 0)
            statement, _ = _cstring(body, at)
            conn.pending.append(conn.prepared.get(statement, "?") if statement else conn.unnamed)
        elif kind == b"S":
            self.trips.append(RoundTrip(conn.number, tuple(conn.pending)))
            conn.pending = []


def _cstring(body: bytes, at: int) -> tuple[str, int]:
    end = body.index(b"\0", at)
    return body[at:end].decode("utf-8", "replace"), end + 1
