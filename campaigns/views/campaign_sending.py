"""Sending a campaign, seen and steered from its page: the live progress of its runs, and
pause, resume, cancel and recall (POSTs, each audited)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from campaigns import quiet_hours, run_controls
from campaigns.approval import TransitionRefused
from campaigns.audit import Changes, record
from campaigns.call_log import failure_rows
from campaigns.models import Campaign, CampaignRun
from campaigns.tasks import dispatch_send

VIEW = "campaigns.view_console"
SEND = "campaigns.send_campaign"
RUNS_SHOWN = 10


@dataclass(frozen=True)
class RunProgress:
    run: CampaignRun
    percent: int
    calls_per_s: float | None
    eta: timedelta | None
    failures: list[dict[str, Any]]
    held: str = ""  # why the app's quiet hours hold it back, and until when


def run_progress(run: CampaignRun, failures: list[dict[str, Any]], held: str = "") -> RunProgress:
    done = run.calls_done
    percent = int(100 * done / run.calls) if run.calls else (100 if not run.is_active else 0)
    rate = eta = None
    if run.started_at is not None and done:
        end = run.finished_at or timezone.now()
        elapsed = max((end - run.started_at).total_seconds(), 0.001)
        rate = done / elapsed
        if run.is_active and rate > 0:
            eta = timedelta(seconds=round((run.calls - done) / rate))
    return RunProgress(run, percent, rate, eta, failures, held)


def progress_context(
    campaign: Campaign,
    all_runs: Sequence[CampaignRun] | None = None,
    failures: Sequence[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The latest runs with their counts (kept on the runs) and failures by code: two
    queries, fewer when the campaign page passes what it has loaded for its results: all
    the campaign's runs, newest first, and their ``call_log.failure_rows``."""
    now = timezone.now()
    if all_runs is None:
        runs = list(campaign.runs.order_by("-due_at", "-id")[:RUNS_SHOWN])
    else:
        runs = list(all_runs[:RUNS_SHOWN])
    by_run: dict[int, list[dict[str, Any]]] = {}
    for row in failure_rows(runs) if failures is None else failures:
        by_run.setdefault(row["run_id"], []).append(row)
    return {
        "campaign": campaign,
        "runs": [
            run_progress(run, by_run.get(run.id, []), quiet_hours.hold_note(run, now))
            for run in runs
        ],
        "live": any(run.is_active and run.status != CampaignRun.Status.WAITING for run in runs),
        "recall": run_controls.recall_summary(campaign, all_runs),
    }


@require_GET
@permission_required(VIEW, raise_exception=True)
def campaign_progress(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    return render(request, "campaigns/_campaign_progress.html", progress_context(campaign))


def _steer(request: HttpRequest, pk: int, action: str, done: str) -> HttpResponse:
    moves = {
        "pause": run_controls.pause,
        "resume": run_controls.resume,
        "cancel": run_controls.cancel,
    }
    try:
        with transaction.atomic():
            campaign = get_object_or_404(
                Campaign.objects.select_for_update(of=("self",)).select_related("app"), pk=pk
            )
            changes: Changes = moves[action](campaign)
            record(request, action, campaign, changes)
            if action == "resume":
                transaction.on_commit(dispatch_send.delay)
    except TransitionRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, done)
    return redirect("campaign_detail", pk=pk)


@require_POST
@permission_required(SEND, raise_exception=True)
def campaign_pause(request: HttpRequest, pk: int) -> HttpResponse:
    return _steer(request, pk, "pause", _("Paused: no further call is made until you resume."))


@require_POST
@permission_required(SEND, raise_exception=True)
def campaign_resume(request: HttpRequest, pk: int) -> HttpResponse:
    return _steer(request, pk, "resume", _("Resumed: sending goes on where it stopped."))


@require_POST
@permission_required(SEND, raise_exception=True)
def campaign_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _steer(request, pk, "cancel", _("Cancelled: no further call is made."))


@require_POST
@permission_required(SEND, raise_exception=True)
def campaign_recall(request: HttpRequest, pk: int) -> HttpResponse:
    """Not in a transaction, unlike the other moves: a recall makes one provider call per
    sent call, each after a token of the app's rate limiter (run_controls.recall)."""
    campaign = get_object_or_404(Campaign.objects.select_related("app"), pk=pk)
    try:
        changes = run_controls.recall(campaign)
    except TransitionRefused as refused:
        messages.error(request, refused.message)
    else:
        record(request, "recall", campaign, changes)
        done, complete = recall_outcome(changes)
        if complete:
            messages.success(request, done)
        else:
            messages.warning(request, done)
    return redirect("campaign_detail", pk=pk)


def recall_outcome(changes: Changes) -> tuple[str, bool]:
    """What a recall did, in words; and whether it is complete (nothing refused or left)."""
    recalled, refused, left, in_flight = (
        changes[name][1]
        for name in ("calls_recalled", "calls_refused", "calls_left", "calls_in_flight")
    )
    asked = recalled + refused + left
    words = [
        ngettext(
            "Recalled %(recalled)d of %(asked)d sent call.",
            "Recalled %(recalled)d of %(asked)d sent calls.",
            asked,
        )
        % {"recalled": recalled, "asked": asked}
        if asked
        else _("No call was recorded as sent yet.")
    ]
    if "status" in changes:
        words.append(_("Sending stopped first: no further call is made."))
    if refused:
        words.append(
            ngettext(
                "mPaaS refused %(count)d; its reason is shown under Sending.",
                "mPaaS refused %(count)d; the reasons are shown under Sending.",
                refused,
            )
            % {"count": refused}
        )
    if left:
        words.append(
            ngettext(
                "%(count)d call was not asked in time: recall again to go on.",
                "%(count)d calls were not asked in time: recall again to go on.",
                left,
            )
            % {"count": left}
        )
    if in_flight:
        words.append(
            ngettext(
                "%(count)d call was still held by a sender: if it goes out, recall again.",
                "%(count)d calls were still held by a sender: if they go out, recall again.",
                in_flight,
            )
            % {"count": in_flight}
        )
    return " ".join(words), not (refused or left or in_flight)
