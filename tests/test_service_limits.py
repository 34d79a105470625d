"""Slow and too many clients (issue 25 row 8): read timeouts and the connection cap.

Every connection here goes to 127.0.0.1, a handful at a time, each test bounded in time.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest
from live_server import ROOT, LiveServer, live_server

pytest.importorskip("fastapi")

ZIBO = ROOT / "rulesets" / "zibo"
BODY = (ROOT / "examples" / "requests" / "pledge.json").read_bytes()


def connect(base_url: str) -> socket.socket:
    host, port = base_url.removeprefix("http://").split(":")
    s = socket.create_connection((host, int(port)), timeout=10)
    return s


def closed_after(s: socket.socket, limit: float) -> float:
    """Seconds until the server closes ``s`` (reads until EOF); fails past ``limit``."""
    started = time.monotonic()
    s.settimeout(limit)
    try:
        while s.recv(65536):
            pass
    except TimeoutError:
        raise AssertionError(f"connection still open after {limit} s") from None
    except ConnectionResetError:
        pass
    return time.monotonic() - started


def post(base_url: str, body: bytes = BODY) -> bytes:
    s = connect(base_url)
    with s:
        s.sendall(b"POST /v1/decide HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                  b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_stalled_headers_and_bodies_are_closed_within_the_timeouts(tmp_path: Path) -> None:
    with live_server(ZIBO, tmp_path, "--header-timeout", "1", "--body-timeout", "1.5") as srv:
        silent = [connect(srv.base_url) for _ in range(5)]  # never send a byte
        partial = [connect(srv.base_url) for _ in range(5)]  # headers never finished
        for s in partial:
            s.sendall(b"POST /v1/decide HTTP/1.1\r\nHost: t\r\nContent-Type: appl")
        bodies = [connect(srv.base_url) for _ in range(5)]  # body never finished
        for s in bodies:
            s.sendall(b"POST /v1/decide HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(BODY) + BODY[:20])
        started = time.monotonic()
        for s in silent + partial:
            closed_after(s, 6)
        headers_done = time.monotonic() - started
        for s in bodies:
            closed_after(s, 6)
        bodies_done = time.monotonic() - started
        for s in silent + partial + bodies:
            s.close()
        assert 0.5 < headers_done < 4 and 1.0 < bodies_done < 5, (headers_done, bodies_done)
        # a request that is quick enough is still answered
        assert post(srv.base_url).startswith(b"HTTP/1.1 200")
        time.sleep(0.3)
        log = srv.output()
    assert log.count("request headers not complete within 1 s") == 10, log
    assert log.count("request body not complete within 1.5 s") == 5, log
    # the handler saw each stalled body as a client disconnect: one INFO line each, no traceback
    assert log.count("client disconnected before the request body was read (POST /v1/decide)") == 5, log
    assert "Traceback" not in log and "ERROR" not in log, log


def test_a_slow_but_steady_request_within_the_timeouts_is_answered(tmp_path: Path) -> None:
    """The timeouts bound a request's headers and body, not each byte: bytes trickling in but
    finishing in time are decided."""
    with live_server(ZIBO, tmp_path, "--header-timeout", "2", "--body-timeout", "2") as srv:
        s = connect(srv.base_url)
        with s:
            head = (b"POST /v1/decide HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                    b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(BODY))
            for part in (head[:20], head[20:], BODY[:30], BODY[30:]):
                s.sendall(part)
                time.sleep(0.4)
            answer = s.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:100]


def test_connections_over_the_cap_are_closed_at_once_and_the_rest_served(tmp_path: Path) -> None:
    with live_server(ZIBO, tmp_path, "--max-connections", "4", "--header-timeout", "30") as srv:
        time.sleep(0.5)  # the readiness probe's connection is gone
        held = [connect(srv.base_url) for _ in range(4)]
        time.sleep(0.3)
        extra = connect(srv.base_url)
        assert closed_after(extra, 3) < 2  # refused: closed without an answer
        extra.close()
        held[0].close()
        time.sleep(0.3)
        answer = post(srv.base_url)  # room again: served
        for s in held[1:]:
            s.close()
        log = srv.output()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:100]
    assert "connection refused: 4 open (cap 4)" in log, log


def test_each_worker_process_applies_the_timeouts(tmp_path: Path) -> None:
    """With --workers 2 each worker builds the guarded protocol from the configuration it is
    handed (``guard.EnvironmentProtocol``)."""
    with live_server(ZIBO, tmp_path, "--workers", "2", "--header-timeout", "1") as srv:
        stalled = [connect(srv.base_url) for _ in range(4)]
        for s in stalled[:2]:
            s.sendall(b"POST /v1/decide HTTP/1.1\r\nHost: t\r\n")
        for s in stalled:
            assert closed_after(s, 6) < 4
            s.close()
        assert post(srv.base_url).startswith(b"HTTP/1.1 200")


def test_writes_within_one_turn_of_the_loop_go_out_as_one() -> None:
    """``guard.Coalescing``: a response's head and body (two writes) reach the transport as one
    write at the end of the turn, in order; closing sends what is pending first; aborting drops
    it; anything else is the transport's own."""
    import asyncio

    from nocert_rules.service.guard import Coalescing

    class Transport:
        def __init__(self) -> None:
            self.calls: list[tuple[str, bytes]] = []

        def write(self, data: bytes) -> None:
            self.calls.append(("write", data))

        def close(self) -> None:
            self.calls.append(("close", b""))

        def abort(self) -> None:
            self.calls.append(("abort", b""))

        def get_extra_info(self, name: str) -> str:
            return f"info:{name}"

    async def main() -> None:
        loop = asyncio.get_running_loop()
        real = Transport()
        t = Coalescing(real, loop)
        t.write(b"HTTP/1.1 200 OK\r\n\r\n")
        t.write(b"")
        t.write(b"{}")
        assert real.calls == []  # nothing sent within the turn
        await asyncio.sleep(0)
        assert real.calls == [("write", b"HTTP/1.1 200 OK\r\n\r\n{}")]
        t.write(b"a")
        await asyncio.sleep(0)
        t.writelines([b"b", b"c"])
        t.close()
        assert real.calls[1:] == [("write", b"a"), ("write", b"bc"), ("close", b"")]
        await asyncio.sleep(0)
        assert len(real.calls) == 4  # the scheduled flush found nothing left
        t.write(b"lost")
        t.abort()
        await asyncio.sleep(0)
        assert real.calls[4:] == [("abort", b"")] and t.get_extra_info("peername") == "info:peername"

    asyncio.run(main())


H2C = (b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
       b"HTTP2-Settings: AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA\r\n")
"""The headers Java's java.net.http client adds to a plain-HTTP request by default."""


def test_an_h2c_upgrade_is_served_over_http11_without_a_warning_per_request(tmp_path: Path) -> None:
    """RFC 9110 section 7.8: a server may ignore Upgrade. The request (body and all) is decided over
    HTTP/1.1, and the next request on the connection too; nothing is logged at WARNING."""
    with live_server(ZIBO, tmp_path) as srv:
        s = connect(srv.base_url)
        with s:
            request = (b"POST /v1/decide HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n" + H2C
                       + b"Content-Length: %d\r\n\r\n" % len(BODY) + BODY)
            s.sendall(request + request.replace(H2C, b"").replace(b"HTTP/1.1\r\n", b"HTTP/1.1\r\nConnection: close\r\n", 1))
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        answer = b"".join(chunks)
        assert answer.count(b"HTTP/1.1 200 OK") == 2, answer[:300]
        assert b"101 Switching" not in answer
        assert b'"method"' in answer
        time.sleep(0.2)
        output = srv.output()
    assert "WARNING" not in output and "Unsupported upgrade" not in output, output[-2000:]


def _answers(srv_url: str, payload: bytes, pieces: int = 1) -> list[bytes]:
    """The responses to ``payload`` (requests ending with one that closes), sent in ``pieces``."""
    s = connect(srv_url)
    with s:
        step = -(-len(payload) // pieces)
        for i in range(0, len(payload), step):
            s.sendall(payload[i:i + step])
            time.sleep(0.05)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    answer = b"".join(chunks)
    return [part.split(b"\r\n\r\n", 1)[1] for part in answer.split(b"HTTP/1.1 ")[1:]]


def _plain(body: bytes = BODY, *, close: bool = False, extra: bytes = b"") -> bytes:
    return (b"POST /v1/decide HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n" + extra
            + (b"Connection: close\r\n" if close else b"") + b"Content-Length: %d\r\n\r\n" % len(body) + body)


def _chunked(body: bytes, extra: bytes = b"") -> bytes:
    half = len(body) // 2
    return (b"POST /v1/decide HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n" + extra
            + b"Transfer-Encoding: chunked\r\n\r\n"
            + b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (half, body[:half], len(body) - half, body[half:]))


def _decision(body: bytes) -> dict[str, object]:
    import json

    data = json.loads(body)
    assert "method" in data, data
    return data


def test_declined_upgrades_are_decided_as_the_same_request_without_them(tmp_path: Path) -> None:
    """httptools skips the body of any request asking for an upgrade (guard.declining_upgrades):
    each such request, with a Content-Length or a chunked body, sent whole or in pieces that cut
    its head, pipelined before and after plain ones, gets the decision the plain request gets;
    every request on the connection is answered, in order."""
    with live_server(ZIBO, tmp_path) as srv:
        plain = _decision(_answers(srv.base_url, _plain(close=True))[0])
        for pieces in (1, 3, 40):
            got = _answers(srv.base_url, _plain() + _plain(extra=H2C) + _chunked(BODY, H2C) + _chunked(BODY)
                           + _plain(extra=H2C, close=True), pieces)
            assert [_decision(b) for b in got] == [plain] * 5, pieces
        ws = b"Connection: Upgrade\r\nUpgrade: websocket-not-offered\r\n"
        assert [_decision(b) for b in _answers(srv.base_url, _plain(extra=ws, close=True))] == [plain]
        output = srv.output()
    assert "WARNING" not in output and "Traceback" not in output, output[-2000:]


def test_a_connect_request_is_answered_and_not_parsed_again(tmp_path: Path) -> None:
    """CONNECT counts as an upgrade for llhttp but has no Upgrade header to take away: it is left to
    uvicorn (an error answer), never parsed again in a loop."""
    with live_server(ZIBO, tmp_path) as srv:
        s = connect(srv.base_url)
        with s:
            s.sendall(b"CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\nConnection: close\r\n\r\n")
            s.settimeout(10)
            answer = s.recv(65536)
        assert answer.startswith(b"HTTP/1.1 4"), answer[:200]
        assert _decision(_answers(srv.base_url, _plain(close=True))[0])  # still serving


def test_thousands_of_declined_upgrades_in_one_read_are_all_answered(tmp_path: Path) -> None:
    """Each declined request's head is fed again in a loop, not by a call per request: 3,000
    pipelined requests asking for h2c, sent at once, are all answered (a call each overflowed
    the interpreter's stack: none answered, a RecursionError per read)."""
    ask = b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
    with live_server(ZIBO, tmp_path) as srv:
        s = connect(srv.base_url)
        with s:
            s.sendall(ask * 3000 + b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            s.settimeout(30)
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        assert b"".join(chunks).count(b"HTTP/1.1 200 OK") == 3001
        output = srv.output()
    assert "Traceback" not in output and "RecursionError" not in output, output[-2000:]


def _headers_in_pieces(srv_url: str, size: int, pieces: int = 16) -> bytes:
    """The answer to a request whose headers hold ``size`` bytes of padding, sent in ``pieces``
    (what was answered before the server closed, if it did)."""
    pad = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * (size // pieces)) for i in range(pieces))
    chunks = []
    s = connect(srv_url)
    with s:
        try:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n")
            for i in range(pieces):
                s.sendall(pad[i * len(pad) // pieces:(i + 1) * len(pad) // pieces])
                time.sleep(0.02)
            s.sendall(b"\r\n")
        except (ConnectionResetError, BrokenPipeError):
            pass
        try:
            while chunk := s.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
    return b"".join(chunks)


def _flood_is_cut_off(srv: LiveServer, start: bytes, name: bytes, what: str) -> None:
    """``start``, then endless 8 KB ``name`` header lines (until the server closes, 10 s or 200 MB):
    the server closes before 20 MB, grows by less than 50 MiB, logs why in one INFO line and no
    traceback, and goes on serving."""
    import psutil

    server = psutil.Process(srv.process.pid)
    rss = server.memory_info().rss
    line = name + b": " + b"a" * 8000 + b"\r\n"
    sent = 0
    s = connect(srv.base_url)
    with s:
        s.sendall(start)
        started = time.monotonic()
        try:
            while time.monotonic() - started < 10 and sent < 200_000_000:
                s.sendall(line * 16)
                sent += len(line) * 16
        except (ConnectionResetError, BrokenPipeError):
            pass
    assert sent < 20_000_000, f"{sent} bytes of {what} accepted"
    assert server.memory_info().rss - rss < 50 * 2**20
    assert post(srv.base_url).startswith(b"HTTP/1.1 200 OK")  # still serving
    time.sleep(0.2)
    output = srv.output()
    assert f"connection closed: request {what} over 65536 bytes" in output
    assert "Traceback" not in output, output[-2000:]


def test_request_headers_are_bounded(tmp_path: Path) -> None:
    """httptools holds headers of any size (h11 refused past 16 KiB): headers still incomplete past
    64 KiB are answered 400 and the connection closed, before the server holds much more; headers
    under the limit, however slowly sent, are served. Without the cap, 3 s of endless headers
    took the server from 64 to 1,396 MiB."""
    with live_server(ZIBO, tmp_path) as srv:
        assert _headers_in_pieces(srv.base_url, 48 * 1024).startswith(b"HTTP/1.1 200 OK")
        refused = _headers_in_pieces(srv.base_url, 100 * 1024)
        assert refused == b"" or refused.startswith(b"HTTP/1.1 400"), refused[:200]
        _flood_is_cut_off(srv, b"GET /healthz HTTP/1.1\r\nHost: t\r\n", b"X-Pad", "headers")


def _unread_batch(srv_url: str, size: int) -> socket.socket:
    """A connection (4 KB receive buffer) that sends a batch of ``size`` requests (the answer then
    closes it) and reads nothing."""
    body = json.dumps({"requests": [json.loads(BODY)] * size}).encode()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    host, port = srv_url.removeprefix("http://").split(":")
    s.connect((host, int(port)))
    s.sendall(b"POST /v1/decide/batch HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    return s


def _received(s: socket.socket) -> int:
    """Bytes the peer sent until it closed (or reset) the connection."""
    got = 0
    s.settimeout(10)
    try:
        while chunk := s.recv(65536):
            got += len(chunk)
    except ConnectionResetError:
        pass
    return got


def test_an_answer_never_read_is_dropped_after_the_write_timeout(tmp_path: Path) -> None:
    """A client that sends a batch and never reads its answer held the answer and its
    connection for ever (the write buffer full, the handler waiting to send more): past
    ``--write-timeout`` the connection is dropped, in one INFO line, and the server goes on
    serving; a client that reads its answer gets all of it."""
    with live_server(ZIBO, tmp_path, "--write-timeout", "1") as srv:
        whole = _unread_batch(srv.base_url, 1000)
        with whole:
            read = _received(whole)  # read at once: the whole answer
        stuck = _unread_batch(srv.base_url, 1000)
        with stuck:
            time.sleep(3)
            cut = _received(stuck)
        assert cut < read, (cut, read)
        assert post(srv.base_url).startswith(b"HTTP/1.1 200 OK")
        time.sleep(0.2)
        output = srv.output()
        assert output.count("connection closed: answer not read within 1 s") == 1, output[-2000:]
        assert "Traceback" not in output, output[-2000:]


def test_the_header_limit_is_set_by_max_header_bytes(tmp_path: Path) -> None:
    """``--max-header-bytes 8192``: headers of 6 KiB are served, of 12 KiB answered 400 (the
    default, 64 KiB, serves them: the test above), and the log names the limit asked for."""
    with live_server(ZIBO, tmp_path, "--max-header-bytes", "8192") as srv:
        assert _headers_in_pieces(srv.base_url, 6 * 1024).startswith(b"HTTP/1.1 200 OK")
        refused = _headers_in_pieces(srv.base_url, 12 * 1024)
        assert refused == b"" or refused.startswith(b"HTTP/1.1 400"), refused[:200]
        time.sleep(0.2)
        assert "connection closed: request headers over 8192 bytes" in srv.output()


def test_trailers_are_bounded_and_small_ones_served(tmp_path: Path) -> None:
    """A chunked body's trailers are held in memory by httptools like headers: endless ones are
    answered 400 and the connection closed (3 s of them had taken the server from 65 to
    1,534 MiB); a request with a few small trailers, and a body in chunks of one byte each, is
    decided as the plain request."""
    with live_server(ZIBO, tmp_path) as srv:
        plain = _decision(_answers(srv.base_url, _plain(close=True))[0])
        tiny = b"".join(b"1\r\n%s\r\n" % BODY[i:i + 1] for i in range(len(BODY)))
        small = (b"POST /v1/decide HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + tiny
                 + b"0\r\nX-Checksum: abc\r\nX-Other: " + b"b" * 2000 + b"\r\n\r\n")
        assert [_decision(b) for b in _answers(srv.base_url, small, pieces=7)] == [plain]
        _flood_is_cut_off(srv, b"POST /v1/decide HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                          b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n", b"X-Trailer", "trailers")
