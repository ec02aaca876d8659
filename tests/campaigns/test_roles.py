from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from campaigns.roles import Role, assign_role, roles_of
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "allowed", "refused"),
    [
        (
            Role.VIEWER,
            {"view_console"},
            {"compose_campaign", "send_campaign", "manage_credentials"},
        ),
        (
            Role.MARKETER,
            {"view_console", "compose_campaign", "send_campaign"},
            {"approve_campaign", "manage_credentials"},
        ),
        (
            Role.ADMIN,
            {
                "view_console",
                "compose_campaign",
                "send_campaign",
                "approve_campaign",
                "manage_credentials",
            },
            set(),
        ),
    ],
)
def test_each_role_holds_exactly_its_permissions(
    role: Role, allowed: set[str], refused: set[str]
) -> None:
    user = make_user(role=role)
    for codename in allowed:
        assert user.has_perm(f"campaigns.{codename}")
    for codename in refused:
        assert not user.has_perm(f"campaigns.{codename}")


def test_a_user_without_a_role_has_no_console_permission() -> None:
    assert not make_user().has_perm("campaigns.view_console")


def test_assigning_a_role_replaces_the_previous_one() -> None:
    user = make_user(role=Role.ADMIN)
    assign_role(user, Role.VIEWER)
    assert roles_of(user) == [Role.VIEWER]
    assert list(Group.objects.filter(user=user).values_list("name", flat=True)) == ["Viewer"]


def test_create_user_makes_a_user_with_a_role(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUSHDECK_USER_PASSWORD", "a-good-Passphrase-7")
    call_command("create_user", "carol", "--role", "marketer", "--no-input")
    carol = get_user_model().objects.get(username="carol")
    assert carol.check_password("a-good-Passphrase-7")
    assert roles_of(carol) == [Role.MARKETER]


def test_create_user_changes_the_role_of_an_existing_user_and_keeps_the_password() -> None:
    user = make_user(username="dave", role=Role.MARKETER)
    call_command("create_user", "dave", "--role", "viewer", "--no-input")
    user.refresh_from_db()
    assert roles_of(user) == [Role.VIEWER]
    assert user.check_password("correct-horse-battery-staple")


def test_create_user_refuses_a_weak_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUSHDECK_USER_PASSWORD", "12345678")
    with pytest.raises(CommandError, match="too common"):
        call_command("create_user", "erin", "--role", "viewer", "--no-input")
    assert not get_user_model().objects.filter(username="erin").exists()


def test_roles_come_back_with_their_permissions_after_a_migrate() -> None:
    Group.objects.filter(name=Role.MARKETER.value).delete()
    call_command("migrate", verbosity=0)
    marketer = make_user(role=Role.MARKETER)
    assert marketer.has_perm("campaigns.send_campaign")
    assert not marketer.has_perm("campaigns.approve_campaign")
