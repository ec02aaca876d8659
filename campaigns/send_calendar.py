"""The calendar of sends: the days of a month or a week in the user's time zone, and what is
sent on each.

What goes on a day:
- the runs Pushdeck made or holds (``CampaignRun.due_at``), with the run's status;
- the later times of scheduled campaigns that are no run yet (``scheduling.occurrences``);
- the times a provider holds for a campaign handed over to it: its runs are the hand-over
  calls, not sends, so they are left out and its times shown instead, those passed since
  the hand-over as sent;
- the future times of drafts and campaigns waiting for approval, as not approved.

A send in each recipient's local time goes at one wall-clock time everywhere: it is shown
on that day at that time, not moved into the user's zone, and the runs of one such time (one
per time zone of the audience) are one entry.

Two queries whatever the period: its runs, and the campaigns that may have a time in it.
Each campaign's times are expanded in Python, at most one a day (the densest rule is daily).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import models
from django.db.models import Q, QuerySet
from django.utils import dates
from django.utils.formats import date_format, get_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns import scheduling
from campaigns.models import Campaign, CampaignRun

ONE_DAY = timedelta(days=1)
# Every zone's day lies within two days of the user's: the widest offsets are -12 and +14.
ZONE_SPREAD = timedelta(days=2)
# Dates further away are no calendar anyone sends in (as the composer's send time).
REACH_YEARS = 100
# A campaign started from a day is set to go at this time of it, in the user's zone.
DAY_START = time(9, 0)
DAY_SHOWN = 4  # entries a month cell lists; the rest are in the week view
CAMPAIGNS_MAX = 500
RUNS_MAX = 2000
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

Mode, Status, Holder = Campaign.ScheduleMode, Campaign.Status, Campaign.ScheduleHolder
Run = CampaignRun.Status
# Campaigns whose future times are sends, and those whose times are only planned.
SCHEDULED = (Status.SCHEDULED, Status.RUNNING, Status.PAUSED)
UNAPPROVED = (Status.DRAFT, Status.PENDING_APPROVAL)
# A provider-held campaign in these statuses has been handed over (or is done).
HANDED_OVER = (Status.RUNNING, Status.PAUSED, Status.COMPLETED)

CAMPAIGN_FIELDS = (
    "name",
    "kind",
    "status",
    "schedule_mode",
    "send_at",
    "frequency",
    "repeat_on",
    "time_of_day",
    "starts_on",
    "ends_on",
    "time_zone",
    "recipient_local_time",
    "schedule_holder",
    "first_sent_at",
    "app__name",
)
RUN_FIELDS = (
    "due_at",
    "time_zone",
    "status",
    *(f"campaign__{name}" for name in CAMPAIGN_FIELDS),
)


class View(models.TextChoices):
    MONTH = "month", gettext_lazy("Month")
    WEEK = "week", gettext_lazy("Week")


class State(models.TextChoices):
    SCHEDULED = "scheduled", gettext_lazy("Scheduled")
    SENDING = "sending", gettext_lazy("Sending")
    PAUSED = "paused", gettext_lazy("Paused")
    COMPLETED = "completed", gettext_lazy("Completed")
    FAILED = "failed", gettext_lazy("Failed")
    CANCELLED = "cancelled", gettext_lazy("Cancelled")
    UNAPPROVED = "unapproved", gettext_lazy("Not yet approved")


RUN_STATES = {
    Run.WAITING: State.SCHEDULED,
    Run.PLANNING: State.SENDING,
    Run.SENDING: State.SENDING,
    Run.PAUSED: State.PAUSED,
    Run.COMPLETED: State.COMPLETED,
    Run.FAILED: State.FAILED,
    Run.CANCELLED: State.CANCELLED,
}
# The runs of one time in several zones show as the one still going, else the worst end.
MERGED_FIRST = [
    State.SENDING,
    State.PAUSED,
    State.SCHEDULED,
    State.FAILED,
    State.COMPLETED,
    State.CANCELLED,
]
REPEATS: dict[str, Promise] = {
    Campaign.Frequency.DAILY: gettext_lazy("Repeats daily"),
    Campaign.Frequency.WEEKLY: gettext_lazy("Repeats weekly"),
    Campaign.Frequency.MONTHLY: gettext_lazy("Repeats monthly"),
}


# -- the period shown ------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    view: View
    shown: date  # the date asked for
    first: date
    last: date  # inclusive
    today: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def previous(self) -> date:
        if self.view == View.WEEK:
            return self.first - timedelta(days=7)
        return (self.first - ONE_DAY).replace(day=1)

    @property
    def next(self) -> date:
        if self.view == View.WEEK:
            return self.first + timedelta(days=7)
        return self.last + ONE_DAY

    @property
    def title(self) -> str:
        if self.view == View.MONTH:
            return date_format(self.first, "YEAR_MONTH_FORMAT")
        return _("%(first)s to %(last)s") % {
            "first": date_format(self.first, "DATE_FORMAT"),
            "last": date_format(self.last, "DATE_FORMAT"),
        }


def week_start() -> int:
    """The first day of the week in the active language, as Python counts (0 = Monday)."""
    return (int(get_format("FIRST_DAY_OF_WEEK")) - 1) % 7


def parse_day(value: object) -> date | None:
    """A date written YYYY-MM-DD, or None."""
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def period_of(view: object, day: object, *, today: date) -> Period:
    """The month or week (``view``, a month by default) around ``day`` (YYYY-MM-DD; today
    when it is not a date within reach)."""
    chosen = View(view) if isinstance(view, str) and view in View.values else View.MONTH
    shown = parse_day(day)
    if shown is None or abs(shown.year - today.year) > REACH_YEARS:
        shown = today
    if chosen == View.WEEK:
        first = shown - timedelta(days=(shown.weekday() - week_start()) % 7)
        return Period(chosen, shown, first, first + timedelta(days=6), today)
    first = shown.replace(day=1)
    last = shown.replace(day=calendar.monthrange(shown.year, shown.month)[1])
    return Period(chosen, shown, first, last, today)


def send_time_on(day: date, *, zone: ZoneInfo, now: datetime) -> datetime | None:
    """When a campaign started from a calendar day is set to go: at 09:00 that day in the
    user's zone, or at the next whole hour of the day when 09:00 has passed; None once no
    whole hour of the day is left."""
    moment = scheduling.on_the_wall(datetime.combine(day, DAY_START), zone)
    if moment > now:
        return moment
    next_hour = now.astimezone(zone).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    next_hour += timedelta(hours=1)
    if next_hour.date() != day:
        return None
    return scheduling.on_the_wall(next_hour, zone)


# -- what is on a day ------------------------------------------------------------------------


@dataclass
class Entry:
    campaign: Campaign
    # In the user's zone; in the campaign's when each recipient gets it at their own time.
    at: datetime
    state: State
    each_recipient: bool = False
    provider: str = ""  # "mPaaS" or "EMAS" when the provider holds the send
    zones: set[str] = field(default_factory=set)  # the runs' zones, when split by zone

    @property
    def day(self) -> date:
        return self.at.date()

    @property
    def clock(self) -> time:
        """The wall-clock time shown (naive: a template would move an aware one)."""
        return self.at.time().replace(tzinfo=None)

    @property
    def wall(self) -> datetime:
        return self.at.replace(tzinfo=None)

    @property
    def repeats(self) -> str:
        if self.campaign.schedule_mode != Mode.RECURRING:
            return ""
        return str(REPEATS.get(self.campaign.frequency, gettext_lazy("Repeats")))

    @property
    def is_unapproved(self) -> bool:
        return self.state == State.UNAPPROVED


@dataclass
class Day:
    date: date
    in_period: bool
    is_today: bool
    opens_new: bool  # a campaign can be started for it (the day is not over)
    entries: list[Entry] = field(default_factory=list)

    @property
    def shown(self) -> list[Entry]:
        return self.entries[:DAY_SHOWN]

    @property
    def more(self) -> int:
        return max(0, len(self.entries) - DAY_SHOWN)


@dataclass(frozen=True)
class SendCalendar:
    period: Period
    weeks: list[list[Day]]  # the month grid, whole weeks; days of other months are empty
    cut: bool  # more runs or campaigns fall in the period than are looked at

    @property
    def days(self) -> list[Day]:
        return [day for week in self.weeks for day in week if day.in_period]

    @property
    def has_sends(self) -> bool:
        return any(day.entries for day in self.days)

    @property
    def weekdays(self) -> list[tuple[str, str]]:
        """The column heads: each weekday's full and short name, in the week's order."""
        first = week_start()
        return [
            (str(dates.WEEKDAYS[(first + n) % 7]), str(dates.WEEKDAYS_ABBR[(first + n) % 7]))
            for n in range(7)
        ]


def build(period: Period, *, zone: ZoneInfo, now: datetime) -> SendCalendar:
    """The period's days and their sends, in ``zone`` (the user's)."""
    start = scheduling.on_the_wall(datetime.combine(period.first, time()), zone)
    end = scheduling.on_the_wall(datetime.combine(period.last + ONE_DAY, time()), zone)
    found: dict[tuple[int, datetime], Entry] = {}
    runs = list(_runs(start - ZONE_SPREAD, end + ZONE_SPREAD)[: RUNS_MAX + 1])
    for run in runs[:RUNS_MAX]:
        _add_run(found, run, zone)
    campaigns = list(_campaigns(period, start, end, now)[: CAMPAIGNS_MAX + 1])
    for campaign in campaigns[:CAMPAIGNS_MAX]:
        for entry in _planned(campaign, period, start, end, zone=zone, now=now):
            found.setdefault(_key(campaign, entry.at), entry)
    by_day: dict[date, list[Entry]] = {}
    for entry in found.values():
        by_day.setdefault(entry.day, []).append(entry)
    weeks = _grid(period, by_day, zone=zone, now=now)
    cut = len(runs) > RUNS_MAX or len(campaigns) > CAMPAIGNS_MAX
    return SendCalendar(period=period, weeks=weeks, cut=cut)


def _grid(
    period: Period, by_day: dict[date, list[Entry]], *, zone: ZoneInfo, now: datetime
) -> list[list[Day]]:
    first = period.first - timedelta(days=(period.first.weekday() - week_start()) % 7)
    weeks: list[list[Day]] = []
    day = first
    while day <= period.last:
        week = []
        for _weekday in range(7):
            inside = period.first <= day <= period.last
            entries = sorted(
                by_day.get(day, []) if inside else [],
                key=lambda entry: (entry.clock, entry.campaign.name, entry.campaign.pk),
            )
            week.append(
                Day(
                    date=day,
                    in_period=inside,
                    is_today=day == period.today,
                    opens_new=inside and send_time_on(day, zone=zone, now=now) is not None,
                    entries=entries,
                )
            )
            day += ONE_DAY
        weeks.append(week)
    return weeks


def _each_recipient(campaign: Campaign) -> bool:
    return (
        campaign.recipient_local_time
        and campaign.schedule_mode != Mode.NOW
        and not scheduling.held_by_provider(campaign)
    )


def _key(campaign: Campaign, moment: datetime) -> tuple[int, datetime]:
    """One send of a campaign: its wall-clock time when each recipient gets it at their own
    (its runs in several zones are one send), else its instant."""
    if _each_recipient(campaign):
        return campaign.pk, moment.astimezone(scheduling.zone(campaign)).replace(tzinfo=None)
    return campaign.pk, moment.astimezone(UTC)


# -- runs ------------------------------------------------------------------------------------


def _runs(start: datetime, end: datetime) -> QuerySet[CampaignRun]:
    held = Q(campaign__schedule_holder=Holder.PROVIDER) & ~Q(campaign__schedule_mode=Mode.NOW)
    return (
        # Every status, so that the run_due (status, due_at) index serves the time range.
        CampaignRun.objects.filter(status__in=Run.values, due_at__gte=start, due_at__lt=end)
        .exclude(held)
        .select_related("campaign__app")
        .only(*RUN_FIELDS)
        .order_by("due_at", "id")
    )


def _add_run(found: dict[tuple[int, datetime], Entry], run: CampaignRun, zone: ZoneInfo) -> None:
    campaign = run.campaign
    state = RUN_STATES[Run(run.status)]
    if state == State.SCHEDULED and campaign.status == Status.PAUSED:
        state = State.PAUSED
    local = _each_recipient(campaign)
    if local:
        # The run's due time in its zone is the campaign's wall-clock time.
        wall = run.due_at.astimezone(ZoneInfo(run.time_zone or campaign.time_zone))
        at = scheduling.on_the_wall(wall.replace(tzinfo=None), scheduling.zone(campaign))
    else:
        at = run.due_at.astimezone(zone)
    key = _key(campaign, at)
    entry = found.get(key)
    if entry is None:
        entry = found[key] = Entry(campaign, at, state, each_recipient=local)
    elif MERGED_FIRST.index(state) < MERGED_FIRST.index(entry.state):
        entry.state = state
    if run.time_zone:
        entry.zones.add(run.time_zone)


# -- campaigns' times ------------------------------------------------------------------------


def _campaigns(period: Period, start: datetime, end: datetime, now: datetime) -> QuerySet[Campaign]:
    """The campaigns that may have a time in the period (from a day before to a day after:
    a recurrence is written in the campaign's zone)."""
    timed = Q(
        schedule_mode=Mode.AT, send_at__gte=start - ZONE_SPREAD, send_at__lt=end + ZONE_SPREAD
    ) | (
        Q(schedule_mode=Mode.RECURRING, starts_on__lte=period.last + ONE_DAY)
        & (Q(ends_on__isnull=True) | Q(ends_on__gte=period.first - ONE_DAY))
    )
    statuses = Q(schedule_holder=Holder.PROVIDER, status__in=HANDED_OVER)
    if end + ZONE_SPREAD > now:  # only a period not all past has times still to come
        statuses |= Q(status__in=SCHEDULED + UNAPPROVED)
    return (
        Campaign.objects.filter(timed & statuses)
        .select_related("app")
        .only(*CAMPAIGN_FIELDS)
        .order_by("id")
    )


def _planned(
    campaign: Campaign,
    period: Period,
    start: datetime,
    end: datetime,
    *,
    zone: ZoneInfo,
    now: datetime,
) -> list[Entry]:
    """The campaign's times in the period that no run stands for: those still to come, and
    the provider's since it was handed over."""
    local = _each_recipient(campaign)
    if local:  # the period's days as the campaign's wall-clock days
        own = scheduling.zone(campaign)
        start = scheduling.on_the_wall(datetime.combine(period.first, time()), own)
        end = scheduling.on_the_wall(datetime.combine(period.last + ONE_DAY, time()), own)
    held = scheduling.held_by_provider(campaign)
    since = now
    if held and campaign.status in HANDED_OVER and campaign.first_sent_at is not None:
        since = min(now, campaign.first_sent_at)
    elif campaign.status not in SCHEDULED + UNAPPROVED:
        return []
    after = max(start, since) - timedelta(microseconds=1)  # a time at the start is in
    if after >= end:
        return []
    provider = ("EMAS" if campaign.kind == Campaign.Kind.EMAS else "mPaaS") if held else ""
    entries = []
    for moment in scheduling.occurrences(campaign, after=after, limit=period.days + 1):
        if moment >= end:
            break
        entries.append(
            Entry(
                campaign,
                moment if local else moment.astimezone(zone),
                _state(campaign, moment, now=now),
                each_recipient=local,
                provider=provider,
            )
        )
    return entries


def _state(campaign: Campaign, moment: datetime, *, now: datetime) -> State:
    if campaign.status in UNAPPROVED:
        return State.UNAPPROVED
    if moment <= now:  # only the provider's times since the hand-over are here
        return State.COMPLETED
    if campaign.status == Status.PAUSED:
        return State.PAUSED
    return State.SCHEDULED
