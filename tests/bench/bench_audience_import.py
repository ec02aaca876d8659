"""How fast a 1,000,000-row CSV with two value columns imports on PostgreSQL, how much
memory the importing worker needs, and how fast the member list pages of that audience are.

The benchmark creates its own database (``BENCH_DATABASE_URL``, by default
postgres://postgres@127.0.0.1:5432/pushdeck_bench), generates the CSV under MEDIA_ROOT,
and runs the import in a child process as a Celery worker would (``run_import`` on the
import's primary key); the child's peak RSS comes from ``wait4``. Then ~100 member list
pages, from the first to the last, are fetched with Django's test client, signed in.
Targets: import ≤ 20 s, peak RSS ≤ 200 MB, member list p95 ≤ 150 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/pushdeck_bench"
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE)

import django  # noqa: E402
import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402

TARGETS = {"import_s": 20.0, "peak_rss_mb": 200.0, "member_list_p95_ms": 150.0}
PAGE_REQUESTS = 100


def create_database(url: str) -> None:
    """Create the bench database if it is missing (trust auth on the local server)."""
    base, name = url.rsplit("/", 1)
    try:
        admin = psycopg.connect(f"{base}/postgres", autocommit=True)
    except psycopg.OperationalError as error:
        sys.exit(f"this benchmark needs PostgreSQL at {base} (BENCH_DATABASE_URL): {error}")
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')


def write_csv(path: Path, rows: int) -> int:
    """A CSV of ``rows`` mPaaS user IDs with a name and an amount each; its size in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("target,name,money\n")
        chunk = 100_000
        for start in range(0, rows, chunk):
            out.write(
                "".join(
                    f"user{n},Customer {n},{n % 500}\n"
                    for n in range(start, min(rows, start + chunk))
                )
            )
    return path.stat().st_size


def worker(import_id: int) -> None:
    """The child: what the Celery task does."""
    django.setup()
    from campaigns.audience_import import run_import

    run_import(import_id)


def run_child(import_id: int) -> tuple[float, float]:
    """Run the import in a child process; its wall time (s) and peak RSS (MB)."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.bench_audience_import", "--worker", str(import_id)],
        cwd=ROOT,
        env=os.environ.copy(),
    )
    _pid, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        sys.exit(f"the import process failed with exit code {child.returncode}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024  # KiB on Linux


def member_list_times(audience_id: int, user: object, requests: int) -> list[float]:
    from django.test import Client
    from django.urls import reverse

    from campaigns.models import AudienceMember

    ids = AudienceMember.objects.filter(audience_id=audience_id).order_by("id")
    first = ids.values_list("id", flat=True).first() or 0
    last = ids.values_list("id", flat=True).last() or 0
    client = Client(HTTP_HOST="localhost")  # in ALLOWED_HOSTS with DEBUG on
    client.force_login(user)  # type: ignore[arg-type]
    url = reverse("audience_detail", args=[audience_id])
    rng = random.Random(7)  # noqa: S311 - which pages to time, not a secret
    # The first page, the last pages, and pages all through the audience.
    afters = [None, last - 10, last - 60] + [rng.randint(first, last) for _ in range(requests)]
    for after in afters[:5]:  # warm up: templates compiled, connection open
        client.get(url, {"after": after} if after else {})
    times = []
    for after in afters[:requests]:
        started = time.perf_counter()
        response = client.get(url, {"after": after} if after else {})
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 rows instead of 1,000,000")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    rows = 100_000 if args.quick else 1_000_000

    create_database(os.environ["DATABASE_URL"])
    django.setup()
    from django.core.management import call_command

    from campaigns.encryption import Secret
    from campaigns.models import Audience, AudienceImport, MobileApp, User
    from campaigns.roles import Role, assign_role
    from tests.bench.report import write_report

    call_command("migrate", verbosity=0)
    Audience.objects.filter(name="Benchmark audience").delete()
    user, _ = User.objects.get_or_create(username="bench-marketer")
    assign_role(user, Role.MARKETER)
    app, _ = MobileApp.objects.get_or_create(
        name="Benchmark mPaaS app",
        defaults={
            "provider": MobileApp.Provider.MPAAS,
            "mpaas_app_id": "ONEXBENCH0000001",
            "mpaas_workspace_id": "bench",
            "access_key_id": "sandbox-key",
            "access_key_secret": Secret("sandbox-secret"),
        },
    )
    audience = Audience.objects.create(
        app=app, name="Benchmark audience", kind=Audience.Kind.USERS, owner=user
    )
    name = "imports/bench/audience-import.csv"
    source = Path(settings.MEDIA_ROOT) / name
    print(f"writing {rows:,} rows to {source}…", flush=True)
    size = write_csv(source, rows)
    audience_import = AudienceImport.objects.create(
        audience=audience,
        mode=AudienceImport.Mode.REPLACE,
        source=name,
        source_name="audience-import.csv",
        size_bytes=size,
        value_columns=["name", "money"],
        created_by=user,
    )
    try:
        print("importing in a child process…", flush=True)
        process_s, peak_rss_mb = run_child(audience_import.pk)
    finally:
        source.unlink(missing_ok=True)  # the import removes it when it ends
    audience_import.refresh_from_db()
    audience.refresh_from_db()
    if audience_import.status != AudienceImport.Status.SUCCEEDED:
        sys.exit(f"the import ended {audience_import.status}: {audience_import.error}")
    assert audience_import.started_at is not None
    assert audience_import.finished_at is not None
    import_s = (audience_import.finished_at - audience_import.started_at).total_seconds()

    print(f"timing {PAGE_REQUESTS} member list pages…", flush=True)
    times = member_list_times(audience.pk, user, PAGE_REQUESTS)
    metrics = {
        "rows": float(audience.member_count),
        "import_s": round(import_s, 2),
        "rows_per_s": round(audience.member_count / import_s),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "member_list_p95_ms": round(p95(times), 1),
    }
    print(f"{'metric':<20} {'measured':>12} {'target':>10}")
    for metric, value in metrics.items():
        target = f"≤ {TARGETS[metric]:g}" if metric in TARGETS else ""
        print(f"{metric:<20} {value:>12,.1f} {target:>10}")
    print(f"(import process wall time incl. start-up: {process_s:.1f} s)")
    write_report("audience_import", metrics)
    missed = [metric for metric, limit in TARGETS.items() if metrics[metric] > limit]
    if audience.member_count != rows or missed:
        print(f"missed: {missed or 'row count'}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
