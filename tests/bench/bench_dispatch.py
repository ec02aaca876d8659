"""The dispatch engine at full size: 1,000,000 personalised targets as 10,000 PushMultiple
calls to the standalone sandbox at 50 ms latency, beside the official SDK calling the same
sandbox in a plain sequential loop.

Setup: a database of its own (SQLite at var/bench/dispatch.sqlite3, or PostgreSQL when
DATABASE_URL names one, created if missing) holds one mPaaS app on the standalone sandbox,
its template (synced to the sandbox's store), an audience of N members with per-target
values (kept between runs) and a fresh personalised campaign, scheduled to send now. The
sandbox runs as its own process (``manage.py sandbox``, DEBUG off) with a database of its
own (SQLite, var/bench/dispatch_sandbox.sqlite3): a real provider does not write into
Pushdeck's database, so its ledger competes with the engine for neither the write lock nor
connections.

Measured, each in processes of their own with DEBUG off, as Celery would run them:
- ``plan_s``: ``dispatch.claim_due_runs`` + ``dispatch.plan`` of the run (what ``tick`` and
  ``dispatch_plan`` do).
- sending: ``--workers`` processes (default 2, one per core), each looping
  ``claim_dispatches`` / ``send_claimed`` as ``dispatch_send`` does; wall time from the
  first claim to the run's ``finished_at`` gives ``calls_per_s`` and ``targets_per_s``;
  ``end_to_end_s`` is planning plus sending; ``worker_rss_mb`` the largest VmHWM of a worker.
- ``sdk_loop_calls_per_s``: the official SDK (alibabacloud_mpaas20201028) sending
  PushMultiple calls of 100 targets one after the other for a while, and ``ratio_vs_sdk``.
- ``lost`` / ``duplicates`` from the sandbox's ledger: targets of the audience with no
  message of the run, and messages beyond one per target. A message whose ``attempts`` is
  above 1 is a call made again that the sandbox dropped by its msgKey, not a duplicate
  delivery; they are counted apart (``retried_keys``, printed only).

The rate limiter is the database one, or Redis when REDIS_URL is set; the app's limit is
high enough never to throttle. Goals (issue 8), on the production stack (PostgreSQL and
Redis: set DATABASE_URL and REDIS_URL): ≥ 200 calls/s and ≥ 10 times the SDK loop, ≤ 70 s
end to end and ≤ 20 s planning for 1M targets; on any stack ≤ 250 MB per worker and 0 lost,
0 duplicates. On the embedded SQLite the speed goals are shown, not judged.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script too: tests/bench/bench_dispatch.py
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
(ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)  # the sandbox's database, JSON
if not os.environ.get("DATABASE_URL"):
    # Keep benchmark rows out of the development database.
    os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'bench' / 'dispatch.sqlite3'}"
if not os.environ.get("FIELD_ENCRYPTION_KEYS"):
    # One throwaway key for this process and the workers it starts: they read the app's
    # secret this process encrypted.
    from cryptography.fernet import Fernet

    os.environ["FIELD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()

import django  # noqa: E402

from tests.dispatch_rig import (  # noqa: E402
    ACCESS_KEY,
    ACCESS_SECRET,
    MPAAS_APP_ID,
    TEMPLATE_NAME,
    WORKSPACE,
    cpu_seconds,
    create_database,
    free_port,
    member_values,
    peak_rss_mb,
    production_like,
    read_ledger,
    read_line,
    reset_sandbox_ledger,
    seed,
    wait_for_port,
)

TARGETS = 1_000_000
QUICK_TARGETS = 100_000
TARGETS_PER_CALL = 100
LATENCY_MS = 50
SDK_SECONDS = 15.0
QUICK_SDK_SECONDS = 8.0
SEND_TIMEOUT_S = 1800.0
GOALS = {  # metric: (comparison, bound, applies to --quick too, on any stack)
    "calls_per_s": (">=", 200.0, True, False),
    "ratio_vs_sdk": (">=", 10.0, True, False),
    "worker_rss_mb": ("<=", 250.0, True, True),
    "end_to_end_s": ("<=", 70.0, False, False),
    "plan_s": ("<=", 20.0, False, False),
    "lost": ("<=", 0.0, True, True),
    "duplicates": ("<=", 0.0, True, True),
}


# -- databases and processes -------------------------------------------------------------------


def sandbox_database_url() -> str:
    """The sandbox's own database, SQLite whatever the benchmark's: it stands for a remote
    provider, so it takes neither the write lock nor PostgreSQL connections from Pushdeck
    (on PostgreSQL its one connection per keep-alive socket, 64 here, and the workers' 64
    went past max_connections = 100)."""
    return f"sqlite:///{ROOT / 'var' / 'bench' / 'dispatch_sandbox.sqlite3'}"


def module_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "tests.bench.bench_dispatch", *args]


# -- roles run in child processes ----------------------------------------------------------------


def plan_role(run_id: int) -> None:
    """Claim the due run and plan it, as ``tick`` and ``dispatch_plan`` do; prints JSON."""
    django.setup()
    from django.db import connection

    from campaigns import dispatch

    connection.ensure_connection()
    started = time.perf_counter()
    won = dispatch.claim_due_runs()
    calls = dispatch.plan(run_id) if run_id in won else 0
    elapsed = time.perf_counter() - started
    print(json.dumps({"plan_s": elapsed, "calls": calls, "won": won, "rss_mb": peak_rss_mb()}))


def send_role(run_id: int, chunk: int | None, threads: int | None) -> None:
    """What ``dispatch_send`` does, in a loop until the run is over: claim a chunk, send it
    with ``threads`` calls in flight. Waits for "go" on stdin; prints JSON when done."""
    django.setup()
    from django.db import connection

    from campaigns import dispatch
    from campaigns.models import CampaignRun

    chunk = chunk or dispatch.CLAIM_CHUNK
    threads = threads or dispatch.THREADS
    connection.ensure_connection()
    print("ready", flush=True)
    sys.stdin.readline()
    dispatch.CLAIM_CHUNK = chunk
    first_claim = time.time()
    calls = chunks = 0
    while True:
        sent = dispatch.send_due(seconds=5.0, threads=threads)  # what dispatch_send does
        chunks += 1
        calls += sent.claimed
        if sent.more:
            continue
        # Nothing due now: calls of other workers are in flight, or waiting to be retried.
        if not CampaignRun.objects.filter(id=run_id, status=CampaignRun.Status.SENDING).exists():
            break
        time.sleep(0.05)
    report = {
        "first_claim": first_claim,
        "done": time.time(),
        "calls": calls,
        "chunks": chunks,
        "rss_mb": peak_rss_mb(),
        "cpu_s": sum(os.times()[:2]),
    }
    print(json.dumps(report), flush=True)


# -- the official SDK loop -----------------------------------------------------------------------


def sdk_loop(port: int, seconds: float) -> float:
    """PushMultiple calls of 100 targets through the official SDK, one after the other, for
    ``seconds``; calls per second."""
    import importlib

    config_module: Any = importlib.import_module("alibabacloud_tea_openapi.utils_models")
    client_module: Any = importlib.import_module("alibabacloud_mpaas20201028.client")
    models: Any = importlib.import_module("alibabacloud_mpaas20201028.models")
    config = config_module.Config(
        access_key_id=ACCESS_KEY,
        access_key_secret=ACCESS_SECRET,
        endpoint=f"127.0.0.1:{port}",
        protocol="http",
        region_id="cn-hangzhou",
    )
    client = client_module.Client(config)
    stamp = int(time.time())

    def call(number: int) -> None:
        targets = [
            models.PushMultipleRequestTargetMsg(
                target=f"user{n}",
                msg_key=f"sdk{stamp}-{number}-{n}",
                template_key_value=json.dumps(member_values(n)),
            )
            for n in range(TARGETS_PER_CALL)
        ]
        request = models.PushMultipleRequest(
            app_id=MPAAS_APP_ID,
            workspace_id=WORKSPACE,
            task_name="bench sdk loop",
            template_name=TEMPLATE_NAME,
            delivery_type=3,
            expired_seconds=3600,
            target_msg=targets,
        )
        body = client.push_multiple(request).body
        if body.result_code != "OK":
            sys.exit(f"the SDK's call was refused: {body.result_code} {body.result_message}")

    call(-1)  # connect, import, warm up
    calls, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        call(calls)
        calls += 1
    return calls / (time.perf_counter() - started)


# -- the benchmark -------------------------------------------------------------------------------


def run_plan(env: dict[str, str], run_id: int) -> dict[str, Any]:
    done = subprocess.run(
        module_command("--role", "plan", "--run-id", str(run_id)),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        sys.exit(f"planning failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_senders(
    env: dict[str, str], run_id: int, workers: int, chunk: int, threads: int
) -> tuple[float, list[dict[str, Any]]]:
    """Start the workers, let them go at once, wait for the run to complete; the time of
    the first claim and each worker's report."""
    from campaigns.models import CampaignRun

    args = ["--role", "send", "--run-id", str(run_id), "--chunk", str(chunk)]
    procs = [
        subprocess.Popen(
            module_command(*args, "--threads", str(threads)),
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    try:
        for proc in procs:
            if read_line(proc.stdout) != "ready":
                sys.exit("a worker did not start")
        started = time.time()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        shown = time.monotonic()
        while any(proc.poll() is None for proc in procs):
            time.sleep(0.2)
            if time.time() - started > SEND_TIMEOUT_S:
                sys.exit("the run did not complete in time")
            if time.monotonic() - shown >= 10:
                shown = time.monotonic()
                run = CampaignRun.objects.get(id=run_id)
                rate = run.calls_done / (time.time() - started)
                print(f"  {run.calls_done:,}/{run.calls:,} calls, {rate:,.0f}/s", flush=True)
        reports = []
        for proc in procs:
            if proc.returncode:
                sys.exit(f"a worker exited with {proc.returncode}")
            reports.append(json.loads(read_line(proc.stdout)))
        return started, reports
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_TARGETS:,} targets")
    parser.add_argument("--targets", type=int, help=f"audience size (default {TARGETS:,})")
    parser.add_argument("--workers", type=int, default=2, help="sender processes")
    parser.add_argument("--chunk", type=int, help="claim chunk (default dispatch.CLAIM_CHUNK)")
    parser.add_argument("--threads", type=int, help="threads per worker (dispatch.THREADS)")
    parser.add_argument("--latency-ms", type=int, default=LATENCY_MS)
    parser.add_argument("--sdk-seconds", type=float)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile each worker's main thread into var/bench/send-PID.prof (with --threads 1"
        " that is all its sending)",
    )
    parser.add_argument("--role", choices=["plan", "send"], help=argparse.SUPPRESS)
    parser.add_argument("--run-id", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "plan":
        plan_role(args.run_id)
        return
    if args.role == "send":
        if os.environ.get("BENCH_PROFILE"):  # --profile: where a worker's CPU goes
            import cProfile

            out = ROOT / "var" / "bench" / f"send-{os.getpid()}.prof"
            cProfile.runctx(
                "send_role(args.run_id, args.chunk, args.threads)", globals(), locals(), str(out)
            )
        else:
            send_role(args.run_id, args.chunk, args.threads)
        return
    size = args.targets or (QUICK_TARGETS if args.quick else TARGETS)
    sdk_seconds = args.sdk_seconds or (QUICK_SDK_SECONDS if args.quick else SDK_SECONDS)

    database_url = os.environ["DATABASE_URL"]
    ledger_url = sandbox_database_url()
    if database_url.startswith("postgres"):
        create_database(database_url)
    django.setup()
    import logging

    from django.core.management import call_command

    from campaigns import dispatch
    from campaigns.models import CampaignRun
    from tests.bench.report import write_report

    chunk = args.chunk or dispatch.CLAIM_CHUNK
    threads = args.threads or dispatch.THREADS
    logging.getLogger("httpx").setLevel(logging.WARNING)
    call_command("migrate", verbosity=0)
    sandbox_env = production_like(
        os.environ, DATABASE_URL=ledger_url, SANDBOX_ACCESS_KEYS=f"{ACCESS_KEY}:{ACCESS_SECRET}"
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=sandbox_env,
        check=True,
    )
    reset_sandbox_ledger(ledger_url)

    port = free_port()
    serve = ["sandbox", "--port", str(port), "--latency-ms", str(args.latency_ms)]
    sandbox = subprocess.Popen(
        [sys.executable, "manage.py", *serve],
        cwd=ROOT,
        env=sandbox_env,
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, sandbox)
        seeded = seed(f"http://127.0.0.1:{port}/", size)
        print(f"official SDK loop for {sdk_seconds:g} s…", flush=True)
        sdk_rate = sdk_loop(port, sdk_seconds)
        worker_env = production_like(os.environ)
        if args.profile:
            worker_env["BENCH_PROFILE"] = "1"
        print("planning…", flush=True)
        planned = run_plan(worker_env, seeded.run_id)
        if not planned["calls"]:
            sys.exit(f"the run was not planned: {planned}")
        print(
            f"sending {planned['calls']:,} calls with {args.workers} workers of "
            f"{threads} threads, chunks of {chunk}…",
            flush=True,
        )
        sandbox_cpu = cpu_seconds(sandbox.pid)
        started, reports = run_senders(worker_env, seeded.run_id, args.workers, chunk, threads)
        sandbox_cpu = cpu_seconds(sandbox.pid) - sandbox_cpu
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)

    run = CampaignRun.objects.get(id=seeded.run_id)
    if run.status != CampaignRun.Status.COMPLETED or run.finished_at is None:
        sys.exit(f"the run ended {run.status}, not completed")
    send_s = run.finished_at.timestamp() - started
    ledger = read_ledger(ledger_url, seeded.run_id)
    plan_s = float(planned["plan_s"])
    calls_per_s = run.calls / send_s
    metrics = {
        "targets": float(run.targets),
        "plan_s": round(plan_s, 2),
        "calls_per_s": round(calls_per_s, 1),
        "targets_per_s": round(run.targets / send_s, 1),
        "end_to_end_s": round(plan_s + send_s, 2),
        "worker_rss_mb": round(max(report["rss_mb"] for report in reports), 1),
        "sdk_loop_calls_per_s": round(sdk_rate, 1),
        "ratio_vs_sdk": round(calls_per_s / sdk_rate, 1),
        "lost": float(run.targets - ledger.targets),
        "duplicates": float(ledger.rows - ledger.targets),
    }
    cpu = ", ".join(f"{report['cpu_s']:.1f}" for report in reports)
    calls = ", ".join(f"{report['calls']:,}" for report in reports)
    print(
        f"calls {run.calls:,} (sent {run.calls_sent:,}, failed {run.calls_failed:,}); "
        f"sending {send_s:.1f} s; planner RSS {planned['rss_mb']:.0f} MB; "
        f"worker CPU {cpu} s for {calls} calls; sandbox CPU {sandbox_cpu:.1f} s; "
        f"load average {os.getloadavg()[0]:.1f}; "
        f"msgKeys sent again and dropped by the sandbox: {ledger.retried_keys:,}"
    )
    quick = size < TARGETS
    # The speed goals are the production stack's: the embedded SQLite and the database
    # rate limiter are for trying Pushdeck out (about 195 calls/s here).
    from django.conf import settings
    from django.db import connection

    production = connection.vendor == "postgresql" and bool(settings.REDIS_URL)
    print(f"{'metric':<22} {'measured':>12} {'goal':>10}")
    missed = []
    for name, value in metrics.items():
        goal = ""
        if name in GOALS:
            comparison, bound, always, any_stack = GOALS[name]
            if always or not quick:
                goal = f"{'≥' if comparison == '>=' else '≤'} {bound:g}"
                if not (any_stack or production):
                    goal = f"({goal})"  # shown, not judged
                elif (value < bound) if comparison == ">=" else (value > bound):
                    missed.append(name)
        print(f"{name:<22} {value:>12,.2f} {goal:>10}")
    if not production:
        print("goals in parentheses apply on PostgreSQL + Redis (DATABASE_URL, REDIS_URL)")
    write_report("dispatch", metrics)
    if missed:
        print(f"missed: {', '.join(missed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
