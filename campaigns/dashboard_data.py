"""What the dashboard shows, read in four bounded queries whatever the size of the tables.

- ``runs``: one query over ``run_due`` (status, due_at) for the runs sending now, those
  waiting for a time in the next 7 days (and those overdue, to tell stuck ones), and the
  recently ended ones whose delivery results could not be fetched. Each sending run says
  whether it looks stuck (``stuck_reason``), from two probes on its calls in that query.
- ``provider_held``: the scheduled campaigns whose sends mPaaS or EMAS holds (they have no
  waiting run: Pushdeck's call was made when they were scheduled).
- ``recent_results``: the campaigns that went out last, on ``campaign_sent_newest``.
- ``failure_groups``: the calls that failed in the last 7 days, grouped by campaign and
  provider code in one query over ``dispatch_due`` (status, next_attempt_at). A failed
  call keeps the due time of its last attempt, so the window reads when it was last tried.

Nothing is counted over a whole table, and every list has a limit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from campaigns import quiet_hours, scheduling
from campaigns.management.commands.dispatch_status import STUCK_AFTER
from campaigns.models import Campaign, CampaignRun, Dispatch
from campaigns.providers.errors import advice_for_provider

Run, D = CampaignRun.Status, Dispatch.Status

LIVE = (Run.PLANNING, Run.SENDING, Run.PAUSED)  # the runs "sending now" shows
ENDED = (Run.COMPLETED, Run.FAILED, Run.CANCELLED)
UPCOMING_WINDOW = timedelta(days=7)
ALERT_WINDOW = timedelta(days=7)  # failed calls and results that could not be fetched
CREDENTIALS_WINDOW = timedelta(hours=24)
# A lease that ran out this long ago and was not taken back: no sender is claiming.
LEASE_GRACE = timedelta(minutes=1)
RUNS_FETCHED = 100
PROVIDER_HELD_FETCHED = 50
SENDING_SHOWN = 10
UPCOMING_SHOWN = 12
UPCOMING_PER_CAMPAIGN = 3  # a daily campaign would otherwise fill the week
RECENT_SHOWN = 8
FAILURE_GROUPS = 30

# Never read here: the campaign's content and the app's secret (not decrypted for nothing).
CAMPAIGN_UNUSED = ("snapshot", "options", "template_values", "title", "body")
APP_UNUSED = ("access_key_secret",)

# Provider codes that say the app's keys no longer work (campaigns.providers.errors gives
# them the advice to check the AccessKey; PermissionDenied is EMAS's AppKey not owned).
CREDENTIAL_CODES = frozenset(
    {
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "InvalidAccessKeyId.NotFound",
        "InvalidAccessKeyId.Inactive",
        "Forbidden.AccessKeyDisabled",
        "Forbidden.RAM",
        "PermissionDenied",
    }
)


# -- what the sections hold ------------------------------------------------------------------


@dataclass(frozen=True)
class Upcoming:
    """One send in the next 7 days: a waiting run, or a later time of its campaign."""

    at: datetime
    campaign: Campaign
    run: CampaignRun | None = None  # None: a later occurrence, not a run yet
    # The time is a wall-clock time in each recipient's zone (``at`` is in the campaign's).
    each_recipient: bool = False
    provider: str = ""  # the provider that holds the send ("": Pushdeck sends it)
    note: str = ""  # why it waits past its time (quiet hours)


@dataclass(frozen=True)
class RecentResult:
    campaign: Campaign

    @property
    def open_percent(self) -> float | None:
        rate = self.campaign.open_rate
        return None if rate is None else round(100 * rate, 1)


@dataclass(frozen=True)
class FailureGroup:
    """The failed calls of one campaign with one provider code."""

    campaign_id: int
    campaign_name: str
    app_id: int
    app_name: str
    app_changed_at: datetime
    code: str
    message: str  # one of the provider's messages for the code
    calls: int
    targets: int
    last: datetime  # the latest of their last attempts
    advice: str | Promise


@dataclass(frozen=True)
class CredentialAlert:
    """An app whose keys the provider refused in the last 24 hours."""

    app_id: int
    app_name: str
    codes: list[str]
    last: datetime
    campaign_id: int  # the campaign of the latest refusal
    campaign_name: str
    changed_since: bool  # the app's settings were saved after the latest refusal


@dataclass(frozen=True)
class StuckRun:
    run: CampaignRun
    reason: str


@dataclass(frozen=True)
class Sending:
    runs: list[CampaignRun]  # the first SENDING_SHOWN
    more: int  # how many more there are
    live: bool  # one is planning or sending: the section keeps refreshing


@dataclass(frozen=True)
class Dashboard:
    sending: Sending
    upcoming: list[Upcoming]
    recent: list[RecentResult]
    failures: list[FailureGroup]
    credentials: list[CredentialAlert]
    stuck: list[StuckRun]
    stats_errors: list[CampaignRun]

    @property
    def alerts(self) -> int:
        return len(self.failures) + len(self.credentials) + len(self.stuck) + len(self.stats_errors)

    @property
    def has_campaigns(self) -> bool:
        return bool(self.sending.runs or self.upcoming or self.recent or self.alerts)


# -- runs ------------------------------------------------------------------------------------


def _runs(now: datetime, *, live_only: bool) -> list[CampaignRun]:
    """The runs the dashboard looks at, sending ones first, then results that could not be
    fetched, then waiting ones by due time; each sending one with ``lease_lost`` (a call's
    lease ran out a minute ago and no sender took it back) and ``unclaimed`` (calls due 5
    minutes ago while no sender holds any call). The probes run only for sending runs."""
    wanted = Q(status__in=LIVE)
    if not live_only:
        wanted |= Q(status=Run.WAITING, due_at__lte=now + UPCOMING_WINDOW)
        wanted |= Q(status__in=ENDED, due_at__gte=now - ALERT_WINDOW) & ~Q(stats_error="")
    # The calls being sent are few (senders x chunk): one look at them serves every run.
    lost = Dispatch.objects.filter(status=D.SENDING, lease_expires_at__lt=now - LEASE_GRACE).values(
        "run_id"
    )
    overdue = Dispatch.objects.filter(
        run=OuterRef("pk"), status=D.PENDING, next_attempt_at__lt=now - STUCK_AFTER
    )
    held = Dispatch.objects.filter(status=D.SENDING, lease_expires_at__gte=now)
    sending = Q(status=Run.SENDING)
    runs = (
        CampaignRun.objects.filter(wanted)
        .select_related("campaign__app")
        .defer(
            *(f"campaign__{name}" for name in CAMPAIGN_UNUSED),
            *(f"campaign__app__{name}" for name in APP_UNUSED),
        )
        .annotate(
            lease_lost=Case(
                When(sending & Q(pk__in=lost), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
            # Looked for only while no sender holds a call: in a big run's backlog the
            # probe may read the run's sent calls before it finds a pending one.
            unclaimed=Case(
                When(sending & ~Exists(held), then=Exists(overdue)),
                default=Value(False),
                output_field=BooleanField(),
            ),
            rank=Case(
                When(status__in=LIVE, then=Value(0)),
                When(status__in=ENDED, then=Value(1)),
                default=Value(2),
            ),
        )
        .order_by("rank", "due_at", "id")
    )
    return list(runs[:RUNS_FETCHED])


def stuck_reason(run: CampaignRun, now: datetime) -> str:
    """Why ``run`` looks stuck, in words ("" when it does not): what ``manage.py
    dispatch_status`` calls stuck (waiting or planning 5 minutes past its time; not when
    quiet hours or a paused campaign hold it), and a sending run whose calls nobody sends."""
    late = run.due_at < now - STUCK_AFTER
    minutes = int((now - run.due_at).total_seconds() // 60)
    if run.status == Run.PLANNING and late:
        return _("Due %(minutes)d minutes ago and still not planned: is a worker running?") % {
            "minutes": minutes
        }
    if run.status == Run.WAITING and late:
        paused = run.campaign.status == Campaign.Status.PAUSED
        if paused or quiet_hours.run_held_until(run, now) is not None:
            return ""
        return _(
            "Due %(minutes)d minutes ago and not started: are Celery beat and a worker running?"
        ) % {"minutes": minutes}
    if run.status != Run.SENDING:
        return ""
    if getattr(run, "lease_lost", False):
        return _(
            "A sender stopped in the middle of a call and no sender took it back: is a "
            "worker running?"
        )
    if getattr(run, "unclaimed", False):
        return _("Calls have been due for more than 5 minutes and no sender is working on them.")
    started = run.started_at
    if run.calls and run.calls_done >= run.calls and started and started < now - STUCK_AFTER:
        return _("Every call is made but the run is not completed: is Celery beat running?")
    return ""


def sending_now(now: datetime) -> Sending:
    """The runs sending now: one query (what the section's refresh asks)."""
    return _sending(_runs(now, live_only=True))


def _sending(runs: Iterable[CampaignRun]) -> Sending:
    live = [run for run in runs if run.status in LIVE]
    return Sending(
        runs=live[:SENDING_SHOWN],
        more=max(0, len(live) - SENDING_SHOWN),
        live=any(run.status != Run.PAUSED for run in live),
    )


# -- upcoming --------------------------------------------------------------------------------


def provider_held(now: datetime) -> list[Campaign]:
    """Scheduled campaigns whose sends the provider holds (AT sends whose time passed are
    dropped by ``scheduling.occurrences``)."""
    return list(
        Campaign.objects.filter(
            status__in=scheduling.PENDING_STATUSES,
            schedule_holder=Campaign.ScheduleHolder.PROVIDER,
        )
        .exclude(schedule_mode=Campaign.ScheduleMode.NOW)
        .select_related("app")
        .defer(*CAMPAIGN_UNUSED, *(f"app__{name}" for name in APP_UNUSED))
        .order_by("-created_at", "-id")[:PROVIDER_HELD_FETCHED]
    )


def upcoming(
    waiting: list[CampaignRun], held: list[Campaign], now: datetime, *, runs_cut: bool = False
) -> list[Upcoming]:
    """The sends of the next 7 days, soonest first: the ``waiting`` runs (by due time; those
    overdue are held back by quiet hours or a pause, or about to go), the later times of
    their recurring campaigns (not runs yet) and the sends the provider holds; at most
    UPCOMING_PER_CAMPAIGN of each campaign. ``runs_cut``: the waiting runs were cut at
    the query's limit, so nothing after the last of them is known to be complete."""
    horizon = now + UPCOMING_WINDOW
    if runs_cut and waiting:
        horizon = min(horizon, waiting[-1].due_at)
    by_campaign: dict[int, list[Upcoming]] = {}
    campaigns: dict[int, Campaign] = {}
    for run in waiting:
        entries = by_campaign.setdefault(run.campaign_id, [])
        campaigns[run.campaign_id] = run.campaign
        if len(entries) < UPCOMING_PER_CAMPAIGN:
            note = quiet_hours.hold_note(run, now)
            entries.append(Upcoming(run.due_at, run.campaign, run=run, note=note))
    for campaign_id, campaign in campaigns.items():
        if campaign.schedule_mode != Campaign.ScheduleMode.RECURRING:
            continue
        entries = by_campaign[campaign_id]
        after = max(entry.at for entry in entries)
        for moment in scheduling.occurrences(
            campaign, after=after, limit=UPCOMING_PER_CAMPAIGN - len(entries)
        ):
            entries.append(Upcoming(moment, campaign, each_recipient=campaign.recipient_local_time))
    for campaign in held:
        provider = "EMAS" if campaign.kind == Campaign.Kind.EMAS else "mPaaS"
        by_campaign.setdefault(campaign.id, []).extend(
            Upcoming(moment, campaign, provider=provider)
            for moment in scheduling.occurrences(campaign, after=now, limit=UPCOMING_PER_CAMPAIGN)
        )
    found = [entry for entries in by_campaign.values() for entry in entries if entry.at <= horizon]
    found.sort(key=lambda entry: (entry.at, entry.campaign.id))
    return found[:UPCOMING_SHOWN]


# -- results ---------------------------------------------------------------------------------


def recent_results() -> list[RecentResult]:
    campaigns = (
        Campaign.objects.filter(first_sent_at__isnull=False)
        .select_related("app")
        .defer(*CAMPAIGN_UNUSED, *(f"app__{name}" for name in APP_UNUSED))
        .order_by("-first_sent_at", "-id")[:RECENT_SHOWN]
    )
    return [RecentResult(campaign) for campaign in campaigns]


# -- alerts ----------------------------------------------------------------------------------


def failure_groups(now: datetime) -> list[FailureGroup]:
    """Calls failed in the last 7 days by campaign and provider code, latest first."""
    rows = (
        Dispatch.objects.filter(status=D.FAILED, next_attempt_at__gte=now - ALERT_WINDOW)
        .values(
            "result_code",
            campaign_id=F("run__campaign_id"),
            campaign_name=F("run__campaign__name"),
            app_id=F("run__campaign__app_id"),
            app_name=F("run__campaign__app__name"),
            app_provider=F("run__campaign__app__provider"),
            app_changed_at=F("run__campaign__app__updated_at"),
        )
        .annotate(
            calls=Count("id"),
            targets=Sum("target_count"),
            last=Max("next_attempt_at"),
            sample=Max("message"),
        )
        .order_by("-last", "campaign_id", "result_code")[:FAILURE_GROUPS]
    )
    return [
        FailureGroup(
            campaign_id=row["campaign_id"],
            campaign_name=row["campaign_name"],
            app_id=row["app_id"],
            app_name=row["app_name"],
            app_changed_at=row["app_changed_at"],
            code=row["result_code"],
            message=row["sample"] or "",
            calls=row["calls"],
            targets=row["targets"] or 0,
            last=row["last"],
            advice=advice_for_provider(row["app_provider"], row["result_code"]),
        )
        for row in rows
    ]


def credential_alerts(groups: list[FailureGroup], now: datetime) -> list[CredentialAlert]:
    """Apps with calls refused for their keys in the last 24 hours, from ``groups``. The app
    keeps no result of its connection tests, so a refused call is the sign."""
    refused: dict[int, list[FailureGroup]] = {}
    for group in groups:  # latest first
        if group.code in CREDENTIAL_CODES and group.last >= now - CREDENTIALS_WINDOW:
            refused.setdefault(group.app_id, []).append(group)
    alerts = []
    for app_groups in refused.values():
        latest = app_groups[0]
        alerts.append(
            CredentialAlert(
                app_id=latest.app_id,
                app_name=latest.app_name,
                codes=sorted({group.code for group in app_groups}),
                last=latest.last,
                campaign_id=latest.campaign_id,
                campaign_name=latest.campaign_name,
                changed_since=latest.app_changed_at > latest.last,
            )
        )
    return alerts


# -- all of it -------------------------------------------------------------------------------


def dashboard(now: datetime) -> Dashboard:
    runs = _runs(now, live_only=False)
    stuck = [StuckRun(run, reason) for run in runs if (reason := stuck_reason(run, now))]
    stuck_ids = {entry.run.id for entry in stuck}
    waiting = [run for run in runs if run.status == Run.WAITING and run.id not in stuck_ids]
    groups = failure_groups(now)
    return Dashboard(
        sending=_sending(runs),
        upcoming=upcoming(waiting, provider_held(now), now, runs_cut=len(runs) == RUNS_FETCHED),
        recent=recent_results(),
        failures=groups,
        credentials=credential_alerts(groups, now),
        stuck=stuck,
        stats_errors=[run for run in runs if run.status in ENDED and run.stats_error],
    )
