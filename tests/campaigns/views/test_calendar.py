"""The calendar: sends on the days of a month or a week, in the user's time zone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignRun, MobileApp
from campaigns.send_calendar import send_time_on
from tests.factories import CampaignFactory, EmasAppFactory, MobileAppFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
Run = CampaignRun.Status
CAMPAIGN_LINK = re.compile(r"/campaigns/\d+/")


def month_ahead(months: int) -> date:
    """The first day of the month ``months`` from this one (negative: back)."""
    today = timezone.now().astimezone(SHANGHAI).date()
    index = today.year * 12 + today.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


FUTURE = month_ahead(2)
PAST = month_ahead(-2)


class DaysOnPage(HTMLParser):
    """The campaigns each day of the page links to: {"2026-03-11": ["Spring sale"]}."""

    def __init__(self) -> None:
        super().__init__()
        self.days: dict[str, list[str]] = {}
        self.day: str | None = None
        self.link: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("data-date"):
            self.day = found["data-date"]
            self.days.setdefault(str(self.day), [])
        if tag == "a" and self.day and CAMPAIGN_LINK.fullmatch(found.get("href") or ""):
            self.link = []

    def handle_data(self, data: str) -> None:
        if self.link is not None:
            self.link.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.link is not None and self.day:
            self.days[self.day].append("".join(self.link).strip())
            self.link = None


def calendar(client: Client, zone: str = "Asia/Shanghai", **params: str) -> str:
    client.cookies["pushdeck_tz"] = zone
    response = client.get(reverse("calendar"), params)
    assert response.status_code == 200
    return response.content.decode()


def days_of(html: str) -> dict[str, list[str]]:
    parser = DaysOnPage()
    parser.feed(html)
    return {day: names for day, names in parser.days.items() if names}


def on(day: date) -> str:
    return day.isoformat()


def scheduled_once(at: datetime, **fields: Any) -> Campaign:
    """A campaign Pushdeck sends once at ``at``, with its waiting run."""
    campaign = CampaignFactory.create(
        status=Campaign.Status.SCHEDULED, schedule_mode="at", send_at=at, **fields
    )
    CampaignRun.objects.create(campaign=campaign, due_at=at)
    return campaign


def test_a_one_off_send_shows_once_on_its_day_in_the_users_time_zone(viewer: Client) -> None:
    at = datetime.combine(FUTURE.replace(day=10), time(23, 30), tzinfo=UTC)
    scheduled_once(at, name="Night owl")
    in_shanghai = calendar(viewer, date=on(FUTURE))
    assert days_of(in_shanghai) == {on(FUTURE.replace(day=11)): ["Night owl"]}
    assert "07:30" in in_shanghai
    assert "times in Asia/Shanghai" in in_shanghai
    in_utc = calendar(viewer, "UTC", date=on(FUTURE))
    assert days_of(in_utc) == {on(FUTURE.replace(day=10)): ["Night owl"]}
    assert "23:30" in in_utc


def test_a_weekly_campaign_shows_on_each_of_its_weekdays_and_says_it_repeats(
    viewer: Client,
) -> None:
    CampaignFactory.create(
        name="Monday digest",
        status=Campaign.Status.SCHEDULED,
        schedule_mode="recurring",
        frequency="weekly",
        repeat_on=[1],
        time_of_day=time(9, 0),
        starts_on=FUTURE - timedelta(days=40),
        time_zone="Asia/Shanghai",
    )
    html = calendar(viewer, date=on(FUTURE))
    mondays = [
        FUTURE + timedelta(days=n)
        for n in range(31)
        if (FUTURE + timedelta(days=n)).month == FUTURE.month
        and (FUTURE + timedelta(days=n)).weekday() == 0
    ]
    assert days_of(html) == {on(day): ["Monday digest"] for day in mondays}
    assert "Repeats weekly" in html


def test_a_provider_held_send_shows_at_its_time_not_at_the_hand_over(viewer: Client) -> None:
    handed_over = datetime.combine(FUTURE.replace(day=3), time(10), tzinfo=SHANGHAI)
    send_at = datetime.combine(FUTURE.replace(day=20), time(20), tzinfo=SHANGHAI)
    held = CampaignFactory.create(
        name="Flash sale",
        app=EmasAppFactory.create(name="Shop EMAS"),
        kind=Campaign.Kind.EMAS,
        status=Campaign.Status.RUNNING,
        schedule_mode="at",
        send_at=send_at,
        schedule_holder="provider",
        first_sent_at=handed_over,
    )
    CampaignRun.objects.create(campaign=held, due_at=handed_over, status=Run.COMPLETED)
    html = calendar(viewer, date=on(handed_over.date()), view="week")
    assert days_of(html) == {}  # the hand-over call is no send
    html = calendar(viewer, date=on(send_at.date()), view="week")
    assert days_of(html) == {on(send_at.date()): ["Flash sale"]}
    assert "Shop EMAS · Held by EMAS" in html
    assert "20:00" in html


def test_past_runs_show_on_their_day_with_their_status(viewer: Client) -> None:
    sent = CampaignFactory.create(name="Spring sale", status=Campaign.Status.COMPLETED)
    day = PAST.replace(day=15)
    CampaignRun.objects.create(
        campaign=sent,
        due_at=datetime.combine(day, time(22, 0), tzinfo=UTC),
        status=Run.COMPLETED,
    )
    stopped = CampaignFactory.create(name="Stopped early", status=Campaign.Status.CANCELLED)
    CampaignRun.objects.create(
        campaign=stopped,
        due_at=datetime.combine(day, time(8, 0), tzinfo=SHANGHAI),
        status=Run.CANCELLED,
    )
    html = calendar(viewer, date=on(day), view="week")
    following = on(day + timedelta(days=1))
    assert days_of(html)[on(day)] == ["Stopped early"]
    assert days_of(html)[following] == ["Spring sale"]  # 22:00 UTC is 06:00 in Shanghai
    assert re.search(r"Spring sale</a> <span class=\"pill pill-ok\">Completed", html)
    assert re.search(r"Stopped early</a> <span class=\"pill pill-muted\">Cancelled", html)


def test_a_draft_with_a_time_is_shown_as_not_yet_approved(viewer: Client) -> None:
    at = datetime.combine(FUTURE.replace(day=5), time(12), tzinfo=SHANGHAI)
    CampaignFactory.create(
        name="Idea", status=Campaign.Status.DRAFT, schedule_mode="at", send_at=at
    )
    html = calendar(viewer, date=on(at.date()), view="week")
    assert days_of(html) == {on(at.date()): ["Idea"]}
    assert 'class="cal-item is-unapproved"' in html
    assert "Not yet approved" in html


def test_sends_in_recipients_local_time_are_one_entry_at_their_wall_clock_time(
    viewer: Client,
) -> None:
    campaign = CampaignFactory.create(
        name="Breakfast",
        status=Campaign.Status.SCHEDULED,
        schedule_mode="at",
        send_at=datetime.combine(FUTURE.replace(day=8), time(8), tzinfo=SHANGHAI),
        recipient_local_time=True,
    )
    for zone in ("Asia/Shanghai", "Europe/Berlin", "America/New_York"):
        due = datetime.combine(FUTURE.replace(day=8), time(8), tzinfo=ZoneInfo(zone))
        CampaignRun.objects.create(campaign=campaign, due_at=due, time_zone=zone)
    html = calendar(viewer, "America/Los_Angeles", date=on(FUTURE.replace(day=8)), view="week")
    assert days_of(html) == {on(FUTURE.replace(day=8)): ["Breakfast"]}
    assert "in 3 time zones" in html
    assert '08:00</time><span class="muted small">each recipient\'s time' in html


def test_the_week_view_lists_each_day_with_its_sends_by_time(viewer: Client) -> None:
    day = FUTURE.replace(day=12)
    for hour, name in ((18, "Evening"), (7, "Morning"), (12, "Noon")):
        scheduled_once(datetime.combine(day, time(hour), tzinfo=SHANGHAI), name=name)
    html = calendar(viewer, date=on(day), view="week")
    assert len(re.findall(r'<section class="card cal-week-day', html)) == 7
    assert days_of(html) == {on(day): ["Morning", "Noon", "Evening"]}
    assert "07:00" in html
    assert "18:00" in html


def test_a_busy_day_lists_a_few_and_links_to_its_week_for_the_rest(viewer: Client) -> None:
    day = FUTURE.replace(day=12)
    for n in range(6):
        scheduled_once(datetime.combine(day, time(8 + n), tzinfo=SHANGHAI), name=f"Sale {n}")
    html = calendar(viewer, date=on(day))
    assert days_of(html) == {on(day): [f"Sale {n}" for n in range(4)]}
    assert f'href="/calendar/?view=week&amp;date={on(day)}">2 more</a>' in html


def test_navigation_steps_a_month_or_a_week_and_comes_back_to_today(viewer: Client) -> None:
    html = calendar(viewer, date="2026-01-15")
    assert "January 2026" in html
    assert 'rel="prev" href="/calendar/?view=month&amp;date=2025-12-01"' in html
    assert 'rel="next" href="/calendar/?view=month&amp;date=2026-02-01"' in html
    assert 'href="/calendar/?view=month">Today</a>' in html
    assert "<caption>Sends in January 2026, times in Asia/Shanghai</caption>" in html
    week = calendar(viewer, date="2026-01-15", view="week")  # a Thursday; weeks start Sunday
    assert 'data-date="2026-01-11"' in week
    assert 'data-date="2026-01-17"' in week
    assert 'rel="prev" href="/calendar/?view=week&amp;date=2026-01-04"' in week
    assert 'rel="next" href="/calendar/?view=week&amp;date=2026-01-18"' in week


def test_the_month_grid_is_a_table_with_weekday_headers(viewer: Client) -> None:
    html = calendar(viewer, date="2026-02-10")
    heads = re.findall(r'<th scope="col"><abbr title="(\w+)">', html)
    assert heads == ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    assert len(re.findall(r'data-date="2026-02-\d\d"', html)) == 28


def test_a_date_that_is_no_date_shows_this_month(viewer: Client) -> None:
    today = timezone.now().astimezone(SHANGHAI).date()
    html = calendar(viewer, date="2026-02-30", view="year")
    assert f'data-date="{on(today)}"' in html
    assert 'aria-current="date"' in html


def test_composers_get_a_new_campaign_link_on_days_to_come(
    marketer: Client, viewer: Client
) -> None:
    html = calendar(marketer, date=on(FUTURE))
    assert f'href="/campaigns/new/?send_on={on(FUTURE.replace(day=20))}"' in html
    past = calendar(marketer, date=on(PAST))
    assert "send_on=" not in past
    assert "send_on=" not in calendar(viewer, date=on(FUTURE))


def test_an_empty_month_says_so_and_offers_to_compose(marketer: Client, viewer: Client) -> None:
    html = calendar(marketer, date=on(FUTURE))
    assert "Nothing is scheduled in this month." in html
    assert "Compose a campaign" in html
    assert "Compose a campaign" not in calendar(viewer, date=on(FUTURE))
    week = calendar(viewer, date=on(FUTURE), view="week")
    assert "Nothing is scheduled in this week." in week


def test_the_page_costs_a_few_queries_however_many_campaigns_and_runs(
    viewer: Client, django_assert_max_num_queries: Any
) -> None:
    apps = [MobileAppFactory.create(), EmasAppFactory.create()]
    for n in range(12):
        at = datetime.combine(FUTURE.replace(day=n + 1), time(9), tzinfo=SHANGHAI)
        scheduled_once(at, app=apps[0])
        CampaignFactory.create(
            app=apps[n % 2],
            kind=Campaign.Kind.EMAS if n % 2 else Campaign.Kind.SIMPLE,
            status=Campaign.Status.SCHEDULED,
            schedule_mode="recurring",
            frequency="daily",
            time_of_day=time(8 + n % 5),
            starts_on=FUTURE,
            recipient_local_time=bool(n % 3 == 0),
        )
        held = CampaignFactory.create(
            app=apps[0],
            status=Campaign.Status.RUNNING,
            schedule_mode="at",
            send_at=at + timedelta(hours=3),
            schedule_holder="provider",
            first_sent_at=timezone.now(),
        )
        CampaignRun.objects.create(campaign=held, due_at=timezone.now() + timedelta(seconds=n))
    viewer.cookies["pushdeck_tz"] = "Asia/Shanghai"
    with django_assert_max_num_queries(10):
        response = viewer.get(reverse("calendar"), {"date": on(FUTURE)})
    assert response.status_code == 200
    assert sum(len(names) for names in days_of(response.content.decode()).values()) > 100


def test_a_daily_campaign_has_one_send_a_day_in_a_month(viewer: Client) -> None:
    CampaignFactory.create(
        name="Daily",
        status=Campaign.Status.SCHEDULED,
        schedule_mode="recurring",
        frequency="daily",
        time_of_day=time(23, 59),
        starts_on=FUTURE - timedelta(days=3),
        time_zone="Asia/Shanghai",
    )
    found = days_of(calendar(viewer, date=on(FUTURE)))
    assert all(names == ["Daily"] for names in found.values())
    assert found.keys() == {
        on(FUTURE + timedelta(days=n))
        for n in range(31)
        if (FUTURE + timedelta(days=n)).month == FUTURE.month
    }


def test_outsiders_are_refused(outsider: Client) -> None:
    assert outsider.get(reverse("calendar")).status_code == 403


def test_the_navigation_links_to_the_calendar(viewer: Client) -> None:
    html = viewer.get(reverse("calendar")).content.decode()
    assert re.search(r'href="/calendar/" aria-current="page" data-nav="calendar"', html)


# -- a campaign started from a day -------------------------------------------------------------


def compose(client: Client, app: MobileApp, zone: str, **params: str) -> Any:
    client.cookies["pushdeck_tz"] = zone
    return client.get(reverse("campaign_create"), {"app": str(app.pk), "kind": "simple", **params})


def test_a_campaign_started_from_a_day_is_set_for_9_am_that_day(marketer: Client) -> None:
    app = MobileAppFactory.create(time_zone="Asia/Shanghai")
    day = FUTURE.replace(day=14)
    form = compose(marketer, app, "Asia/Shanghai", send_on=on(day)).context["form"]
    assert form["schedule_mode"].value() == "at"
    assert form["send_at"].value() == datetime.combine(day, time(9))
    assert form["time_zone"].value() == "Asia/Shanghai"


def test_the_day_s_9_am_is_the_users_shown_in_the_campaigns_time_zone(marketer: Client) -> None:
    app = MobileAppFactory.create(time_zone="Asia/Shanghai")
    day = FUTURE.replace(day=14)
    page = compose(marketer, app, "Europe/Berlin", send_on=on(day))
    form = page.context["form"]
    nine_in_berlin = datetime.combine(day, time(9), tzinfo=ZoneInfo("Europe/Berlin"))
    assert form["send_at"].value() == nine_in_berlin.astimezone(SHANGHAI).replace(tzinfo=None)
    assert form["time_zone"].value() == "Asia/Shanghai"


@pytest.mark.parametrize("send_on", ["2027-02-30", "tomorrow", "20270214", ""])
def test_a_day_that_is_no_date_is_ignored(marketer: Client, send_on: str) -> None:
    app = MobileAppFactory.create()
    form = compose(marketer, app, "Asia/Shanghai", send_on=send_on).context["form"]
    assert form["schedule_mode"].value() == "now"
    assert form["send_at"].value() is None


def test_a_day_that_is_over_is_ignored(marketer: Client) -> None:
    app = MobileAppFactory.create()
    form = compose(marketer, app, "Asia/Shanghai", send_on=on(PAST)).context["form"]
    assert form["schedule_mode"].value() == "now"


def test_the_kind_chooser_keeps_the_day(marketer: Client) -> None:
    MobileAppFactory.create()
    marketer.cookies["pushdeck_tz"] = "Asia/Shanghai"
    page = marketer.get(reverse("campaign_create"), {"send_on": on(FUTURE)}).content.decode()
    assert f'<input type="hidden" name="send_on" value="{on(FUTURE)}">' in page
    page = marketer.get(reverse("campaign_create"), {"send_on": on(PAST)}).content.decode()
    assert 'name="send_on"' not in page


def test_a_day_already_past_9_am_starts_at_its_next_whole_hour() -> None:
    day = date(2026, 3, 10)
    morning = datetime(2026, 3, 10, 7, 0, tzinfo=SHANGHAI)
    assert send_time_on(day, zone=SHANGHAI, now=morning) == datetime(
        2026, 3, 10, 9, 0, tzinfo=SHANGHAI
    )
    afternoon = datetime(2026, 3, 10, 14, 20, tzinfo=SHANGHAI)
    assert send_time_on(day, zone=SHANGHAI, now=afternoon) == datetime(
        2026, 3, 10, 15, 0, tzinfo=SHANGHAI
    )
    late = datetime(2026, 3, 10, 23, 10, tzinfo=SHANGHAI)
    assert send_time_on(day, zone=SHANGHAI, now=late) is None


def test_a_date_out_of_reach_shows_this_month(viewer: Client) -> None:
    today = timezone.now().astimezone(SHANGHAI).date()
    html = calendar(viewer, date="9999-12-31")
    assert f'data-date="{on(today)}"' in html
