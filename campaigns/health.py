"""Health checks of what Pushdeck needs to work: the database, the broker, the scheduler."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection

from campaigns.models import Heartbeat
from config.celery import app as celery_app

logger = logging.getLogger(__name__)

BROKER_CONNECT_TIMEOUT_S = 3
# Beat ticks every TICK_SECONDS; a few missed ticks in a row mean it is not running.
MISSED_TICKS_BEFORE_STALE = 4


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    ms: float
    detail: dict[str, object] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {"status": "ok" if self.ok else "error", "ms": round(self.ms, 1), **self.detail}


def _timed(check_name: str, probe: Callable[[], None]) -> CheckResult:
    started = time.perf_counter()
    try:
        probe()
    except Exception as error:
        # The class name only: messages can carry a URL with a password in it.
        logger.warning("health check %s failed: %s", check_name, type(error).__name__)
        return CheckResult(False, _ms_since(started), {"error": type(error).__name__})
    return CheckResult(True, _ms_since(started))


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _probe_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _probe_broker() -> None:
    with celery_app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_CONNECT_TIMEOUT_S)
        # Connecting is lazy for some transports; opening a channel talks to the broker
        # (Redis answers a PING), so an unreachable broker fails here.
        broker.channel().close()  # type: ignore[attr-defined]  # missing from kombu's stubs


def check_database() -> CheckResult:
    return _timed("database", _probe_database)


def check_broker() -> CheckResult:
    return _timed("broker", _probe_broker)


def scheduler_state() -> dict[str, object]:
    """When beat's tick last ran. Informational: a web process can be healthy without beat."""
    try:
        age = Heartbeat.age("tick")
    except Exception as error:
        return {"status": "unknown", "error": type(error).__name__}
    if age is None:
        return {"status": "never seen"}
    stale_after = timedelta(seconds=settings.TICK_SECONDS * MISSED_TICKS_BEFORE_STALE)
    return {
        "status": "ok" if age <= stale_after else "stale",
        "last_tick_seconds_ago": round(age.total_seconds(), 1),
    }
