"""The campaign history for product owners: every campaign that went out, its key figures,
totals per month and a CSV export of the filtered list (streamed).

The page costs the session and permission queries, the app choices of the filters, one
keyset page of campaigns and one grouped read of the months' totals.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime, tzinfo
from typing import Any

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from campaigns import campaign_history
from campaigns.campaign_pages import SENT, campaign_page
from campaigns.forms.history_filter import HistoryFilter
from campaigns.models import Campaign, MobileApp

PAGE_SIZE = 25
VIEW = "campaigns.view_console"


@require_GET
@permission_required(VIEW, raise_exception=True)
def history(request: HttpRequest) -> HttpResponse:
    filters = HistoryFilter(request.GET, queryset=campaign_history.went_out())
    page = campaign_page(
        filters.qs,
        SENT,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        size=PAGE_SIZE,
    )
    totals = campaign_history.totals(filters)
    context = {
        "filter": filters,
        "page": page,
        "totals": totals,
        "chart": campaign_history.chart(totals.months),
        "export_query": request.GET.urlencode(),
    }
    return render(request, "campaigns/history.html", context)


class _Echo:
    """A file that hands back what is written: csv.writer then yields lines one by one."""

    def write(self, value: str) -> str:
        return value


def _when(moment: datetime | None, zone: tzinfo) -> str:
    return timezone.localtime(moment, zone).strftime("%Y-%m-%d %H:%M") if moment else ""


def _lines(filters: HistoryFilter) -> Iterator[str]:
    """The CSV's lines. The header, the zone and the names are settled now, while the
    request's language and time zone are active: the rows are written later, as the
    response is sent."""
    writer = csv.writer(_Echo())
    zone, zone_name = timezone.get_current_timezone(), timezone.get_current_timezone_name()
    kinds = {key: str(label) for key, label in Campaign.Kind.choices}
    statuses = {key: str(label) for key, label in Campaign.Status.choices}
    providers = {key: str(label) for key, label in MobileApp.Provider.choices}
    header = writer.writerow(
        [
            _("Campaign ID"),
            _("Name"),
            _("App"),
            _("Provider"),
            _("Kind"),
            _("Status"),
            _("Owner"),
            _("First sent (%(zone)s)") % {"zone": zone_name},
            _("Targets"),
            _("Accepted"),
            _("Arrived"),
            _("Opened"),
            _("Open rate"),
            _("Results as of (%(zone)s)") % {"zone": zone_name},
        ]
    )
    return _rows(filters, writer, header, zone, kinds, statuses, providers)


def _rows(
    filters: HistoryFilter,
    writer: Any,
    header: str,
    zone: tzinfo,
    kinds: dict[str, str],
    statuses: dict[str, str],
    providers: dict[str, str],
) -> Iterator[str]:
    yield "\ufeff"  # so that spreadsheet programs read UTF-8 (Chinese names)
    yield header
    for row in campaign_history.export_rows(filters):
        (pk, name, app, provider, kind, status, owner, sent, targets, accepted) = row[:10]
        arrived, opened, results_at = row[10:]
        rate = f"{opened / arrived:.4f}" if arrived else ""  # type: ignore[operator]
        yield writer.writerow(
            [
                pk,
                name,
                app,
                providers.get(str(provider), provider),
                kinds.get(str(kind), kind),
                statuses.get(str(status), status),
                owner or "",
                _when(sent, zone),  # type: ignore[arg-type]
                targets,
                accepted,
                arrived,
                opened,
                rate,
                _when(results_at, zone),  # type: ignore[arg-type]
            ]
        )


@require_GET
@permission_required(VIEW, raise_exception=True)
def history_export(request: HttpRequest) -> StreamingHttpResponse:
    filters = HistoryFilter(request.GET, queryset=campaign_history.went_out())
    response = StreamingHttpResponse(_lines(filters), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="pushdeck-history-{stamp}.csv"'
    return response
