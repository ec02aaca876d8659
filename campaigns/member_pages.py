"""Pages of an audience's members by keyset: ``WHERE id > last ORDER BY id LIMIT n`` on
the (audience, id) index, never OFFSET and never COUNT(*), so the millionth member is as
quick to reach as the first. A search keeps only targets that start with what was typed.
"""

from __future__ import annotations

from dataclasses import dataclass

from campaigns.models import Audience, AudienceMember

PAGE_SIZE = 50
SEARCH_MAX_CHARS = 255


@dataclass(frozen=True)
class MemberRow:
    member: AudienceMember
    values: list[str]  # in the order of the audience's value columns


@dataclass(frozen=True)
class MemberPage:
    rows: list[MemberRow]
    next_after: int | None  # the id the next page starts after, if there is one
    previous_before: int | None  # the id the previous page ends before, if there is one

    @property
    def is_first(self) -> bool:
        return self.previous_before is None


def _cursor(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def member_page(
    audience: Audience,
    *,
    after: str | None = None,
    before: str | None = None,
    search: str = "",
    size: int = PAGE_SIZE,
) -> MemberPage:
    """The page after the member ``after`` (or before ``before``; or the first page)."""
    members = AudienceMember.objects.filter(audience=audience)
    if search:
        members = members.filter(target__startswith=search[:SEARCH_MAX_CHARS])
    after_id, before_id = _cursor(after), _cursor(before)
    if before_id is not None:
        found = list(members.filter(id__lt=before_id).order_by("-id")[: size + 1])
        more_before = len(found) > size
        page = found[:size][::-1]
        more_after = True
    else:
        if after_id is not None:
            members = members.filter(id__gt=after_id)
        found = list(members.order_by("id")[: size + 1])
        page, more_after = found[:size], len(found) > size
        more_before = after_id is not None
    columns = audience.value_columns
    rows = [MemberRow(m, [str((m.values or {}).get(c, "")) for c in columns]) for m in page]
    return MemberPage(
        rows=rows,
        next_after=page[-1].id if page and more_after else None,
        previous_before=page[0].id if page and more_before else None,
    )
