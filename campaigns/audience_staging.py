"""Staging an import's valid rows, then moving them into the audience's members.

Rows are staged in a temporary table of the importing connection as the file is read
(COPY on PostgreSQL, batched inserts elsewhere): it costs no write-ahead log, other
imports never see it, and it goes when the import ends (or its connection does). At the
end one INSERT … SELECT, inside the import's final transaction, replaces or extends the
members from it; the first row of a target wins, and on append a target already in the
audience keeps its member.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from types import TracebackType
from typing import TYPE_CHECKING

from django.db import connection, transaction

from campaigns.audience_csv import Staged
from campaigns.models import AudienceImport, AudienceMember

if TYPE_CHECKING:
    from psycopg import Copy

StagedLine = tuple[int, Staged]  # (line number, staged member)

STAGING = "pushdeck_import_rows"
_COLUMNS = ("line", "target", "values", "time_zone", "extended_params")
# PostgreSQL sorts a million staged rows for DISTINCT ON in memory with this much.
SORT_MEMORY = "256MB"


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _columns(names: Sequence[str]) -> str:
    return ", ".join(_q(name) for name in names)


class Staging:
    """The staging table of one import, for the length of a ``with`` block.

    On PostgreSQL ``write`` streams rows into one COPY that stays open, so the server
    stores a batch while the next one is read; ``pause`` ends that COPY (waiting for the
    server to catch up), for the connection to be free for other statements."""

    def __init__(self) -> None:
        self._copy: ExitStack | None = None
        self._copy_sink: Copy | None = None

    def __enter__(self) -> Staging:
        json_type = "jsonb" if connection.vendor == "postgresql" else "text"
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {_q(STAGING)}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {_q(STAGING)} (line integer NOT NULL, "
                f"target varchar(255) NOT NULL, {_q('values')} {json_type}, "
                f"time_zone varchar(64) NOT NULL, extended_params {json_type})"
            )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self._copy is not None:
                self._copy.__exit__(exc_type, exc, traceback)
                self._copy = self._copy_sink = None
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {_q(STAGING)}")

    def write(self, rows: Sequence[StagedLine]) -> None:
        if not rows:
            return
        if connection.vendor != "postgresql":
            _insert(rows)
            return
        if self._copy_sink is None:
            self._copy = ExitStack()
            cursor = self._copy.enter_context(connection.cursor())
            sql = f"COPY {_q(STAGING)} ({_columns(_COLUMNS)}) FROM STDIN"
            self._copy_sink = self._copy.enter_context(cursor.cursor.copy(sql))
        self._copy_sink.write(_copy_text_of(rows))

    def pause(self) -> None:
        if self._copy is not None:
            copy, self._copy, self._copy_sink = self._copy, None, None
            copy.close()


def _escaped(value: str) -> str:
    # COPY's text format: a backslash starts an escape. Targets hold no tab or newline
    # (the target rules forbid whitespace), JSON text escapes its own, and time zones are
    # known names, written as they are.
    return value.replace("\\", "\\\\")


def _copy_text_of(rows: Sequence[StagedLine]) -> bytes:
    null = "\\N"
    return "".join(
        [
            f"{line}\t{_escaped(target)}\t{null if values is None else _escaped(values)}\t"
            f"{time_zone}\t{null if extended is None else _escaped(extended)}\n"
            for line, (target, values, time_zone, extended) in rows
        ]
    ).encode()


def _insert(rows: Sequence[StagedLine]) -> None:
    placeholders = ", ".join(["%s"] * len(_COLUMNS))
    sql = f"INSERT INTO {_q(STAGING)} ({_columns(_COLUMNS)}) VALUES ({placeholders})"  # noqa: S608 - fixed names
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, [(line, *member) for line, member in rows])


def apply_staged(audience_import: AudienceImport) -> int:
    """Replace or extend the audience's members from the staging table; how many members
    were added. Call inside the import's final transaction."""
    audience_id = audience_import.audience_id
    append = audience_import.mode == AudienceImport.Mode.APPEND
    if not append:
        AudienceMember.objects.filter(audience_id=audience_id).delete()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SET LOCAL work_mem = '{SORT_MEMORY}'")
            cursor.execute(_postgresql_insert(append), [audience_id] * (2 if append else 1))
        else:
            cursor.execute(_upsert_insert(), [audience_id])
        return max(int(cursor.rowcount), 0)


_MEMBER_COLUMNS = ("audience_id", "target", "values", "time_zone", "extended_params")


def _postgresql_insert(append: bool) -> str:
    """One row per target (the first), in byte order of the targets, so the unique index
    on (audience, target) is filled from left to right; targets already members are
    skipped with an anti-join, so no row needs ON CONFLICT's per-row speculation."""
    table = _q(AudienceMember._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({_columns(_MEMBER_COLUMNS)}) "  # noqa: S608 - fixed names
        f"SELECT %s, {_columns(_MEMBER_COLUMNS[1:])} FROM ("
        f'SELECT DISTINCT ON (target COLLATE "C") {_columns(_MEMBER_COLUMNS[1:])} '
        f'FROM {_q(STAGING)} ORDER BY target COLLATE "C", line) AS first_rows'
    )
    if append:
        sql += (
            f" WHERE NOT EXISTS (SELECT 1 FROM {table} AS member "  # noqa: S608 - fixed names
            f"WHERE member.audience_id = %s AND member.target = first_rows.target)"
        )
    return sql


def _upsert_insert() -> str:
    """Elsewhere (SQLite): rows in file order, each one the unique index does not already
    hold (from the audience, or from an earlier row of the file)."""
    return (
        f"INSERT INTO {_q(AudienceMember._meta.db_table)} ({_columns(_MEMBER_COLUMNS)}) "  # noqa: S608 - fixed names
        f"SELECT %s, {_columns(_MEMBER_COLUMNS[1:])} FROM {_q(STAGING)} WHERE true "
        f"ORDER BY line ON CONFLICT (audience_id, target) DO NOTHING"
    )
