"""Exactly once under faults, at full size (issue 8, must-show 1): a 100,000-target
personalised campaign (1,000 PushMultiple calls) through the standalone sandbox with 5 %
5xx and 1 % throttling injected, while a sender process is killed with SIGKILL every 3 s
and replaced, the rate limiter's Redis (a server of its own) restarts once and the
campaign is paused and resumed 10 times. tests/campaigns/test_dispatch_chaos.py runs the
same code (``tests.dispatch_rig.run_chaos``) at 10,000 targets.

Setup: a database of its own (SQLite at var/bench/chaos.sqlite3, or PostgreSQL when
DATABASE_URL names one, created if missing); the sandbox with its ledger in
var/bench/chaos_sandbox.sqlite3; two sender processes (DEBUG off) looping
``claim_dispatches`` / ``send_claimed`` as ``dispatch_send`` does, with the lease at 6 s and
the token wait at 3 s (60 s and 30 s in production) so killed leases come back soon. The
app's rate limit spreads the sending over about ``--send-seconds`` (default 50).

Goals: 0 lost and 0 duplicates in the sandbox's ledger, every dispatch sent or failed
(failed ones with a code and a message), the run completed. Printed besides: dispatches
failed by code, the attempts histogram, kills, Redis restarts, pauses, duration.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script too: tests/bench/bench_chaos.py
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
(ROOT / "var" / "bench" / "chaos").mkdir(parents=True, exist_ok=True)
if not os.environ.get("DATABASE_URL"):
    # Keep benchmark rows out of the development database.
    os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'bench' / 'chaos.sqlite3'}"
if not os.environ.get("FIELD_ENCRYPTION_KEYS"):
    # One throwaway key for this process and the workers it starts.
    from cryptography.fernet import Fernet

    os.environ["FIELD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()

import django  # noqa: E402

from tests.dispatch_rig import (  # noqa: E402
    Chaos,
    OwnRedis,
    create_database,
    describe_chaos,
    production_like,
    run_chaos,
)

TARGETS = 100_000
QUICK_TARGETS = 10_000
SEND_SECONDS = 50.0
QUICK_SEND_SECONDS = 20.0
GOALS = {"lost": 0, "duplicates": 0, "strangers": 0, "not_finished": 0}
GOALS |= {"failed_without_reason": 0, "stuck": 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_TARGETS:,} targets")
    parser.add_argument("--targets", type=int, help=f"audience size (default {TARGETS:,})")
    parser.add_argument("--send-seconds", type=float, help="sending time the rate limit allows")
    parser.add_argument("--chunk", type=int, default=8, help="claim chunk per worker")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker")
    args = parser.parse_args()
    size = args.targets or (QUICK_TARGETS if args.quick else TARGETS)
    send_seconds = args.send_seconds or (QUICK_SEND_SECONDS if args.quick else SEND_SECONDS)
    if not OwnRedis.available():
        sys.exit("redis-server is missing: the chaos benchmark restarts a Redis of its own")

    database_url = os.environ["DATABASE_URL"]
    if database_url.startswith("postgres"):
        create_database(database_url)
    django.setup()
    import logging

    from django.core.management import call_command

    from tests.bench.report import write_report

    logging.getLogger("httpx").setLevel(logging.WARNING)
    call_command("migrate", verbosity=0)
    chaos = Chaos(
        targets=size,
        send_seconds=send_seconds,
        chunk=args.chunk,
        threads=args.threads,
        timeout_s=max(600.0, 10 * send_seconds),
    )
    print(
        f"{size:,} targets ({chaos.calls:,} calls) at {chaos.rate_limit:g} calls/s, "
        f"5xx {chaos.error_rate:.0%}, throttling {chaos.throttle_rate:.0%}; "
        f"a worker killed every {chaos.kill_every_s:g} s, Redis restarted once, "
        f"{chaos.pauses} pauses…",
        flush=True,
    )
    folder = ROOT / "var" / "bench" / "chaos"
    ledger_url = f"sqlite:///{ROOT / 'var' / 'bench' / 'chaos_sandbox.sqlite3'}"
    outcome = run_chaos(chaos, folder, production_like(os.environ), ledger_url)
    print(describe_chaos(outcome))
    metrics = outcome.as_metrics()
    print(f"{'metric':<22} {'measured':>12} {'goal':>10}")
    missed = []
    for name, value in metrics.items():
        goal = ""
        if name in GOALS:
            goal = f"= {GOALS[name]}"
            if value != GOALS[name]:
                missed.append(name)
        print(f"{name:<22} {value:>12,.1f} {goal:>10}")
    if outcome.run_status != "completed":
        missed.append("run_status")
    write_report("chaos", metrics)
    if missed:
        print(f"missed: {', '.join(missed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
