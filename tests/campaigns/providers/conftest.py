"""Fixtures for provider tests: a capture server on 127.0.0.1 that records what a client
sends, and the official SDK clients pointed at it (test-only dependencies)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from campaigns.providers.base import Account, Credentials, SignatureVersion

ACCESS_KEY_ID = "LTAI-conformance-key"
ACCESS_KEY_SECRET = "conformance-secret-0123456789"
MPAAS_OK = {
    "RequestId": "B589F4F4-CD68-3CE5-BDA0-6597F33E2391",
    "ResultCode": "OK",
    "ResultMessage": "",
    "PushResult": {"Success": True, "ResultMsg": "", "Data": "903bf653c1b5442b9ba07684767bf9c2"},
}
EMAS_OK = {"RequestId": "9998B3CC-ED9E-4CB3-A8FB-DCC61296BFBC", "MessageId": "501029"}


@dataclass
class CapturedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    query: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    @property
    def params(self) -> dict[str, str]:
        """Every parameter the call carried, from the query string and the form body."""
        return {**self.query, **self.form}


@dataclass
class CaptureServer:
    url: str
    requests: list[CapturedRequest] = field(default_factory=list)
    reply: dict[str, Any] = field(default_factory=lambda: dict(MPAAS_OK))
    status: int = 200  # the HTTP status of every reply, to play a gateway error

    def last(self) -> CapturedRequest:
        assert self.requests, "the capture server received nothing"
        return self.requests[-1]


@pytest.fixture
def capture_server() -> Iterator[CaptureServer]:
    server_state: CaptureServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the clients use it

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            split = urlsplit(self.path)
            server_state.requests.append(
                CapturedRequest(
                    method="POST",
                    path=split.path,
                    headers={name.lower(): value for name, value in self.headers.items()},
                    query=dict(parse_qsl(split.query, keep_blank_values=True)),
                    body=self.rfile.read(length),
                )
            )
            payload = json.dumps(server_state.reply).encode()
            self.send_response(server_state.status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128  # socketserver's default of 5 refuses bursts of clients

    httpd = Server(("127.0.0.1", 0), Handler)
    server_state = CaptureServer(url=f"http://127.0.0.1:{httpd.server_address[1]}/")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield server_state
    httpd.shutdown()
    httpd.server_close()


def sdk_config(server: CaptureServer, signature_version: SignatureVersion) -> Any:
    """An official SDK configuration pointed at the capture server."""
    from alibabacloud_tea_openapi.utils_models import Config

    config = Config(
        access_key_id=ACCESS_KEY_ID,
        access_key_secret=ACCESS_KEY_SECRET,
        endpoint=server.url.removeprefix("http://").rstrip("/"),
        protocol="http",
        region_id="cn-hangzhou",
    )
    if signature_version is SignatureVersion.V1:
        config.signature_algorithm = "v2"  # the SDK's name for the HMAC-SHA1 RPC signature
    return config


def our_account(server: CaptureServer, signature_version: SignatureVersion) -> Account:
    return Account(
        endpoint=server.url,
        credentials=Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET),
        signature_version=signature_version,
    )
