"""Claims under real concurrency: two OS processes on one shared database (PostgreSQL in
CI, a file copy of the test database on SQLite) race for the same rows, and each row goes
to exactly one of them.

- Issue 8, must-show 2: two ``tick`` processes over 1,000 due runs — each run fires (its
  ``dispatch_plan`` nudge goes out after commit) exactly once, and every run fires.
- The senders' claim: two processes over 2,000 pending dispatches of one sending run —
  each dispatch is leased to exactly one of them, once (``attempts`` is 1 on every row).

Both processes are held at a barrier until both are connected, then claim a few rows per
call, so their claims interleave; each test also shows that both processes won rows, so
the race really happened. The workers are tests/campaigns/claim_worker.py.

PostgreSQL is where these tests bite: there the two claims really overlap (a claim whose
UPDATE does not re-check the row's state after waiting for the other's lock hands rows to
both). SQLite takes one writer at a time, so there they show the same outcome but could
not catch such a claim.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone

from campaigns.models import Audience, Campaign, CampaignRun, Dispatch, MobileApp
from tests.factories import AudienceFactory, MobileAppFactory

pytestmark = pytest.mark.django_db(transaction=True)  # the workers must see committed rows

ROOT = Path(__file__).resolve().parents[2]
RUNS = 1_000
DISPATCHES = 2_000
RUNS_PER_TICK = 10
DISPATCHES_PER_CLAIM = 16
WORKER_TIMEOUT_S = 90.0


def shared_database(folder: Path) -> str:
    """A DATABASE_URL for the workers naming the test database with its rows as they are now.

    PostgreSQL: the test database itself. SQLite: the test database lives in memory, so
    it is copied to a file (with WAL, as the settings open it) that the workers share; the
    test then reads the outcome from that file, not from its own connection.
    """
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        path = folder / "shared.sqlite3"
        with closing(sqlite3.connect(path)) as copy:
            connection.connection.backup(copy)
            copy.execute("PRAGMA journal_mode=WAL")
        return f"sqlite:///{path}"
    assert connection.vendor == "postgresql", connection.vendor
    credentials = quote(settings_dict["USER"] or "")
    if settings_dict["PASSWORD"]:
        credentials += ":" + quote(settings_dict["PASSWORD"])
    host = f"{settings_dict['HOST'] or 'localhost'}:{settings_dict['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{quote(settings_dict['NAME'])}"


def shared_rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a query on the database the workers used."""
    if url.startswith("sqlite:///"):
        with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as database:
            return list(database.execute(sql).fetchall())
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())


def race(mode: str, limit: int, url: str) -> list[dict[str, Any]]:
    """Start two workers, release them together once both are connected, and return their
    reports (won ids, calls made, database refusals, seconds)."""
    command = [sys.executable, "-m", "tests.campaigns.claim_worker", mode, str(limit)]
    workers = [
        subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "ready", "a worker failed to start"
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        outputs = [worker.communicate(timeout=WORKER_TIMEOUT_S)[0] for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
    assert [worker.returncode for worker in workers] == [0, 0], outputs
    reports: list[dict[str, Any]] = [json.loads(output) for output in outputs]
    summary = [(len(r["won"]), r["ticks"], len(r["refused"]), r["seconds"]) for r in reports]
    print(f"{mode} on {connection.vendor}: (won, calls, refused, seconds) {summary}")  # -s
    return reports


def assert_each_won_exactly_once(reports: list[dict[str, Any]], expected: set[int]) -> None:
    first, second = (report["won"] for report in reports)
    assert len(first) == len(set(first)), "a worker won a row twice"
    assert len(second) == len(set(second)), "a worker won a row twice"
    assert set(first) & set(second) == set(), "a row was won by both workers"
    assert set(first) | set(second) == expected, "a row was never won"
    assert [report["refused"] for report in reports] == [[], []]
    # The race was real: both claimed from the same rows at the same time.
    assert first, "the first worker won nothing: the claims did not overlap"
    assert second, "the second worker won nothing: the claims did not overlap"


@pytest.fixture
def app() -> MobileApp:
    return MobileAppFactory.create()


@pytest.fixture
def audience(app: MobileApp) -> Audience:
    return AudienceFactory.create(app=app)


def campaigns(app: MobileApp, audience: Audience, count: int) -> list[Campaign]:
    return Campaign.objects.bulk_create(
        Campaign(
            app=app,
            audience=audience,
            name=f"race {n}",
            kind=Campaign.Kind.SIMPLE,
            title="Race",
            body="Who wins?",
            status=Campaign.Status.SCHEDULED,
        )
        for n in range(count)
    )


def test_two_ticks_over_1000_due_runs_fire_each_run_once(
    app: MobileApp, audience: Audience, tmp_path: Path
) -> None:
    now = timezone.now()
    # Many campaigns scheduled for the same minute: runs share due times, as at 09:00.
    runs = CampaignRun.objects.bulk_create(
        CampaignRun(campaign=campaign, due_at=now - timedelta(minutes=1 + n % 10))
        for n, campaign in enumerate(campaigns(app, audience, RUNS))
    )
    url = shared_database(tmp_path)

    reports = race("runs", RUNS_PER_TICK, url)

    assert_each_won_exactly_once(reports, {run.id for run in runs})
    table = CampaignRun._meta.db_table
    statuses = shared_rows(url, f"SELECT status, COUNT(*) FROM {table} GROUP BY status")  # noqa: S608
    assert statuses == [(CampaignRun.Status.PLANNING.value, RUNS)]


def test_two_senders_over_2000_pending_dispatches_lease_each_once(
    app: MobileApp, audience: Audience, tmp_path: Path
) -> None:
    [campaign] = campaigns(app, audience, 1)
    now = timezone.now()
    run = CampaignRun.objects.create(
        campaign=campaign, due_at=now, status=CampaignRun.Status.SENDING, calls=DISPATCHES
    )
    dispatches = Dispatch.objects.bulk_create(
        Dispatch(
            run=run,
            seq=seq,
            targets=[[f"user{seq}", {}, {}]],
            target_count=1,
            next_attempt_at=now - timedelta(seconds=1),
        )
        for seq in range(1, DISPATCHES + 1)
    )
    url = shared_database(tmp_path)

    reports = race("dispatches", DISPATCHES_PER_CLAIM, url)

    assert_each_won_exactly_once(reports, {dispatch.id for dispatch in dispatches})
    table = Dispatch._meta.db_table
    leases = shared_rows(
        url,
        f"SELECT status, attempts, COUNT(*) FROM {table} GROUP BY status, attempts",  # noqa: S608
    )
    assert leases == [(Dispatch.Status.SENDING.value, 1, DISPATCHES)], "a row was leased twice"
