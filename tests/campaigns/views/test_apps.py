"""The apps area: register, edit, test the connection, deactivate and delete an app."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from campaigns.encryption import MASK, Secret
from campaigns.models import AuditEvent, MobileApp
from campaigns.models.apps import EMAS_REGION_ENDPOINTS, MPAAS_REGION_ENDPOINTS, SANDBOX_ENDPOINT
from tests.factories import (
    AudienceFactory,
    EmasAppFactory,
    MessageTemplateFactory,
    MobileAppFactory,
)

pytestmark = pytest.mark.django_db

SECRET = "sandbox-secret"  # the sandbox's own key pair: a test of the connection succeeds


def app_form(**changes: Any) -> dict[str, Any]:
    """What an admin types to register an mPaaS app on the sandbox."""
    data: dict[str, Any] = {
        "name": "Shop",
        "provider": "mpaas",
        "endpoint": SANDBOX_ENDPOINT,
        "custom_endpoint": "",
        "mpaas_app_id": "ONEX570DA89211721",
        "mpaas_workspace_id": "test",
        "mpaas_tenant_id": "",
        "emas_app_key_android": "",
        "emas_app_key_ios": "",
        "emas_app_key_harmony": "",
        "access_key_id": "sandbox-key",
        "access_key_secret": SECRET,
        "signature_version": "v3",
        "rate_limit": "20",
        "time_zone": "Asia/Shanghai",
        "quiet_hours_start": "",
        "quiet_hours_end": "",
        "quiet_hours_zone": "app",
        "test_targets": "",
        "approval_policy": "none",
        "is_active": "on",
    }
    data.update(changes)
    return data


def edit_form(app: MobileApp, **changes: Any) -> dict[str, Any]:
    """The edit form as the page shows it for ``app``: the secret field blank."""
    shown = {
        "name": app.name,
        "provider": app.provider,
        "mpaas_app_id": app.mpaas_app_id,
        "mpaas_workspace_id": app.mpaas_workspace_id,
        "emas_app_key_android": app.emas_app_key_android,
        "access_key_id": app.access_key_id,
        "access_key_secret": "",
    }
    return app_form(**{**shown, **changes})


def field_errors(response: Any, field: str) -> list[str]:
    return list(response.context["form"].errors.get(field, []))


def events(app: MobileApp, action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(object_id=str(app.pk), action=action))


# -- register and edit ----------------------------------------------------------------------


def test_an_admin_registers_an_mpaas_app_on_the_sandbox(admin: Client) -> None:
    response = admin.post(reverse("app_create"), app_form(test_targets="user1\n\n user2 \nuser1"))
    app = MobileApp.objects.get(name="Shop")
    assert response.status_code == 302
    assert response["Location"] == reverse("app_detail", args=[app.pk])
    assert app.access_key_secret.reveal() == SECRET
    assert app.uses_sandbox
    assert app.test_target_list == ["user1", "user2"]
    assert app.created_by is not None
    assert app.created_by.username == "admin"
    [created] = events(app, "created")
    assert created.actor_name == "admin"
    assert created.changes["access_key_secret"] == [MASK, MASK]


def test_an_admin_registers_an_emas_app_with_the_app_key_of_each_platform(admin: Client) -> None:
    form = app_form(
        provider="emas",
        endpoint=EMAS_REGION_ENDPOINTS["cn-hangzhou"],
        mpaas_app_id="",
        mpaas_workspace_id="",
        emas_app_key_android="23267207",
        emas_app_key_ios=" 23267208 ",
    )
    assert admin.post(reverse("app_create"), form).status_code == 302
    app = MobileApp.objects.get(name="Shop")
    assert app.endpoint == "https://cloudpush.aliyuncs.com/"
    assert (app.emas_app_key_android, app.emas_app_key_ios) == ("23267207", "23267208")


def test_a_custom_endpoint_is_kept_and_shown_as_custom_on_edit(admin: Client) -> None:
    form = app_form(endpoint="custom", custom_endpoint="https://gateway.example.com/mpaas/")
    admin.post(reverse("app_create"), form)
    app = MobileApp.objects.get(name="Shop")
    assert app.endpoint == "https://gateway.example.com/mpaas/"
    page = admin.get(reverse("app_edit", args=[app.pk]))
    assert page.context["form"]["endpoint"].value() == "custom"
    assert page.context["form"]["custom_endpoint"].value() == "https://gateway.example.com/mpaas/"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"endpoint": "custom", "custom_endpoint": "http://gateway.example.com/"},
            "custom_endpoint",
            "A custom endpoint must be an https:// URL.",
        ),
        (
            {"endpoint": "custom", "custom_endpoint": ""},
            "custom_endpoint",
            "Give the custom endpoint's https:// URL.",
        ),
        (
            {"endpoint": EMAS_REGION_ENDPOINTS["cn-hangzhou"]},
            "endpoint",
            "https://cloudpush.aliyuncs.com/ serves another provider; choose a region of "
            "mPaaS Message Push.",
        ),
        ({"mpaas_app_id": ""}, "mpaas_app_id", "An mPaaS app needs its appId."),
        ({"mpaas_workspace_id": ""}, "mpaas_workspace_id", "An mPaaS app needs its workspaceId."),
        (
            {"time_zone": "China Standard Time"},
            "time_zone",
            "China Standard Time is not a time zone name such as Asia/Shanghai.",
        ),
        (
            {"quiet_hours_start": "22:00"},
            "quiet_hours_end",
            "Give both ends of the quiet hours, or neither.",
        ),
        (
            {"quiet_hours_start": "22:00", "quiet_hours_end": "22:00"},
            "quiet_hours_end",
            "The quiet hours must end at another time than they start.",
        ),
        (
            {"test_targets": "user1\nuser2, user3"},
            "test_targets",
            "Put one ID per line: line 2 holds “user2, user3”.",
        ),
        ({"rate_limit": "0"}, "rate_limit", "Ensure this value is greater than or equal to 1."),
        (
            {"access_key_secret": ""},
            "access_key_secret",
            "This field is required.",
        ),
    ],
)
def test_a_broken_rule_is_named_on_its_field(
    admin: Client, changes: dict[str, Any], field: str, message: str
) -> None:
    response = admin.post(reverse("app_create"), app_form(**changes))
    assert response.status_code == 200
    assert field_errors(response, field) == [message]
    assert escape(message) in response.content.decode()
    assert not MobileApp.objects.exists()


@pytest.mark.parametrize(
    ("keys", "field", "message"),
    [
        (
            {},
            "emas_app_key_android",
            "An EMAS app needs at least one AppKey: Android, iOS or HarmonyOS.",
        ),
        (
            {"emas_app_key_ios": "2326-7207"},
            "emas_app_key_ios",
            "An AppKey is digits only, such as 23267207.",
        ),
    ],
)
def test_an_emas_app_needs_an_app_key_of_digits(
    admin: Client, keys: dict[str, str], field: str, message: str
) -> None:
    form = app_form(provider="emas", mpaas_app_id="", mpaas_workspace_id="", **keys)
    response = admin.post(reverse("app_create"), form)
    assert field_errors(response, field) == [message]


def test_mpaas_region_hosts_serve_mpaas_apps(admin: Client) -> None:
    form = app_form(endpoint=MPAAS_REGION_ENDPOINTS["cn-shanghai"])
    assert admin.post(reverse("app_create"), form).status_code == 302
    assert MobileApp.objects.get().endpoint == "https://mpaas.cn-shanghai.aliyuncs.com/"


def test_a_blank_secret_on_edit_keeps_the_stored_one(admin: Client) -> None:
    app = MobileAppFactory.create(access_key_secret=Secret("kept-secret-1234"))
    response = admin.post(reverse("app_edit", args=[app.pk]), edit_form(app, rate_limit="50"))
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.access_key_secret.reveal() == "kept-secret-1234"
    assert app.rate_limit == 50
    [changed] = events(app, "changed")
    assert changed.changes == {"rate_limit": [20, 50]}


def test_a_new_secret_on_edit_replaces_the_stored_one_and_the_audit_only_says_so(
    admin: Client,
) -> None:
    app = MobileAppFactory.create()
    form = edit_form(app, access_key_secret="brand-new-secret-5678")
    admin.post(reverse("app_edit", args=[app.pk]), form)
    app.refresh_from_db()
    assert app.access_key_secret.reveal() == "brand-new-secret-5678"
    [changed] = events(app, "changed")
    assert changed.changes == {"access_key_secret": [MASK, MASK]}
    assert "brand-new" not in str(AuditEvent.objects.values_list("changes", flat=True)[::1])


def test_a_refused_edit_is_headed_with_the_name_as_saved(admin: Client) -> None:
    app = MobileAppFactory.create(name="Shop")
    response = admin.post(
        reverse("app_edit", args=[app.pk]), edit_form(app, name="", rate_limit="")
    )
    page = response.content.decode()
    assert "Edit Shop" in page
    assert field_errors(response, "name") == ["This field is required."]
    app.refresh_from_db()
    assert app.name == "Shop"


def test_saving_an_unchanged_form_records_nothing(admin: Client) -> None:
    app = MobileAppFactory.create(test_targets="user1\nuser2")
    # Browsers send a textarea's line ends as CRLF: the same IDs are no change.
    admin.post(reverse("app_edit", args=[app.pk]), edit_form(app, test_targets="user1\r\nuser2"))
    assert events(app, "changed") == []


def test_the_edit_form_tells_how_to_keep_the_secret_and_shows_only_its_last_four(
    admin: Client,
) -> None:
    app = MobileAppFactory.create(access_key_secret=Secret("abcdefgh-WXYZ"))
    page = admin.get(reverse("app_edit", args=[app.pk])).content.decode()
    assert "Leave blank to keep the stored secret (••••WXYZ)" in page
    assert "abcdefgh" not in page


# -- the list -------------------------------------------------------------------------------


def test_an_empty_list_says_how_to_register_the_first_app(admin: Client) -> None:
    page = admin.get(reverse("app_list")).content.decode()
    assert "No apps yet" in page
    assert "Register the first app" in page
    assert reverse("app_create") in page


def test_the_list_filters_by_name_provider_and_status(admin: Client) -> None:
    MobileAppFactory.create(name="Shop Android")
    EmasAppFactory.create(name="Shop EMAS")
    MobileAppFactory.create(name="Games", is_active=False)

    def names(query: str) -> list[str]:
        page = admin.get(f"{reverse('app_list')}?{query}").context["page"]
        return [app.name for app in page.object_list]

    assert names("") == ["Games", "Shop Android", "Shop EMAS"]
    assert names("q=shop") == ["Shop Android", "Shop EMAS"]
    assert names("provider=emas") == ["Shop EMAS"]
    assert names("active=no") == ["Games"]
    assert names("active=yes&order=-name") == ["Shop EMAS", "Shop Android"]


def test_a_filter_that_matches_nothing_says_so_and_offers_all_apps(admin: Client) -> None:
    MobileAppFactory.create(name="Shop")
    page = admin.get(f"{reverse('app_list')}?q=nothing-like-it").content.decode()
    assert "No app matches these filters" in page
    assert "Show all apps" in page


def test_the_list_answers_an_htmx_filter_with_the_table_alone(admin: Client) -> None:
    MobileAppFactory.create(name="Shop")
    response = admin.get(
        f"{reverse('app_list')}?q=sh", headers={"HX-Request": "true", "HX-Target": "app-table"}
    )
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="app-table">')
    assert "Shop" in page
    assert "HX-Request" in response["Vary"]


def test_the_list_makes_as_many_queries_for_twenty_apps_as_for_two(admin: Client) -> None:
    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin.get(reverse("app_list")).status_code == 200
        return len(queries)

    MobileAppFactory.create_batch(2)
    EmasAppFactory.create()
    few = queries_for_list()
    MobileAppFactory.create_batch(12)
    EmasAppFactory.create_batch(8)
    assert queries_for_list() == few


# -- the detail page and "Test connection" --------------------------------------------------


def test_the_detail_page_shows_the_ids_and_only_the_masked_secret(admin: Client) -> None:
    app = MobileAppFactory.create(access_key_secret=Secret("visible-nowhere-4321"))
    page = admin.get(reverse("app_detail", args=[app.pk])).content.decode()
    assert "ONEX570DA89211721" in page
    assert "••••4321" in page
    assert "visible-nowhere" not in page


def test_testing_the_connection_on_the_sandbox_says_it_works(admin: Client) -> None:
    app = MobileAppFactory.create()
    response = admin.post(reverse("app_test_connection", args=[app.pk]))
    assert response.status_code == 200  # without JavaScript: the whole page, with the result
    page = response.content.decode()
    assert "Connected: the keys and the app IDs work." in page
    assert "<title>" in page
    [tested] = events(app, "tested")
    assert tested.changes["ok"] == [None, True]


def test_testing_the_connection_with_htmx_answers_the_result_and_refreshes_the_history(
    admin: Client,
) -> None:
    app = EmasAppFactory.create(emas_app_key_ios="")
    response = admin.post(
        reverse("app_test_connection", args=[app.pk]),
        headers={"HX-Request": "true", "HX-Target": "connection-result"},
    )
    page = response.content.decode()
    assert "Connected: the keys and the app IDs work." in page
    assert "<title>" not in page
    assert response["HX-Trigger"] == '{"app-tested": {}}'
    history = admin.get(
        reverse("app_detail", args=[app.pk]),
        headers={"HX-Request": "true", "HX-Target": "app-history"},
    ).content.decode()
    assert "tested the connection: it works" in history


def test_a_wrong_secret_fails_the_test_in_words_with_the_code_and_request_id(
    admin: Client,
) -> None:
    app = MobileAppFactory.create(access_key_secret=Secret("not-the-sandbox-secret"))
    response = admin.post(
        reverse("app_test_connection", args=[app.pk]),
        headers={"HX-Request": "true", "HX-Target": "connection-result"},
    )
    page = response.content.decode()
    assert "The AccessKey secret is wrong (SignatureDoesNotMatch)." in page
    [tested] = events(app, "tested")
    assert tested.changes["ok"] == [None, False]
    assert tested.changes["code"] == [None, "SignatureDoesNotMatch"]
    request_id = tested.changes["request_id"][1]
    assert request_id
    assert request_id in page


def test_the_history_tells_who_did_what_to_the_app(admin: Client) -> None:
    admin.post(reverse("app_create"), app_form())
    app = MobileApp.objects.get()
    admin.post(reverse("app_edit", args=[app.pk]), edit_form(app, access_key_secret="other"))
    admin.post(reverse("app_test_connection", args=[app.pk]))
    history = [
        entry.summary
        for entry in admin.get(reverse("app_detail", args=[app.pk])).context["history"]
    ]
    assert history == [
        "tested the connection: it failed (SignatureDoesNotMatch)",
        "changed AccessKey secret",
        "registered the app",
    ]


# -- deactivate and delete ------------------------------------------------------------------


def test_deleting_an_unused_app_asks_first_then_deletes_it_and_records_it(admin: Client) -> None:
    app = MobileAppFactory.create(name="Old app")
    confirm = admin.get(reverse("app_delete", args=[app.pk])).content.decode()
    assert "Delete Old app?" in confirm
    assert MobileApp.objects.filter(pk=app.pk).exists()
    response = admin.post(reverse("app_delete", args=[app.pk]))
    assert response["Location"] == reverse("app_list")
    assert not MobileApp.objects.filter(pk=app.pk).exists()
    [deleted] = AuditEvent.objects.filter(action="deleted")
    assert (deleted.object_repr, deleted.object_id) == ("Old app", str(app.pk))


def test_an_app_that_templates_or_audiences_use_is_deactivated_instead_of_deleted(
    admin: Client,
) -> None:
    app = MobileAppFactory.create(name="Busy app")
    MessageTemplateFactory.create(app=app)
    AudienceFactory.create(app=app)
    confirm = admin.get(reverse("app_delete", args=[app.pk])).content.decode()
    assert "Busy app cannot be deleted" in confirm
    assert "Deactivate the app" in confirm
    assert admin.post(reverse("app_delete", args=[app.pk])).status_code == 200
    assert MobileApp.objects.filter(pk=app.pk).exists()

    response = admin.post(reverse("app_deactivate", args=[app.pk]))
    assert response["Location"] == reverse("app_detail", args=[app.pk])
    app.refresh_from_db()
    assert not app.is_active
    [deactivated] = events(app, "deactivated")
    assert deactivated.changes == {"is_active": [True, False]}
