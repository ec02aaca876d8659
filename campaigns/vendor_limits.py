"""How long a notification's title and body may be on each vendor's channel, in one table.

A push goes out through the vendor's own channel (Huawei, Xiaomi, OPPO, vivo, Honor) or
APNs, and each counts differently: characters, characters with a Chinese one counting as
two, or UTF-8 bytes. ``warnings`` checks a title and body (after sample values are filled
in) against every row and says, in words, which vendor will cut or refuse it.

Sources, where the seeds are silent (seed 004 gives only EMAS's own rules):
- MPAAS_TABLE: Alibaba Cloud mPaaS, "Message content restrictions" (updated Feb 2025),
  https://www.alibabacloud.com/help/en/mobile-platform-as-a-service/latest/message-conent-restrictions
  (Chinese: https://help.aliyun.com/document_detail/311229.html) — the vendors' limits as
  Alibaba applies them: "pushes to vendor channels fail if the message exceeds the limit".
- Each vendor's server push API where it says more (cited on its row).
"""

from __future__ import annotations

import enum
import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from campaigns.models.apps import MobileApp
from campaigns.providers.emas import ANDROID_PAYLOAD_MAX_BYTES, TITLE_MAX_BYTES
from campaigns.providers.wire import utf8_length

MPAAS_TABLE = "mPaaS “Message content restrictions”"
# Apple, "Sending notification requests to APNs": "For regular remote notifications, the
# maximum payload size is 4 KB (4096 bytes)".
APNS_PAYLOAD_MAX_BYTES = 4096


class Part(enum.Enum):
    TITLE = "title"
    BODY = "body"
    TITLE_AND_BODY = "title and body"  # counted together
    APNS_PAYLOAD = "APNs payload"  # the aps JSON that carries title and body


class Unit(enum.Enum):
    CHARACTERS = "characters"  # a Chinese and a Latin character both count 1
    WIDE_AS_TWO = "wide as two"  # a Chinese (East Asian wide) character counts 2
    BYTES = "bytes"  # UTF-8: a Chinese character is 3 bytes


@dataclass(frozen=True)
class Limit:
    vendor: str  # a brand name, not translated
    part: Part
    maximum: int
    unit: Unit
    source: str
    message: str | Promise  # with %(vendor)s, %(limit)d and %(count)d
    only_for: str | None = None  # a MobileApp.Provider, when only its apps are bound by it


TAKES_TITLE_CHARACTERS = _(
    "%(vendor)s takes at most %(limit)d characters of a title; this one has %(count)d."
)
TAKES_BODY_CHARACTERS = _(
    "%(vendor)s takes at most %(limit)d characters of a body; this one has %(count)d."
)
TAKES_TITLE_WIDE = _(
    "%(vendor)s takes at most %(limit)d characters of a title, a Chinese character counting "
    "as two; this one counts %(count)d."
)
TAKES_BODY_WIDE = _(
    "%(vendor)s takes at most %(limit)d characters of a body, a Chinese character counting "
    "as two; this one counts %(count)d."
)
SHOWS_TITLE_WIDE = _(
    "%(vendor)s shows at most %(limit)d characters of a title, a Chinese character counting "
    "as two, and cuts the rest with “…”; this one counts %(count)d."
)
SHOWS_BODY_WIDE = _(
    "%(vendor)s shows at most %(limit)d characters of a body in the notification centre and "
    "on the lock screen, a Chinese character counting as two; this one counts %(count)d."
)
TAKES_TITLE_BYTES = _(
    "%(vendor)s takes at most %(limit)d bytes of title (UTF-8: a Chinese character is 3 "
    "bytes); this one has %(count)d."
)
TAKES_BOTH_BYTES = _(
    "%(vendor)s takes at most %(limit)d bytes of title and body together (UTF-8: a Chinese "
    "character is 3 bytes); these have %(count)d."
)
TAKES_PAYLOAD_BYTES = _(
    "%(vendor)s takes a payload of at most %(limit)d bytes; this title and body make one of "
    "%(count)d."
)

LIMITS: tuple[Limit, ...] = (
    # Huawei Push Kit bounds only the whole message (seed 004, "Trim": "APNs, Huawei and
    # Honor only limit the total request body size"); mPaaS documents these per-field limits.
    Limit("Huawei", Part.TITLE, 40, Unit.CHARACTERS, MPAAS_TABLE, TAKES_TITLE_CHARACTERS),
    Limit("Huawei", Part.BODY, 1024, Unit.CHARACTERS, MPAAS_TABLE, TAKES_BODY_CHARACTERS),
    # Xiaomi: 50 and 128 characters, a Chinese and a Latin character alike (the mPaaS table;
    # Xiaomi Push's server API reference, dev.mi.com, bounds title and description the same).
    Limit("Xiaomi", Part.TITLE, 50, Unit.CHARACTERS, MPAAS_TABLE, TAKES_TITLE_CHARACTERS),
    Limit("Xiaomi", Part.BODY, 128, Unit.CHARACTERS, MPAAS_TABLE, TAKES_BODY_CHARACTERS),
    # OPPO Push server API (open.oppomobile.com, "OPPO推送平台服务端API", notification
    # message): title "字数限制1~50", content 200, "中英文均以一个计算" (the mPaaS table
    # agrees on the content; for the title it still lists 32, OPPO's earlier limit).
    Limit("OPPO", Part.TITLE, 50, Unit.CHARACTERS, "OPPO Push server API", TAKES_TITLE_CHARACTERS),
    Limit("OPPO", Part.BODY, 200, Unit.CHARACTERS, "OPPO Push server API", TAKES_BODY_CHARACTERS),
    # vivo Push server API (dev.vivo.com.cn, "服务端API接口"): a title of at most 20 Chinese
    # characters, "one Chinese character equals two Latin ones", so 40 Latin; a content of 50
    # Chinese / 100 Latin characters. The mPaaS table agrees.
    Limit("vivo", Part.TITLE, 40, Unit.WIDE_AS_TWO, "vivo Push server API", TAKES_TITLE_WIDE),
    Limit("vivo", Part.BODY, 100, Unit.WIDE_AS_TWO, "vivo Push server API", TAKES_BODY_WIDE),
    # Honor: 30 Chinese (60 Latin) characters of title, 2048 (4096) of body, per the mPaaS
    # table; Honor's own API reference bounds only the whole message (as seed 004 says).
    Limit("Honor", Part.TITLE, 60, Unit.WIDE_AS_TWO, MPAAS_TABLE, TAKES_TITLE_WIDE),
    Limit("Honor", Part.BODY, 4096, Unit.WIDE_AS_TWO, MPAAS_TABLE, TAKES_BODY_WIDE),
    # iOS cuts what it shows (the mPaaS table: 20 Chinese / 40 Latin characters of title, 55
    # / 110 of body in the notification centre and on the lock screen); APNs refuses a
    # payload over 4 KB.
    Limit("iOS", Part.TITLE, 40, Unit.WIDE_AS_TWO, MPAAS_TABLE, SHOWS_TITLE_WIDE),
    Limit("iOS", Part.BODY, 110, Unit.WIDE_AS_TWO, MPAAS_TABLE, SHOWS_BODY_WIDE),
    Limit(
        "APNs",
        Part.APNS_PAYLOAD,
        APNS_PAYLOAD_MAX_BYTES,
        Unit.BYTES,
        "Apple, Sending notification requests to APNs",
        TAKES_PAYLOAD_BYTES,
    ),
    # EMAS Push (seed 004): Title "The maximum length is 200 bytes"; title and body together
    # as campaigns.providers.emas checks them before a push is sent.
    Limit(
        "EMAS",
        Part.TITLE,
        TITLE_MAX_BYTES,
        Unit.BYTES,
        "seed 004 (EMAS Push), Title",
        TAKES_TITLE_BYTES,
        only_for=MobileApp.Provider.EMAS,
    ),
    Limit(
        "EMAS",
        Part.TITLE_AND_BODY,
        ANDROID_PAYLOAD_MAX_BYTES,
        Unit.BYTES,
        "EMAS product limits, as campaigns.providers.emas applies them",
        TAKES_BOTH_BYTES,
        only_for=MobileApp.Provider.EMAS,
    ),
)


@dataclass(frozen=True)
class LengthWarning:
    limit: Limit
    count: int

    @property
    def vendor(self) -> str:
        return self.limit.vendor

    @property
    def message(self) -> str:
        return str(self.limit.message) % {
            "vendor": self.limit.vendor,
            "limit": self.limit.maximum,
            "count": self.count,
        }

    def __str__(self) -> str:
        return self.message


def display_width(text: str) -> int:
    """Characters, a Chinese (East Asian wide or full-width) one counting as two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def apns_payload(title: str, body: str) -> str:
    """The smallest aps dictionary that carries ``title`` and ``body``, as APNs counts it."""
    alert = {"title": title, "body": body}
    return json.dumps({"aps": {"alert": alert}}, separators=(",", ":"), ensure_ascii=False)


def measure(limit: Limit, title: str, body: str) -> int:
    text = {
        Part.TITLE: title,
        Part.BODY: body,
        Part.TITLE_AND_BODY: title + body,
        Part.APNS_PAYLOAD: apns_payload(title, body),
    }[limit.part]
    if limit.unit is Unit.BYTES:
        return utf8_length(text)
    if limit.unit is Unit.WIDE_AS_TWO:
        return display_width(text)
    return len(text)


def applicable(provider: str | None, limits: Iterable[Limit] = LIMITS) -> list[Limit]:
    """The rows that bind an app of ``provider`` (all of them when it is not known yet)."""
    return [limit for limit in limits if provider is None or limit.only_for in (None, provider)]


def warnings(title: str, body: str, provider: str | None = None) -> list[LengthWarning]:
    """Every limit that ``title`` and ``body`` (filled in) go past, in the table's order."""
    found = []
    for limit in applicable(provider):
        count = measure(limit, title, body)
        if count > limit.maximum:
            found.append(LengthWarning(limit, count))
    return found
