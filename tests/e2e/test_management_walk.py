"""The management side in one walk, as a new team would use it: an admin registers an app
on the sandbox and tests its connection (it works, then a wrong secret fails in words); a
marketer writes a template for that app with a live preview and a vendor warning, then
imports an audience checked against it, watches the import's progress and downloads the
rejected rows. Each area has its own, closer browser test beside this one."""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from campaigns.roles import Role
from tests.e2e.conftest import screenshot
from tests.e2e.test_audiences import settled
from tests.e2e.test_sign_in import sign_in
from tests.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TITLE = "Hello #name#, the sale of the year starts at noon"
MEMBERS = "target,name,money\nuser1,Li Lei,88\nuser 2,Bad,1\nuser3,Han Meimei,\nuser4,Wu,5\n"


def nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()


def test_an_admin_and_a_marketer_set_up_an_app_a_template_and_an_audience(
    page: Page, tmp_path: Path, worker: threading.Event
) -> None:
    make_user("admin", Role.ADMIN)
    make_user("marketer", Role.MARKETER)

    sign_in(page, "admin")
    nav(page, "Apps")
    page.get_by_role("link", name="Register the first app").click()
    page.get_by_label("Name", exact=True).fill("Walk shop")
    page.get_by_label("Provider").select_option(label="mPaaS Message Push")
    page.get_by_label("mPaaS appId").fill("ONEX570DA89211721")
    page.get_by_label("mPaaS workspaceId").fill("test")
    page.get_by_label("AccessKey ID").fill("sandbox-key")
    page.get_by_label("AccessKey secret").fill("sandbox-secret")
    page.get_by_role("button", name="Register the app").click()
    page.get_by_role("button", name="Test connection").click()
    result = page.locator("#connection-result")
    expect(result).to_contain_text("Connected: the keys and the app IDs work.")
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("AccessKey secret").fill("a-wrong-secret")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_role("button", name="Test connection").click()
    expect(result).to_contain_text("The AccessKey secret is wrong (SignatureDoesNotMatch).")
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("AccessKey secret").fill("sandbox-secret")
    page.get_by_role("button", name="Save changes").click()
    sign_out(page)

    sign_in(page, "marketer")
    nav(page, "Templates")
    page.get_by_role("link", name="New template").click()
    page.get_by_label("App").select_option(label="Walk shop")
    page.get_by_label("Name").fill("Walk sale")
    page.get_by_label("Title").press_sequentially(
        "Hello #name#, the sale of the year starts at noon"
    )
    page.get_by_label("Body").press_sequentially("#name#, save #money# yuan today")
    expect(page.get_by_role("list", name="Detected placeholders")).to_have_text("#name##money#")
    expect(page.get_by_test_id("android-title")).to_have_text(TITLE.replace("#name#", "name"))
    expect(page.get_by_text("Huawei takes at most 40 characters of a title")).to_be_visible()
    page.get_by_role("button", name="Create template").click()
    expect(page.get_by_role("heading", name="Walk sale")).to_be_visible()

    nav(page, "Audiences")
    page.get_by_role("link", name="Create the first audience").click()
    page.get_by_label("App").select_option(label="Walk shop")
    kind = page.get_by_label("Kind")
    expect(kind.locator("option", has_text="User IDs")).to_have_count(1)
    settled(page)  # the kinds of an mPaaS app arrived by htmx
    kind.select_option(label="User IDs")
    settled(page)
    page.get_by_label("Name").fill("Walk buyers")
    page.get_by_role("button", name="Create the audience").click()
    page.get_by_role("link", name="Import members").first.click()
    members = tmp_path / "walk-buyers.csv"
    members.write_text(MEMBERS, encoding="utf-8")
    page.get_by_label("Upload a CSV file").set_input_files(members)
    page.get_by_label("Check the values against a template").select_option(label="Walk sale")
    page.get_by_role("button", name="Start the import").click()
    bar = page.get_by_role("progressbar")
    expect(bar).to_have_attribute("value", "0")
    worker.set()
    expect(bar).to_have_attribute("value", "100")
    expect(page.get_by_text("Done: 2 members added.")).to_be_visible()
    screenshot(page, "walk-import-done")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the rejected rows").click()
    rows = list(csv.reader(Path(download.value.path()).read_text(encoding="utf-8").splitlines()))
    assert [(row[0], row[2]) for row in rows[1:]] == [("3", "user 2"), ("4", "user3")]
