"""An admin registers an app on the sandbox, tests its connection, breaks the secret and
sees the test fail in words."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from campaigns.roles import Role
from tests.e2e.conftest import screenshot
from tests.e2e.test_sign_in import sign_in
from tests.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WRONG_SECRET = "not-the-sandbox-secret-9f3e"


def top(page: Page) -> None:
    """Scroll back up, so a full-page screenshot shows the sticky bars where they belong."""
    page.evaluate("window.scrollTo(0, 0)")


def test_an_admin_registers_an_app_tests_it_and_sees_a_wrong_secret_fail(page: Page) -> None:
    make_user("admin", Role.ADMIN)
    sign_in(page, "admin")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Apps").click()
    expect(page.get_by_role("heading", name="No apps yet")).to_be_visible()
    screenshot(page, "apps-empty")
    page.get_by_role("link", name="Register the first app").click()

    page.get_by_label("Name", exact=True).fill("Demo shop")
    page.get_by_label("Provider").select_option(label="mPaaS Message Push")
    expect(page.get_by_label("AppKey for Android")).to_be_hidden()  # EMAS fields step aside
    expect(page.get_by_label("Endpoint", exact=True)).to_have_value("sandbox")
    expect(page.get_by_label("Custom endpoint URL")).to_be_hidden()
    page.get_by_label("mPaaS appId").fill("ONEX570DA89211721")
    page.get_by_label("AccessKey ID").fill("sandbox-key")
    page.get_by_label("AccessKey secret").fill("sandbox-secret")
    page.get_by_label("Test targets").fill("user1\nuser2")
    top(page)
    screenshot(page, "app-form")
    page.get_by_role("button", name="Register the app").click()

    # The workspaceId was forgotten: the form says so, and asks for the secret again.
    errors = page.get_by_role("alert")
    expect(errors).to_contain_text("mPaaS workspaceId: An mPaaS app needs its workspaceId.")
    expect(page.get_by_label("AccessKey secret")).to_have_value("")
    expect(page.get_by_label("mPaaS appId")).to_have_value("ONEX570DA89211721")
    screenshot(page, "app-form-errors")
    errors.get_by_role("link", name="mPaaS workspaceId").click()
    expect(page.get_by_label("mPaaS workspaceId")).to_be_focused()
    page.keyboard.type("test")
    page.get_by_label("AccessKey secret").fill("sandbox-secret")
    page.get_by_role("button", name="Register the app").click()

    expect(page.get_by_role("heading", name="Demo shop")).to_be_visible()
    expect(page.get_by_text("Demo shop is registered.")).to_be_visible()
    expect(page.get_by_text("••••cret")).to_be_visible()
    page.get_by_role("button", name="Test connection").click()
    result = page.locator("#connection-result")
    expect(result).to_contain_text("Connected: the keys and the app IDs work.")
    history = page.get_by_role("region", name="History")
    expect(history).to_contain_text("tested the connection: it works")
    screenshot(page, "app-connected")

    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("AccessKey secret")).to_have_value("")
    expect(page.get_by_text("Leave blank to keep the stored secret (••••cret)")).to_be_visible()
    page.get_by_label("AccessKey secret").fill(WRONG_SECRET)
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Your changes to Demo shop are saved.")).to_be_visible()
    expect(page.get_by_text("••••9f3e")).to_be_visible()

    page.get_by_role("button", name="Test connection").focus()  # from the keyboard this time
    page.keyboard.press("Enter")
    expect(result).to_contain_text("The AccessKey secret is wrong (SignatureDoesNotMatch).")
    expect(result).to_contain_text("The provider's RequestId")
    expect(history).to_contain_text("tested the connection: it failed (SignatureDoesNotMatch)")
    expect(history).to_contain_text("changed AccessKey secret")
    assert WRONG_SECRET[:12] not in page.content()
    screenshot(page, "app-connection-failed")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Apps").click()
    expect(page.get_by_role("link", name="Demo shop")).to_be_visible()
    screenshot(page, "apps-list")
