"""When runs are sent: in each recipient's local time (one run per zone, each at the local
wall time, across daylight-saving changes), held back by an app's quiet hours, monthly on
dates some months lack, and schedules the provider holds, created and cancelled there."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import time_format

from campaigns import approval, dispatch, quiet_hours, run_controls, scheduling, tasks
from campaigns.connections import mpaas_app, mpaas_client
from campaigns.models import AudienceMember, Campaign, CampaignRun, Dispatch, MobileApp
from campaigns.roles import Role
from campaigns.sandbox import control
from tests.campaigns.test_dispatch import ledger, send_everything
from tests.factories import AudienceFactory, CampaignFactory, MobileAppFactory, make_user

pytestmark = pytest.mark.django_db
Run, D = CampaignRun.Status, Dispatch.Status
Mode, Frequency = Campaign.ScheduleMode, Campaign.Frequency

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
# Members of the audience by zone ("" : no zone given).
MEMBERS = {"Asia/Shanghai": 12, "Europe/Berlin": 7, "America/Los_Angeles": 5, "": 4}


@pytest.fixture(autouse=True)
def no_broker(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Nothing reaches the Celery broker; the nudges the tasks would send are listed."""
    nudges: list[str] = []

    def nudge(name: str) -> Callable[..., None]:
        return lambda *args: nudges.append(name)

    for task in (
        tasks.dispatch_send,
        tasks.dispatch_plan,
        tasks.dispatch_fire_due,
        tasks.import_audience,
    ):
        monkeypatch.setattr(task, "delay", nudge(task.name))
    monkeypatch.setattr(dispatch, "THREADS", 1)  # the test database is one connection
    control.forget_cache()
    yield nudges
    control.forget_cache()


def campaign_to(members: dict[str, int], app: MobileApp | None = None, **fields: Any) -> Campaign:
    """A scheduled simple push (10 targets a call) to ``members[zone]`` members in each zone,
    their targets named after the zone: "Asia/Shanghai-0", "-0" for no zone."""
    app = app or MobileAppFactory.create(rate_limit=1000)
    audience = AudienceFactory.create(app=app, member_count=sum(members.values()))
    AudienceMember.objects.bulk_create(
        AudienceMember(audience=audience, target=f"{zone}-{n}", time_zone=zone)
        for zone, count in members.items()
        for n in range(count)
    )
    defaults: dict[str, Any] = {
        "status": Campaign.Status.SCHEDULED,
        "time_zone": "Europe/Berlin",
        "recipient_local_time": True,
        "schedule_mode": Mode.RECURRING,
        "frequency": Frequency.DAILY,
        "time_of_day": time(9, 0),
        "starts_on": date(2026, 12, 1),
        "ends_on": date(2027, 12, 31),
    }
    return CampaignFactory.create(app=app, audience=audience, **(defaults | fields))


def runs_by_zone(campaign: Campaign) -> dict[str, list[datetime]]:
    """Each zone's run times, as wall clocks of that zone."""
    found: dict[str, list[datetime]] = {}
    for run in campaign.runs.order_by("due_at"):
        found.setdefault(run.time_zone, []).append(run.due_at.astimezone(ZoneInfo(run.time_zone)))
    return found


def planned_targets(run: CampaignRun) -> list[str]:
    return [
        target
        for targets in run.dispatches.values_list("targets", flat=True)
        for target, *_ in targets
    ]


def complete(run: CampaignRun) -> None:
    """The run was sent (nothing to call) a minute after it was due: the campaign goes on."""
    CampaignRun.objects.filter(id=run.id).update(status=Run.SENDING)
    dispatch.finish_runs({run.id}, now=run.due_at + timedelta(minutes=1))


def zone_times(campaign: Campaign, zone: str, count: int) -> list[str]:
    """The first ``count`` runs of one zone, each completed in turn to make the next."""
    runs = campaign.runs.filter(time_zone=zone).order_by("due_at")
    for _ in range(count - 1):
        # Another zone's run completing makes this zone's next one too: the earliest first.
        waiting = runs.filter(status=Run.WAITING).first()
        assert waiting is not None
        complete(waiting)
    times = runs.values_list("due_at", flat=True)[:count]
    return [moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z") for moment in times]


# -- recipient-local time --------------------------------------------------------------------


def test_each_zone_gets_its_own_run_at_the_local_wall_time() -> None:
    campaign = campaign_to(MEMBERS)
    dispatch.first_run(campaign, now=NOW)
    assert runs_by_zone(campaign) == {
        # Members without a zone are sent in the campaign's zone, with Berlin's members.
        "Europe/Berlin": [datetime(2026, 12, 1, 9, 0, tzinfo=BERLIN)],
        "Asia/Shanghai": [datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)],
        "America/Los_Angeles": [datetime(2026, 12, 1, 9, 0, tzinfo=LOS_ANGELES)],
    }


def test_each_zone_run_plans_exactly_its_members_and_every_member_is_sent_once() -> None:
    campaign = campaign_to(MEMBERS)
    dispatch.first_run(campaign, now=NOW)
    won = dispatch.claim_due_runs(now=datetime(2026, 12, 2, tzinfo=UTC))
    assert len(won) == 3
    for run_id in won:
        dispatch.plan(run_id)
    expected = {
        "Asia/Shanghai": {f"Asia/Shanghai-{n}" for n in range(12)},
        "Europe/Berlin": {f"Europe/Berlin-{n}" for n in range(7)} | {f"-{n}" for n in range(4)},
        "America/Los_Angeles": {f"America/Los_Angeles-{n}" for n in range(5)},
    }
    everyone: list[str] = []
    for run in campaign.runs.all():
        targets = planned_targets(run)
        assert set(targets) == expected[run.time_zone]
        # In member order, as ``run_members`` gives them: the calls are the run's members.
        assert targets == list(dispatch.run_members(run).values_list("target", flat=True))
        assert (run.targets, run.calls) == (len(targets), -(-len(targets) // 10))
        everyone += targets
    assert sorted(everyone) == sorted(AudienceMember.objects.values_list("target", flat=True))
    send_everything()
    delivered = ledger(campaign)
    assert sorted(delivered) == sorted(everyone)  # each member reached once, none twice
    first_day = campaign.runs.filter(id__in=won)
    assert set(first_day.values_list("status", flat=True)) == {Run.COMPLETED}
    waiting = campaign.runs.filter(status=Run.WAITING).values_list("time_zone", flat=True)
    assert sorted(waiting) == sorted(expected)  # each zone's next day


def test_a_zone_whose_time_has_passed_starts_with_its_next_send() -> None:
    """Scheduled at 07:00 in Berlin on the first day: 09:00 has passed in Shanghai, so
    Shanghai's first send is the next day's; Berlin and Los Angeles send that same day."""
    campaign = campaign_to(MEMBERS)
    dispatch.first_run(campaign, now=datetime(2026, 12, 1, 7, 0, tzinfo=BERLIN))
    assert runs_by_zone(campaign) == {
        "Asia/Shanghai": [datetime(2026, 12, 2, 9, 0, tzinfo=SHANGHAI)],
        "Europe/Berlin": [datetime(2026, 12, 1, 9, 0, tzinfo=BERLIN)],
        "America/Los_Angeles": [datetime(2026, 12, 1, 9, 0, tzinfo=LOS_ANGELES)],
    }
    assert "that zone starts with its next send" in scheduling.describe(campaign)


def test_a_one_off_send_goes_the_next_day_where_its_time_has_passed() -> None:
    campaign = campaign_to(
        MEMBERS, schedule_mode=Mode.AT, send_at=datetime(2026, 12, 1, 9, 0, tzinfo=BERLIN)
    )
    first = dispatch.first_run(campaign, now=datetime(2026, 12, 1, 7, 0, tzinfo=BERLIN))
    assert runs_by_zone(campaign) == {
        "Asia/Shanghai": [datetime(2026, 12, 2, 9, 0, tzinfo=SHANGHAI)],
        "Europe/Berlin": [datetime(2026, 12, 1, 9, 0, tzinfo=BERLIN)],
        "America/Los_Angeles": [datetime(2026, 12, 1, 9, 0, tzinfo=LOS_ANGELES)],
    }
    assert first is not None
    assert first.time_zone == "Europe/Berlin"  # the earliest
    assert "it goes there the next day at that time" in scheduling.describe(campaign)
    # A one-off campaign is complete only when every zone's run is.
    for run in campaign.runs.order_by("due_at"):
        campaign.refresh_from_db()
        assert campaign.status == Campaign.Status.SCHEDULED
        complete(run)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED
    assert campaign.runs.count() == 3


def test_each_zone_gets_its_next_run_and_a_zone_new_to_the_audience_joins() -> None:
    campaign = campaign_to(MEMBERS)
    dispatch.first_run(campaign, now=NOW)
    shanghai = campaign.runs.get(time_zone="Asia/Shanghai")
    audience = campaign.audience
    assert audience is not None
    AudienceMember.objects.create(audience=audience, target="tokyo", time_zone="Asia/Tokyo")
    complete(shanghai)
    assert runs_by_zone(campaign) == {
        "Asia/Shanghai": [datetime(2026, 12, day, 9, 0, tzinfo=SHANGHAI) for day in (1, 2)],
        "Europe/Berlin": [datetime(2026, 12, 1, 9, 0, tzinfo=BERLIN)],  # not made twice
        "America/Los_Angeles": [datetime(2026, 12, 1, 9, 0, tzinfo=LOS_ANGELES)],
        "Asia/Tokyo": [datetime(2026, 12, 2, 9, 0, tzinfo=TOKYO)],  # its 1st's time had passed
    }
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SCHEDULED


def test_a_run_whose_zone_has_no_members_left_completes_without_a_call(
    no_broker: list[str],
) -> None:
    campaign = campaign_to(MEMBERS)
    dispatch.first_run(campaign, now=NOW)
    AudienceMember.objects.filter(time_zone="America/Los_Angeles").delete()
    los_angeles = campaign.runs.get(time_zone="America/Los_Angeles")
    assert dispatch.claim_due_runs(now=los_angeles.due_at) != []
    tasks.dispatch_plan.apply(args=(los_angeles.id,))
    los_angeles.refresh_from_db()
    assert (los_angeles.status, los_angeles.calls) == (Run.COMPLETED, 0)
    assert tasks.dispatch_send.name not in no_broker


def test_another_zones_run_of_a_paused_campaign_waits_for_resume() -> None:
    campaign = campaign_to(MEMBERS)
    dispatch.first_run(campaign, now=NOW)
    shanghai = campaign.runs.get(time_zone="Asia/Shanghai")
    assert dispatch.claim_due_runs(now=shanghai.due_at) == [shanghai.id]
    dispatch.plan(shanghai.id)
    campaign.refresh_from_db()
    run_controls.pause(campaign)
    later = datetime(2026, 12, 2, tzinfo=UTC)
    assert dispatch.claim_due_runs(now=later) == []  # Berlin and Los Angeles are due
    run_controls.resume(campaign)
    assert len(dispatch.claim_due_runs(now=later)) == 2


# -- daylight saving -------------------------------------------------------------------------


def test_recipient_local_runs_at_0230_across_berlins_changes() -> None:
    campaign = campaign_to(
        {"Europe/Berlin": 1, "Asia/Shanghai": 1},
        time_zone="Asia/Shanghai",
        time_of_day=time(2, 30),
        starts_on=date(2027, 3, 27),
    )
    dispatch.first_run(campaign, now=NOW)
    assert zone_times(campaign, "Europe/Berlin", 3) == [
        "2027-03-27 02:30 CET",
        "2027-03-28 03:30 CEST",  # 02:30 never happens that night: sent once, an hour on
        "2027-03-29 02:30 CEST",
    ]
    berlin = ZoneInfo("Europe/Berlin")
    autumn = scheduling.occurrences(
        campaign, after=datetime(2027, 10, 30, tzinfo=UTC), limit=2, in_zone=berlin
    )
    assert [moment.strftime("%Y-%m-%d %H:%M %Z") for moment in autumn] == [
        "2027-10-30 02:30 CEST",
        "2027-10-31 02:30 CEST",  # 02:30 happens twice that night: sent once, the first
    ]
    assert autumn[1].astimezone(UTC) - autumn[0].astimezone(UTC) == timedelta(hours=24)
    # Shanghai keeps no daylight saving: its runs stay 24 hours apart all along.
    assert zone_times(campaign, "Asia/Shanghai", 3) == [
        "2027-03-27 02:30 CST",
        "2027-03-28 02:30 CST",
        "2027-03-29 02:30 CST",
    ]


def test_recipient_local_runs_at_0230_across_new_yorks_changes() -> None:
    campaign = campaign_to(
        {"America/New_York": 2},
        time_zone="Asia/Shanghai",
        time_of_day=time(2, 30),
        starts_on=date(2027, 3, 13),
    )
    dispatch.first_run(campaign, now=NOW)
    assert zone_times(campaign, "America/New_York", 3) == [
        "2027-03-13 02:30 EST",
        "2027-03-14 03:30 EDT",
        "2027-03-15 02:30 EDT",
    ]
    autumn = scheduling.occurrences(
        campaign, after=datetime(2027, 11, 6, tzinfo=UTC), limit=2, in_zone=NEW_YORK
    )
    assert [moment.strftime("%Y-%m-%d %H:%M %Z") for moment in autumn] == [
        "2027-11-06 02:30 EDT",
        "2027-11-07 02:30 EST",  # the day the clocks go back is 25 hours long
    ]
    assert autumn[1].astimezone(UTC) - autumn[0].astimezone(UTC) == timedelta(hours=25)


def test_monthly_on_the_31st_runs_only_in_months_that_have_one() -> None:
    campaign = campaign_to(
        {"America/Los_Angeles": 1},
        frequency=Frequency.MONTHLY,
        repeat_on=[31],
        starts_on=date(2027, 1, 1),
    )
    dispatch.first_run(campaign, now=NOW)
    assert zone_times(campaign, "America/Los_Angeles", 5) == [
        "2027-01-31 09:00 PST",
        "2027-03-31 09:00 PDT",
        "2027-05-31 09:00 PDT",
        "2027-07-31 09:00 PDT",
        "2027-08-31 09:00 PDT",
    ]
    assert "Day 31 is skipped in months that do not have it." in scheduling.describe(campaign)


# -- quiet hours -----------------------------------------------------------------------------


def quiet_app(
    zone: str = MobileApp.QuietHoursZone.APP, app_zone: str = "Asia/Shanghai"
) -> MobileApp:
    """An app quiet from 22:00 to 08:00 (across midnight)."""
    return MobileAppFactory.create(
        rate_limit=1000,
        time_zone=app_zone,
        quiet_hours_start=time(22, 0),
        quiet_hours_end=time(8, 0),
        quiet_hours_zone=zone,
    )


def test_a_run_due_inside_quiet_hours_waits_until_they_end(viewer: Client) -> None:
    campaign = campaign_to(
        {"Asia/Shanghai": 3},
        app=quiet_app(),
        recipient_local_time=False,
        time_zone="Asia/Shanghai",
        schedule_mode=Mode.AT,
        send_at=datetime(2026, 12, 1, 23, 30, tzinfo=SHANGHAI),
    )
    run = dispatch.first_run(campaign, now=NOW)
    assert run is not None
    assert run.due_at == campaign.send_at
    assert dispatch.claim_due_runs(now=datetime(2026, 12, 1, 23, 30, tzinfo=SHANGHAI)) == []
    assert dispatch.claim_due_runs(now=datetime(2026, 12, 2, 7, 59, tzinfo=SHANGHAI)) == []
    page = viewer.get(reverse("campaign_progress", args=[campaign.pk])).content.decode()
    note = (
        f"Held back by the app&#x27;s quiet hours until {time_format(time(8, 0))} (Asia/Shanghai)."
    )
    assert note in page
    assert dispatch.claim_due_runs(now=datetime(2026, 12, 2, 8, 0, tzinfo=SHANGHAI)) == [run.id]


def test_a_sending_runs_calls_wait_during_quiet_hours_then_go() -> None:
    campaign = campaign_to(
        {"Europe/Berlin": 25}, recipient_local_time=False, schedule_mode=Mode.NOW
    )
    run = dispatch.first_run(campaign)
    assert run is not None
    assert dispatch.claim_due_runs() == [run.id]
    dispatch.plan(run.id)
    dispatch.send_claimed(dispatch.claim_dispatches(1), threads=1)  # one call made ...
    MobileApp.objects.filter(id=campaign.app_id).update(
        time_zone="Europe/Berlin", quiet_hours_start=time(22, 0), quiet_hours_end=time(8, 0)
    )
    # ... then the window starts (tick at 23:00 Berlin, some day after now).
    night = timezone.now().astimezone(BERLIN).replace(hour=23, minute=0, second=0, microsecond=0)
    night += timedelta(days=1)
    morning = (night + timedelta(days=1)).replace(hour=8)
    assert quiet_hours.hold_calls(now=night) == 2
    assert dispatch.claim_dispatches(now=night) == []
    assert dispatch.claim_dispatches(now=morning - timedelta(seconds=1)) == []
    assert quiet_hours.hold_calls(now=night + timedelta(hours=1)) == 0  # held once
    held = dispatch.claim_dispatches(now=morning)
    assert len(held) == 2
    dispatch.send_claimed(held, threads=1)
    run.refresh_from_db()
    assert (run.status, run.targets_sent) == (Run.COMPLETED, 25)
    assert len(ledger(campaign)) == len(set(ledger(campaign))) == 25


def test_tick_holds_calls_in_quiet_hours_and_wakes_no_sender(no_broker: list[str]) -> None:
    campaign = campaign_to({"": 15}, recipient_local_time=False, schedule_mode=Mode.NOW)
    run = dispatch.first_run(campaign)
    assert run is not None
    assert dispatch.claim_due_runs() == [run.id]
    dispatch.plan(run.id)
    # Quiet from an hour ago to an hour from now, on the app's clock (UTC here).
    now = timezone.now().astimezone(UTC).replace(microsecond=0)
    MobileApp.objects.filter(id=campaign.app_id).update(
        time_zone="UTC",
        quiet_hours_start=(now - timedelta(hours=1)).time(),
        quiet_hours_end=(now + timedelta(hours=1)).time(),
    )
    tasks.tick.apply()
    assert no_broker == []  # nothing can be sent: no sender is woken
    times = set(run.dispatches.values_list("next_attempt_at", flat=True))
    assert times == {now + timedelta(hours=1)}


def test_quiet_hours_in_recipients_zones_hold_each_zone_on_its_own() -> None:
    """At 15:00 UTC it is 23:00 in Shanghai (quiet), 16:00 in Berlin, 07:00 in Los Angeles
    (quiet): Berlin goes at once, Los Angeles at its 08:00, Shanghai at its 08:00."""
    campaign = campaign_to(
        {"Asia/Shanghai": 2, "Europe/Berlin": 2, "America/Los_Angeles": 2},
        app=quiet_app(zone=MobileApp.QuietHoursZone.RECIPIENT),
        recipient_local_time=False,
        schedule_mode=Mode.AT,
        send_at=datetime(2026, 12, 1, 15, 0, tzinfo=UTC),
    )
    dispatch.first_run(campaign, now=NOW)
    runs = {run.time_zone: run for run in campaign.runs.all()}
    assert {run.due_at for run in runs.values()} == {campaign.send_at}
    assert dispatch.claim_due_runs(now=campaign.send_at) == [runs["Europe/Berlin"].id]
    los_angeles_morning = datetime(2026, 12, 1, 8, 0, tzinfo=LOS_ANGELES)
    assert dispatch.claim_due_runs(now=los_angeles_morning) == [runs["America/Los_Angeles"].id]
    shanghai_morning = datetime(2026, 12, 2, 8, 0, tzinfo=SHANGHAI)
    assert dispatch.claim_due_runs(now=shanghai_morning) == [runs["Asia/Shanghai"].id]
    for run_id in (runs[zone].id for zone in runs):
        dispatch.plan(run_id)
    for zone, run in runs.items():
        assert set(planned_targets(run)) == {f"{zone}-0", f"{zone}-1"}


def test_quiet_hours_in_the_apps_zone_hold_everyone_together() -> None:
    campaign = campaign_to(
        {"Asia/Shanghai": 2, "Europe/Berlin": 2, "America/Los_Angeles": 2},
        app=quiet_app(zone=MobileApp.QuietHoursZone.APP),
        recipient_local_time=False,
        schedule_mode=Mode.AT,
        send_at=datetime(2026, 12, 1, 15, 0, tzinfo=UTC),
    )
    run = dispatch.first_run(campaign, now=NOW)
    assert run is not None
    assert campaign.runs.get() == run
    assert run.time_zone == ""  # one run to everyone
    assert dispatch.claim_due_runs(now=campaign.send_at) == []  # 23:00 in Shanghai
    assert dispatch.claim_due_runs(now=datetime(2026, 12, 1, 8, 0, tzinfo=LOS_ANGELES)) == []
    assert dispatch.claim_due_runs(now=datetime(2026, 12, 2, 8, 0, tzinfo=SHANGHAI)) == [run.id]
    dispatch.plan(run.id)
    run.refresh_from_db()
    assert run.targets == 6


def test_a_quiet_window_inside_one_day_holds_only_inside_it() -> None:
    app = quiet_app()
    app.quiet_hours_start, app.quiet_hours_end = time(12, 0), time(14, 0)
    assert (
        quiet_hours.quiet_until(app, SHANGHAI, datetime(2026, 12, 1, 11, 59, tzinfo=SHANGHAI))
        is None
    )
    assert quiet_hours.quiet_until(
        app, SHANGHAI, datetime(2026, 12, 1, 13, 0, tzinfo=SHANGHAI)
    ) == datetime(2026, 12, 1, 14, 0, tzinfo=SHANGHAI)
    assert (
        quiet_hours.quiet_until(app, SHANGHAI, datetime(2026, 12, 1, 14, 0, tzinfo=SHANGHAI))
        is None
    )


# -- provider-held schedules ----------------------------------------------------------------


def test_a_provider_held_schedule_is_created_at_the_provider_and_cancelled_there() -> None:
    send_at = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    campaign = campaign_to(
        {"": 25},
        status=Campaign.Status.DRAFT,
        recipient_local_time=False,
        schedule_holder=Campaign.ScheduleHolder.PROVIDER,
        schedule_mode=Mode.AT,
        send_at=send_at,
    )
    approval.schedule(campaign, make_user("sender", Role.MARKETER))
    run = campaign.runs.get()
    assert run.due_at <= timezone.now()  # the calls are made now; mPaaS waits
    assert dispatch.claim_due_runs() == [run.id]
    dispatch.plan(run.id)
    send_everything()
    client, app = mpaas_client(campaign.app), mpaas_app(campaign.app)
    window = {"start": send_at - timedelta(days=2), "end": send_at + timedelta(days=2)}
    held = client.schedules(app, **window)
    assert held["TotalCount"] == 3  # one scheduled task per call of 10 targets
    assert {row["PushTime"] for row in held["List"]} == {int(send_at.timestamp() * 1000)}
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING  # still cancellable until it is sent
    assert dispatch.finish_provider_held() == []
    changes = run_controls.cancel(campaign)
    assert changes["provider"] == [None, "3 provider schedules cancelled"]
    assert client.schedules(app, **window)["TotalCount"] == 0


def test_a_provider_held_campaign_completes_once_its_time_has_passed() -> None:
    send_at = (timezone.now() + timedelta(hours=2)).replace(microsecond=0)
    campaign = campaign_to(
        {"": 5},
        recipient_local_time=False,
        schedule_holder=Campaign.ScheduleHolder.PROVIDER,
        schedule_mode=Mode.AT,
        send_at=send_at,
    )
    run = dispatch.first_run(campaign)
    assert run is not None
    assert dispatch.claim_due_runs() == [run.id]
    dispatch.plan(run.id)
    send_everything()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING
    assert dispatch.finish_provider_held(now=send_at + timedelta(seconds=1)) == [campaign.id]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED
