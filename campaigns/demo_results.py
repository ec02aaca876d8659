"""Finished demo campaigns, so a newcomer's dashboard, history and campaign pages show results.

Each is sent for real: scheduled as a person would, planned and sent by the dispatch engine
to the built-in sandbox, its run finished; then the whole of it (campaign, run, calls, audit
trail, and the sandbox's pushes and ledger rows) is moved back in time, and its delivery
results are taken at each step of ``stats.SCHEDULE`` that has passed since, with the
sandbox's clock set to that step's time. So the funnels, the arrivals over time and the
key figures are the sandbox's own answers, as the console would have collected them.
A recurring one gets a run per past day. Made once; a second load leaves them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from campaigns import dispatch, run_controls, stats
from campaigns.demo_campaigns import NEWS, SHANGHAI, SHOP, DemoCampaign, create_demo
from campaigns.models import (
    AuditEvent,
    Campaign,
    CampaignRun,
    Dispatch,
    MobileApp,
    SandboxMessage,
    SandboxPush,
    User,
)
from campaigns.sandbox import control

S = Campaign.Status


@dataclass(frozen=True)
class FinishedDemo:
    campaign: DemoCampaign
    days_ago: tuple[int, ...]  # when each run went out; several for a recurring campaign
    stop_after_calls: int = 0  # cancelled after this many calls (0: sent in full)


def finished_demos() -> list[FinishedDemo]:
    return [
        FinishedDemo(
            DemoCampaign(
                "Autumn sale, personal offers",
                SHOP,
                Campaign.Kind.PERSONALISED,
                "Autumn sale customers",
                S.SCHEDULED,
                template="Spring sale",
                options={"mp_classification": "0"},
            ),
            days_ago=(12,),
        ),
        FinishedDemo(
            DemoCampaign(
                "Loyalty points reminder",
                NEWS,
                Campaign.Kind.EMAS,
                "Loyalty accounts",
                S.SCHEDULED,
                template="Flash deal",
                values={"item": "Loyalty points", "price": "0"},
                options={"push_type": "NOTICE", "device_type": "ANDROID"},
            ),
            days_ago=(3,),
        ),
        FinishedDemo(
            DemoCampaign(
                "Flash sale (stopped early)",
                SHOP,
                Campaign.Kind.PERSONALISED,
                "Autumn sale customers",
                S.SCHEDULED,
                template="Spring sale",
            ),
            days_ago=(6,),
            stop_after_calls=5,
        ),
        FinishedDemo(
            DemoCampaign(
                "Morning briefing for the team",
                SHOP,
                Campaign.Kind.SIMPLE,
                "VIP testers",
                S.SCHEDULED,
                title="Good morning",
                body="Today's numbers are in: open the app to see them.",
                schedule={
                    "schedule_mode": Campaign.ScheduleMode.RECURRING,
                    "frequency": Campaign.Frequency.DAILY,
                    "time_of_day": time(9, 0),
                    "starts_on": (timezone.now() - timedelta(days=4)).date(),
                    "ends_on": (timezone.now() + timedelta(days=30)).date(),
                },
            ),
            days_ago=(3, 2, 1),
        ),
    ]


def _send(run: CampaignRun, stop_after_calls: int) -> None:
    """Plan and send the run in this process, as the workers would."""
    assert dispatch.plan(run.id)
    sent = 0
    while claimed := dispatch.claim_dispatches(limit=stop_after_calls or dispatch.CLAIM_CHUNK):
        dispatch.send_claimed(claimed, threads=1)
        sent += len(claimed)
        if stop_after_calls and sent >= stop_after_calls:
            campaign = Campaign.objects.get(id=run.campaign_id)
            run_controls.cancel(campaign)
            break
    dispatch.finish_runs({run.id})


def _move_back(run: CampaignRun, by: timedelta) -> None:
    """Shift the run, its calls and the sandbox's record of them ``by`` into the past."""
    CampaignRun.objects.filter(id=run.id).update(
        due_at=F("due_at") - by,
        planned_at=F("planned_at") - by,
        started_at=F("started_at") - by,
        finished_at=F("finished_at") - by,
        stats_due_at=F("stats_due_at") - by,
    )
    calls = Dispatch.objects.filter(run=run)
    calls.update(sent_at=F("sent_at") - by, next_attempt_at=F("next_attempt_at") - by)
    task_ids = [
        part
        for provider_id in calls.exclude(provider_id="").values_list("provider_id", flat=True)
        for part in provider_id.split(",")
    ]
    pushes = SandboxPush.objects.filter(task_id__in=task_ids)
    SandboxMessage.objects.filter(push__in=pushes).update(accepted_at=F("accepted_at") - by)
    pushes.update(accepted_at=F("accepted_at") - by)


def _move_campaign_back(campaign: Campaign, by: timedelta) -> None:
    Campaign.objects.filter(id=campaign.id).update(
        created_at=F("created_at") - by,
        changed_at=F("changed_at") - by,
        submitted_at=F("submitted_at") - by,
        approved_at=F("approved_at") - by,
    )
    AuditEvent.objects.filter(object_type="campaign", object_id=str(campaign.id)).update(
        created_at=F("created_at") - by
    )


def _collect_results(run: CampaignRun) -> int:
    """Take the run's results at each step that has passed, on the sandbox's clock set to
    that step's time; how many snapshots."""
    run.refresh_from_db()
    if run.finished_at is None:
        return 0
    taken = 0
    before = control.current().clock_offset_s
    try:
        for delay in stats.SCHEDULE:
            moment = run.finished_at + delay
            if moment > timezone.now():
                break
            control.update(clock_offset_s=(moment - timezone.now()).total_seconds())
            taken += stats.poll_run(run.id) is not None
    finally:
        control.update(clock_offset_s=before)
    return taken


def _run_at(campaign: Campaign, due: datetime) -> CampaignRun:
    """The campaign's run due at ``due``, taken for planning (instead of the waiting one
    scheduling made: a recurring campaign's past days are sent one by one)."""
    campaign.runs.filter(status=CampaignRun.Status.WAITING).delete()
    return CampaignRun.objects.create(
        campaign=campaign, due_at=due, status=CampaignRun.Status.PLANNING
    )


def _finish(demo: FinishedDemo, apps: dict[str, MobileApp], people: dict[str, User]) -> None:
    create_demo(demo.campaign, apps, people)
    campaign = Campaign.objects.get(name=demo.campaign.name)
    oldest = timedelta(days=max(demo.days_ago))
    for days in sorted(demo.days_ago, reverse=True):
        # Sent now, then moved back to 09:00 (Shanghai) that many days ago.
        day = timezone.now().astimezone(SHANGHAI).date() - timedelta(days=days)
        run = _run_at(campaign, timezone.now())
        _send(run, demo.stop_after_calls)
        _move_back(run, timezone.now() - datetime.combine(day, time(9), tzinfo=SHANGHAI))
        _collect_results(run)
    _move_campaign_back(campaign, oldest + timedelta(hours=2))
    # The first run's start, moved back with it.
    first = campaign.runs.exclude(started_at=None).order_by("started_at").first()
    if first is not None:
        Campaign.objects.filter(id=campaign.id).update(first_sent_at=first.started_at)


def load_finished_campaigns() -> int:
    """Send and finish the demo campaigns that do not exist yet; how many."""
    apps = {app.name: app for app in MobileApp.objects.filter(name__in=(SHOP, NEWS))}
    people = {
        user.username: user for user in User.objects.filter(username__in=("marketer", "admin"))
    }
    if len(apps) < 2 or len(people) < 2:
        return 0
    existing = set(Campaign.objects.values_list("name", flat=True))
    made = 0
    for demo in finished_demos():
        if demo.campaign.name in existing:
            continue
        with transaction.atomic():
            _finish(demo, apps, people)
        made += 1
    return made
