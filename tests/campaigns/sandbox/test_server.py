"""The standalone sandbox speaks HTTP/1.1 as clients expect: keep-alive, Content-Length
bodies, Connection: close, Expect: 100-continue, and clear errors for what it cannot read;
and it answers the calls that are ready together without one's failure failing the rest."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, BinaryIO

import httpx
import pytest

from campaigns.models import SandboxMessage, SandboxSettings
from campaigns.providers.base import Account, Credentials, ProviderClient
from campaigns.providers.mpaas import build_push_multiple
from campaigns.providers.mpaas_options import MpaasApp
from campaigns.providers.mpaas_push import DeliveryType, PushMultiple, TargetMessage
from campaigns.sandbox.gateway import HANDLERS, Call
from campaigns.sandbox.server import answer_batch, make_server
from tests.campaigns.sandbox.conftest import SANDBOX_KEY, SANDBOX_SECRET, RunningSandbox

# An unsigned call reaches the gateway, which answers it with 400 IncompleteSignature.
UNSIGNED = b"POST /?Action=PushSimple HTTP/1.1\r\nHost: sandbox\r\nContent-Length: 5\r\n\r\nA=1&B"


@pytest.fixture
def connection(sandbox_server: RunningSandbox) -> Iterator[socket.socket]:
    port = int(sandbox_server.url.rstrip("/").rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        yield client


def read_response(stream: BinaryIO) -> tuple[int, dict[str, str], bytes]:
    status = int(stream.readline().split()[1])
    headers = {}
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.lower()] = value.strip()
    return status, headers, stream.read(int(headers.get("content-length", 0)))


def closed(stream: BinaryIO) -> bool:
    """Whether the server closed the connection: an end of stream, or a reset when the
    server closed it with part of an oversized request still unread."""
    try:
        return stream.read() == b""
    except ConnectionResetError:
        return True


def gateway_code(body: bytes) -> str:
    code: str = json.loads(body)["Code"]
    return code


def test_a_keep_alive_connection_serves_one_call_after_another(
    connection: socket.socket,
) -> None:
    stream = connection.makefile("rb")
    for _ in range(3):
        connection.sendall(UNSIGNED)
        status, headers, body = read_response(stream)
        assert (status, gateway_code(body)) == (400, "IncompleteSignature")
        assert headers["content-type"] == "application/json;charset=utf-8"


def test_a_body_that_arrives_in_pieces_is_read_whole(connection: socket.socket) -> None:
    head, body = UNSIGNED.split(b"\r\n\r\n")
    for piece in (head[:10], head[10:] + b"\r\n", b"\r\n", body[:2], body[2:]):
        connection.sendall(piece)
        time.sleep(0.01)
    status, _, body = read_response(connection.makefile("rb"))
    assert (status, gateway_code(body)) == (400, "IncompleteSignature")


def test_connection_close_ends_the_connection_after_the_answer(
    connection: socket.socket,
) -> None:
    connection.sendall(UNSIGNED.replace(b"Host:", b"Connection: close\r\nHost:"))
    stream = connection.makefile("rb")
    assert read_response(stream)[0] == 400
    assert closed(stream)


def test_an_http_1_0_call_ends_the_connection_unless_kept_alive(
    connection: socket.socket,
) -> None:
    connection.sendall(UNSIGNED.replace(b"HTTP/1.1", b"HTTP/1.0"))
    stream = connection.makefile("rb")
    assert read_response(stream)[0] == 400
    assert closed(stream)


def test_a_client_that_expects_100_continue_gets_it_before_sending_the_body(
    connection: socket.socket,
) -> None:
    head, body = UNSIGNED.split(b"\r\n\r\n")
    connection.sendall(head + b"\r\nExpect: 100-continue\r\n\r\n")
    stream = connection.makefile("rb")
    assert stream.readline() == b"HTTP/1.1 100 Continue\r\n"
    assert stream.readline() == b"\r\n"
    connection.sendall(body)
    assert read_response(stream)[0] == 400


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"POST /\r\n\r\n", 400),
        (b"POST / HTTP/2.0\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: sandbox\r\n\r\n", 501),
        (b"POST / HTTP/1.1\r\nNo colon here\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: \xb2\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\n: no name\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\n" + b"X-Many: 1\r\n" * 101 + b"\r\n", 431),
        (b"POST / HTTP/1.1\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n", 431),
        (b"POST /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
    ],
)
def test_a_request_it_cannot_read_is_refused_and_the_connection_closed(
    connection: socket.socket, request_bytes: bytes, status: int
) -> None:
    connection.sendall(request_bytes)
    stream = connection.makefile("rb")
    answer, headers, _ = read_response(stream)
    assert (answer, headers["connection"]) == (status, "close")
    assert closed(stream)


def test_closing_the_server_ends_idle_keep_alive_connections(transactional_db: None) -> None:
    server = make_server("127.0.0.1", 0)
    port = server.server_address[1]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        server.handle_request()  # accepts the connection; its thread waits for a call
        server.server_close()
        assert client.recv(1) == b""


def push_multiple(url: str, keys: list[str]) -> httpx.Request:
    """A signed PushMultiple of one target per message key."""
    client = ProviderClient(Account(url, Credentials(SANDBOX_KEY, SANDBOX_SECRET)))
    push = PushMultiple(
        task_name="together",
        delivery_type=DeliveryType.USER,
        expired_seconds=3600,
        template_name="sale",
        target_msgs=tuple(
            TargetMessage(f"user{n}", key, {"name": "N", "money": "1"})
            for n, key in enumerate(keys)
        ),
    )
    app = MpaasApp("ONEX570DA89211721", "test")
    return client.signed(build_push_multiple(app, push, now=datetime.now(UTC)))


def test_calls_on_many_connections_record_each_message_key_once(
    sandbox_server: RunningSandbox,
) -> None:
    # Twelve connections at once, each call with a key of its own and the key "shared":
    # the server answers the calls that are ready together, and exactly one delivers it.
    requests = [push_multiple(sandbox_server.url, [f"own-{n}", "shared"]) for n in range(12)]
    with httpx.Client() as http, ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda request: http.send(request).json(), requests))

    assert [answer["ResultCode"] for answer in answers] == ["OK"] * 12
    assert SandboxMessage.objects.count() == 13
    assert SandboxMessage.objects.get(msg_key="shared").attempts == 12
    assert set(SandboxMessage.objects.values_list("msg_key", flat=True)) == {
        "shared",
        *(f"own-{n}" for n in range(12)),
    }


@pytest.mark.django_db(transaction=True)
def test_a_call_that_fails_in_a_batch_fails_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    def record(call: Call) -> dict[str, Any]:
        SandboxSettings.objects.create(seed=int(call.params["seed"]))
        if call.params.get("fail"):
            raise RuntimeError("a bug in the sandbox")
        return {}

    monkeypatch.setitem(HANDLERS, ("test", "Record"), record)
    batch = [
        Call("Record", "test", params, "key", f"request-{n}", datetime.now(UTC))
        for n, params in enumerate([{"seed": "1"}, {"seed": "2", "fail": "1"}, {"seed": "3"}])
    ]
    answers = answer_batch(batch)

    assert [answer.status for answer in answers] == [200, 500, 200]
    assert json.loads(answers[1].body)["Code"] == "InternalError"
    # The batch was rolled back and run again call by call: the failed call's write is
    # gone, the others' are each recorded once.
    assert sorted(SandboxSettings.objects.values_list("seed", flat=True)) == [1, 3]
