"""Message templates: a title and body with #placeholder# variables, per app, versioned."""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from campaigns.models.apps import MobileApp

PLACEHOLDER = re.compile(r"#(\w+)#")


def placeholders(*texts: str) -> list[str]:
    """The #placeholder# names in ``texts``, each once, in order of appearance."""
    names: dict[str, None] = {}
    for text in texts:
        names.update(dict.fromkeys(PLACEHOLDER.findall(text)))
    return list(names)


class MessageTemplateQuerySet(models.QuerySet["MessageTemplate"]):
    def usable(self) -> MessageTemplateQuerySet:
        """Templates that may be chosen for new work: archived ones are kept for the
        history of what was sent, never offered again."""
        return self.filter(is_archived=False)


class MessageTemplate(models.Model):
    class SyncState(models.TextChoices):
        LOCAL = "local", _("not synced")
        SYNCED = "synced", _("synced")
        OUTDATED = "outdated", _("changed since the last sync")
        FAILED = "failed", _("sync failed")

    app = models.ForeignKey(
        MobileApp, on_delete=models.PROTECT, related_name="templates", verbose_name=_("app")
    )
    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(_("title"), max_length=500)
    body = models.TextField(_("body"))
    version = models.PositiveIntegerField(default=1)
    is_archived = models.BooleanField(_("archived"), default=False)
    # The provider's template store (mPaaS): its id, and what it holds.
    remote_id = models.CharField(max_length=64, blank=True)
    sync_state = models.CharField(max_length=10, choices=SyncState.choices, default=SyncState.LOCAL)
    synced_version = models.PositiveIntegerField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    sync_message = models.TextField(blank=True)  # the provider's code and message on failure
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = MessageTemplateQuerySet.as_manager()

    class Meta:
        ordering = ["app", "name"]
        verbose_name = _("template")
        constraints = [
            models.UniqueConstraint(fields=["app", "name"], name="template_name_once_per_app")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def placeholders(self) -> list[str]:
        return placeholders(self.title, self.body)


class TemplateVersion(models.Model):
    """What a template said at one version: campaigns approved with it keep reading this."""

    template = models.ForeignKey(MessageTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=500)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["template", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="template_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.template} v{self.number}"
