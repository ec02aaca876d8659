"""Every named URL, for every persona, answers with the status the table says.

A new URL without a row here fails the suite: whoever adds a page decides who may see it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from campaigns.models import AudienceImport
from tests.conftest import PERSONAS
from tests.factories import (
    AudienceFactory,
    AudienceImportFactory,
    CampaignFactory,
    MessageTemplateFactory,
    MobileAppFactory,
)

# Django's own admin is guarded by is_staff and tested by Django; its URLs are not ours.
EXCLUDED_NAMESPACES = {"admin"}

SIGNED_IN = {"outsider": 200, "viewer": 200, "marketer": 200, "admin": 200}
CONSOLE = {"outsider": 403, "viewer": 200, "marketer": 200, "admin": 200}
SENDERS = {"outsider": 403, "viewer": 403, "marketer": 200, "admin": 200}
ADMINS = {"outsider": 403, "viewer": 403, "marketer": 403, "admin": 200}
# Templates and audiences: composers (marketers, admins) change them; a change redirects.
COMPOSERS = {"outsider": 403, "viewer": 403, "marketer": 200, "admin": 200}
COMPOSERS_ACT = {"outsider": 403, "viewer": 403, "marketer": 302, "admin": 302}
# Campaign moves (submit, schedule, approve…) return to the campaign page, done or refused.
SENDERS_ACT = {"outsider": 403, "viewer": 403, "marketer": 302, "admin": 302}
APPROVERS_ACT = {"outsider": 403, "viewer": 403, "marketer": 403, "admin": 302}


def a_template() -> int:
    return MessageTemplateFactory.create().pk


def an_archived_template() -> int:
    return MessageTemplateFactory.create(is_archived=True).pk


def an_app() -> int:
    return MobileAppFactory.create().pk


def an_audience() -> int:
    return AudienceFactory.create().pk


def an_archived_audience() -> int:
    return AudienceFactory.create(is_archived=True).pk


def a_campaign() -> int:
    return CampaignFactory.create().pk


def a_pending_campaign() -> int:
    return CampaignFactory.create(status="pending_approval").pk


def a_scheduled_campaign() -> int:
    return CampaignFactory.create(status="scheduled").pk


def a_running_import() -> int:
    return AudienceImportFactory.create(status=AudienceImport.Status.RUNNING).pk


def an_import_with_rejected_rows() -> int:
    finished = AudienceImportFactory.create(status=AudienceImport.Status.SUCCEEDED)
    finished.rejected_report.save("rejected.csv", ContentFile(b"line,reason,target\n"))
    return finished.pk


# url name -> (method, kwargs, {persona: status}); anonymous visitors of pages behind
# sign-in are redirected (302) unless a row says otherwise.
EXPECTED: dict[str, tuple[str, dict[str, object], dict[str, int]]] = {
    "dashboard": ("get", {}, CONSOLE),
    "healthz": ("get", {}, dict.fromkeys(PERSONAS, 200)),
    "login": ("get", {}, {"anonymous": 200, **dict.fromkeys(SIGNED_IN, 302)}),
    "logout": ("get", {}, dict.fromkeys(PERSONAS, 405)),
    "password_change": ("get", {}, SIGNED_IN),
    "password_change_done": ("get", {}, SIGNED_IN),
    # The sandbox gateway takes signed POSTs from API clients, never a browser's GET.
    "sandbox_gateway": ("get", {}, dict.fromkeys(PERSONAS, 405)),
    "sandbox_inbox": ("get", {}, SENDERS),
    "sandbox_controls": ("get", {}, ADMINS),
    "sandbox_advance_clock": ("get", {}, dict.fromkeys(SIGNED_IN, 405)),
    "app_list": ("get", {}, ADMINS),
    "app_create": ("get", {}, ADMINS),
    "app_detail": ("get", {"pk": an_app}, ADMINS),
    "app_edit": ("get", {"pk": an_app}, ADMINS),
    # One harmless signed call to the sandbox: the admin gets the page with its result.
    "app_test_connection": ("post", {"pk": an_app}, ADMINS),
    "app_delete": ("get", {"pk": an_app}, ADMINS),
    "app_deactivate": ("post", {"pk": an_app}, {**ADMINS, "admin": 302}),
    "message_template_list": ("get", {}, CONSOLE),
    "message_template_create": ("get", {}, COMPOSERS),
    "message_template_preview": ("get", {}, CONSOLE),
    "message_template_detail": ("get", {"pk": a_template}, CONSOLE),
    "message_template_edit": ("get", {"pk": a_template}, COMPOSERS),
    "message_template_sync": ("post", {"pk": a_template}, COMPOSERS_ACT),
    "message_template_archive": ("get", {"pk": a_template}, COMPOSERS),
    "message_template_restore": ("post", {"pk": an_archived_template}, COMPOSERS_ACT),
    "message_template_delete": ("get", {"pk": a_template}, COMPOSERS),
    "audience_list": ("get", {}, CONSOLE),
    "audience_create": ("get", {}, COMPOSERS),
    "audience_detail": ("get", {"pk": an_audience}, CONSOLE),
    "audience_edit": ("get", {"pk": an_audience}, COMPOSERS),
    "audience_archive": ("get", {"pk": an_audience}, COMPOSERS),
    "audience_restore": ("post", {"pk": an_archived_audience}, COMPOSERS_ACT),
    "audience_delete": ("get", {"pk": an_audience}, COMPOSERS),
    "audience_import": ("get", {"pk": an_audience}, COMPOSERS),
    "audience_import_detail": ("get", {"pk": a_running_import}, CONSOLE),
    "audience_import_cancel": ("post", {"pk": a_running_import}, COMPOSERS_ACT),
    "audience_import_rejected": ("get", {"pk": an_import_with_rejected_rows}, CONSOLE),
    "campaign_list": ("get", {}, CONSOLE),
    "calendar": ("get", {}, CONSOLE),
    "history": ("get", {}, CONSOLE),
    "history_export": ("get", {}, CONSOLE),
    "campaign_detail": ("get", {"pk": a_campaign}, CONSOLE),
    "campaign_create": ("get", {}, COMPOSERS),
    "campaign_progress": ("get", {"pk": a_campaign}, CONSOLE),
    # Results are read and exported by everyone with the console, viewers included.
    "campaign_batches": ("get", {"pk": a_campaign}, CONSOLE),
    "campaign_target_lookup": ("get", {"pk": a_campaign}, CONSOLE),
    "campaign_funnel_csv": ("get", {"pk": a_campaign}, CONSOLE),
    "campaign_targets_csv": ("get", {"pk": a_campaign}, CONSOLE),
    "campaign_pause": ("post", {"pk": a_campaign}, SENDERS_ACT),
    "campaign_resume": ("post", {"pk": a_campaign}, SENDERS_ACT),
    "campaign_cancel": ("post", {"pk": a_campaign}, SENDERS_ACT),
    "campaign_recall": ("post", {"pk": a_campaign}, SENDERS_ACT),
    "campaign_edit": ("get", {"pk": a_campaign}, COMPOSERS),
    # A preview or test send names the app and kind it is for: without them, 400.
    "campaign_preview": ("post", {}, {**COMPOSERS, "marketer": 400, "admin": 400}),
    "campaign_test_send": ("post", {}, {**SENDERS, "marketer": 400, "admin": 400}),
    "campaign_submit": ("post", {"pk": a_campaign}, COMPOSERS_ACT),
    "campaign_approve": ("post", {"pk": a_pending_campaign}, APPROVERS_ACT),
    "campaign_reject": ("post", {"pk": a_pending_campaign}, APPROVERS_ACT),
    "campaign_schedule": ("post", {"pk": a_campaign}, SENDERS_ACT),
    "campaign_unschedule": ("post", {"pk": a_scheduled_campaign}, SENDERS_ACT),
    "campaign_duplicate": ("post", {"pk": a_campaign}, COMPOSERS_ACT),
}


def named_urls(
    patterns: list[URLPattern | URLResolver] | None = None, namespace: str = ""
) -> Iterator[str]:
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in EXCLUDED_NAMESPACES:
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from named_urls(pattern.url_patterns, inner)
        elif pattern.name:
            yield f"{namespace}{pattern.name}"


def test_every_named_url_has_an_expectation() -> None:
    urls = set(named_urls())
    assert urls - EXPECTED.keys() == set(), "add these URLs to EXPECTED"
    assert EXPECTED.keys() - urls == set(), "these rows name URLs that no longer exist"


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("url_name", sorted(EXPECTED))
def test_persona_gets_expected_status(
    client_as: Callable[[str], Client], persona: str, url_name: str
) -> None:
    method, kwargs, statuses = EXPECTED[url_name]
    # A callable makes the object the URL names (a template, an app) for this persona's call.
    kwargs = {key: value() if callable(value) else value for key, value in kwargs.items()}
    expected = statuses.get(persona, 302 if persona == "anonymous" else None)
    assert expected is not None, f"no expectation for {persona} on {url_name}"
    response = getattr(client_as(persona), method)(reverse(url_name, kwargs=kwargs))
    assert response.status_code == expected
    if persona == "anonymous" and expected == 302:
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["outsider", "viewer", "marketer", "admin"])
def test_django_admin_is_closed_to_console_roles(
    client_as: Callable[[str], Client], persona: str
) -> None:
    response = client_as(persona).get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
