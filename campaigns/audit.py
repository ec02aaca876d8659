"""Writing the audit trail: every create, change, delete or action on a console object.

``record`` is the one way to add an event. Changes are ``{field: [before, after]}`` with
secret fields masked, so an event never carries a secret, even encrypted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django import forms
from django.db import models
from django.http import HttpRequest

from campaigns.client_address import client_ip
from campaigns.encryption import MASK, Secret
from campaigns.models import AuditEvent

Changes = dict[str, list[Any]]


def _plain(value: Any) -> Any:
    """A value as JSON can hold it."""
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping):
        return [_plain(item) for item in value]
    return value


def form_changes(form: forms.ModelForm[Any], secret_fields: Iterable[str] = ()) -> Changes:
    """What a saved form changed, before and after; secret fields only say that they did."""
    secrets = set(secret_fields)
    changes: Changes = {}
    for name in form.changed_data:
        if name in secrets:
            if form.cleaned_data.get(name):
                changes[name] = [MASK, MASK]
            continue
        before = form.initial.get(name)
        after = form.cleaned_data.get(name)
        changes[name] = [_plain(before), _plain(after)]
    return changes


def record(
    request: HttpRequest | None,
    action: str,
    obj: models.Model,
    changes: Changes | None = None,
    *,
    actor: Any = None,
) -> AuditEvent:
    """Add an event for ``obj``; ``request`` gives the actor and address (neither: the
    system). ``actor`` names who acted when there is no request (demo data, commands)."""
    user = getattr(request, "user", None) if request is not None else actor
    actor = user if user is not None and user.is_authenticated else None
    return AuditEvent.objects.create(
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "system",
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        changes={name: [_plain(v) for v in pair] for name, pair in (changes or {}).items()},
        ip=client_ip(request) if request is not None else None,
    )
