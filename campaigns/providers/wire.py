"""How parameter values are written on the wire, shared by every provider."""

from __future__ import annotations

import json
from collections.abc import Mapping

# One encoder for every call: json.dumps with arguments builds a new one each time (a
# PushMultiple call encodes a hundred values).
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def compact_json(value: object) -> str:
    """JSON-valued parameters travel as compact JSON strings, non-ASCII kept as it is."""
    return _COMPACT.encode(value)


def wire_value(value: object) -> str:
    """A scalar as the official SDKs write it (``str()``: booleans become "True"/"False")."""
    return str(value)


def flatten(name: str, value: object, into: dict[str, str]) -> None:
    """Lists and maps flatten with 1-based indexes and dots: ``TargetMsg.1.Target``."""
    if value is None:
        return
    if isinstance(value, str | int | float):  # most values: no ABC check needed
        into[name] = wire_value(value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            flatten(f"{name}.{key}", item, into)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value, start=1):
            flatten(f"{name}.{index}", item, into)
    else:
        into[name] = wire_value(value)


def utf8_length(text: str) -> int:
    return len(text.encode())
