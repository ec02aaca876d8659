"""Recording accepted pushes, once per message key.

``accept`` is the one way handlers record a push: message keys already in the ledger are
not delivered again (their ``attempts`` grow instead), which is the idempotency the dispatch
engine relies on. A row is what was accepted — target, message key, content, time —; what
became of it is derived from the push's seed and delivery settings (``delivery.fate``), so
recording a 100-target call is two inserts and nothing else.

The standalone server records the calls of one turn of its loop in one transaction
(``batched``) and answers them once it is committed. Repeated keys are found exactly as
without it, since those calls run one after the other in that transaction.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F

from campaigns.models import SandboxMessage, SandboxPush
from campaigns.sandbox.delivery import Delivery
from campaigns.sandbox.registry import SandboxApp

_MESSAGE_TABLE = SandboxMessage._meta.db_table
_MESSAGE_ACCEPTED_AT = SandboxMessage._meta.get_field("accepted_at")
_MESSAGE_COLUMNS = "push_id, app, accepted_at, attempts, msg_key, target, title, body"
# A key another call recorded a moment ago is skipped, not an error. PostgreSQL takes one
# statement with a column of each, which costs this process half the CPU of psycopg's
# executemany.
_INSERT_MESSAGE_COLUMNS = (
    f"INSERT INTO {_MESSAGE_TABLE} ({_MESSAGE_COLUMNS}) "  # noqa: S608
    "SELECT %s, %s, %s, 1, * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) "
    "ON CONFLICT (app, msg_key) DO NOTHING"
)
# SQLite takes the rows in statements of up to this many (four parameters each, under its
# oldest limit of 999): one statement costs half of ``executemany``'s row-by-row steps.
_SQLITE_ROWS_PER_STATEMENT = 200


@functools.cache
def _insert_message_rows(rows: int) -> str:
    """The SQLite statement inserting ``rows`` messages, "?" style: Django's conversion
    of "%s" costs more than the insert of a short statement's rows."""
    values = ", ".join(["(?, ?, ?, ?)"] * rows)
    return (
        f"INSERT INTO {_MESSAGE_TABLE} ({_MESSAGE_COLUMNS}) "  # noqa: S608
        f"SELECT ?, ?, ?, 1, column1, column2, column3, column4 FROM (VALUES {values}) "
        "WHERE true ON CONFLICT (app, msg_key) DO NOTHING"  # "WHERE" parses the upsert
    )


def _insert_messages(
    db: BaseDatabaseWrapper, push_id: int, app: str, stamp: Any, messages: Messages
) -> int:
    """Insert the messages whose keys are new; how many that was."""
    if not messages.msg_keys:
        return 0
    columns = (messages.msg_keys, messages.targets, messages.titles, messages.bodies)
    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            cursor.execute(_INSERT_MESSAGE_COLUMNS, [push_id, app, stamp, *map(list, columns)])
            inserted: int = cursor.rowcount
        return inserted
    rows = list(zip(*columns, strict=True))
    inserted = 0
    with db.wrap_database_errors:
        for start in range(0, len(rows), _SQLITE_ROWS_PER_STATEMENT):
            chunk = rows[start : start + _SQLITE_ROWS_PER_STATEMENT]
            params = [push_id, app, stamp, *chain.from_iterable(chunk)]
            inserted += db.connection.execute(_insert_message_rows(len(chunk)), params).rowcount
    return inserted


_PUSH_FIELDS = [field for field in SandboxPush._meta.concrete_fields if not field.primary_key]
_PUSH_COLUMN_ORDER = [SandboxPush._meta.pk.attname, *(field.attname for field in _PUSH_FIELDS)]
_INSERT_PUSH = (
    f"INSERT INTO {SandboxPush._meta.db_table} "  # noqa: S608
    f"({', '.join(field.column for field in _PUSH_FIELDS)}) "
    f"VALUES ({', '.join(['%s'] * len(_PUSH_FIELDS))}) RETURNING id"
)
_INSERT_PUSH_SQLITE = _INSERT_PUSH.replace("%s", "?")


# Values of these types go to the driver as they are for fields of these kinds: Django's
# conversions would return them unchanged, at some microseconds a field.
_PLAIN_TYPES: dict[type[models.Field[Any, Any]], type] = {
    models.CharField: str,
    models.TextField: str,
    models.IntegerField: int,
    models.FloatField: float,
    models.BooleanField: bool,
}


def _plain_type(field: models.Field[Any, Any]) -> type | None:
    if isinstance(field, models.JSONField | models.DateTimeField):
        return None
    return next((kind for base, kind in _PLAIN_TYPES.items() if isinstance(field, base)), None)


_PUSH_PLAIN_TYPES = [_plain_type(field) for field in _PUSH_FIELDS]


_PUSH_ATTNAMES = frozenset(field.attname for field in _PUSH_FIELDS)


def _new_push(db: BaseDatabaseWrapper, values: dict[str, Any]) -> SandboxPush:
    """Insert a push with these values by attribute name (the others' defaults) and return
    it as the ORM would load it: ``SandboxPush(**values).save()`` in one plain statement
    and a plain constructor, for the ORM's compiler took a third of the time a call spent
    in the ledger, and building a model from keywords a tenth."""
    unknown = values.keys() - _PUSH_ATTNAMES
    if unknown:
        raise TypeError(f"SandboxPush has no fields {sorted(unknown)}")
    row = [
        values[field.attname] if field.attname in values else field.get_default()
        for field in _PUSH_FIELDS
    ]
    prepared: list[Any] = [
        value
        if plain is not None and (value is None or type(value) is plain)
        else field.get_db_prep_save(value, db)
        for field, plain, value in zip(_PUSH_FIELDS, _PUSH_PLAIN_TYPES, row, strict=True)
    ]
    if db.vendor == "sqlite":  # its driver's own "?" style: Django's conversion costs more
        db.ensure_connection()
        with db.wrap_database_errors:
            (pk,) = db.connection.execute(_INSERT_PUSH_SQLITE, prepared).fetchone()
    else:
        with db.cursor() as cursor:
            cursor.execute(_INSERT_PUSH, prepared)
            (pk,) = cursor.fetchone()
    return SandboxPush.from_db(db.alias, _PUSH_COLUMN_ORDER, [pk, *row])


@dataclass(frozen=True)
class Outgoing:
    """One target of a push, as the handler understood it."""

    target: str
    msg_key: str
    title: str = ""
    body: str = ""


@dataclass(frozen=True)
class Messages:
    """A push's messages as columns, entry n of each for target n: the shape PushMultiple
    reads its hundred targets in, and the shape the database takes them in."""

    targets: Sequence[str]
    msg_keys: Sequence[str]
    titles: Sequence[str]
    bodies: Sequence[str]

    @classmethod
    def of(cls, outgoing: Sequence[Outgoing]) -> Messages:
        return cls(
            [message.target for message in outgoing],
            [message.msg_key for message in outgoing],
            [message.title for message in outgoing],
            [message.body for message in outgoing],
        )


@dataclass(frozen=True)
class Accepted:
    push: SandboxPush
    delivered: int  # new message keys, now in the ledger
    repeated: int  # message keys the ledger already had: not delivered again


def accept(
    *,
    app: SandboxApp,
    push_fields: dict[str, Any],
    messages: Sequence[Outgoing] | Messages,
    seed: int,
    accepted_at: datetime,
    delivery: Delivery,
) -> Accepted:
    """Record a push and its new messages, committed when this returns (or with the
    caller's transaction). When every message key was seen before, the push of the first
    of them is returned and nothing new is recorded."""
    if not isinstance(messages, Messages):
        messages = Messages.of(messages)
    with transaction.atomic(savepoint=not getattr(_route, "batched", False)):
        return _record(app, push_fields, messages, seed, accepted_at, delivery)


def _record(
    app: SandboxApp,
    push_fields: dict[str, Any],
    messages: Messages,
    seed: int,
    accepted_at: datetime,
    delivery: Delivery,
) -> Accepted:
    """``accept``'s writes, in the caller's transaction."""
    keys = messages.msg_keys
    # The connection of this thread, looked up once: each use of ``connection`` does it
    # again through asgiref's thread-local storage.
    db = connections[DEFAULT_DB_ALIAS]
    push = _new_push(
        db,
        {
            "app": app.key,
            "accepted_at": accepted_at,
            "target_count": len(keys),
            "seed": seed,
            "expires_after_s": delivery.expires_after_s,
            "sms_delay_s": delivery.sms_delay_s,
            "sms_unless_opened": delivery.sms_unless_opened,
            "device_type": delivery.device_type,
            **push_fields,
        },
    )
    stamp = _MESSAGE_ACCEPTED_AT.get_db_prep_value(accepted_at, db)
    # Keys already recorded (by an earlier transaction, or by an earlier call of this
    # one) are skipped; the usual case — none of them — needs no other query.
    delivered = _insert_messages(db, push.pk, app.key, stamp, messages)
    if delivered == len(keys):
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


_route = threading.local()


@contextlib.contextmanager
def batched() -> Iterator[None]:
    """While this is open, ``accept`` in this thread writes in the caller's transaction
    (and its savepoint) without a savepoint of its own: the standalone server answers the
    calls of one turn of its loop from one transaction, each in a savepoint."""
    _route.batched = True
    try:
        yield
    finally:
        _route.batched = False
