"""Pages of the campaign list by keyset, in the order the list is sorted by.

Why not page numbers: Django's ``Paginator`` counts the filtered set (``COUNT(*)``) on every
page view and reaches page *n* with ``OFFSET``, which reads and throws away every row before
it; at 100,000 campaigns both grow with the table. A keyset page asks instead for the rows
that come after the last one shown, in the list's order, and takes one more than it shows
to learn whether there is a next page::

    WHERE created_at <= :t AND (created_at < :t OR id < :id)
    ORDER BY created_at DESC, id DESC LIMIT 26

The first condition bounds the index scan (``campaign_newest`` and the status/app/owner
indexes that end in ``created_at, id``), the second breaks ties on ``id``. Every page, the
first or the four-thousandth, costs one range read of a page's rows; nothing is counted.
The price is that the list shows First / Previous / Next instead of "page 7 of 4,000" and
cannot jump to a page number: people narrow a long list with its filters, not by page.

Every sort pages this way (sort value, then id). Newest and oldest first ride the indexes;
name and last-changed order have no index of their own and sort the filtered rows. So the
page's ids are chosen in a subquery that reads the campaign table alone, and only those
rows are joined to their app, audience and owner: sorting 100,000 joined rows took SQLite
76 ms, sorting the bare ones 21 ms.

The cursor in the URL is opaque: URL-safe base64 of the sort's name, the sort value of the
row at the page's edge and that row's id. A cursor that does not decode, or was made for
another sort, is ignored, and the list starts at its first page.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Expression, F, Q, QuerySet
from django.db.models.functions import Lower
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign

SORT_VALUE = "sort_value"  # the annotation each page is ordered and bounded by
MAX_ID = 2**63 - 1  # a bigint: a larger id in an edited cursor would fail in the database


def _aware_datetime(text: str) -> datetime | None:
    moment = datetime.fromisoformat(text)
    # In UTC now, as the database gets it: 9999-12-31 at UTC-5 overflows here, not there.
    return moment.astimezone(UTC) if moment.tzinfo is not None else None


@dataclass(frozen=True)
class Sort:
    key: str  # its value in the URL (?sort=)
    label: str | Promise
    expression: F | Expression
    descending: bool
    parse: Callable[[str], Any]  # the cursor's text back to a value of the expression


NEWEST = Sort("newest", _("Newest first"), F("created_at"), True, _aware_datetime)
# The history's one order: what went out, newest first (campaign_sent_newest index).
SENT = Sort("sent", _("Sent, newest first"), F("first_sent_at"), True, _aware_datetime)
SORTS: dict[str, Sort] = {
    sort.key: sort
    for sort in (
        NEWEST,
        Sort("oldest", _("Oldest first"), F("created_at"), False, _aware_datetime),
        # Lower(): PostgreSQL's C collation would put every capital before "a".
        Sort("name", _("Name (A to Z)"), Lower("name"), False, str),
        Sort("changed", _("Recently changed"), F("changed_at"), True, _aware_datetime),
    )
}


@dataclass(frozen=True)
class CampaignPage:
    campaigns: list[Campaign]
    next_cursor: str | None  # the page after this one starts after this cursor
    previous_cursor: str | None  # the page before this one ends before this cursor

    @property
    def is_first(self) -> bool:
        return self.previous_cursor is None


def cursor_for(sort: Sort, campaign: Campaign) -> str:
    """The cursor of ``campaign``'s place in the list sorted by ``sort``; the campaign
    must come from a page (it carries the sort value)."""
    value = getattr(campaign, SORT_VALUE)
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    raw = json.dumps([sort.key, text, campaign.pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _read_cursor(sort: Sort, cursor: str | None) -> tuple[Any, int] | None:
    """The (sort value, id) a cursor holds, or None for no cursor or one that is not ours."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key, text, pk = json.loads(raw)
        if key != sort.key or not isinstance(text, str) or type(pk) is not int:
            return None
        if not 0 < pk <= MAX_ID:
            return None
        value = sort.parse(text)
    except (binascii.Error, ValueError, TypeError, OverflowError):
        return None
    return None if value is None else (value, pk)


def _beyond(sort: Sort, value: Any, pk: int, *, backwards: bool) -> Q:
    """The rows after (value, pk) in the order a page is read in."""
    op = "lt" if sort.descending != backwards else "gt"
    return Q(**{f"{SORT_VALUE}__{op}e": value}) & (
        Q(**{f"{SORT_VALUE}__{op}": value}) | Q(**{SORT_VALUE: value, f"id__{op}": pk})
    )


def campaign_page(
    campaigns: QuerySet[Campaign],
    sort: Sort = NEWEST,
    *,
    after: str | None = None,
    before: str | None = None,
    size: int,
) -> CampaignPage:
    """The page of ``campaigns`` after the cursor ``after`` (or before ``before``; or the
    first page), sorted by ``sort``. One query, two when a stale cursor leads nowhere."""
    rows = campaigns.annotate(**{SORT_VALUE: sort.expression})
    cursor = _read_cursor(sort, before)
    backwards = cursor is not None
    if cursor is None:
        cursor = _read_cursor(sort, after)
    if cursor is not None:
        rows = rows.filter(_beyond(sort, *cursor, backwards=backwards))
    sign = "-" if sort.descending != backwards else ""
    order = (f"{sign}{SORT_VALUE}", f"{sign}id")
    # The page's ids first, from the campaign table alone; then only those rows are
    # joined to their app, audience and owner (select_related), still in one query.
    ids = rows.order_by(*order).values("pk")[: size + 1]
    found = list(rows.filter(pk__in=ids).order_by(*order))
    more = len(found) > size
    page = found[:size]
    if cursor is not None and not page:
        # Campaigns were deleted or the URL was edited: start again rather than show nothing.
        return campaign_page(campaigns, sort, size=size)
    if backwards:
        page.reverse()
    has_next = True if backwards else more
    has_previous = more if backwards else cursor is not None
    return CampaignPage(
        campaigns=page,
        next_cursor=cursor_for(sort, page[-1]) if page and has_next else None,
        previous_cursor=cursor_for(sort, page[0]) if page and has_previous else None,
    )
