"""Delivery results: asking the providers what became of a run's calls, on a back-off
schedule after the run ends, and keeping each answer as a ``DeliveryStat`` snapshot.

When: 1 min, 5 min, 15 min, 1 h, 6 h, 24 h and 72 h after the run ended (``SCHEDULE``);
after the last step a run is never asked about again. A poll that comes late (a worker was
down, or the sandbox's clock was moved on) takes every step that is due at once and is
recorded as the last of them. The schedule is read on the app's clock: for an app on the
built-in sandbox that is the sandbox's simulated clock, so moving it on makes the results
fill in as they would over hours.

What: every call of the run the provider accepted is asked about, one query per call and
platform (mPaaS: QueryPushAnalysisTaskDetail for accepted/sent/arrived and
QueryPushAnalysisCoreIndex by TaskId for opened/ignored, by platform and vendor too for runs
of few calls; EMAS: QueryPushStatByMsg per MessageId, which is per AppKey and so per
platform). Each query takes a token of the app's stats bucket in the global rate limiter
(``ratelimit``), so stats keep to the provider's query limit across all workers and never
use up the tokens sending needs.

Failures: a snapshot is written only when every call was answered (a partial sum would make
the funnel shrink). Otherwise the run keeps its step and is asked again in
``RETRY_AFTER``, up to ``MAX_RETRIES`` times per step; the error is kept on the run and shown
on the campaign page. Stats run in their own task: they never hold up sending.

Claiming: a poller takes a run by moving its ``stats_due_at`` past a lease in one
conditional update, so two pollers never ask about the same run at once, and a poller that
dies leaves the run to be taken again when the lease runs out.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from campaigns.call_plan import EMAS_PLATFORMS
from campaigns.connections import emas_apps, mpaas_app
from campaigns.models import Campaign, CampaignRun, DeliveryStat, Dispatch, MobileApp
from campaigns.models.apps import SANDBOX_ENDPOINT
from campaigns.providers.emas import EmasClient
from campaigns.providers.errors import ProviderError
from campaigns.providers.mpaas import MpaasClient
from campaigns.ratelimit import app_key, limiter
from campaigns.sandbox import control as sandbox_control

log = logging.getLogger(__name__)

SCHEDULE = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(hours=24),
    timedelta(hours=72),
)
RETRY_AFTER = timedelta(minutes=2)
MAX_RETRIES = 5
# Queries per second per app: EMAS allows 50 stats queries a second; the mPaaS documents
# Pushdeck follows give no figure for the analysis queries, so the same is assumed.
QUERY_RATE: dict[str, float] = {MobileApp.Provider.MPAAS: 50.0, MobileApp.Provider.EMAS: 50.0}
TOKEN_TIMEOUT_S = 30.0
# mPaaS reports platforms and vendors only through one query each per task: runs of up to
# this many calls get their split, larger ones their totals only.
SPLIT_MAX_CALLS = 3
MPAAS_PLATFORMS = ("android", "ios", "harmony")
MPAAS_VENDORS = ("huawei", "xiaomi", "oppo", "vivo", "honor", "apple")
RUNS_PER_POLL = 20
LEASE_MIN = timedelta(minutes=10)


def stats_key(app_id: int) -> str:
    """The rate-limit bucket of an app's stats queries (sending has its own)."""
    return f"{app_key(app_id)}:stats"


def app_now(app: MobileApp, now: datetime | None = None) -> datetime:
    """The time on the app's clock: the sandbox's simulated clock for the built-in sandbox."""
    if app.endpoint == SANDBOX_ENDPOINT:
        return sandbox_control.simulated_now()
    return now or timezone.now()


def next_due(ended_at: datetime, after: datetime) -> tuple[int, datetime] | None:
    """The first step of ``SCHEDULE`` after ``after`` for a run that ended at ``ended_at``
    (its index and time); None when every step has passed."""
    for index, delay in enumerate(SCHEDULE):
        if ended_at + delay > after:
            return index, ended_at + delay
    return None


def first_due(ended_at: datetime) -> datetime:
    return ended_at + SCHEDULE[0]


# -- the counts --------------------------------------------------------------------------------


@dataclass
class Counts:
    """One snapshot's counts while they are being added up."""

    accepted: int = 0
    sent: int = 0
    arrived: int = 0
    opened: int = 0
    ignored: int = 0
    deleted: int = 0
    sms_sent: int = 0
    sms_skipped: int = 0
    sms_failed: int = 0
    sms_received: int = 0
    by_platform: dict[str, dict[str, int]] = field(default_factory=dict)
    by_vendor: dict[str, dict[str, int]] = field(default_factory=dict)

    def add_split(self, split: dict[str, dict[str, int]], key: str, **counts: int) -> None:
        into = split.setdefault(key, {"sent": 0, "arrived": 0, "opened": 0})
        for name, value in counts.items():
            into[name] = into.get(name, 0) + value


def _int(value: Any) -> int:
    try:
        return int(float(value or 0))
    except (TypeError, ValueError):
        return 0


@dataclass
class Asked:
    counts: Counts = field(default_factory=Counts)
    calls: int = 0
    unanswered: int = 0
    error: str = ""

    def failed(self, error: ProviderError) -> None:
        self.unanswered += 1
        if not self.error:
            code = f" ({error.code})" if error.code else ""
            self.error = f"{error.message}{code}"


def _token(app: MobileApp) -> None:
    if not limiter().acquire(
        stats_key(app.pk), QUERY_RATE.get(app.provider, 50.0), timeout=TOKEN_TIMEOUT_S
    ):
        raise ProviderError(
            "No stats query slot within 30 s: the app's queries are busy.", permanent=False
        )


def _sent_calls(run: CampaignRun) -> Iterator[tuple[str, list[str]]]:
    """(provider ids, as the call recorded them) of the run's accepted calls."""
    rows = (
        Dispatch.objects.filter(run=run, status=Dispatch.Status.SENT)
        .exclude(provider_id="")
        .order_by("seq")
        .values_list("provider_id", flat=True)
    )
    for provider_id in rows.iterator(chunk_size=2000):
        yield provider_id, [part for part in provider_id.split(",") if part]


def _ask_mpaas(client: MpaasClient, run: CampaignRun, asked: Asked, *, now: datetime) -> None:
    app = run.campaign.app
    wire_app = mpaas_app(app)
    split = run.calls_sent <= SPLIT_MAX_CALLS
    start = (run.started_at or run.due_at) - timedelta(days=1)
    end = max(now, start) + timedelta(days=1)
    counts = asked.counts
    for _, task_ids in _sent_calls(run):
        for task_id in task_ids:
            asked.calls += 1
            try:
                _token(app)
                detail = client.task_stats(wire_app, task_id)
                _token(app)
                index = client.core_index(wire_app, start=start, end=end, task_id=task_id)
                splits: list[tuple[dict[str, dict[str, int]], str, Any]] = []
                if split:
                    for platform in MPAAS_PLATFORMS:
                        _token(app)
                        each = client.core_index(
                            wire_app, start=start, end=end, task_id=task_id, platform=platform
                        )
                        splits.append((counts.by_platform, platform, each))
                    for vendor in MPAAS_VENDORS:
                        _token(app)
                        each = client.core_index(
                            wire_app, start=start, end=end, task_id=task_id, channel=vendor
                        )
                        splits.append((counts.by_vendor, vendor, each))
            except ProviderError as error:
                asked.failed(error)
                continue
            counts.accepted += _int(detail.push_num)
            counts.sent += _int(detail.push_success_num)
            counts.arrived += _int(detail.push_arrival_num)
            counts.opened += _int(index.get("OpenNum"))
            counts.ignored += _int(index.get("IgnoreNum"))
            for into, key, each in splits:
                if _int(each.get("PushTotalNum")):
                    counts.add_split(
                        into,
                        key,
                        sent=_int(each.get("PushNum")),
                        arrived=_int(each.get("ArrivalNum")),
                        opened=_int(each.get("OpenNum")),
                    )


def _emas_platforms(run: CampaignRun) -> list[str]:
    """The platforms a call of this campaign reached, in the order its MessageIds are kept."""
    campaign = run.campaign
    apps = emas_apps(campaign.app)
    device_type = str(campaign.options.get("device_type") or "ALL")
    return [platform for platform in EMAS_PLATFORMS.get(device_type, ()) if platform in apps]


def _ask_emas(client: EmasClient, run: CampaignRun, asked: Asked) -> None:
    app = run.campaign.app
    apps = emas_apps(app)
    platforms = _emas_platforms(run)
    counts = asked.counts
    for _, message_ids in _sent_calls(run):
        # Each id is the MessageId of one AppKey's push, in platform order.
        pairs = (
            list(zip(platforms, message_ids, strict=True))
            if len(platforms) == len(message_ids)
            else [(platform, one) for one in message_ids for platform in list(apps)[:1]]
        )
        for platform, message_id in pairs:
            asked.calls += 1
            try:
                _token(app)
                report = client.query_push_stat_by_msg(apps[platform], message_id)
            except ProviderError as error:
                asked.failed(error)
                continue
            for stat in report.stats:
                counts.accepted += stat.accept_count
                counts.sent += stat.sent_count
                counts.arrived += stat.received_count
                counts.opened += stat.opened_count
                counts.deleted += stat.deleted_count
                counts.sms_sent += stat.sms_sent_count
                counts.sms_skipped += stat.sms_skip_count
                counts.sms_failed += stat.sms_failed_count
                counts.sms_received += stat.sms_receive_success_count
                counts.add_split(
                    counts.by_platform,
                    platform,
                    sent=stat.sent_count,
                    arrived=stat.received_count,
                    opened=stat.opened_count,
                )


def ask(run: CampaignRun, *, now: datetime) -> Asked:
    """What the provider says of every accepted call of ``run``, added up."""
    from campaigns.dispatch import cached_client  # the senders' clients, one per app

    asked = Asked()
    client = cached_client(run.campaign)
    if isinstance(client, EmasClient):
        _ask_emas(client, run, asked)
    elif isinstance(client, MpaasClient):
        _ask_mpaas(client, run, asked, now=now)
    return asked


# -- polling -----------------------------------------------------------------------------------


def _lease(run: CampaignRun) -> timedelta:
    """Long enough to ask about every call at the query rate, twice over."""
    queries = run.calls_sent * (2 + (9 if run.calls_sent <= SPLIT_MAX_CALLS else 0))
    rate = QUERY_RATE.get(run.campaign.app.provider, 50.0)
    return max(LEASE_MIN, timedelta(seconds=2 * queries / rate))


def due_runs(now: datetime | None = None) -> list[int]:
    """Runs whose next poll is due (on the latest clock any app may have), oldest first."""
    moment = now or timezone.now()
    latest = max(moment, sandbox_control.simulated_now())
    due = CampaignRun.objects.filter(stats_due_at__lte=latest).order_by("stats_due_at")
    return list(due.values_list("id", flat=True)[:RUNS_PER_POLL])


def poll_due(*, now: datetime | None = None) -> int:
    """Poll the runs whose results are due (what the ``stats_poll`` task does); how many."""
    polled = 0
    for run_id in due_runs(now):
        if poll_run(run_id, now=now) is not None:
            polled += 1
    return polled


def _claim(run_id: int, now: datetime | None) -> tuple[CampaignRun, datetime] | None:
    run = (
        CampaignRun.objects.select_related("campaign__app")
        .filter(id=run_id, stats_due_at__isnull=False)
        .first()
    )
    if run is None or run.finished_at is None or run.stats_due_at is None:
        return None
    moment = app_now(run.campaign.app, now)
    if run.stats_due_at > moment:
        return None  # due on another app's clock, not on this one's
    lease = moment + _lease(run)
    if not CampaignRun.objects.filter(id=run.id, stats_due_at=run.stats_due_at).update(
        stats_due_at=lease
    ):
        return None  # another poller took it
    return run, moment


def poll_run(run_id: int, *, now: datetime | None = None) -> DeliveryStat | None:
    """Ask the provider about the run if its poll is due and nobody else is; write the
    snapshot and schedule the next step. The snapshot, or None (not due, taken, failed)."""
    claimed = _claim(run_id, now)
    if claimed is None:
        return None
    run, moment = claimed
    asked = ask(run, now=moment)
    step = next_due(run.finished_at or moment, moment)
    taken_step = (step[0] if step else len(SCHEDULE)) - 1
    if asked.unanswered:
        retries = run.stats_retries + 1
        log.warning(
            "stats unanswered",
            extra={"run_id": run.id, "calls": asked.unanswered, "retry": retries},
        )
        if retries <= MAX_RETRIES:
            CampaignRun.objects.filter(id=run.id).update(
                stats_due_at=moment + RETRY_AFTER,
                stats_retries=retries,
                stats_error=asked.error,
            )
            return None
        # Given up on this step: go on with the next one, keeping the error in view.
        CampaignRun.objects.filter(id=run.id).update(
            stats_due_at=step[1] if step else None,
            stats_step=taken_step + 1,
            stats_retries=0,
            stats_error=asked.error,
        )
        return None
    with transaction.atomic():
        snapshot = DeliveryStat.objects.create(
            run=run,
            taken_at=moment,
            step=max(taken_step, 0),
            calls_asked=asked.calls,
            **asdict(asked.counts),
        )
        CampaignRun.objects.filter(id=run.id).update(
            stats_due_at=step[1] if step else None,
            stats_step=taken_step + 1,
            stats_retries=0,
            stats_error="",
        )
        refresh_totals(run.campaign_id, now=moment)
    log.info("stats taken", extra={"run_id": run.id, "step": taken_step, "calls": asked.calls})
    return snapshot


# -- a campaign's key figures ------------------------------------------------------------------


def refresh_totals(campaign_id: int, *, now: datetime | None = None) -> None:
    """The campaign's key figures from its runs: targets planned, and accepted, arrived and
    opened from each run's newest snapshot (accepted: the calls the provider took, for a run
    not asked about yet). Two queries."""
    newest = DeliveryStat.objects.filter(run=OuterRef("pk")).order_by("-taken_at", "-id")
    runs = CampaignRun.objects.filter(campaign_id=campaign_id).annotate(
        stat_accepted=Subquery(newest.values("accepted")[:1]),
        stat_arrived=Subquery(newest.values("arrived")[:1]),
        stat_opened=Subquery(newest.values("opened")[:1]),
        stat_at=Subquery(newest.values("taken_at")[:1]),
    )
    totals: dict[str, int] = defaultdict(int)
    results_at = None
    for run in runs.only("id", "targets", "targets_sent"):
        totals["targets"] += run.targets
        has_stats = run.stat_at is not None
        totals["accepted"] += run.stat_accepted if has_stats else run.targets_sent
        totals["arrived"] += run.stat_arrived or 0
        totals["opened"] += run.stat_opened or 0
        if has_stats:
            results_at = max(results_at or run.stat_at, run.stat_at)
    Campaign.objects.filter(id=campaign_id).update(
        total_targets=totals["targets"],
        total_accepted=totals["accepted"],
        total_arrived=totals["arrived"],
        total_opened=totals["opened"],
        results_at=results_at,
    )
