"""The standalone sandbox: a threaded HTTP/1.1 server in front of ``service.serve``.

It reads requests itself rather than through ``http.server.BaseHTTPRequestHandler``, which
parses headers with ``email.parser`` and took about four times the CPU per call. What it
has to read is what the SDKs and httpx send: a request line, headers and a Content-Length
body, on keep-alive connections.

Each response goes out in one write with TCP_NODELAY set: a server that writes headers and
body separately stalls about 40 ms per call on keep-alive connections (Nagle and delayed
ACK), and every benchmark would measure that stall instead of Pushdeck.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from django.db import close_old_connections, connection

from campaigns.sandbox import ledger
from campaigns.sandbox.faults import FAULTS
from campaigns.sandbox.gateway import Response
from campaigns.sandbox.service import serve

IDLE_TIMEOUT_S = 15.0
MAX_LINE = 65536  # the limits of http.server
MAX_HEADERS = 100
REASONS = {status.value: status.phrase for status in HTTPStatus}
URI_TOO_LONG = HTTPStatus.REQUEST_URI_TOO_LONG  # looked up once: an enum's attributes are slow
HEADERS_TOO_LARGE = HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE


class BadRequest(Exception):
    """A request this server cannot read; it answers ``status`` and closes the connection."""

    def __init__(self, status: HTTPStatus, detail: str) -> None:
        super().__init__(detail)
        self.status = status


class GatewayHandler(socketserver.StreamRequestHandler):
    """Serves the requests of one connection, one after the other."""

    timeout = IDLE_TIMEOUT_S  # a keep-alive connection idle this long is closed
    # Large enough for a whole PushMultiple in one recv: with http.server's 8 KiB, a call
    # took three, and each one hands the GIL to another connection's thread and back.
    rbufsize = 65536

    server: SandboxServer

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        ledger.commit_through(self.server.group_commit)

    def handle(self) -> None:
        with contextlib.suppress(TimeoutError, ConnectionError):
            try:
                while self.handle_one_request():
                    pass
            except BadRequest as error:
                body = f"{error.status.phrase}: {error}".encode()
                headers = {"content-type": "text/plain;charset=utf-8", "connection": "close"}
                self.send(Response(error.status, body, headers))

    def finish(self) -> None:
        super().finish()
        ledger.commit_through(None)
        connection.close()  # this thread's database connection ends with its socket

    def handle_one_request(self) -> bool:
        """Answer one request; False when the connection is to be closed."""
        words = self.read_line(URI_TOO_LONG).split()
        if not words:  # the client closed the connection, or sent an empty line
            return False
        if len(words) != 3 or words[2] not in ("HTTP/1.0", "HTTP/1.1"):
            raise BadRequest(HTTPStatus.BAD_REQUEST, f"bad request line {' '.join(words)!r}")
        method, target, version = words
        headers = self.read_headers()
        directive = headers.get("connection", "").lower()
        close = directive == "close" or (version == "HTTP/1.0" and directive != "keep-alive")
        if method != "POST":
            raise BadRequest(HTTPStatus.NOT_IMPLEMENTED, f"unsupported method {method!r}")
        body = self.read_body(headers, version)
        if body is None:
            return False
        if target.startswith("//"):  # as http.server does: never a scheme-relative URL
            target = "/" + target.lstrip("/")
        split = urlsplit(target)
        close_old_connections()
        response = serve(method, split.path or "/", split.query, headers, body)
        if response is None:
            self.request.shutdown(socket.SHUT_RDWR)
            return False
        self.send(response)
        return not close

    def read_line(self, too_long: HTTPStatus) -> str:
        line = self.rfile.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise BadRequest(too_long, "line too long")
        return line.decode("iso-8859-1")

    def read_headers(self) -> dict[str, str]:
        """The headers with lower-case names; the first of repeated headers counts, as in
        ``http.server``."""
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADERS + 1):
            line = self.read_line(HEADERS_TOO_LARGE)
            if line in ("\r\n", "\n", ""):
                return headers
            name, colon, value = line.partition(":")
            if not colon or not name or name[0] in " \t":
                raise BadRequest(HTTPStatus.BAD_REQUEST, f"bad header line {line!r}")
            headers.setdefault(name.lower(), value.lstrip(" \t").rstrip("\r\n"))
        raise BadRequest(HEADERS_TOO_LARGE, "too many headers")

    def read_body(self, headers: dict[str, str], version: str) -> bytes | None:
        """The Content-Length body; None when the client closed the connection first."""
        try:
            length = int(headers.get("content-length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            raise BadRequest(HTTPStatus.BAD_REQUEST, "bad content-length")
        if version == "HTTP/1.1" and headers.get("expect", "").lower() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body: bytes = self.rfile.read(length)
        return body if len(body) == length else None

    def send(self, response: Response) -> None:
        lines = [f"HTTP/1.1 {response.status} {REASONS[response.status]}"]
        lines += [f"{name}: {value}" for name, value in response.headers.items()]
        lines.append(f"content-length: {len(response.body)}\r\n\r\n")
        self.wfile.write("\r\n".join(lines).encode("latin-1") + response.body)


class SandboxServer(socketserver.ThreadingTCPServer):
    """Closing it ends every connection and waits for their threads, each of which closes
    its database connection on the way out, then for the ledger's writer.

    The pushes of all connections are recorded by one ``ledger.GroupCommit``: with
    several connections busy, their calls share transactions."""

    allow_reuse_address = True
    request_queue_size = 256
    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], handler: type[GatewayHandler]) -> None:
        super().__init__(address, handler)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self.group_commit = ledger.GroupCommit()
        FAULTS.stopping.clear()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        FAULTS.stopping.set()
        with self._open_lock:
            for open_socket in self._open:
                with contextlib.suppress(OSError):
                    open_socket.shutdown(socket.SHUT_RDWR)
        super().server_close()
        self.group_commit.close()


def make_server(host: str = "127.0.0.1", port: int = 0) -> SandboxServer:
    return SandboxServer((host, port), GatewayHandler)
