"""The standalone sandbox: a threaded HTTP server in front of ``service.serve``.

Each response goes out in one write with TCP_NODELAY set: a server that writes headers and
body separately stalls about 40 ms per call on keep-alive connections (Nagle and delayed
ACK), and every benchmark would measure that stall instead of Pushdeck.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from django.db import close_old_connections, connection

from campaigns.sandbox.faults import FAULTS
from campaigns.sandbox.service import serve

IDLE_TIMEOUT_S = 15.0


class GatewayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs and httpx use it
    server_version = "PushdeckSandbox/1"
    timeout = IDLE_TIMEOUT_S  # a keep-alive connection idle this long is closed

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def finish(self) -> None:
        super().finish()
        connection.close()  # this thread's database connection ends with its socket

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        close_old_connections()
        response = serve("POST", split.path or "/", split.query, dict(self.headers), body)
        if response is None:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        reason = HTTPStatus(response.status).phrase
        lines = [f"HTTP/1.1 {response.status} {reason}"]
        headers = {**response.headers, "content-length": str(len(response.body))}
        lines += [f"{name}: {value}" for name, value in headers.items()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + response.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class SandboxServer(ThreadingHTTPServer):
    """Closing it ends every connection and waits for their threads, each of which closes
    its database connection on the way out."""

    request_queue_size = 256
    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], handler: type[GatewayHandler]) -> None:
        super().__init__(address, handler)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
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


def make_server(host: str = "127.0.0.1", port: int = 0) -> SandboxServer:
    return SandboxServer((host, port), GatewayHandler)
