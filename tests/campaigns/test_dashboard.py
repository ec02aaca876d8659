from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse


def nav_keys(client: Client) -> list[str]:
    html = client.get(reverse("dashboard")).content.decode()
    return re.findall(r'data-nav="([a-z]+)"', html)


CONSOLE_NAV = ["dashboard", "campaigns", "calendar", "templates", "audiences", "history"]


def test_admin_sees_every_section_including_apps(admin: Client) -> None:
    assert nav_keys(admin) == [*CONSOLE_NAV[:5], "apps", "history", "sandbox"]


@pytest.mark.parametrize(
    ("persona", "navigation"),
    [("marketer", [*CONSOLE_NAV, "sandbox"]), ("viewer", CONSOLE_NAV)],
)
def test_non_admins_never_see_apps_and_credentials(
    persona: str, navigation: list[str], client_as: Callable[[str], Client]
) -> None:
    assert nav_keys(client_as(persona)) == navigation


def test_the_empty_dashboard_lists_next_steps_for_the_role(
    marketer: Client, viewer: Client
) -> None:
    marketer_page = marketer.get(reverse("dashboard")).content.decode()
    assert "No campaigns yet" in marketer_page
    assert "Compose and schedule a campaign" in marketer_page
    assert "Register an app" not in marketer_page
    viewer_page = viewer.get(reverse("dashboard")).content.decode()
    assert "Compose and schedule a campaign" not in viewer_page
    assert "Follow the results" in viewer_page


def test_admins_see_system_status_and_it_refreshes_as_a_partial(admin: Client) -> None:
    page = admin.get(reverse("dashboard")).content.decode()
    assert 'id="system-status"' in page
    partial = admin.get(
        reverse("dashboard"), headers={"HX-Request": "true", "HX-Target": "system-status"}
    ).content.decode()
    assert partial.lstrip().startswith('<section class="card" id="system-status"')
    assert "<html" not in partial


def test_marketers_do_not_see_system_status(marketer: Client) -> None:
    page = marketer.get(reverse("dashboard")).content.decode()
    assert 'id="system-status"' not in page


def test_an_outsider_is_told_to_ask_for_a_role(outsider: Client) -> None:
    response = outsider.get(reverse("dashboard"))
    assert response.status_code == 403
    assert b"Ask a Pushdeck admin" in response.content


def test_times_are_in_the_zone_the_browser_reports(viewer: Client) -> None:
    viewer.cookies["pushdeck_tz"] = "Asia/Shanghai"
    assert b"Times in Asia/Shanghai" in viewer.get(reverse("dashboard")).content
    viewer.cookies["pushdeck_tz"] = "Not/AZone"
    assert b"Times in UTC" in viewer.get(reverse("dashboard")).content


def test_pages_carry_a_content_security_policy_without_unsafe_inline(viewer: Client) -> None:
    policy = viewer.get(reverse("dashboard"))["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


def test_the_dashboard_needs_few_queries(admin: Client) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert admin.get(reverse("dashboard")).status_code == 200
    # session, user, user and group permissions, roles, database probe, heartbeat, and the
    # session save that extends the idle timeout (BEGIN, UPDATE, COMMIT)
    assert len(queries) <= 10


def test_senders_are_pointed_at_the_sandbox_inbox_and_viewers_are_not(
    marketer: Client, viewer: Client
) -> None:
    inbox = reverse("sandbox_inbox")
    assert f'href="{inbox}"' in marketer.get(reverse("dashboard")).content.decode()
    assert f'href="{inbox}"' not in viewer.get(reverse("dashboard")).content.decode()


@pytest.mark.django_db
def test_the_nav_marks_the_page_family_of_a_detail_page(admin: Client) -> None:
    from tests.factories import MobileAppFactory

    app = MobileAppFactory.create()
    page = admin.get(reverse("app_detail", args=[app.pk])).content.decode()
    assert 'aria-current="page" data-nav="apps"' in page
    assert page.count('aria-current="page"') == 1


@pytest.mark.django_db
def test_the_nav_marks_audiences_on_an_import_page(marketer: Client) -> None:
    from tests.factories import AudienceImportFactory

    page = marketer.get(
        reverse("audience_import_detail", args=[AudienceImportFactory.create().pk])
    ).content.decode()
    assert 'aria-current="page" data-nav="audiences"' in page
