"""How a campaign did, on its page and behind it: the results section (funnel, arrivals and
opens over time, platform and vendor splits, failures by code, the runs compared, the
timeline), the batch log in keyset pages, "did this target get it?", and the funnel and
per-target CSV exports.

Everyone with the console reads results and exports them. The batch log and the lookup
answer an htmx request with their partial (swapped into the campaign page) and any other
request with a page of their own, so both work without script.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from campaigns.call_log import (
    BatchPage,
    FailureGroup,
    batch_page,
    failures_by_code,
    lookup,
    lookup_applies,
    target_rows,
)
from campaigns.campaign_timeline import Milestone, timeline
from campaigns.forms.target_lookup import TargetLookupForm
from campaigns.models import AuditEvent, Campaign, CampaignRun, Dispatch
from campaigns.models.stats import FUNNEL_FIELDS
from campaigns.result_charts import (
    BarChart,
    ColumnChart,
    LineChart,
    funnel_chart,
    line_chart,
    open_rate_chart,
    split_chart,
)
from campaigns.results import (
    STEP_LABELS,
    Funnel,
    Point,
    RunResult,
    Split,
    Standing,
    funnel,
    latest_stats,
    series_of,
    splits,
    standing,
)
from campaigns.views import HtmxHttpRequest

VIEW = "campaigns.view_console"
RUNS_COMPARED = 30  # the runs table and chart show the latest ones; the funnel CSV has all
BOM = "\ufeff"  # so that spreadsheet programs read the file as UTF-8


# -- the section on the campaign page --------------------------------------------------------


@dataclass(frozen=True)
class Results:
    funnel: Funnel
    funnel_chart: BarChart
    points: list[Point]
    over_time: LineChart | None
    platforms: list[Split]
    platform_chart: BarChart
    vendors: list[Split]
    vendor_chart: BarChart
    standing: Standing
    failures: list[FailureGroup]
    runs: list[RunResult]  # the latest RUNS_COMPARED, newest first
    runs_total: int
    open_rates: ColumnChart | None
    timeline: list[Milestone]
    calls: int  # planned, over every run
    lookup_applies: bool
    lookup_form: TargetLookupForm

    @property
    def failed_calls(self) -> int:
        return sum(group.calls for group in self.failures)


def results_context(
    campaign: Campaign,
    results: Sequence[RunResult],
    failures: Iterable[dict[str, Any]],
    events: Iterable[AuditEvent],
) -> dict[str, Results]:
    """``{"results": Results}`` for the campaign page from what it has loaded: every run
    with its snapshots (``results.run_results``), the failed calls (``failure_rows``) and
    the audit events of its trail; no query of its own (the batch log comes in its own
    request, ``campaign_batches``)."""
    latest = [each.latest for each in results if each.latest]
    points = series_of(snapshot for each in results for snapshot in each.snapshots)
    total = funnel(results)
    platforms = splits(latest, "by_platform")
    vendors = splits(latest, "by_vendor")
    runs = [each.run for each in results]
    calls = sum(run.calls for run in runs)
    return {
        "results": Results(
            funnel=total,
            funnel_chart=funnel_chart(total.steps),
            points=points,
            over_time=line_chart(points),
            platforms=platforms,
            platform_chart=split_chart(platforms),
            vendors=vendors,
            vendor_chart=split_chart(vendors),
            standing=standing(results),
            failures=failures_by_code(failures, campaign.app.provider),
            runs=list(results[:RUNS_COMPARED]),
            runs_total=len(results),
            open_rates=open_rate_chart(results[:RUNS_COMPARED]),
            timeline=timeline(campaign, events, runs),
            calls=calls,
            lookup_applies=lookup_applies(campaign),
            lookup_form=TargetLookupForm(),
        )
    }


# -- the batch log ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchRow:
    """A call as the batch log's table shows it, its words and numbers made here once: the
    template's own number and date formatting cost half a millisecond a row."""

    sent_at: str  # ISO 8601 for <time datetime>; "" when not sent
    sent: str  # in the reader's time zone
    run_due_at: str
    run_due: str
    run_zone: str
    seq: str
    targets: str
    request_id: str
    result_code: str
    status: str
    status_label: str
    attempts: str
    message: str
    recall_label: str


def batch_rows(page: BatchPage) -> list[BatchRow]:
    zone = timezone.get_current_timezone()
    statuses = {value: str(label) for value, label in Dispatch.Status.choices}
    recalls = {value: str(label) for value, label in Dispatch.Recall.choices if value}
    rows = []
    for call in page.calls:
        sent = timezone.localtime(call.sent_at, zone) if call.sent_at else None
        due = timezone.localtime(call.run.due_at, zone)
        rows.append(
            BatchRow(
                sent_at=sent.isoformat() if sent else "",
                sent=sent.strftime("%m-%d %H:%M:%S") if sent else "",
                run_due_at=due.isoformat(),
                run_due=due.strftime("%m-%d %H:%M"),
                run_zone=call.run.time_zone,
                seq=str(call.seq),
                targets=str(call.target_count),
                request_id=call.request_id,
                result_code=call.result_code,
                status=call.status,
                status_label=statuses.get(call.status, call.status),
                attempts=str(call.attempts),
                message=call.message,
                recall_label=recalls.get(call.recall, ""),
            )
        )
    return rows


@require_GET
@permission_required(VIEW, raise_exception=True)
def campaign_batches(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A page of the batch log: the campaign, its runs (whose counts give the calls planned,
    nothing is counted) and the page's calls."""
    campaign = get_object_or_404(Campaign, pk=pk)
    runs = list(campaign.runs.only("id", "campaign_id", "due_at", "time_zone", "calls"))
    page = batch_page(runs, after=request.GET.get("after"), before=request.GET.get("before"))
    context = {
        "campaign": campaign,
        "batches": page,
        "rows": batch_rows(page),
        "calls": sum(run.calls for run in runs),
        "runs": len(runs),
    }
    if request.htmx.target == "campaign-batches":
        return render(request, "campaigns/_campaign_batches.html", context)
    return render(request, "campaigns/campaign_batches.html", context)


# -- did this target get it? -----------------------------------------------------------------


@require_GET
@permission_required(VIEW, raise_exception=True)
def campaign_target_lookup(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign.objects.select_related("app", "audience"), pk=pk)
    form = TargetLookupForm(request.GET if "target" in request.GET else None)
    context: dict[str, Any] = {"campaign": campaign, "lookup_form": form}
    if not lookup_applies(campaign):
        context["lookup_applies"] = False
    elif form.is_valid():
        target = form.cleaned_data["target"]
        runs = list(campaign.runs.order_by("due_at", "id"))
        context.update(lookup_applies=True, target=target, found=lookup(campaign, runs, target))
    else:
        context["lookup_applies"] = True
    if request.htmx.target == "campaign-lookup-result":
        return render(request, "campaigns/_campaign_lookup.html", context)
    return render(request, "campaigns/campaign_lookup.html", context)


# -- CSV exports -----------------------------------------------------------------------------


class _Echo:
    """A file that hands each written line back, for csv.writer into a streamed response."""

    def write(self, value: str) -> str:
        return value


def _csv_response(rows: Iterator[list[Any]], filename: str) -> StreamingHttpResponse:
    """The rows as a streamed CSV file. The rows are made while the response is sent, after
    the view has returned: in the request's language, as the view was."""
    writer = csv.writer(_Echo())
    language = translation.get_language()

    def lines() -> Iterator[str]:
        yield BOM
        with translation.override(language):
            for row in rows:
                yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _filename(campaign: Campaign, what: str) -> str:
    return f"{slugify(campaign.name) or 'campaign'}-{campaign.pk}-{what}.csv"


def _when(moment: datetime | None, zone: tzinfo) -> str:
    return timezone.localtime(moment, zone).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


@require_GET
@permission_required(VIEW, raise_exception=True)
def campaign_funnel_csv(request: HtmxHttpRequest, pk: int) -> StreamingHttpResponse:
    """A row per run (its newest snapshot) and a total row, every count of the funnel."""
    campaign = get_object_or_404(Campaign, pk=pk)
    zone = timezone.get_current_timezone()
    runs = list(campaign.runs.order_by("due_at", "id"))
    latest = latest_stats(runs)

    def rows() -> Iterator[list[Any]]:
        yield [
            _("Run due (%(zone)s)") % {"zone": zone},
            _("Run's time zone"),
            _("Status"),
            _("Results as of (%(zone)s)") % {"zone": zone},
            _("Targets"),
            *(str(STEP_LABELS[name]) for name in FUNNEL_FIELDS),
        ]
        for run in runs:
            stat = latest.get(run.pk)
            counts = [getattr(stat, name) if stat else "" for name in FUNNEL_FIELDS]
            yield [
                _when(run.due_at, zone),
                run.time_zone,
                run.get_status_display(),
                _when(stat.taken_at if stat else None, zone),
                run.targets,
                *counts,
            ]
        # Each column added up: the targets of every run, the counts of those with results.
        total = Funnel.of((run.targets, latest[run.pk]) for run in runs if run.pk in latest)
        targets = sum(run.targets for run in runs)
        yield [_("Total"), "", "", "", targets, *(getattr(total, n) for n in FUNNEL_FIELDS)]

    return _csv_response(rows(), _filename(campaign, "funnel"))


@require_GET
@permission_required(VIEW, raise_exception=True)
def campaign_targets_csv(request: HtmxHttpRequest, pk: int) -> StreamingHttpResponse:
    """A row per target of every call, read a chunk of calls at a time: the memory it takes
    does not grow with the audience."""
    campaign = get_object_or_404(Campaign, pk=pk)
    zone = timezone.get_current_timezone()
    runs: list[CampaignRun] = list(campaign.runs.order_by("due_at", "id"))
    key_name = "IdempotentToken" if campaign.kind == Campaign.Kind.EMAS else "msgKey"

    def rows() -> Iterator[list[Any]]:
        yield [
            _("Run due (%(zone)s)") % {"zone": zone},
            _("Batch"),
            _("Target"),
            key_name,
            _("Status"),
            "ResultCode",
            _("Message"),
            "RequestId",
            _("Sent at (%(zone)s)") % {"zone": zone},
        ]
        for run, call, _index, target, key in target_rows(campaign, runs):
            yield [
                _when(run.due_at, zone),
                call.seq,
                target,
                key,
                call.get_status_display(),
                call.result_code,
                call.message,
                call.request_id,
                _when(call.sent_at, zone),
            ]

    return _csv_response(rows(), _filename(campaign, "targets"))
