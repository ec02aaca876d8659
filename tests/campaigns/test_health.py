from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

from campaigns.models import Heartbeat
from config.celery import app as celery_app


@pytest.fixture
def unreachable_broker(monkeypatch: pytest.MonkeyPatch) -> str:
    # Port 9 on loopback: nothing listens there, so connecting is refused at once.
    url = "redis://:broker-password@127.0.0.1:9/0"
    # Celery reads CELERY_BROKER_URL from the environment before its own configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    monkeypatch.setattr(celery_app.conf, "broker_url", url)
    return url


@pytest.mark.django_db
def test_it_reports_ok_for_database_and_broker_without_sign_in(client: Client) -> None:
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["broker"]["status"] == "ok"


@pytest.mark.django_db
def test_it_answers_503_naming_the_broker_when_it_is_down(
    client: Client, unreachable_broker: str
) -> None:
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["broker"]["status"] == "error"
    assert body["checks"]["database"]["status"] == "ok"
    assert "broker-password" not in response.content.decode()


@pytest.mark.django_db
def test_it_answers_503_naming_the_database_when_it_fails(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr("campaigns.health.connection.cursor", refuse)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {
        "status": "error",
        "ms": response.json()["checks"]["database"]["ms"],
        "error": "OperationalError",
    }


@pytest.mark.django_db
def test_it_tells_when_the_scheduler_last_ticked(client: Client) -> None:
    assert client.get(reverse("healthz")).json()["scheduler"] == {"status": "never seen"}
    Heartbeat.record("tick")
    scheduler = client.get(reverse("healthz")).json()["scheduler"]
    assert scheduler["status"] == "ok"
    assert scheduler["last_tick_seconds_ago"] < 5
