"""An app's provider client reaches the built-in sandbox in-process, signed with its keys."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.connections import emas_apps, emas_client, mpaas_app, mpaas_client
from campaigns.encryption import Secret
from campaigns.providers.errors import ProviderError
from tests.factories import EmasAppFactory, MobileAppFactory


@pytest.mark.django_db
def test_an_mpaas_app_on_the_sandbox_is_called_with_its_keys() -> None:
    app = MobileAppFactory.create()
    templates = mpaas_client(app).list_templates(mpaas_app(app))
    assert templates  # the sandbox's demo templates
    app.access_key_secret = Secret("not-the-secret")
    with pytest.raises(ProviderError) as refused:
        mpaas_client(app).list_templates(mpaas_app(app))
    assert refused.value.code == "SignatureDoesNotMatch"


@pytest.mark.django_db
def test_an_emas_app_is_called_per_platform_app_key() -> None:
    app = EmasAppFactory.create(emas_app_key_ios="")
    assert list(emas_apps(app)) == ["android"]
    now = timezone.now()
    page = emas_client(app).query_push_records(
        emas_apps(app)["android"], start=now - timedelta(days=1), end=now
    )
    assert page.request_id
