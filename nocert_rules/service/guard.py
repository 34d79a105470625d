"""Slow and too many clients: read timeouts and a connection cap on uvicorn's HTTP protocol.

uvicorn closes an idle keep-alive connection (``timeout_keep_alive``) but waits for ever on a
request whose headers or body never finish, so stalled connections pile up until the process
runs out of file descriptors. :func:`guarded` makes a subclass of uvicorn's protocol class
(h11 or httptools, both keep the request in ``self.cycle``) that

- closes a connection whose request headers are not complete ``header_timeout`` seconds after
  the connection opened or the request's first byte arrived;
- closes a connection whose request body is not complete ``body_timeout`` seconds after its
  headers (the application then sees a client disconnect);
- drops a connection whose answer the client has not read for ``write_timeout`` seconds (the
  write buffer full all that time: a client that sends a batch and never reads would hold the
  answer, and its connection, for ever);
- closes at once, without reading, a connection beyond ``max_connections`` open ones;
- answers 400 and closes a connection whose request headers, or a chunked body's trailers, are
  not complete after ``max_header_bytes`` (httptools, unlike h11, would hold them at any size).

Each closing is logged at INFO in one line, without the client's address or any request bytes.

The protocol also writes through :class:`Coalescing`: what it writes within one turn of the event
loop goes out as one write (uvicorn writes a response's head and its body apart, two system calls).

The protocol is uvicorn's httptools one (llhttp, in C: about 75 µs less CPU per request than
h11 in pure Python, BENCHMARKS.md), made to serve a request asking for an ``Upgrade`` the service
does not offer, body and all (:func:`declining_upgrades`): Java's ``java.net.http`` client asks
for ``h2c`` on every plain-HTTP request by default.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from nocert_rules.service.config import Limits, ServeConfig

logger = logging.getLogger("uvicorn.error")  # where uvicorn logs, so in the same output


class Coalescing:
    """A connection's transport whose writes within one turn of the event loop are sent as one
    (joined at the end of the turn, or before the transport is closed); everything else is the
    transport's own. A response's head and body then cost one system call, not two."""

    __slots__ = ("_transport", "_loop", "_pending")

    def __init__(self, transport: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] | None = None

    def write(self, data: bytes) -> None:
        if not data:
            return
        if self._pending is None:
            self._pending = [data]
            self._loop.call_soon(self._flush)
        else:
            self._pending.append(data)

    def writelines(self, chunks: Any) -> None:
        for data in chunks:
            self.write(data)

    def _flush(self) -> None:
        pending, self._pending = self._pending, None
        if pending:
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._pending = None
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def guarded(base: type[asyncio.Protocol], limits: Limits) -> type[asyncio.Protocol]:
    """A subclass of uvicorn's HTTP protocol class ``base`` enforcing ``limits``."""

    class GuardedProtocol(base):  # type: ignore[valid-type, misc]
        _phase: str | None = None
        _timer: asyncio.TimerHandle | None = None
        _header_bytes = 0
        _chunk_gap = False
        _gap_bytes = 0
        _in_head = False
        _head_began = False
        _write_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            transport = Coalescing(transport, asyncio.get_running_loop())
            super().connection_made(transport)
            if len(self.connections) > limits.max_connections:
                logger.info("connection refused: %d open (cap %d)", len(self.connections) - 1, limits.max_connections)
                transport.close()
                return
            self._arm("headers")

        def data_received(self, data: bytes) -> None:
            continuing = self._in_head  # a request head begun in an earlier read
            self._head_began = False
            in_gap = self._chunk_gap
            super().data_received(data)
            self._follow()
            self._count_header_bytes(len(data) if continuing and not self._head_began else 0)
            self._count_gap_bytes(len(data) if in_gap else 0)

        def on_message_begin(self) -> None:
            """(httptools) A request's first byte: its head is being read, whether or not the one
            before it is still being answered."""
            self._in_head = self._head_began = True
            self._header_bytes = 0
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            self._in_head = False
            super().on_headers_complete()

        def on_chunk_header(self) -> None:
            """(httptools) A chunk's size line is read: until its data, the bytes are a gap."""
            self._chunk_gap, self._gap_bytes = True, 0

        def on_body(self, body: bytes) -> None:
            self._chunk_gap = False
            super().on_body(body)

        def on_chunk_complete(self) -> None:
            """(httptools) The chunk is complete (for the last one, after its trailers)."""
            self._chunk_gap = False

        def _count_gap_bytes(self, size: int) -> None:
            """Trailers (the header lines after a chunked body's last chunk, which httptools holds
            in memory) bounded as headers are: more than ``max_header_bytes`` read after a
            chunk's size line with none of its data (not counting the read that began them):
            answered 400 and closed."""
            if not self._chunk_gap:
                return
            self._gap_bytes += size
            if self._gap_bytes > limits.max_header_bytes and not self.transport.is_closing():
                logger.info("connection closed: request trailers over %d bytes", limits.max_header_bytes)
                self._chunk_gap = False
                self._arm(None)
                self.send_400_response("Request trailers too large.")

        def _count_header_bytes(self, size: int) -> None:
            """Headers still not complete after more than ``max_header_bytes`` read (counting the
            reads within one request's head only: not the one that began it, nor one that
            completed it, either may hold other requests): answered 400 and closed, before the
            parser holds more than one read beyond the limit."""
            if not self._in_head:
                self._header_bytes = 0
                return
            self._header_bytes += size
            if self._header_bytes > limits.max_header_bytes and not self.transport.is_closing():
                logger.info("connection closed: request headers over %d bytes", limits.max_header_bytes)
                self._arm(None)
                self.send_400_response("Request headers too large.")

        def on_response_complete(self) -> None:
            super().on_response_complete()
            # idle between requests (uvicorn's keep-alive timeout applies), unless the next one's
            # head has begun
            self._arm("headers" if self._in_head else None)

        def connection_lost(self, exc: Exception | None) -> None:
            self._arm(None)
            self._unarm_write()
            super().connection_lost(exc)

        def pause_writing(self) -> None:
            """(The transport) The write buffer is full: the client has not read what was sent.
            If it stays full ``write_timeout`` seconds, the connection is dropped."""
            super().pause_writing()
            if self._write_timer is None:
                self._write_timer = self.loop.call_later(limits.write_timeout, self._write_expired)

        def resume_writing(self) -> None:
            self._unarm_write()
            super().resume_writing()

        def _unarm_write(self) -> None:
            if self._write_timer is not None:
                self._write_timer.cancel()
                self._write_timer = None

        def _write_expired(self) -> None:
            """Dropped (``abort``: ``close`` would wait for the buffer to drain, which it never does)."""
            self._write_timer = None
            logger.info("connection closed: answer not read within %g s", limits.write_timeout)
            self.transport.abort()

        def _unsupported_upgrade_warning(self) -> None:
            """An ``Upgrade`` the service does not offer (``h2c``, which Java's ``java.net.http``
            client asks for on every plain-HTTP request) is ignored and the request served over
            HTTP/1.1, as RFC 9110 section 7.8 lets a server do: one DEBUG line, not uvicorn's two
            WARNING lines per request."""
            logger.debug("upgrade not offered; served over HTTP/1.1")

        def _follow(self) -> None:
            """Which part of a request we are waiting for, after the bytes just parsed: the head
            of one pipelined behind another still being answered is timed as any, while the
            connection is read (it had been left untimed until that answer finished: never, when
            the client does not read it)."""
            cycle = self.cycle
            if cycle is None or cycle.response_complete or (self._in_head and not self.flow.read_paused):
                self._arm("headers")  # the first bytes of a request, its headers not complete yet
            elif cycle.more_body:
                self._arm("body")
            else:
                self._arm(None)  # the request is read; the application is answering

        def _arm(self, phase: str | None) -> None:
            if phase == self._phase:
                return
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._phase = phase
            if phase is not None:
                delay = limits.header_timeout if phase == "headers" else limits.body_timeout
                self._timer = self.loop.call_later(delay, self._expired, phase, delay)

        def _expired(self, phase: str, delay: float) -> None:
            self._timer = None
            if self._phase != phase or self.transport.is_closing():
                return
            logger.info("connection closed: request %s not complete within %g s", phase, delay)
            self.transport.close()

    GuardedProtocol.__name__ = GuardedProtocol.__qualname__ = f"Guarded{base.__name__}"
    return GuardedProtocol


def declining_upgrades(base: type[asyncio.Protocol]) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol (``base``), serving a request that asks for an ``Upgrade`` the
    service does not offer (``h2c``) over HTTP/1.1, body and all, as RFC 9110 section 7.8 lets a
    server do (h11 does so as it is).

    httptools treats any such request as switching protocols and skips its body (its
    ``on_headers_complete`` returns 1 when llhttp sees ``Upgrade`` with ``Connection: upgrade``),
    so uvicorn would hand the application an empty body and parse the body as the next request.
    Here the request is given no cycle, and when the parser stops at the upgrade, a new parser is
    fed the request's head again, as received but without its ``Upgrade`` header (as uvicorn
    hands a WebSocket upgrade's head to its WebSocket protocol), then the bytes after it: llhttp
    frames the body (``Content-Length`` or chunked) as for any request. A WebSocket upgrade, when
    offered, is uvicorn's own."""
    import httptools

    class DecliningUpgrades(base):  # type: ignore[valid-type, misc]
        def _declines(self) -> bool:
            """The request asks for an upgrade not offered (``CONNECT``, which llhttp also counts
            as one, is left to uvicorn: it has no ``Upgrade`` header to take away)."""
            return (bool(self.parser.should_upgrade()) and not self._should_upgrade()
                    and self.parser.get_method() != b"CONNECT")

        def on_headers_complete(self) -> None:
            if not self._declines():
                super().on_headers_complete()

        def on_body(self, body: bytes) -> None:
            if not self._declines():
                super().on_body(body)

        def on_message_complete(self) -> None:
            if not self._declines():
                super().on_message_complete()

        def data_received(self, data: bytes) -> None:
            """uvicorn's ``data_received``, each declined request's head fed again, then the bytes
            after it (a loop, not a call per request: a read may hold thousands of them; the bytes
            after it a view, not a copy: copying the rest of the read at each one made a read's
            work grow with the square of its size)."""
            self._unset_keepalive_if_required()
            rest = memoryview(data)
            while rest:
                rest = self._feed(rest)

        def _feed(self, data: bytes | memoryview) -> memoryview:
            """Parse ``data``; after a declined upgrade (its head already fed again to a new
            parser), the bytes after its head, else nothing."""
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserError:
                msg = "Invalid HTTP request received."
                self.logger.warning(msg)
                self.send_400_response(msg)
            except httptools.HttpParserUpgrade as exc:
                if self._should_upgrade():
                    self.handle_websocket_upgrade()
                    return memoryview(b"")
                self._unsupported_upgrade_warning()
                if self._declines():
                    rest = memoryview(data)[exc.args[0]:]
                    self._feed(self._head_without_upgrade())  # no Upgrade: nothing left over
                    if not self.transport.is_closing():  # else its head was refused (400)
                        return rest
            return memoryview(b"")

        def _head_without_upgrade(self) -> bytes:
            """The declined request's head again, without ``Upgrade``, for a new parser."""
            head = [self.parser.get_method(), b" ", self.url, b" HTTP/",
                    self.parser.get_http_version().encode("ascii"), b"\r\n"]
            for name, value in self.headers:
                if name != b"upgrade":
                    head += [name, b": ", value, b"\r\n"]
            head.append(b"\r\n")
            self.parser = httptools.HttpRequestParser(self)
            with contextlib.suppress(AttributeError):  # as uvicorn sets up its parser (httptools >= 0.6.3)
                self.parser.set_dangerous_leniencies(lenient_data_after_close=True)
            return b"".join(head)

    DecliningUpgrades.__name__ = DecliningUpgrades.__qualname__ = f"Declining{base.__name__}"
    return DecliningUpgrades


def protocol_class(limits: Limits) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol, declining upgrades (:func:`declining_upgrades`), guarded by
    ``limits``."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    return guarded(declining_upgrades(HttpToolsProtocol), limits)


def __getattr__(name: str) -> Any:
    """``EnvironmentProtocol``: the guarded class for a ``--workers`` process, its limits read from
    the configuration in ``NOCERT_SERVE_CONFIG`` (uvicorn imports it by name in each worker)."""
    if name == "EnvironmentProtocol":
        return protocol_class(ServeConfig.from_environment().limits())
    raise AttributeError(name)
