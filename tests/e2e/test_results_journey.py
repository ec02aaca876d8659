"""Issue 9's walk, as its people make it: a marketer sends a campaign to a sandbox app,
watches it go out, sees the funnel fill in as the sandbox's simulated time moves on (the
stats poller asking the sandbox, as a worker would), looks up one target and exports the
results; a viewer opens the history, narrows it to this month and exports it.

The engine's and the poller's steps run in this test's thread, as a worker would run them
(the broker's nudges are caught); the sandbox's clock is moved as its controls page does.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from campaigns import dispatch, stats
from campaigns.models import CampaignRun, DeliveryStat
from campaigns.roles import Role
from campaigns.sandbox import control
from campaigns.tasks import dispatch_fire_due
from tests.e2e.conftest import screenshot
from tests.e2e.test_sending import offer, send_one_call
from tests.e2e.test_sign_in import sign_in
from tests.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the browser's zone (tests/e2e/conftest.py)


@pytest.fixture(autouse=True)
def sandbox_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(dispatch_fire_due, "delay", lambda: None)
    control.update(clock_offset_s=0.0, error_rate=0.0, throttle_rate=0.0)
    yield
    control.update(clock_offset_s=0.0)


def number(text: str) -> int:
    return int(text.replace(",", "").strip())


def funnel_count(page: Page, step: str) -> int:
    row = page.locator("#campaign-results table").first.get_by_role("row").filter(has_text=step)
    return number(row.first.get_by_role("cell").first.inner_text())


def download_csv(page: Page, link: str) -> list[list[str]]:
    with page.expect_download() as started:
        page.get_by_role("link", name=link).click()
    text = started.value.path().read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_send_watch_the_funnel_fill_in_look_up_export_and_read_the_history(page: Page) -> None:
    campaign = offer(members=250)  # 3 PushMultiple calls
    make_user("marketer", Role.MARKETER)
    make_user("viewer", Role.VIEWER)
    sign_in(page, "marketer")
    page.goto(f"/campaigns/{campaign.pk}/")
    page.get_by_role("button", name="Schedule").click()
    progress = page.locator("#campaign-progress")
    expect(progress).to_contain_text("Waiting for its time")

    # The worker: the run is planned and its calls made while the marketer watches.
    [run_id] = dispatch.claim_due_runs()
    dispatch.plan(run_id)
    page.reload()
    for done in (1, 2, 3):
        send_one_call()
        expect(progress).to_contain_text(f"{done} / 3", timeout=6_000)
    dispatch.finish_runs({run_id})
    expect(page.locator("#campaign-results")).to_contain_text("Results appear", timeout=6_000)

    # Time passes in the sandbox; the poller asks at each step that is due.
    arrived_seen = []
    for hours in (0.05, 1, 24):
        control.advance_clock(hours * 3600)
        assert stats.poll_due() == 1
        page.reload()
        snapshot = DeliveryStat.objects.filter(run_id=run_id).latest("taken_at")
        expect(page.locator("#campaign-results")).to_contain_text("Delivery funnel")
        assert funnel_count(page, "Arrived") == snapshot.arrived
        assert funnel_count(page, "Opened") == snapshot.opened
        arrived_seen.append(snapshot.arrived)
    assert arrived_seen == sorted(arrived_seen)
    assert arrived_seen[-1] <= 250
    screenshot(page, "campaign-results-sandbox")

    # "Did user 7 get it?"
    page.get_by_role("textbox", name="Target").fill("user7")
    page.get_by_role("button", name="Look up").click()
    found = page.locator("#campaign-lookup-result")
    expect(found).to_contain_text(f"pd{run_id}-1-7")  # its msgKey: call 1, eighth target
    run = CampaignRun.objects.get(id=run_id)
    expect(found).to_contain_text(run.dispatches.get(seq=1).request_id)

    rows = download_csv(page, "Per target (CSV)")
    assert len(rows) == 1 + 250
    assert any("user7" in row and f"pd{run_id}-1-7" in row for row in rows)

    # The dashboard shows the campaign among the latest results.
    page.goto("/")
    expect(page.get_by_text(campaign.name).first).to_be_visible()
    screenshot(page, "dashboard-with-results")

    # A product owner reads the history of this month and exports it.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    sign_in(page, "viewer")
    page.get_by_role("link", name="History").click()
    month = timezone.localtime(timezone.now(), SHANGHAI).strftime("%Y-%m")
    page.get_by_label("Month", exact=True).fill(month)
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(f"month={month}"))
    listed = page.get_by_role("table").last
    expect(listed).to_contain_text(campaign.name)
    screenshot(page, "history")
    rows = download_csv(page, "Export CSV")
    assert [row[1] for row in rows[1:]] == [campaign.name]
