"""The audience pages: list, create and edit, the detail page with its member pages,
archive, restore and delete; who may do what, and what each change leaves in the audit."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from campaigns.models import Audience, AudienceImport, AudienceMember, AuditEvent, MobileApp
from tests.factories import AudienceFactory, CampaignFactory, EmasAppFactory, MobileAppFactory

pytestmark = pytest.mark.django_db


def add_members(audience: Audience, count: int, prefix: str = "user") -> list[AudienceMember]:
    created = AudienceMember.objects.bulk_create(
        AudienceMember(audience=audience, target=f"{prefix}{n:04d}", values={"name": f"N{n}"})
        for n in range(count)
    )
    audience.member_count += count
    audience.value_columns = ["name"]
    audience.save()
    return created


def page_targets(response: object) -> list[str]:
    return [row.member.target for row in response.context["members"].rows]  # type: ignore[attr-defined]


# The list


def test_the_list_hides_archived_audiences_unless_asked(viewer: Client) -> None:
    AudienceFactory.create(name="Spring buyers")
    AudienceFactory.create(name="Old buyers", is_archived=True)

    shown = viewer.get(reverse("audience_list"))
    with_archived = viewer.get(reverse("audience_list"), {"archived": "on"})

    assert [a.name for a in shown.context["page"]] == ["Spring buyers"]
    assert {a.name for a in with_archived.context["page"]} == {"Spring buyers", "Old buyers"}


def test_the_list_filters_by_app_kind_owner_and_search_and_sorts(marketer: Client) -> None:
    app = MobileAppFactory.create()
    AudienceFactory.create(app=app, name="VIP users", member_count=10)
    AudienceFactory.create(app=app, name="Testers", description="our phones", member_count=500)
    AudienceFactory.create(name="VIP elsewhere")
    url = reverse("audience_list")

    by_app = marketer.get(url, {"app": str(app.pk), "order": "-members"})
    searched = marketer.get(url, {"q": "phones"})
    by_kind = marketer.get(url, {"kind": Audience.Kind.BROADCAST})

    assert [a.name for a in by_app.context["page"]] == ["Testers", "VIP users"]
    assert [a.name for a in searched.context["page"]] == ["Testers"]
    assert list(by_kind.context["page"]) == []
    assert "No audience matches these filters" in by_kind.content.decode()


def test_an_empty_list_says_how_to_start(marketer: Client) -> None:
    MobileAppFactory.create()
    page = marketer.get(reverse("audience_list")).content.decode()
    assert "No audiences yet" in page
    assert "Create the first audience" in page


def test_the_list_takes_the_same_queries_for_few_or_many_audiences(
    viewer: Client, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    AudienceFactory.create_batch(2)
    viewer.get(reverse("audience_list"))  # the session and permissions are loaded once
    with CaptureQueriesContext(connection) as few:
        viewer.get(reverse("audience_list"))
    AudienceFactory.create_batch(20)
    with django_assert_num_queries(len(few.captured_queries)):
        viewer.get(reverse("audience_list"))


# Create and edit


def test_a_marketer_creates_a_device_audience_and_it_is_audited(marketer: Client) -> None:
    app = MobileAppFactory.create()
    response = marketer.post(
        reverse("audience_create"),
        {"app": app.pk, "name": "Android testers", "kind": "devices", "platform": "android"},
    )
    audience = Audience.objects.get(name="Android testers")
    assert response.status_code == 302
    assert response["Location"] == reverse("audience_detail", args=[audience.pk])
    assert (audience.kind, audience.platform, audience.owner) == ("devices", "android", None)
    event = AuditEvent.objects.get(action="create")
    assert event.actor_name == "marketer"
    assert event.changes["name"] == [None, "Android testers"]


@pytest.mark.parametrize(
    ("factory", "data", "field", "error"),
    [
        (MobileAppFactory, {"kind": "devices"}, "platform", "This kind of audience needs it."),
        (MobileAppFactory, {"kind": "broadcast", "platform": "ios"}, "bind_status", "needs it"),
        (
            EmasAppFactory,
            {"kind": "tags", "tag_expression": '{"tag": 1}'},
            "tag_expression",
            "Give",
        ),
        (MobileAppFactory, {"kind": "aliases"}, "kind", "Select a valid choice"),  # EMAS only
    ],
)
def test_each_kind_asks_for_its_own_fields(
    marketer: Client,
    factory: type[MobileAppFactory],
    data: dict[str, str],
    field: str,
    error: str,
) -> None:
    app = factory.create()
    response = marketer.post(reverse("audience_create"), {"app": app.pk, "name": "A", **data})
    assert response.status_code == 200
    assert error in " ".join(response.context["form"].errors[field])
    assert not Audience.objects.exists()


def test_fields_of_other_kinds_are_not_kept(marketer: Client) -> None:
    app = EmasAppFactory.create()
    marketer.post(
        reverse("audience_create"),
        {
            "app": app.pk,
            "name": "VIP tag",
            "kind": "tags",
            "tag_expression": '{"and": [{"tag": "vip"}, {"not": {"tag": "churned"}}]}',
            "platform": "ios",
            "bind_status": "1",
        },
    )
    audience = Audience.objects.get()
    assert (audience.platform, audience.bind_status) == ("", None)
    assert audience.tag_expression.startswith('{"and"')


def test_choosing_an_app_brings_the_kinds_of_its_provider(marketer: Client) -> None:
    app = EmasAppFactory.create()
    response = marketer.get(
        reverse("audience_create"),
        {"app": str(app.pk), "kind": "tags"},
        headers={"HX-Request": "true"},
    )
    page = response.content.decode()
    assert page.startswith('\n<div id="kind-fields"')
    assert 'value="aliases"' in page
    assert 'value="users"' not in page
    assert 'name="tag_expression"' in page


def test_editing_records_what_changed_and_keeps_app_and_kind(marketer: Client) -> None:
    audience = AudienceFactory.create(name="Buyers", description="")
    response = marketer.post(
        reverse("audience_edit", args=[audience.pk]),
        {"name": "Buyers 2026", "description": "Spring", "kind": "devices"},
    )
    assert response.status_code == 302
    audience.refresh_from_db()
    assert (audience.name, audience.kind) == ("Buyers 2026", Audience.Kind.USERS)
    event = AuditEvent.objects.get(action="change")
    assert event.changes == {"name": ["Buyers", "Buyers 2026"], "description": ["", "Spring"]}


# The detail page and its member pages


def test_members_are_browsed_a_page_at_a_time_after_the_last_one_seen(viewer: Client) -> None:
    audience = AudienceFactory.create()
    add_members(audience, 120)
    url = reverse("audience_detail", args=[audience.pk])

    first = viewer.get(url)
    after = first.context["members"].next_after
    second = viewer.get(url, {"after": after})
    third = viewer.get(url, {"after": second.context["members"].next_after})
    back = viewer.get(url, {"before": third.context["members"].previous_before})

    assert page_targets(first) == [f"user{n:04d}" for n in range(50)]
    assert page_targets(second) == [f"user{n:04d}" for n in range(50, 100)]
    assert page_targets(third) == [f"user{n:04d}" for n in range(100, 120)]
    assert third.context["members"].next_after is None
    assert page_targets(back) == page_targets(second)
    assert "120 members" in first.content.decode()


def test_a_search_finds_targets_that_start_with_the_text_page_by_page(viewer: Client) -> None:
    audience = AudienceFactory.create()
    add_members(audience, 30, prefix="user")
    add_members(audience, 70, prefix="vip")
    url = reverse("audience_detail", args=[audience.pk])

    first = viewer.get(url, {"q": "vip"})
    second = viewer.get(url, {"q": "vip", "after": first.context["members"].next_after})
    none = viewer.get(url, {"q": "nobody"})

    assert page_targets(first) == [f"vip{n:04d}" for n in range(50)]
    assert page_targets(second) == [f"vip{n:04d}" for n in range(50, 70)]
    assert "No target starts with “nobody”" in none.content.decode()


def test_member_pages_never_count_rows_and_take_the_same_queries_deep_down(
    viewer: Client,
) -> None:
    audience = AudienceFactory.create()
    members = add_members(audience, 300)
    url = reverse("audience_detail", args=[audience.pk])
    viewer.get(url)
    with CaptureQueriesContext(connection) as first:
        viewer.get(url)
    with CaptureQueriesContext(connection) as deep:
        viewer.get(url, {"after": members[240].pk})

    assert len(deep.captured_queries) == len(first.captured_queries)
    sql = " ".join(query["sql"].upper() for query in deep.captured_queries)
    assert "COUNT(" not in sql
    assert "OFFSET" not in sql


def test_a_rule_audience_shows_its_rule_instead_of_members(viewer: Client) -> None:
    audience = AudienceFactory.create(
        kind=Audience.Kind.BROADCAST, platform="ios", bind_status=1, bind_period=2
    )
    page = viewer.get(reverse("audience_detail", args=[audience.pk])).content.decode()
    assert "Every iOS device of the app: every device, active in the last 15 days." in page
    assert "Import members" not in page


def test_a_viewer_sees_members_but_no_buttons_that_change_them(viewer: Client) -> None:
    audience = AudienceFactory.create()
    add_members(audience, 3)
    page = viewer.get(reverse("audience_detail", args=[audience.pk])).content.decode()
    assert "user0002" in page
    for label in ("Import members", "Edit", "Archive", "Delete"):
        assert f">{label}<" not in page


# Archive, restore, delete


def test_archiving_asks_first_then_hides_the_audience_and_is_audited(marketer: Client) -> None:
    audience = AudienceFactory.create()
    url = reverse("audience_archive", args=[audience.pk])

    confirm = marketer.get(url)
    assert "Archive “" in confirm.content.decode()
    audience.refresh_from_db()
    assert not audience.is_archived

    marketer.post(url)
    audience.refresh_from_db()
    assert audience.is_archived
    assert AuditEvent.objects.get(action="archive").changes == {"is_archived": [False, True]}

    marketer.post(reverse("audience_restore", args=[audience.pk]))
    audience.refresh_from_db()
    assert not audience.is_archived
    assert AuditEvent.objects.filter(action="restore").exists()


def test_deleting_asks_first_then_removes_the_members_and_is_audited(marketer: Client) -> None:
    audience = AudienceFactory.create(name="Old list")
    add_members(audience, 5)
    url = reverse("audience_delete", args=[audience.pk])

    assert "This cannot be undone." in marketer.get(url).content.decode()
    assert Audience.objects.filter(pk=audience.pk).exists()

    response = marketer.post(url)
    assert response["Location"] == reverse("audience_list")
    assert not Audience.objects.filter(pk=audience.pk).exists()
    assert not AudienceMember.objects.exists()
    event = AuditEvent.objects.get(action="delete")
    assert event.changes == {"name": ["Old list", None], "member_count": [5, None]}


def test_an_audience_cannot_be_deleted_while_members_are_imported(marketer: Client) -> None:
    audience = AudienceFactory.create()
    AudienceImport.objects.create(audience=audience, status=AudienceImport.Status.RUNNING)
    response = marketer.post(reverse("audience_delete", args=[audience.pk]))
    assert response.status_code == 200
    assert "Wait for the import to end" in response.content.decode()
    assert Audience.objects.filter(pk=audience.pk).exists()


# Who may change what


@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        ("audience_create", {"name": "x"}),
        ("audience_edit", {"name": "x"}),
        ("audience_archive", {}),
        ("audience_restore", {}),
        ("audience_delete", {}),
        ("audience_import", {"pasted": "user1", "mode": "append"}),
    ],
)
def test_a_viewer_cannot_change_audiences(
    viewer: Client, url_name: str, data: dict[str, str]
) -> None:
    audience = AudienceFactory.create(name="Kept", is_archived=url_name == "audience_restore")
    kwargs = {} if url_name == "audience_create" else {"pk": audience.pk}
    response = viewer.post(reverse(url_name, kwargs=kwargs), data)
    assert response.status_code == 403
    audience.refresh_from_db()
    assert (audience.name, audience.is_archived) == ("Kept", url_name == "audience_restore")
    assert Audience.objects.count() == 1
    assert not AudienceImport.objects.exists()
    assert not AuditEvent.objects.exists()


def test_an_outsider_cannot_see_audiences(outsider: Client) -> None:
    audience = AudienceFactory.create()
    assert outsider.get(reverse("audience_detail", args=[audience.pk])).status_code == 403


def test_an_audience_a_campaign_sends_to_is_archived_not_deleted(marketer: Client) -> None:
    audience = AudienceFactory.create()
    CampaignFactory.create(name="Spring offers", app=audience.app, audience=audience)
    url = reverse("audience_delete", args=[audience.pk])
    page = marketer.get(url).content.decode()
    assert "cannot be deleted" in page
    assert "Spring offers" in page
    assert marketer.post(url).status_code == 200
    assert Audience.objects.filter(pk=audience.pk).exists()


def test_an_app_with_campaigns_is_kept(admin: Client) -> None:
    campaign = CampaignFactory.create(audience=None)  # only the campaign uses the app
    response = admin.post(reverse("app_delete", args=[campaign.app_id]))
    assert response.status_code == 200
    assert "1 campaign" in response.content.decode()
    assert MobileApp.objects.filter(pk=campaign.app_id).exists()
