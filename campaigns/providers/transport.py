"""Pooled HTTP clients: one per endpoint and process, shared by every thread.

An ``httpx.Client`` is thread-safe and keeps connections alive, so threads around one
client keep many calls in flight (measured in DESIGN.md: 261 calls/s from 32 threads at
50 ms latency, against 101 for AsyncClient). A forked worker gets its own clients.
"""

from __future__ import annotations

import os
import threading

import httpx

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 15.0
MAX_CONNECTIONS = 128

_clients: dict[tuple[int, str], httpx.Client] = {}
_lock = threading.Lock()


def new_client(transport: httpx.BaseTransport | None = None) -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
        limits=httpx.Limits(
            max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
        ),
        transport=transport,
        follow_redirects=False,
    )


def pooled_client(endpoint: str) -> httpx.Client:
    """The shared client for ``endpoint`` in this process."""
    key = (os.getpid(), httpx.URL(endpoint).netloc.decode())
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = new_client()
    return client
