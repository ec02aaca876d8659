"""The member file: its header, and each of its rows turned into a staged member or the
reason it is rejected.

A CSV has a header row naming a ``target`` column; optional ``timezone`` and
``extended_params`` (a JSON object) columns; every other column holds a per-target value
for a template placeholder of the same name. A pasted list has one target per line and no
header. Both are UTF-8 (a byte-order mark is allowed); rows are read one at a time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import IO

from django.utils.translation import gettext as _

from campaigns.member_rules import TargetCheck, extended_params_json, time_zone_problem
from campaigns.models.templates import PLACEHOLDER

TARGET = "target"
TIME_ZONE = "timezone"
EXTENDED_PARAMS = "extended_params"
ENCODING = "utf-8-sig"  # UTF-8, with or without the byte-order mark spreadsheets write
HEADER_MAX_BYTES = 64 * 1024

# A staged member: target, values and extended params as JSON text (or None), time zone.
Staged = tuple[str, str | None, str, str | None]


class HeaderError(ValueError):
    """The header row cannot be imported; the message says why, in a marketer's words."""


@dataclass(frozen=True)
class Header:
    names: tuple[str, ...]
    target: int
    time_zone: int | None = None
    extended_params: int | None = None
    values: tuple[tuple[str, int], ...] = ()  # (column name, position)

    @property
    def value_columns(self) -> list[str]:
        return [name for name, _position in self.values]


PASTED_HEADER = Header(names=(TARGET,), target=0)


def read_header(cells: list[str]) -> Header:
    names = tuple(cell.strip() for cell in cells)
    special: dict[str, int] = {}
    values: list[tuple[str, int]] = []
    seen: set[str] = set()
    for position, name in enumerate(names):
        if not name:
            raise HeaderError(_("Column %(n)d of the header has no name.") % {"n": position + 1})
        key = name.lower()
        if key in seen:
            raise HeaderError(_("The header names the column %(name)s twice.") % {"name": name})
        seen.add(key)
        if key in (TARGET, TIME_ZONE, EXTENDED_PARAMS):
            special[key] = position
        elif PLACEHOLDER.fullmatch(f"#{name}#"):
            values.append((name, position))
        else:
            raise HeaderError(
                _(
                    "The column %(name)s cannot be a template value: name value columns "
                    "with letters, digits and underscores, as the placeholders are named."
                )
                % {"name": name}
            )
    if TARGET not in special:
        raise HeaderError(_("The header has no target column: name the column of IDs “target”."))
    return Header(
        names=names,
        target=special[TARGET],
        time_zone=special.get(TIME_ZONE),
        extended_params=special.get(EXTENDED_PARAMS),
        values=tuple(values),
    )


def header_of_upload(upload: IO[bytes]) -> Header:
    """The header of an uploaded CSV, read from its first line only."""
    first = upload.readline(HEADER_MAX_BYTES)
    upload.seek(0)
    try:
        text = first.decode(ENCODING)
    except UnicodeDecodeError as error:
        raise HeaderError(_("The file is not UTF-8 text; save the CSV as UTF-8.")) from error
    cells = next(csv.reader([text]), [])
    if not any(cell.strip() for cell in cells):
        raise HeaderError(_("The file is empty, or its first line is not a header row."))
    return read_header(cells)


def template_problems(header: Header, placeholders: Iterable[str]) -> tuple[list[str], list[str]]:
    """The template's placeholders the file has no column for, and the file's value
    columns the template does not use."""
    wanted = list(placeholders)
    columns = header.value_columns
    return [name for name in wanted if name not in columns], [
        name for name in columns if name not in wanted
    ]


def csv_rows(text: IO[str]) -> tuple[Header, Iterator[tuple[int, list[str] | None]]]:
    """The header, and (line number, cells) for each following row; cells are None for a
    line the CSV reader cannot parse. Line numbers count the header as line 1."""
    reader = csv.reader(text)
    try:
        header = read_header(next(reader))
    except StopIteration:
        raise HeaderError(_("The file is empty.")) from None
    except csv.Error as error:
        raise HeaderError(_("The header row is not CSV: %(error)s") % {"error": error}) from None

    def rows() -> Iterator[tuple[int, list[str] | None]]:
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error:
                yield reader.line_num, None
                continue
            if cells:  # a blank line is no row
                yield reader.line_num, cells

    return header, rows()


def pasted_rows(text: IO[str]) -> Iterator[tuple[int, list[str] | None]]:
    """A pasted list: one target per line, blank lines skipped."""
    for line, content in enumerate(text, start=1):
        target = content.strip()
        if target:
            yield line, [target]


def text_of(binary: IO[bytes]) -> io.TextIOWrapper:
    return io.TextIOWrapper(binary, encoding=ENCODING, errors="replace", newline="")


class RowParser:
    """Checks one row against the header, the target format and the template, and turns
    it into a staged member; called once per row, so it does the least work it can."""

    def __init__(self, header: Header, check_target: TargetCheck, required: Iterable[str]):
        self.check_target = check_target
        self.width = len(header.names)
        self.target = header.target
        self.time_zone = header.time_zone
        self.extended_params = header.extended_params
        # The values' JSON is filled in, not dumped: '{"name":%s,"money":%s}' (value
        # column names are placeholder names: no "%" to escape).
        keys = [encode_basestring(name) for name, _position in header.values]
        self.values_json = "{" + ",".join(f"{key}:%s" for key in keys) + "}"
        self.value_cells = [position for _name, position in header.values]
        wanted = set(required)
        self.required = [(name, position) for name, position in header.values if name in wanted]

    def parse(self, cells: list[str] | None) -> Staged | str:
        if cells is None:
            return _("This line is not valid CSV (check its quotes).")
        if len(cells) != self.width:
            return _("This line has %(found)d columns; the header has %(expected)d.") % {
                "found": len(cells),
                "expected": self.width,
            }
        joined = "".join(cells)
        if "\ufffd" in joined or "\x00" in joined:
            # Bytes that were not UTF-8 were read as U+FFFD; NUL fits no text column.
            return _("This line has bytes that are not UTF-8 text, or a NUL character.")
        target = cells[self.target].strip()
        if not target:
            return _("The target is empty.")
        problem = self.check_target(target)
        if problem is not None:
            return problem
        for name, position in self.required:
            if not cells[position].strip():
                return _("No value for the template's #%(name)s#.") % {"name": name}
        values = (
            self.values_json % tuple([encode_basestring(cells[i]) for i in self.value_cells])
            if self.value_cells
            else None
        )
        time_zone = ""
        if self.time_zone is not None:
            time_zone = cells[self.time_zone].strip()
            if time_zone and (problem := time_zone_problem(time_zone)) is not None:
                return problem
        extended = None
        if self.extended_params is not None and (text := cells[self.extended_params].strip()):
            extended, problem = extended_params_json(text)
            if problem is not None:
                return problem
        return target, values, time_zone, extended
