"""The request rules of the sandbox's mPaaS gateway, from the seed documents and the
official SDK (alibabacloud_mpaas20201028): parameter parsing, the push strategy
(StrategyContent) and the answers mPaaS gives to a request it refuses.

mPaaS refuses a request with HTTP 200 and a ResultCode other than "OK" (see the table in
``campaigns.sandbox.mpaas``); a handler raises ``Rejected`` and ``answers`` turns it into
the body of the action's family.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import wraps
from itertools import repeat
from operator import itemgetter
from typing import Any, Literal, NoReturn
from zoneinfo import ZoneInfo

from campaigns.sandbox.gateway import Call
from campaigns.sandbox.registry import APPS, SandboxApp

# The gateway's days (today 00:00, recurring times) are those of its region, cn-hangzhou.
GATEWAY_TZ = ZoneInfo("Asia/Shanghai")
MAX_RECURRING_DAYS = 180  # endTime no later than 180 days after today
MAX_MSGKEY_LENGTH = 128
MAX_TARGET_LENGTH = 255

# ResultCodes (documented in campaigns.sandbox.mpaas).
OK = "OK"
PARAM_ILLEGAL = "PARAM_ILLEGAL"
APP_NOT_EXIST = "APP_NOT_EXIST"
TARGET_OVER_LIMIT = "TARGET_OVER_LIMIT"
MSGKEY_DUPLICATE = "MSGKEY_DUPLICATE"
TEMPLATE_NOT_EXIST = "TEMPLATE_NOT_EXIST"
TEMPLATE_EXIST = "TEMPLATE_EXIST"
SCHEDULE_LIMIT = "SCHEDULE_LIMIT"
TASK_NOT_EXIST = "TASK_NOT_EXIST"
TASK_STATUS_ILLEGAL = "TASK_STATUS_ILLEGAL"
MESSAGE_NOT_EXIST = "MESSAGE_NOT_EXIST"
REVOKE_EXPIRED = "REVOKE_EXPIRED"

_INTEGER = re.compile(r"^-?\d{1,19}$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d):([0-5]\d)$")


class Rejected(Exception):
    """A request mPaaS refuses: HTTP 200 with this ResultCode and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def reject(name: str, reason: str, code: str = PARAM_ILLEGAL) -> NoReturn:
    raise Rejected(code, f"param is invalid: {name} {reason}")


Family = Literal["push", "result", "template"]
Handler = Callable[[Call], dict[str, Any]]


def failure(family: Family, code: str, message: str) -> dict[str, Any]:
    if family == "push":
        return {
            "ResultCode": code,
            "ResultMessage": message,
            "PushResult": {"Success": False, "ResultMsg": message},
        }
    if family == "result":
        return {"ResultCode": code, "ResultMessage": message}
    return {"Success": False, "Code": code, "Msg": message}


def answers(family: Family) -> Callable[[Handler], Handler]:
    """Answer ``Rejected`` with the failure body of the action's family."""

    def wrap(handler: Handler) -> Handler:
        @wraps(handler)
        def run(call: Call) -> dict[str, Any]:
            try:
                return handler(call)
            except Rejected as rejected:
                return failure(family, rejected.code, rejected.message)

        return run

    return wrap


def _pairs_once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)  # in C; the repeated key is looked for only when there is one
    if len(result) != len(pairs):
        keys = [key for key, _ in pairs]
        repeated = next(key for n, key in enumerate(keys) if key in keys[:n])
        raise ValueError(f"duplicate key {repeated!r}")
    return result


# One decoder for every parse: json.loads with a hook would build a new one each time.
_DECODER = json.JSONDecoder(object_pairs_hook=_pairs_once)


def parse_object(name: str, text: str) -> dict[str, Any]:
    """A JSON object (a "Map" of the seeds); repeated keys are refused."""
    try:
        value = _DECODER.decode(text)
    except ValueError as error:
        reject(name, f"is not valid JSON ({error})")
    if not isinstance(value, dict):
        reject(name, "must be a JSON object")
    return value


# Reads a JSON value from a position without calling back into Python (objects as dicts).
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_KEY_COUNT_SPOILERS = ("\\", '" ', '"\t', '"\n', '"\r')


def objects_or_none(texts: Iterable[str]) -> list[dict[str, Any]] | None:
    """Each text as ``parse_object`` reads it, an empty one as {}; None when one is not
    simply a flat JSON object (malformed, repeated keys, not an object, padded with
    whitespace, or holding an object or a list), for ``parse_object`` to read it or to
    refuse it by the name of its parameter.

    A PushMultiple carries up to 100 of them, read here by C loops: ``parse_object``'s
    wrapping and its hook cost twice the parsing itself, and an error message is built
    only for a refusal."""
    every = list(texts)
    present = [text for text in every if text] if "" in every else every
    if not present:
        return [{} for _ in every]
    try:
        scanned = list(map(_SCAN, present, repeat(0)))
    except (StopIteration, ValueError):
        return None
    objects: list[Any] = list(map(itemgetter(0), scanned))
    joined = "\n".join(present)
    if (
        "".join(map(itemgetter(0), present)) != "{" * len(present)  # objects, not padded
        or list(map(itemgetter(1), scanned)) != list(map(len, present))  # nothing after
        # Nothing nested: one "{" per text and no "[" (one inside a string, too, sends
        # the call the long way).
        or joined.count("{") != len(present)
        or "[" in joined
        # Repeated keys. Without a backslash every '"' starts or ends a string, and
        # without whitespace after one each key is followed by '":' (as is a string
        # that starts with ":"): a repeated key leaves the dict shorter than that count.
        or any(map(joined.__contains__, _KEY_COUNT_SPOILERS))
        or list(map(str.count, present, repeat('":'))) != list(map(len, objects))
    ):
        return None
    if len(present) == len(every):
        return objects
    found = iter(objects)
    return [next(found) if text else {} for text in every]


@dataclass(frozen=True)
class Params:
    """The call's parameters, read by their wire names (as the SDK sends them)."""

    raw: Mapping[str, str]

    def text(self, name: str, *, required: bool = False) -> str:
        value = self.raw.get(name, "")
        if required and not value.strip():
            reject(name, "is required")
        return value

    def integer(
        self,
        name: str,
        *,
        required: bool = False,
        default: int | None = None,
        choices: tuple[int, ...] = (),
        minimum: int | None = None,
    ) -> int | None:
        value = self.raw.get(name, "").strip()
        if not value:
            if required:
                reject(name, "is required")
            return default
        if not _INTEGER.match(value):
            reject(name, f"must be an integer, not {value!r}")
        number = int(value)
        if choices and number not in choices:
            reject(name, f"must be one of {', '.join(map(str, choices))}, not {number}")
        if minimum is not None and number < minimum:
            reject(name, f"must be at least {minimum}, not {number}")
        return number

    def whole(self, name: str, *, choices: tuple[int, ...] = (), minimum: int | None = None) -> int:
        number = self.integer(name, required=True, choices=choices, minimum=minimum)
        assert number is not None
        return number

    def choice(self, name: str, choices: tuple[str, ...]) -> str:
        value = self.raw.get(name, "")
        if value and value not in choices:
            reject(name, f"must be one of {', '.join(choices)}, not {value!r}")
        return value

    def json_object(self, name: str, *, required: bool = False) -> dict[str, Any] | None:
        value = self.text(name, required=required)
        return parse_object(name, value) if value.strip() else None


def resolve_app(params: Params) -> SandboxApp:
    app_id = params.text("AppId", required=True)
    workspace_id = params.text("WorkspaceId", required=True)
    app = APPS.get(f"{app_id}:{workspace_id}")
    if app is None or app.provider != "mpaas":
        raise Rejected(APP_NOT_EXIST, f"app {app_id} with workspace {workspace_id} does not exist")
    return app


def milliseconds(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_milliseconds(value: int) -> datetime:
    return datetime.fromtimestamp(value // 1000, UTC)


def local_date(value_ms: int) -> date:
    return from_milliseconds(value_ms).astimezone(GATEWAY_TZ).date()


@dataclass(frozen=True)
class Strategy:
    type: int  # 0 immediate, 1 scheduled, 2 recurring
    content: dict[str, Any] | None
    fires_at: datetime | None  # the (next) time a scheduled or recurring push fires


def _content_int(content: Mapping[str, Any], name: str) -> int:
    value = content.get(name)
    if value is None or value == "":
        reject(f"StrategyContent.{name}", "is required")
    if isinstance(value, bool) or not isinstance(value, int | str):
        reject(f"StrategyContent.{name}", "must be an integer")
    if isinstance(value, str):
        if not _INTEGER.match(value):
            reject(f"StrategyContent.{name}", "must be an integer")
        value = int(value)
    return value


def next_occurrence(content: Mapping[str, Any], after: datetime) -> datetime | None:
    """The first time after ``after`` a (valid) recurring StrategyContent fires."""
    start = local_date(int(content["startTime"]))
    end = local_date(int(content["endTime"]))
    hour, minute, second = (int(part) for part in str(content["time"]).split(":"))
    circle_type = int(content["circleType"])
    values = {int(value) for value in content.get("circleValue") or []}
    day = max(start, after.astimezone(GATEWAY_TZ).date())
    while day <= end:
        matches = (
            circle_type == 1
            or (circle_type == 2 and day.isoweekday() in values)
            or (circle_type == 3 and day.day in values)
        )
        moment = datetime.combine(day, time(hour, minute, second), GATEWAY_TZ)
        if matches and moment > after:
            return moment.astimezone(UTC)
        day += timedelta(days=1)
    return None


def strategy(params: Params, now: datetime) -> Strategy:
    """StrategyType and StrategyContent, by the rules of the seeds."""
    kind = params.integer("StrategyType", default=0, choices=(0, 1, 2))
    assert kind is not None
    if kind == 0:
        return Strategy(0, None, None)
    content = params.json_object("StrategyContent", required=True)
    assert content is not None
    if kind == 1:
        fixed = _content_int(content, "fixedTime")
        fires_at = from_milliseconds(fixed)
        if fires_at <= now:
            reject("StrategyContent.fixedTime", "must be in the future")
        return Strategy(1, content, fires_at)
    start_ms = _content_int(content, "startTime")
    end_ms = _content_int(content, "endTime")
    circle_type = _content_int(content, "circleType")
    if circle_type not in (1, 2, 3):
        reject("StrategyContent.circleType", f"must be one of 1, 2, 3, not {circle_type}")
    if circle_type != 1:
        values = content.get("circleValue")
        if not isinstance(values, list) or not values:
            reject("StrategyContent.circleValue", "is required unless circleType is 1 (daily)")
        top = 7 if circle_type == 2 else 31
        for value in values:
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
                reject("StrategyContent.circleValue", f"values must be integers 1-{top}")
    clock = content.get("time")
    if not isinstance(clock, str) or not clock:
        reject("StrategyContent.time", "is required")
    if not _CLOCK.match(clock):
        reject("StrategyContent.time", f"must be HH:mm:ss, not {clock!r}")
    today = now.astimezone(GATEWAY_TZ).date()
    start, end = local_date(start_ms), local_date(end_ms)
    if start < today:
        reject("StrategyContent.startTime", "cannot be earlier than 00:00 today")
    if end < start:
        reject("StrategyContent.endTime", "cannot be earlier than startTime")
    if end > today + timedelta(days=MAX_RECURRING_DAYS):
        reject("StrategyContent.endTime", f"cannot be over {MAX_RECURRING_DAYS} days from today")
    first = next_occurrence(content, now)
    if first is None:
        reject("StrategyContent", "has no occurrence between now and endTime")
    return Strategy(2, content, first)


def render(text: str, values: Mapping[str, Any]) -> str:
    """Replace each #placeholder# with its value; unknown placeholders are kept."""
    for key, value in values.items():
        text = text.replace(f"#{key}#", str(value))
    return text


def render_each(text: str, each: Sequence[Mapping[str, Any]]) -> list[str]:
    """``[render(text, values) for values in each]``, for PushMultiple's hundred targets."""
    return render_columns((text,), each)[0]


def render_columns(texts: Sequence[str], each: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """``render_each`` of each text (a title and a body) for the same targets. When every
    target's values have the same keys in the same order, as the SDK sends them, each
    placeholder is replaced in all of them at once by a C loop, which is the same
    replacements in the same order."""
    keys = tuple(each[0]) if each else ()
    if any("#" in text for text in texts) and set(map(tuple, each)) != {keys}:
        return [[render(text, values) for values in each] for text in texts]
    return [_render_uniform(text, each, keys) for text in texts]


def _render_uniform(
    text: str, each: Sequence[Mapping[str, Any]], keys: tuple[str, ...]
) -> list[str]:
    if "#" not in text:  # nothing to replace, whatever the values
        return [text] * len(each)
    rendered = [text] * len(each)
    inserted_hash = False  # a value put in may hold a later key's placeholder
    for key in keys:
        placeholder = f"#{key}#"
        if placeholder not in text and not inserted_hash:
            continue  # replacing it would change nothing
        values = list(map(str, map(itemgetter(key), each)))
        rendered = list(map(str.replace, rendered, repeat(placeholder), values))
        inserted_hash = inserted_hash or "#" in "".join(values)
    return rendered


def check_msg_key(name: str, msg_key: str) -> None:
    if not msg_key.strip():
        reject(name, "is required")
    if len(msg_key) > MAX_MSGKEY_LENGTH:
        reject(name, f"is longer than {MAX_MSGKEY_LENGTH} characters")


def check_target(name: str, target: str) -> None:
    if not target.strip():
        reject(name, "is required")
    if len(target) > MAX_TARGET_LENGTH:
        reject(name, f"is longer than {MAX_TARGET_LENGTH} characters")
