"""A local Azure Web PubSub: the data-plane REST calls the server SDK makes, and the client
WebSocket, so ``azure-messaging-webpubsubservice`` and a browser-like client run against it
unchanged (the real service's emulator is a .NET tool that cannot be installed here).

Routes, each imitating the real service:

- ``POST /api/hubs/{hub}/users/{userId}/:send?api-version=…``: ``send_to_user``. Auth: the SDK's
  access-key JWT (HS256 with the key, ``aud`` the request URL as sent, ``exp`` a minute away).
  The body goes to every connection of that user in that hub; ``202``.
- ``POST /api/hubs/{hub}/:generateToken?userId=&minutesToExpire=``: what the SDK asks in keyless
  mode; with a key it signs client tokens itself and never calls this. Answers ``{"token"}``.
- ``GET /client/hubs/{hub}?access_token=…`` (WebSocket): the token must be signed with the key,
  for ``aud`` = ``{endpoint}/client/hubs/{hub}``, unexpired, with a ``sub`` (the user). With the
  ``json.webpubsub.azure.v1`` subprotocol the client first gets ``{"type": "system", "event":
  "connected", "userId", "connectionId"}``, then each message sent to its user as ``{"type":
  "message", "from": "server", "dataType": "json", "data": …}``; without a subprotocol, the
  message as sent (a "simple" client).

Everything is recorded (``sends``, ``connections``, ``refusals``), and ``fail_sends(status)`` makes
the service answer errors, so tests can check that publishing never fails the work.
"""

import asyncio
import json
import secrets
import socket
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

import aiohttp
import jwt
from aiohttp import WSMsgType, web

JSON_SUBPROTOCOL = "json.webpubsub.azure.v1"
API_VERSION = "2024-12-01"


@dataclass(frozen=True)
class Sent:
    """One ``send_to_user`` the service accepted."""

    hub: str
    user_id: str
    content_type: str
    body: bytes

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


@dataclass
class _Connection:
    hub: str
    user_id: str
    subprotocol: str | None
    socket: web.WebSocketResponse


class FakeWebPubSub:
    """``with FakeWebPubSub() as service:`` serves on a free 127.0.0.1 port from a thread."""

    def __init__(self, access_key: str | None = None) -> None:
        self.access_key = access_key or secrets.token_urlsafe(32)
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))  # bound now, so the port is known and stays ours
        self.endpoint = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self.connection_string = (
            f"Endpoint={self.endpoint};AccessKey={self.access_key};Version=1.0;"
        )
        self._lock = threading.Lock()
        self._sends: list[Sent] = []
        self._refusals: list[str] = []
        self._failing: int | None = None
        self._connections: dict[str, list[_Connection]] = defaultdict(list)
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    # --- what tests ask ----------------------------------------------------------------------

    def client_audience(self, hub: str) -> str:
        """The ``aud`` a client token for ``hub`` must carry."""
        return f"{self.endpoint}/client/hubs/{hub}"

    def sends(self, user_id: str | None = None) -> list[Sent]:
        """Messages accepted so far (to ``user_id`` only, if given), oldest first."""
        with self._lock:
            return [sent for sent in self._sends if user_id in (None, sent.user_id)]

    def refusals(self) -> list[str]:
        """Why requests were refused (bad or missing tokens), oldest first."""
        with self._lock:
            return list(self._refusals)

    def connected(self, user_id: str) -> int:
        """How many WebSockets ``user_id`` has open."""
        with self._lock:
            return len(self._connections.get(user_id, []))

    def fail_sends(self, status: int | None) -> None:
        """Answer every send with ``status`` from now on (``None``: accept them again)."""
        with self._lock:
            self._failing = status

    def reset(self) -> None:
        """Forget what was sent and refused, and accept sends again."""
        with self._lock:
            self._sends.clear()
            self._refusals.clear()
            self._failing = None

    # --- the server --------------------------------------------------------------------------

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/hubs/{hub}/users/{user}/:send", self._send_to_user)
        app.router.add_post("/api/hubs/{hub}/:generateToken", self._generate_token)
        app.router.add_get("/client/hubs/{hub}", self._client)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, self._socket).start()

    async def _stop(self) -> None:
        with self._lock:
            sockets = [c.socket for cs in self._connections.values() for c in cs]
        for ws in sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def _refuse(self, reason: str, status: int = 401) -> web.Response:
        with self._lock:
            self._refusals.append(reason)
        return web.json_response({"code": "Unauthorized", "message": reason}, status=status)

    def _server_token(self, request: web.Request) -> str | None:
        """Why the request's server token is refused, or ``None`` if it is good."""
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return "no bearer token"
        if request.query.get("api-version") is None:
            return "no api-version"
        try:
            jwt.decode(
                header.removeprefix("Bearer "),
                self.access_key,
                algorithms=["HS256"],
                audience=str(request.url),
                options={"require": ["exp", "aud"]},
            )
        except jwt.InvalidTokenError as error:
            return f"server token: {type(error).__name__}"
        return None

    async def _send_to_user(self, request: web.Request) -> web.Response:
        refused = self._server_token(request)
        if refused is not None:
            return self._refuse(refused)
        with self._lock:
            failing = self._failing
        if failing is not None:
            return web.json_response({"code": "Scripted"}, status=failing)
        hub, user = request.match_info["hub"], request.match_info["user"]
        content_type = request.headers.get("Content-Type", "")
        sent = Sent(hub, user, content_type, await request.read())
        with self._lock:
            self._sends.append(sent)
            targets = [c for c in self._connections.get(user, []) if c.hub == hub]
        for connection in targets:
            await connection.socket.send_str(_framed(sent, connection.subprotocol))
        return web.Response(status=202)

    async def _generate_token(self, request: web.Request) -> web.Response:
        refused = self._server_token(request)
        if refused is not None:
            return self._refuse(refused)
        hub = request.match_info["hub"]
        minutes = int(request.query.get("minutesToExpire", "60"))
        claims: dict[str, Any] = {
            "aud": self.client_audience(hub),
            "iat": datetime.now(UTC),
            "exp": datetime.now(UTC) + timedelta(minutes=minutes),
        }
        if "userId" in request.query:
            claims["sub"] = request.query["userId"]
        return web.json_response({"token": jwt.encode(claims, self.access_key, "HS256")})

    async def _client(self, request: web.Request) -> web.StreamResponse:
        hub = request.match_info["hub"]
        try:
            claims = jwt.decode(
                request.query.get("access_token", ""),
                self.access_key,
                algorithms=["HS256"],
                audience=self.client_audience(hub),
                options={"require": ["exp", "aud", "sub"]},
            )
        except jwt.InvalidTokenError as error:
            return self._refuse(f"client token: {type(error).__name__}")
        ws = web.WebSocketResponse(protocols=(JSON_SUBPROTOCOL,))
        await ws.prepare(request)
        connection = _Connection(hub, str(claims["sub"]), ws.ws_protocol, ws)
        connection_id = uuid.uuid4().hex
        with self._lock:
            self._connections[connection.user_id].append(connection)
        try:
            if connection.subprotocol == JSON_SUBPROTOCOL:
                await ws.send_json(
                    {
                        "type": "system",
                        "event": "connected",
                        "userId": connection.user_id,
                        "connectionId": connection_id,
                    }
                )
            async for message in ws:  # a receive-only client: what it sends is dropped
                if message.type is WSMsgType.ERROR:
                    break
        finally:
            with self._lock:
                self._connections[connection.user_id].remove(connection)
        return ws


def _framed(sent: Sent, subprotocol: str | None) -> str:
    """What a client connection receives for one message sent to its user."""
    if subprotocol != JSON_SUBPROTOCOL:
        return sent.body.decode()
    kind = sent.content_type.split(";")[0].strip()
    if kind == "application/json":
        return json.dumps(
            {"type": "message", "from": "server", "dataType": "json", "data": sent.json()}
        )
    return json.dumps(
        {"type": "message", "from": "server", "dataType": "text", "data": sent.body.decode()}
    )


def wait_until(check: Any, timeout: float = 10.0) -> None:
    """Poll ``check()`` until it is truthy, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


class Subscriber:
    """A page's side: ``async with Subscriber(url) as page:`` holds a WebSocket on a client access
    URL with the ``json.webpubsub.azure.v1`` subprotocol, open once the service said connected."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.user_id = ""
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession()
        try:
            self._ws = await self._session.ws_connect(self.url, protocols=(JSON_SUBPROTOCOL,))
            hello = await self._ws.receive_json(timeout=5)
        except BaseException:
            await self._session.close()
            raise
        assert (hello["type"], hello["event"]) == ("system", "connected"), hello
        self.user_id = hello["userId"]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()

    async def frames(self, seconds: float) -> list[dict[str, Any]]:
        """Every frame received within ``seconds``."""
        received: list[dict[str, Any]] = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            frame = await self._next(left)
            if frame is not None:
                received.append(frame)
        return received

    async def until(self, wanted: Any, within: float = 30.0) -> list[dict[str, Any]]:
        """Frames received until one whose ``data`` satisfies ``wanted`` (included); fails after
        ``within`` seconds."""
        received: list[dict[str, Any]] = []
        deadline = time.monotonic() + within
        while (left := deadline - time.monotonic()) > 0:
            frame = await self._next(left)
            if frame is None:
                continue
            received.append(frame)
            if wanted(frame.get("data")):
                return received
        raise AssertionError(f"not received within {within} s; got {received}")

    async def _next(self, within: float) -> dict[str, Any] | None:
        assert self._ws is not None
        try:
            message = await self._ws.receive(timeout=within)
        except TimeoutError:
            return None
        if message.type is not WSMsgType.TEXT:
            raise AssertionError(f"the connection ended: {message.type}")
        frame: dict[str, Any] = json.loads(message.data)
        return frame
