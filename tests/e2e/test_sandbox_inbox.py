"""A push sent through Pushdeck's own client to the in-app sandbox shows in the inbox."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from campaigns.providers.base import Account, Credentials
from campaigns.providers.mpaas import MpaasClient
from campaigns.providers.mpaas_options import MpaasApp
from campaigns.providers.mpaas_push import DeliveryType, PushSimple, Target
from campaigns.roles import Role
from campaigns.sandbox import control
from tests.e2e.conftest import screenshot
from tests.e2e.test_sign_in import sign_in
from tests.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_marketer_sees_on_the_simulated_phone_what_was_pushed(
    page: Page, live_server: object
) -> None:
    account = Account(f"{live_server}/sandbox/", Credentials("sandbox-key", "sandbox-secret"))
    receipt = MpaasClient(account, http=httpx.Client()).push_simple(
        MpaasApp("ONEX570DA89211721", "test"),
        PushSimple(
            task_name="Spring sale",
            delivery_type=DeliveryType.USER,
            expired_seconds=3 * 24 * 3600,
            targets=(Target("user42", "spring-42"), Target("user43", "spring-43")),
            title="春季促销 Spring sale",
            content="Everything 30% off until Sunday — tap to shop.",
        ),
    )
    assert receipt.task_id
    control.advance_clock(timedelta(hours=7).total_seconds())

    make_user("marketer", Role.MARKETER)
    sign_in(page, "marketer")
    page.get_by_role("link", name="Sandbox inbox").click()
    page.get_by_role("link", name="user42").click()
    phone = page.locator(".phone")
    expect(phone.get_by_role("heading", name="春季促销 Spring sale")).to_be_visible()
    expect(phone).to_contain_text("Everything 30% off until Sunday")
    expect(phone).to_contain_text("spring-42")
    screenshot(page, "sandbox-inbox")
