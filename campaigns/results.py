"""How a campaign did, read from its runs' ``DeliveryStat`` snapshots (``campaigns.stats``
writes them): the delivery funnel, arrivals and opens over time, the platform and vendor
splits, and whether more results are coming.

The newest snapshot of a run is its result; a campaign's result is the sum of its runs'
results. Everything here only reads: ``latest_stats`` and ``series`` ask the database
once each, and the functions below them work on snapshots already loaded, so the campaign
page can load each run with all its snapshots in one query (``run_results``) and still
show the funnel, the chart over time and the splits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign, CampaignRun, DeliveryStat
from campaigns.models.stats import FUNNEL_FIELDS

Runs = Iterable[CampaignRun] | QuerySet[CampaignRun]

# The funnel's main line, in the order a message goes through it; the rest of
# FUNNEL_FIELDS are shown only when the provider reported them.
MAIN_STEPS = ("accepted", "sent", "arrived", "opened")
STEP_LABELS: dict[str, str | Promise] = {
    "targets": _("Targets"),
    "accepted": _("Accepted by the provider"),
    "sent": _("Sent to devices"),
    "arrived": _("Arrived"),
    "opened": _("Opened"),
    "ignored": _("Ignored"),
    "deleted": _("Deleted"),
    "sms_sent": _("SMS sent instead"),
    "sms_skipped": _("SMS not needed"),
    "sms_failed": _("SMS failed"),
    "sms_received": _("SMS received"),
}
# What each side row is a share of: ignored and deleted of what arrived, SMS of what was sent.
SIDE_BASE = {
    "ignored": "arrived",
    "deleted": "arrived",
    "sms_sent": "sent",
    "sms_skipped": "sent",
    "sms_failed": "sms_sent",
    "sms_received": "sms_sent",
}
PLATFORM_NAMES: dict[str, str | Promise] = {
    "android": "Android",
    "ios": "iOS",
    "harmony": "HarmonyOS",
}
VENDOR_NAMES: dict[str, str | Promise] = {
    "huawei": "Huawei",
    "honor": "Honor",
    "xiaomi": "Xiaomi",
    "oppo": "OPPO",
    "vivo": "vivo",
    "meizu": "Meizu",
    "apple": "Apple (APNs)",
    "apns": "Apple (APNs)",
    "fcm": "Google (FCM)",
    "harmony": "HarmonyOS",
}


def share(part: int, whole: int) -> float | None:
    """``part`` of ``whole``, 0..1; None when there is no whole to take a share of."""
    return part / whole if whole else None


# -- reading snapshots -----------------------------------------------------------------------


def latest_stats(runs: Runs) -> dict[int, DeliveryStat]:
    """The newest snapshot of each of ``runs`` that has one, by run id: one query.

    PostgreSQL picks them with DISTINCT ON over the ``stat_newest`` index; elsewhere each
    run's newest is found by a correlated subquery (the same index)."""
    stats = DeliveryStat.objects.filter(run__in=_ids(runs))
    if connection.vendor == "postgresql":
        stats = stats.order_by("run_id", "-taken_at", "-id").distinct("run_id")
    else:
        newest = DeliveryStat.objects.filter(run=OuterRef("run")).order_by("-taken_at", "-id")
        stats = stats.filter(id=Subquery(newest.values("id")[:1]))
    return {stat.run_id: stat for stat in stats}


@dataclass(frozen=True)
class Point:
    """The campaign's arrivals and opens at one moment: each run's latest snapshot at or
    before it, summed."""

    at: datetime
    arrived: int
    opened: int


def series(campaign_or_runs: Campaign | Runs) -> list[Point]:
    """Arrivals and opens over time, from every snapshot of the runs: one query."""
    runs = (
        campaign_or_runs.runs.all()
        if isinstance(campaign_or_runs, Campaign)
        else _ids(campaign_or_runs)
    )
    snapshots = (
        DeliveryStat.objects.filter(run__in=runs)
        .order_by("taken_at", "id")
        .only("run_id", "taken_at", "arrived", "opened")
    )
    return series_of(snapshots)


def series_of(snapshots: Iterable[DeliveryStat]) -> list[Point]:
    """``series`` of snapshots already loaded, in any order."""
    current: dict[int, DeliveryStat] = {}
    points: list[Point] = []
    for snapshot in sorted(snapshots, key=lambda each: (each.taken_at, each.id or 0)):
        current[snapshot.run_id] = snapshot
        point = Point(
            snapshot.taken_at,
            sum(each.arrived for each in current.values()),
            sum(each.opened for each in current.values()),
        )
        if points and points[-1].at == point.at:  # several runs polled at the same moment
            points[-1] = point
        else:
            points.append(point)
    return points


def _ids(runs: Runs) -> QuerySet[Any, Any] | list[int]:
    if isinstance(runs, QuerySet):
        return runs.values("id")
    return [run.pk for run in runs]


@dataclass(frozen=True)
class RunResult:
    """One run and its snapshots, oldest first."""

    run: CampaignRun
    snapshots: tuple[DeliveryStat, ...]

    @property
    def latest(self) -> DeliveryStat | None:
        return self.snapshots[-1] if self.snapshots else None

    @property
    def open_rate(self) -> float | None:
        latest = self.latest
        return share(latest.opened, latest.arrived) if latest is not None else None


_RUN_FIELDS = [field.attname for field in CampaignRun._meta.concrete_fields]
_RUN_ID = _RUN_FIELDS.index("id")
_STAT_FIELDS = [
    field.attname for field in DeliveryStat._meta.concrete_fields if field.name != "run"
]


def run_results(campaign: Campaign) -> list[RunResult]:
    """Every run of the campaign, newest first, each with all its snapshots: one query (the
    runs LEFT JOIN their snapshots; a run without one comes once, with NULLs)."""
    rows = (
        CampaignRun.objects.filter(campaign=campaign)
        .order_by("-due_at", "-id", "stats__taken_at", "stats__id")
        .values_list(*_RUN_FIELDS, *(f"stats__{name}" for name in _STAT_FIELDS))
    )
    width = len(_RUN_FIELDS)
    results: list[tuple[CampaignRun, list[DeliveryStat]]] = []
    for row in rows:
        if not results or results[-1][0].pk != row[_RUN_ID]:
            run = CampaignRun.from_db(rows.db, _RUN_FIELDS, row[:width])
            run.campaign = campaign
            results.append((run, []))
        run, snapshots = results[-1]
        if row[width] is not None:  # the snapshot's id
            snapshot = DeliveryStat.from_db(rows.db, _STAT_FIELDS, row[width:])
            snapshot.run = run
            snapshots.append(snapshot)
    return [RunResult(run, tuple(snapshots)) for run, snapshots in results]


# -- the funnel ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    key: str
    label: str | Promise
    count: int
    of_previous: float | None  # share of the step before (main line) or of its base (side)
    of_targets: float | None


@dataclass(frozen=True)
class Funnel:
    """Targets and the snapshot counts, summed over the runs that have a result."""

    targets: int = 0
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

    @classmethod
    def of(cls, pairs: Iterable[tuple[int, DeliveryStat]]) -> Funnel:
        """The sum of (targets, latest snapshot) pairs, one per run."""
        totals = dict.fromkeys(("targets", *FUNNEL_FIELDS), 0)
        for targets, snapshot in pairs:
            totals["targets"] += targets
            for name in FUNNEL_FIELDS:
                totals[name] += getattr(snapshot, name)
        return cls(**totals)

    @property
    def steps(self) -> list[Step]:
        """targets → accepted → sent → arrived → opened, each with its rates."""
        steps = [Step("targets", STEP_LABELS["targets"], self.targets, None, None)]
        previous = self.targets
        for key in MAIN_STEPS:
            count = getattr(self, key)
            steps.append(
                Step(key, STEP_LABELS[key], count, share(count, previous), self.of_targets(count))
            )
            previous = count
        return steps

    @property
    def side_steps(self) -> list[Step]:
        """Ignored, deleted and the SMS fallback's counts, only those the provider reported."""
        return [
            Step(
                key,
                STEP_LABELS[key],
                getattr(self, key),
                share(getattr(self, key), getattr(self, base)),
                self.of_targets(getattr(self, key)),
            )
            for key, base in SIDE_BASE.items()
            if getattr(self, key)
        ]

    @property
    def open_rate(self) -> float | None:
        """Opened of arrived, as the campaign list and history show it."""
        return share(self.opened, self.arrived)

    def of_targets(self, count: int) -> float | None:
        return share(count, self.targets)

    def as_row(self) -> dict[str, int]:
        return {field.name: getattr(self, field.name) for field in fields(self)}


def funnel(results: Iterable[RunResult]) -> Funnel:
    """The campaign's funnel: each run's newest snapshot, with the run's targets."""
    return Funnel.of((each.run.targets, each.latest) for each in results if each.latest)


# -- platforms and vendors -------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    key: str
    label: str | Promise
    sent: int
    arrived: int
    opened: int

    @property
    def open_rate(self) -> float | None:
        return share(self.opened, self.arrived)


def splits(latest: Iterable[DeliveryStat], field: str) -> list[Split]:
    """``by_platform`` or ``by_vendor`` of the runs' newest snapshots, summed, most arrived
    first; [] when the provider reported none (EMAS has no vendor split, mPaaS none for runs
    of many calls)."""
    names = PLATFORM_NAMES if field == "by_platform" else VENDOR_NAMES
    totals: dict[str, dict[str, int]] = {}
    for snapshot in latest:
        split: dict[str, Any] = getattr(snapshot, field) or {}
        for key, counts in split.items():
            into = totals.setdefault(str(key), {"sent": 0, "arrived": 0, "opened": 0})
            for name in into:
                into[name] += _count(counts.get(name) if isinstance(counts, dict) else 0)
    rows = [
        Split(key, names.get(key.lower(), key), each["sent"], each["arrived"], each["opened"])
        for key, each in totals.items()
    ]
    return sorted(rows, key=lambda row: (-row.arrived, -row.sent, row.key))


def _count(value: Any) -> int:
    try:
        return max(int(value or 0), 0)
    except (TypeError, ValueError):
        return 0


# -- where the results stand -----------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """As of when the results are, and whether and when more are coming."""

    as_of: datetime | None  # the newest snapshot's time; None: no results yet
    next_at: datetime | None  # the next poll of any run
    final: bool  # every run ended and was asked for the last time
    errors: tuple[str, ...]  # the latest trouble asking, per run that had some


def standing(results: Sequence[RunResult]) -> Standing:
    latest = [each.latest for each in results if each.latest]
    due = [each.run.stats_due_at for each in results if each.run.stats_due_at]
    ended = all(not each.run.is_active for each in results)
    return Standing(
        as_of=max((snapshot.taken_at for snapshot in latest), default=None),
        next_at=min(due, default=None),
        final=bool(latest) and ended and not due,
        errors=tuple(dict.fromkeys(e.run.stats_error for e in results if e.run.stats_error)),
    )
