"""The template pages: list, create and edit with their rules, versions, archive and delete,
the audit trail, and who may do what."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import AuditEvent, MessageTemplate, TemplateVersion
from tests.factories import (
    AudienceFactory,
    EmasAppFactory,
    MessageTemplateFactory,
    MobileAppFactory,
)

pytestmark = pytest.mark.django_db

LIST = reverse("message_template_list")
CREATE = reverse("message_template_create")


def url(name: str, template: MessageTemplate) -> str:
    return reverse(name, args=[template.pk])


def events(template: MessageTemplate) -> list[AuditEvent]:
    found = AuditEvent.objects.filter(
        object_type="campaigns.messagetemplate", object_id=str(template.pk)
    )
    return list(found.order_by("id"))


def edit(client: Client, template: MessageTemplate, **changes: str) -> Any:
    template.refresh_from_db()
    data = {
        "name": template.name,
        "title": template.title,
        "body": template.body,
        "based_on_version": str(template.version),
        **changes,
    }
    return client.post(url("message_template_edit", template), data)


# -- create and edit: rules -----------------------------------------------------------------


def test_a_marketer_creates_a_template_at_version_1_with_its_history_and_an_audit_event(
    marketer: Client,
) -> None:
    app = MobileAppFactory.create()
    data = {"app": app.pk, "name": "Spring sale", "title": "Hi #name#", "body": "Win #money#"}
    response = marketer.post(CREATE, data)
    template = MessageTemplate.objects.get(name="Spring sale")
    assert response.status_code == 302
    assert response["Location"] == url("message_template_detail", template)
    assert template.version == 1
    assert template.placeholders == ["name", "money"]
    assert list(template.versions.values_list("number", "title")) == [(1, "Hi #name#")]
    assert template.versions.get().created_by is not None
    [event] = events(template)
    assert (event.action, event.actor_name) == ("create", "marketer")
    assert event.changes["title"] == [None, "Hi #name#"]


def test_an_mpaas_template_name_with_a_comma_is_refused_naming_the_field_and_rule(
    marketer: Client,
) -> None:
    app = MobileAppFactory.create()
    data = {"app": app.pk, "name": "Sale, spring", "title": "t", "body": "b"}
    response = marketer.post(CREATE, data)
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == [
        "An mPaaS template name cannot contain commas; use a dash or a space."
    ]
    assert not MessageTemplate.objects.exists()


def test_an_emas_template_name_may_contain_a_comma(marketer: Client) -> None:
    app = EmasAppFactory.create()
    data = {"app": app.pk, "name": "Sale, spring", "title": "t", "body": "b"}
    assert marketer.post(CREATE, data).status_code == 302
    assert MessageTemplate.objects.get().name == "Sale, spring"


def test_a_name_the_app_already_has_is_refused_but_another_app_may_use_it(
    marketer: Client,
) -> None:
    existing = MessageTemplateFactory.create(
        name="Welcome", app=MobileAppFactory.create(name="Shop")
    )
    data = {"app": existing.app.pk, "name": "Welcome", "title": "t", "body": "b"}
    response = marketer.post(CREATE, data)
    assert response.context["form"].errors["name"] == [
        "Shop already has a template named “Welcome”; choose another name."
    ]
    other = MobileAppFactory.create()
    assert marketer.post(CREATE, {**data, "app": other.pk}).status_code == 302


def test_renaming_to_a_name_the_app_already_has_is_refused(marketer: Client) -> None:
    first = MessageTemplateFactory.create(name="First")
    second = MessageTemplateFactory.create(name="Second", app=first.app)
    response = edit(marketer, second, name="First")
    assert "already has a template named “First”" in response.context["form"].errors["name"][0]


def test_a_missing_title_is_refused_by_name(marketer: Client) -> None:
    app = MobileAppFactory.create()
    response = marketer.post(CREATE, {"app": app.pk, "name": "n", "title": "", "body": "b"})
    assert response.context["form"].errors["title"] == ["This field is required."]


def test_the_preview_button_shows_the_panel_without_saving(marketer: Client) -> None:
    app = MobileAppFactory.create()
    data = {"app": app.pk, "name": "n", "title": "Hi #who#", "body": "b", "sample-who": "Ann"}
    response = marketer.post(CREATE, {**data, "preview": "1"})
    assert response.status_code == 200
    assert "Hi Ann" in response.content.decode()
    assert not MessageTemplate.objects.exists()


# -- versions -------------------------------------------------------------------------------


def test_a_change_of_title_or_body_is_the_next_version_and_a_rename_is_not(
    marketer: Client,
) -> None:
    template = MessageTemplateFactory.create(version=1)
    edit(marketer, template, title="Hello again #name#")
    edit(marketer, template, name="Renamed")
    edit(marketer, template, body="New body")
    template.refresh_from_db()
    assert template.version == 3
    assert template.name == "Renamed"
    history = template.versions.values_list("number", "title", "body")
    assert list(history) == [
        (3, "Hello again #name#", "New body"),
        (2, "Hello again #name#", "Congratulations #name# on winning #money# yuan"),
    ]
    assert [event.action for event in events(template)] == ["change"] * 3


def test_saving_without_a_change_writes_no_version_and_no_event(marketer: Client) -> None:
    template = MessageTemplateFactory.create()
    response = edit(marketer, template)
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.version == 1
    assert not TemplateVersion.objects.exists()
    assert events(template) == []


def test_saving_over_a_newer_version_is_refused(marketer: Client, admin: Client) -> None:
    template = MessageTemplateFactory.create()
    edit(admin, template, title="Admin's title")
    response = marketer.post(
        url("message_template_edit", template),
        {"name": template.name, "title": "Mine", "body": "b", "based_on_version": "1"},
    )
    assert response.status_code == 200
    assert "while you were editing version 1" in response.context["form"].non_field_errors()[0]
    template.refresh_from_db()
    assert template.title == "Admin's title"


def test_a_change_after_a_sync_marks_the_store_copy_outdated(marketer: Client) -> None:
    template = MessageTemplateFactory.create(sync_state="synced", synced_version=1, remote_id="9")
    edit(marketer, template, title="Changed")
    template.refresh_from_db()
    assert template.sync_state == MessageTemplate.SyncState.OUTDATED
    html = marketer.get(url("message_template_detail", template)).content.decode()
    assert "changed since the last sync" in html


def test_the_detail_page_lists_the_version_history(viewer: Client, marketer: Client) -> None:
    template = MessageTemplateFactory.create()
    edit(marketer, template, title="Second title")
    html = viewer.get(url("message_template_detail", template)).content.decode()
    assert "Version history" in html
    assert "Second title" in html
    assert "marketer" in html


# -- list -----------------------------------------------------------------------------------


def test_the_list_searches_name_and_title_and_filters_by_app(viewer: Client) -> None:
    shop, news = MobileAppFactory.create(), MobileAppFactory.create()
    MessageTemplateFactory.create(app=shop, name="Spring sale", title="Save now")
    MessageTemplateFactory.create(app=news, name="Digest", title="Your week in sales")
    MessageTemplateFactory.create(app=news, name="Welcome", title="Hi")

    def names(**query: str | int) -> list[str]:
        page = viewer.get(LIST, query).context["page"]
        return [template.name for template in page.object_list]

    assert sorted(names(q="sale")) == ["Digest", "Spring sale"]
    assert names(app=news.pk, order="-name") == ["Welcome", "Digest"]


def test_archived_templates_are_hidden_unless_asked_for(viewer: Client) -> None:
    MessageTemplateFactory.create(name="Live")
    MessageTemplateFactory.create(name="Old", is_archived=True)
    shown = viewer.get(LIST).context["page"].object_list
    assert [template.name for template in shown] == ["Live"]
    shown = viewer.get(LIST, {"archived": "on"}).context["page"].object_list
    assert sorted(template.name for template in shown) == ["Live", "Old"]


def test_the_empty_list_says_what_to_do(marketer: Client, viewer: Client) -> None:
    assert "A template belongs to an app" in marketer.get(LIST).content.decode()
    MobileAppFactory.create()
    assert "Write the first template" in marketer.get(LIST).content.decode()
    assert "Marketers and admins write templates" in viewer.get(LIST).content.decode()
    MessageTemplateFactory.create(name="Spring")
    html = viewer.get(LIST, {"q": "autumn"}).content.decode()
    assert "No template matches these filters" in html


def test_the_list_takes_the_same_number_of_queries_for_many_templates(viewer: Client) -> None:
    viewer.get(LIST)  # the session and permissions are cached from here on
    MessageTemplateFactory.create_batch(2, app=MobileAppFactory.create())
    with CaptureQueriesContext(connection) as few:
        assert viewer.get(LIST).status_code == 200
    for _ in range(3):
        MessageTemplateFactory.create_batch(8, app=MobileAppFactory.create())
    with CaptureQueriesContext(connection) as many:
        response = viewer.get(LIST)
    assert len(response.context["page"].object_list) == 26 - 1  # one page
    assert len(many.captured_queries) == len(few.captured_queries)


# -- archive and delete ---------------------------------------------------------------------


def test_an_unused_template_is_deleted_after_confirmation(marketer: Client) -> None:
    template = MessageTemplateFactory.create(name="Gone")
    page = marketer.get(url("message_template_delete", template))
    assert "Delete “Gone”?" in page.content.decode()
    assert MessageTemplate.objects.filter(pk=template.pk).exists()
    response = marketer.post(url("message_template_delete", template))
    assert response["Location"] == LIST
    assert not MessageTemplate.objects.filter(pk=template.pk).exists()
    [event] = events(template)
    assert event.action == "delete"
    assert event.changes["name"] == ["Gone", None]


def test_a_template_an_audience_uses_is_archived_not_deleted(marketer: Client) -> None:
    template = MessageTemplateFactory.create()
    AudienceFactory.create(app=template.app, name="Spring buyers", template=template)
    page = marketer.get(url("message_template_delete", template)).content.decode()
    assert "This template is in use, so it cannot be deleted." in page
    assert "Spring buyers" in page
    marketer.post(url("message_template_delete", template))
    assert MessageTemplate.objects.filter(pk=template.pk).exists()

    marketer.post(url("message_template_archive", template))
    template.refresh_from_db()
    assert template.is_archived
    assert [event.action for event in events(template)] == ["archive"]


def test_the_detail_page_shows_the_audiences_that_use_it(viewer: Client) -> None:
    template = MessageTemplateFactory.create()
    AudienceFactory.create(app=template.app, name="Spring buyers", template=template)
    html = viewer.get(url("message_template_detail", template)).content.decode()
    assert "Audience “Spring buyers”" in html


def test_an_archived_template_cannot_be_edited_until_restored(marketer: Client) -> None:
    template = MessageTemplateFactory.create(is_archived=True)
    response = edit(marketer, template, title="Changed")
    assert response["Location"] == url("message_template_detail", template)
    template.refresh_from_db()
    assert template.title == "Hello #name#"
    marketer.post(url("message_template_restore", template))
    template.refresh_from_db()
    assert not template.is_archived
    assert [event.action for event in events(template)] == ["restore"]


def test_archived_templates_cannot_be_chosen_for_new_work() -> None:
    live = MessageTemplateFactory.create()
    MessageTemplateFactory.create(is_archived=True, app=live.app)
    assert list(MessageTemplate.objects.usable()) == [live]


# -- who may do what ------------------------------------------------------------------------


def test_a_viewer_reads_templates(viewer: Client) -> None:
    template = MessageTemplateFactory.create(name="Readable")
    assert "Readable" in viewer.get(LIST).content.decode()
    html = viewer.get(url("message_template_detail", template)).content.decode()
    assert "Readable" in html
    assert url("message_template_edit", template) not in html
    assert "Sync to provider" not in html


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("message_template_create", "post"),
        ("message_template_edit", "post"),
        ("message_template_sync", "post"),
        ("message_template_archive", "post"),
        ("message_template_restore", "post"),
        ("message_template_delete", "post"),
    ],
)
def test_a_viewer_may_not_change_a_template(viewer: Client, name: str, method: str) -> None:
    template = MessageTemplateFactory.create(is_archived=name == "message_template_restore")
    target = CREATE if name == "message_template_create" else url(name, template)
    data = {"app": template.app.pk, "name": "x", "title": "t", "body": "b"}
    assert getattr(viewer, method)(target, data).status_code == 403
    template.refresh_from_db()
    assert (template.name, template.sync_state) != ("x", "synced")
    assert AuditEvent.objects.count() == 0
