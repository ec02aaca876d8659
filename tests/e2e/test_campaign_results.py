"""A viewer reads how a finished campaign did: the funnel, the charts and their numbers, the
runs compared; looks up one target and pages the batch log in place, without leaving the
page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from campaigns import approval, dispatch
from campaigns.models import Campaign, CampaignRun, DeliveryStat, Dispatch
from campaigns.roles import Role
from campaigns.stats import SCHEDULE
from tests.campaigns.test_results import a_run, with_calls
from tests.e2e.conftest import screenshot
from tests.e2e.test_sending import offer, send_one_call
from tests.e2e.test_sign_in import sign_in
from tests.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def results_of(run: CampaignRun, arrived: int, opened: int, **splits: object) -> None:
    """Every step of the run's results, filling in towards ``arrived`` and ``opened``."""
    ended = run.finished_at
    assert ended is not None
    for step, delay in enumerate(SCHEDULE):
        share = [0.55, 0.75, 0.85, 0.93, 0.97, 0.99, 1.0][step]
        DeliveryStat.objects.create(
            run=run,
            taken_at=ended + delay,
            step=step,
            accepted=run.targets,
            sent=run.targets - 6,
            arrived=int(arrived * share),
            opened=int(opened * share**2),
            ignored=int(arrived * share * 0.2),
            **(splits if step == len(SCHEDULE) - 1 else {}),
        )
    CampaignRun.objects.filter(pk=run.pk).update(stats_due_at=None, stats_step=len(SCHEDULE))


def weekly_offer() -> Campaign:
    """A weekly campaign: three older runs, and this week's sent through the sandbox."""
    campaign = offer(members=250)  # 3 PushMultiple calls
    approval.schedule(campaign, make_user("sender", Role.MARKETER))
    [run_id] = dispatch.claim_due_runs()
    dispatch.plan(run_id)
    for _call in range(3):
        send_one_call()
    run = CampaignRun.objects.get(id=run_id)
    Dispatch.objects.filter(run=run, seq=3).update(
        status=Dispatch.Status.FAILED,
        result_code="TEMPLATE_NOT_EXIST",
        message="template Offer does not exist",
    )
    CampaignRun.objects.filter(pk=run.pk).update(calls_failed=1, calls_sent=2)
    run.refresh_from_db()
    results_of(
        run,
        arrived=180,
        opened=41,
        by_platform={
            "android": {"sent": 130, "arrived": 118, "opened": 25},
            "ios": {"sent": 64, "arrived": 62, "opened": 16},
        },
        by_vendor={
            "huawei": {"sent": 52, "arrived": 47, "opened": 11},
            "xiaomi": {"sent": 41, "arrived": 38, "opened": 7},
            "oppo": {"sent": 37, "arrived": 33, "opened": 7},
            "apple": {"sent": 64, "arrived": 62, "opened": 16},
        },
    )
    for week, (arrived, opened) in enumerate(((190, 25), (201, 38), (188, 30)), start=1):
        older = a_run(campaign, -24 * 7 * week, time_zone="")
        CampaignRun.objects.filter(pk=older.pk).update(
            due_at=run.due_at - timedelta(weeks=week),
            started_at=run.due_at - timedelta(weeks=week),
            finished_at=run.due_at - timedelta(weeks=week) + timedelta(minutes=3),
        )
        older.refresh_from_db()
        members = [f"member{n}" for n in range(240)]
        with_calls(older, [members[first : first + 12] for first in range(0, 240, 12)])
        results_of(older, arrived, opened)
    Campaign.objects.filter(pk=campaign.pk).update(
        created_at=run.due_at - timedelta(weeks=4),
        schedule_mode=Campaign.ScheduleMode.RECURRING,
        frequency=Campaign.Frequency.WEEKLY,
        status=Campaign.Status.COMPLETED,
    )
    return campaign


def test_a_viewer_reads_the_results_looks_up_a_target_and_pages_the_calls(page: Page) -> None:
    campaign = weekly_offer()
    make_user("viewer", Role.VIEWER)
    sign_in(page, "viewer")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    page.goto(f"/campaigns/{campaign.pk}/")

    results = page.locator("#campaign-results")
    expect(results).to_contain_text("Final results as of")
    funnel = results.get_by_test_id("funnel")
    # Each run's latest results added up: opened 41 + 25 + 38 + 30 of 759 arrived.
    expect(funnel.get_by_role("row", name="Opened 134 17.7%")).to_be_visible()
    expect(page.locator("#campaign-failures")).to_contain_text("TEMPLATE_NOT_EXIST")
    expect(page.locator("#campaign-runs").get_by_role("row")).to_have_count(4 + 1)
    results.get_by_text("Arrivals and opens as numbers").click()
    expect(results.get_by_test_id("over-time").get_by_role("row")).to_have_count(
        len(SCHEDULE) * 4 + 1
    )
    screenshot(page, "campaign-results")

    # Did user142 get it? The answer comes into the page, which stays where it is.
    lookup = page.locator("#campaign-lookup")
    lookup.get_by_label("Target", exact=True).fill("user142")
    lookup.get_by_role("button", name="Look up").click()
    answer = page.locator("#campaign-lookup-result")
    expect(answer).to_contain_text("“user142” was in 1 call of this campaign.")
    run = campaign.runs.order_by("-due_at").first()
    assert run is not None
    expect(answer).to_contain_text(f"pd{run.pk}-2-42")
    expect(page).to_have_url(f"/campaigns/{campaign.pk}/")

    # The batch log's next page replaces its first, in place.
    batches = page.locator("#campaign-batches")
    expect(batches.get_by_role("row")).to_have_count(50 + 1)
    batches.get_by_role("link", name="Next").click()
    expect(batches.get_by_role("row")).to_have_count(63 - 50 + 1)
    expect(batches.get_by_role("link", name="Previous")).to_be_visible()
    expect(page).to_have_url(f"/campaigns/{campaign.pk}/")
