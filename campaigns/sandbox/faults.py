"""Faults the gateway injects on demand: latency, 5xx errors, throttling, timeouts, dropped
connections. The draw is seeded, so a run with the same seed fails the same calls."""

from __future__ import annotations

import random
import threading
import time
from enum import Enum

from campaigns.sandbox.control import Settings
from campaigns.sandbox.gateway import GatewayError

THROTTLE_RETRY_AFTER_MS = 1000
TIMEOUT_HANG_S = 30.0  # longer than any client's read timeout


class Fault(Enum):
    NONE = "none"
    DROP = "drop"  # close the connection without answering


class Faults:
    """Draws, for each call, whether it fails and how; one stream of draws per seed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seed: int | None = None
        self._random = random.Random(0)  # noqa: S311 - a seeded simulation, not security
        # Set while a server shuts down, so that hanging calls let their threads go.
        self.stopping = threading.Event()

    def _draw(self, seed: int) -> float:
        with self._lock:
            if seed != self._seed:
                self._seed, self._random = seed, random.Random(seed)  # noqa: S311
            return self._random.random()

    def apply(self, settings: Settings) -> Fault:
        """Wait the added latency, then maybe fail: raises GatewayError for an error or
        throttling, hangs for a timeout, returns Fault.DROP for a dropped connection."""
        if settings.latency_ms:
            time.sleep(settings.latency_ms / 1000)
        if not (
            settings.error_rate
            or settings.throttle_rate
            or settings.timeout_rate
            or settings.drop_rate
        ):
            return Fault.NONE
        roll = self._draw(settings.seed)
        if roll < settings.error_rate:
            raise GatewayError(
                503,
                "ServiceUnavailable",
                "The request has failed due to a temporary failure of the server.",
            )
        roll -= settings.error_rate
        if roll < settings.throttle_rate:
            raise GatewayError(
                429,
                "Throttling.User",
                "Request was denied due to user flow control.",
                headers={"x-acs-retry-after": str(THROTTLE_RETRY_AFTER_MS)},
            )
        roll -= settings.throttle_rate
        if roll < settings.timeout_rate:
            self.stopping.wait(TIMEOUT_HANG_S)
            raise GatewayError(500, "Timeout", "The request processing is timeout.")
        roll -= settings.timeout_rate
        if roll < settings.drop_rate:
            return Fault.DROP
        return Fault.NONE


FAULTS = Faults()
