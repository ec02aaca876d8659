"""Campaigns: the list, filtered and sorted, in keyset pages (``campaign_pages`` says why
there are no page numbers), and the detail page.

Everyone with the console reads campaigns. A list page costs the same few queries however
many campaigns there are and however many rows it shows: the session, the user and their
permissions, the app and owner choices of the filters, and the page itself, which brings
each campaign's app, audience and owner along in the same query. An empty page needs no
more: unfiltered, it means there are no campaigns; filtered, that none match.
"""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from campaigns.call_log import failure_rows
from campaigns.campaign_pages import campaign_page
from campaigns.campaign_requests import with_sample_member
from campaigns.campaign_summary import summarise
from campaigns.forms.campaigns_list import CampaignFilter
from campaigns.models import Campaign
from campaigns.results import run_results
from campaigns.views.campaign_results import results_context
from campaigns.views.campaign_sending import progress_context
from campaigns.views.campaign_workflow import workflow_context

PAGE_SIZE = 25
VIEW = "campaigns.view_console"
# What the list shows, and no more: an app row also holds its encrypted secret, and a
# campaign its content and options.
LIST_FIELDS = (
    "name",
    "kind",
    "status",
    "schedule_mode",
    "send_at",
    "frequency",
    "time_of_day",
    "time_zone",
    "recipient_local_time",
    "created_at",
    "changed_at",
    "app__name",
    "app__provider",
    "audience__name",
    "audience__kind",
    "audience__member_count",
    "created_by__username",
)


@require_GET
@permission_required(VIEW, raise_exception=True)
def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = Campaign.objects.select_related("app", "audience", "created_by").only(*LIST_FIELDS)
    filters = CampaignFilter(request.GET, queryset=campaigns)
    page = campaign_page(
        filters.qs,
        filters.chosen_sort,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        size=PAGE_SIZE,
    )
    return render(request, "campaigns/campaign_list.html", {"filter": filters, "page": page})


@require_GET
@permission_required(VIEW, raise_exception=True)
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaigns = Campaign.objects.select_related(
        "app", "audience", "template", "created_by", "changed_by", "submitted_by", "approved_by"
    )
    # The preview's sample member comes along with the campaign.
    campaign = get_object_or_404(with_sample_member(campaigns), pk=pk)
    # Every run with its delivery snapshots in one query, and their failed calls in one
    # more: the progress, the results and the timeline all read them.
    results = run_results(campaign)
    runs = [each.run for each in results]
    failures = failure_rows(runs)
    workflow = workflow_context(request, campaign)
    events = [entry.event for entry in workflow["workflow"].trail]
    context = {
        "campaign": campaign,
        "summary": summarise(campaign, now=timezone.now()),
        **progress_context(campaign, runs, failures),
        **workflow,
        **results_context(campaign, results, failures, events),
    }
    return render(request, "campaigns/campaign_detail.html", context)
