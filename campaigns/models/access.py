"""Console-wide permissions that belong to no single model.

The roles (Marketer, Admin, Viewer) are Django groups holding these permissions; views ask
for a permission, never for a role, so a role can be reshaped without touching views.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Access(models.Model):
    """Holds permissions only: no table, no rows."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_console", _("Can see campaigns, templates, audiences and results")),
            ("compose_campaign", _("Can create and edit campaigns, templates and audiences")),
            ("send_campaign", _("Can send test pushes and schedule campaigns")),
            ("approve_campaign", _("Can approve or reject campaigns")),
            ("manage_credentials", _("Can manage apps and their credentials")),
        ]

    def __str__(self) -> str:
        return "console access"
