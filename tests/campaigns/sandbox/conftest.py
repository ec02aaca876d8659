"""Fixtures for sandbox tests: a running standalone sandbox and official SDK configurations."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from campaigns.sandbox import control
from campaigns.sandbox.server import make_server

SANDBOX_KEY = "sandbox-key"
SANDBOX_SECRET = "sandbox-secret"


@dataclass(frozen=True)
class RunningSandbox:
    url: str  # "http://127.0.0.1:PORT/"

    @property
    def endpoint(self) -> str:
        """host:port, as the official SDKs' Config(endpoint=...) wants it."""
        return self.url.removeprefix("http://").rstrip("/")


@pytest.fixture(autouse=True)
def fresh_sandbox_settings() -> Iterator[None]:
    control.forget_cache()
    yield
    control.forget_cache()


@pytest.fixture
def sandbox_server(transactional_db: None) -> Iterator[RunningSandbox]:
    """The standalone sandbox on a free port of 127.0.0.1, in a thread of this process."""
    server = make_server("127.0.0.1", 0)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield RunningSandbox(f"http://127.0.0.1:{server.server_address[1]}/")
    server.shutdown()
    server.server_close()


def sdk_config(
    sandbox: RunningSandbox,
    *,
    key: str = SANDBOX_KEY,
    secret: str = SANDBOX_SECRET,
    v1: bool = False,
    read_timeout_ms: int | None = None,
) -> Any:
    """An official SDK configuration pointed at the sandbox (V3 unless ``v1``)."""
    config_module: Any = importlib.import_module("alibabacloud_tea_openapi.utils_models")
    config = config_module.Config(
        access_key_id=key,
        access_key_secret=secret,
        endpoint=sandbox.endpoint,
        protocol="http",
        region_id="cn-hangzhou",
    )
    if v1:
        config.signature_algorithm = "v2"  # the SDK's name for the HMAC-SHA1 RPC signature
    if read_timeout_ms is not None:
        config.read_timeout = read_timeout_ms
    return config
