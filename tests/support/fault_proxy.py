"""A fault-injecting HTTP/1.1 reverse proxy for tests, in front of the Cosmos DB and Azurite
emulators (both plain HTTP here).

    client ──▶ FaultProxy(target) ──▶ emulator
                 │ each request is checked against the rules, in order; the first that
                 │ matches (method + path pattern + optional predicate) and fires decides:
                 ├─ delay          wait, then forward
                 ├─ reset          drop the connection with a TCP RST; the target never sees it
                 ├─ reset_after    forward, read the answer, then RST: the write happened but
                 │                 its answer is lost
                 └─ answer         reply itself: Cosmos DB's 429 (with ``x-ms-retry-after-ms``),
                                   a 503 in Cosmos DB's or Storage's shape, or any status

A rule fires for its next ``times`` matches (``None``: every one) and, of those, for a
``fraction`` chosen by a seeded random generator, so runs repeat. It counts what it matched and
what it did. Connections are kept alive as the clients ask; each client connection gets its own
connection to the target. Signatures stay valid through the proxy: Cosmos DB and Storage sign
the path and headers, not the host and port.

``with FaultProxy("http://127.0.0.1:8081") as proxy:`` serves on a free 127.0.0.1 port from a
thread of its own, so synchronous tests and subprocesses (devhost workers) can use ``proxy.url``.
Rules and faults: ``tests/support/fault_rules.py``.
"""

import asyncio
import re
import socket
import struct
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

from tests.support.fault_rules import Fault, Request, Rule, body_contains

__all__ = ["Fault", "FaultProxy", "Request", "Rule", "body_contains"]

_NO_BODY = {204, 304}


class FaultProxy:
    """The proxy (see the module); ``add`` rules, read their counters, ``clear`` them."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"the target must be http://host:port, not {target!r}")
        self._target = (parts.hostname, parts.port)
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self.requests = 0  # requests received
        self.connections = 0  # client connections accepted
        self._socket = socket.socket()
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))  # bound now, so the port is known and stays ours
        self.port = int(self._socket.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("the fault proxy did not start")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout=10)

    def add(self, rule: Rule) -> Rule:
        """Put ``rule`` after the others; the first rule that matches a request decides."""
        with self._lock:
            self._rules.append(rule)
        return rule

    def remove(self, rule: Rule) -> None:
        """Stop applying ``rule`` (its counters stay readable)."""
        with self._lock:
            self._rules.remove(rule)

    def clear(self) -> None:
        """Remove every rule and zero the counts."""
        with self._lock:
            self._rules.clear()
            self.requests = self.connections = 0

    def _decide(self, request: Request) -> Fault | None:
        with self._lock:
            self.requests += 1
            for rule in self._rules:
                if rule.matches(request):
                    return rule.fault if rule.fires() else None
        return None

    # --- the server, on the proxy's own thread and loop ------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        open_connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

        async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            open_connections[task] = writer
            with self._lock:
                self.connections += 1
            try:
                await _Connection(self, reader, writer).serve()
            finally:
                open_connections.pop(task, None)

        server = await asyncio.start_server(accepted, sock=self._socket)
        self._started.set()
        async with server:
            await self._stopping.wait()
            server.close()
            # Closing their sockets ends the connections' tasks (a cancelled one would be
            # reported by asyncio's stream callback on Python 3.11).
            for writer in open_connections.values():
                writer.transport.abort()
            if open_connections:
                await asyncio.wait(list(open_connections), timeout=5)


class _Closed(Exception):
    """The peer closed the connection, or sent something that is not HTTP/1.1."""


@dataclass
class _Message:
    head: bytes  # the start line and headers, as received
    start: str
    headers: dict[str, str]
    body: bytes

    @property
    def keep_alive(self) -> bool:
        return "close" not in self.headers.get("connection", "").lower()


async def _read_message(
    reader: asyncio.StreamReader, *, head: bytes = b"", response_to: str = ""
) -> _Message:
    """One request (or, with ``response_to`` its method, one response) with its whole body;
    ``head``: its start line and headers, when already read."""
    if not head:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError) as error:
            raise _Closed from error
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    status = int(lines[0].split()[1]) if response_to else 0
    try:
        body = await _read_body(reader, headers, response_to, status)
    except (asyncio.IncompleteReadError, ConnectionError) as error:
        raise _Closed from error
    return _Message(head, lines[0], headers, body)


async def _read_body(
    reader: asyncio.StreamReader, headers: dict[str, str], response_to: str, status: int
) -> bytes:
    if response_to == "HEAD" or status in _NO_BODY or 100 <= status < 200:
        return b""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks = b""
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            chunks += size_line + await reader.readexactly(size + 2)
            if size == 0:
                return chunks
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"]))
    if response_to:  # a response without a length ends when the target closes
        return await reader.read()
    return b""


def _reset(writer: asyncio.StreamWriter) -> None:
    """Drop the connection with a TCP RST, as a broken network path does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class _Connection:
    """One client connection and its own connection to the target."""

    def __init__(
        self, proxy: FaultProxy, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._proxy = proxy
        self._reader = reader
        self._writer = writer
        self._upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def serve(self) -> None:
        try:
            while await self._one():
                pass
        except (_Closed, ConnectionError, OSError, ValueError, IndexError):
            pass  # the peer went away, or sent something that is not HTTP/1.1
        finally:
            self._close_upstream()
            if not self._writer.transport.is_closing():
                self._writer.close()

    async def _one(self) -> bool:
        """Serve one request; whether the connection stays open for another."""
        try:
            head = await self._reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            return False
        if b"100-continue" in head.lower():  # answer it here: the body is read before forwarding
            self._writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            head = re.sub(rb"(?im)^expect:.*\r\n", b"", head)
        message = await _read_message(self._reader, head=head)
        method, target = message.start.split()[:2]
        path, _, query = target.partition("?")
        request = Request(method, path, query, message.headers, message.body)
        fault = self._proxy._decide(request)
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.action == "reset":
            _reset(self._writer)
            return False
        if fault is not None and fault.action == "answer":
            self._writer.write(_response(fault, message.keep_alive))
            await self._writer.drain()
            return message.keep_alive
        answer = await self._forward(message, method)
        if fault is not None and fault.action == "reset_after":
            _reset(self._writer)
            return False
        self._writer.write(answer.head + answer.body)
        await self._writer.drain()
        return message.keep_alive and answer.keep_alive

    async def _forward(self, message: _Message, method: str) -> _Message:
        """Send the request to the target (reconnecting once if the kept one was closed)."""
        for attempt in (1, 2):
            reused = self._upstream is not None
            reader, writer = await self._connect()
            writer.write(message.head + message.body)
            try:
                await writer.drain()
                answer = await _read_message(reader, response_to=method)
            except (_Closed, ConnectionError):
                self._close_upstream()
                if reused and attempt == 1:
                    continue  # the target closed an idle connection: a fresh one
                raise
            if not answer.keep_alive:
                self._close_upstream()
            return answer
        raise AssertionError("unreachable")

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._upstream is not None and self._upstream[0].at_eof():
            self._close_upstream()  # the target closed it while it was idle
        if self._upstream is None:
            self._upstream = await asyncio.open_connection(*self._proxy._target)
        return self._upstream

    def _close_upstream(self) -> None:
        if self._upstream is not None:
            self._upstream[1].close()
            self._upstream = None


def _response(fault: Fault, keep_alive: bool) -> bytes:
    reason = {429: "Too Many Requests", 503: "Service Unavailable"}.get(fault.status, "Fault")
    lines = [f"HTTP/1.1 {fault.status} {reason}"]
    lines += [f"{name}: {value}" for name, value in fault.headers]
    lines.append(f"Content-Length: {len(fault.body)}")
    if not keep_alive:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + fault.body
