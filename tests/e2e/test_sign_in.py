"""A person signs in, sees the navigation of their role, and signs out."""

from __future__ import annotations

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from campaigns.roles import Role
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CONSOLE_NAV = ["Dashboard", "Campaigns", "Calendar", "Templates", "Audiences", "History"]


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/")
    expect(page).to_have_url("/accounts/login/?next=/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize(
    ("role", "navigation"),
    [
        (Role.ADMIN, [*CONSOLE_NAV[:5], "Apps", "History", "Sandbox inbox"]),
        (Role.MARKETER, [*CONSOLE_NAV, "Sandbox inbox"]),
        (Role.VIEWER, CONSOLE_NAV),
    ],
)
def test_each_role_signs_in_sees_its_navigation_and_signs_out(
    page: Page, role: Role, navigation: list[str]
) -> None:
    username = role.value.lower()
    make_user(username, role)
    sign_in(page, username)

    expect(page.get_by_role("heading", name=f"Welcome, {username}")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.locator(".nav-item > span:first-of-type")).to_have_text(navigation)
    expect(page.get_by_text("Times in Asia/Shanghai")).to_be_visible()
    if role is Role.ADMIN:
        expect(page.get_by_role("heading", name="System status")).to_be_visible()
        expect(page.locator("#system-status")).to_contain_text("Working")
    screenshot(page, f"dashboard-{username}")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url("/accounts/login/?next=/")


@pytest.mark.expected_http_errors(429)
def test_ten_wrong_passwords_lock_sign_in_with_a_message(page: Page) -> None:
    make_user("mallory-target", Role.MARKETER)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(page, "mallory-target", "wrong-password")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Too many failed sign-in attempts.")
    expect(alert).to_contain_text("locked for 15 minutes")
    sign_in(page, "mallory-target")
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-in attempts.")
    screenshot(page, "login-locked-out")


def test_the_console_works_from_the_keyboard(page: Page) -> None:
    make_user("kim", Role.MARKETER)
    page.goto("/accounts/login/")
    # The username field has focus; type, tab to the password, press Enter to sign in.
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type("kim")
    expect(page.get_by_label("Username")).to_have_value("kim")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Welcome, kim")).to_be_visible()
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


@pytest.mark.expected_http_errors(403)
def test_an_account_without_a_role_is_told_what_to_do(page: Page) -> None:
    make_user("newcomer")
    sign_in(page, "newcomer")
    expect(page.get_by_role("heading", name="You don't have access to this page")).to_be_visible()
    expect(page.get_by_text("Ask a Pushdeck admin")).to_be_visible()
