"""The global per-app rate limiter: every sender thread, in every worker process on every
machine, takes a token from the app's one shared bucket before it calls the provider.

    if limiter().acquire(app_key(app.id), app.rate_limit):
        ...call...
    # the provider throttled us and said "retry after N s":
    limiter().penalise(app_key(app.id), N)

The bucket lives in Redis when ``REDIS_URL`` is set (``RedisRateLimiter``), else in a
database row (``DatabaseRateLimiter``, honest but slower: a short locked transaction per call).

How it works, and why:
- **A token bucket kept as one time.** Rather than a token count and a refill time, a bucket
  stores ``full_at``, when it will be full again (GCRA, the "generic cell rate algorithm"):
  every grant pushes it one interval later, so refill and take are one comparison. A
  penalty is a second time, ``penalty_until``.
- **Spacing with headroom.** A limit of L calls/s spaces grants ``(1 s + SEND_JITTER_S) / L``
  apart with no burst by default, so any L + 1 grants span more than a second even when the
  first call reaches the provider up to ``SEND_JITTER_S`` later than the last; that is what
  "never more than L in any 1-second window" needs when calls travel. It costs 4 % of L.
- **One clock.** Redis runs the refill-and-take as one Lua script with the server's ``TIME``,
  so processes on different machines agree without trusting their clocks. The database
  backend reads the worker's clock while it holds the bucket's row lock.
- **Reserved slots, not polling.** A caller takes the next free slot even when it lies ahead
  (as long as it is within the caller's timeout) and sleeps until then: one round trip per
  call, no herd of threads asking again and again, and no slot lost because a sleeper woke
  late — so the bucket's rate is reached whenever callers are waiting.
- **Penalties void reservations.** ``penalise`` pushes the next slot past the penalty; a
  caller whose reserved slot falls inside a later penalty sees it when it wakes and queues
  again. A Redis bucket lost in a restart gets a new generation, which voids the old
  reservations the same way, so a restart never lets two queues through at once.
- **A late wake-up is no grant.** A caller that wakes more than ``SEND_JITTER_S`` after
  its slot (measured on its own monotonic clock, so clock skew with Redis does not matter)
  leaves the slot unused and takes another: going late would bunch it with the calls
  granted after it.
- **Never a grant without the bucket.** Redis (or the database) unreachable: ``acquire``
  retries with a short backoff until its timeout, then returns False.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar, Protocol

import redis
from django.conf import settings
from django.db import OperationalError, transaction
from redis.backoff import NoBackoff
from redis.retry import Retry

from campaigns.models import RateLimitBucket

log = logging.getLogger(__name__)

# Grants for L calls/s are spaced (1 s + this) / L apart, so one call may reach the
# provider this much later after its grant than another and no second still sees more
# than L. The price is 1 - 1/1.04, about 4 % of L.
SEND_JITTER_S = 0.04
# A backend that doesn't answer is asked again after this, doubling up to the maximum.
RETRY_FIRST_S = 0.05
RETRY_MAX_S = 1.0
REDIS_KEY_PREFIX = "pushdeck:ratelimit:"
REDIS_SOCKET_TIMEOUT_S = 1.0


class RateLimiter(Protocol):
    def acquire(
        self, key: str, rate: float, *, burst: float | None = None, timeout: float = 30.0
    ) -> bool:
        """Sleep until a token of ``key``'s bucket is ours, at most ``rate`` per second and
        ``burst`` (default 1) at once; False, as soon as it is certain, if none comes within
        ``timeout`` seconds."""
        ...

    def penalise(self, key: str, seconds: float) -> None:
        """Nobody gets a token of ``key`` for ``seconds``: the provider said retry after.
        Never raises for an unreachable backend (that is logged): the caller goes on."""
        ...


def app_key(app_id: int) -> str:
    """The bucket of one app (a MobileApp's pk): all its calls share it."""
    return f"app:{app_id}"


@cache
def limiter() -> RateLimiter:
    """This process's limiter: Redis when ``REDIS_URL`` is set, else the database."""
    if settings.REDIS_URL:
        return RedisRateLimiter(settings.REDIS_URL)
    return DatabaseRateLimiter()


def spacing(rate: float, burst: float | None) -> tuple[float, float]:
    """The interval between grants and how far ahead of the bucket a burst may go."""
    if rate <= 0:
        raise ValueError(f"A rate limit must be positive, not {rate}.")
    burst = 1.0 if burst is None else burst
    if burst < 1:
        raise ValueError(f"A burst is at least one call, not {burst}.")
    interval = (1 + SEND_JITTER_S) / rate
    return interval, (burst - 1) * interval


def take_slot(
    full_at: float, penalty_until: float, now: float, interval: float, tolerance: float
) -> tuple[float, float]:
    """The next free slot of a bucket and its ``full_at`` once the slot is taken (the Lua
    script in ``TAKE_SCRIPT`` does the same in microseconds)."""
    slot = max(now, full_at - tolerance, penalty_until)
    return slot, max(full_at, slot) + interval


@dataclass(frozen=True)
class Slot:
    delay: float  # seconds to sleep before the call may go
    at: float  # the slot's time on the bucket's clock
    generation: str = ""  # the Redis bucket it was taken from


class BucketLimiter:
    """The waiting both backends share; they differ in where the bucket lives."""

    # What a backend raises while it cannot be reached: retried until the timeout.
    unavailable: ClassVar[tuple[type[Exception], ...]]

    def acquire(
        self, key: str, rate: float, *, burst: float | None = None, timeout: float = 30.0
    ) -> bool:
        interval, tolerance = spacing(rate, burst)
        deadline = time.monotonic() + timeout
        retry_in = RETRY_FIRST_S
        while True:
            try:
                slot = self._take(key, interval, tolerance, max(0.0, deadline - time.monotonic()))
                if slot is None:
                    return False
                due = time.monotonic() + max(0.0, slot.delay)
                if slot.delay > 0:
                    time.sleep(slot.delay)
                    if not self._still_valid(key, slot):
                        continue
                late = time.monotonic() - due
                if late <= SEND_JITTER_S:
                    return True
                # Woken this late (the OS kept the thread from running), the call would
                # reach the provider beside calls granted after it: L + 1 in a second. The
                # slot goes unused; take the next one.
                log.info(
                    "rate limit grant for %s woke %.0f ms late: taking another", key, late * 1000
                )
            except self.unavailable as error:
                remaining = deadline - time.monotonic()
                if retry_in == RETRY_FIRST_S:
                    log.warning("rate limiter unreachable for %s, retrying: %s", key, error)
                if remaining <= 0:
                    return False
                time.sleep(min(retry_in, remaining))
                retry_in = min(2 * retry_in, RETRY_MAX_S)

    def penalise(self, key: str, seconds: float) -> None:
        try:
            self._penalise(key, seconds)
        except self.unavailable as error:
            # The throttled call is retried later anyway; the next one may be throttled too.
            log.warning("rate limiter unreachable, penalty for %s lost: %s", key, error)

    def _take(self, key: str, interval: float, tolerance: float, max_ahead: float) -> Slot | None:
        """Reserve the next slot if it is at most ``max_ahead`` seconds away."""
        raise NotImplementedError

    def _still_valid(self, key: str, slot: Slot) -> bool:
        """Whether no penalty (and no lost bucket) voided the slot while its caller slept."""
        raise NotImplementedError

    def _penalise(self, key: str, seconds: float) -> None:
        raise NotImplementedError


# Times are integer microseconds on the server's clock. KEYS[1]: the bucket (a hash);
# ARGV: interval, tolerance, how far ahead a slot may be. Returns {1, delay, slot,
# generation} for a reserved slot, {0, wait} when the next slot is further ahead.
TAKE_SCRIPT = """
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval, tolerance, max_ahead = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local bucket = redis.call('HMGET', KEYS[1], 'full_at', 'penalty_until', 'generation')
local full_at = tonumber(bucket[1]) or 0
local generation = bucket[3] or string.format('%.0f', now)
local slot = math.max(now, full_at - tolerance, tonumber(bucket[2]) or 0)
if slot - now > max_ahead then
  return {0, slot - now}
end
full_at = math.max(full_at, slot) + interval
redis.call('HSET', KEYS[1], 'full_at', string.format('%.0f', full_at), 'generation', generation)
redis.call('PEXPIRE', KEYS[1], math.ceil((full_at - now) / 1000) + 1000)
return {1, slot - now, string.format('%.0f', slot), generation}
"""

# KEYS[1]: the bucket; ARGV[1]: the penalty in microseconds from the server's now.
PENALISE_SCRIPT = """
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local bucket = redis.call('HMGET', KEYS[1], 'full_at', 'penalty_until')
local penalty_until = math.max(tonumber(bucket[2]) or 0, now + tonumber(ARGV[1]))
redis.call('HSET', KEYS[1], 'penalty_until', string.format('%.0f', penalty_until))
local last = math.max(penalty_until, tonumber(bucket[1]) or 0)
redis.call('PEXPIRE', KEYS[1], math.ceil((last - now) / 1000) + 1000)
"""


def _microseconds(seconds: float) -> int:
    return round(seconds * 1_000_000)


class RedisRateLimiter(BucketLimiter):
    """Buckets in Redis, shared by every process that uses the same server."""

    unavailable = (redis.ConnectionError, redis.TimeoutError)

    def __init__(self, url: str) -> None:
        # No retries inside redis-py: ``acquire`` retries itself, within its timeout.
        self.redis = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=REDIS_SOCKET_TIMEOUT_S,
            socket_connect_timeout=REDIS_SOCKET_TIMEOUT_S,
            retry=Retry(NoBackoff(), 0),
        )
        self.take_script = self.redis.register_script(TAKE_SCRIPT)
        self.penalise_script = self.redis.register_script(PENALISE_SCRIPT)

    def _take(self, key: str, interval: float, tolerance: float, max_ahead: float) -> Slot | None:
        args = [_microseconds(interval), _microseconds(tolerance), _microseconds(max_ahead)]
        reply: list[Any] = self.take_script(keys=[REDIS_KEY_PREFIX + key], args=args)
        if not reply[0]:
            return None
        _, delay, slot, generation = reply
        return Slot(delay=delay / 1_000_000, at=int(slot) / 1_000_000, generation=generation)

    def _still_valid(self, key: str, slot: Slot) -> bool:
        fields: list[bytes | str | None] = self.redis.hmget(
            REDIS_KEY_PREFIX + key, ["generation", "penalty_until"]
        )
        generation, penalty_until = fields
        return generation == slot.generation and int(penalty_until or 0) / 1_000_000 <= slot.at

    def _penalise(self, key: str, seconds: float) -> None:
        self.penalise_script(keys=[REDIS_KEY_PREFIX + key], args=[_microseconds(seconds)])


class DatabaseRateLimiter(BucketLimiter):
    """Buckets as ``RateLimitBucket`` rows, for installations without Redis.

    Call it outside transactions: inside one, the bucket's row stays locked until the
    caller's transaction ends, and every other sender waits for it.
    """

    unavailable = (OperationalError,)

    def _take(self, key: str, interval: float, tolerance: float, max_ahead: float) -> Slot | None:
        with transaction.atomic():
            bucket, _ = RateLimitBucket.objects.select_for_update().get_or_create(key=key)
            now = time.time()  # read under the row lock, so takers see time move forward
            slot, full_at = take_slot(
                bucket.full_at, bucket.penalty_until, now, interval, tolerance
            )
            if slot - now > max_ahead:
                return None
            bucket.full_at = full_at
            bucket.save(update_fields=["full_at"])
        return Slot(delay=slot - time.time(), at=slot)

    def _still_valid(self, key: str, slot: Slot) -> bool:
        return RateLimitBucket.objects.filter(key=key, penalty_until__lte=slot.at).exists()

    def _penalise(self, key: str, seconds: float) -> None:
        with transaction.atomic():
            bucket, _ = RateLimitBucket.objects.select_for_update().get_or_create(key=key)
            bucket.penalty_until = max(bucket.penalty_until, time.time() + seconds)
            bucket.save(update_fields=["penalty_until"])
