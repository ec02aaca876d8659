"""What the dispatch benchmarks and the multi-process dispatch tests share: the standalone
sandbox in a process of its own with a ledger database of its own, a Redis server of its
own, an app with an audience and a personalised campaign on that sandbox, sender processes
running the production send path, and the sandbox's ledger read back.

Used by tests/bench/bench_dispatch.py, tests/bench/bench_chaos.py and
tests/campaigns/test_dispatch_chaos.py. Functions that touch models need Django set up on
the database the senders use (DATABASE_URL of the caller, or a test database).

A sender process (what ``tasks.dispatch_send`` does, again and again until its run is over):

    python -m tests.dispatch_rig send <run id> <chunk> <threads>

Environment variables shorten the engine's waits for tests whose workers are killed:
PUSHDECK_RIG_LEASE_S sets ``dispatch.LEASE`` (killed workers' leases run out sooner),
PUSHDECK_RIG_TOKEN_TIMEOUT_S ``dispatch.TOKEN_TIMEOUT_S`` (kept below the lease, as the
production values are: 30 s < 60 s). The production defaults are unchanged otherwise.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
MPAAS_APP_ID, WORKSPACE = "ONEXBENCH0000001", "bench"  # the sandbox registry's 1M-device app
LEDGER_APP = f"{MPAAS_APP_ID}:{WORKSPACE}"
ACCESS_KEY, ACCESS_SECRET = "sandbox-key", "sandbox-secret"
APP_NAME = "Bench dispatch"
TEMPLATE_NAME = "Bench offer"
SEED_BATCH = 50_000
REDIS_SERVER = "/usr/bin/redis-server"

log = logging.getLogger(__name__)


# -- databases and processes -------------------------------------------------------------------


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


def wait_for_port(port: int, process: subprocess.Popen[Any], what: str = "the sandbox") -> None:
    for _ in range(400):
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not start listening on {port}")


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


def stop(process: subprocess.Popen[Any], timeout: float = 30) -> None:
    """End a process this module started (terminate, then kill)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- the standalone sandbox ----------------------------------------------------------------------


def sandbox_env(ledger_url: str) -> dict[str, str]:
    """The sandbox's environment: DEBUG off, its own database, the bench's access key."""
    extra = {"DATABASE_URL": ledger_url, "SANDBOX_ACCESS_KEYS": f"{ACCESS_KEY}:{ACCESS_SECRET}"}
    if not os.environ.get("FIELD_ENCRYPTION_KEYS"):
        from cryptography.fernet import Fernet

        extra["FIELD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()  # it decrypts nothing
    return production_like(os.environ, **extra)


def migrate(env: Mapping[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=dict(env),
        check=True,
    )


@contextmanager
def standalone_sandbox(
    ledger_url: str,
    *,
    latency_ms: int,
    error_rate: float = 0.0,
    throttle_rate: float = 0.0,
    seed: int = 0,
    fresh: bool = True,
) -> Iterator[subprocess.Popen[Any]]:
    """``manage.py sandbox`` on a free port with its ledger in ``ledger_url`` (migrated and,
    when ``fresh``, emptied first); yields the process, whose ``port`` attribute is set."""
    env = sandbox_env(ledger_url)
    migrate(env)
    if fresh:
        reset_sandbox_ledger(ledger_url)
    port = free_port()
    serve = ["sandbox", "--port", str(port), "--latency-ms", str(latency_ms)]
    serve += ["--error-rate", str(error_rate), "--throttle-rate", str(throttle_rate)]
    serve += ["--seed", str(seed)]
    sandbox = subprocess.Popen(
        [sys.executable, "manage.py", *serve], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
    )
    sandbox.port = port  # type: ignore[attr-defined]
    try:
        wait_for_port(port, sandbox)
        yield sandbox
    finally:
        stop(sandbox)


def sandbox_url(sandbox: subprocess.Popen[Any]) -> str:
    return f"http://127.0.0.1:{sandbox.port}/"  # type: ignore[attr-defined]


# -- a Redis of our own ------------------------------------------------------------------------


class OwnRedis:
    """A ``redis-server`` on a free port without persistence, which a test may restart (the
    machine's shared Redis is never touched). ``REDIS_SERVER`` missing: ``available`` is
    False."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[Any] | None = None
        self.restarts = 0

    @staticmethod
    def available() -> bool:
        return shutil.which(REDIS_SERVER) is not None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.folder)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(self.port, self.process, "redis-server")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def restart(self) -> None:
        """Kill it (its buckets are lost) and start it again on the same port."""
        self.kill()
        self.start()
        self.restarts += 1

    def __enter__(self) -> OwnRedis:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()


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
    campaign_id: int


def seed(
    sandbox_url: str, size: int, *, rate_limit: float = 100_000, app_name: str = APP_NAME
) -> Seeded:
    """The app on the standalone sandbox (``rate_limit`` calls/s), its synced template, an
    audience of ``size`` (kept between runs) and a fresh personalised campaign scheduled to
    send now."""
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
    MobileApp.objects.filter(name=app_name).update(access_key_secret=Secret(ACCESS_SECRET))
    app, _ = MobileApp.objects.get_or_create(
        name=app_name,
        defaults={"provider": MobileApp.Provider.MPAAS, "access_key_id": ACCESS_KEY},
    )
    app.provider = MobileApp.Provider.MPAAS
    app.endpoint = sandbox_url  # not "sandbox": the pooled httpx client, over TCP
    app.mpaas_app_id, app.mpaas_workspace_id = MPAAS_APP_ID, WORKSPACE
    app.access_key_id = ACCESS_KEY
    app.access_key_secret = Secret(ACCESS_SECRET)  # encrypted with this run's key
    app.rate_limit = rate_limit
    app.approval_threshold = 10 * max(size, 1_000_000)
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
        raise RuntimeError(f"the template did not sync: {template.sync_message}")

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
    return Seeded(run_id=run.pk, app_id=app.pk, campaign_id=campaign.pk)


def plan_now(run_id: int) -> int:
    """Claim the due run and plan it, as ``tick`` and ``dispatch_plan`` do; its calls."""
    from campaigns import dispatch

    won = dispatch.claim_due_runs()
    return dispatch.plan(run_id) if run_id in won else 0


# -- the sandbox's ledger ------------------------------------------------------------------------


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


def _marker(url: str) -> str:
    return "?" if url.startswith("sqlite") else "%s"


def read_ledger(url: str, run_id: int) -> Ledger:
    from campaigns.models import SandboxMessage

    table = SandboxMessage._meta.db_table
    marker = _marker(url)
    sql = (
        "SELECT count(*), count(DISTINCT target), "  # noqa: S608 - a model table name
        f"coalesce(sum(CASE WHEN attempts > 1 THEN 1 ELSE 0 END), 0) FROM {table} "
        f"WHERE app = {marker} AND msg_key LIKE {marker}"
    )
    with raw_connection(url) as db:
        rows, targets, retried = db.execute(sql, [LEDGER_APP, f"pd{run_id}-%"]).fetchone()
    return Ledger(int(rows), int(targets), int(retried))


@dataclass(frozen=True)
class Delivery:
    """The run's messages in the ledger, target by target, against its audience."""

    messages: int
    lost: int  # audience targets with no message
    duplicates: int  # messages beyond one per target
    strangers: int  # messages to targets outside the audience
    retried_keys: int  # msgKeys that came again and were dropped by the sandbox
    calls_accepted: int  # pushes the sandbox recorded for the run's keys


def read_delivery(url: str, run_id: int, audience: set[str]) -> Delivery:
    """Every message of the run in the ledger (its msgKeys start with pd<run>-)."""
    from campaigns.models import SandboxMessage

    table = SandboxMessage._meta.db_table
    marker = _marker(url)
    sql = (
        f"SELECT target, attempts, push_id FROM {table} "  # noqa: S608 - a model table name
        f"WHERE app = {marker} AND msg_key LIKE {marker}"
    )
    with raw_connection(url) as db:
        rows = db.execute(sql, [LEDGER_APP, f"pd{run_id}-%"]).fetchall()
    seen: dict[str, int] = {}
    for target, _, _ in rows:
        seen[target] = seen.get(target, 0) + 1
    return Delivery(
        messages=len(rows),
        lost=len(audience - seen.keys()),
        duplicates=sum(count - 1 for count in seen.values()),
        strangers=len(seen.keys() - audience),
        retried_keys=sum(1 for _, attempts, _ in rows if attempts > 1),
        calls_accepted=len({push for _, _, push in rows}),
    )


def accepted_times(url: str, run_id: int) -> list[float]:
    """When the sandbox accepted each call of the run (its pushes' ``accepted_at``, Unix
    seconds): taken as the handler starts, after the injected latency and the signature
    check, so a constant latency after the request arrived."""
    from campaigns.models import SandboxMessage, SandboxPush

    pushes, messages = SandboxPush._meta.db_table, SandboxMessage._meta.db_table
    marker = _marker(url)
    sql = (
        f"SELECT accepted_at FROM {pushes} WHERE id IN ("  # noqa: S608 - model table names
        f"SELECT push_id FROM {messages} WHERE app = {marker} AND msg_key LIKE {marker})"
    )
    with raw_connection(url) as db:
        rows = db.execute(sql, [LEDGER_APP, f"pd{run_id}-%"]).fetchall()
    return sorted(_timestamp(value) for (value,) in rows)


def accepted_by_seq(url: str, run_id: int) -> dict[int, float]:
    """When the sandbox accepted each call of the run, by the dispatch's ``seq`` (read from
    the msgKeys pd<run>-<seq>-<n>)."""
    from campaigns.models import SandboxMessage, SandboxPush

    pushes, messages = SandboxPush._meta.db_table, SandboxMessage._meta.db_table
    marker = _marker(url)
    sql = (
        f"SELECT min(m.msg_key), p.accepted_at FROM {messages} m "  # noqa: S608 - model tables
        f"JOIN {pushes} p ON p.id = m.push_id "
        f"WHERE m.app = {marker} AND m.msg_key LIKE {marker} GROUP BY p.id, p.accepted_at"
    )
    with raw_connection(url) as db:
        rows = db.execute(sql, [LEDGER_APP, f"pd{run_id}-%"]).fetchall()
    return {int(key.split("-")[1]): _timestamp(at) for key, at in rows}


def _timestamp(value: Any) -> float:
    from datetime import UTC, datetime

    # SQLite gives "YYYY-MM-DD HH:MM:SS.ffffff" in UTC.
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


# -- sender processes ---------------------------------------------------------------------------


def sender_command(run_id: int, chunk: int, threads: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tests.dispatch_rig",
        "send",
        str(run_id),
        str(chunk),
        str(threads),
    ]


def start_sender(
    run_id: int, chunk: int, threads: int, env: Mapping[str, str], log_file: IO[Any] | None = None
) -> subprocess.Popen[Any]:
    return subprocess.Popen(
        sender_command(run_id, chunk, threads),
        cwd=ROOT,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=log_file if log_file is not None else subprocess.DEVNULL,
    )


def record_grants(path: Path) -> None:
    """Write a line "<dispatch id> <time.time()>" to ``path`` each time a sender thread is
    granted a token (wraps ``dispatch.limiter``). The dispatch is the ``dispatch`` local of
    the engine's function that asked for the token (-1 if it has none): whatever the send
    path's shape, the one taking the token has the dispatch in hand."""
    import threading

    from campaigns import dispatch, ratelimit

    real_limiter = ratelimit.limiter()
    lock = threading.Lock()
    out = path.open("a", buffering=1)
    # The slot behind each grant (on the bucket's clock: Redis's or this machine's, both
    # this machine's here): a grant may come up to SEND_JITTER_S after its slot, so what
    # the provider sees is spread by slot-to-arrival time, not grant-to-arrival.
    last_slot = threading.local()
    real_take = real_limiter._take  # type: ignore[attr-defined]

    def take(*args: Any) -> Any:
        slot = real_take(*args)
        if slot is not None:
            last_slot.at = slot.at
        return slot

    real_limiter._take = take  # type: ignore[attr-defined]

    class Recording:
        def acquire(
            self, key: str, rate: float, *, burst: float | None = None, timeout: float = 30.0
        ) -> bool:
            granted = real_limiter.acquire(key, rate, burst=burst, timeout=timeout)
            if granted:
                asker = sys._getframe(1).f_locals.get("dispatch")
                with lock:
                    slot = getattr(last_slot, "at", time.time())
                    out.write(f"{getattr(asker, 'id', -1)} {time.time():.6f} {slot:.6f}\n")
            return granted

        def penalise(self, key: str, seconds: float) -> None:
            real_limiter.penalise(key, seconds)

    recording = Recording()
    dispatch.limiter = lambda: recording  # type: ignore[attr-defined,assignment]


def read_grants(folder: Path) -> dict[int, tuple[float, float]]:
    """The grants ``record_grants`` wrote under ``folder``/grants.*: dispatch id -> (when
    its call was last granted a token, that grant's slot)."""
    grants: dict[int, tuple[float, float]] = {}
    for path in folder.glob("grants.*"):
        for line in path.read_text().splitlines():
            dispatch_id, at, slot = line.split()
            grants[int(dispatch_id)] = (float(at), float(slot))
    return grants


def send_loop(run_id: int, chunk: int, threads: int) -> None:
    """The body of ``tasks.dispatch_send`` — ``dispatch.send_due`` for SENDER_BUDGET_S,
    with claims of ``chunk`` (``dispatch.CLAIM_CHUNK``) and ``threads`` calls in flight —
    run again for as long as the run may still send (sending or paused), as the task
    hands over to a fresh one; an engine without ``send_due`` is driven the older way,
    ``claim_dispatches`` / ``send_claimed``. Nothing due: other senders' calls are in
    flight, a retry waits, or the run is paused; it looks again shortly."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.db import DatabaseError, close_old_connections

    from campaigns import dispatch, tasks
    from campaigns.models import CampaignRun

    if os.environ.get("PUSHDECK_RIG_LEASE_S"):
        dispatch.LEASE = timedelta(seconds=float(os.environ["PUSHDECK_RIG_LEASE_S"]))
    if os.environ.get("PUSHDECK_RIG_TOKEN_TIMEOUT_S"):
        dispatch.TOKEN_TIMEOUT_S = float(os.environ["PUSHDECK_RIG_TOKEN_TIMEOUT_S"])
    if os.environ.get("PUSHDECK_RIG_GRANTS"):
        record_grants(Path(f"{os.environ['PUSHDECK_RIG_GRANTS']}.{os.getpid()}"))
    dispatch.CLAIM_CHUNK = chunk
    logging.getLogger("httpx").setLevel(logging.WARNING)
    send_due = getattr(dispatch, "send_due", None)
    active = (CampaignRun.Status.SENDING, CampaignRun.Status.PAUSED)
    while True:
        try:
            if send_due is not None:
                if send_due(seconds=tasks.SENDER_BUDGET_S, threads=threads).claimed:
                    continue
            else:
                claimed = dispatch.claim_dispatches(chunk)
                if claimed:
                    dispatch.send_claimed(claimed, threads=threads)
                    continue
            status = CampaignRun.objects.filter(id=run_id).values_list("status", flat=True)
            if status.first() not in active:
                return
        except DatabaseError as error:  # as a Celery task would fail and the next one run
            print(f"sender: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
            close_old_connections()
        time.sleep(0.05)


# -- chaos: exactly once while workers die, Redis restarts and the campaign pauses -------------


@dataclass(frozen=True)
class Chaos:
    """A personalised campaign of ``targets`` through the standalone sandbox with faults,
    while senders are killed and replaced, Redis restarts once and the campaign pauses.
    The app's rate limit is set so that sending takes about ``send_seconds`` unhindered,
    which spreads the kills, the restart and the pauses over the run."""

    targets: int
    send_seconds: float
    workers: int = 2
    chunk: int = 4  # workers x chunk calls in flight wait at most ~token_timeout_s
    threads: int = 4
    lease_s: float = 6.0  # dispatch.LEASE (60 s) for the test: killed leases return soon
    token_timeout_s: float = 3.0  # dispatch.TOKEN_TIMEOUT_S (30 s), below the lease
    kill_every_s: float = 3.0
    pauses: int = 10
    pause_s: float = 0.5
    redis_restart_at: float = 0.45  # of send_seconds
    latency_ms: int = 20
    error_rate: float = 0.05
    throttle_rate: float = 0.01
    seed: int = 8
    timeout_s: float = 600.0
    stuck_s: float = 10.0  # nothing left to send yet still sending this long: stuck

    @property
    def calls(self) -> int:
        return -(-self.targets // 100)

    @property
    def rate_limit(self) -> float:
        return float(-(-self.calls // int(self.send_seconds)))


@dataclass
class ChaosOutcome:
    run_id: int
    run_status: str
    stuck: bool  # every dispatch over, yet the run never completed
    seconds: float  # from the senders' start to the run's end (or giving up)
    rate_limit: float
    calls: int
    kills: int
    kills_holding_leases: int  # killed while it held leased dispatches
    redis_restarts: int
    pauses: int
    dispatches: dict[str, int]  # by status
    failed_by_code: dict[str, int]
    failed_without_reason: int
    attempts: dict[int, int]  # attempts -> dispatches
    counters: dict[str, tuple[int, int]]  # run counter -> (kept, from the dispatch rows)
    delivery: Delivery
    sender_errors: list[str]

    @property
    def not_finished(self) -> int:
        """Dispatches that ended neither sent nor failed."""
        return sum(n for status, n in self.dispatches.items() if status not in ("sent", "failed"))

    def as_metrics(self) -> dict[str, float]:
        return {
            "calls": float(self.calls),
            "lost": float(self.delivery.lost),
            "duplicates": float(self.delivery.duplicates),
            "strangers": float(self.delivery.strangers),
            "dispatches_failed": float(self.dispatches.get("failed", 0)),
            "failed_without_reason": float(self.failed_without_reason),
            "not_finished": float(self.not_finished),
            "stuck": float(self.stuck),
            "kills": float(self.kills),
            "redis_restarts": float(self.redis_restarts),
            "pauses": float(self.pauses),
            "seconds": round(self.seconds, 1),
            "retried_keys": float(self.delivery.retried_keys),
            "max_attempts": float(max(self.attempts, default=0)),
        }


def run_chaos(
    chaos: Chaos, folder: Path, worker_env: Mapping[str, str], ledger_url: str
) -> ChaosOutcome:
    """Seed, plan and send ``chaos``'s campaign with ``chaos.workers`` sender processes on the
    database this process uses (``worker_env`` must name it), killing one with SIGKILL every
    ``kill_every_s`` and starting a replacement, restarting a Redis of our own once and
    pausing/resuming the campaign ``pauses`` times; then read what happened."""
    import random

    from django.conf import settings

    from campaigns import dispatch, run_controls
    from campaigns.models import Campaign, CampaignRun, Dispatch

    active = (CampaignRun.Status.SENDING, CampaignRun.Status.PAUSED)
    rng = random.Random(chaos.seed)  # noqa: S311 - which worker dies
    errors_path = folder / "senders.log"
    with (
        OwnRedis(folder) as redis_server,
        standalone_sandbox(
            ledger_url,
            latency_ms=chaos.latency_ms,
            error_rate=chaos.error_rate,
            throttle_rate=chaos.throttle_rate,
            seed=chaos.seed,
        ) as sandbox,
        errors_path.open("w") as errors,
    ):
        seeded = seed(sandbox_url(sandbox), chaos.targets, rate_limit=chaos.rate_limit)
        calls = plan_now(seeded.run_id)
        if not calls:
            raise RuntimeError("the run was not planned")
        env = {
            **worker_env,
            "REDIS_URL": redis_server.url,
            "PUSHDECK_RIG_LEASE_S": str(chaos.lease_s),
            "PUSHDECK_RIG_TOKEN_TIMEOUT_S": str(chaos.token_timeout_s),
        }

        def sender() -> subprocess.Popen[Any]:
            return start_sender(seeded.run_id, chaos.chunk, chaos.threads, env, errors)

        senders = [sender() for _ in range(chaos.workers)]
        leased = Dispatch.objects.filter(run_id=seeded.run_id, status=Dispatch.Status.SENDING)
        left = Dispatch.objects.filter(
            run_id=seeded.run_id, status__in=(Dispatch.Status.PENDING, Dispatch.Status.SENDING)
        )
        span = chaos.send_seconds
        pause_at = [span * (0.1 + 0.7 * n / max(1, chaos.pauses - 1)) for n in range(chaos.pauses)]
        kills = kills_holding = pauses = 0
        next_kill, restarted, stuck_since, stuck = chaos.kill_every_s, False, None, False
        started = time.monotonic()
        next_tick = settings.TICK_SECONDS
        try:
            while True:
                elapsed = time.monotonic() - started
                if elapsed >= next_tick:  # beat's tick: it completes runs their senders left
                    dispatch.finish_idle_runs()
                    next_tick += settings.TICK_SECONDS
                status = CampaignRun.objects.values_list("status", flat=True).get(id=seeded.run_id)
                if status not in active:
                    break
                if elapsed > chaos.timeout_s:
                    break
                if elapsed >= next_kill:
                    victim = rng.randrange(len(senders))
                    holding = leased.exists()
                    senders[victim].send_signal(signal.SIGKILL)
                    senders[victim].wait()
                    senders[victim] = sender()
                    kills += 1
                    kills_holding += holding
                    next_kill += chaos.kill_every_s
                if not restarted and elapsed >= span * chaos.redis_restart_at:
                    redis_server.restart()
                    restarted = True
                if pauses < chaos.pauses and elapsed >= pause_at[pauses]:
                    campaign = Campaign.objects.get(id=seeded.campaign_id)
                    if campaign.status == Campaign.Status.RUNNING:
                        run_controls.pause(campaign)
                        time.sleep(chaos.pause_s)
                        run_controls.resume(campaign)
                        pauses += 1
                if status == CampaignRun.Status.SENDING and not left.exists():
                    stuck_since = stuck_since or time.monotonic()
                    if time.monotonic() - stuck_since > chaos.stuck_s:
                        stuck = True
                        break
                else:
                    stuck_since = None
                time.sleep(0.1)
            seconds = time.monotonic() - started
        finally:
            for process in senders:
                stop(process, timeout=10)
    run = CampaignRun.objects.get(id=seeded.run_id)
    rows = Dispatch.objects.filter(run=run)
    dispatches: dict[str, int] = {}
    failed_by_code: dict[str, int] = {}
    attempts: dict[int, int] = {}
    failed_without_reason = 0
    actual = {"calls_sent": 0, "calls_failed": 0, "targets_sent": 0, "targets_failed": 0}
    for state, code, message, tries, count in rows.values_list(
        "status", "result_code", "message", "attempts", "target_count"
    ).iterator():
        dispatches[state] = dispatches.get(state, 0) + 1
        attempts[tries] = attempts.get(tries, 0) + 1
        if state == Dispatch.Status.FAILED:
            failed_by_code[code] = failed_by_code.get(code, 0) + 1
            failed_without_reason += not (code and message)
        outcome = {"sent": "sent", "failed": "failed"}.get(state)
        if outcome:
            actual[f"calls_{outcome}"] += 1
            actual[f"targets_{outcome}"] += count
    audience = {f"user{n}" for n in range(chaos.targets)}
    return ChaosOutcome(
        run_id=run.pk,
        run_status=run.status,
        stuck=stuck,
        seconds=seconds,
        rate_limit=chaos.rate_limit,
        calls=calls,
        kills=kills,
        kills_holding_leases=kills_holding,
        redis_restarts=redis_server.restarts,
        pauses=pauses,
        dispatches=dispatches,
        failed_by_code=failed_by_code,
        failed_without_reason=failed_without_reason,
        attempts=dict(sorted(attempts.items())),
        counters={name: (getattr(run, name), value) for name, value in actual.items()},
        delivery=read_delivery(ledger_url, run.pk, audience),
        sender_errors=[line for line in errors_path.read_text().splitlines() if line.strip()][-20:],
    )


def describe_chaos(outcome: ChaosOutcome) -> str:
    """The outcome as lines to print."""
    delivery = outcome.delivery
    lines = [
        f"run {outcome.run_id}: {outcome.run_status}{' (STUCK)' if outcome.stuck else ''} "
        f"after {outcome.seconds:.1f} s at {outcome.rate_limit:g} calls/s",
        f"calls {outcome.calls:,}; dispatches by status {outcome.dispatches}",
        f"failed by code {outcome.failed_by_code or '{}'}; "
        f"failed without code and message {outcome.failed_without_reason}",
        f"attempts histogram {outcome.attempts}",
        f"kills {outcome.kills} ({outcome.kills_holding_leases} while leases were held), "
        f"Redis restarts {outcome.redis_restarts}, pauses/resumes {outcome.pauses}",
        f"ledger: {delivery.messages:,} messages in {delivery.calls_accepted:,} calls; "
        f"lost {delivery.lost}, duplicates {delivery.duplicates}, "
        f"outside the audience {delivery.strangers}; "
        f"msgKeys sent again and dropped {delivery.retried_keys:,}",
        "run counters (kept, from the dispatches): "
        + ", ".join(f"{name} {kept}/{actual}" for name, (kept, actual) in outcome.counters.items()),
    ]
    if outcome.sender_errors:
        lines.append("sender errors (last): " + " | ".join(outcome.sender_errors[-5:]))
    return "\n".join(lines)


# -- the rate limit as the sandbox sees it -----------------------------------------------------


@dataclass(frozen=True)
class AtLimit:
    accepted: list[float]  # when the sandbox accepted each call, sorted
    granted: list[float]  # when each call's sender thread got its token, sorted
    transit: list[float]  # per call, its arrival at the sandbox minus its grant's slot


def run_at_limit(
    limit: float,
    seconds: float,
    folder: Path,
    worker_env: Mapping[str, str],
    ledger_url: str,
    *,
    workers: int = 4,
    chunk: int = 8,
    threads: int = 8,
    latency_ms: int = 50,
) -> AtLimit:
    """A campaign of about ``seconds`` of calls at ``limit`` calls/s sent by ``workers``
    sender processes through the standalone sandbox (no faults); the times the sandbox
    accepted its calls. ``worker_env`` names the database and the limiter's backend."""
    from campaigns.models import CampaignRun, Dispatch

    targets = 100 * int(limit * seconds)
    worker_env = {**worker_env, "PUSHDECK_RIG_GRANTS": str(folder / "grants")}
    with standalone_sandbox(ledger_url, latency_ms=latency_ms) as sandbox:
        seeded = seed(sandbox_url(sandbox), targets, rate_limit=limit)
        if not plan_now(seeded.run_id):
            raise RuntimeError("the run was not planned")
        with (folder / "senders.log").open("w") as errors:
            senders = [
                start_sender(seeded.run_id, chunk, threads, worker_env, errors)
                for _ in range(workers)
            ]
            try:
                deadline = time.monotonic() + 10 * seconds + 60
                for process in senders:
                    process.wait(timeout=max(1.0, deadline - time.monotonic()))
            finally:
                for process in senders:
                    stop(process, timeout=10)
    run = CampaignRun.objects.get(id=seeded.run_id)
    if run.status != CampaignRun.Status.COMPLETED or run.calls_sent != run.calls:
        raise RuntimeError(f"the run ended {run.status} with {run.calls_sent}/{run.calls} sent")
    accepted = accepted_by_seq(ledger_url, seeded.run_id)
    granted = read_grants(folder)
    seqs = dict(Dispatch.objects.filter(run=run).values_list("id", "seq"))
    transit = [accepted[seqs[dispatch_id]] - slot for dispatch_id, (_, slot) in granted.items()]
    times = sorted(at for at, _ in granted.values())
    return AtLimit(sorted(accepted.values()), times, transit)


def busiest_second(times: list[float]) -> int:
    """The most of ``times`` in one window [t, t + 1 s), every time tried as t."""
    from bisect import bisect_left

    times = sorted(times)
    return max(bisect_left(times, start + 1.0) - index for index, start in enumerate(times))


if __name__ == "__main__":
    if sys.argv[1:2] == ["send"]:
        send_loop(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(f"usage: {sys.argv[0]} send <run id> <chunk> <threads>")
