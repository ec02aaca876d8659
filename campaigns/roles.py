"""The three roles of the console, kept as Django groups.

Which permissions each group holds is set by migrations (0002_roles and later ones), so a
database always matches the code that migrated it.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, Group
from django.db import models
from django.utils.translation import gettext_lazy as _

from campaigns.models import User


class Role(models.TextChoices):
    ADMIN = "Admin", _("Admin")
    MARKETER = "Marketer", _("Marketer")
    VIEWER = "Viewer", _("Viewer")


def assign_role(user: User, role: Role) -> None:
    """Give ``user`` exactly one role: the others are taken away."""
    user.groups.remove(*Group.objects.filter(name__in=Role.values).exclude(name=role.value))
    user.groups.add(Group.objects.get(name=role.value))


def roles_of(user: User | AnonymousUser) -> list[Role]:
    if isinstance(user, AnonymousUser):
        return []
    names = user.groups.filter(name__in=Role.values).values_list("name", flat=True)
    return [Role(name) for name in names]
