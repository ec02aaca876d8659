"""Permissions come from a user's roles (groups) and own grants, in one query."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission

from campaigns.models import User
from campaigns.roles import Role
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)  # no permission cache


def test_a_role_grants_its_permissions_in_one_query(django_assert_num_queries: Any) -> None:
    viewer = fresh(make_user("viewer", Role.VIEWER))
    with django_assert_num_queries(1):
        assert viewer.has_perm("campaigns.view_console")
        assert not viewer.has_perm("campaigns.send_campaign")
        assert not viewer.has_perm("campaigns.manage_credentials")


def test_a_grant_to_the_user_counts_beside_the_role() -> None:
    viewer = make_user("viewer", Role.VIEWER)
    viewer.user_permissions.add(Permission.objects.get(codename="send_campaign"))
    viewer = fresh(viewer)
    assert viewer.has_perm("campaigns.send_campaign")
    assert viewer.has_perm("campaigns.view_console")


def test_an_inactive_user_has_none_and_a_superuser_has_every_one() -> None:
    admin = make_user("admin", Role.ADMIN)
    admin.is_active = False
    admin.save()
    assert not fresh(admin).has_perm("campaigns.view_console")
    boss = User.objects.create_superuser("boss", password="x-long-password-1")
    assert fresh(boss).has_perm("campaigns.manage_credentials")
    assert fresh(boss).has_perm("auth.delete_group")
