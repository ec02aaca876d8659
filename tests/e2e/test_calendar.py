"""A marketer reads the calendar of sends, steps through it with the keyboard, and starts a
campaign from a day: the composer opens set to send once, that day at 09:00."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from campaigns.models import Campaign, CampaignRun
from campaigns.roles import Role
from tests.e2e.conftest import screenshot
from tests.e2e.test_sign_in import sign_in
from tests.factories import CampaignFactory, EmasAppFactory, MobileAppFactory, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHANGHAI = ZoneInfo("Asia/Shanghai")
Run = CampaignRun.Status


def at(days: int, hour: int, minute: int = 0) -> datetime:
    today = timezone.now().astimezone(SHANGHAI).date()
    return datetime.combine(today + timedelta(days=days), time(hour, minute), tzinfo=SHANGHAI)


def a_month_of_sends() -> None:
    shop = MobileAppFactory.create(name="Demo shop")
    news = EmasAppFactory.create(name="Demo news")
    today = at(0, 0).date()
    CampaignFactory.create(
        app=shop,
        name="Weekly digest",
        status=Campaign.Status.SCHEDULED,
        schedule_mode="recurring",
        frequency="weekly",
        repeat_on=[1, 4],
        time_of_day=time(9, 30),
        starts_on=today - timedelta(days=30),
    )
    flash = CampaignFactory.create(
        app=shop,
        name="Flash sale",
        status=Campaign.Status.SCHEDULED,
        schedule_mode="at",
        send_at=at(2, 20),
    )
    CampaignRun.objects.create(campaign=flash, due_at=at(2, 20))
    CampaignFactory.create(
        app=news,
        kind=Campaign.Kind.EMAS,
        name="Price drop alert",
        status=Campaign.Status.RUNNING,
        schedule_mode="at",
        send_at=at(5, 12),
        schedule_holder="provider",
        first_sent_at=timezone.now(),
    )
    CampaignFactory.create(
        app=shop,
        name="Holiday teaser",
        status=Campaign.Status.DRAFT,
        schedule_mode="at",
        send_at=at(8, 18),
    )
    for days, status, name in (
        (-3, Run.COMPLETED, "Spring sale"),
        (-6, Run.FAILED, "Welcome back"),
        (-10, Run.COMPLETED, "Spring sale reminder"),
        (-12, Run.CANCELLED, "Weekend deals"),
    ):
        campaign = CampaignFactory.create(app=shop, name=name, status=Campaign.Status.COMPLETED)
        CampaignRun.objects.create(campaign=campaign, due_at=at(days, 10, 15), status=status)


def test_a_marketer_reads_the_calendar_and_starts_a_campaign_from_a_day(page: Page) -> None:
    a_month_of_sends()
    make_user("marketer", Role.MARKETER)
    sign_in(page, "marketer")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Calendar").click()
    expect(page.get_by_role("heading", name="Calendar", exact=True)).to_be_visible()
    grid = page.get_by_role("table")
    expect(grid.locator("caption")).to_contain_text("times in Asia/Shanghai")
    flash_day = grid.locator(f'td[data-date="{at(2, 0).date().isoformat()}"]')
    if at(2, 0).month == at(0, 0).month:
        expect(flash_day.get_by_role("link", name="Flash sale")).to_be_visible()
        expect(flash_day).to_contain_text("20:00")
    screenshot(page, "calendar")

    # The keyboard steps to next month and back.
    title = page.locator("#period-title")
    shown = title.inner_text()
    page.get_by_role("link", name="Next month").focus()
    page.keyboard.press("Enter")
    expect(title).not_to_have_text(shown)
    page.get_by_role("link", name="Today").focus()
    page.keyboard.press("Enter")
    expect(title).to_have_text(shown)

    page.get_by_role("link", name="Week", exact=True).click()
    expect(page.locator("section.cal-week-day")).to_have_count(7)
    screenshot(page, "calendar-week")

    # A day of next month starts a campaign set for 09:00 that day.
    page.get_by_role("link", name="Month", exact=True).click()
    page.get_by_role("link", name="Next month").click()
    day = page.locator("td.cal-day[data-date$='-14']")
    iso = day.get_attribute("data-date")
    day.get_by_test_id("new-on-day").click()
    page.get_by_label("App").select_option(label="Demo shop · mPaaS Message Push")
    page.get_by_label("Simple push (title and text)").check()
    page.get_by_role("button", name="Compose").click()
    expect(page.get_by_label("Once, at a date and time")).to_be_checked()
    expect(page.get_by_label("Send at")).to_have_value(f"{iso}T09:00")
    expect(page.get_by_label("Send at")).to_be_visible()
