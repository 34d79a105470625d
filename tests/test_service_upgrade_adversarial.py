"""The service's HTTP protocol (guard.protocol_class) against hostile requests: declined upgrades
(``Upgrade: h2c``) that try to smuggle a request or to make the server work hard, and request
headers that try to escape the header byte limit and timeout.

Driven in process: the protocol class, a transport that records what is written, an ASGI app that
reports what it was given. Each test runs in well under a second.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

pytest.importorskip("httptools")
pytest.importorskip("uvicorn")

from uvicorn.config import Config  # noqa: E402
from uvicorn.server import ServerState  # noqa: E402

from nocert_rules.service.config import Limits  # noqa: E402
from nocert_rules.service.guard import protocol_class  # noqa: E402

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers with the method, target, version, headers and body it was given, as JSON."""
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    out = json.dumps([scope["method"], scope["path"], scope["query_string"].decode("latin-1"),
                      scope["http_version"], [[n.decode("latin-1"), v.decode("latin-1")] for n, v in scope["headers"]],
                      body.decode("latin-1")]).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(out))]})
    await send({"type": "http.response.body", "body": out})


class Transport:
    """What the protocol writes, and whether it closed (closing tells the protocol, as asyncio does)."""

    def __init__(self) -> None:
        self.written = bytearray()
        self.closed = False
        self.protocol: Any = None

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)

    def abort(self) -> None:
        self.close()

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8080), "peername": ("127.0.0.1", 40000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def connection(app: App = echo, **limits: float) -> tuple[Any, Transport]:
    config = Config(app=app, log_level="warning", access_log=False)
    config.load()
    settings = {"header_timeout": 5.0, "body_timeout": 5.0, "max_connections": 100, **limits}
    protocol = protocol_class(Limits(**settings))(config=config, server_state=ServerState(), app_state={})  # type: ignore[arg-type]
    transport = Transport()
    transport.protocol = protocol
    protocol.connection_made(transport)
    return protocol, transport


def exchange(reads: list[bytes]) -> list[Any]:
    """The answers to ``reads`` (each one ``data_received``): each the echo's list, or the status
    line of a non-200 answer."""

    async def main() -> bytes:
        protocol, transport = connection()
        for data in reads:
            if transport.closed:
                break
            protocol.data_received(data)
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        return bytes(transport.written)

    answers: list[Any] = []
    for part in asyncio.run(main()).split(b"HTTP/1.1 ")[1:]:
        head, _, body = part.partition(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0].decode()
        answers.append(json.loads(body) if status == "200 OK" else status)
    return answers


UP = b"Connection: Upgrade\r\nUpgrade: h2c\r\n"
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n"
LAST = b"GET /last HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
BAD = "400 Bad Request"


def seen(answers: list[Any]) -> list[Any]:
    """Each answer as (method, path, query, body), or its status line."""
    return [a if isinstance(a, str) else (a[0], a[1], a[2], a[5]) for a in answers]


@pytest.mark.parametrize(("request_bytes", "expected"), [
    # both Content-Length and chunked, either order: refused, nothing after it served
    (b"POST /a HTTP/1.1\r\nHost: t\r\n" + UP + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"5\r\nhello\r\n0\r\n\r\n" + SMUGGLED + LAST, [BAD]),
    (b"POST /a HTTP/1.1\r\nHost: t\r\n" + UP + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
     b"5\r\nhello\r\n0\r\n\r\n" + SMUGGLED + LAST, [BAD]),
    # two Content-Length headers (same or not)
    (b"POST /a HTTP/1.1\r\nHost: t\r\n" + UP + b"Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello" + LAST, [BAD]),
    # chunked not the last coding, or no chunked at all: a body whose length is unknown
    (b"POST /a HTTP/1.1\r\nHost: t\r\n" + UP + b"Transfer-Encoding: chunked, identity\r\n\r\n"
     b"5\r\nhello\r\n0\r\n\r\n" + LAST, [BAD]),
    (b"POST /a HTTP/1.1\r\nHost: t\r\n" + UP + b"Transfer-Encoding: identity\r\n\r\n" + SMUGGLED + LAST, [BAD]),
    # obs-fold: refused, as without Upgrade
    (b"POST /a HTTP/1.1\r\nHost: t\r\n" + UP + b"Content-Length: 5\r\n 0\r\n\r\nhello" + LAST, [BAD]),
    # a body that is a request is the body, not a request
    (b"POST /a HTTP/1.1\r\nHost: t\r\n" + UP + b"Content-Length: %d\r\n\r\n" % len(SMUGGLED) + SMUGGLED + LAST,
     [("POST", "/a", "", SMUGGLED.decode()), ("GET", "/last", "", "")]),
    # Connection: close on the declined request: what follows is not served
    (b"POST /a HTTP/1.1\r\nHost: t\r\nConnection: close, Upgrade\r\nUpgrade: h2c\r\nContent-Length: 2\r\n\r\nhi"
     + SMUGGLED + LAST, [("POST", "/a", "", "hi")]),
    # HTTP/1.0: one request, as without Upgrade
    (b"GET /a HTTP/1.0\r\nHost: t\r\n" + UP + b"\r\n" + SMUGGLED, [("GET", "/a", "", "")]),
    # absolute form with a query string
    (b"POST http://example.org:81/a/b?x=1&y=%20z HTTP/1.1\r\nHost: t\r\n" + UP + b"Content-Length: 2\r\n\r\nhi" + LAST,
     [("POST", "/a/b", "x=1&y=%20z", "hi"), ("GET", "/last", "", "")]),
])
def test_a_declined_upgrade_is_framed_as_the_same_request_without_it(request_bytes: bytes, expected: list[Any]) -> None:
    """The request head is parsed twice (with Upgrade, then fed again without it): whatever the
    first parse lets through, the second frames as a request without Upgrade would be; a request
    in a body, or after a request that closes, is never served."""
    assert seen(exchange([request_bytes])) == expected
    plain = request_bytes.replace(UP, b"").replace(b"close, Upgrade\r\nUpgrade: h2c", b"close")
    assert seen(exchange([plain])) == expected  # as the same request without Upgrade is


def test_a_declined_upgrade_keeps_its_headers_and_waits_for_100_continue() -> None:
    """Header values are fed again as received (obs-text bytes, inner tabs); every Upgrade header,
    in any case, is taken away; ``Expect: 100-continue`` is answered before the body comes."""
    head = (b"POST /a HTTP/1.1\r\nHost: t\r\nCONNECTION: UPGRADE\r\nUPGRADE: H2C\r\nupgrade: foo\r\n"
            b"X-B: a\x80\xff\tb\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
    async def main() -> bytes:
        protocol, transport = connection()
        protocol.data_received(head)
        await asyncio.sleep(0.02)
        assert bytes(transport.written) == b"HTTP/1.1 100 Continue\r\n\r\n"  # as the app reads; then the body
        protocol.data_received(b"hi" + LAST)
        await asyncio.sleep(0.05)
        return bytes(transport.written)

    written = asyncio.run(main())
    assert written.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK"), written[:100]
    answer = json.loads(written.split(b"\r\n\r\n")[2].split(b"HTTP/1.1 ")[0])
    assert answer[4] == [["host", "t"], ["connection", "UPGRADE"], ["x-b", "a\x80\xff\tb"],
                         ["expect", "100-continue"], ["content-length", "2"]]
    assert answer[5] == "hi"


def test_declined_upgrades_in_one_read_cost_linear_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each declined request's head is fed again, then the bytes after it: as a view of the read,
    not a copy of it joined to the head. For 4,000 declined requests in one read (276 KB) the
    parser is given 276 KB of new bytes (the heads again); joining the rest of the read to each
    head copied 550 MB (the square of the read's size), 4x the time of the read's plain requests."""
    import httptools

    fed = [0]

    class Counting(httptools.HttpRequestParser):  # type: ignore[misc]
        def feed_data(self, data: Any) -> None:
            if not isinstance(data, memoryview):  # a view of bytes held already costs no copy
                fed[0] += len(data)
            super().feed_data(data)

    monkeypatch.setattr(httptools, "HttpRequestParser", Counting)
    ask = b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
    read = ask * 4000 + LAST

    async def main() -> Any:
        protocol, transport = connection()
        protocol.data_received(read)
        requests = len(protocol.pipeline) + len(protocol.tasks)
        for task in list(protocol.tasks):
            task.cancel()
        return requests, protocol.pipeline[0][0].scope["path"]

    requests, last = asyncio.run(main())
    assert (requests, last) == (4001, "/last")
    assert fed[0] < 2 * len(read), f"{fed[0]:,} bytes copied for the parser, for a read of {len(read):,}"


async def _stuck(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An app whose answers never finish (as when the client does not read a large one)."""
    await asyncio.Event().wait()


def test_headers_pipelined_behind_a_request_in_flight_are_bounded_in_size_and_time() -> None:
    """While one request is answered (a large answer the client does not read can take for ever),
    the next one's headers are bounded as any: past ``max_header_bytes`` answered 400 and the
    connection closed; not complete within ``header_timeout``, closed. Both had been left
    unbounded until the answer finished: 12 MB of headers were held and no timer ran."""
    line = b"X-Pad: " + b"a" * 8000 + b"\r\n"

    async def flood() -> tuple[int, bytes]:
        protocol, transport = connection(_stuck)
        protocol.data_received(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        protocol.data_received(b"GET /next HTTP/1.1\r\nHost: t\r\n")
        sent = 0
        while not transport.closed and sent < 12_000_000:
            protocol.data_received(line * 8)
            sent += len(line) * 8
            await asyncio.sleep(0)
        for task in list(protocol.tasks):
            task.cancel()
        return sent, bytes(transport.written)

    sent, written = asyncio.run(flood())
    assert sent < 200_000 and written.startswith(b"HTTP/1.1 400"), (sent, written[:100])

    async def stall() -> bool:
        protocol, transport = connection(_stuck, header_timeout=0.1)
        protocol.data_received(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        protocol.data_received(b"GET /next HTTP/1.1\r\nHost: t\r\n")
        protocol.data_received(b"X-Never-Finished: 1\r\n")
        await asyncio.sleep(0.4)
        for task in list(protocol.tasks):
            task.cancel()
        return transport.closed

    assert asyncio.run(stall())


def test_pipelined_requests_in_reads_that_cut_heads_are_all_answered() -> None:
    """Reads of 70,000 bytes, each cutting a head, of 3,000 pipelined declined requests: all
    answered, none refused as too large a head (only the reads within one head count towards it,
    not one that also holds whole requests)."""
    ask = b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
    data = ask * 3000 + LAST

    async def main() -> bytes:
        protocol, transport = connection()
        for i in range(0, len(data), 70_000):
            protocol.data_received(data[i:i + 70_000])
            while protocol.pipeline and not transport.closed:
                await asyncio.sleep(0)
        for _ in range(100):
            if transport.closed:
                break
            await asyncio.sleep(0.01)
        return bytes(transport.written)

    written = asyncio.run(main())
    assert written.count(b"HTTP/1.1 200 OK") == 3001 and b"HTTP/1.1 400" not in written


def test_a_write_buffer_full_past_the_write_timeout_drops_the_connection() -> None:
    """The transport says the write buffer is full (``pause_writing``): the connection is dropped
    ``write_timeout`` seconds later unless the client reads meanwhile (``resume_writing``), which
    starts the count again."""

    async def main(read_after: float | None) -> bool:
        protocol, transport = connection(write_timeout=0.2)
        protocol.pause_writing()
        if read_after is not None:
            await asyncio.sleep(read_after)
            protocol.resume_writing()
        await asyncio.sleep(0.4)
        closed = transport.closed
        transport.close()
        await asyncio.sleep(0)
        return closed

    assert asyncio.run(main(None))
    assert not asyncio.run(main(0.1))
