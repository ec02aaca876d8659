"""Recording accepted pushes, once per message key, with their simulated delivery.

``accept`` is the one way handlers record a push: message keys already in the ledger are
not delivered again (their ``attempts`` grow instead), which is the idempotency the dispatch
engine relies on. Each new message gets an outcome drawn from (seed, app, message key):

- unknown targets never arrive (the real APIs accept them and report them unreached);
- online devices arrive within seconds, offline ones within hours or not before expiry,
  at a rate that depends on the vendor's channel;
- of those that arrive some are opened, some deleted, the rest ignored;
- with SMS fallback, the unreached (or, by policy, the unopened) get an SMS after the
  fallback delay.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import F

from campaigns.models import SandboxMessage, SandboxPush
from campaigns.sandbox.registry import SandboxApp, device, target_index

# Share of pushes a vendor channel delivers to a device that is reachable at all.
ARRIVAL_RATE = {
    "huawei": 0.97,
    "honor": 0.95,
    "xiaomi": 0.95,
    "oppo": 0.93,
    "vivo": 0.92,
    "apple": 0.96,
}
OPEN_RATE = 0.12
DELETE_RATE = 0.25  # of the arrived and not opened
ONLINE_DELAY_S = (0.5, 5.0)
OFFLINE_DELAY_S = (60.0, 6 * 3600.0)
OPEN_DELAY_S = (10.0, 2 * 3600.0)


_MESSAGE_COLUMNS = (
    "push_id",
    "app",
    "msg_key",
    "target",
    "platform",
    "vendor",
    "title",
    "body",
    "accepted_at",
    "attempts",
    "arrive_after_s",
    "open_after_s",
    "delete_after_s",
    "sms_after_s",
)
# A key another call recorded a moment ago is skipped, not an error (SQLite and PostgreSQL).
_INSERT_MESSAGES = (
    f"INSERT INTO {SandboxMessage._meta.db_table} ({', '.join(_MESSAGE_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join(['%s'] * len(_MESSAGE_COLUMNS))}) "
    "ON CONFLICT (app, msg_key) DO NOTHING"
)


@dataclass(frozen=True)
class Outgoing:
    """One target of a push, as the handler understood it."""

    target: str
    msg_key: str
    title: str = ""
    body: str = ""
    platform: str = ""  # empty: the registry's platform for the device
    device_type: str = ""  # "android", "ios" or "harmony": only such devices receive it


@dataclass(frozen=True)
class Accepted:
    push: SandboxPush
    delivered: int  # new message keys, now in the ledger
    repeated: int  # message keys the ledger already had: not delivered again


@dataclass(frozen=True)
class Outcome:
    arrive_after_s: float | None
    open_after_s: float | None
    delete_after_s: float | None
    sms_after_s: float | None


_DRAWS = ("arrives", "delay", "opens", "open-delay", "deletes", "delete-delay")


def _units(seed: int, app: str, msg_key: str) -> dict[str, float]:
    """Every draw a message needs, from one hash: six uniform numbers in [0, 1)."""
    digest = hashlib.blake2b(
        f"{seed}:{app}:{msg_key}".encode(), digest_size=8 * len(_DRAWS)
    ).digest()
    return {
        name: int.from_bytes(digest[8 * position : 8 * position + 8], "big") / 2**64
        for position, name in enumerate(_DRAWS)
    }


def _between(bounds: tuple[float, float], unit: float) -> float:
    return bounds[0] + (bounds[1] - bounds[0]) * unit


def outcome(
    app: SandboxApp,
    message: Outgoing,
    *,
    seed: int,
    expires_after_s: float,
    sms_delay_s: float | None,
    sms_unless_opened: bool = False,
) -> tuple[str, str, Outcome]:
    """The platform, vendor and simulated outcome of one message."""
    index = target_index(app, message.target)
    if index is None:
        return message.platform, "", Outcome(None, None, None, sms_delay_s)
    reached = device(seed, index)
    platform = message.platform or reached.platform
    vendor = reached.vendor
    if message.device_type and message.device_type != reached.platform:
        return platform, vendor, Outcome(None, None, None, sms_delay_s)
    draw = _units(seed, app.key, message.msg_key)
    arrive: float | None = None
    if draw["arrives"] < ARRIVAL_RATE.get(vendor, 0.95):
        delay = _between(ONLINE_DELAY_S if reached.online else OFFLINE_DELAY_S, draw["delay"])
        arrive = delay if delay <= expires_after_s else None
    opened = deleted = None
    if arrive is not None:
        if draw["opens"] < OPEN_RATE:
            opened = arrive + _between(OPEN_DELAY_S, draw["open-delay"])
        elif draw["deletes"] < DELETE_RATE:
            deleted = arrive + _between(OPEN_DELAY_S, draw["delete-delay"])
    sms = None
    if sms_delay_s is not None:
        # The SMS goes to those the push has not reached by the delay or, with the
        # "not opened" policy, to those who have not opened it by then.
        seen = opened if sms_unless_opened else arrive
        if seen is None or seen > sms_delay_s:
            sms = sms_delay_s
    return platform, vendor, Outcome(arrive, opened, deleted, sms)


def accept(
    *,
    app: SandboxApp,
    push_fields: dict[str, Any],
    messages: Sequence[Outgoing],
    seed: int,
    accepted_at: datetime,
    expires_after_s: float,
    sms_delay_s: float | None = None,
    sms_unless_opened: bool = False,
) -> Accepted:
    """Record a push and its new messages. When every message key was seen before, the
    push of the first of them is returned and nothing new is recorded."""
    keys = [message.msg_key for message in messages]
    with transaction.atomic():
        push = SandboxPush.objects.create(
            app=app.key,
            accepted_at=accepted_at,
            target_count=len(messages),
            seed=seed,
            **push_fields,
        )
        stamp = SandboxMessage._meta.get_field("accepted_at").get_db_prep_value(
            accepted_at, connection
        )
        rows = []
        for message in messages:
            platform, vendor, result = outcome(
                app,
                message,
                seed=seed,
                expires_after_s=expires_after_s,
                sms_delay_s=sms_delay_s,
                sms_unless_opened=sms_unless_opened,
            )
            rows.append(
                (
                    push.pk,
                    app.key,
                    message.msg_key,
                    message.target,
                    platform,
                    vendor,
                    message.title,
                    message.body,
                    stamp,
                    1,
                    result.arrive_after_s,
                    result.open_after_s,
                    result.delete_after_s,
                    result.sms_after_s,
                )
            )
        with connection.cursor() as cursor:
            # One statement for the batch; keys already recorded are skipped, and the
            # usual case — none of them — needs no other query.
            cursor.executemany(_INSERT_MESSAGES, rows)
            delivered = cursor.rowcount if rows else 0
        if delivered == len(rows):
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
