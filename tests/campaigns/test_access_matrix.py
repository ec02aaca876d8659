"""Every named URL, for every persona, answers with the status the table says.

A new URL without a row here fails the suite: whoever adds a page decides who may see it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import PERSONAS

# Django's own admin is guarded by is_staff and tested by Django; its URLs are not ours.
EXCLUDED_NAMESPACES = {"admin"}

SIGNED_IN = {"outsider": 200, "viewer": 200, "marketer": 200, "admin": 200}
CONSOLE = {"outsider": 403, "viewer": 200, "marketer": 200, "admin": 200}
SENDERS = {"outsider": 403, "viewer": 403, "marketer": 200, "admin": 200}
ADMINS = {"outsider": 403, "viewer": 403, "marketer": 403, "admin": 200}

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
