"""Django's admin, for superusers: every issue-6 model, no secret, a read-only audit trail."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.audit import record
from campaigns.encryption import Secret
from campaigns.models import AuditEvent
from tests.factories import (
    AudienceFactory,
    MessageTemplateFactory,
    MobileAppFactory,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser() -> Client:
    user = make_user("root")
    user.is_staff = user.is_superuser = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "model",
    [
        "mobileapp",
        "messagetemplate",
        "templateversion",
        "audience",
        "audienceimport",
        "auditevent",
    ],
)
def test_a_superuser_browses_each_model(superuser: Client, model: str) -> None:
    template = MessageTemplateFactory.create()
    AudienceFactory.create(app=template.app)
    response = superuser.get(reverse(f"admin:campaigns_{model}_changelist"))
    assert response.status_code == 200


def test_the_admin_neither_shows_nor_takes_an_app_secret(superuser: Client) -> None:
    app = MobileAppFactory.create(access_key_secret=Secret("admin-never-sees-this"))
    page = superuser.get(reverse("admin:campaigns_mobileapp_change", args=[app.pk]))
    assert page.status_code == 200
    assert "access_key_secret" not in page.content.decode()
    assert "admin-never-sees" not in page.content.decode()
    assert superuser.get(reverse("admin:campaigns_mobileapp_add")).status_code == 403


def test_audit_events_are_read_only_in_the_admin(superuser: Client) -> None:
    event = record(None, "created", MobileAppFactory.create())
    change_url = reverse("admin:campaigns_auditevent_change", args=[event.pk])
    page = superuser.get(change_url).content.decode()
    assert 'name="_save"' not in page  # shown, but cannot be saved
    assert superuser.post(change_url, {"action": "forged"}).status_code == 403
    assert superuser.get(reverse("admin:campaigns_auditevent_add")).status_code == 403
    delete_url = reverse("admin:campaigns_auditevent_delete", args=[event.pk])
    assert superuser.post(delete_url, {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.get().action == "created"
