from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse

from campaigns.models import User
from campaigns.roles import Role
from tests.factories import PASSWORD, make_user


@pytest.fixture
def alice(db: None) -> User:
    return make_user(username="alice", role=Role.MARKETER)


def sign_in(client: Client, password: str, username: str = "alice") -> Any:
    return client.post(reverse("login"), {"username": username, "password": password})


def test_it_signs_in_and_lands_on_the_dashboard(client: Client, alice: User) -> None:
    response = sign_in(client, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200


def test_a_wrong_password_shows_an_error_and_keeps_the_username(
    client: Client, alice: User
) -> None:
    response = sign_in(client, "wrong")
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert b'value="alice"' in response.content


def test_ten_wrong_passwords_lock_sign_in_with_a_clear_message(client: Client, alice: User) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wrong").status_code == 200
    locked = sign_in(client, "wrong")
    assert locked.status_code == 429
    assert b"Too many failed sign-in attempts." in locked.content
    assert b"locked for 15 minutes" in locked.content
    # Even the right password is refused while locked.
    still_locked = sign_in(client, PASSWORD)
    assert still_locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lockout_ends_after_the_cool_off(client: Client, alice: User) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "wrong")
    assert sign_in(client, PASSWORD).status_code == 429
    cool_off = settings.AXES_COOLOFF_TIME + timedelta(seconds=1)
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= cool_off
        attempt.save()
    assert sign_in(client, PASSWORD).status_code == 302


def test_the_lockout_is_per_username_so_others_can_still_sign_in(
    client: Client, alice: User
) -> None:
    make_user(username="bob", role=Role.VIEWER)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "wrong")
    assert sign_in(client, PASSWORD, username="bob").status_code == 302


def test_sign_out_is_a_post_and_says_so(marketer: Client) -> None:
    assert marketer.get(reverse("logout")).status_code == 405
    response = marketer.post(reverse("logout"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("login"))
    assert b"You have signed out." in response.content
    assert marketer.get(reverse("dashboard")).status_code == 302


def test_password_change_keeps_the_user_signed_in(client: Client, alice: User) -> None:
    sign_in(client, PASSWORD)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-Passphrase-42",
            "new_password2": "a-new-Passphrase-42",
        },
    )
    assert response["Location"] == reverse("password_change_done")
    assert client.get(reverse("dashboard")).status_code == 200
    client.post(reverse("logout"))
    assert sign_in(client, "a-new-Passphrase-42").status_code == 302


def test_sessions_expire_after_inactivity_and_each_request_extends_them(marketer: Client) -> None:
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    response = marketer.get(reverse("dashboard"))
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == settings.SESSION_COOKIE_AGE


def test_an_htmx_request_after_the_session_ended_redirects_the_whole_page(
    client: Client,
) -> None:
    response = client.get(
        reverse("dashboard"),
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/?x=1"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{reverse('login')}?next=/%3Fx%3D1"
