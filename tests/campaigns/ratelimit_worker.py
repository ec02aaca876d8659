"""One worker process of the rate limiter's multi-process test (test_ratelimit.py): it takes
tokens of one bucket for a while and prints, as JSON, in this machine's time.time() (the
bucket's clock is Redis's or the database takers', both this machine's): every slot it took
(when it asked, when the bucket answered, the slot) and every grant (its slot, when
``acquire`` returned).

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

        # Every slot taken, as (asked at, answered at, slot): a caller that wakes too late
        # leaves its slot unused and takes another, so slots and grants differ.
        takes: list[tuple[float, float, float]] = []

        def _take(
            self, key: str, interval: float, tolerance: float, max_ahead: float
        ) -> Slot | None:
            asked_at = time.time()
            slot = super()._take(key, interval, tolerance, max_ahead)
            if slot is not None:
                self.takes.append((asked_at, time.time(), slot.at))
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

    grants: list[tuple[float, float]] = []
    refused = 0
    stop_at = time.time() + seconds
    while time.time() < stop_at:
        if limiter.acquire(key, rate, timeout=ACQUIRE_TIMEOUT_S):
            grants.append((limiter.takes[-1][2], time.time()))
        else:
            refused += 1
    report = {"takes": limiter.takes, "grants": grants, "refused": refused}
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
