"""The standalone sandbox: a threaded HTTP server in front of ``service.serve``.

Each response goes out in one write with TCP_NODELAY set: a server that writes headers and
body separately stalls about 40 ms per call on keep-alive connections (Nagle and delayed
ACK), and every benchmark would measure that stall instead of Pushdeck.
"""

from __future__ import annotations

import socket
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from django.db import close_old_connections, connection

from campaigns.sandbox.service import serve


class GatewayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs and httpx use it
    server_version = "PushdeckSandbox/1"

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
    daemon_threads = True
    request_queue_size = 256


def make_server(host: str = "127.0.0.1", port: int = 0) -> SandboxServer:
    return SandboxServer((host, port), GatewayHandler)
