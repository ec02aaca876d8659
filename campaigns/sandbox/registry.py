"""The simulated registry: apps, and devices, users, accounts, aliases and tags derived
from an index, so a million targets exist without a million rows.

Identifiers (``n`` below ``size`` of the app):
- mPaaS user IDs ``user<n>``; device IDs ``android-<n>``, ``ios-<n>``, ``harmony-<n>``;
- EMAS device IDs: ``n`` as 32 hexadecimal digits; accounts ``acct<n>``; aliases
  ``alias<n>``; tags ``tag0`` … ``tag<TAGS-1>``.
A user, account or alias ``<n>`` is bound to device ``n``. Everything about device ``n`` —
platform, vendor, online, tags — is drawn from (seed, n), so it is the same in every
process and every run.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

ANDROID_VENDORS = ("huawei", "xiaomi", "oppo", "vivo", "honor")
TAGS = 20


@dataclass(frozen=True)
class SandboxApp:
    provider: str  # "mpaas" or "emas"
    key: str  # "appId:workspaceId" (mPaaS) or the AppKey (EMAS)
    name: str
    size: int  # devices in the registry


# The seeds' example apps, and a large one for benchmarks.
APPS: dict[str, SandboxApp] = {
    app.key: app
    for app in (
        SandboxApp("mpaas", "ONEX570DA89211721:test", "Demo mPaaS app", 5_000),
        SandboxApp("mpaas", "ONEXBENCH0000001:bench", "Benchmark mPaaS app", 1_000_000),
        SandboxApp("emas", "23267207", "Demo EMAS app", 5_000),
        SandboxApp("emas", "33333333", "Benchmark EMAS app", 1_000_000),
    )
}


@dataclass(frozen=True)
class Device:
    index: int
    platform: str  # "android", "ios" or "harmony"
    vendor: str  # Android vendor, "apple" or "huawei" (HarmonyOS)
    online: bool  # connected now: arrives at once; offline devices arrive later or never


def _draw(seed: int, index: int, salt: str) -> int:
    digest = hashlib.blake2b(f"{seed}:{index}:{salt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


@lru_cache(maxsize=200_000)  # a pure function of (seed, index): safe to remember
def device(seed: int, index: int) -> Device:
    # One hash, three independent rolls: platform, vendor, online.
    digest = hashlib.blake2b(f"{seed}:{index}:device".encode(), digest_size=24).digest()
    platform_roll, vendor_roll, online_roll = (
        int.from_bytes(digest[start : start + 8], "big") for start in (0, 8, 16)
    )
    if platform_roll % 100 < 65:
        platform, vendor = "android", ANDROID_VENDORS[vendor_roll % len(ANDROID_VENDORS)]
    elif platform_roll % 100 < 92:
        platform, vendor = "ios", "apple"
    else:
        platform, vendor = "harmony", "huawei"
    return Device(index, platform, vendor, online_roll % 100 < 80)


def has_tag(seed: int, index: int, tag: int) -> bool:
    return _draw(seed, index, f"tag{tag}") % 5 == 0


_MPAAS_TARGET = re.compile(r"^(?:user|userid|android-|ios-|harmony-)(\d{1,9})$")
_EMAS_NAMED = re.compile(r"^(?:acct|alias)(\d{1,9})$")
_EMAS_DEVICE = re.compile(r"^[0-9a-f]{32}$")


def emas_device_id(index: int) -> str:
    return f"{index:032x}"


def target_index(app: SandboxApp, target: str) -> int | None:
    """The device a target reaches in ``app``, or None when the registry does not know it."""
    if app.provider == "mpaas":
        match = _MPAAS_TARGET.match(target)
        index = int(match.group(1)) if match else None
    elif _EMAS_DEVICE.match(target):
        index = int(target, 16)
    else:
        match = _EMAS_NAMED.match(target)
        index = int(match.group(1)) if match else None
    return index if index is not None and index < app.size else None
