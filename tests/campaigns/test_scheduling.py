"""Schedules: when a campaign is sent (across daylight-saving changes too), how the composer
says it, which schedules Pushdeck refuses, and what a provider-held schedule hands over."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.formats import date_format, time_format

from campaigns.campaign_requests import Recipient, build_requests
from campaigns.models import Campaign
from campaigns.providers.mpaas_options import CircleType, StrategyType
from campaigns.scheduling import (
    check_schedule,
    describe,
    emas_push_time,
    mpaas_strategy,
    occurrences,
    pending_provider_schedules,
    schedule_context,
)
from tests.factories import CampaignFactory, MobileAppFactory

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def recurring(**fields: Any) -> Campaign:
    """An unsaved campaign sent daily at 09:30 in Shanghai through December 2026."""
    defaults: dict[str, Any] = {
        "kind": Campaign.Kind.SIMPLE,
        "schedule_mode": Campaign.ScheduleMode.RECURRING,
        "frequency": Campaign.Frequency.DAILY,
        "time_of_day": time(9, 30),
        "starts_on": date(2026, 12, 1),
        "ends_on": date(2026, 12, 31),
        "time_zone": "Asia/Shanghai",
    }
    return Campaign(**(defaults | fields))


def once(send_at: datetime | None, **fields: Any) -> Campaign:
    return Campaign(
        kind=fields.pop("kind", Campaign.Kind.SIMPLE),
        schedule_mode=Campaign.ScheduleMode.AT,
        send_at=send_at,
        time_zone="Asia/Shanghai",
        **fields,
    )


def walls(moments: list[datetime]) -> list[str]:
    """Each moment as the wall clock of its own zone, with the zone's abbreviation."""
    return [moment.strftime("%Y-%m-%d %H:%M %Z") for moment in moments]


# -- occurrences -----------------------------------------------------------------------------


def test_a_daily_schedule_sends_each_day_at_its_time_in_the_campaign_zone() -> None:
    sends = occurrences(recurring(), after=NOW, limit=3)
    assert sends == [datetime(2026, 12, day, 9, 30, tzinfo=SHANGHAI) for day in (1, 2, 3)]
    assert all(send.tzinfo == SHANGHAI for send in sends)


def test_occurrences_start_strictly_after_the_given_moment() -> None:
    campaign = recurring()
    sent = datetime(2026, 12, 5, 9, 30, tzinfo=SHANGHAI)
    assert occurrences(campaign, after=sent, limit=1) == [sent + timedelta(days=1)]
    just_before = sent - timedelta(seconds=1)
    assert occurrences(campaign, after=just_before, limit=1) == [sent]


def test_a_weekly_schedule_sends_on_its_chosen_weekdays() -> None:
    campaign = recurring(frequency=Campaign.Frequency.WEEKLY, repeat_on=[4, 1])
    assert walls(occurrences(campaign, after=NOW, limit=4)) == [
        "2026-12-03 09:30 CST",  # Thursday
        "2026-12-07 09:30 CST",  # Monday
        "2026-12-10 09:30 CST",
        "2026-12-14 09:30 CST",
    ]


def test_a_monthly_schedule_on_the_31st_skips_months_without_one() -> None:
    campaign = recurring(
        frequency=Campaign.Frequency.MONTHLY,
        repeat_on=[31],
        starts_on=date(2027, 1, 1),
        ends_on=date(2027, 12, 31),
    )
    sends = occurrences(campaign, after=NOW, limit=10)
    assert [send.month for send in sends] == [1, 3, 5, 7, 8, 10, 12]
    assert {send.day for send in sends} == {31}


def test_a_monthly_schedule_sends_its_dates_in_order() -> None:
    campaign = recurring(frequency=Campaign.Frequency.MONTHLY, repeat_on=[31, 1, 15])
    assert [send.day for send in occurrences(campaign, after=NOW, limit=5)] == [1, 15, 31]


def test_a_schedule_sends_from_its_first_day_to_its_last_day_inclusive() -> None:
    campaign = recurring(starts_on=date(2026, 12, 30), ends_on=date(2026, 12, 31))
    assert walls(occurrences(campaign, after=NOW, limit=5)) == [
        "2026-12-30 09:30 CST",
        "2026-12-31 09:30 CST",
    ]
    after_the_end = datetime(2026, 12, 31, 9, 30, tzinfo=SHANGHAI)
    assert occurrences(campaign, after=after_the_end, limit=5) == []


def test_a_schedule_without_a_last_day_goes_on() -> None:
    campaign = recurring(ends_on=None)
    assert len(occurrences(campaign, after=datetime(2030, 1, 1, tzinfo=UTC), limit=5)) == 5


def test_occurrences_stop_at_the_limit() -> None:
    assert len(occurrences(recurring(), after=NOW, limit=5)) == 5
    assert occurrences(recurring(), after=NOW, limit=0) == []


def test_a_daily_send_stays_at_its_local_time_when_berlin_springs_forward() -> None:
    campaign = recurring(
        time_zone="Europe/Berlin",
        time_of_day=time(9, 0),
        starts_on=date(2027, 3, 27),
        ends_on=date(2027, 3, 29),
    )
    sends = occurrences(campaign, after=NOW, limit=5)
    assert walls(sends) == [
        "2027-03-27 09:00 CET",
        "2027-03-28 09:00 CEST",
        "2027-03-29 09:00 CEST",
    ]
    assert [send.astimezone(UTC).hour for send in sends] == [8, 7, 7]
    # Two aware times of one zone subtract as wall times; the instants are 23 hours apart.
    assert sends[1].astimezone(UTC) - sends[0].astimezone(UTC) == timedelta(hours=23)


def test_a_daily_send_stays_at_its_local_time_when_berlin_falls_back() -> None:
    campaign = recurring(
        time_zone="Europe/Berlin",
        time_of_day=time(9, 0),
        starts_on=date(2027, 10, 30),
        ends_on=date(2027, 11, 1),
    )
    sends = occurrences(campaign, after=NOW, limit=5)
    assert walls(sends) == [
        "2027-10-30 09:00 CEST",
        "2027-10-31 09:00 CET",
        "2027-11-01 09:00 CET",
    ]
    assert sends[1].astimezone(UTC) - sends[0].astimezone(UTC) == timedelta(hours=25)


def test_a_time_in_berlins_spring_gap_moves_forward_by_the_gap() -> None:
    campaign = recurring(
        time_zone="Europe/Berlin",
        time_of_day=time(2, 30),
        starts_on=date(2027, 3, 27),
        ends_on=date(2027, 3, 29),
    )
    assert walls(occurrences(campaign, after=NOW, limit=5)) == [
        "2027-03-27 02:30 CET",
        "2027-03-28 03:30 CEST",  # 02:30 never happens that night
        "2027-03-29 02:30 CEST",
    ]


def test_new_york_gap_and_repeated_hour_each_send_once() -> None:
    spring = recurring(
        time_zone="America/New_York",
        time_of_day=time(2, 30),
        starts_on=date(2027, 3, 13),
        ends_on=date(2027, 3, 15),
    )
    assert walls(occurrences(spring, after=NOW, limit=5)) == [
        "2027-03-13 02:30 EST",
        "2027-03-14 03:30 EDT",
        "2027-03-15 02:30 EDT",
    ]
    autumn = recurring(
        time_zone="America/New_York",
        time_of_day=time(1, 30),
        starts_on=date(2027, 11, 6),
        ends_on=date(2027, 11, 8),
    )
    assert walls(occurrences(autumn, after=NOW, limit=5)) == [
        "2027-11-06 01:30 EDT",
        "2027-11-07 01:30 EDT",  # 01:30 happens twice that night: the first one
        "2027-11-08 01:30 EST",
    ]


def test_a_send_just_after_a_gap_is_found_from_inside_the_gap() -> None:
    campaign = recurring(
        time_zone="America/New_York",
        time_of_day=time(2, 30),
        starts_on=date(2027, 3, 1),
        ends_on=date(2027, 3, 31),
    )
    just_before = datetime(2027, 3, 14, 3, 0, tzinfo=NEW_YORK)  # 03:00 EDT
    assert walls(occurrences(campaign, after=just_before, limit=1)) == ["2027-03-14 03:30 EDT"]


@pytest.mark.parametrize("zone_name", ["Europe/Berlin", "America/New_York", "Asia/Shanghai"])
def test_a_year_of_daily_sends_keeps_its_wall_time_and_moves_forward(zone_name: str) -> None:
    campaign = recurring(
        time_zone=zone_name,
        time_of_day=time(9, 0),
        starts_on=date(2027, 1, 1),
        ends_on=date(2027, 12, 31),
    )
    sends = occurrences(campaign, after=NOW, limit=400)
    assert len(sends) == 365
    assert {send.time() for send in sends} == {time(9, 0)}
    instants = [send.astimezone(UTC) for send in sends]
    assert all(later - earlier >= timedelta(hours=23) for earlier, later in pairwise(instants))


def test_a_one_off_send_is_its_only_occurrence_until_it_passes() -> None:
    send_at = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    campaign = once(send_at)
    assert walls(occurrences(campaign, after=NOW, limit=5)) == ["2026-11-24 10:00 CST"]
    assert occurrences(campaign, after=send_at, limit=5) == []


@pytest.mark.parametrize(
    "campaign",
    [
        Campaign(schedule_mode=Campaign.ScheduleMode.NOW),
        once(None),
        recurring(frequency=""),
        recurring(time_of_day=None),
        recurring(starts_on=None),
        recurring(frequency=Campaign.Frequency.WEEKLY, repeat_on=[]),
        recurring(frequency=Campaign.Frequency.MONTHLY, repeat_on=[0, 32]),
    ],
    ids=["now", "at-unset", "no-frequency", "no-time", "no-start", "no-days", "bad-dates"],
)
def test_send_now_and_incomplete_schedules_have_no_occurrences(campaign: Campaign) -> None:
    assert occurrences(campaign, after=NOW, limit=5) == []


# -- summary ---------------------------------------------------------------------------------


def test_a_weekly_summary_names_its_days_time_zone_period_and_holder() -> None:
    campaign = recurring(
        frequency=Campaign.Frequency.WEEKLY,
        repeat_on=[4, 1],
        ends_on=date(2027, 2, 28),
    )
    summary = describe(campaign)
    assert summary.startswith("Every Monday and Thursday at ")
    for piece in (
        time_format(time(9, 30), "TIME_FORMAT"),
        "(Asia/Shanghai)",
        date_format(date(2026, 12, 1), "DATE_FORMAT"),
        date_format(date(2027, 2, 28), "DATE_FORMAT"),
        "kept by Pushdeck",
    ):
        assert piece in summary


def test_a_one_off_summary_gives_the_date_and_time_in_the_campaign_zone() -> None:
    campaign = once(
        datetime(2026, 11, 24, 2, 0, tzinfo=UTC),
        schedule_holder=Campaign.ScheduleHolder.PROVIDER,
    )
    summary = describe(campaign)
    assert summary.startswith("Once, on ")
    assert date_format(date(2026, 11, 24), "DATE_FORMAT") in summary
    assert time_format(time(10, 0), "TIME_FORMAT") in summary
    assert summary.endswith("(Asia/Shanghai), kept by mPaaS.")


def test_a_summary_names_emas_when_it_holds_the_send() -> None:
    campaign = once(
        datetime(2026, 11, 24, 2, 0, tzinfo=UTC),
        kind=Campaign.Kind.EMAS,
        schedule_holder=Campaign.ScheduleHolder.PROVIDER,
    )
    assert describe(campaign).endswith("kept by EMAS.")


def test_a_summary_in_recipients_local_time_says_so_instead_of_a_zone() -> None:
    summary = describe(recurring(recipient_local_time=True))
    assert summary.startswith("Every day at ")
    assert "in each recipient's local time" in summary
    assert "Asia/Shanghai" not in summary


def test_a_monthly_summary_warns_which_dates_some_months_lack() -> None:
    summary = describe(recurring(frequency=Campaign.Frequency.MONTHLY, repeat_on=[1, 30, 31]))
    assert summary.startswith("Every month on days 1, 30 and 31 at ")
    assert summary.endswith("Days 30 and 31 are skipped in months that do not have them.")
    single = describe(recurring(frequency=Campaign.Frequency.MONTHLY, repeat_on=[31]))
    assert "Every month on day 31 at " in single
    assert single.endswith("Day 31 is skipped in months that do not have it.")


def test_summaries_of_now_and_incomplete_schedules_say_what_they_are() -> None:
    assert describe(Campaign()) == "Once, as soon as it is scheduled."
    assert describe(once(None)) == "Once; no send time chosen yet."
    assert describe(recurring(time_of_day=None)) == "Repeatedly; the schedule is not complete yet."


def test_a_summary_without_a_last_day_says_from_when() -> None:
    summary = describe(recurring(ends_on=None))
    assert f"from {date_format(date(2026, 12, 1), 'DATE_FORMAT')}, kept" in summary


def test_a_summary_uses_the_active_languages_date_format() -> None:
    with translation.override("zh-hans"):
        summary = describe(recurring())
    assert "2026年12月1日" in summary


# -- the partial -----------------------------------------------------------------------------


def test_the_partial_lists_the_next_five_sends_in_the_campaign_zone() -> None:
    campaign = recurring(
        time_zone="Europe/Berlin", starts_on=date(2027, 3, 26), ends_on=date(2027, 4, 30)
    )
    html = render_to_string(
        "campaigns/_campaign_schedule.html", schedule_context(campaign, now=NOW)
    )
    assert describe(campaign) in html
    assert "Europe/Berlin" in html
    assert html.count("<time ") == 5
    assert '<time datetime="2027-03-27T09:30:00+01:00">' in html
    assert '<time datetime="2027-03-28T09:30:00+02:00">' in html
    assert "CEST</time>" in html


def test_the_partial_shows_no_list_without_sends_ahead() -> None:
    html = render_to_string(
        "campaigns/_campaign_schedule.html", schedule_context(Campaign(), now=NOW)
    )
    assert "Once, as soon as it is scheduled." in html
    assert "<time" not in html


# -- Pushdeck's schedule rules ---------------------------------------------------------------

FUTURE = NOW + timedelta(days=1)


def provider_held(campaign: Campaign, kind: str = Campaign.Kind.SIMPLE) -> Campaign:
    campaign.schedule_holder = Campaign.ScheduleHolder.PROVIDER
    campaign.kind = kind
    return campaign


BROKEN: list[tuple[str, Campaign, str, str]] = [
    ("at-unset", once(None), "send_at", "Choose the date and time"),
    ("at-past", once(NOW - timedelta(minutes=1)), "send_at", "The send time has passed"),
    ("at-now", once(NOW), "send_at", "The send time has passed"),
    ("no-frequency", recurring(frequency=""), "frequency", "daily, weekly or monthly"),
    ("no-time", recurring(time_of_day=None), "time_of_day", "time of day"),
    ("no-start", recurring(starts_on=None), "starts_on", "first day"),
    ("no-end", recurring(ends_on=None), "ends_on", "last day"),
    (
        "end-before-start",
        recurring(ends_on=date(2026, 11, 30)),
        "ends_on",
        "cannot be before the first day",
    ),
    (
        "no-weekdays",
        recurring(frequency=Campaign.Frequency.WEEKLY, repeat_on=[]),
        "repeat_on",
        "days of the week",
    ),
    (
        "weekday-8",
        recurring(frequency=Campaign.Frequency.WEEKLY, repeat_on=[1, 8]),
        "repeat_on",
        "1 (Monday) to 7 (Sunday)",
    ),
    (
        "weekday-0",
        recurring(frequency=Campaign.Frequency.WEEKLY, repeat_on=[0]),
        "repeat_on",
        "1 (Monday) to 7 (Sunday)",
    ),
    (
        "no-dates",
        recurring(frequency=Campaign.Frequency.MONTHLY, repeat_on=[]),
        "repeat_on",
        "dates of the month",
    ),
    (
        "date-32",
        recurring(frequency=Campaign.Frequency.MONTHLY, repeat_on=[32]),
        "repeat_on",
        "from 1 to 31",
    ),
    (
        "date-text",
        recurring(frequency=Campaign.Frequency.MONTHLY, repeat_on=["1"]),
        "repeat_on",
        "from 1 to 31",
    ),
    (
        "no-send-left",
        recurring(starts_on=date(2026, 11, 1), ends_on=date(2026, 11, 20)),
        "ends_on",
        "No send time is left",
    ),
    (
        "no-31st-in-period",
        recurring(
            frequency=Campaign.Frequency.MONTHLY,
            repeat_on=[31],
            starts_on=date(2027, 2, 1),
            ends_on=date(2027, 2, 28),
        ),
        "ends_on",
        "No send time is left",
    ),
    (
        "provider-local-time",
        provider_held(once(FUTURE, recipient_local_time=True)),
        "recipient_local_time",
        "not in each recipient's local time",
    ),
    (
        "emas-recurring",
        provider_held(recurring(), kind=Campaign.Kind.EMAS),
        "schedule_holder",
        "EMAS holds single send times only; let Pushdeck keep the recurrence.",
    ),
]


@pytest.mark.parametrize(
    ("campaign", "field", "rule"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_each_schedule_rule_is_named_beside_its_field(
    campaign: Campaign, field: str, rule: str
) -> None:
    errors = check_schedule(campaign, now=NOW, pending_provider_schedules=0)
    assert [error for error in errors if error[0] == field and rule in error[1]], errors


def test_mpaas_refuses_to_hold_a_101st_pending_schedule() -> None:
    campaign = provider_held(recurring())
    assert check_schedule(campaign, now=NOW, pending_provider_schedules=99) == []
    assert check_schedule(campaign, now=NOW, pending_provider_schedules=100) == [
        (
            "schedule_holder",
            "mPaaS holds at most 100 pending scheduled pushes per app; this app has 100 and "
            "this campaign needs 1. Let Pushdeck keep this schedule.",
        )
    ]


def test_each_call_of_a_provider_held_campaign_is_one_pending_schedule() -> None:
    campaign = provider_held(recurring())
    assert check_schedule(campaign, now=NOW, pending_provider_schedules=90, calls=10) == []
    [(field, rule)] = check_schedule(campaign, now=NOW, pending_provider_schedules=90, calls=11)
    assert field == "schedule_holder"
    assert "this app has 90 and this campaign needs 11" in rule


def test_mpaas_reads_a_recurring_time_in_china_time() -> None:
    campaign = provider_held(recurring(time_zone="Europe/Berlin"))
    [(field, rule)] = check_schedule(campaign, now=NOW, pending_provider_schedules=0)
    assert field == "time_zone"
    assert "China time (Asia/Shanghai)" in rule


HOLDING: list[tuple[str, Campaign]] = [
    ("now", Campaign(schedule_mode=Campaign.ScheduleMode.NOW)),
    ("now-provider-full", provider_held(Campaign(schedule_mode=Campaign.ScheduleMode.NOW))),
    ("at-future", once(FUTURE)),
    ("at-future-local-time", once(FUTURE, recipient_local_time=True)),
    ("daily", recurring()),
    ("daily-started", recurring(starts_on=date(2026, 11, 1))),
    ("one-day", recurring(starts_on=date(2026, 12, 1), ends_on=date(2026, 12, 1))),
    ("weekly", recurring(frequency=Campaign.Frequency.WEEKLY, repeat_on=[1, 7])),
    ("monthly", recurring(frequency=Campaign.Frequency.MONTHLY, repeat_on=[1, 31])),
    ("local-time", recurring(recipient_local_time=True)),
    ("emas-once", provider_held(once(FUTURE), kind=Campaign.Kind.EMAS)),
]


@pytest.mark.parametrize("campaign", [case[1] for case in HOLDING], ids=[c[0] for c in HOLDING])
def test_schedules_that_keep_the_rules_pass_silently(campaign: Campaign) -> None:
    # 100 pending: only an mPaaS provider-held schedule would be refused for it.
    assert check_schedule(campaign, now=NOW, pending_provider_schedules=100) == []


@pytest.mark.django_db
def test_pending_provider_schedules_counts_waiting_provider_held_campaigns(
    django_assert_num_queries: Any,
) -> None:
    app = MobileAppFactory.create()
    held = {"schedule_holder": Campaign.ScheduleHolder.PROVIDER, "app": app}
    for status in (Campaign.Status.SCHEDULED, Campaign.Status.RUNNING, Campaign.Status.PAUSED):
        CampaignFactory.create(status=status, schedule_mode=Campaign.ScheduleMode.AT, **held)
    CampaignFactory.create(
        status=Campaign.Status.SCHEDULED, schedule_mode=Campaign.ScheduleMode.RECURRING, **held
    )
    # Not waiting at the provider: sent now, held by Pushdeck, finished, not yet scheduled,
    # or another app's.
    CampaignFactory.create(
        status=Campaign.Status.SCHEDULED, schedule_mode=Campaign.ScheduleMode.NOW, **held
    )
    CampaignFactory.create(
        app=app, status=Campaign.Status.SCHEDULED, schedule_mode=Campaign.ScheduleMode.AT
    )
    for status in (Campaign.Status.COMPLETED, Campaign.Status.CANCELLED, Campaign.Status.DRAFT):
        CampaignFactory.create(status=status, schedule_mode=Campaign.ScheduleMode.AT, **held)
    CampaignFactory.create(
        status=Campaign.Status.SCHEDULED,
        schedule_mode=Campaign.ScheduleMode.AT,
        schedule_holder=Campaign.ScheduleHolder.PROVIDER,
    )
    with django_assert_num_queries(1):
        assert pending_provider_schedules(app) == 4


# -- provider-held schedules -----------------------------------------------------------------


def test_pushdeck_held_schedules_are_sent_immediately_by_the_provider() -> None:
    for campaign in (once(FUTURE), recurring(), provider_held(Campaign())):
        assert mpaas_strategy(campaign).type is StrategyType.IMMEDIATE
        assert emas_push_time(campaign) is None


def test_a_provider_held_one_off_send_becomes_a_scheduled_strategy_and_push_time() -> None:
    campaign = provider_held(once(FUTURE))
    strategy = mpaas_strategy(campaign)
    assert strategy.type is StrategyType.SCHEDULED
    assert strategy.fixed_time == FUTURE
    assert emas_push_time(provider_held(once(FUTURE), kind=Campaign.Kind.EMAS)) == FUTURE


def test_a_provider_held_recurrence_becomes_a_recurring_strategy() -> None:
    campaign = provider_held(recurring(frequency=Campaign.Frequency.WEEKLY, repeat_on=[1, 4]))
    strategy = mpaas_strategy(campaign)
    assert strategy.type is StrategyType.RECURRING
    assert strategy.circle_type is CircleType.WEEKLY
    assert strategy.circle_values == (1, 4)
    assert strategy.time == "09:30:00"
    assert strategy.start == datetime(2026, 12, 1, tzinfo=SHANGHAI)
    assert strategy.end == datetime(2026, 12, 31, tzinfo=SHANGHAI)
    assert emas_push_time(campaign) is None


@pytest.mark.django_db
def test_the_mpaas_builder_accepts_a_provider_held_monthly_recurrence() -> None:
    campaign = CampaignFactory.create(
        schedule_holder=Campaign.ScheduleHolder.PROVIDER,
        schedule_mode=Campaign.ScheduleMode.RECURRING,
        frequency=Campaign.Frequency.MONTHLY,
        repeat_on=[1, 15],
        time_of_day=time(9, 30),
        starts_on=date(2026, 12, 1),
        ends_on=date(2027, 2, 28),
        time_zone="Asia/Shanghai",
    )
    assert check_schedule(campaign, now=NOW, pending_provider_schedules=0) == []
    [request] = build_requests(campaign, [Recipient("user-1")], ["k1"], now=NOW)
    assert request.params["StrategyType"] == "2"
    assert json.loads(request.params["StrategyContent"]) == {
        "startTime": int(datetime(2026, 12, 1, tzinfo=SHANGHAI).timestamp() * 1000),
        "endTime": int(datetime(2027, 2, 28, tzinfo=SHANGHAI).timestamp() * 1000),
        "circleType": 3,
        "circleValue": [1, 15],
        "time": "09:30:00",
    }
