"""A marketer writes a template with placeholders, watches the preview follow the typing and
the vendor warnings appear, saves it and syncs it to the sandbox's mPaaS store; and archives
a template an audience uses, after a sync the store refused."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from campaigns.connections import mpaas_app, mpaas_client
from campaigns.providers.mpaas import TemplateDraft
from campaigns.roles import Role
from tests.e2e.conftest import screenshot
from tests.e2e.test_sign_in import sign_in
from tests.factories import AudienceFactory, MessageTemplateFactory, MobileAppFactory, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LONG_TITLE = "Hello #name#, our biggest spring sale of the year starts today at noon"


def test_a_marketer_writes_a_template_with_a_live_preview_and_syncs_it(page: Page) -> None:
    MobileAppFactory.create(name="Demo shop")
    make_user("marketer", Role.MARKETER)
    sign_in(page, "marketer")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Templates").click()
    expect(page.get_by_role("heading", name="No templates yet")).to_be_visible()
    screenshot(page, "templates-empty")
    page.get_by_role("link", name="New template").click()

    page.get_by_label("App").select_option(label="Demo shop")
    page.get_by_label("Name").fill("Spring sale")
    page.get_by_label("Title").press_sequentially("Hello #name#")
    placeholders = page.get_by_role("list", name="Detected placeholders")
    expect(placeholders).to_have_text("#name#")
    android, ios = page.get_by_test_id("android-title"), page.get_by_test_id("ios-title")
    expect(android).to_have_text("Hello name")
    expect(ios).to_have_text("Hello name")

    sample = page.get_by_label("Sample for #name#")
    sample.fill("")
    sample.press_sequentially("李雷")
    expect(android).to_have_text("Hello 李雷")
    expect(sample).to_be_focused()  # the inputs stay while the placeholders do

    page.get_by_label("Body").press_sequentially("Congratulations #name# on winning #money# yuan")
    expect(placeholders).to_have_text("#name##money#")
    expect(page.get_by_test_id("ios-body")).to_have_text(
        "Congratulations 李雷 on winning money yuan"
    )
    expect(page.get_by_label("Sample for #name#")).to_have_value("李雷")
    expect(page.get_by_text("Within every vendor's limits")).to_be_visible()

    page.get_by_label("Title").fill(LONG_TITLE)
    warning = page.get_by_text("OPPO takes at most 50 characters of a title; this one has 66.")
    expect(warning).to_be_visible()
    expect(android).to_have_text(LONG_TITLE.replace("#name#", "李雷"))
    screenshot(page, "template-form-preview")

    page.get_by_role("button", name="Create template").click()
    expect(page.get_by_role("heading", name="Spring sale")).to_be_visible()
    expect(page.get_by_text("Template “Spring sale” created.")).to_be_visible()
    page.get_by_role("button", name="Sync to provider").click()
    expect(page.get_by_text("Synced: the provider's store holds version 1.")).to_be_visible()
    expect(page.get_by_text("synced at version 1")).to_be_visible()
    screenshot(page, "template-detail")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Templates").click()
    row = page.get_by_role("row", name="Spring sale")
    expect(row).to_contain_text("Demo shop")
    expect(row).to_contain_text("#name#")
    screenshot(page, "templates-list")


def test_a_marketer_sees_why_a_sync_failed_and_archives_a_template_in_use(page: Page) -> None:
    app = MobileAppFactory.create(name="Demo shop")
    mpaas_client(app).create_template(mpaas_app(app), TemplateDraft("Sale", "Theirs", "text"))
    template = MessageTemplateFactory.create(app=app, name="Sale")
    AudienceFactory.create(app=app, name="Spring buyers", template=template)
    make_user("marketer", Role.MARKETER)
    sign_in(page, "marketer")

    page.goto(f"/templates/{template.pk}/")
    page.get_by_role("button", name="Sync to provider").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Sync failed: TEMPLATE_EXIST")
    expect(alert).to_contain_text("Rename this template, or delete the other one")
    screenshot(page, "template-sync-failed")

    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_text("This template is in use, so it cannot be deleted.")).to_be_visible()
    expect(page.get_by_text("Audience “Spring buyers”")).to_be_visible()
    screenshot(page, "template-delete-in-use")
    page.get_by_role("link", name="Archive instead").click()
    page.get_by_role("button", name="Archive").click()
    expect(page.get_by_text("Template “Sale” archived")).to_be_visible()
    expect(page.get_by_role("link", name="Sale")).to_have_count(0)
    page.get_by_label("Show archived").check()
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("row", name="Sale")).to_contain_text("archived")
