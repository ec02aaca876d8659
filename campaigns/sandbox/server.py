"""The standalone sandbox: an HTTP/1.1 server on one thread and a selector, in front of
``service.arrive`` and ``service.answer``.

One thread serves every connection. A thread per connection spent more of the CPU handing
Python's interpreter lock from thread to thread than on the calls (about fifty futex
calls each), and a call's added latency held a thread asleep. Here a call whose latency
or timeout fault makes it wait sits on a timer instead, and the calls that are ready at
one turn of the loop are answered together in one transaction: each in a savepoint of
its own, and none answered before that transaction is committed, so nothing is
acknowledged that could still be lost.

It reads what the SDKs and httpx send: a request line, headers and a Content-Length body,
on keep-alive connections, one call at a time per connection. Each response goes out in
one write with TCP_NODELAY set: a server that writes headers and body separately stalls
about 40 ms per call on keep-alive connections (Nagle and delayed ACK).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import urlsplit

from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    close_old_connections,
    connections,
    transaction,
)

from campaigns.sandbox import ledger
from campaigns.sandbox.gateway import (
    INTERNAL_ERROR,
    Response,
    dispatch,
    json_response,
    new_request_id,
)
from campaigns.sandbox.gateway import Call as GatewayCall
from campaigns.sandbox.service import Arrival, admit, arrive

logger = logging.getLogger(__name__)

IDLE_TIMEOUT_S = 15.0  # a keep-alive connection idle this long is closed
MAX_LINE = 65536  # the limits of http.server
MAX_HEADERS = 100
MAX_BATCH = 64  # calls answered in one transaction at most
READ_SIZE = 262144  # a whole PushMultiple in one recv
BACKLOG = 256
WAL_CHECKPOINT_PAGES = 20_000
REASONS = {status.value: status.phrase for status in HTTPStatus}
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class BadRequest(Exception):
    """A request this server cannot read; it answers ``status`` and closes the connection."""

    def __init__(self, status: HTTPStatus, detail: str) -> None:
        super().__init__(detail)
        self.status = status


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    close: bool  # the client asked to close the connection after the answer

    def for_gateway(self) -> tuple[str, str, str, dict[str, str], bytes]:
        return self.method, self.path, self.query, self.headers, self.body


@dataclass
class Connection:
    sock: socket.socket
    inbox: bytearray = field(default_factory=bytearray)
    outbox: bytes = b""
    busy: bool = False  # a call of this connection is being answered
    continued: bool = False  # "100 Continue" sent for the request being read
    close_when_sent: bool = False
    last_active: float = field(default_factory=time.monotonic)


@dataclass
class Call:
    """A request on its way to its answer."""

    connection: Connection
    request: Request
    arrival: Arrival


def encode(response: Response) -> bytes:
    lines = [f"HTTP/1.1 {response.status} {REASONS[response.status]}"]
    lines += [f"{name}: {value}" for name, value in response.headers.items()]
    lines.append(f"content-length: {len(response.body)}\r\n\r\n")
    return "\r\n".join(lines).encode("latin-1") + response.body


def _line_end(buffer: bytearray | bytes, start: int) -> int:
    return buffer.find(b"\n", start, start + MAX_LINE + 1)


def parse_head(inbox: bytearray) -> tuple[Request, int, int] | None:
    """The request whose head is complete at the start of ``inbox``, its body still empty,
    with where its body starts and how long it is; None while the head is incomplete."""
    end = _line_end(inbox, 0)
    if end < 0:
        if len(inbox) > MAX_LINE:
            raise BadRequest(HTTPStatus.REQUEST_URI_TOO_LONG, "line too long")
        return None
    words = inbox[:end].decode("iso-8859-1").split()
    if len(words) != 3 or words[2] not in ("HTTP/1.0", "HTTP/1.1"):
        raise BadRequest(HTTPStatus.BAD_REQUEST, f"bad request line {' '.join(words)!r}")
    method, target, version = words
    headers: dict[str, str] = {}
    start = end + 1
    for _ in range(MAX_HEADERS + 1):
        end = _line_end(inbox, start)
        if end < 0:
            if len(inbox) - start > MAX_LINE:
                raise BadRequest(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "line too long")
            return None
        line = inbox[start:end].decode("iso-8859-1").rstrip("\r")
        start = end + 1
        if not line:
            break
        name, colon, value = line.partition(":")
        if not colon or not name or name[0] in " \t":
            raise BadRequest(HTTPStatus.BAD_REQUEST, f"bad header line {line!r}")
        # The first of repeated headers counts, as in ``http.server``.
        headers.setdefault(name.lower(), value.strip(" \t"))
    else:
        raise BadRequest(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "too many headers")
    if method != "POST":
        raise BadRequest(HTTPStatus.NOT_IMPLEMENTED, f"unsupported method {method!r}")
    length_text = headers.get("content-length") or "0"
    if not (length_text.isascii() and length_text.isdigit()):
        raise BadRequest(HTTPStatus.BAD_REQUEST, "bad content-length")
    directive = headers.get("connection", "").lower()
    close = directive == "close" or (version == "HTTP/1.0" and directive != "keep-alive")
    if target.startswith("//"):  # as http.server does: never a scheme-relative URL
        target = "/" + target.lstrip("/")
    split = urlsplit(target)
    request = Request(method, split.path or "/", split.query, headers, b"", close)
    return request, start, int(length_text)


class SandboxServer:
    """Serves until ``shutdown``; ``server_close`` ends every connection. The loop runs in
    the thread that calls ``serve_forever``, which also owns its database connection."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.socket = socket.create_server(address, backlog=BACKLOG)
        self.socket.setblocking(False)
        self.server_address: tuple[str, int] = self.socket.getsockname()[:2]
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.socket, selectors.EVENT_READ)
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._selector.register(self._wake_reader, selectors.EVENT_READ)
        self._connections: dict[socket.socket, Connection] = {}
        self._ready: list[Call] = []
        self._timers: list[tuple[float, int, Call]] = []  # (due, order, call)
        self._order = itertools.count()
        self._idle_checked_at = time.monotonic()
        self._tuned: object = None  # the database connection _tune_database set up
        self._stop = threading.Event()
        self._stopped = threading.Event()
        self._stopped.set()

    # The socketserver API the command and the tests use.

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self._stop.clear()
        self._stopped.clear()
        try:
            while not self._stop.is_set():
                try:
                    self.handle_request(poll_interval)
                except Exception:  # a bug of this loop must not take the gateway down
                    logger.exception("sandbox: the server loop failed")
        finally:
            self._close_connections()
            connections.close_all()  # this thread's database connections
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop ``serve_forever`` (in another thread) and wait until it has returned."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"x")
        self._stopped.wait()

    def server_close(self) -> None:
        self._close_connections()
        self._selector.close()
        self.socket.close()
        self._wake_reader.close()
        self._wake_writer.close()

    def handle_request(self, poll_interval: float = 0.5) -> None:
        """One turn of the loop: wait for sockets or the next timer, read what came,
        answer what is ready."""
        now = time.monotonic()
        timeout = poll_interval
        if self._ready:
            timeout = 0
        elif self._timers:
            timeout = max(0.0, min(timeout, self._timers[0][0] - now))
        for key, events in self._selector.select(timeout):
            sock = key.fileobj
            if sock is self.socket:
                self._accept()
            elif sock is self._wake_reader:
                with contextlib.suppress(OSError):
                    self._wake_reader.recv(64)
            else:
                connection = self._connections.get(sock)  # type: ignore[call-overload]
                if connection is None:
                    continue
                if events & selectors.EVENT_WRITE:
                    self._flush(connection)
                if events & selectors.EVENT_READ and connection.sock in self._connections:
                    self._receive(connection)
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            self._ready.append(heapq.heappop(self._timers)[2])
        while self._ready:
            batch, self._ready = self._ready[:MAX_BATCH], self._ready[MAX_BATCH:]
            self._answer(batch)
        if now - self._idle_checked_at > 1.0:
            self._close_idle(now)

    def _tune_database(self) -> None:
        """On SQLite, let this connection's write-ahead log grow to 80 MB before it is
        copied back (pages the ledger writes again and again are copied once, not once
        per 4 MB: a twelfth of the CPU per PushMultiple), and keep statement journals in
        memory."""
        db = connections[DEFAULT_DB_ALIAS]
        if db.vendor != "sqlite":
            return
        db.ensure_connection()
        if db.connection is not self._tuned:
            db.connection.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            db.connection.execute("PRAGMA temp_store=MEMORY")
            self._tuned = db.connection

    # Connections.

    def _accept(self) -> None:
        for _ in range(BACKLOG):
            try:
                sock, _address = self.socket.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                logger.exception("sandbox: accepting a connection failed")
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._connections[sock] = Connection(sock)
            self._selector.register(sock, selectors.EVENT_READ)

    def _receive(self, connection: Connection) -> None:
        try:
            data = connection.sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(connection)
            return
        if not data:
            self._close(connection)
            return
        connection.inbox += data
        connection.last_active = time.monotonic()
        self._next_request(connection)

    def _next_request(self, connection: Connection) -> None:
        """Take the connection's next complete request, if it has one and is not busy."""
        if connection.busy or connection.close_when_sent:
            return
        inbox = connection.inbox
        try:
            head = parse_head(inbox)
        except BadRequest as error:
            body = f"{error.status.phrase}: {error}".encode()
            headers = {"content-type": "text/plain;charset=utf-8", "connection": "close"}
            connection.inbox.clear()
            self._send(connection, encode(Response(error.status, body, headers)), close=True)
            return
        if head is None:
            return
        request, body_start, length = head
        if len(inbox) < body_start + length:
            expect = request.headers.get("expect", "").lower()
            if expect == "100-continue" and not connection.continued:
                connection.continued = True
                self._send(connection, CONTINUE, close=False)
            return
        request.body = bytes(inbox[body_start : body_start + length])
        del inbox[: body_start + length]
        connection.continued = False
        try:
            arrival = arrive()
        except Exception:  # its settings could not be read: a retryable 500, not a crash
            logger.exception("sandbox: a call could not be taken in")
            failure = json_response(500, INTERNAL_ERROR.body(new_request_id()))
            self._send(connection, encode(failure), close=request.close)
            return
        connection.busy = True
        call = Call(connection, request, arrival)
        wait_s = call.arrival.draw.wait_s
        if wait_s:
            due = time.monotonic() + wait_s
            heapq.heappush(self._timers, (due, next(self._order), call))
        else:
            self._ready.append(call)

    def _send(self, connection: Connection, data: bytes, *, close: bool) -> None:
        connection.outbox += data
        connection.close_when_sent = connection.close_when_sent or close
        self._flush(connection)

    def _flush(self, connection: Connection) -> None:
        try:
            sent = connection.sock.send(connection.outbox) if connection.outbox else 0
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._close(connection)
            return
        connection.outbox = connection.outbox[sent:]
        connection.last_active = time.monotonic()
        if connection.outbox:
            self._selector.modify(connection.sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
            return
        with contextlib.suppress(KeyError, ValueError):
            self._selector.modify(connection.sock, selectors.EVENT_READ)
        if connection.close_when_sent:
            self._close(connection)
        elif not connection.busy and connection.inbox:
            self._next_request(connection)

    def _close(self, connection: Connection) -> None:
        if self._connections.pop(connection.sock, None) is None:
            return
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(connection.sock)
        with contextlib.suppress(OSError):
            connection.sock.shutdown(socket.SHUT_RDWR)
        connection.sock.close()

    def _close_idle(self, now: float) -> None:
        self._idle_checked_at = now
        idle = [
            connection
            for connection in self._connections.values()
            if not connection.busy and now - connection.last_active > IDLE_TIMEOUT_S
        ]
        for connection in idle:
            self._close(connection)

    def _close_connections(self) -> None:
        for connection in list(self._connections.values()):
            self._close(connection)
        self._timers.clear()
        self._ready.clear()

    # Answers.

    def _answer(self, batch: list[Call]) -> None:
        """Answer the calls that are ready, then send the answers."""
        try:
            answers = self._answers(batch)
        except Exception:  # the cache or the database failed us: retryable 500s
            logger.exception("sandbox: answering %d calls failed", len(batch))
            answers = [json_response(500, INTERNAL_ERROR.body(c.arrival.request_id)) for c in batch]
        for call, response in zip(batch, answers, strict=True):
            connection = call.connection
            if connection.sock not in self._connections:
                continue  # the client went away while its call waited
            connection.busy = False
            if response is None:  # a dropped connection
                self._close(connection)
            else:
                self._send(connection, encode(response), close=call.request.close)

    def _answers(self, batch: list[Call]) -> list[Response | None]:
        close_old_connections()
        self._tune_database()
        answers = [admit(call.arrival, *call.request.for_gateway()) for call in batch]
        actions = [admitted for admitted in answers if isinstance(admitted, GatewayCall)]
        if not actions:
            return answers  # type: ignore[return-value]
        results = iter(answer_batch(actions))
        return [
            next(results) if isinstance(admitted, GatewayCall) else admitted for admitted in answers
        ]


class _BatchFailed(Exception):
    """A call of a batch failed: the batch's transaction is rolled back."""


def answer_batch(calls: list[GatewayCall]) -> list[Response]:
    """Run the calls' actions in one transaction and return their answers once it is
    committed. If one of them fails, the batch is rolled back and each runs again in a
    transaction of its own, so that it fails alone."""
    try:
        with transaction.atomic(), ledger.batched():
            responses = [dispatch(call) for call in calls]
            if any(response.status >= 500 for response in responses):
                raise _BatchFailed
        return responses
    except (_BatchFailed, DatabaseError):
        return [_run_alone(call) for call in calls]


def _run_alone(call: GatewayCall) -> Response:
    try:
        with transaction.atomic():
            response = dispatch(call)
            if response.status >= 500:  # a failed call leaves nothing half-written
                transaction.set_rollback(True)
            return response
    except DatabaseError:  # the commit failed: nothing of the call was recorded
        logger.exception("sandbox: committing %s %s failed", call.version, call.action)
        return json_response(500, INTERNAL_ERROR.body(call.request_id))


def make_server(host: str = "127.0.0.1", port: int = 0) -> SandboxServer:
    return SandboxServer((host, port))
