"""How fast the console's list pages answer at production size, and how many queries each
request makes.

The benchmark seeds 100,000 campaigns (five apps of both providers, eight owners, every
status, kind and schedule, created over three years) into a database of its own: SQLite at
var/bench/pages.sqlite3, or PostgreSQL when DATABASE_URL names one (created if missing;
trust auth). The rows stay between runs; ``--reseed`` starts again. Then each page scenario
is requested N times through Django's test client, signed in as a viewer, and timed from
request to response; the queries of every request are counted.

A scenario belongs to a page, and the page's metrics are ``<page>_p95_ms`` over all of its
scenarios' requests and ``<page>_queries``, the most queries one request made. More pages
(the campaign detail, the history) are more entries in SCENARIOS and TARGETS.
Targets: campaign list p95 ≤ 150 ms and ≤ 10 queries.

The campaign detail page is measured on one campaign of its own (``seed_detail``, on an
app outside BENCH_PREFIX so it is not one of the list's campaigns): four weekly runs with
10,000 calls of 100 targets between them, each run's seven results snapshots with platform
and vendor splits, and a few failed calls. Targets: p95 ≤ 150 ms and ≤ 10 queries.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from typing import TYPE_CHECKING
from unittest import mock
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
if not os.environ.get("DATABASE_URL"):
    # Keep benchmark rows out of the development database.
    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'bench' / 'pages.sqlite3'}"

import django  # noqa: E402

sys.path.insert(0, str(ROOT))  # run as a script too: tests/bench/bench_pages.py
from tests.dispatch_rig import create_database  # noqa: E402

if TYPE_CHECKING:
    from django.test import Client

CAMPAIGNS = 100_000
REQUESTS = 100  # per scenario; --quick: 25
WARM_UP = 3
TARGETS = {"campaign_list_p95_ms": 150.0, "campaign_list_queries": 10.0}
TARGETS.update(campaign_detail_p95_ms=150.0, campaign_detail_queries=10.0)
TARGETS.update(history_p95_ms=150.0, history_queries=10.0)
SEED = 7
BATCH = 5_000
BENCH_PREFIX = "Bench "  # every app the benchmark makes is named so
WORDS = (
    "Spring sale", "Summer deals", "Flash sale", "Weekly digest", "Cart reminder",
    "Win-back", "New arrivals", "Price drop", "Loyalty points", "Order shipped",
    "Birthday treat", "App update", "Live match", "Breaking news", "Coupon inside",
    "Back in stock", "Double 11", "Member day", "Check-in streak", "Survey invite",
)  # fmt: skip


def seed(campaigns: int) -> None:
    """Apps, owners, audiences and ``campaigns`` campaigns, the same ones on every run."""
    from django.db import connection

    from campaigns.models import Audience, Campaign, MobileApp, User
    from campaigns.roles import Role, assign_role

    rng = random.Random(SEED)  # noqa: S311 - test data, not a secret
    Campaign.objects.filter(app__name__startswith=BENCH_PREFIX).delete()
    Audience.objects.filter(app__name__startswith=BENCH_PREFIX).delete()
    MobileApp.objects.filter(name__startswith=BENCH_PREFIX).delete()
    providers = [MobileApp.Provider.MPAAS] * 3 + [MobileApp.Provider.EMAS] * 2
    apps = [
        MobileApp.objects.create(
            name=f"{BENCH_PREFIX}app {n + 1}",
            provider=provider,
            mpaas_app_id="ONEXBENCH0000001" if provider == MobileApp.Provider.MPAAS else "",
            mpaas_workspace_id="bench" if provider == MobileApp.Provider.MPAAS else "",
            emas_app_key_android="23267207" if provider == MobileApp.Provider.EMAS else "",
            access_key_id="sandbox-key",
            access_key_secret="sandbox-secret",  # encrypted on save
        )
        for n, provider in enumerate(providers)
    ]
    owners = []
    for n in range(8):
        owner, _ = User.objects.get_or_create(username=f"bench-owner-{n + 1}")
        assign_role(owner, Role.MARKETER)
        owners.append(owner)
    audiences = {
        app.pk: [
            Audience.objects.create(
                app=app,
                name=f"Audience {n + 1}",
                kind=Audience.Kind.USERS,
                member_count=rng.randint(10, 2_000_000),
            )
            for n in range(4)
        ]
        for app in apps
    }
    statuses = list(Campaign.Status.values)
    status_weights = [8, 3, 5, 1, 1, 72, 6, 4]  # most campaigns are done
    now = datetime.now(UTC)
    start = now - timedelta(days=3 * 365)
    step = timedelta(days=3 * 365) / campaigns
    rows = []
    for n in range(campaigns):
        app = apps[rng.randrange(len(apps))]
        created = start + step * n + timedelta(seconds=rng.randint(0, 60))
        mode = rng.choices(list(Campaign.ScheduleMode.values), [6, 3, 1])[0]
        recurring = mode == Campaign.ScheduleMode.RECURRING
        status = rng.choices(statuses, status_weights)[0]
        rows.append(
            Campaign(
                name=f"{rng.choice(WORDS)} {n + 1}",
                app=app,
                kind=(
                    Campaign.Kind.EMAS
                    if app.provider == MobileApp.Provider.EMAS
                    else rng.choice(Campaign.MPAAS_KINDS)
                ),
                audience=rng.choice(audiences[app.pk]),
                title="Bench",
                body="Bench",
                schedule_mode=mode,
                send_at=created + timedelta(days=1) if mode == Campaign.ScheduleMode.AT else None,
                frequency=rng.choice(Campaign.Frequency.values) if recurring else "",
                time_of_day=time_of_day(9, 30) if recurring else None,
                status=status,
                created_by=owners[rng.randrange(len(owners))],
                created_at=created,
                changed_at=min(now, created + timedelta(hours=rng.randint(0, 24 * 14))),
                **_key_figures(rng, status, created, now),
            )
        )
    # The rows carry their own creation and change times: switch the automatic ones off.
    created_at, changed_at = (Campaign._meta.get_field(f) for f in ("created_at", "changed_at"))
    with (
        mock.patch.object(created_at, "auto_now_add", False),
        mock.patch.object(changed_at, "auto_now", False),
    ):
        for first in range(0, len(rows), BATCH):
            Campaign.objects.bulk_create(rows[first : first + BATCH])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE campaigns_campaign")


WENT_OUT = {"running", "paused", "completed", "cancelled", "failed"}


def _key_figures(
    rng: random.Random, status: str, created: datetime, now: datetime
) -> dict[str, object]:
    """What the history shows of a campaign that went out: when, and its results."""
    if status not in WENT_OUT:
        return {}
    sent = min(now, created + timedelta(hours=rng.randint(1, 72)))
    targets = rng.randint(100, 200_000)
    arrived = int(targets * rng.uniform(0.6, 0.97))
    return {
        "first_sent_at": sent,
        "total_targets": targets,
        "total_accepted": targets,
        "total_arrived": arrived,
        "total_opened": int(arrived * rng.uniform(0.02, 0.3)),
        "results_at": min(now, sent + timedelta(hours=72)),
    }


def bench_campaigns() -> int:
    """How many bench campaigns are seeded whole (with the history's key figures)."""
    from campaigns.models import Campaign

    mine = Campaign.objects.filter(app__name__startswith=BENCH_PREFIX)
    return mine.count() if mine.filter(first_sent_at__isnull=False).exists() else 0


DETAIL_APP = "Detail bench app"  # not BENCH_PREFIX: the list's campaigns are counted by it
DETAIL_RUNS = 4
DETAIL_CALLS = 10_000  # over its runs, of DETAIL_TARGETS targets each
DETAIL_TARGETS = 100
DETAIL_FAILED = ("Throttling.User", "PARAM_ILLEGAL")  # per run, three calls of each


def detail() -> int | None:
    """The detail page's campaign, if it is seeded whole."""
    from campaigns.models import Campaign, Dispatch

    found = Campaign.objects.filter(app__name=DETAIL_APP).values_list("id", flat=True).first()
    calls = Dispatch.objects.filter(run__campaign_id=found).count() if found else 0
    return found if calls == DETAIL_CALLS else None


def seed_detail() -> int:
    """A recurring personalised campaign that went out weekly, DETAIL_RUNS times, in
    DETAIL_CALLS calls of DETAIL_TARGETS targets, with every step of each run's results."""
    from django.db import connection

    from campaigns.models import (
        Audience,
        AudienceMember,
        Campaign,
        CampaignRun,
        DeliveryStat,
        Dispatch,
        MessageTemplate,
        MobileApp,
    )
    from campaigns.stats import SCHEDULE

    rng = random.Random(SEED)  # noqa: S311 - test data, not a secret
    Campaign.objects.filter(app__name=DETAIL_APP).delete()
    Audience.objects.filter(app__name=DETAIL_APP).delete()
    MobileApp.objects.filter(name=DETAIL_APP).delete()
    app = MobileApp.objects.create(
        name=DETAIL_APP,
        provider=MobileApp.Provider.MPAAS,
        mpaas_app_id="ONEXBENCH0000002",
        mpaas_workspace_id="bench",
        access_key_id="sandbox-key",
        access_key_secret="sandbox-secret",  # encrypted on save
    )
    template = MessageTemplate.objects.create(
        app=app, name="Offer", title="Hi #name#", body="#name#, #money# off today"
    )
    per_run = DETAIL_CALLS // DETAIL_RUNS
    targets = per_run * DETAIL_TARGETS
    # The preview reads the first member; the calls carry their targets themselves.
    audience = Audience.objects.create(
        app=app, name="Loyal buyers", kind=Audience.Kind.USERS, member_count=targets
    )
    AudienceMember.objects.bulk_create(
        AudienceMember(audience=audience, target=f"user{n}", values={"name": f"N{n}"})
        for n in range(DETAIL_TARGETS)
    )
    campaign = Campaign.objects.create(
        name="Weekly digest (detail bench)",
        app=app,
        kind=Campaign.Kind.PERSONALISED,
        audience=audience,
        template=template,
        template_values={"money": "5"},
        schedule_mode=Campaign.ScheduleMode.RECURRING,
        frequency=Campaign.Frequency.WEEKLY,
        repeat_on=[1],
        time_of_day=time_of_day(9, 30),
        status=Campaign.Status.COMPLETED,
    )
    now = datetime.now(UTC)
    for week in range(DETAIL_RUNS):
        due = now - timedelta(weeks=DETAIL_RUNS - week)
        finished = due + timedelta(minutes=40)
        failed = 3 * len(DETAIL_FAILED)
        run = CampaignRun.objects.create(
            campaign=campaign,
            due_at=due,
            status=CampaignRun.Status.COMPLETED,
            targets=targets,
            calls=per_run,
            calls_sent=per_run - failed,
            calls_failed=failed,
            targets_sent=targets - failed * DETAIL_TARGETS,
            targets_failed=failed * DETAIL_TARGETS,
            planned_at=due,
            started_at=due,
            finished_at=finished,
            stats_step=len(SCHEDULE),
        )
        calls = []
        for seq in range(1, per_run + 1):
            code = DETAIL_FAILED[seq % len(DETAIL_FAILED)] if seq <= failed else "OK"
            first = (seq - 1) * DETAIL_TARGETS
            calls.append(
                Dispatch(
                    run=run,
                    seq=seq,
                    targets=[
                        [f"user{first + n}", {"name": f"N{first + n}"}, {}]
                        for n in range(DETAIL_TARGETS)
                    ],
                    target_count=DETAIL_TARGETS,
                    status=Dispatch.Status.FAILED if seq <= failed else Dispatch.Status.SENT,
                    attempts=5 if seq <= failed else 1,
                    next_attempt_at=due,
                    request_id=f"{rng.getrandbits(64):016X}-BENCH",
                    result_code=code,
                    message="" if code == "OK" else f"{code}: refused by the provider",
                    provider_id="" if seq <= failed else str(rng.getrandbits(40)),
                    sent_at=None if seq <= failed else due + timedelta(seconds=seq / 5),
                )
            )
            if len(calls) == 500:
                Dispatch.objects.bulk_create(calls)
                calls = []
        Dispatch.objects.bulk_create(calls)
        accepted = targets - failed * DETAIL_TARGETS
        for step, delay in enumerate(SCHEDULE):
            share = (step + 1) / len(SCHEDULE)
            arrived = int(accepted * 0.9 * share)
            opened = int(arrived * rng.uniform(0.08, 0.2))
            DeliveryStat.objects.create(
                run=run,
                taken_at=finished + delay,
                step=step,
                calls_asked=per_run - failed,
                accepted=accepted,
                sent=int(accepted * 0.97),
                arrived=arrived,
                opened=opened,
                ignored=int(arrived * 0.3 * share),
                by_platform={
                    platform: {
                        "sent": accepted * part // 10,
                        "arrived": arrived * part // 10,
                        "opened": opened * part // 10,
                    }
                    for platform, part in (("android", 6), ("ios", 4))
                },
                by_vendor={
                    vendor: {"sent": accepted // 5, "arrived": arrived // 5, "opened": opened // 5}
                    for vendor in ("huawei", "xiaomi", "oppo", "vivo", "apple")
                },
            )
    if connection.vendor == "postgresql":  # as autovacuum would, before the page is read
        with connection.cursor() as cursor:
            for model in (CampaignRun, Dispatch, DeliveryStat):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    return campaign.pk


@dataclass(frozen=True)
class Scenario:
    page: str  # the metrics' prefix
    name: str
    url_name: str
    queries: Callable[[random.Random], Iterator[dict[str, object]]]  # query strings, forever
    url_kwargs: Callable[[], dict[str, object]] = dict  # the URL's arguments, e.g. a pk


def _always(params: dict[str, object]) -> Callable[[random.Random], Iterator[dict[str, object]]]:
    def queries(rng: random.Random) -> Iterator[dict[str, object]]:
        while True:
            yield params

    return queries


def _by_status(rng: random.Random) -> Iterator[dict[str, object]]:
    while True:
        yield {"status": rng.choice(["scheduled", "failed", "draft", "completed"])}


def _by_app_and_kind(rng: random.Random) -> Iterator[dict[str, object]]:
    from campaigns.models import MobileApp

    apps = list(MobileApp.objects.filter(name__startswith=BENCH_PREFIX))
    while True:
        app = rng.choice(apps)
        kind = (
            "emas"
            if app.provider == MobileApp.Provider.EMAS
            else rng.choice(["simple", "template"])
        )
        yield {"app": app.pk, "kind": kind}


def _search(rng: random.Random) -> Iterator[dict[str, object]]:
    while True:
        yield {"q": rng.choice(["flash", "digest", "coupon", "stock"])}


def _deep_pages(rng: random.Random) -> Iterator[dict[str, object]]:
    """A page far down the list, as Next links would reach it: the cursor of a campaign
    between the 50,000th and the last but one, newest first."""
    from campaigns.campaign_pages import NEWEST, SORT_VALUE, cursor_for
    from campaigns.models import Campaign

    newest_first = Campaign.objects.annotate(**{SORT_VALUE: NEWEST.expression}).order_by(
        "-created_at", "-id"
    )
    total = newest_first.count()
    while True:
        edge = newest_first[rng.randint(total // 2, total - 2)]
        yield {"after": cursor_for(NEWEST, edge)}


def _history_months(rng: random.Random) -> Iterator[dict[str, object]]:
    """A month of the three years the campaigns went out in, as the month filter sends it."""
    today = datetime.now(UTC).date()
    while True:
        back = rng.randint(0, 35)
        index = today.year * 12 + today.month - 1 - back
        yield {"month": f"{index // 12:04d}-{index % 12 + 1:02d}"}


def _history_by_app(rng: random.Random) -> Iterator[dict[str, object]]:
    from campaigns.models import MobileApp

    apps = list(MobileApp.objects.filter(name__startswith=BENCH_PREFIX))
    while True:
        app = rng.choice(apps)
        yield {"app": app.pk, "status": rng.choice(["completed", "cancelled", "failed"])}


def _history_deep_pages(rng: random.Random) -> Iterator[dict[str, object]]:
    """A page far down the history, as its Next links would reach it."""
    from campaigns.campaign_pages import SENT, SORT_VALUE, cursor_for
    from campaigns.models import Campaign

    newest_first = (
        Campaign.objects.filter(first_sent_at__isnull=False)
        .annotate(**{SORT_VALUE: SENT.expression})
        .order_by("-first_sent_at", "-id")
    )
    total = newest_first.count()
    while True:
        edge = newest_first[rng.randint(total // 2, total - 2)]
        yield {"after": cursor_for(SENT, edge)}


SCENARIOS = (
    Scenario("campaign_list", "first page", "campaign_list", _always({})),
    Scenario("campaign_list", "by name", "campaign_list", _always({"sort": "name"})),
    Scenario("campaign_list", "recently changed", "campaign_list", _always({"sort": "changed"})),
    Scenario("campaign_list", "search no match", "campaign_list", _always({"q": "nothing"})),
    Scenario("campaign_list", "by status", "campaign_list", _by_status),
    Scenario("campaign_list", "by app and kind", "campaign_list", _by_app_and_kind),
    Scenario("campaign_list", "name search", "campaign_list", _search),
    Scenario("campaign_list", "deep page", "campaign_list", _deep_pages),
    Scenario(
        "campaign_detail", "10,000 calls", "campaign_detail", _always({}), lambda: {"pk": detail()}
    ),
    Scenario("history", "first page", "history", _always({})),
    Scenario("history", "a month", "history", _history_months),
    Scenario("history", "app and status", "history", _history_by_app),
    Scenario(
        "history",
        "provider, owner",
        "history",
        _always({"provider": "emas", "owner": "bench-owner-3"}),
    ),
    Scenario("history", "deep page", "history", _history_deep_pages),
)


@dataclass
class Measured:
    scenario: Scenario
    times_ms: list[float]
    queries: list[int]


def measure(scenario: Scenario, client: Client, requests: int) -> Measured:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    rng = random.Random(SEED)  # noqa: S311 - which pages to ask for, not a secret
    url = reverse(scenario.url_name, kwargs=scenario.url_kwargs())
    queries = scenario.queries(rng)
    urls = [f"{url}?{urlencode(next(queries))}" for _ in range(WARM_UP + requests)]
    times, counts = [], []
    for n, each in enumerate(urls):
        reset_queries()  # DEBUG keeps the last 9,000 queries: a full log would count none
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(each)
            elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (each, response.status_code)
        if n >= WARM_UP:  # templates compiled, connection open
            times.append(elapsed)
            counts.append(len(captured))
    return Measured(scenario, times, counts)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def export_memory() -> dict[str, float]:
    """The history's CSV export of about 10,000 rows and of every campaign that went out,
    each in a fresh process: its peak RSS should not grow with the rows."""
    import json
    import subprocess

    since = (datetime.now(UTC) - timedelta(days=130)).date().isoformat()
    measured = []
    for extra in (["--since", since], []):
        done = subprocess.run(
            [sys.executable, str(ROOT / "tests" / "bench" / "export_rss.py"), *extra],
            check=True,
            capture_output=True,
            text=True,
            env=os.environ.copy(),
        )
        measured.append(json.loads(done.stdout.strip().splitlines()[-1]))
    small, full = measured
    print(f"{'export rows':<14} {'MB before':>10} {'peak MB':>10} {'growth MB':>10}")
    for each in measured:
        before, peak = each["before_mb"], each["peak_mb"]
        print(f"{each['rows']:<14,} {before:>10.1f} {peak:>10.1f} {peak - before:>10.1f}")
    return {
        "export_rows": float(full["rows"]),
        "export_peak_rss_mb": round(full["peak_mb"], 1),
        "export_growth_mb": round(full["peak_mb"] - full["before_mb"], 1),
        "export_small_rows": float(small["rows"]),
        "export_small_growth_mb": round(small["peak_mb"] - small["before_mb"], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"{REQUESTS // 4} requests each")
    parser.add_argument("--reseed", action="store_true", help="seed the campaigns again")
    args = parser.parse_args()
    requests = REQUESTS // 4 if args.quick else REQUESTS

    if os.environ["DATABASE_URL"].startswith("postgres"):
        create_database(os.environ["DATABASE_URL"])
    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from campaigns.middleware import TIME_ZONE_COOKIE
    from campaigns.models import User
    from campaigns.roles import Role, assign_role
    from tests.bench.report import write_report

    call_command("migrate", verbosity=0)
    if args.reseed or bench_campaigns() != CAMPAIGNS:
        print(f"seeding {CAMPAIGNS:,} campaigns into {connection.vendor}…", flush=True)
        started = time.perf_counter()
        seed(CAMPAIGNS)
        print(f"seeded in {time.perf_counter() - started:.1f} s", flush=True)
    if args.reseed or detail() is None:
        print(f"seeding a campaign of {DETAIL_CALLS:,} calls…", flush=True)
        started = time.perf_counter()
        seed_detail()
        print(f"seeded in {time.perf_counter() - started:.1f} s", flush=True)
    viewer, _ = User.objects.get_or_create(username="bench-viewer")
    assign_role(viewer, Role.VIEWER)
    client = Client(HTTP_HOST="localhost")  # in ALLOWED_HOSTS with DEBUG on
    client.force_login(viewer)
    client.cookies[TIME_ZONE_COOKIE] = "Asia/Shanghai"

    results = [measure(scenario, client, requests) for scenario in SCENARIOS]
    print(f"{'page':<15} {'scenario':<17} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8}")
    for each in results:
        print(
            f"{each.scenario.page:<15} {each.scenario.name:<17} "
            f"{statistics.median(each.times_ms):>8.1f} {p95(each.times_ms):>8.1f} "
            f"{max(each.times_ms):>8.1f} {max(each.queries):>8}"
        )
    metrics: dict[str, float] = {"campaigns": float(bench_campaigns())}
    for page in dict.fromkeys(each.scenario.page for each in results):
        mine = [each for each in results if each.scenario.page == page]
        metrics[f"{page}_p95_ms"] = round(p95([t for each in mine for t in each.times_ms]), 1)
        metrics[f"{page}_queries"] = float(max(q for each in mine for q in each.queries))
    print(f"{'metric':<24} {'measured':>10} {'target':>10}")
    for metric, value in metrics.items():
        target = f"≤ {TARGETS[metric]:g}" if metric in TARGETS else ""
        print(f"{metric:<24} {value:>10,.1f} {target:>10}")
    metrics.update(export_memory())
    write_report("pages", metrics)
    missed = [metric for metric, limit in TARGETS.items() if metrics[metric] > limit]
    if missed:
        print(f"missed: {', '.join(missed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
