"""A marketer builds an audience, uploads a CSV with some bad rows, watches the import's
progress bar reach the end, downloads the report of rejected rows and browses the members."""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from campaigns.roles import Role
from tests.e2e.conftest import screenshot
from tests.e2e.test_sign_in import sign_in
from tests.factories import MessageTemplateFactory, MobileAppFactory, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MEMBERS_CSV = """target,name,money,timezone
user1,Li Wei,88,Asia/Shanghai
user2,Anna,120,Europe/Berlin
user 3,Bad,1,
user4,Wu,,Asia/Shanghai
user5,Omar,15,Mars/Olympus
user1,Li again,99,
""" + "".join(f"user{n},Customer {n},{n % 90},Asia/Shanghai\n" for n in range(6, 206))


def settled(page: Page) -> None:
    """htmx has wired up what it swapped in (it does so 20 ms after the swap)."""
    expect(page.locator(".htmx-added, .htmx-settling, .htmx-request")).to_have_count(0)


def test_a_marketer_imports_a_csv_and_downloads_the_rejected_rows(
    page: Page, tmp_path: Path, worker: threading.Event
) -> None:
    app = MobileAppFactory.create(name="Demo shop")
    MessageTemplateFactory.create(app=app, name="Spring sale")  # #name# and #money#
    make_user("marketer", Role.MARKETER)
    sign_in(page, "marketer")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audiences").click()
    expect(page.get_by_role("heading", name="No audiences yet")).to_be_visible()
    screenshot(page, "audiences-empty")
    page.get_by_role("link", name="Create the first audience").click()

    page.get_by_label("App").select_option(label="Demo shop")
    kind = page.get_by_label("Kind")
    expect(kind.locator("option")).to_have_text(
        ["Choose a kind", "Device IDs", "User IDs", "Broadcast rule"]
    )  # the kinds of an mPaaS app, brought by htmx
    settled(page)
    kind.select_option(label="Broadcast rule")
    expect(page.get_by_label("Platform")).to_be_visible()
    expect(page.get_by_label("Devices")).to_be_visible()
    expect(page.get_by_label("Active in")).to_be_visible()
    screenshot(page, "audience-form-broadcast")
    settled(page)
    kind.select_option(label="Device IDs")
    expect(page.get_by_label("Active in")).to_have_count(0)
    expect(page.get_by_label("Platform")).to_be_visible()
    settled(page)
    kind.select_option(label="User IDs")
    expect(page.get_by_label("Platform")).to_have_count(0)
    page.get_by_label("Name").fill("Spring buyers")
    page.get_by_label("Description").fill("Everyone who bought in spring")
    screenshot(page, "audience-form")
    page.get_by_role("button", name="Create the audience").click()

    expect(page.get_by_role("heading", name="Spring buyers")).to_be_visible()
    expect(page.get_by_role("heading", name="0 members")).to_be_visible()
    page.get_by_role("link", name="Import members").first.click()

    members_csv = tmp_path / "spring-buyers.csv"
    members_csv.write_text(MEMBERS_CSV, encoding="utf-8")
    page.get_by_label("Upload a CSV file").set_input_files(members_csv)
    page.get_by_label("Check the values against a template").select_option(label="Spring sale")
    screenshot(page, "audience-import-form")
    page.get_by_role("button", name="Start the import").click()

    bar = page.get_by_role("progressbar")
    expect(bar).to_have_attribute("value", "0")
    expect(page.locator("#import-progress")).to_have_attribute("hx-trigger", "every 1s")
    screenshot(page, "audience-import-waiting")
    worker.set()  # the worker picks it up; the page follows without a reload
    expect(bar).to_have_attribute("value", "100")
    expect(page.get_by_text("Done: 202 members added.")).to_be_visible()
    tally = page.locator(".tally")
    expect(tally).to_contain_text("Rows read206")
    expect(tally).to_contain_text("Duplicates1")
    expect(tally).to_contain_text("Rejected3")
    expect(page.locator("#import-progress")).not_to_have_attribute("hx-trigger", "every 1s")
    screenshot(page, "audience-import-done")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the rejected rows").click()
    assert download.value.suggested_filename == "Spring buyers - rejected rows.csv"
    report = Path(download.value.path()).read_text(encoding="utf-8")
    # Line 7 repeats user1: a duplicate is imported once and counted, not rejected.
    assert list(csv.reader(report.splitlines())) == [
        ["line", "reason", "target", "name", "money", "timezone"],
        ["4", "A target cannot contain spaces or control characters.", "user 3", "Bad", "1", ""],
        ["5", "No value for the template's #money#.", "user4", "Wu", "", "Asia/Shanghai"],
        [
            "6",
            "Mars/Olympus is not a time zone name such as Asia/Shanghai.",
            "user5",
            "Omar",
            "15",
            "Mars/Olympus",
        ],
    ]

    page.get_by_role("link", name="See the members").click()
    expect(page.get_by_role("heading", name="202 members")).to_be_visible()
    members = page.get_by_role("table")
    expect(members.get_by_role("row")).to_have_count(1 + 50)
    expect(members).to_contain_text("Li Wei")
    page.get_by_role("link", name="Next").click()
    expect(page.get_by_role("link", name="First page")).to_be_visible()
    expect(members.get_by_role("row")).to_have_count(1 + 50)
    screenshot(page, "audience-members")

    page.get_by_label("Target starts with").fill("user19")
    page.get_by_label("Target starts with").press("Enter")
    expect(members.get_by_role("row")).to_have_count(1 + 11)  # header, user19 and user190-199
    screenshot(page, "audience-member-search")
