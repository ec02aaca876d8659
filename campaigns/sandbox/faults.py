"""Faults the gateway injects on demand: latency, 5xx errors, throttling, timeouts, dropped
connections. The draw is seeded, so a run with the same seed fails the same calls.

A call's fate is drawn when it arrives (``Faults.draw``). The standalone server waits it
out without a thread (it answers on a timer); the in-app gateway waits in its request
(``Draw.wait``)."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from enum import Enum

from campaigns.sandbox.control import Settings
from campaigns.sandbox.gateway import GatewayError

THROTTLE_RETRY_AFTER_MS = 1000
TIMEOUT_HANG_S = 30.0  # longer than any client's read timeout


class Fault(Enum):
    NONE = "none"
    ERROR = "error"  # 503 ServiceUnavailable
    THROTTLE = "throttle"  # 429 Throttling.User, with a retry-after
    TIMEOUT = "timeout"  # hang, then 500 Timeout
    DROP = "drop"  # close the connection without answering


@dataclass(frozen=True)
class Draw:
    """What happens to one call: how long it waits before its answer, and which fault."""

    latency_s: float = 0.0
    fault: Fault = Fault.NONE

    @property
    def wait_s(self) -> float:
        """How long after its arrival the call is answered (or dropped)."""
        return self.latency_s + (TIMEOUT_HANG_S if self.fault is Fault.TIMEOUT else 0.0)

    def error(self) -> GatewayError | None:
        """The gateway's answer for an error fault; None for NONE and DROP."""
        if self.fault is Fault.ERROR:
            return GatewayError(
                503,
                "ServiceUnavailable",
                "The request has failed due to a temporary failure of the server.",
            )
        if self.fault is Fault.THROTTLE:
            return GatewayError(
                429,
                "Throttling.User",
                "Request was denied due to user flow control.",
                headers={"x-acs-retry-after": str(THROTTLE_RETRY_AFTER_MS)},
            )
        if self.fault is Fault.TIMEOUT:
            return GatewayError(500, "Timeout", "The request processing is timeout.")
        return None

    def wait(self) -> None:
        """Block this thread for ``wait_s``: the in-app gateway's way of waiting."""
        if self.wait_s:
            time.sleep(self.wait_s)


NO_FAULT = Draw()


class Faults:
    """Draws, for each call, whether it fails and how; one stream of draws per seed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seed: int | None = None
        self._random = random.Random(0)  # noqa: S311 - a seeded simulation, not security

    def _roll(self, seed: int) -> float:
        with self._lock:
            if seed != self._seed:
                self._seed, self._random = seed, random.Random(seed)  # noqa: S311
            return self._random.random()

    def draw(self, settings: Settings) -> Draw:
        latency_s = settings.latency_ms / 1000
        if not (
            settings.error_rate
            or settings.throttle_rate
            or settings.timeout_rate
            or settings.drop_rate
        ):
            return Draw(latency_s) if latency_s else NO_FAULT
        roll = self._roll(settings.seed)
        for fault, rate in (
            (Fault.ERROR, settings.error_rate),
            (Fault.THROTTLE, settings.throttle_rate),
            (Fault.TIMEOUT, settings.timeout_rate),
            (Fault.DROP, settings.drop_rate),
        ):
            if roll < rate:
                return Draw(latency_s, fault)
            roll -= rate
        return Draw(latency_s)


FAULTS = Faults()
