"""The history: campaigns that went out, with their key figures, filtered, paged, totalled
per month and exported, for product owners (viewers)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, MobileApp
from tests.factories import CampaignFactory, EmasAppFactory, MobileAppFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def reader_in_shanghai(viewer: Client) -> None:
    """The browser reports its zone in a cookie (static/js/console.js)."""
    viewer.cookies["pushdeck_tz"] = "Asia/Shanghai"


SHANGHAI = ZoneInfo("Asia/Shanghai")  # the console's time zone in the tests


def went_out(
    name: str,
    at: datetime,
    *,
    targets: int = 1000,
    arrived: int = 900,
    opened: int = 90,
    **kw: Any,
) -> Campaign:
    return CampaignFactory.create(
        name=name,
        status=kw.pop("status", Campaign.Status.COMPLETED),
        first_sent_at=at,
        total_targets=targets,
        total_accepted=targets,
        total_arrived=arrived,
        total_opened=opened,
        results_at=at + timedelta(hours=1),
        **kw,
    )


def names(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [campaign.name for campaign in response.context["page"].campaigns]


def this_month_at(day: int, hour: int) -> datetime:
    today = timezone.now().astimezone(SHANGHAI)
    return today.replace(day=day, hour=hour, minute=0, second=0, microsecond=0)


def test_it_lists_what_went_out_newest_first_with_key_figures(viewer: Client) -> None:
    went_out("Older", this_month_at(1, 10), arrived=500, opened=100)
    went_out("Newer", this_month_at(2, 10))
    CampaignFactory.create(name="Still a draft")
    response = viewer.get(reverse("history"))
    assert response.status_code == 200
    assert names(response) == ["Newer", "Older"]
    page = response.content.decode()
    assert "Still a draft" not in page
    assert "20%" in page  # Older's open rate: 100 of 500 arrived
    assert "CST" in page  # times in the reader's zone, named


def test_the_month_filter_keeps_that_month_in_the_readers_time_zone(viewer: Client) -> None:
    # 23:30 UTC on the last day of a month is already the next month in Shanghai.
    may_in_shanghai = datetime(2026, 4, 30, 23, 30, tzinfo=ZoneInfo("UTC"))
    went_out("Early May in Shanghai", may_in_shanghai)
    went_out("April", datetime(2026, 4, 15, 3, 0, tzinfo=SHANGHAI))
    response = viewer.get(reverse("history"), {"month": "2026-05"})
    assert names(response) == ["Early May in Shanghai"]
    response = viewer.get(reverse("history"), {"month": "2026-04"})
    assert names(response) == ["April"]


def test_filters_by_app_provider_kind_status_and_owner(viewer: Client) -> None:
    shop = MobileAppFactory.create(name="Shop")
    news = EmasAppFactory.create(name="News")
    at = this_month_at(1, 9)
    went_out("Shop simple", at, app=shop)
    went_out("News push", at, app=news, kind=Campaign.Kind.EMAS)
    went_out("Shop cancelled", at, app=shop, status=Campaign.Status.CANCELLED)
    url = reverse("history")
    # Sent at the same time: the later campaign first.
    assert names(viewer.get(url, {"app": shop.pk})) == ["Shop cancelled", "Shop simple"]
    assert names(viewer.get(url, {"provider": MobileApp.Provider.EMAS})) == ["News push"]
    assert names(viewer.get(url, {"kind": Campaign.Kind.EMAS})) == ["News push"]
    assert names(viewer.get(url, {"status": "cancelled"})) == ["Shop cancelled"]
    assert names(viewer.get(url, {"owner": "nobody"})) == []


def test_a_bad_month_is_named_and_the_rest_of_the_page_still_works(viewer: Client) -> None:
    went_out("Kept", this_month_at(1, 9))
    response = viewer.get(reverse("history"), {"month": "May 2026"})
    assert response.status_code == 200
    assert "Give the month as year and month, for example 2026-05." in response.content.decode()
    assert names(response) == ["Kept"]  # the bad filter leaves out only itself


def test_totals_per_month_add_up_the_campaigns_of_each_month(viewer: Client) -> None:
    went_out("A", datetime(2026, 3, 5, 9, tzinfo=SHANGHAI), targets=100, arrived=80, opened=8)
    went_out("B", datetime(2026, 3, 20, 9, tzinfo=SHANGHAI), targets=200, arrived=120, opened=30)
    went_out("C", datetime(2026, 5, 1, 9, tzinfo=SHANGHAI), targets=50, arrived=50, opened=5)
    response = viewer.get(reverse("history"), {"sent_from": "2026-03-01", "sent_to": "2026-05-31"})
    months = {m.month.strftime("%Y-%m"): m for m in response.context["totals"].months}
    assert list(months) == ["2026-03", "2026-04", "2026-05"]
    march = months["2026-03"]
    assert (march.campaigns, march.targets, march.arrived, march.opened) == (2, 300, 200, 38)
    assert march.open_rate == pytest.approx(38 / 200)
    assert months["2026-04"].campaigns == 0
    overall = response.context["totals"].overall
    assert (overall.campaigns, overall.targets, overall.opened) == (3, 350, 43)


def test_without_dates_the_totals_cover_the_last_12_months(viewer: Client) -> None:
    went_out("Recent", timezone.now() - timedelta(days=10))
    went_out("Two years ago", timezone.now() - timedelta(days=730))
    response = viewer.get(reverse("history"))
    totals = response.context["totals"]
    assert totals.defaulted
    assert len(totals.months) == 12  # this month and the 11 before
    assert totals.overall.campaigns == 1
    assert names(response) == ["Recent", "Two years ago"]  # the list is not bounded


def test_pages_follow_each_other_without_gaps_or_repeats(viewer: Client) -> None:
    start = timezone.now() - timedelta(days=60)
    for n in range(60):
        went_out(f"C{n:02}", start + timedelta(hours=n))
    url = reverse("history")
    seen: list[str] = []
    response = viewer.get(url)
    while True:
        seen += names(response)
        cursor = response.context["page"].next_cursor
        if cursor is None:
            break
        response = viewer.get(url, {"after": cursor})
    assert seen == [f"C{n:02}" for n in reversed(range(60))]


def test_the_page_costs_the_same_few_queries_however_many_campaigns(
    viewer: Client, django_assert_max_num_queries: Any
) -> None:
    apps = [MobileAppFactory.create(name=f"App {n}") for n in range(3)]
    for n in range(30):
        went_out(f"C{n}", timezone.now() - timedelta(days=n), app=apps[n % 3])
    viewer.get(reverse("history"))  # the session is set up
    with django_assert_max_num_queries(10):
        response = viewer.get(reverse("history"), {"provider": "mpaas"})
    assert len(names(response)) == 25


def test_the_export_streams_every_filtered_campaign_with_its_figures(viewer: Client) -> None:
    went_out("春季促销", this_month_at(1, 9), targets=1000, arrived=800, opened=200)
    went_out("Other app", this_month_at(1, 10), app=EmasAppFactory.create(), kind="emas")
    response = viewer.get(reverse("history_export"), {"provider": "mpaas"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8")  # type: ignore[attr-defined]
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][7] == "First sent (Asia/Shanghai)"
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Name"] == "春季促销"
    assert (row["Targets"], row["Arrived"], row["Opened"], row["Open rate"]) == (
        "1000",
        "800",
        "200",
        "0.2500",
    )


def test_an_empty_history_says_nothing_went_out_yet(viewer: Client) -> None:
    page = viewer.get(reverse("history")).content.decode()
    assert "Nothing has gone out yet" in page
    filtered = viewer.get(reverse("history"), {"status": "failed"}).content.decode()
    assert "No campaign that went out matches these filters" in filtered


def test_outsiders_may_not_read_the_history(outsider: Client) -> None:
    assert outsider.get(reverse("history")).status_code == 403
    assert outsider.get(reverse("history_export")).status_code == 403
