"""One worker process of the rate limiter's multi-process test (test_ratelimit.py): it takes
tokens of one bucket for a while and prints, as JSON, four times per grant, all this
machine's clock (the bucket's clock is Redis's or the database takers', both this machine's):
when it asked the bucket for the slot, when the bucket answered, the slot the bucket gave
and when ``acquire`` returned.

    python -m tests.campaigns.ratelimit_worker <redis-url | database> <key> <rate> <seconds>

It prints "ready" once it can reach the bucket and starts when a line arrives on stdin, so
all the workers start together. The database is the one DATABASE_URL names.
"""

from __future__ import annotations

import json
import os
import sys
import time

import django

# Longer than any wait in the queue of four workers: a refusal would be a finding.
ACQUIRE_TIMEOUT_S = 5.0


def main() -> None:
    target, key, rate, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from campaigns.models import RateLimitBucket
    from campaigns.ratelimit import BucketLimiter, DatabaseRateLimiter, RedisRateLimiter, Slot

    class SlotRecorder(BucketLimiter):
        """Remembers the slot of the last grant and when it was asked for and answered."""

        last_take: tuple[float, float, Slot] | None = None

        def _take(
            self, key: str, interval: float, tolerance: float, max_ahead: float
        ) -> Slot | None:
            asked_at = time.time()
            slot = super()._take(key, interval, tolerance, max_ahead)
            if slot is not None:
                self.last_take = (asked_at, time.time(), slot)
            return slot

    class RecordingRedisLimiter(SlotRecorder, RedisRateLimiter):
        pass

    class RecordingDatabaseLimiter(SlotRecorder, DatabaseRateLimiter):
        pass

    limiter: SlotRecorder
    if target == "database":
        limiter = RecordingDatabaseLimiter()
        RateLimitBucket.objects.exists()  # connect now, not on the first grant
    else:
        limiter = redis_limiter = RecordingRedisLimiter(target)
        redis_limiter.redis.ping()
    print("ready", flush=True)
    sys.stdin.readline()

    grants: list[tuple[float, float, float, float]] = []
    refused = 0
    stop_at = time.time() + seconds
    while time.time() < stop_at:
        if limiter.acquire(key, rate, timeout=ACQUIRE_TIMEOUT_S):
            returned_at = time.time()
            assert limiter.last_take is not None
            asked_at, answered_at, slot = limiter.last_take
            grants.append((asked_at, answered_at, slot.at, returned_at))
        else:
            refused += 1
    print(json.dumps({"grants": grants, "refused": refused}), flush=True)


if __name__ == "__main__":
    main()
