"""The request parameters of the seeds (tests/campaigns/seeds/), read from their tables.

A seed's "Request parameters" section is a table flattened to text, one cell a line: the
parameter's name, its type (String, Long, Integer, Boolean, Map, List, JSONObject, …), then
Yes or No, then the example and the description. The mPaaS seeds write blank lines between
the cells; the EMAS seed writes ``| Name |`` cells and marks a retired parameter with a
``deprecated`` line under its name. A parameter of a JSON value or a list has its fields in
a table of its own ("StrategyContent field description", "targetMsgs object description"):
those fields belong to their parent, which is the request parameter. The EMAS seed's nameless
rows under an ``object`` parameter are the entries of its map.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SEEDS = Path(__file__).parent / "seeds"

# The seed files, by their number, and the provider action each specifies.
ACTIONS = {
    "000": "PushBroadcast",
    "001": "PushMultiple",
    "002": "PushSimple",
    "003": "PushTemplate",
    "004": "Push",
}
MPAAS_SEEDS = ("000", "001", "002", "003")

# mPaaS seeds write names lowerCamel; the wire (the official SDK) writes them UpperCamel,
# except where the SDK names the parameter otherwise.
MPAAS_WIRE_NAMES = {"TargetMsgs": "TargetMsg"}

NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")
TYPE = re.compile(
    r"(string|long|integer|int|boolean|number|double|float|map|list|array|object|jsonobject)"
    r"(\[\])?",
    re.IGNORECASE,
)
REQUIRED = ("Yes", "No")
START = "Request parameters"
END = re.compile(r"(Response|Return) (parameters|elements)")
SUBTABLE = re.compile(r"(?P<parent>[A-Za-z][A-Za-z0-9]*) (field|object) description")


@dataclass(frozen=True)
class SeedParameter:
    name: str  # as the seed writes it
    wire: str  # as the request carries it
    type: str
    required: bool
    deprecated: bool = False
    fields: tuple[str, ...] = ()  # the fields of its JSON value or list items


def seed_file(number: str) -> Path:
    [path] = SEEDS.glob(f"{number}_*.txt")
    return path


def cells(text: str) -> list[str]:
    """The non-empty lines of ``text``, without the table's ``|`` borders."""
    stripped = (line.strip().strip("|").strip() for line in text.splitlines())
    return [line for line in stripped if line]


def wire_name(number: str, name: str) -> str:
    if number not in MPAAS_SEEDS:
        return name
    upper = name[0].upper() + name[1:]
    return MPAAS_WIRE_NAMES.get(upper, upper)


@cache
def request_parameters(number: str) -> tuple[SeedParameter, ...]:
    """The top-level request parameters of seed ``number``, in the seed's order."""
    lines = cells(seed_file(number).read_text(encoding="utf-8"))
    start = lines.index(START) + 1
    found: dict[str, SeedParameter] = {}
    fields: dict[str, list[str]] = {}
    parent: str | None = None
    index = start
    while index < len(lines) and not END.fullmatch(lines[index]):
        line = lines[index]
        heading = SUBTABLE.fullmatch(line)
        if heading is not None:
            parent = heading["parent"]
            fields.setdefault(parent, [])
            index += 1
            continue
        row = _row(lines, index)
        if row is None:
            index += 1
            continue
        name, type_, required, deprecated, width = row
        if parent is None:
            wire = wire_name(number, name)
            found[name] = SeedParameter(name, wire, type_, required, deprecated)
        else:
            fields[parent].append(name)
        index += width
    for name, names in fields.items():
        if name not in found:
            raise ValueError(f"seed {number}: fields described for unknown parameter {name}")
        parameter = found[name]
        found[name] = SeedParameter(
            parameter.name,
            parameter.wire,
            parameter.type,
            parameter.required,
            parameter.deprecated,
            tuple(names),
        )
    return tuple(found.values())


def _row(lines: list[str], index: int) -> tuple[str, str, bool, bool, int] | None:
    """The row that starts at ``lines[index]``: name, type, required, deprecated and how
    many lines it took; None when no row starts there."""
    if not NAME.fullmatch(lines[index]):
        return None
    deprecated = index + 1 < len(lines) and lines[index + 1].lower() == "deprecated"
    at = index + (2 if deprecated else 1)
    if at + 1 >= len(lines):
        return None
    type_, required = lines[at], lines[at + 1]
    if not TYPE.fullmatch(type_) or required not in REQUIRED:
        return None
    return lines[index], type_, required == "Yes", deprecated, at + 2 - index
