"""What becomes of each message the sandbox accepted: its simulated delivery.

A message's fate is a pure function of the seed its push was accepted with, the app, the
message key, the target and the push's delivery settings, so it is derived when someone
asks (stats, inbox, tests) rather than stored: recording a push stays one short row per
message key, and the answers are the same whenever they are asked.

- unknown targets never arrive (the real APIs accept them and report them unreached);
- online devices arrive within seconds, offline ones within hours or not before expiry,
  at a rate that depends on the vendor's channel;
- of those that arrive some are opened, some deleted, the rest ignored;
- with SMS fallback, the unreached (or, by policy, the unopened) get an SMS after the
  fallback delay;
- a revoke withdraws whatever had not happened by then.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from campaigns.models import SandboxMessage, SandboxPush
from campaigns.sandbox.registry import APPS, SandboxApp, device, target_index

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


@dataclass(frozen=True)
class Delivery:
    """How a push's messages travel, kept on its SandboxPush row."""

    expires_after_s: float
    sms_delay_s: float | None = None  # SMS fallback after this long; None: no fallback
    sms_unless_opened: bool = False  # the SMS also goes to those who did not open it
    device_type: str = ""  # "android", "ios" or "harmony": only such devices receive it

    @classmethod
    def of(cls, push: SandboxPush) -> Delivery:
        return cls(push.expires_after_s, push.sms_delay_s, push.sms_unless_opened, push.device_type)


@dataclass(frozen=True)
class Fate:
    """Times are seconds after the push was sent, or None when it does not happen."""

    platform: str  # "" for targets the registry does not know
    vendor: str
    arrive_after_s: float | None
    open_after_s: float | None
    delete_after_s: float | None
    sms_after_s: float | None

    @property
    def reached(self) -> bool:
        """Handed to a vendor channel: the registry knows the target."""
        return self.vendor != ""

    def by(self, elapsed: float) -> tuple[bool, bool, bool, bool]:
        """Whether it had arrived, been opened, deleted, fallen back to SMS by then."""
        return (
            self.arrive_after_s is not None and self.arrive_after_s <= elapsed,
            self.open_after_s is not None and self.open_after_s <= elapsed,
            self.delete_after_s is not None and self.delete_after_s <= elapsed,
            self.sms_after_s is not None and self.sms_after_s <= elapsed,
        )


_DRAWS = 6  # arrives, delay, opens, open delay, deletes, delete delay


def _units(seed: int, app: str, msg_key: str) -> tuple[float, ...]:
    """Every draw a message needs, from one hash: uniform numbers in [0, 1)."""
    digest = hashlib.blake2b(f"{seed}:{app}:{msg_key}".encode(), digest_size=8 * _DRAWS).digest()
    return tuple(
        int.from_bytes(digest[start : start + 8], "big") / 2**64 for start in range(0, 48, 8)
    )


def _between(bounds: tuple[float, float], unit: float) -> float:
    return bounds[0] + (bounds[1] - bounds[0]) * unit


def _until(time: float | None, cutoff: float | None) -> float | None:
    return None if time is None or (cutoff is not None and time > cutoff) else time


def fate(
    app: SandboxApp,
    target: str,
    msg_key: str,
    *,
    seed: int,
    delivery: Delivery,
    withdrawn_after_s: float | None = None,
) -> Fate:
    """What becomes of the message ``msg_key`` to ``target``."""
    sms_delay = delivery.sms_delay_s
    index = target_index(app, target)
    if index is None:
        return Fate("", "", None, None, None, _until(sms_delay, withdrawn_after_s))
    reached = device(seed, index)
    arrive = opened = deleted = None
    if not delivery.device_type or delivery.device_type == reached.platform:
        arrives, delay, opens, open_delay, deletes, delete_delay = _units(seed, app.key, msg_key)
        if arrives < ARRIVAL_RATE.get(reached.vendor, 0.95):
            bounds = ONLINE_DELAY_S if reached.online else OFFLINE_DELAY_S
            arrive = _between(bounds, delay)
            if arrive > delivery.expires_after_s:
                arrive = None
        if arrive is not None:
            if opens < OPEN_RATE:
                opened = arrive + _between(OPEN_DELAY_S, open_delay)
            elif deletes < DELETE_RATE:
                deleted = arrive + _between(OPEN_DELAY_S, delete_delay)
    sms = None
    if sms_delay is not None:
        # The SMS goes to those the push has not reached by the delay or, with the
        # "not opened" policy, to those who have not opened it by then.
        seen = opened if delivery.sms_unless_opened else arrive
        if seen is None or seen > sms_delay:
            sms = sms_delay
    cutoff = withdrawn_after_s
    return Fate(
        reached.platform,
        reached.vendor,
        _until(arrive, cutoff),
        _until(opened, cutoff),
        _until(deleted, cutoff),
        _until(sms, cutoff),
    )


def withdrawn_after_s(push: SandboxPush, revoked_after_s: float | None = None) -> float | None:
    """Seconds after sending when the push (or one message of it) was revoked, if it was."""
    sent_at = push.sent_at
    if push.revoked_at is not None and sent_at is not None:
        whole = (push.revoked_at - sent_at).total_seconds()
        return whole if revoked_after_s is None else min(whole, revoked_after_s)
    return revoked_after_s


def fate_of(message: SandboxMessage) -> Fate:
    """The fate of a ledger row (with its push: select_related("push") when listing)."""
    push = message.push
    return fate(
        APPS[push.app],
        message.target,
        message.msg_key,
        seed=push.seed,
        delivery=Delivery.of(push),
        withdrawn_after_s=withdrawn_after_s(push, message.revoked_after_s),
    )


def fates(push: SandboxPush) -> list[Fate]:
    """The fate of every message of ``push``, in one query."""
    app, delivery = APPS[push.app], Delivery.of(push)
    return [
        fate(
            app,
            target,
            msg_key,
            seed=push.seed,
            delivery=delivery,
            withdrawn_after_s=withdrawn_after_s(push, revoked),
        )
        for target, msg_key, revoked in push.messages.values_list(
            "target", "msg_key", "revoked_after_s"
        )
    ]
