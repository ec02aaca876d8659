"""The three roles of the console, kept as Django groups.

Migration 0002_roles creates them; after every ``migrate`` (and every test-database flush)
``sync_roles`` gives each group the permissions listed here, so a new permission reaches its
roles by a line in ``ROLE_PERMISSIONS``. It only adds: what an admin granted stays.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.db import models
from django.utils.translation import gettext_lazy as _

from campaigns.models import User


class Role(models.TextChoices):
    ADMIN = "Admin", _("Admin")
    MARKETER = "Marketer", _("Marketer")
    VIEWER = "Viewer", _("Viewer")


ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.VIEWER: ("view_console",),
    Role.MARKETER: ("view_console", "compose_campaign", "send_campaign"),
    Role.ADMIN: (
        "view_console",
        "compose_campaign",
        "send_campaign",
        "approve_campaign",
        "manage_credentials",
    ),
}


def sync_roles(using: str = "default", **kwargs: Any) -> None:
    """post_migrate receiver: each role group exists and holds its permissions."""
    permissions = {
        permission.codename: permission
        for permission in Permission.objects.using(using).filter(
            content_type__app_label="campaigns"
        )
    }
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=role.value)
        group.permissions.add(*(permissions[name] for name in codenames if name in permissions))


def assign_role(user: User, role: Role) -> None:
    """Give ``user`` exactly one role: the others are taken away."""
    user.groups.remove(*Group.objects.filter(name__in=Role.values).exclude(name=role.value))
    user.groups.add(Group.objects.get(name=role.value))


def roles_of(user: User | AnonymousUser) -> list[Role]:
    if isinstance(user, AnonymousUser):
        return []
    names = user.groups.filter(name__in=Role.values).values_list("name", flat=True)
    return [Role(name) for name in names]
