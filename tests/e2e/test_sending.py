"""A marketer schedules a campaign and watches it go out: the page follows the sending as
the engine makes its calls, and a cancel confirmation stays open while the page refreshes.

The engine's steps run in this test's thread, as a worker would run them (the broker's
nudges are caught), so the page is seen before, during and after each call.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from campaigns import dispatch, template_store
from campaigns.models import AudienceMember, Campaign, CampaignRun, Dispatch, MessageTemplate
from campaigns.roles import Role
from campaigns.tasks import dispatch_fire_due
from tests.e2e.conftest import screenshot
from tests.e2e.test_sign_in import sign_in
from tests.factories import AudienceFactory, CampaignFactory, MobileAppFactory, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def nudges(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    caught: list[str] = []
    monkeypatch.setattr(dispatch_fire_due, "delay", lambda: caught.append("fire_due"))
    return caught


def offer(members: int) -> Campaign:
    app = MobileAppFactory.create(name="Demo shop", rate_limit=1000)
    template = MessageTemplate.objects.create(
        app=app, name="Offer", title="Hi #name#", body="#name#, #money# off"
    )
    template_store.sync(template)
    audience = AudienceFactory.create(app=app, name="Loyal buyers", member_count=members)
    AudienceMember.objects.bulk_create(
        AudienceMember(audience=audience, target=f"user{n}", values={"name": f"N{n}", "money": "5"})
        for n in range(members)
    )
    return CampaignFactory.create(
        app=app,
        audience=audience,
        template=template,
        kind=Campaign.Kind.PERSONALISED,
        name="Spring offer",
    )


def send_one_call() -> None:
    dispatch.send_claimed(dispatch.claim_dispatches(1), threads=1)


def test_the_page_follows_the_sending_and_a_cancel_can_be_confirmed_meanwhile(
    page: Page, nudges: list[str]
) -> None:
    campaign = offer(members=250)  # 3 PushMultiple calls
    make_user("marketer", Role.MARKETER)
    sign_in(page, "marketer")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    page.goto(f"/campaigns/{campaign.pk}/")
    page.get_by_role("button", name="Schedule").click()
    progress = page.locator("#campaign-progress")
    expect(progress).to_contain_text("Waiting for its time")
    assert nudges == ["fire_due"]  # the click woke the engine at once

    # What the worker does: the run is due, planned, then its calls are made one by one.
    [run_id] = dispatch.claim_due_runs()
    dispatch.plan(run_id)
    page.reload()
    expect(progress).to_contain_text("0 / 3")
    send_one_call()
    expect(progress).to_contain_text("1 / 3", timeout=6_000)  # the page polls every 2 s
    expect(progress).to_contain_text("100")  # targets sent
    screenshot(page, "campaign-sending")

    # A confirmation opened while the page refreshes stays open under the reader's hand.
    progress.get_by_text("Cancel campaign…").click()
    confirm = progress.get_by_role("button", name="Cancel the campaign")
    expect(confirm).to_be_visible()
    send_one_call()
    expect(progress).to_contain_text("2 / 3", timeout=6_000)
    expect(confirm).to_be_visible()
    screenshot(page, "campaign-cancel-confirmation")
    confirm.click()

    expect(page.get_by_text("Cancelled").first).to_be_visible()
    run = CampaignRun.objects.get(id=run_id)
    assert run.status == CampaignRun.Status.CANCELLED
    statuses = sorted(run.dispatches.values_list("status", flat=True))
    assert statuses == [Dispatch.Status.CANCELLED, Dispatch.Status.SENT, Dispatch.Status.SENT]
    assert not dispatch.claim_dispatches()  # nothing more goes out
