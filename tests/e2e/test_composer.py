"""Marketers compose a campaign of each kind against the sandbox apps: the preview follows the
typing, a rule of the provider shows beside its field and is fixed, a test goes out through
the sandbox, and a second person approves what the first submitted."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, Route, expect

from campaigns.models import Audience, AudienceMember, Campaign, MobileApp
from campaigns.roles import Role
from tests.e2e.conftest import screenshot
from tests.e2e.test_sign_in import sign_in
from tests.factories import (
    AudienceFactory,
    EmasAppFactory,
    MessageTemplateFactory,
    MobileAppFactory,
    make_user,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHANGHAI = ZoneInfo("Asia/Shanghai")


def slow_by(seconds: float) -> Callable[[Route], None]:
    """A route handler that answers ``seconds`` late (the server has done its work)."""

    def answer_late(route: Route) -> None:
        response = route.fetch()
        time.sleep(seconds)
        route.fulfill(response=response)

    return answer_late


def local(days: int, hour: int = 10) -> datetime:
    moment = datetime.now(SHANGHAI) + timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


def open_composer(page: Page, app: str, kind: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="New campaign").first.click()
    page.get_by_label("App").select_option(label=app)
    page.get_by_label(kind).check()
    page.get_by_role("button", name="Compose").click()


def shop() -> MobileApp:
    return MobileAppFactory.create(
        name="Demo shop",
        approval_policy=MobileApp.ApprovalPolicy.ALL,
        test_targets="\n".join(f"user{n}" for n in range(1, 12)),
    )


def test_a_simple_push_is_composed_tested_submitted_and_approved_by_someone_else(
    page: Page,
) -> None:
    app = shop()
    AudienceFactory.create(app=app, name="VIP testers", kind=Audience.Kind.USERS, member_count=2)
    make_user("marketer", Role.MARKETER)
    make_user("approver", Role.ADMIN)
    sign_in(page, "marketer")

    open_composer(page, "Demo shop · mPaaS Message Push", "Simple push (title and text)")
    page.get_by_label("Name", exact=True).fill("Spring preview")
    page.get_by_label("Audience").select_option(label="VIP testers (2 targets)")
    expect(page.get_by_test_id("call-plan")).to_have_text("2 targets → 1 PushSimple call")
    page.get_by_label("Title", exact=True).press_sequentially("Spring sale starts")
    expect(page.get_by_test_id("android-title")).to_have_text("Spring sale starts")
    page.get_by_label("Text", exact=True).press_sequentially("30% off until Sunday")
    expect(page.get_by_test_id("ios-body")).to_have_text("30% off until Sunday")

    # The app lists 11 test targets: PushSimple takes at most 10 per call.
    page.get_by_role("button", name="Send test").click()
    error = page.get_by_text("At most 10 targets per call; this batch has 11.").last
    expect(error).to_be_visible()
    expect(page.get_by_label("Title", exact=True)).to_have_value("Spring sale starts")
    screenshot(page, "composer-simple-error")
    page.get_by_label("Test targets").fill("user1\nuser2")
    page.get_by_role("button", name="Send test").click()
    result = page.get_by_test_id("test-results")
    expect(result).to_contain_text("PushSimple accepted")
    expect(result).to_contain_text("RequestId")
    screenshot(page, "composer-simple-test-sent")

    # Extra data for the app: rows of key and value.
    page.get_by_label("Extra data for the app: key 1", exact=True).fill("page")
    page.get_by_label("Extra data for the app: value 1", exact=True).fill("sale")
    page.get_by_role("button", name="Add a row").first.click()
    expect(page.get_by_label("Extra data for the app: key 2", exact=True)).to_be_focused()
    page.keyboard.type("from")
    page.get_by_label("Extra data for the app: value 2", exact=True).fill("push")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", name="Spring preview")).to_be_visible()
    assert Campaign.objects.get().options["mp_extended_params"] == {"page": "sale", "from": "push"}
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_text("Waiting for approval: submitted by marketer")).to_be_visible()
    expect(page.get_by_role("button", name="Approve and schedule")).to_have_count(0)

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "approver")
    page.goto(f"/campaigns/{Campaign.objects.get().pk}/")
    page.get_by_label("Comment").fill("Good to go.")
    page.get_by_role("button", name="Approve and schedule").click()
    expect(page.get_by_text("Scheduled: approved by approver")).to_be_visible()
    screenshot(page, "campaign-approved")
    campaign = Campaign.objects.get()
    assert campaign.status == Campaign.Status.SCHEDULED
    assert campaign.snapshot is not None
    assert campaign.snapshot["title"] == "Spring sale starts"


def test_every_other_kind_is_composed_and_the_provider_limits_show_inline(page: Page) -> None:
    app = shop()
    template = MessageTemplateFactory.create(app=app, name="Spring sale")
    members = AudienceFactory.create(app=app, name="Customers", member_count=3)
    AudienceMember.objects.bulk_create(
        AudienceMember(audience=members, target=f"user{n}", values={"name": f"C{n}", "money": "9"})
        for n in range(3)
    )
    AudienceFactory.create(
        app=app,
        name="Android phones",
        kind=Audience.Kind.BROADCAST,
        platform=Audience.Platform.ANDROID,
        bind_status=Audience.BindStatus.EVERYONE,
        bind_period=Audience.Period.EVER,
    )
    news = EmasAppFactory.create(name="Demo news", test_targets="device-1")
    AudienceFactory.create(app=news, name="Readers", kind=Audience.Kind.DEVICES, member_count=0)
    make_user("marketer", Role.MARKETER)
    sign_in(page, "marketer")

    # A template push kept by mPaaS, repeating until 200 days from now: mPaaS holds 180.
    open_composer(page, "Demo shop · mPaaS Message Push", "Template push (one set of values)")
    page.get_by_label("Name", exact=True).fill("Weekly reminder")
    page.get_by_label("Audience").select_option(label="Customers (3 targets)")
    page.get_by_label("Template", exact=True).select_option(label=template.name)
    page.get_by_label("Value for #name#").fill("friend")
    expect(page.get_by_test_id("android-title")).to_have_text("Hello friend")
    page.get_by_label("Value for #money#").fill("20")
    page.get_by_label("Repeatedly").check()
    page.get_by_label("Repeat", exact=True).select_option(label="Every day")
    page.get_by_label("At", exact=True).fill("09:30")
    page.get_by_label("From", exact=True).fill(local(1).strftime("%Y-%m-%d"))
    page.get_by_label("Until", exact=True).fill(local(200).strftime("%Y-%m-%d"))
    page.get_by_label("The provider (sent by mPaaS or EMAS at its time)").check()
    expect(page.get_by_text("Next sends")).to_be_visible()
    page.get_by_role("button", name="Save draft").click()
    expect(
        page.get_by_text("A recurring push must end within 180 days from today.").last
    ).to_be_visible()
    screenshot(page, "composer-template-180-days")
    page.get_by_label("Until", exact=True).fill(local(60).strftime("%Y-%m-%d"))
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", name="Weekly reminder")).to_be_visible()

    # Personalised: each target's values from the audience; the preview shows the first's.
    open_composer(page, "Demo shop · mPaaS Message Push", "Personalised push (values per target)")
    page.get_by_label("Name", exact=True).fill("Personal offers")
    page.get_by_label("Audience").select_option(label="Customers (3 targets)")
    page.get_by_label("Template", exact=True).select_option(label=template.name)
    expect(page.get_by_test_id("android-title")).to_have_text("Hello C0")
    expect(page.get_by_test_id("call-plan")).to_have_text("3 targets → 1 PushMultiple call")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", name="Personal offers")).to_be_visible()

    # Broadcast: the provider finds the devices.
    open_composer(page, "Demo shop · mPaaS Message Push", "Broadcast (every device of a platform)")
    page.get_by_label("Name", exact=True).fill("Everyone on Android")
    page.get_by_label("Audience").select_option(label="Android phones (Broadcast rule)")
    page.get_by_label("Template", exact=True).select_option(label=template.name)
    page.get_by_label("Value for #name#").fill("everyone")
    page.get_by_label("Value for #money#").fill("5")
    expect(page.get_by_test_id("call-plan")).to_contain_text("1 PushBroadcast call")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", name="Everyone on Android")).to_be_visible()

    # EMAS keeps a PushTime at most 7 days ahead.
    open_composer(page, "Demo news · EMAS Mobile Push", "EMAS push")
    page.get_by_label("Name", exact=True).fill("Breaking news")
    page.get_by_label("Audience").select_option(label="Readers (0 targets)")
    page.get_by_label("Title", exact=True).fill("Breaking")
    page.get_by_label("Text", exact=True).fill("Something happened")
    page.get_by_label("Devices", exact=True).select_option(value="ANDROID")
    page.get_by_label("Once, at a date and time").check()
    page.get_by_label("Send at").fill(local(8).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("The provider (sent by mPaaS or EMAS at its time)").check()
    page.get_by_role("button", name="Save draft").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("7 days")
    screenshot(page, "composer-emas-push-time")
    # A slow test send is not aborted by the preview that the change of "Send at" starts
    # 400 ms later: the push would go out with no result shown.
    page.route("**/campaigns/test-send/", slow_by(1.0))
    page.get_by_label("Send at").fill(local(2).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Send test").click()
    expect(page.get_by_test_id("test-results")).to_contain_text("Push accepted")
    page.unroute("**/campaigns/test-send/")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", name="Breaking news")).to_be_visible()

    kinds = set(Campaign.objects.values_list("kind", flat=True))
    assert kinds == {"template", "personalised", "broadcast", "emas"}
    emas = Campaign.objects.get(kind="emas")
    assert emas.options["device_type"] == "ANDROID"
    assert emas.send_at is not None
