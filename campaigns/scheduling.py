"""When a campaign is sent: its occurrences, a plain-language summary of them, Pushdeck's own
schedule rules, and the provider-held schedule it hands over (mPaaS strategy, EMAS PushTime).

A schedule is wall-clock time in the campaign's zone (``Campaign.time_zone``): a daily 09:00
send stays at 09:00 local across a daylight-saving change. Recurrences come from dateutil's
rrule over naive local times, then each is placed in the zone (``on_the_wall``). Everything
returned is an aware datetime in that zone; Python compares and subtracts two datetimes of
one zone as wall times, so convert them to UTC before arithmetic across a change. With
``recipient_local_time`` the zone is the reference that the dispatch engine shifts into each
recipient's own zone.

Rules that a provider sets (EMAS PushTime at most 7 days ahead, mPaaS recurrence within 180
days and never for tag audiences) live in the providers' request builders, not here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil import rrule
from django.utils import dates
from django.utils.formats import date_format, time_format
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from campaigns.call_plan import call_plan
from campaigns.models import Campaign, MobileApp
from campaigns.providers.mpaas_options import (
    IMMEDIATE,
    MONTH_DAYS,
    WEEKDAYS,
    CircleType,
    Strategy,
    StrategyType,
)

# Seed 002: "The maximum number of unexecuted scheduled or recurring push tasks is 100".
MPAAS_PENDING_SCHEDULES_MAX = 100
# StrategyContent's "time" is a wall-clock time with no zone; mPaaS reads it in China time.
MPAAS_TIME_ZONE = "Asia/Shanghai"
NEXT_OCCURRENCES_SHOWN = 5
# Statuses in which a provider-held schedule is still waiting at the provider.
PENDING_STATUSES = (Campaign.Status.SCHEDULED, Campaign.Status.RUNNING, Campaign.Status.PAUSED)
SHORTEST_MONTH = 28

FREQUENCY_CIRCLES = {
    Campaign.Frequency.DAILY: CircleType.DAILY,
    Campaign.Frequency.WEEKLY: CircleType.WEEKLY,
    Campaign.Frequency.MONTHLY: CircleType.MONTHLY,
}

Mode = Campaign.ScheduleMode
Frequency = Campaign.Frequency


def zone(campaign: Campaign) -> ZoneInfo:
    return ZoneInfo(campaign.time_zone)


def held_by_provider(campaign: Campaign) -> bool:
    return (
        campaign.schedule_holder == Campaign.ScheduleHolder.PROVIDER
        and campaign.schedule_mode != Mode.NOW
    )


def local_datetime(campaign: Campaign, day: object, at: time | None) -> datetime | None:
    """``day`` (a date) at ``at`` in the campaign's zone, or None when either is missing."""
    if day is None:
        return None
    moment = datetime.combine(day, at or time(0), tzinfo=zone(campaign))  # type: ignore[arg-type]
    return moment


# -- occurrences -----------------------------------------------------------------------------


def on_the_wall(wall: datetime, tz: ZoneInfo) -> datetime:
    """The naive wall-clock time ``wall`` as an aware time in ``tz``.

    A wall time that happens twice when clocks go back is sent once, at the first (fold=0).
    A wall time that never happens when clocks go forward is read with the offset in force
    before the change, so it moves forward by the length of the gap: 02:30 on the day Berlin
    skips 02:00-03:00 is sent at 03:30 CEST (as dateutil's ``tz.resolve_imaginary`` does).
    """
    return wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)


def repeat_days(campaign: Campaign) -> list[int]:
    """The valid weekdays (1 = Monday) or month dates of ``repeat_on``, sorted, once each."""
    allowed = WEEKDAYS if campaign.frequency == Frequency.WEEKLY else MONTH_DAYS
    return sorted({day for day in campaign.repeat_on or () if _is_day(day, allowed)})


def _is_day(value: object, allowed: range) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value in allowed


def _recurrence(campaign: Campaign, *, since: date) -> rrule.rrule | None:
    """The campaign's recurrence as naive local times from ``since`` (or its first day, if
    later) to its last day, inclusive; None while the schedule is incomplete."""
    at, first, frequency = campaign.time_of_day, campaign.starts_on, campaign.frequency
    if at is None or first is None or not frequency:
        return None
    days = repeat_days(campaign)
    if frequency != Frequency.DAILY and not days:
        return None
    # Starting later than the first day changes nothing: the interval is 1 and weekly and
    # monthly rules name their days, so only the days before ``since`` are left out.
    start = datetime.combine(max(first, since), at)
    until = datetime.combine(campaign.ends_on, at) if campaign.ends_on else None
    if frequency == Frequency.WEEKLY:
        weekdays = [day - 1 for day in days]  # rrule counts Monday as 0
        return rrule.rrule(rrule.WEEKLY, dtstart=start, until=until, byweekday=weekdays)
    if frequency == Frequency.MONTHLY:
        # rrule skips a date that a month does not have: the 31st sends in 7 months a year.
        return rrule.rrule(rrule.MONTHLY, dtstart=start, until=until, bymonthday=days)
    return rrule.rrule(rrule.DAILY, dtstart=start, until=until)


def occurrences(
    campaign: Campaign, *, after: datetime, limit: int, in_zone: ZoneInfo | None = None
) -> list[datetime]:
    """The next ``limit`` send times strictly after ``after`` (aware), in the campaign's zone.

    ``in_zone``: the same wall-clock times in that zone instead (a recipient's, for
    ``recipient_local_time``). There a one-off time that has already passed goes the next
    day at that time, so that nobody is left out; a repeat simply starts with its next time.

    Empty for a send "now" (it goes when it is scheduled) and for an incomplete schedule.
    """
    tz = in_zone or zone(campaign)
    after = after.astimezone(UTC)  # compare instants, never wall times of one zone
    if limit <= 0:
        return []
    if campaign.schedule_mode == Mode.AT:
        send_at = campaign.send_at
        if send_at is None:
            return []
        if in_zone is not None:
            return [_one_off_in(campaign, send_at, in_zone, after=after)]
        return [send_at.astimezone(tz)] if send_at > after else []
    if campaign.schedule_mode != Mode.RECURRING:
        return []
    # A day early: a time pushed forward out of a DST gap may still land after ``after``.
    rule = _recurrence(campaign, since=after.astimezone(tz).date() - timedelta(days=1))
    found: list[datetime] = []
    for wall in rule or ():
        moment = on_the_wall(wall, tz)
        if moment > after:
            found.append(moment)
            if len(found) == limit:
                break
    return found


def _one_off_in(
    campaign: Campaign, send_at: datetime, tz: ZoneInfo, *, after: datetime
) -> datetime:
    """The one-off send's wall-clock time in ``tz``: on its day, or on the first day after
    ``after`` when that time has passed there."""
    if tz.key == campaign.time_zone and send_at > after:
        return send_at.astimezone(tz)  # itself, even the second of a repeated hour
    wall = send_at.astimezone(zone(campaign)).replace(tzinfo=None)
    behind = (after.astimezone(tz).date() - wall.date()).days - 1
    if behind > 0:
        wall += timedelta(days=behind)
    moment = on_the_wall(wall, tz)
    while moment <= after:
        wall += timedelta(days=1)
        moment = on_the_wall(wall, tz)
    return moment


# -- summary ---------------------------------------------------------------------------------


def describe(campaign: Campaign) -> str:
    """The schedule in one or two plain, translated sentences, e.g. "Every Monday and
    Thursday at 9:30 a.m. (Asia/Shanghai), from Dec. 1, 2026 to Feb. 28, 2027, kept by
    Pushdeck." Dates and times are in the active language's formats."""
    tz = zone(campaign)
    if campaign.schedule_mode == Mode.AT:
        if campaign.send_at is None:
            return _("Once; no send time chosen yet.")
        moment = campaign.send_at.astimezone(tz)
        summary = _("Once, on %(date)s %(at)s, %(holder)s.") % {
            "date": date_format(moment, "DATE_FORMAT"),
            "at": _at(campaign, moment.time()),
            "holder": _holder(campaign),
        }
        return " ".join([summary, *_local_time_note(campaign)])
    if campaign.schedule_mode != Mode.RECURRING:
        return _("Once, as soon as it is scheduled.")
    repeats, first = _repeats(campaign), campaign.starts_on
    if repeats is None or campaign.time_of_day is None or first is None:
        return _("Repeatedly; the schedule is not complete yet.")
    if campaign.ends_on is None:
        period = _("from %(first)s") % {"first": date_format(first, "DATE_FORMAT")}
    else:
        period = _("from %(first)s to %(last)s") % {
            "first": date_format(first, "DATE_FORMAT"),
            "last": date_format(campaign.ends_on, "DATE_FORMAT"),
        }
    summary = _("%(repeats)s %(at)s, %(period)s, %(holder)s.") % {
        "repeats": repeats,
        "at": _at(campaign, campaign.time_of_day),
        "period": period,
        "holder": _holder(campaign),
    }
    return " ".join([summary, *_local_time_note(campaign), *_missing_dates_note(campaign)])


def _repeats(campaign: Campaign) -> str | None:
    days = repeat_days(campaign)
    if campaign.frequency == Frequency.DAILY:
        return _("Every day")
    if campaign.frequency == Frequency.WEEKLY and days:
        names = [str(dates.WEEKDAYS[day - 1]) for day in days]
        return _("Every %(weekdays)s") % {"weekdays": get_text_list(names, _("and"))}
    if campaign.frequency == Frequency.MONTHLY and days:
        return ngettext(
            "Every month on day %(dates)s", "Every month on days %(dates)s", len(days)
        ) % {"dates": get_text_list([str(day) for day in days], _("and"))}
    return None


def _at(campaign: Campaign, at: time) -> str:
    if campaign.recipient_local_time:
        return _("at %(time)s in each recipient's local time") % {
            "time": time_format(at, "TIME_FORMAT")
        }
    return _("at %(time)s (%(zone)s)") % {
        "time": time_format(at, "TIME_FORMAT"),
        "zone": campaign.time_zone,
    }


def _holder(campaign: Campaign) -> str:
    if campaign.schedule_holder != Campaign.ScheduleHolder.PROVIDER:
        return _("kept by Pushdeck")
    provider = "EMAS" if campaign.kind == Campaign.Kind.EMAS else "mPaaS"
    return _("kept by %(provider)s") % {"provider": provider}


def _local_time_note(campaign: Campaign) -> list[str]:
    """What recipient-local time does where the time has already passed (see
    ``occurrences``) and for members without a zone."""
    if not campaign.recipient_local_time:
        return []
    if campaign.schedule_mode == Mode.AT:
        passed = _(
            "Where that time has already passed in a recipient's time zone when the campaign "
            "is scheduled, it goes there the next day at that time."
        )
    else:
        passed = _(
            "Where a send time has already passed in a recipient's time zone when the "
            "campaign is scheduled, that zone starts with its next send."
        )
    return [passed, _("Recipients without a time zone get it in the campaign's time zone.")]


def _missing_dates_note(campaign: Campaign) -> list[str]:
    if campaign.frequency != Frequency.MONTHLY:
        return []
    late = [day for day in repeat_days(campaign) if day > SHORTEST_MONTH]
    if not late:
        return []
    note = ngettext(
        "Day %(dates)s is skipped in months that do not have it.",
        "Days %(dates)s are skipped in months that do not have them.",
        len(late),
    ) % {"dates": get_text_list([str(day) for day in late], _("and"))}
    return [note]


def schedule_context(campaign: Campaign, *, now: datetime) -> dict[str, object]:
    """What ``campaigns/_campaign_schedule.html`` shows."""
    return {
        "schedule_summary": describe(campaign),
        "next_occurrences": occurrences(campaign, after=now, limit=NEXT_OCCURRENCES_SHOWN),
        "schedule_zone": campaign.time_zone,
    }


# -- Pushdeck's schedule rules ---------------------------------------------------------------


def check_schedule(
    campaign: Campaign, *, now: datetime, pending_provider_schedules: int, calls: int = 1
) -> list[tuple[str, str]]:
    """Pushdeck's own schedule rules, each broken one as (form field, what the rule says).

    ``pending_provider_schedules`` is how many schedules the app already has waiting at the
    provider (``pending_provider_schedules(app)``); ``calls`` is how many this campaign would
    add (one per provider call).
    """
    errors: list[tuple[str, str]] = []
    if campaign.schedule_mode == Mode.AT:
        if campaign.send_at is None:
            errors.append(("send_at", _("Choose the date and time to send it.")))
        elif campaign.send_at <= now:
            errors.append(("send_at", _("The send time has passed; choose a time in the future.")))
    elif campaign.schedule_mode == Mode.RECURRING:
        errors += _check_recurrence(campaign, now=now)
    if held_by_provider(campaign):
        errors += _check_provider_holds(campaign, pending_provider_schedules, calls)
    return errors


def _check_recurrence(campaign: Campaign, *, now: datetime) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    if not campaign.frequency:
        errors.append(("frequency", _("Choose whether it repeats daily, weekly or monthly.")))
    if campaign.time_of_day is None:
        errors.append(("time_of_day", _("Choose the time of day to send it.")))
    if campaign.starts_on is None:
        errors.append(("starts_on", _("Choose the first day it is sent.")))
    if campaign.ends_on is None:
        errors.append(("ends_on", _("Choose the last day it is sent.")))
    elif campaign.starts_on is not None and campaign.ends_on < campaign.starts_on:
        errors.append(("ends_on", _("The last day cannot be before the first day.")))
    if campaign.frequency in (Frequency.WEEKLY, Frequency.MONTHLY):
        errors += _check_repeat_on(campaign)
    if not errors and not occurrences(campaign, after=now, limit=1):
        errors.append(("ends_on", _("No send time is left between the first and the last day.")))
    return errors


def _check_repeat_on(campaign: Campaign) -> list[tuple[str, str]]:
    weekly = campaign.frequency == Frequency.WEEKLY
    days = campaign.repeat_on or []
    if not days:
        if weekly:
            return [("repeat_on", _("Choose the days of the week it is sent on."))]
        return [("repeat_on", _("Choose the dates of the month it is sent on."))]
    allowed = WEEKDAYS if weekly else MONTH_DAYS
    if all(_is_day(day, allowed) for day in days):
        return []
    if weekly:
        return [("repeat_on", _("Days of the week run from 1 (Monday) to 7 (Sunday)."))]
    return [("repeat_on", _("Dates of the month run from 1 to 31."))]


def _check_provider_holds(campaign: Campaign, pending: int, calls: int) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    if campaign.recipient_local_time:
        errors.append(
            (
                "recipient_local_time",
                _(
                    "The provider sends at one time for everyone, not in each recipient's "
                    "local time. Let Pushdeck keep this schedule."
                ),
            )
        )
    if campaign.kind == Campaign.Kind.EMAS:
        if campaign.schedule_mode == Mode.RECURRING:
            errors.append(
                (
                    "schedule_holder",
                    _("EMAS holds single send times only; let Pushdeck keep the recurrence."),
                )
            )
    else:
        if pending + calls > MPAAS_PENDING_SCHEDULES_MAX:
            errors.append(
                (
                    "schedule_holder",
                    _(
                        "mPaaS holds at most %(limit)d pending scheduled pushes per app; this "
                        "app has %(count)d and this campaign needs %(calls)d. Let Pushdeck "
                        "keep this schedule."
                    )
                    % {"limit": MPAAS_PENDING_SCHEDULES_MAX, "count": pending, "calls": calls},
                )
            )
        if campaign.schedule_mode == Mode.RECURRING and campaign.time_zone != MPAAS_TIME_ZONE:
            errors.append(
                (
                    "time_zone",
                    _(
                        "mPaaS keeps the time of a recurring push in China time (%(zone)s): "
                        "choose that time zone, or let Pushdeck keep this schedule."
                    )
                    % {"zone": MPAAS_TIME_ZONE},
                )
            )
    return errors


def pending_provider_schedules(app: MobileApp, *, exclude: int | None = None) -> int:
    """How many schedules the app has waiting at the provider: one per call of each of its
    campaigns that the provider holds (``exclude``: the campaign being judged)."""
    waiting = (
        Campaign.objects.filter(
            app=app,
            schedule_holder=Campaign.ScheduleHolder.PROVIDER,
            status__in=PENDING_STATUSES,
        )
        .exclude(schedule_mode=Mode.NOW)
        .select_related("app", "audience")
    )
    if exclude is not None:
        waiting = waiting.exclude(pk=exclude)
    return sum(_calls(campaign) for campaign in waiting)


def _calls(campaign: Campaign) -> int:
    plan = call_plan(campaign)
    return max(1, plan.calls) if plan is not None else 1


# -- provider-held schedules -----------------------------------------------------------------


def mpaas_strategy(campaign: Campaign) -> Strategy:
    """strategyType and StrategyContent for a provider-held mPaaS schedule; IMMEDIATE when
    Pushdeck holds the schedule (Pushdeck then calls at each time itself)."""
    if not held_by_provider(campaign):
        return IMMEDIATE
    if campaign.schedule_mode == Mode.AT:
        return Strategy(type=StrategyType.SCHEDULED, fixed_time=campaign.send_at)
    frequency = Frequency(campaign.frequency) if campaign.frequency else None
    return Strategy(
        type=StrategyType.RECURRING,
        start=local_datetime(campaign, campaign.starts_on, None),
        end=local_datetime(campaign, campaign.ends_on, None),
        circle_type=FREQUENCY_CIRCLES.get(frequency) if frequency else None,
        circle_values=tuple(int(day) for day in campaign.repeat_on or ()),
        time=campaign.time_of_day.strftime("%H:%M:%S") if campaign.time_of_day else None,
    )


def emas_push_time(campaign: Campaign) -> datetime | None:
    """PushTime for a provider-held EMAS send (EMAS holds single times only)."""
    if held_by_provider(campaign) and campaign.schedule_mode == Mode.AT:
        return campaign.send_at
    return None
