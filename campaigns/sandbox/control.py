"""The sandbox's run-time settings: faults, the simulation's seed, the simulated clock.

Every sandbox process reads them from the one ``SandboxSettings`` row, cached for
``CACHE_SECONDS`` so that a busy gateway does not query it on every call. Other sandbox
state cached the same way (the template store) registers with ``also_forget`` so that
``forget_cache`` clears everything at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from django.utils import timezone

from campaigns.models import SandboxSettings

CACHE_SECONDS = 1.0


@dataclass(frozen=True)
class Settings:
    latency_ms: int = 0
    error_rate: float = 0.0
    throttle_rate: float = 0.0
    timeout_rate: float = 0.0
    drop_rate: float = 0.0
    seed: int = 0
    clock_offset_s: float = 0.0


_cached: tuple[float, Settings] | None = None
_lock = threading.Lock()


def current() -> Settings:
    global _cached
    cached = _cached
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    row = SandboxSettings.objects.filter(pk=1).first()
    settings = (
        Settings(**{f.name: getattr(row, f.name) for f in fields(Settings)}) if row else Settings()
    )
    with _lock:
        _cached = (time.monotonic(), settings)
    return settings


def update(**changes: float | int) -> Settings:
    """Change some settings for every sandbox process (each sees it within a second)."""
    unknown = set(changes) - {f.name for f in fields(Settings)}
    if unknown:
        raise TypeError(f"unknown sandbox settings: {sorted(unknown)}")
    row, _ = SandboxSettings.objects.get_or_create(pk=1)
    for name, value in changes.items():
        setattr(row, name, value)
    row.save()
    forget_cache()
    return current()


_forgetters: list[Callable[[], None]] = []


def also_forget(forget: Callable[[], None]) -> None:
    """Have ``forget_cache`` call ``forget`` too."""
    _forgetters.append(forget)


def forget_cache() -> None:
    """Read the settings row, and whatever else is cached, again on the next call (tests
    change them between calls)."""
    global _cached
    with _lock:
        _cached = None
    for forget in _forgetters:
        forget()


def advance_clock(seconds: float) -> None:
    """Move simulated time forward, as if ``seconds`` had passed."""
    update(clock_offset_s=current().clock_offset_s + seconds)


def simulated_now() -> datetime:
    return timezone.now() + timedelta(seconds=current().clock_offset_s)
