"""The AccessKey secret is write-only: never rendered, logged, audited or given to Celery."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from celery import Celery
from celery.app.task import Task
from django.test import Client
from django.urls import reverse

from campaigns.encryption import Secret
from campaigns.models import AuditEvent, MobileApp
from campaigns.tasks import tick
from tests.campaigns.views.test_apps import app_form, edit_form
from tests.factories import MessageTemplateFactory, MobileAppFactory

pytestmark = pytest.mark.django_db

SECRET = "Zq9-TOP-SECRET-value-Xy77"
TELLTALE = "TOP-SECRET"  # any part of the secret but its last four characters


@pytest.fixture
def app() -> MobileApp:
    return MobileAppFactory.create(access_key_secret=Secret(SECRET))


def test_no_page_of_the_app_shows_its_secret(admin: Client, app: MobileApp) -> None:
    used = MobileAppFactory.create(access_key_secret=Secret(SECRET), name="Used")
    MessageTemplateFactory.create(app=used)
    htmx = {"HX-Request": "true", "HX-Target": "connection-result"}
    pages = {
        "list": admin.get(reverse("app_list")),
        "detail": admin.get(reverse("app_detail", args=[app.pk])),
        "edit form": admin.get(reverse("app_edit", args=[app.pk])),
        "edit refused": admin.post(
            reverse("app_edit", args=[app.pk]),
            edit_form(app, access_key_secret=SECRET, time_zone="Mars/Olympus"),
        ),
        "create refused": admin.post(
            reverse("app_create"), app_form(access_key_secret=SECRET, mpaas_app_id="")
        ),
        "test result": admin.post(reverse("app_test_connection", args=[app.pk])),
        "test result (htmx)": admin.post(
            reverse("app_test_connection", args=[app.pk]), headers=htmx
        ),
        "delete": admin.get(reverse("app_delete", args=[app.pk])),
        "delete refused": admin.post(reverse("app_delete", args=[used.pk])),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        assert TELLTALE not in response.content.decode(), f"the secret shows on {name}"
    assert "••••Xy77" in pages["detail"].content.decode()
    refused = pages["create refused"].content.decode()
    assert 'name="access_key_secret"' in refused
    assert "An mPaaS app needs its appId." in refused


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every logger at DEBUG, httpx's too (settings keep it at WARNING)."""
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "django", "campaigns", "celery"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_the_secret_is_never_logged_while_an_app_is_registered_and_tested(
    admin: Client, everything_logged: pytest.LogCaptureFixture
) -> None:
    admin.post(reverse("app_create"), app_form(access_key_secret=SECRET, mpaas_app_id=""))
    admin.post(reverse("app_create"), app_form(access_key_secret=SECRET))
    app = MobileApp.objects.get()
    admin.post(reverse("app_test_connection", args=[app.pk]))  # the wrong secret for the sandbox
    admin.post(reverse("app_edit", args=[app.pk]), edit_form(app, access_key_secret=SECRET + "2"))
    assert everything_logged.records, "nothing was logged: the test would prove nothing"
    for record in everything_logged.records:
        assert TELLTALE not in record.getMessage()
        assert TELLTALE not in repr(record.args)
    assert TELLTALE not in everything_logged.text


def test_the_secret_never_reaches_the_audit_trail(admin: Client) -> None:
    admin.post(reverse("app_create"), app_form(access_key_secret=SECRET))
    app = MobileApp.objects.get()
    admin.post(reverse("app_edit", args=[app.pk]), edit_form(app, access_key_secret=SECRET + "2"))
    admin.post(reverse("app_test_connection", args=[app.pk]))
    admin.post(reverse("app_deactivate", args=[app.pk]))
    admin.post(reverse("app_delete", args=[app.pk]))
    trail = list(AuditEvent.objects.values("action", "changes", "object_repr"))
    assert [event["action"] for event in trail] == [
        "deleted",
        "deactivated",
        "tested",
        "changed",
        "created",
    ]
    assert TELLTALE not in repr(trail)
    assert "Xy77" not in repr(trail)  # not even the last four


@pytest.fixture
def tasks_sent() -> Iterator[list[tuple[Any, ...]]]:
    """Every Celery task enqueued, however it was (delay, apply_async, send_task)."""
    sent: list[tuple[Any, ...]] = []

    def keep(*args: Any, **kwargs: Any) -> None:
        sent.append((args, kwargs))

    with (
        mock.patch.object(Task, "apply_async", autospec=True, side_effect=keep),
        mock.patch.object(Celery, "send_task", autospec=True, side_effect=keep),
    ):
        yield sent


def test_no_celery_task_carries_the_secret_none_is_even_sent(
    admin: Client, tasks_sent: list[tuple[Any, ...]]
) -> None:
    admin.post(reverse("app_create"), app_form(access_key_secret=SECRET))
    app = MobileApp.objects.get()
    admin.post(reverse("app_test_connection", args=[app.pk]))
    admin.post(reverse("app_edit", args=[app.pk]), edit_form(app, access_key_secret=SECRET + "2"))
    assert tasks_sent == []
    tick.delay()  # the spy does see a task that is sent
    assert len(tasks_sent) == 1


def test_the_views_that_receive_the_secret_hide_it_from_error_reports(admin: Client) -> None:
    for url in (reverse("app_create"), reverse("app_edit", args=[MobileAppFactory.create().pk])):
        response = admin.get(url)
        assert response.wsgi_request.sensitive_post_parameters == ("access_key_secret",)  # type: ignore[attr-defined]
