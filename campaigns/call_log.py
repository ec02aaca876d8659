"""A campaign's calls as they were made: failures grouped by the provider's code, the batch
log in keyset pages, which calls carried a given target, and one row per target for the
CSV export. Each reads the ``Dispatch`` rows; none counts them (a run keeps its counts).

The batch log pages by (run, seq), the order of the ``dispatch_once`` index, and learns
whether there is a next page by taking one row more than it shows, as ``campaign_pages``
does for the campaign list: every page costs one range read, the first or the 200th.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import NotSupportedError
from django.db.models import Count, Q, QuerySet, Sum
from django.utils.functional import Promise

from campaigns.dispatch import call_keys
from campaigns.models import Campaign, CampaignRun, Dispatch
from campaigns.providers.errors import advice_for_provider

BATCH_PAGE_SIZE = 50
TARGET_ROWS_CHUNK = 100  # dispatches read at a time for the per-target export
MESSAGES_SHOWN = 3  # per code: the provider words some messages per call


# -- failures --------------------------------------------------------------------------------


def failure_rows(runs: Sequence[CampaignRun]) -> list[dict[str, Any]]:
    """The failed calls of ``runs`` by run, code and message, most calls first, with the
    calls and targets of each: one grouped query (none when the runs' counts say that no
    call failed). The campaign page's progress (per run) and results (per code) share it."""
    failed = [run.pk for run in runs if run.calls_failed]
    if not failed:
        return []
    return list(
        Dispatch.objects.filter(run__in=failed, status=Dispatch.Status.FAILED)
        .values("run_id", "result_code", "message")
        .annotate(calls=Count("id"), targets=Sum("target_count"))
        .order_by("-calls", "result_code", "message")
    )


@dataclass(frozen=True)
class FailureGroup:
    code: str
    messages: tuple[str, ...]  # the most frequent first
    calls: int
    targets: int
    advice: str | Promise


def failures_by_code(rows: Iterable[dict[str, Any]], provider: str) -> list[FailureGroup]:
    """``failure_rows`` of every run added up per code, with what to do about each."""
    codes: dict[str, dict[str, Any]] = {}
    for row in rows:
        code = row["result_code"] or ""
        group = codes.setdefault(code, {"calls": 0, "targets": 0, "messages": {}})
        group["calls"] += row["calls"]
        group["targets"] += row["targets"] or 0
        if row["message"]:
            messages = group["messages"]
            messages[row["message"]] = messages.get(row["message"], 0) + row["calls"]
    groups = [
        FailureGroup(
            code,
            tuple(sorted(group["messages"], key=lambda text: -group["messages"][text]))[
                :MESSAGES_SHOWN
            ],
            group["calls"],
            group["targets"],
            advice_for_provider(provider, code),
        )
        for code, group in codes.items()
    ]
    return sorted(groups, key=lambda group: (-group.calls, group.code))


# -- the batch log ---------------------------------------------------------------------------

BATCH_FIELDS = (
    "id",
    "run",
    "seq",
    "target_count",
    "status",
    "attempts",
    "request_id",
    "result_code",
    "message",
    "sent_at",
    "recall",
)


@dataclass(frozen=True)
class BatchPage:
    calls: list[Dispatch]  # each with its run
    next_cursor: str | None  # the page after this one starts after this call
    previous_cursor: str | None  # the page before this one ends before this call

    @property
    def is_first(self) -> bool:
        return self.previous_cursor is None


def cursor_for(call: Dispatch) -> str:
    return f"{call.run_id}-{call.seq}"


def _read_cursor(cursor: str | None) -> tuple[int, int] | None:
    """(run id, seq) of a cursor; None for none or one that is not ours."""
    run_id, _, seq = (cursor or "").partition("-")
    if not (run_id.isdigit() and seq.isdigit()) or len(run_id) > 18 or len(seq) > 9:
        return None
    return int(run_id), int(seq)


def batch_page(
    runs: Sequence[CampaignRun],
    *,
    after: str | None = None,
    before: str | None = None,
    size: int = BATCH_PAGE_SIZE,
) -> BatchPage:
    """The calls of ``runs`` (a campaign's) after the cursor ``after`` (or before ``before``;
    or the first page), in run and seq order.

    One query, two when the page goes on into the next run. The runs are named by id, so
    PostgreSQL reads ``dispatch_once`` in order from the first call of the page, whatever
    other campaigns' calls the table holds (a join to the runs read it from its start)."""
    by_id = {run.pk: run for run in runs}
    cursor = _read_cursor(before)
    backwards = cursor is not None
    if cursor is None:
        cursor = _read_cursor(after)
    order = ("-run_id", "-seq") if backwards else ("run_id", "seq")
    found: list[Dispatch] = []
    later = sorted(by_id, reverse=backwards)
    if cursor is not None and cursor[0] in by_id:
        run_id, seq = cursor
        beyond = Q(seq__lt=seq) if backwards else Q(seq__gt=seq)
        found = _calls([run_id], beyond, order, size + 1)
        later = [pk for pk in later if (pk < run_id if backwards else pk > run_id)]
    elif cursor is not None:
        cursor = None  # a run of another campaign, or one deleted since: start again
        backwards, order, later = False, ("run_id", "seq"), sorted(by_id)
    if len(found) <= size and later:
        found += _calls(later, Q(), order, size + 1 - len(found))
    for call in found:
        call.run = by_id[call.run_id]
    more = len(found) > size
    page = found[:size]
    if backwards:
        page.reverse()
    has_next = True if backwards else more
    has_previous = more if backwards else cursor is not None
    return BatchPage(
        calls=page,
        next_cursor=cursor_for(page[-1]) if page and has_next else None,
        previous_cursor=cursor_for(page[0]) if page and has_previous else None,
    )


def _calls(run_ids: list[int], beyond: Q, order: tuple[str, str], limit: int) -> list[Dispatch]:
    calls = Dispatch.objects.filter(beyond, run__in=run_ids).only(*BATCH_FIELDS)
    return list(calls.order_by(*order)[:limit])


# -- one target ------------------------------------------------------------------------------


def lookup_applies(campaign: Campaign) -> bool:
    """Whether the campaign's calls list their targets: not a broadcast, a tag expression or
    every device, where the provider finds the devices itself."""
    audience = campaign.audience
    return campaign.kind != Campaign.Kind.BROADCAST and audience is not None and audience.is_listed


@dataclass(frozen=True)
class TargetCall:
    """A call that carried the target, and the target's place in it."""

    call: Dispatch
    index: int  # in the call's targets; its msgKey is the call's key at this index
    key: str  # the msgKey (mPaaS) or the call's IdempotentToken (EMAS)


LOOKUP_FIELDS = (*BATCH_FIELDS, "targets", "recall_code", "recall_message")


def lookup(campaign: Campaign, runs: Sequence[CampaignRun], target: str) -> list[TargetCall]:
    """The calls of ``runs`` (the campaign's) that carried ``target``, in run and seq order.

    PostgreSQL finds them with ``targets @> '[["target"]]'`` (Django's JSONField
    ``contains``); SQLite has no JSON containment, so the runs' calls are read in chunks,
    their targets only, and the few that match are loaded whole."""
    calls = Dispatch.objects.filter(run__in=[run.pk for run in runs]).order_by("run_id", "seq")
    try:
        found = list(calls.filter(targets__contains=[[target]]).only(*LOOKUP_FIELDS))
    except NotSupportedError:
        ids = [
            pk
            for pk, targets in calls.values_list("id", "targets").iterator(chunk_size=500)
            if any(each and each[0] == target for each in targets)
        ]
        found = list(calls.filter(id__in=ids).only(*LOOKUP_FIELDS)) if ids else []
    by_id = {run.pk: run for run in runs}
    matches = []
    for call in found:
        run = by_id[call.run_id]
        run.campaign = campaign
        call.run = run
        keys = call_keys(run, call)
        for index, each in enumerate(call.targets):
            if each and each[0] == target:
                matches.append(TargetCall(call, index, keys[min(index, len(keys) - 1)]))
    return matches


# -- one row per target ----------------------------------------------------------------------


def target_rows(
    campaign: Campaign, runs: Sequence[CampaignRun]
) -> Iterator[tuple[CampaignRun, Dispatch, int, str, str]]:
    """(run, call, index, target, key) for every target of every call of ``runs``, in run
    and seq order; at most ``TARGET_ROWS_CHUNK`` calls in memory at a time."""
    by_id = {run.pk: run for run in runs}
    for run in runs:
        run.campaign = campaign
    calls: QuerySet[Dispatch] = (
        Dispatch.objects.filter(run__in=list(by_id)).order_by("run_id", "seq").only(*LOOKUP_FIELDS)
    )
    for call in calls.iterator(chunk_size=TARGET_ROWS_CHUNK):
        run = by_id[call.run_id]
        call.run = run
        keys = call_keys(run, call)
        if not call.targets:  # a broadcast or tag call: the provider found the devices
            yield run, call, 0, "", keys[0]
        for index, each in enumerate(call.targets):
            yield run, call, index, str(each[0] if each else ""), keys[min(index, len(keys) - 1)]
