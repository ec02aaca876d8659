"""The campaign list: filters, search, sorts, keyset pages, who may read it, and a query
count that does not grow with the rows shown; and the detail page it links to."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from campaigns.campaign_pages import SORTS
from campaigns.models import Audience, Campaign, MobileApp, User
from campaigns.roles import Role
from tests.factories import (
    AudienceFactory,
    CampaignFactory,
    EmasAppFactory,
    MobileAppFactory,
    make_user,
)

pytestmark = pytest.mark.django_db

LIST = reverse("campaign_list")
NOON = datetime(2025, 5, 2, 12, 0, tzinfo=UTC)


def campaign(
    name: str, *, created: datetime = NOON, changed: datetime | None = None, **fields: Any
) -> Campaign:
    """A campaign created (and last changed) when the test says, not when the test runs."""
    made = CampaignFactory.create(name=name, **fields)
    Campaign.objects.filter(pk=made.pk).update(created_at=created, changed_at=changed or created)
    made.refresh_from_db()
    return made


def listed(client: Client, **params: Any) -> list[str]:
    response = client.get(LIST, params)
    assert response.status_code == 200
    return [each.name for each in response.context["page"].campaigns]


def walk(
    client: Client, params: dict[str, str], direction: str
) -> tuple[list[list[int]], dict[str, str]]:
    """Follow Next (or Previous) from the page ``params`` ask for until there is none: the
    campaigns of each page seen, in the order seen, and what asks for the last one."""
    pages = []
    while True:
        page = client.get(LIST, params).context["page"]
        pages.append([each.pk for each in page.campaigns])
        if direction == "next" and page.next_cursor:
            params = {"sort": params["sort"], "after": page.next_cursor}
        elif direction == "previous" and page.previous_cursor:
            params = {"sort": params["sort"], "before": page.previous_cursor}
        else:
            return pages, params


def test_a_viewer_reads_campaigns_newest_first_with_what_each_one_is(viewer: Client) -> None:
    app = EmasAppFactory.create(name="Shop EMAS")
    audience = AudienceFactory.create(app=app, name="VIP buyers", member_count=48213)
    owner = make_user("mei", role=Role.MARKETER)
    campaign("Older", created=NOON - timedelta(days=1))
    campaign(
        "Flash sale",
        app=app,
        audience=audience,
        kind=Campaign.Kind.EMAS,
        status=Campaign.Status.SCHEDULED,
        schedule_mode=Campaign.ScheduleMode.AT,
        send_at=NOON + timedelta(days=1),
        created_by=owner,
    )
    viewer.cookies["pushdeck_tz"] = "Asia/Shanghai"

    response = viewer.get(LIST)

    assert [each.name for each in response.context["page"].campaigns] == ["Flash sale", "Older"]
    page = response.content.decode()
    flash = Campaign.objects.get(name="Flash sale")
    assert f'href="{reverse("campaign_detail", args=[flash.pk])}">Flash sale</a>' in page
    assert "Shop EMAS" in page
    assert "EMAS push" in page
    assert '<span class="pill pill-info">Scheduled</span>' in page
    assert "VIP buyers" in page
    assert "48,213 members" in page
    assert "mei" in page
    # Times in the viewer's zone, named: noon UTC is 20:00 in Shanghai (CST).
    assert "2025-05-03 20:00 CST" in page  # sends at
    assert "2025-05-02 20:00 CST" in page  # last changed
    assert 'title="Asia/Shanghai"' in page


def test_the_navigation_leads_to_the_campaign_list(viewer: Client) -> None:
    page = viewer.get(reverse("dashboard")).content.decode()
    assert f'href="{LIST}"' in page


def test_an_outsider_may_not_see_campaigns(outsider: Client) -> None:
    CampaignFactory.create()
    assert outsider.get(LIST).status_code == 403


@pytest.mark.parametrize("field", ["status", "kind", "app", "owner"])
def test_each_filter_keeps_only_the_campaigns_that_match(viewer: Client, field: str) -> None:
    emas = EmasAppFactory.create()
    owner = make_user("mei", role=Role.MARKETER)
    campaign("Wanted", app=emas, kind=Campaign.Kind.EMAS, status="paused", created_by=owner)
    campaign("Other")
    value = {"status": "paused", "kind": "emas", "app": emas.pk, "owner": owner.pk}[field]
    assert listed(viewer, **{field: value}) == ["Wanted"]


def test_filters_combine(viewer: Client) -> None:
    app = MobileAppFactory.create()
    campaign("Both", app=app, status="completed")
    campaign("Only the app", app=app, status="draft")
    campaign("Only the status", status="completed")
    assert listed(viewer, app=app.pk, status="completed") == ["Both"]


def test_created_dates_are_days_in_the_viewers_time_zone(viewer: Client) -> None:
    # 20:00 UTC on 2 May is 04:00 on 3 May in Shanghai.
    campaign("Late evening", created=datetime(2025, 5, 2, 20, 0, tzinfo=UTC))
    viewer.cookies["pushdeck_tz"] = "Asia/Shanghai"
    assert listed(viewer, created_from="2025-05-03", created_to="2025-05-03") == ["Late evening"]
    assert listed(viewer, created_to="2025-05-02") == []
    viewer.cookies["pushdeck_tz"] = "UTC"
    assert listed(viewer, created_from="2025-05-02", created_to="2025-05-02") == ["Late evening"]


def test_search_finds_part_of_the_name_in_any_case(viewer: Client) -> None:
    campaign("Spring SALE for VIPs")
    campaign("Weekly digest")
    assert listed(viewer, q="sale") == ["Spring SALE for VIPs"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("newest", ["banana", "Apple", "cherry"]),
        ("oldest", ["cherry", "Apple", "banana"]),
        ("name", ["Apple", "banana", "cherry"]),  # A to Z whatever the case
        ("changed", ["cherry", "banana", "Apple"]),
    ],
)
def test_the_list_sorts_as_chosen(viewer: Client, sort: str, expected: list[str]) -> None:
    campaign("cherry", created=NOON - timedelta(days=2), changed=NOON + timedelta(days=3))
    campaign("Apple", created=NOON - timedelta(days=1), changed=NOON)
    campaign("banana", created=NOON, changed=NOON + timedelta(days=1))
    assert listed(viewer, sort=sort) == expected


EXPECTED_ORDER = {
    "newest": (lambda c: (c.created_at, c.pk), True),
    "oldest": (lambda c: (c.created_at, c.pk), False),
    "name": (lambda c: (c.name.lower(), c.pk), False),
    "changed": (lambda c: (c.changed_at, c.pk), True),
}


@pytest.mark.parametrize("sort", sorted(SORTS))
def test_next_and_previous_walk_every_campaign_once_in_order(
    viewer: Client, monkeypatch: pytest.MonkeyPatch, sort: str
) -> None:
    monkeypatch.setattr("campaigns.views.campaigns.PAGE_SIZE", 5)
    # Ties on every sort key, so that the pages must break them by id.
    for n in range(12):
        same = NOON - timedelta(hours=n // 4)
        campaign(f"{'Campaign' if n % 2 else 'campaign'} {n // 3}", created=same, changed=same)
    key, descending = EXPECTED_ORDER[sort]
    expected = [c.pk for c in sorted(Campaign.objects.all(), key=key, reverse=descending)]

    forward, last = walk(viewer, {"sort": sort}, "next")
    backward, _ = walk(viewer, last, "previous")

    assert [len(page) for page in forward] == [5, 5, 2]
    assert [pk for page in forward for pk in page] == expected
    assert backward == forward[::-1]


def test_the_first_page_has_next_but_no_previous_and_keeps_the_filters(
    viewer: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("campaigns.views.campaigns.PAGE_SIZE", 2)
    for n in range(3):
        campaign(f"Done {n}", status="completed")
    page = viewer.get(LIST, {"status": "completed"}).content.decode()
    assert 'rel="prev"' not in page
    next_link = re.search(r'href="([^"]+)" rel="next"', page)
    assert next_link is not None
    assert next_link.group(1).startswith("?status=completed&amp;after=")
    second = viewer.get(LIST + next_link.group(1).replace("&amp;", "&")).content.decode()
    assert 'rel="next"' not in second
    assert 'rel="prev"' in second
    assert "First page" in second


def encoded(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "",
        encoded([]),
        encoded({"newest": 1}),
        encoded(["name", "a", 1]),  # made for another sort
        encoded(["newest", "not a time", 1]),
        encoded(["newest", "2025-05-02T12:00:00", 1]),  # a time without its zone
        encoded(["newest", "2025-05-02T12:00:00+00:00", "1"]),
        encoded(["newest", "2025-05-02T12:00:00+00:00", 10**30]),  # no such id in a bigint
        encoded(["newest", "9999-12-31T23:00:00-05:00", 1]),  # past the year 9999 in UTC
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_a_cursor_that_is_not_ours_shows_the_first_page(viewer: Client, cursor: str) -> None:
    campaign("Only one")
    assert listed(viewer, after=cursor) == ["Only one"]
    assert listed(viewer, before=cursor) == ["Only one"]


def test_a_cursor_past_the_end_shows_the_first_page_rather_than_nothing(
    viewer: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("campaigns.views.campaigns.PAGE_SIZE", 1)
    campaign("Kept")
    gone = campaign("Deleted", created=NOON - timedelta(days=1))
    cursor = viewer.get(LIST).context["page"].next_cursor
    assert listed(viewer, after=cursor) == ["Deleted"]
    after_gone = viewer.get(LIST, {"after": cursor}).context["page"]
    assert after_gone.next_cursor is None
    gone.delete()
    assert listed(viewer, after=cursor) == ["Kept"]


@pytest.mark.parametrize("page_size", [10, 50])
def test_a_page_costs_at_most_ten_queries_however_many_rows_it_shows(
    viewer: Client,
    monkeypatch: pytest.MonkeyPatch,
    django_assert_max_num_queries: DjangoAssertNumQueries,
    page_size: int,
) -> None:
    monkeypatch.setattr("campaigns.views.campaigns.PAGE_SIZE", page_size)
    apps = [MobileAppFactory.create(), MobileAppFactory.create(), EmasAppFactory.create()]
    owners = [make_user(f"owner{n}", role=Role.MARKETER) for n in range(3)]
    for n in range(30):
        app = apps[n % 3]
        campaign(
            f"Campaign {n}",
            created=NOON - timedelta(minutes=n),
            app=app,
            audience=AudienceFactory.create(app=app, kind=Audience.Kind.DEVICES),
            kind=Campaign.Kind.EMAS if app.provider == MobileApp.Provider.EMAS else "simple",
            created_by=owners[n % 3],
            status=Campaign.Status.values[n % len(Campaign.Status.values)],
        )
    viewer.get(LIST)  # the session and the user's groups, as any earlier page would have

    with django_assert_max_num_queries(10):
        first = viewer.get(LIST)
    assert len(first.context["page"].campaigns) == min(page_size, 30)
    with django_assert_max_num_queries(10):
        filtered = viewer.get(
            LIST,
            {"app": apps[0].pk, "q": "campaign", "after": first.context["page"].next_cursor or ""},
        )
    assert filtered.status_code == 200


def test_no_campaigns_and_no_apps_says_an_app_comes_first(viewer: Client) -> None:
    page = viewer.get(LIST).content.decode()
    assert "No campaigns yet" in page
    assert "no app is registered yet" in page
    assert 'role="search"' not in page


def test_a_viewer_is_told_who_composes_campaigns(viewer: Client) -> None:
    MobileAppFactory.create()
    page = viewer.get(LIST).content.decode()
    assert "No campaigns yet" in page
    assert "Marketers and admins compose campaigns" in page


def test_filters_that_match_nothing_offer_the_whole_list(viewer: Client) -> None:
    campaign("Something")
    page = viewer.get(LIST, {"q": "nothing like it"}).content.decode()
    assert "No campaign matches these filters" in page
    assert f'href="{LIST}">Show all campaigns' in page
    assert 'value="nothing like it"' in page


def test_every_filter_has_a_label(viewer: Client) -> None:
    campaign("Something")
    page = viewer.get(LIST).content.decode()
    for field in ("q", "app", "status", "kind", "owner", "created_from", "created_to", "sort"):
        assert f'<label for="id_{field}">' in page


def test_the_detail_page_shows_status_app_audience_and_owner(viewer: Client) -> None:
    owner: User = make_user("mei", role=Role.MARKETER)
    shown = campaign("Flash sale", status=Campaign.Status.COMPLETED, created_by=owner)
    response = viewer.get(reverse("campaign_detail", args=[shown.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Flash sale" in page
    assert '<span class="pill pill-ok">Completed</span>' in page
    assert shown.app.name in page
    assert shown.audience is not None
    assert shown.audience.name in page
    assert "mei" in page


def test_the_detail_page_of_a_missing_campaign_is_not_found(viewer: Client) -> None:
    assert viewer.get(reverse("campaign_detail", args=[999])).status_code == 404


def test_a_marketer_is_offered_a_new_campaign_and_a_viewer_is_not(
    marketer: Client, viewer: Client
) -> None:
    MobileAppFactory.create()
    button = f'href="{reverse("campaign_create")}">New campaign</a>'
    assert button in marketer.get(LIST).content.decode()
    assert button not in viewer.get(LIST).content.decode()
