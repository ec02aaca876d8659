"""How soon a campaign starts: "send now" from the click to the first provider call, and a
scheduled run from its due time to its first call.

Setup, as ``make run`` runs Pushdeck: a Celery worker and beat started from the Procfile's
own ``worker`` and ``beat`` lines (same queues, concurrency and settings), the web side in
this process (Django's test Client posting to the campaign's Schedule button, the view a
marketer clicks), and the standalone sandbox (``manage.py sandbox``) as the provider, so the
first call's time is when the sandbox received it (its ledger's ``accepted_at``), not when
the worker thought it sent it.

The stack is the environment's: with nothing set, the embedded defaults (SQLite, the
filesystem broker); with ``DATABASE_URL`` and ``REDIS_URL``, PostgreSQL and Redis::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pushdeck REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python -m tests.bench.bench_latency

The benchmark keeps to itself, because its worker and beat fire every due run they see: a
database of its own (var/bench/latency.sqlite3, or ``<name>_latency`` on the PostgreSQL
server), a broker folder of its own (var/bench/latency-broker) or Redis database
``REDIS_DB`` of the Redis server, and its own beat schedule file. The worker's and beat's
output goes to var/bench/latency-worker.log and latency-beat.log.

Measured (issue 8, must-show 6):
- ``send_now_*``: ``RUNS`` campaigns, one at a time, each scheduled to send now by a POST;
  from just before the POST to the sandbox's receipt of the first call. Goal: median ≤ 2 s.
- ``scheduled_start_*``: ``RUNS`` campaigns scheduled at due times a few seconds ahead,
  spread over several ticks; from each due time to the sandbox's receipt of its first call.
  Goal: ≤ 5 s (median and p95).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script too: tests/bench/bench_latency.py
BENCH_DIR = ROOT / "var" / "bench"
BENCH_DIR.mkdir(parents=True, exist_ok=True)
REDIS_DB = 14


def own_database_url(given: str) -> str:
    """The benchmark's database: its own SQLite file, or ``<name>_latency`` on PostgreSQL."""
    if given.startswith("postgres"):
        base, name = given.rsplit("/", 1)
        return f"{base}/{name}_latency"
    return f"sqlite:///{BENCH_DIR / 'latency.sqlite3'}"


def own_redis_url(given: str) -> str:
    """The same Redis server, database ``REDIS_DB``: queues nobody else's worker reads."""
    return re.sub(r"(redis://[^/]+)(/\d*)?$", rf"\1/{REDIS_DB}", given)


os.environ.setdefault("DEBUG", "true")  # `make run`'s default
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["DATABASE_URL"] = own_database_url(os.environ.get("DATABASE_URL", ""))
for name in ("REDIS_URL", "CELERY_BROKER_URL"):
    if os.environ.get(name, "").startswith("redis://"):
        os.environ[name] = own_redis_url(os.environ[name])
os.environ["CELERY_BROKER_FOLDER"] = str(BENCH_DIR / "latency-broker")
if not os.environ.get("FIELD_ENCRYPTION_KEYS"):
    # One throwaway key for this process and the worker, beat and sandbox it starts (with
    # DEBUG off they refuse to start without one): they read the secret this one wrote.
    from cryptography.fernet import Fernet

    os.environ["FIELD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()

import django  # noqa: E402

from tests.dispatch_rig import (  # noqa: E402 - after the environment above
    create_database,
    free_port,
    production_like,
    raw_connection,
    wait_for_port,
)

RUNS = 20
QUICK_RUNS = 10
MPAAS_APP_ID, WORKSPACE = "ONEXBENCH0000001", "bench"  # an app of the sandbox's registry
LEDGER_APP = f"{MPAAS_APP_ID}:{WORKSPACE}"
ACCESS_KEY, ACCESS_SECRET = "sandbox-key", "sandbox-secret"
APP_NAME = "Bench latency"
MEMBERS = 5  # one PushSimple call per campaign
ARRIVAL_TIMEOUT_S = 60.0
WARM_UP_TIMEOUT_S = 120.0
SCHEDULE_LEAD_S = 8.0  # the first due time, after the last POST of the scheduled series
GOALS = {  # metric: bound (seconds, at most)
    "send_now_median_s": 2.0,
    "scheduled_start_median_s": 5.0,
    "scheduled_start_p95_s": 5.0,
}


# -- processes ---------------------------------------------------------------------------------


def procfile_command(role: str, beat_schedule: Path) -> list[str]:
    """The Procfile's command for ``role`` (what `make run` starts), with this venv's celery
    and the benchmark's beat schedule file."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == role:
            argv = shlex.split(command)
            break
    else:
        sys.exit(f"the Procfile has no {role!r} line")
    if argv[0] == "celery":
        argv[0] = str(Path(sys.executable).with_name("celery"))
    if "--schedule" in argv:
        argv[argv.index("--schedule") + 1] = str(beat_schedule)
    return argv


def start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    """Warm shutdown, then the whole process group (the worker's pool children too)."""
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


# -- the sandbox's ledger ------------------------------------------------------------------------


def first_call_at(ledger_url: str, run_id: int) -> datetime | None:
    """When the sandbox received the run's first call (its messages' keys are pd<run>-…)."""
    from campaigns.models import SandboxMessage

    sql = (
        f"SELECT min(accepted_at) FROM {SandboxMessage._meta.db_table} "  # noqa: S608
        "WHERE app = ? AND msg_key LIKE ?"
    )
    with raw_connection(ledger_url) as db:
        (stamp,) = db.execute(sql, [LEDGER_APP, f"pd{run_id}-%"]).fetchone()
    if stamp is None:
        return None
    return datetime.fromisoformat(stamp).replace(tzinfo=UTC)  # Django stores UTC in SQLite


def wait_for_call(
    ledger_url: str, run_id: int, timeout: float, alive: Callable[[], None]
) -> datetime:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        arrived = first_call_at(ledger_url, run_id)
        if arrived is not None:
            return arrived
        alive()
        time.sleep(0.02)
    sys.exit(f"run {run_id}: no call reached the sandbox within {timeout:g} s")


def reset_ledger(url: str) -> None:
    from campaigns.models import SandboxMessage, SandboxPush

    with raw_connection(url) as db:
        for model in (SandboxMessage, SandboxPush):
            db.execute(f"DELETE FROM {model._meta.db_table}")  # noqa: S608 - model tables


# -- seeding and clicking ------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    app_id: int
    audience_id: int
    user_id: int


def seed(sandbox_url: str) -> Seeded:
    """The app on the standalone sandbox, an audience of ``MEMBERS`` users and a marketer;
    earlier runs' campaigns are removed."""
    from campaigns.encryption import Secret
    from campaigns.models import Audience, AudienceMember, Campaign, CampaignRun, MobileApp, User
    from campaigns.roles import Role, assign_role

    MobileApp.objects.filter(name=APP_NAME).update(access_key_secret=Secret(ACCESS_SECRET))
    app, _ = MobileApp.objects.get_or_create(
        name=APP_NAME,
        defaults={"provider": MobileApp.Provider.MPAAS, "access_key_id": ACCESS_KEY},
    )
    app.endpoint = sandbox_url  # over TCP, through the pooled client
    app.mpaas_app_id, app.mpaas_workspace_id = MPAAS_APP_ID, WORKSPACE
    app.access_key_id, app.access_key_secret = ACCESS_KEY, Secret(ACCESS_SECRET)
    app.rate_limit = 1000
    app.approval_policy = MobileApp.ApprovalPolicy.NONE
    app.quiet_hours_start = app.quiet_hours_end = None
    app.is_active = True
    app.save()
    CampaignRun.objects.filter(campaign__app=app).delete()
    Campaign.objects.filter(app=app).delete()
    audience, _ = Audience.objects.get_or_create(
        app=app, name="Bench latency users", defaults={"kind": Audience.Kind.USERS}
    )
    AudienceMember.objects.filter(audience=audience).delete()
    AudienceMember.objects.bulk_create(
        AudienceMember(audience=audience, target=f"user{n}") for n in range(MEMBERS)
    )
    Audience.objects.filter(pk=audience.pk).update(member_count=MEMBERS)
    marketer, _ = User.objects.get_or_create(username="bench-latency-marketer")
    assign_role(marketer, Role.MARKETER)
    return Seeded(app.pk, audience.pk, marketer.pk)


class Clicker:
    """A marketer's browser: makes a draft and clicks its Schedule button."""

    def __init__(self, seeded: Seeded) -> None:
        from django.test import Client

        from campaigns.models import User

        self.seeded = seeded
        self.client = Client(SERVER_NAME="localhost")
        self.client.force_login(User.objects.get(pk=seeded.user_id))
        self.made = 0

    def draft(self, send_at: datetime | None = None) -> int:
        from campaigns.models import Campaign

        self.made += 1
        campaign = Campaign.objects.create(
            app_id=self.seeded.app_id,
            audience_id=self.seeded.audience_id,
            name=f"Latency {self.made}",
            kind=Campaign.Kind.SIMPLE,
            title="Flash sale",
            body="Everything 20% off for an hour",
            schedule_mode=Campaign.ScheduleMode.AT if send_at else Campaign.ScheduleMode.NOW,
            send_at=send_at,
            created_by_id=self.seeded.user_id,
        )
        return campaign.pk

    def schedule(self, campaign_id: int) -> int:
        """POST the Schedule button; the run it made."""
        from django.contrib.messages import get_messages
        from django.urls import reverse

        from campaigns.models import Campaign, CampaignRun

        response = self.client.post(reverse("campaign_schedule", args=[campaign_id]))
        status = Campaign.objects.values_list("status", flat=True).get(pk=campaign_id)
        if response.status_code != 302 or status == Campaign.Status.DRAFT:
            said = [str(message) for message in get_messages(response.wsgi_request)]
            sys.exit(f"scheduling campaign {campaign_id} failed: {said}")
        return CampaignRun.objects.values_list("id", flat=True).get(campaign_id=campaign_id)


# -- the two measurements ------------------------------------------------------------------------


def send_now(
    clicker: Clicker, ledger_url: str, runs: int, alive: Callable[[], None]
) -> list[float]:
    """Click "send now" ``runs`` times, one after the other at random moments; seconds from
    each click to the sandbox's receipt of its first call."""
    delays = []
    for _ in range(runs):
        campaign_id = clicker.draft()
        time.sleep(random.uniform(0.2, 1.0))  # noqa: S311 - land at any phase of tick and polls
        clicked = datetime.now(UTC)
        run_id = clicker.schedule(campaign_id)
        arrived = wait_for_call(ledger_url, run_id, ARRIVAL_TIMEOUT_S, alive)
        delays.append((arrived - clicked).total_seconds())
    return delays


def scheduled_starts(
    clicker: Clicker, ledger_url: str, runs: int, tick_s: float, alive: Callable[[], None]
) -> list[float]:
    """Schedule ``runs`` campaigns at due times spread over three ticks, starting
    ``SCHEDULE_LEAD_S`` ahead; seconds from each due time to its first call's receipt."""
    from campaigns.models import CampaignRun

    spread = 3 * tick_s / runs
    first_due = datetime.now(UTC) + timedelta(seconds=SCHEDULE_LEAD_S + 0.2 * runs)
    due_times = [first_due + timedelta(seconds=n * spread) for n in range(runs)]
    run_ids = [clicker.schedule(clicker.draft(send_at=due)) for due in due_times]
    delays = []
    for run_id in run_ids:
        due_at = CampaignRun.objects.values_list("due_at", flat=True).get(pk=run_id)
        remaining = (due_at - datetime.now(UTC)).total_seconds()
        arrived = wait_for_call(ledger_url, run_id, max(0.0, remaining) + ARRIVAL_TIMEOUT_S, alive)
        delays.append((arrived - due_at).total_seconds())
    return delays


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def describe_stack() -> str:
    from django.conf import settings

    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[1]
    broker = settings.CELERY_BROKER_URL.split("://", 1)[0]
    return f"{database} + {broker} broker"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_RUNS} runs of each")
    parser.add_argument("--runs", type=int, help=f"runs of each kind (default {RUNS})")
    args = parser.parse_args()
    runs = args.runs or (QUICK_RUNS if args.quick else RUNS)

    database_url = os.environ["DATABASE_URL"]
    ledger_url = f"sqlite:///{BENCH_DIR / 'latency_sandbox.sqlite3'}"
    if database_url.startswith("postgres"):
        create_database(database_url)
    shutil.rmtree(BENCH_DIR / "latency-broker", ignore_errors=True)
    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from tests.bench.report import write_report

    call_command("migrate", verbosity=0)
    sandbox_env = production_like(
        os.environ, DATABASE_URL=ledger_url, SANDBOX_ACCESS_KEYS=f"{ACCESS_KEY}:{ACCESS_SECRET}"
    )
    migrate = [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"]
    subprocess.run(migrate, cwd=ROOT, env=sandbox_env, check=True)
    reset_ledger(ledger_url)
    port = free_port()
    sandbox = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox", "--port", str(port)],
        cwd=ROOT,
        env=sandbox_env,
        stdout=subprocess.DEVNULL,
    )
    beat_schedule = BENCH_DIR / "latency-celerybeat-schedule"
    for stale in BENCH_DIR.glob(f"{beat_schedule.name}*"):
        stale.unlink()
    env = dict(os.environ)
    worker = beat = None
    try:
        wait_for_port(port, sandbox)
        seeded = seed(f"http://127.0.0.1:{port}/")
        logs = {role: BENCH_DIR / f"latency-{role}.log" for role in ("worker", "beat")}
        worker = start(procfile_command("worker", beat_schedule), env, logs["worker"])
        beat = start(procfile_command("beat", beat_schedule), env, logs["beat"])
        processes = {"worker": worker, "beat": beat, "sandbox": sandbox}

        def alive() -> None:
            for role, process in processes.items():
                if process.poll() is not None:
                    sys.exit(f"the {role} exited with {process.returncode}; see var/bench/")

        clicker = Clicker(seeded)
        print(f"{describe_stack()}; waiting for the worker (one send-now, not counted)…")
        warm_up = clicker.schedule(clicker.draft())
        wait_for_call(ledger_url, warm_up, WARM_UP_TIMEOUT_S, alive)
        print(f"send now, {runs} times…", flush=True)
        now_delays = send_now(clicker, ledger_url, runs, alive)
        print(f"scheduled, {runs} times…", flush=True)
        tick_s = float(settings.TICK_SECONDS)
        due_delays = scheduled_starts(clicker, ledger_url, runs, tick_s, alive)
    finally:
        for process in (beat, worker):
            if process is not None:
                stop(process)
        sandbox.terminate()
        sandbox.wait(timeout=30)

    options: dict[str, Any] = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    metrics = {
        "send_now_median_s": round(statistics.median(now_delays), 3),
        "send_now_p95_s": round(p95(now_delays), 3),
        "send_now_max_s": round(max(now_delays), 3),
        "scheduled_start_median_s": round(statistics.median(due_delays), 3),
        "scheduled_start_p95_s": round(p95(due_delays), 3),
        "scheduled_start_max_s": round(max(due_delays), 3),
        "runs": float(runs),
        "tick_s": tick_s,
        "broker_polling_s": float(options.get("polling_interval", 0.0)),
    }
    print(f"load average {os.getloadavg()[0]:.1f}; {describe_stack()}")
    print(f"{'metric':<26} {'measured':>10} {'goal':>8}")
    missed = []
    for name, value in metrics.items():
        goal = ""
        if name in GOALS:
            goal = f"≤ {GOALS[name]:g}"
            if value > GOALS[name]:
                missed.append(name)
        print(f"{name:<26} {value:>10.3f} {goal:>8}")
    write_report("latency", metrics)
    if missed:
        print(f"missed: {', '.join(missed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
