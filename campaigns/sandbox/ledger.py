"""Recording accepted pushes, once per message key.

``accept`` is the one way handlers record a push: message keys already in the ledger are
not delivered again (their ``attempts`` grow instead), which is the idempotency the dispatch
engine relies on. A row is what was accepted — target, message key, content, time —; what
became of it is derived from the push's seed and delivery settings (``delivery.fate``), so
recording a 100-target call is two inserts and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import F

from campaigns.models import SandboxMessage, SandboxPush
from campaigns.sandbox.delivery import Delivery
from campaigns.sandbox.registry import SandboxApp

_MESSAGE_COLUMNS = "push_id, app, accepted_at, attempts, msg_key, target, title, body"
# A key another call recorded a moment ago is skipped, not an error. SQLite takes the rows
# one by one (executemany); PostgreSQL takes one statement with a column of each, which
# costs this process half the CPU of psycopg's executemany.
_INSERT_MESSAGES = (
    f"INSERT INTO {SandboxMessage._meta.db_table} ({_MESSAGE_COLUMNS}) "  # noqa: S608
    "VALUES (%s, %s, %s, 1, %s, %s, %s, %s) ON CONFLICT (app, msg_key) DO NOTHING"
)
_INSERT_MESSAGE_COLUMNS = (
    f"INSERT INTO {SandboxMessage._meta.db_table} ({_MESSAGE_COLUMNS}) "  # noqa: S608
    "SELECT %s, %s, %s, 1, * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) "
    "ON CONFLICT (app, msg_key) DO NOTHING"
)


def _insert_messages(push_id: int, app: str, stamp: Any, messages: Sequence[Outgoing]) -> int:
    """Insert the messages whose keys are new; how many that was."""
    if not messages:
        return 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            columns = [
                [message.msg_key for message in messages],
                [message.target for message in messages],
                [message.title for message in messages],
                [message.body for message in messages],
            ]
            cursor.execute(_INSERT_MESSAGE_COLUMNS, [push_id, app, stamp, *columns])
        else:
            cursor.executemany(
                _INSERT_MESSAGES,
                [(push_id, app, stamp, m.msg_key, m.target, m.title, m.body) for m in messages],
            )
        inserted: int = cursor.rowcount
    return inserted


_PUSH_FIELDS = [field for field in SandboxPush._meta.concrete_fields if not field.primary_key]
_INSERT_PUSH = (
    f"INSERT INTO {SandboxPush._meta.db_table} "  # noqa: S608
    f"({', '.join(field.column for field in _PUSH_FIELDS)}) "
    f"VALUES ({', '.join(['%s'] * len(_PUSH_FIELDS))}) RETURNING id"
)


def _insert(push: SandboxPush) -> None:
    """``push.save()`` in one plain statement: at thousands of calls a second, the ORM's
    compiler took a third of the time a call spends in the ledger."""
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_PUSH,
            [
                field.get_db_prep_save(getattr(push, field.attname), connection)
                for field in _PUSH_FIELDS
            ],
        )
        (push.pk,) = cursor.fetchone()
    push._state.adding = False
    push._state.db = connection.alias


@dataclass(frozen=True)
class Outgoing:
    """One target of a push, as the handler understood it."""

    target: str
    msg_key: str
    title: str = ""
    body: str = ""


@dataclass(frozen=True)
class Accepted:
    push: SandboxPush
    delivered: int  # new message keys, now in the ledger
    repeated: int  # message keys the ledger already had: not delivered again


def accept(
    *,
    app: SandboxApp,
    push_fields: dict[str, Any],
    messages: Sequence[Outgoing],
    seed: int,
    accepted_at: datetime,
    delivery: Delivery,
) -> Accepted:
    """Record a push and its new messages. When every message key was seen before, the
    push of the first of them is returned and nothing new is recorded."""
    keys = [message.msg_key for message in messages]
    with transaction.atomic():
        push = SandboxPush(
            app=app.key,
            accepted_at=accepted_at,
            target_count=len(messages),
            seed=seed,
            expires_after_s=delivery.expires_after_s,
            sms_delay_s=delivery.sms_delay_s,
            sms_unless_opened=delivery.sms_unless_opened,
            device_type=delivery.device_type,
            **push_fields,
        )
        _insert(push)
        stamp = SandboxMessage._meta.get_field("accepted_at").get_db_prep_value(
            accepted_at, connection
        )
        # Keys already recorded are skipped; the usual case — none of them — needs no
        # other query.
        delivered = _insert_messages(push.pk, app.key, stamp, messages)
        if delivered == len(messages):
            return Accepted(push, delivered=delivered, repeated=0)
        seen = dict(
            SandboxMessage.objects.filter(app=app.key, msg_key__in=keys)
            .exclude(push=push)
            .values_list("msg_key", "push_id")
        )
        SandboxMessage.objects.filter(app=app.key, msg_key__in=list(seen)).update(
            attempts=F("attempts") + 1
        )
        if delivered == 0:
            push.delete()
            first = SandboxPush.objects.get(pk=seen[keys[0]])
            return Accepted(first, delivered=0, repeated=len(seen))
        push.target_count = delivered
        push.save(update_fields=["target_count"])
    return Accepted(push, delivered=delivered, repeated=len(seen))
