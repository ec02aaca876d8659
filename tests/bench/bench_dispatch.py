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
high enough never to throttle. Goals (issue 8): ≥ 200 calls/s and ≥ 10 times the SDK loop,
≤ 70 s end to end and ≤ 20 s planning (PostgreSQL) for 1M targets, ≤ 250 MB per worker.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]
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

TARGETS = 1_000_000
QUICK_TARGETS = 100_000
TARGETS_PER_CALL = 100
LATENCY_MS = 50
SDK_SECONDS = 15.0
QUICK_SDK_SECONDS = 8.0
MPAAS_APP_ID, WORKSPACE = "ONEXBENCH0000001", "bench"  # the sandbox registry's 1M-device app
LEDGER_APP = f"{MPAAS_APP_ID}:{WORKSPACE}"
ACCESS_KEY, ACCESS_SECRET = "sandbox-key", "sandbox-secret"
APP_NAME = "Bench dispatch"
TEMPLATE_NAME = "Bench offer"
SEED_BATCH = 50_000
SEND_TIMEOUT_S = 1800.0
GOALS = {  # metric: (comparison, bound, applies to --quick too)
    "calls_per_s": (">=", 200.0, True),
    "ratio_vs_sdk": (">=", 10.0, True),
    "worker_rss_mb": ("<=", 250.0, True),
    "end_to_end_s": ("<=", 70.0, False),
    "plan_s": ("<=", 20.0, False),
    "lost": ("<=", 0.0, True),
    "duplicates": ("<=", 0.0, True),
}


# -- databases and processes -------------------------------------------------------------------


def sandbox_database_url() -> str:
    """The sandbox's own database, SQLite whatever the benchmark's: it stands for a remote
    provider, so it takes neither the write lock nor PostgreSQL connections from Pushdeck
    (on PostgreSQL its one connection per keep-alive socket, 64 here, and the workers' 64
    went past max_connections = 100)."""
    return f"sqlite:///{ROOT / 'var' / 'bench' / 'dispatch_sandbox.sqlite3'}"


def create_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` if it is missing (trust auth)."""
    import psycopg

    base, name = url.rsplit("/", 1)
    try:
        admin = psycopg.connect(f"{base}/postgres", autocommit=True)
    except psycopg.OperationalError as error:
        sys.exit(f"cannot reach PostgreSQL at {base}: {error}")
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')


@contextmanager
def raw_connection(url: str) -> Iterator[Any]:
    """A DB-API connection to ``url`` outside Django (the sandbox's database)."""
    if url.startswith("sqlite"):
        with closing(sqlite3.connect(url.split(":///", 1)[1], timeout=60)) as lite:
            yield lite
            lite.commit()
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as pg:
        yield pg


def production_like(environ: Mapping[str, str], **extra: str) -> dict[str, str]:
    """A process as production runs it: DEBUG off (no query log), throwaway secret key."""
    return {**environ, "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50), **extra}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[Any]) -> None:
    for _ in range(200):
        if process.poll() is not None:
            sys.exit(f"the sandbox exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit("the sandbox did not start listening")


def module_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "tests.bench.bench_dispatch", *args]


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def read_line(stream: IO[str] | None) -> str:
    assert stream is not None
    return stream.readline().strip()


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


# -- seeding -------------------------------------------------------------------------------------


def member_values(n: int) -> dict[str, str]:
    return {"name": f"Name {n}", "money": str(n % 1000)}


def seed_members(audience_id: int, size: int) -> None:
    """``size`` members user0…user<size-1>, each with its own values: COPY on PostgreSQL,
    batched inserts elsewhere."""
    from django.db import connection, transaction

    from campaigns.models import AudienceMember

    table = connection.ops.quote_name(AudienceMember._meta.db_table)
    values_column = connection.ops.quote_name("values")
    columns = f"audience_id, target, {values_column}, time_zone"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE audience_id = %s", [audience_id])  # noqa: S608
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for first in range(0, size, SEED_BATCH):
                    copy.write(
                        "".join(
                            f"{audience_id}\tuser{n}\t{json.dumps(member_values(n))}\t\n"
                            for n in range(first, min(size, first + SEED_BATCH))
                        )
                    )
            cursor.execute(f"ANALYZE {table}")
            return
        sql = f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, '')"  # noqa: S608
        for first in range(0, size, SEED_BATCH):
            cursor.executemany(
                sql,
                [
                    (audience_id, f"user{n}", json.dumps(member_values(n)))
                    for n in range(first, min(size, first + SEED_BATCH))
                ],
            )


@dataclass(frozen=True)
class Seeded:
    run_id: int
    app_id: int


def seed(sandbox_url: str, size: int) -> Seeded:
    """The app on the standalone sandbox, its synced template, an audience of ``size``
    (kept between runs) and a fresh personalised campaign scheduled to send now."""
    from campaigns import approval, template_store
    from campaigns.encryption import Secret
    from campaigns.models import (
        Audience,
        AudienceMember,
        Campaign,
        CampaignRun,
        MessageTemplate,
        MobileApp,
        RateLimitBucket,
        User,
    )
    from campaigns.ratelimit import app_key
    from campaigns.roles import Role, assign_role

    # An earlier run's secret was encrypted with its own throwaway key: replace it unread.
    MobileApp.objects.filter(name=APP_NAME).update(access_key_secret=Secret(ACCESS_SECRET))
    app, _ = MobileApp.objects.get_or_create(
        name=APP_NAME,
        defaults={"provider": MobileApp.Provider.MPAAS, "access_key_id": ACCESS_KEY},
    )
    app.provider = MobileApp.Provider.MPAAS
    app.endpoint = sandbox_url  # not "sandbox": the pooled httpx client, over TCP
    app.mpaas_app_id, app.mpaas_workspace_id = MPAAS_APP_ID, WORKSPACE
    app.access_key_id = ACCESS_KEY
    app.access_key_secret = Secret(ACCESS_SECRET)  # encrypted with this run's key
    app.rate_limit = 100_000  # never the limit here
    app.approval_threshold = 10 * TARGETS
    app.quiet_hours_start = app.quiet_hours_end = None
    app.is_active = True
    app.save()
    RateLimitBucket.objects.filter(key=app_key(app.pk)).delete()

    # Earlier runs' campaigns go (their dispatches with them); the audiences stay.
    CampaignRun.objects.filter(campaign__app=app).delete()
    Campaign.objects.filter(app=app).delete()

    template, _ = MessageTemplate.objects.get_or_create(
        app=app, name=TEMPLATE_NAME, defaults={"title": "Hi #name#", "body": "#name#, #money# off"}
    )
    template.remote_id = ""  # the sandbox's store was emptied
    template_store.sync(template)
    if template.sync_state != MessageTemplate.SyncState.SYNCED:
        sys.exit(f"the template did not sync: {template.sync_message}")

    audience, _ = Audience.objects.get_or_create(
        app=app, name=f"Bench {size:,} users", defaults={"kind": Audience.Kind.USERS}
    )
    if AudienceMember.objects.filter(audience=audience).count() != size:
        print(f"seeding {size:,} audience members…", flush=True)
        started = time.perf_counter()
        seed_members(audience.pk, size)
        print(f"seeded in {time.perf_counter() - started:.1f} s", flush=True)
    Audience.objects.filter(pk=audience.pk).update(
        member_count=size, value_columns=["name", "money"]
    )
    audience.refresh_from_db()

    marketer, _ = User.objects.get_or_create(username="bench-dispatch-marketer")
    assign_role(marketer, Role.MARKETER)
    campaign = Campaign.objects.create(
        app=app,
        name=f"Bench dispatch {int(time.time())}",
        kind=Campaign.Kind.PERSONALISED,
        audience=audience,
        template=template,
        schedule_mode=Campaign.ScheduleMode.NOW,
        created_by=marketer,
    )
    approval.schedule(campaign, marketer)
    run = campaign.runs.get()
    return Seeded(run_id=run.pk, app_id=app.pk)


def reset_sandbox_ledger(url: str) -> None:
    """Empty the sandbox's ledger and template store (its database is the benchmark's own)."""
    from campaigns.models import SandboxMessage, SandboxPush, SandboxTemplate

    tables = [m._meta.db_table for m in (SandboxMessage, SandboxPush, SandboxTemplate)]
    with raw_connection(url) as db:
        if url.startswith("sqlite"):
            for table in tables:
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - model table names
        else:
            db.execute(f"TRUNCATE {', '.join(tables)} CASCADE")


@dataclass(frozen=True)
class Ledger:
    rows: int
    targets: int  # distinct targets of the run's messages
    retried_keys: int  # messages whose msgKey came again (dropped by the sandbox)


def read_ledger(url: str, run_id: int) -> Ledger:
    from campaigns.models import SandboxMessage

    table = SandboxMessage._meta.db_table
    marker = "?" if url.startswith("sqlite") else "%s"
    sql = (
        "SELECT count(*), count(DISTINCT target), "  # noqa: S608 - a model table name
        f"coalesce(sum(CASE WHEN attempts > 1 THEN 1 ELSE 0 END), 0) FROM {table} "
        f"WHERE app = {marker} AND msg_key LIKE {marker}"
    )
    with raw_connection(url) as db:
        rows, targets, retried = db.execute(sql, [LEDGER_APP, f"pd{run_id}-%"]).fetchone()
    return Ledger(int(rows), int(targets), int(retried))


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
    parser.add_argument("--role", choices=["plan", "send"], help=argparse.SUPPRESS)
    parser.add_argument("--run-id", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "plan":
        plan_role(args.run_id)
        return
    if args.role == "send":
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
    print(f"{'metric':<22} {'measured':>12} {'goal':>10}")
    missed = []
    for name, value in metrics.items():
        goal = ""
        if name in GOALS:
            comparison, bound, always = GOALS[name]
            if always or not quick:
                goal = f"{'≥' if comparison == '>=' else '≤'} {bound:g}"
                if (value < bound) if comparison == ">=" else (value > bound):
                    missed.append(name)
        print(f"{name:<22} {value:>12,.2f} {goal:>10}")
    write_report("dispatch", metrics)
    if missed:
        print(f"missed: {', '.join(missed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
