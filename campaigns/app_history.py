"""An app's history as its detail page tells it: the latest audit events, each in words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext as _

from campaigns.models import AuditEvent, MobileApp

HISTORY_SIZE = 10
# Form fields that are not model fields, by the words a page uses for them.
FORM_ONLY_FIELDS = {"custom_endpoint": "endpoint"}


@dataclass(frozen=True)
class HistoryEntry:
    event: AuditEvent
    summary: str


def app_history(app: MobileApp, limit: int = HISTORY_SIZE) -> list[HistoryEntry]:
    events = AuditEvent.objects.filter(
        object_type=MobileApp._meta.label_lower, object_id=str(app.pk)
    )[:limit]
    return [HistoryEntry(event, summary(event)) for event in events]


def summary(event: AuditEvent) -> str:
    changes: dict[str, Any] = event.changes or {}
    if event.action == "tested":
        ok = (changes.get("ok") or [None, False])[1]
        if ok:
            return _("tested the connection: it works")
        code = (changes.get("code") or [None, ""])[1]
        return _("tested the connection: it failed (%(code)s)") % {"code": code or _("no code")}
    if event.action == "changed":
        fields = ", ".join(dict.fromkeys(_field_label(name) for name in changes))
        return _("changed %(fields)s") % {"fields": fields}
    words = {
        "created": _("registered the app"),
        "deleted": _("deleted the app"),
        "deactivated": _("deactivated the app"),
    }
    return str(words.get(event.action, event.action))


def _field_label(name: str) -> str:
    try:
        field = MobileApp._meta.get_field(FORM_ONLY_FIELDS.get(name, name))
    except FieldDoesNotExist:
        field = None
    if isinstance(field, models.Field):
        return str(field.verbose_name)
    return name.replace("_", " ")
