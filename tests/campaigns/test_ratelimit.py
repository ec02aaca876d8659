"""The global per-app rate limiter: both backends keep the same promises, and four worker
processes sharing one app's bucket never exceed its limit in any second yet reach 95 % of it.

The Redis tests use REDIS_URL, or the local server's database 15, with a fresh key each; the
keys expire by themselves. Without a Redis they are skipped, except in CI (CI=true), where
a missing Redis is a failure.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from bisect import bisect_left
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.db import connection
from pytest_django import Settings

from campaigns.models import RateLimitBucket
from campaigns.ratelimit import (
    REDIS_KEY_PREFIX,
    SEND_JITTER_S,
    DatabaseRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    app_key,
    limiter,
)

ROOT = Path(__file__).resolve().parents[2]
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/15"
# Sleeps end a little late and clocks tick in steps: how early a wait may seem to end.
CLOCK_SLACK_S = 0.005


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL") or LOCAL_REDIS_URL
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.ConnectionError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI runs the rate limiter against Redis, but {url} answers: {error}")
        pytest.skip(f"no Redis at {url} ({error}); CI runs these tests")
    return url


@pytest.fixture(
    params=["redis", pytest.param("database", marks=pytest.mark.django_db(transaction=True))]
)
def backend(request: pytest.FixtureRequest) -> RateLimiter:
    """Each backend; the database one with committed rows, so threads see them."""
    if request.param == "redis":
        return RedisRateLimiter(request.getfixturevalue("redis_url"))
    return DatabaseRateLimiter()


@pytest.fixture
def key() -> str:
    return f"test:{uuid.uuid4().hex}"


def interval(rate: float) -> float:
    return (1 + SEND_JITTER_S) / rate


def timed(call: Callable[[], bool]) -> tuple[bool, float]:
    started = time.monotonic()
    granted = call()
    return granted, time.monotonic() - started


def in_thread(call: Callable[[], bool]) -> Callable[[], tuple[bool, float]]:
    """Start ``call`` in a thread; the returned function waits for its result and the
    time.monotonic() at which it came."""
    result: list[tuple[bool, float]] = []

    def run() -> None:
        try:
            result.append((call(), time.monotonic()))
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()

    def join() -> tuple[bool, float]:
        thread.join(timeout=10)
        return result[0]

    return join


def test_a_first_call_goes_at_once_and_the_next_one_interval_later(
    backend: RateLimiter, key: str
) -> None:
    started = time.monotonic()
    assert backend.acquire(key, 10, timeout=0)

    assert backend.acquire(key, 10, timeout=interval(10))
    assert time.monotonic() - started >= interval(10) - CLOCK_SLACK_S


def test_there_is_no_burst_unless_asked_for(backend: RateLimiter, key: str) -> None:
    assert backend.acquire(key, 1, timeout=0)
    assert not backend.acquire(key, 1, timeout=0)


def test_a_burst_goes_at_once_and_later_calls_are_spaced(backend: RateLimiter, key: str) -> None:
    started = time.monotonic()
    at_once = [backend.acquire(key, 5, burst=4, timeout=0) for _ in range(5)]
    granted = backend.acquire(key, 5, burst=4, timeout=interval(5))

    assert at_once == [True, True, True, True, False]
    assert granted
    assert time.monotonic() - started >= interval(5) - CLOCK_SLACK_S


def test_it_gives_up_at_once_when_no_token_comes_within_its_timeout(
    backend: RateLimiter, key: str
) -> None:
    assert backend.acquire(key, 0.5)

    granted, waited = timed(lambda: backend.acquire(key, 0.5, timeout=2))

    assert not granted
    assert waited < 1


def test_giving_up_takes_no_slot_from_the_next_caller(backend: RateLimiter, key: str) -> None:
    backend.acquire(key, 2)
    assert not backend.acquire(key, 2, timeout=0.1)

    assert backend.acquire(key, 2, timeout=interval(2))


def test_a_penalty_holds_every_caller_back_for_its_seconds(backend: RateLimiter, key: str) -> None:
    backend.acquire(key, 50)
    penalised_at = time.monotonic()
    backend.penalise(key, 0.6)

    assert not backend.acquire(key, 50, timeout=0.2)
    assert backend.acquire(key, 50, timeout=2)
    assert time.monotonic() - penalised_at >= 0.6 - CLOCK_SLACK_S


def test_a_penalty_voids_slots_reserved_before_it(backend: RateLimiter, key: str) -> None:
    backend.acquire(key, 2)
    waiting = in_thread(lambda: backend.acquire(key, 2))  # reserved one interval ahead
    time.sleep(0.05)
    penalised_at = time.monotonic()
    backend.penalise(key, 0.7)  # past the reserved slot

    granted, granted_at = waiting()

    assert granted
    assert granted_at - penalised_at >= 0.7 - CLOCK_SLACK_S


def test_a_shorter_penalty_never_shortens_a_longer_one(backend: RateLimiter, key: str) -> None:
    backend.penalise(key, 1.0)
    backend.penalise(key, 0.1)

    assert not backend.acquire(key, 50, timeout=0.5)


def test_buckets_of_different_keys_are_independent(backend: RateLimiter, key: str) -> None:
    assert backend.acquire(key, 1)
    assert backend.acquire(f"{key}:other", 1, timeout=0)


@pytest.mark.parametrize(
    ("rate", "burst", "message"),
    [
        (0, None, "A rate limit must be positive"),
        (-1, None, "A rate limit must be positive"),
        (10, 0.5, "A burst is at least one call"),
    ],
)
def test_a_rate_or_burst_that_makes_no_sense_is_refused(
    backend: RateLimiter, key: str, rate: float, burst: float | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        backend.acquire(key, rate, burst=burst)


def test_the_database_keeps_one_row_per_bucket(transactional_db: None, key: str) -> None:
    database = DatabaseRateLimiter()
    database.acquire(key, 10)
    database.acquire(key, 10)
    database.penalise(f"{key}:other", 1)

    assert set(RateLimitBucket.objects.values_list("key", flat=True)) == {key, f"{key}:other"}


def test_a_lost_redis_bucket_voids_slots_reserved_from_it(redis_url: str, key: str) -> None:
    """Redis restarted without its data: callers that reserved a slot before queue again
    behind those who came after, instead of going out together with them."""
    limiter = RedisRateLimiter(redis_url)
    limiter.acquire(key, 2)
    waiting = in_thread(lambda: limiter.acquire(key, 2))  # reserved one interval ahead
    time.sleep(0.05)
    limiter.redis.delete(REDIS_KEY_PREFIX + key)
    fresh_grant_at = time.monotonic()
    assert limiter.acquire(key, 2, timeout=0)

    granted, granted_at = waiting()

    assert granted
    assert granted_at - fresh_grant_at >= interval(2) - CLOCK_SLACK_S


def test_it_waits_for_redis_to_come_back(
    redis_url: str, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    limiter = RedisRateLimiter(redis_url)
    take = limiter.take_script
    failures = iter([redis.ConnectionError("restarting"), redis.TimeoutError("slow")])

    def flaky_take(keys: list[str], args: list[int]) -> object:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return take(keys=keys, args=args)

    monkeypatch.setattr(limiter, "take_script", flaky_take)

    granted, waited = timed(lambda: limiter.acquire(key, 10, timeout=5))

    assert granted
    assert waited >= 0.05 + 0.1  # two backoffs


def test_without_redis_it_grants_nothing_and_gives_up_at_its_timeout(key: str) -> None:
    unreachable = RedisRateLimiter("redis://127.0.0.1:1/0")

    granted, waited = timed(lambda: unreachable.acquire(key, 10, timeout=0.5))
    unreachable.penalise(key, 1)  # logged, not raised: the sender goes on

    assert not granted
    assert 0.5 <= waited < 1.5


@pytest.fixture
def fresh_limiter() -> Iterator[None]:
    limiter.cache_clear()
    yield
    limiter.cache_clear()


def test_the_process_limiter_is_redis_when_redis_url_is_set(
    settings: Settings, fresh_limiter: None
) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:6379/15"

    assert isinstance(limiter(), RedisRateLimiter)
    assert limiter() is limiter()


def test_the_process_limiter_is_the_database_without_redis(
    settings: Settings, fresh_limiter: None
) -> None:
    settings.REDIS_URL = ""

    assert isinstance(limiter(), DatabaseRateLimiter)


def test_an_apps_bucket_is_named_after_its_id() -> None:
    assert app_key(42) == "app:42"


# -- four worker processes, one bucket -------------------------------------------------------

WORKERS = 4
LIMIT = 20  # calls per second
SECONDS = 5.0


@dataclass(frozen=True)
class Take:
    """A slot a worker took, in this machine's time.time() seconds."""

    asked_at: float  # when the worker asked the bucket for a slot
    answered_at: float  # when the bucket's answer came back
    slot: float  # the slot the bucket gave


@dataclass(frozen=True)
class Grant:
    slot: float
    returned_at: float  # when ``acquire`` returned


def run_workers(target: str, key: str, env: dict[str, str]) -> tuple[list[Take], list[Grant]]:
    """Start the workers, let them go together; every slot they took and every grant."""
    command = [sys.executable, "-m", "tests.campaigns.ratelimit_worker", target, key]
    workers = [
        subprocess.Popen(
            [*command, str(LIMIT), str(SECONDS)],
            cwd=ROOT,
            env={**os.environ, **env},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(WORKERS)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "ready", "a worker failed to start"
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        reports = [json.loads(worker.communicate(timeout=60)[0]) for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
    assert [report["refused"] for report in reports] == [0] * WORKERS
    assert all(report["grants"] for report in reports), "every worker got tokens"
    takes = [Take(*take) for report in reports for take in report["takes"]]
    return takes, [Grant(*grant) for report in reports for grant in report["grants"]]


def busiest_second(times: list[float]) -> int:
    """The most of ``times`` in one window [t, t + 1 s), every time tried as t."""
    times = sorted(times)
    return max(bisect_left(times, start + 1.0) - index for index, start in enumerate(times))


def assert_within_the_limit_and_near_it(takes_and_grants: tuple[list[Take], list[Grant]]) -> None:
    """The rule, for four processes sharing one bucket of LIMIT calls/s:

    - the slots the bucket gave: no window [t, t + 1 s) starting at a slot holds more than
      LIMIT. There is no first-second allowance: the default burst is one call;
    - the bucket never holds a caller back once it is free: slots are one interval apart,
      and a slot further than that after the one before is the time its caller's take ran
      (between asking and the answer). So while callers keep asking, slots follow each other
      at (1 s + SEND_JITTER_S) / LIMIT, and over the time the bucket was busy they reach
      >= 95 % of LIMIT. (How much of the run's span that is depends on how soon the OS lets
      the workers ask again — with the CPUs busy, all four may be kept from running at
      once, which is no limiter's doing; CI saw 84 % of LIMIT over the whole span so.)
    - grants: a caller that woke more than SEND_JITTER_S after its slot left it unused and
      took another, so every grant returned within SEND_JITTER_S of its slot (plus the time
      the bucket's answer took to come back, which the caller cannot see) and never before
      it; and when the returns' lateness stayed within SEND_JITTER_S, no second of returns
      holds more than LIMIT (any LIMIT + 1 slots span LIMIT intervals, SEND_JITTER_S more
      than a second). Most slots are used: wasted ones are the OS's doing.
    """
    takes, grants = takes_and_grants
    step = interval(LIMIT)
    takes = sorted(takes, key=lambda take: take.slot)
    idle = 0.0
    for before, take in pairwise(takes):
        gap = take.slot - before.slot
        assert gap >= step - CLOCK_SLACK_S, f"slots {gap * 1000:.1f} ms apart"
        if gap > step + CLOCK_SLACK_S:
            assert take.asked_at - CLOCK_SLACK_S <= take.slot <= take.answered_at, (
                f"after {(gap - step) * 1000:.0f} ms idle the bucket gave a later slot than now"
            )
            idle += gap - step
    busy_rate = (len(takes) - 1) / (takes[-1].slot - takes[0].slot - idle)
    take_of = {take.slot: take for take in takes}
    lateness = [grant.returned_at - grant.slot for grant in grants]
    # A caller measures its lateness from when the bucket's answer reached it: a slow
    # answer adds its own time, which the caller cannot see.
    beyond = [
        late - SEND_JITTER_S - (take_of[grant.slot].answered_at - take_of[grant.slot].asked_at)
        for grant, late in zip(grants, lateness, strict=True)
    ]
    spread = max(lateness) - min(lateness)
    busiest_returns = busiest_second([grant.returned_at for grant in grants])
    wasted = len(takes) - len(grants)

    assert busiest_second([take.slot for take in takes]) <= LIMIT
    assert busy_rate >= 0.95 * LIMIT, f"{busy_rate:.2f} slots/s while callers waited"
    assert min(lateness) >= -CLOCK_SLACK_S, "a worker went before its slot"
    assert max(beyond) <= CLOCK_SLACK_S, f"a grant {max(beyond) * 1000:.0f} ms too late was used"
    assert busiest_returns <= LIMIT or spread > SEND_JITTER_S, (
        f"{busiest_returns} returns in one second, lateness within {spread * 1000:.0f} ms"
    )
    # Slots left unused are the OS's doing (threads woken late); most must be used.
    assert wasted <= len(takes) // 4, f"{wasted} of {len(takes)} slots woke too late"


def test_four_processes_sharing_a_redis_bucket_keep_to_its_limit(redis_url: str, key: str) -> None:
    assert_within_the_limit_and_near_it(run_workers(redis_url, key, {}))


def database_url_for_workers(folder: Path) -> str:
    """The test database on PostgreSQL; on SQLite (in memory in tests) a file with the
    bucket table, which the workers share with their file locks."""
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        with connection.schema_editor(collect_sql=True) as editor:
            editor.create_model(RateLimitBucket)
        path = folder / "ratelimit.sqlite3"
        with closing(sqlite3.connect(path)) as database:
            # WAL before the workers connect: four processes switching the journal mode at
            # once would lock each other out at start.
            database.execute("PRAGMA journal_mode=WAL")
            database.executescript("\n".join(editor.collected_sql))
        return f"sqlite:///{path}"
    credentials = quote(settings_dict["USER"] or "")
    if settings_dict["PASSWORD"]:
        credentials += ":" + quote(settings_dict["PASSWORD"])
    host = f"{settings_dict['HOST'] or 'localhost'}:{settings_dict['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{settings_dict['NAME']}"


def test_four_processes_sharing_a_database_bucket_keep_to_its_limit(
    transactional_db: None, key: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": database_url_for_workers(tmp_path)}
    assert_within_the_limit_and_near_it(run_workers("database", key, env))
