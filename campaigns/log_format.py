"""How Pushdeck's log lines read: one JSON object per line in production (for a log
collector), ``key=value`` pairs after the message in development (for a person).

Both show the fields a caller passed in ``extra=`` (``run_id``, ``dispatch_id``, ``attempt``,
``code``, ``calls``, ``targets`` …) and, inside a Celery task, the task's name and id. Both
redact: a value whose key looks like a credential (``SECRET_KEY_PARTS``) is replaced by
``REDACTED`` wherever it sits — in the extras, in a mapping passed as a ``%`` argument, in a
nested mapping — and ``Signature=…`` / ``Authorization: …`` pairs are cut out of the text of
the message and of a traceback, so a secret that reaches a logger still never reaches the log.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from celery import current_task

REDACTED = "[redacted]"
# A key containing any of these (case-insensitive, "_" and "-" ignored) holds a credential.
SECRET_KEY_PARTS = ("secret", "password", "passwd", "token", "authorization", "signature", "cookie")
# "Signature=abc", "AccessKeySecret: abc", "Authorization: acs key:sig" inside free text.
SECRET_IN_TEXT = re.compile(
    r"(?i)\b([\w-]*(?:secret|password|passwd|token|authorization|signature|cookie)[\w-]*)"
    r"(\"?\s*[=:]\s*\"?)((?:(?:acs|bearer|basic|ACS3-HMAC-SHA256)\s+)?[^\s&,;\"]+)"
)
# What every LogRecord has; anything else on a record came from ``extra=``.
RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys() | {"message", "asctime"}
)
MAX_DEPTH = 4  # nested mappings deeper than this are not worth a log line


def is_secret_key(key: object) -> bool:
    name = str(key).lower().replace("_", "").replace("-", "")
    return any(part in name for part in SECRET_KEY_PARTS)


def redact_text(text: str) -> str:
    """``text`` with the value of every credential-looking ``name=value`` pair cut out."""
    return SECRET_IN_TEXT.sub(lambda found: f"{found[1]}{found[2]}{REDACTED}", text)


def redact(value: Any, depth: int = 0) -> Any:
    """A copy of ``value`` safe to log: credential keys' values replaced, texts scrubbed."""
    if isinstance(value, Mapping):
        if depth >= MAX_DEPTH:
            return REDACTED
        return {
            str(key): REDACTED if is_secret_key(key) else redact(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(item, depth + 1) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact_text(str(value))


def safe_message(record: logging.LogRecord) -> str:
    """The record's message, formatted from redacted arguments and scrubbed."""
    args: Any = record.args
    if isinstance(args, Mapping):
        args = redact(args)
    elif isinstance(args, tuple):
        args = tuple(
            redact(arg) if isinstance(arg, Mapping | list | tuple | str) else arg for arg in args
        )
    message = str(record.msg)
    if args:
        try:
            message = message % args
        except (TypeError, ValueError, KeyError):
            message = f"{message} {args!r}"
    return redact_text(message)


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields the caller added with ``extra=``, redacted; and the Celery task, if any."""
    fields: dict[str, Any] = {}
    task = current_task
    request = getattr(task, "request", None) if task else None
    task_id = getattr(request, "id", None)
    if task_id:
        fields["task"] = task.name
        fields["task_id"] = task_id
    for key, value in vars(record).items():
        if key in RECORD_ATTRIBUTES or key.startswith("_"):
            continue
        fields[key] = REDACTED if is_secret_key(key) else redact(value)
    return fields


def _failure(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    text = ""
    if record.exc_info:
        text = formatter.formatException(record.exc_info)
    if record.stack_info:
        text = f"{text}\n{formatter.formatStack(record.stack_info)}".strip()
    return redact_text(text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the extra
    fields, and ``exception`` with the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": safe_message(record),
        }
        for key, value in extra_fields(record).items():
            line.setdefault(key, value)
        failure = _failure(self, record)
        if failure:
            line["exception"] = failure
        return json.dumps(line, ensure_ascii=False, default=str)


class KeyValueFormatter(logging.Formatter):
    """``2025-05-01 12:00:00,123 INFO campaigns.dispatch run planned run_id=7 calls=3``,
    then the traceback on the lines below when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = self.formatTime(record)
        pairs = " ".join(
            f"{key}={_pair_value(value)}" for key, value in extra_fields(record).items()
        )
        line = f"{stamp} {record.levelname} {record.name} {safe_message(record)}"
        if pairs:
            line = f"{line} {pairs}"
        failure = _failure(self, record)
        return f"{line}\n{failure}" if failure else line


def _pair_value(value: Any) -> str:
    if isinstance(value, str) and value and not any(c.isspace() or c in '"=' for c in value):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)
