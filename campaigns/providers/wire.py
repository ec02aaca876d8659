"""How parameter values are written on the wire, shared by every provider."""

from __future__ import annotations

import json
from collections.abc import Mapping


def compact_json(value: object) -> str:
    """JSON-valued parameters travel as compact JSON strings, non-ASCII kept as it is."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def wire_value(value: object) -> str:
    """A scalar as the official SDKs write it (``str()``: booleans become "True"/"False")."""
    return str(value)


def flatten(name: str, value: object, into: dict[str, str]) -> None:
    """Lists and maps flatten with 1-based indexes and dots: ``TargetMsg.1.Target``."""
    if value is None:
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            flatten(f"{name}.{key}", item, into)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value, start=1):
            flatten(f"{name}.{index}", item, into)
    else:
        into[name] = wire_value(value)


def utf8_length(text: str) -> int:
    return len(text.encode())
