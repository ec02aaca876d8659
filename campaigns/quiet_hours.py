"""Quiet hours: an app's daily window (``MobileApp.quiet_hours_start`` to ``_end``) in which
Pushdeck sends nothing, read in the app's time zone or in each recipient's.

- A run that comes due inside the window waits: ``claim_due_runs`` leaves it until the
  window ends (``held_back``).
- A run already sending when the window starts stops: ``tick`` moves its calls still to
  make to the window's end (``hold_calls``), so senders stop claiming them within a tick;
  the calls in flight at that moment finish. At the end they are due again and go.
- In recipients' zones each run is read in its own zone (``dispatch`` then makes one run
  per zone of the audience); a run to everyone is read in the campaign's zone.

A window may cross midnight (22:00-08:00). A provider-held schedule is never held: Pushdeck's
call only hands it over, and the provider sends at its own time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils.formats import time_format
from django.utils.translation import gettext as _

from campaigns import scheduling
from campaigns.models import CampaignRun, Dispatch, MobileApp

# What deciding whether a run is held needs of it, its campaign and its app.
RUN_FIELDS = (
    "id",
    "time_zone",
    "campaign__time_zone",
    "campaign__schedule_holder",
    "campaign__schedule_mode",
    "campaign__app__time_zone",
    "campaign__app__quiet_hours_start",
    "campaign__app__quiet_hours_end",
    "campaign__app__quiet_hours_zone",
)
# Runs whose pending calls a window holds: a paused one too, so that resuming it inside the
# window does not send.
HOLDABLE = (CampaignRun.Status.PLANNING, CampaignRun.Status.SENDING, CampaignRun.Status.PAUSED)


def has_quiet_hours(app: MobileApp) -> bool:
    start, end = app.quiet_hours_start, app.quiet_hours_end
    return start is not None and end is not None and start != end


def per_recipient(app: MobileApp) -> bool:
    """Whether the app's quiet hours are read in each recipient's own time zone."""
    return has_quiet_hours(app) and app.quiet_hours_zone == MobileApp.QuietHoursZone.RECIPIENT


def quiet_zone(run: CampaignRun) -> ZoneInfo:
    """The zone the run's quiet hours are read in: the app's, or the recipients' (the run's
    zone; the campaign's for a run to everyone)."""
    app = run.campaign.app
    if app.quiet_hours_zone == MobileApp.QuietHoursZone.RECIPIENT:
        return ZoneInfo(run.time_zone or run.campaign.time_zone)
    return ZoneInfo(app.time_zone)


def quiet_until(app: MobileApp, tz: ZoneInfo, now: datetime) -> datetime | None:
    """The end of the app's quiet window that ``now`` falls in, read in ``tz``; None when
    ``now`` is outside it."""
    end = app.quiet_hours_end
    local = now.astimezone(tz)
    if end is None or not app.in_quiet_hours(local.time()):
        return None
    # Before the end: it ends today; after it (past the start of a window that crosses
    # midnight): tomorrow. An end inside a DST gap moves forward with the clocks.
    day = local.date() if local.time() < end else local.date() + timedelta(days=1)
    return scheduling.on_the_wall(datetime.combine(day, end), tz)


def run_held_until(run: CampaignRun, now: datetime) -> datetime | None:
    """Until when the app's quiet hours hold ``run`` back at ``now`` (None: not held)."""
    campaign = run.campaign
    if scheduling.held_by_provider(campaign) or not has_quiet_hours(campaign.app):
        return None
    return quiet_until(campaign.app, quiet_zone(run), now)


def held_back(runs: QuerySet[CampaignRun], *, now: datetime) -> dict[int, datetime]:
    """Of ``runs``, those held back by their app's quiet hours at ``now``, each with the end
    of its window. Only runs of apps with quiet hours are loaded, with only what it takes."""
    with_quiet_hours = (
        runs.filter(
            campaign__app__quiet_hours_start__isnull=False,
            campaign__app__quiet_hours_end__isnull=False,
        )
        .select_related("campaign__app")
        .only(*RUN_FIELDS)
        .order_by()
    )
    held: dict[int, datetime] = {}
    for run in with_quiet_hours:
        until = run_held_until(run, now)
        if until is not None:
            held[run.id] = until
    return held


def hold_calls(*, now: datetime) -> int:
    """Move the calls still to make of the runs in their quiet hours to the end of the
    window (what ``tick`` does); how many calls moved. Calls waiting for a later retry
    keep their time."""
    moved = 0
    active = CampaignRun.objects.filter(status__in=HOLDABLE)
    for run_id, until in held_back(active, now=now).items():
        moved += Dispatch.objects.filter(
            run_id=run_id, status=Dispatch.Status.PENDING, next_attempt_at__lt=until
        ).update(next_attempt_at=until)
    return moved


def hold_note(run: CampaignRun, now: datetime) -> str:
    """What the campaign's page says of a run its app's quiet hours hold back ("" if none):
    a run waiting for its time is read at that time."""
    if not run.is_active:
        return ""
    waiting = run.status == CampaignRun.Status.WAITING
    until = run_held_until(run, max(now, run.due_at) if waiting else now)
    if until is None:
        return ""
    return _("Held back by the app's quiet hours until %(time)s (%(zone)s).") % {
        "time": time_format(until.time(), "TIME_FORMAT"),
        "zone": quiet_zone(run).key,
    }
