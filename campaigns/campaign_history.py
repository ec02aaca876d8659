"""The campaign history: what went out, across apps and providers, with key figures and
totals per month, for product owners.

Every figure is read from the campaign's own columns (``Campaign.total_*``, kept by
``campaigns.stats``), so a page of the history is one keyset read of 25 rows and the totals
one grouped read of the months shown, at 100,000 campaigns as at ten. The totals cover the
chosen dates, or the last 12 months when none are chosen: a bound the page states.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from campaigns.forms.campaigns_list import start_of
from campaigns.forms.history_filter import HistoryFilter, next_month
from campaigns.models import Campaign

DEFAULT_MONTHS = 12
# What a row shows, and no more (an app row holds its encrypted secret, a campaign its
# content and options).
ROW_FIELDS = (
    "name",
    "kind",
    "status",
    "first_sent_at",
    "total_targets",
    "total_accepted",
    "total_arrived",
    "total_opened",
    "results_at",
    "app__name",
    "app__provider",
    "created_by__username",
)


def went_out() -> QuerySet[Campaign]:
    """Campaigns that started sending, with what a history row shows."""
    return (
        Campaign.objects.filter(first_sent_at__isnull=False)
        .select_related("app", "created_by")
        .only(*ROW_FIELDS)
    )


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class MonthTotals:
    month: date
    campaigns: int
    targets: int
    accepted: int
    arrived: int
    opened: int

    @property
    def open_rate(self) -> float | None:
        return _rate(self.opened, self.arrived)

    @property
    def arrival_rate(self) -> float | None:
        return _rate(self.arrived, self.accepted)


@dataclass(frozen=True)
class Totals:
    months: list[MonthTotals]  # every month of the period, oldest first, empty ones too
    first: date  # the period's first day
    end: date  # the day after its last
    defaulted: bool  # the last 12 months, no dates being chosen

    @property
    def overall(self) -> MonthTotals:
        return MonthTotals(
            self.first,
            sum(m.campaigns for m in self.months),
            sum(m.targets for m in self.months),
            sum(m.accepted for m in self.months),
            sum(m.arrived for m in self.months),
            sum(m.opened for m in self.months),
        )

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


def _months(first: date, end: date) -> Iterator[date]:
    month = first.replace(day=1)
    while month < end:
        yield month
        month = next_month(month)


def totals(filters: HistoryFilter) -> Totals:
    """The filtered campaigns' figures per month of the chosen period (one grouped query)."""
    first, end = filters.period()
    defaulted = first is None and end is None
    today = timezone.localdate()
    end = end or next_month(today.replace(day=1))
    if first is None:
        first = end.replace(day=1)
        for _ in range(DEFAULT_MONTHS):
            first = (first - timedelta(days=1)).replace(day=1)
    if end <= first:
        end = first + timedelta(days=1)
    rows = (
        filters.qs.filter(first_sent_at__gte=start_of(first), first_sent_at__lt=start_of(end))
        .order_by()
        .annotate(month=TruncMonth("first_sent_at", tzinfo=timezone.get_current_timezone()))
        .values("month")
        .annotate(
            campaigns=Count("id"),
            targets=Sum("total_targets"),
            accepted=Sum("total_accepted"),
            arrived=Sum("total_arrived"),
            opened=Sum("total_opened"),
        )
    )
    found = {_as_date(row["month"]): row for row in rows}
    months = []
    for month in _months(first, end):
        row = found.get(month, {})
        months.append(
            MonthTotals(
                month,
                int(row.get("campaigns") or 0),
                int(row.get("targets") or 0),
                int(row.get("accepted") or 0),
                int(row.get("arrived") or 0),
                int(row.get("opened") or 0),
            )
        )
    return Totals(months, first, end, defaulted)


def _as_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


# -- the chart: targets reached per month, and the open rate ---------------------------------

CHART_WIDTH, CHART_HEIGHT, CHART_BOTTOM, CHART_TOP = 640.0, 200.0, 170.0, 20.0
MAX_COLUMN_WIDTH = 48.0


@dataclass(frozen=True)
class MonthColumn:
    """A month's columns; coordinates as the SVG takes them (text, not localised)."""

    totals: MonthTotals
    x: str
    width: str
    middle: str  # where its label goes
    y: str  # top of the arrived column
    height: str
    opened_y: str  # top of the opened column, in front of it
    opened_height: str


def _svg(value: float) -> str:
    return f"{value:.1f}"


def chart(months: list[MonthTotals]) -> list[MonthColumn]:
    """Columns of arrived messages per month, scaled to the largest, with the opened ones
    in front on the same scale."""
    if not months:
        return []
    slot = CHART_WIDTH / len(months)
    largest = max((m.arrived for m in months), default=0) or 1
    plot = CHART_BOTTOM - CHART_TOP
    width = min(slot * 0.7, MAX_COLUMN_WIDTH)
    columns = []
    for index, month in enumerate(months):
        height = plot * month.arrived / largest
        opened = plot * month.opened / largest
        left = index * slot + (slot - width) / 2
        columns.append(
            MonthColumn(
                totals=month,
                x=_svg(left),
                width=_svg(width),
                middle=_svg(left + width / 2),
                y=_svg(CHART_BOTTOM - height),
                height=_svg(height),
                opened_y=_svg(CHART_BOTTOM - opened),
                opened_height=_svg(opened),
            )
        )
    return columns


# -- the export -------------------------------------------------------------------------------

EXPORT_CHUNK = 2000


def export_rows(filters: HistoryFilter) -> Iterator[tuple[object, ...]]:
    """Every filtered campaign, newest first, as plain values read in chunks (no model
    instances): memory stays the same at 100 rows or 100,000."""
    rows = filters.qs.order_by("-first_sent_at", "-id").values_list(
        "id",
        "name",
        "app__name",
        "app__provider",
        "kind",
        "status",
        "created_by__username",
        "first_sent_at",
        "total_targets",
        "total_accepted",
        "total_arrived",
        "total_opened",
        "results_at",
    )
    yield from rows.iterator(chunk_size=EXPORT_CHUNK)
