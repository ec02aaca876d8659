from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.sandbox import control, ledger
from campaigns.sandbox.delivery import Delivery, fate
from campaigns.sandbox.registry import APPS
from campaigns.views import sandbox as sandbox_views

APP = APPS["ONEX570DA89211721:test"]


@pytest.fixture(autouse=True)
def fresh_settings() -> None:
    control.forget_cache()


DELIVERY = Delivery(expires_after_s=3 * 24 * 3600)


def deliver(title: str, body: str, target: str = "user7", key: str = "k-1") -> None:
    ledger.accept(
        app=APP,
        push_fields={
            "provider": "mpaas",
            "action": "PushSimple",
            "task_id": key,
            "request_id": "R",
        },
        messages=[ledger.Outgoing(target, key, title, body)],
        seed=0,
        accepted_at=control.simulated_now(),
        delivery=DELIVERY,
    )


def test_the_inbox_shows_what_a_device_received_once_it_arrived(marketer: Client) -> None:
    deliver("Spring sale", "50% off today")
    url = f"{reverse('sandbox_inbox')}?app={APP.key}&target=user7"
    assert b"50% off today" not in marketer.get(url).content  # still on its way
    control.advance_clock(timedelta(hours=7).total_seconds())
    page = marketer.get(url).content.decode()
    assert "Spring sale" in page
    assert "50% off today" in page


def test_a_target_the_registry_does_not_know_never_receives(marketer: Client) -> None:
    deliver("Hello", "Nobody home", target="stranger", key="k-2")
    control.advance_clock(timedelta(days=3).total_seconds())
    url = f"{reverse('sandbox_inbox')}?app={APP.key}&target=stranger"
    page = marketer.get(url).content.decode()
    assert "Nobody home" not in page
    assert "Nothing has arrived on this device yet." in page


def test_the_inbox_without_pushes_says_how_to_fill_it(marketer: Client) -> None:
    page = marketer.get(reverse("sandbox_inbox")).content.decode()
    assert "No push has reached this app's simulated devices yet." in page


def test_the_inbox_needs_few_queries(marketer: Client) -> None:
    for n in range(30):
        deliver("T", "B", target=f"user{n}", key=f"key-{n}")
    control.advance_clock(timedelta(days=1).total_seconds())
    with CaptureQueriesContext(connection) as queries:
        assert marketer.get(reverse("sandbox_inbox")).status_code == 200
    assert len(queries) <= 12


def test_an_admin_sets_faults_for_every_sandbox_process(admin: Client) -> None:
    form = {
        "latency_ms": 50,
        "error_rate": 0.05,
        "throttle_rate": 0.01,
        "timeout_rate": 0,
        "drop_rate": 0,
        "seed": 3,
    }
    response = admin.post(reverse("sandbox_controls"), form, follow=True)
    assert b"Sandbox settings saved" in response.content
    control.forget_cache()
    current = control.current()
    assert (current.latency_ms, current.error_rate, current.seed) == (50, 0.05, 3)


def test_fault_rates_above_every_call_are_refused_with_the_rule(admin: Client) -> None:
    form = {
        "latency_ms": 0,
        "error_rate": 0.6,
        "throttle_rate": 0.6,
        "timeout_rate": 0,
        "drop_rate": 0,
        "seed": 0,
    }
    response = admin.post(reverse("sandbox_controls"), form)
    assert response.status_code == 200
    assert b"Together the fault rates cannot pass 1" in response.content
    assert control.current().error_rate == 0


def test_an_admin_advances_the_simulated_clock(admin: Client) -> None:
    before = control.simulated_now()
    admin.post(reverse("sandbox_advance_clock"), {"hours": 2})
    control.forget_cache()
    assert control.simulated_now() - before >= timedelta(hours=2)


def test_the_inbox_opens_on_a_device_that_has_received_something(marketer: Client) -> None:
    deliver("Spring sale", "50% off today", target="user7", key="k-1")  # arrives (seed 0)
    deliver("Hello", "Nobody home", target="stranger", key="k-never")
    control.advance_clock(timedelta(hours=7).total_seconds())
    page = marketer.get(f"{reverse('sandbox_inbox')}?app={APP.key}").content.decode()
    assert "target=user7" in page
    assert "target=stranger" not in page
    assert "50% off today" in page


def test_a_notification_shows_opened_only_once_its_simulated_open_has_happened(
    marketer: Client,
) -> None:
    # A message key whose simulated fate is: arrives within a minute, opened later.
    key, opened_after_s = next(
        (key, one.open_after_s)
        for key in (f"k-{n}" for n in range(10_000))
        if (one := fate(APP, "user7", key, seed=0, delivery=DELIVERY)).open_after_s
        and one.arrive_after_s is not None
        and one.arrive_after_s < 60 < one.open_after_s
    )
    deliver("Spring sale", "50% off today", key=key)
    url = f"{reverse('sandbox_inbox')}?app={APP.key}&target=user7"
    control.advance_clock(60)
    page = marketer.get(url).content.decode()
    assert "50% off today" in page
    assert "· opened" not in page
    control.advance_clock(opened_after_s)
    assert "· opened" in marketer.get(url).content.decode()


def test_the_phone_refreshes_itself_without_the_rest_of_the_page(marketer: Client) -> None:
    deliver("Spring sale", "50% off today")
    control.advance_clock(timedelta(hours=7).total_seconds())
    url = f"{reverse('sandbox_inbox')}?app={APP.key}&target=user7"
    page = marketer.get(url).content.decode()
    assert 'hx-trigger="every 5s"' in page
    phone = marketer.get(url, headers={"HX-Request": "true", "HX-Target": "phone"})
    html = phone.content.decode()
    assert html.lstrip().startswith('<div class="phone" id="phone"')
    assert "50% off today" in html
    assert "<html" not in html


def test_the_inbox_looks_through_the_latest_messages_only(
    marketer: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The ledger has no index by target, so a device is looked for among the latest
    # INBOX_WINDOW messages: older ones are not shown.
    monkeypatch.setattr(sandbox_views, "INBOX_WINDOW", 3)
    deliver("Old news", "From long ago", key="k-old")
    for n in range(3):
        deliver("Other", "For someone else", target=f"user{20 + n}", key=f"k-other-{n}")
    deliver("Fresh news", "Just now", key="k-new")
    control.advance_clock(timedelta(days=3).total_seconds())
    page = marketer.get(f"{reverse('sandbox_inbox')}?app={APP.key}&target=user7").content
    assert b"Just now" in page
    assert b"From long ago" not in page
