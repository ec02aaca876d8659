"""What an audience member may look like: target formats per audience kind and provider,
time zone names, extended params, and which kinds each provider offers.

Each check returns the reason a marketer reads in the rejected-rows report, or None when
the value is fine; the import calls them for every row, so they stay cheap.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from django.utils.translation import gettext as _

from campaigns.middleware import known_time_zones
from campaigns.models import Audience, MobileApp
from campaigns.providers.emas import ACCOUNT_MAX_BYTES, ALIAS_MAX_BYTES

TargetCheck = Callable[[str], str | None]

# The kinds each provider can push to: mPaaS by device, user or broadcast (seeds 000-003);
# EMAS by device, account, alias, tag or to all devices (seed 004, Target).
KINDS_BY_PROVIDER: dict[str, tuple[str, ...]] = {
    MobileApp.Provider.MPAAS: (Audience.Kind.DEVICES, Audience.Kind.USERS, Audience.Kind.BROADCAST),
    MobileApp.Provider.EMAS: (
        Audience.Kind.DEVICES,
        Audience.Kind.ACCOUNTS,
        Audience.Kind.ALIASES,
        Audience.Kind.TAGS,
        Audience.Kind.ALL,
    ),
}

TARGET_MAX_CHARS = 255  # the member column; the mPaaS seeds give no limit of their own
EMAS_DEVICE_ID = re.compile(r"[0-9A-Za-z]{32}")  # EMAS device IDs are 32 letters and digits
# mPaaS device and user IDs are the app's own strings: anything printable without spaces.
MPAAS_TARGET = re.compile(r"[^\s\x00-\x1f\x7f]+")
EXTENDED_PARAMS_MAX_CHARS = 2000


def _mpaas_target(target: str) -> str | None:
    if len(target) > TARGET_MAX_CHARS:
        return _("A target has at most %(limit)d characters.") % {"limit": TARGET_MAX_CHARS}
    if MPAAS_TARGET.fullmatch(target) is None:
        return _("A target cannot contain spaces or control characters.")
    return None


def _emas_device(target: str) -> str | None:
    if EMAS_DEVICE_ID.fullmatch(target) is None:
        return _("An EMAS device ID is 32 letters and digits.")
    return None


def _emas_name(limit: int) -> TargetCheck:
    """Accounts and aliases: EMAS joins targets with commas and counts UTF-8 bytes."""

    def check(target: str) -> str | None:
        if "," in target:
            return _("An account or alias cannot contain a comma.")
        if MPAAS_TARGET.fullmatch(target) is None:
            return _("A target cannot contain spaces or control characters.")
        if len(target.encode()) > limit:
            return _("At most %(limit)d bytes (UTF-8).") % {"limit": limit}
        return None

    return check


TARGET_CHECKS: dict[tuple[str, str], TargetCheck] = {
    (MobileApp.Provider.MPAAS, Audience.Kind.DEVICES): _mpaas_target,
    (MobileApp.Provider.MPAAS, Audience.Kind.USERS): _mpaas_target,
    (MobileApp.Provider.EMAS, Audience.Kind.DEVICES): _emas_device,
    (MobileApp.Provider.EMAS, Audience.Kind.ACCOUNTS): _emas_name(ACCOUNT_MAX_BYTES),
    (MobileApp.Provider.EMAS, Audience.Kind.ALIASES): _emas_name(ALIAS_MAX_BYTES),
}


# Two targets of each listed kind, as the import page's sample CSV shows them.
TARGET_EXAMPLES: dict[tuple[str, str], tuple[str, str]] = {
    (MobileApp.Provider.MPAAS, Audience.Kind.DEVICES): ("android-1024", "android-2048"),
    (MobileApp.Provider.MPAAS, Audience.Kind.USERS): ("userid1024", "userid2048"),
    (MobileApp.Provider.EMAS, Audience.Kind.DEVICES): (
        "e2ba19de97604f55b165576736477b74",
        "0f3c4d2a9b8e7f6a5b4c3d2e1f0a9b8c",
    ),
    (MobileApp.Provider.EMAS, Audience.Kind.ACCOUNTS): ("acct1024", "acct2048"),
    (MobileApp.Provider.EMAS, Audience.Kind.ALIASES): ("alias1024", "alias2048"),
}


def target_check(provider: str, kind: str) -> TargetCheck:
    """The check for targets of a listed audience of ``kind`` in an app of ``provider``."""
    return TARGET_CHECKS[(provider, kind)]


def time_zone_problem(name: str) -> str | None:
    if name in known_time_zones():
        return None
    return _("%(name)s is not a time zone name such as Asia/Shanghai.") % {"name": name}


def extended_params_json(text: str) -> tuple[str | None, str | None]:
    """Extended params as compact JSON text, or the reason they are not a JSON object."""
    if len(text) > EXTENDED_PARAMS_MAX_CHARS:
        return None, _("Extended params have at most %(limit)d characters.") % {
            "limit": EXTENDED_PARAMS_MAX_CHARS
        }
    try:
        params = json.loads(text)
    except ValueError:
        return None, _('Extended params are not JSON; write them as {"key": "value"}.')
    if not isinstance(params, dict):
        return None, _('Extended params must be a JSON object such as {"key": "value"}.')
    compact = json.dumps(params, ensure_ascii=False, separators=(",", ":"))
    if "\\u0000" in compact:  # no database stores a NUL in text
        return None, _("Extended params cannot contain a NUL character.")
    return compact, None
