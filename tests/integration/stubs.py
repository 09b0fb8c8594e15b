"""A scriptable HTTP/1.1 server on loopback standing in for another server:
each stub is its own "host" for Circles (a free port on 127.0.0.1), records
every request, and answers as the test scripts it."""

from __future__ import annotations

import asyncio
import http
import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from models.actors import Actor, ActorKind
from models.services import follows, remote


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes

    @property
    def url(self) -> str:
        return f"http://{self.headers['host']}{self.path}"

    @property
    def scheme(self) -> str | None:
        if "signature-input" in self.headers:
            return "rfc9421"
        return "cavage" if "signature" in self.headers else None

    @property
    def activity(self) -> dict:
        return json.loads(self.body)


Answer = int | tuple[int, dict] | tuple[int, dict, dict[str, str]] | Awaitable[int]


@dataclass
class StubInbox:
    """Records requests, deliveries (POST) in `received` and the rest (a
    NodeInfo lookup, say) in `fetched`; `respond(request)` returns (or
    awaits) the status, or (status, JSON document) to answer with a body, or
    (status, JSON document, headers)."""

    respond: Callable[[Received], Answer] = lambda request: 202
    received: list[Received] = field(default_factory=list)
    fetched: list[Received] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    port: int = 0  # set before start() to listen on that port (0: any free one)
    _server: asyncio.AbstractServer | None = None
    _tasks: set[asyncio.Task] = field(default_factory=set)

    async def start(self) -> StubInbox:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str = "/inbox") -> str:
        return f"http://{self.host}{path}"

    def activity_ids(self) -> list[str]:
        return [r.activity["id"] for r in self.received]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)
        try:
            while True:  # keep-alive: httpx reuses connections
                line = await reader.readline()
                if not line.strip():
                    break
                method, target, _ = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while (raw := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = raw.decode("latin-1").partition(":")
                    name, value = name.strip().lower(), value.strip()
                    headers[name] = f"{headers[name]}, {value}" if name in headers else value
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                request = Received(method, target, headers, body)
                (self.received if method == "POST" else self.fetched).append(request)
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
                try:
                    status = self.respond(request)
                    if inspect.isawaitable(status):
                        status = await status
                finally:
                    self.in_flight -= 1
                status, document, *extra = status if isinstance(status, tuple) else (status, {"status": status})
                reply = json.dumps(document).encode()
                more = "".join(f"{name}: {value}\r\n" for name, value in (extra[0] if extra else {}).items())
                writer.write(
                    f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\n{more}"
                    f"Content-Type: application/json\r\nContent-Length: {len(reply)}\r\n\r\n".encode() + reply
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()


# --- stand-ins for other servers' software ----------------------------------------


def nodeinfo_server(software: str):
    """A server whose NodeInfo names `software` and whose inbox takes anything."""

    def respond(request):
        host = request.headers["host"]
        if request.path == "/.well-known/nodeinfo":
            return 200, {"links": [{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
                                    "href": f"http://{host}/nodeinfo/2.0"}]}
        if request.path == "/nodeinfo/2.0":
            return 200, {"version": "2.0", "software": {"name": software, "version": "4.3.0"}}
        return 202

    return respond


async def follower_on(server, circle, name: str) -> Actor:
    """A person on `server` who follows (so joins) `circle`."""
    uri = server.url(f"/users/{name}")
    actor = await remote.upsert_actor(remote.RemoteActorInput(
        uri=uri, kind=ActorKind.PERSON, username=name, domain=server.host, inbox_url=f"{uri}/inbox",
        shared_inbox_url=server.url("/inbox"),
    ))
    await follows.receive_follow(actor, circle.actor, f"{uri}/follows/1")
    return actor
