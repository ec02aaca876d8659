"""The results side of a campaign's page: the funnel, arrivals and opens over time, splits,
failures, runs, the timeline; and behind it the batch log, the target lookup and the CSV
exports, as a viewer (who reads and exports everything) sees them."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from campaigns.audit import record
from campaigns.middleware import TIME_ZONE_COOKIE
from campaigns.models import AuditEvent, Campaign, CampaignRun, DeliveryStat, Dispatch
from tests.campaigns.test_results import a_run, with_calls
from tests.campaigns.views.test_campaign_sending import sent
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db
D = Dispatch.Status
# Each request of a signed-in client ends by saving its session (SESSION_SAVE_EVERY_REQUEST,
# one UPDATE, counted in the budgets below); a test's transaction wraps it in a SAVEPOINT and
# its RELEASE.
SAVEPOINTS = 2


def finished(members: int = 250) -> Campaign:
    """A personalised campaign sent through the sandbox (calls of 100), with two snapshots
    and no more to come."""
    campaign = sent(members)
    run = campaign.runs.get()
    ended = run.finished_at or timezone.now()
    DeliveryStat.objects.create(
        run=run, taken_at=ended + timedelta(minutes=1), step=0, accepted=members, sent=members,
        arrived=members // 2, opened=10,
    )  # fmt: skip
    DeliveryStat.objects.create(
        run=run,
        taken_at=ended + timedelta(hours=1),
        step=3,
        accepted=members,
        sent=members - 10,
        arrived=200,
        opened=50,
        by_platform={
            "android": {"sent": 160, "arrived": 130, "opened": 30},
            "ios": {"sent": 80, "arrived": 70, "opened": 20},
        },
    )
    CampaignRun.objects.filter(pk=run.pk).update(stats_due_at=None)  # every step taken
    return campaign


def page_of(client: Client, campaign: Campaign) -> str:
    response = client.get(reverse("campaign_detail", args=[campaign.pk]))
    assert response.status_code == 200
    return response.content.decode()


def text(html: str) -> str:
    """The page's words, tags dropped and spaces squeezed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def section(html: str, testid: str) -> str:
    """The words of the element marked ``data-testid="testid"``."""
    found = re.search(rf'<(\w+)[^>]*data-testid="{testid}"', html)
    assert found is not None, f"no {testid} on the page"
    tag, start = found[1], found.start()
    end = html.index(f"</{tag}>", start)
    nested = html.count(f"<{tag}", start + 1, end)
    while nested:  # a <div> in the <div>: go on to the matching end
        end = html.index(f"</{tag}>", end + 1)
        nested -= 1
    return text(html[start:end])


# -- the results section ---------------------------------------------------------------------


def test_a_finished_campaign_shows_its_funnel_with_counts_and_rates(viewer: Client) -> None:
    campaign = finished()
    html = page_of(viewer, campaign)
    funnel = section(html, "funnel")
    assert "Targets 250" in funnel
    assert "Accepted by the provider 250 100.0% 100.0%" in funnel
    assert "Sent to devices 240 96.0% 96.0%" in funnel
    assert "Arrived 200 83.3% 80.0%" in funnel  # of sent, of targets
    assert "Opened 50 25.0% 20.0%" in funnel
    assert "Open rate (opened of arrived): 25.0%." in text(html)
    assert 'role="img" aria-labelledby="funnel-caption"' in html  # the chart, drawn in SVG


def test_results_say_they_are_final_once_polling_ended(viewer: Client) -> None:
    campaign = finished()
    assert "Final results as of" in section(page_of(viewer, campaign), "results-standing")
    next_poll = timezone.now() + timedelta(hours=5)
    CampaignRun.objects.update(stats_due_at=next_poll)
    standing = section(page_of(viewer, campaign), "results-standing")
    assert "next update at" in standing
    assert timezone.localtime(next_poll).strftime("%Y-%m-%d %H:%M") in standing


def test_arrivals_and_opens_over_time_are_a_chart_and_a_table(viewer: Client) -> None:
    html = page_of(viewer, finished())
    assert re.search(r'<polyline class="chart-line is-arrived" points="[\d., ]+"', html)
    over_time = section(html, "over-time")
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d 125 10 .* 200 50", over_time)


def test_platforms_are_split_and_vendors_not_reported(viewer: Client) -> None:
    html = page_of(viewer, finished())
    platforms = section(html, "platforms")
    assert "Android 160 130 30 23.1%" in platforms
    assert "iOS 80 70 20 28.6%" in platforms
    vendors = re.search(r'data-testid="vendors".*?</figure>', html, re.DOTALL)
    assert vendors is not None
    assert "Not reported by the provider" in vendors[0]


def test_before_any_snapshot_results_say_when_they_appear(viewer: Client) -> None:
    campaign = sent(50)
    CampaignRun.objects.update(stats_due_at=timezone.now() + timedelta(minutes=1))
    html = page_of(viewer, campaign)
    assert "Results appear about a minute after sending ends" in section(html, "results-empty")
    assert "The provider is asked at" in html
    assert 'data-testid="funnel"' not in html


def test_a_draft_has_no_results_yet(viewer: Client) -> None:
    html = page_of(viewer, CampaignFactory.create())
    assert "Results appear about a minute after sending ends" in html
    assert "Batch log" not in html  # nothing planned: no log, no lookup
    assert "Did a target get it?" not in html


def test_a_stats_error_is_shown_and_sending_goes_on(viewer: Client) -> None:
    campaign = finished()
    CampaignRun.objects.update(stats_error="Request was denied (Throttling.User)")
    alert = section(page_of(viewer, campaign), "stats-error")
    assert "Request was denied (Throttling.User)" in alert
    assert "Sending is not affected" in alert


def test_the_timeline_shows_the_campaigns_steps_in_order(viewer: Client) -> None:
    campaign = finished()
    started = campaign.runs.get().started_at
    assert started is not None
    Campaign.objects.filter(pk=campaign.pk).update(created_at=started - timedelta(hours=1))
    for minutes, action in ((30, "submit"), (20, "approve")):
        event = record(None, action, campaign)
        AuditEvent.objects.filter(pk=event.pk).update(
            created_at=started - timedelta(minutes=minutes)
        )
    steps = section(page_of(viewer, campaign), "timeline")
    order = ["Created", "Submitted for approval", "Approved", "Sending started", "Completed"]
    assert [steps.index(step) for step in order] == sorted(steps.index(step) for step in order)


def test_failed_calls_are_grouped_by_code_with_what_to_do(viewer: Client) -> None:
    campaign = finished()
    Dispatch.objects.filter(seq__in=[2, 3]).update(
        status=D.FAILED, result_code="TEMPLATE_NOT_EXIST", message="template Offer does not exist"
    )
    CampaignRun.objects.update(calls_failed=2)
    failures = section(page_of(viewer, campaign), "failures")
    assert "TEMPLATE_NOT_EXIST template Offer does not exist 2 150" in failures
    assert "sync it from its page" in failures


def test_a_recurring_campaign_compares_its_runs(viewer: Client) -> None:
    campaign = CampaignFactory.create(schedule_mode=Campaign.ScheduleMode.RECURRING)
    for day, opened in enumerate((10, 40)):
        run = a_run(campaign, 24 * day, targets=100)
        DeliveryStat.objects.create(
            run=run, taken_at=run.due_at + timedelta(hours=2), step=3, accepted=100, sent=100,
            arrived=80, opened=opened,
        )  # fmt: skip
    html = page_of(viewer, campaign)
    runs = section(html, "runs")
    assert "2026-03-03 17:00" in runs or "2026-03-03 09:00" in runs
    assert "100 100 80 40 50.0%" in runs
    assert "100 100 80 10 12.5%" in runs
    assert 'aria-labelledby="rates-caption"' in html
    assert "Targets 200" in section(html, "funnel")


def test_the_detail_page_asks_the_same_few_queries_however_big_the_campaign(
    viewer: Client, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    """Session, user, permissions (2), the campaign with the preview's sample member, its
    runs with their snapshots, failed calls, trail, the batch log's first page, the
    session's save: ten, as the benchmark's budget says (tests/bench/bench_pages.py)."""
    campaign = finished(150)
    Dispatch.objects.filter(seq=2).update(status=D.FAILED, result_code="PARAM_ILLEGAL")
    CampaignRun.objects.update(calls_failed=1)
    with django_assert_max_num_queries(10 + SAVEPOINTS) as few:
        page_of(viewer, campaign)
    for n in range(1, 6):  # five older runs of 120 calls with five snapshots each
        run = a_run(campaign, -24 * n, calls_failed=1)
        with_calls(run, [["x"]] * 119)
        with_calls(run, [["y"]], status=D.FAILED, result_code="Throttling.User", seq_from=120)
        for minutes in range(5):
            DeliveryStat.objects.create(
                run=run, taken_at=run.due_at + timedelta(minutes=minutes), step=0, arrived=minutes
            )
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = page_of(viewer, campaign)
    assert "Throttling.User" in section(html, "failures")
    assert len(re.findall("<tr>", section_html(html, "runs"))) == 6 + 1


def section_html(html: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}".*?</table>', html, re.DOTALL)
    assert found is not None
    return found[0]


# -- the batch log ---------------------------------------------------------------------------


def test_the_page_loads_the_first_calls_of_the_batch_log_in_place(viewer: Client) -> None:
    campaign = finished()
    page = page_of(viewer, campaign)
    placeholder = page[page.index('id="campaign-batches"') :]
    url = reverse("campaign_batches", args=[campaign.pk])
    placeholder = placeholder[: placeholder.index("</section>")]
    assert f'hx-get="{url}"' in placeholder  # fetched once the page is shown
    assert f'href="{url}"' in placeholder  # and a link without scripts
    batches = viewer.get(
        url, headers={"HX-Request": "true", "HX-Target": "campaign-batches"}
    ).content.decode()
    assert "<html" not in batches
    run = campaign.runs.get()
    first = Dispatch.objects.get(run=run, seq=1)
    assert first.request_id in batches
    assert "Sent" in batches
    assert "100" in batches


def test_batch_log_pages_in_place_with_htmx_and_alone_without(
    viewer: Client, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    campaign = CampaignFactory.create()
    run = a_run(campaign)
    with_calls(run, [["a", "b"]] * 60)
    url = reverse("campaign_batches", args=[campaign.pk])
    alone = viewer.get(url).content.decode()
    assert "<html" in alone
    assert alone.count("<tr>") == 50 + 1  # the header row
    cursor = re.search(r'href="[^"]*\?after=([\d-]+)"[^>]*rel="next"', alone)
    assert cursor is not None
    # Session, user, permissions (2), the campaign, its runs (their calls counted as they
    # went: no COUNT), the page, the session's save.
    with django_assert_max_num_queries(8 + SAVEPOINTS):
        swapped = viewer.get(
            f"{url}?after={cursor[1]}", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="campaign-batches"
        ).content.decode()
    assert "<html" not in swapped
    assert swapped.lstrip().startswith('<section class="card stack" id="campaign-batches"')
    assert swapped.count("<tr>") == 10 + 1
    assert f"REQ-{run.pk}-51" in swapped
    assert 'rel="next"' not in swapped
    assert 'rel="prev"' in swapped
    assert "60 calls planned" in swapped


# -- did this target get it? -----------------------------------------------------------------


def test_looking_up_a_target_shows_its_call_and_msgkey(viewer: Client) -> None:
    campaign = finished()
    run = campaign.runs.get()
    url = reverse("campaign_target_lookup", args=[campaign.pk])
    html = viewer.get(
        url, {"target": "user142"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="campaign-lookup-result"
    ).content.decode()
    assert "<html" not in html
    call = Dispatch.objects.get(run=run, seq=2)
    assert "“user142” was in 1 call of this campaign." in text(html)
    assert f"pd{run.pk}-2-42" in html  # the 43rd target of the second call
    assert call.request_id in html
    assert "Not recalled" in html


def test_a_target_not_in_the_campaign_says_so(viewer: Client) -> None:
    campaign = finished()
    page = viewer.get(reverse("campaign_target_lookup", args=[campaign.pk]), {"target": "User1"})
    html = page.content.decode()
    assert "<html" in html  # without htmx: a page of its own, with the form
    assert "“User1” is not in any call of this campaign." in text(html)
    assert '<label for="id_target">Target</label>' in html


def test_the_lookup_form_is_on_the_campaign_page_with_its_label(viewer: Client) -> None:
    html = page_of(viewer, finished())
    form = re.search(
        r'<form method="get" action="([^"]+)"[^>]*role="search".*?</form>', html, re.DOTALL
    )
    assert form is not None
    assert form[1].endswith("/lookup/")
    assert '<label for="id_target">Target</label>' in form[0]


def test_an_empty_lookup_asks_for_a_target(viewer: Client) -> None:
    campaign = finished()
    html = viewer.get(
        reverse("campaign_target_lookup", args=[campaign.pk]),
        {"target": " "},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="campaign-lookup-result",
    ).content.decode()
    assert "Enter the target to look for." in html


def test_a_broadcast_cannot_be_looked_up(viewer: Client) -> None:
    campaign = CampaignFactory.create(kind=Campaign.Kind.BROADCAST)
    html = viewer.get(
        reverse("campaign_target_lookup", args=[campaign.pk]), {"target": "x"}
    ).content.decode()
    assert "cannot be looked up" in html
    assert 'id="id_target"' not in html


# -- CSV exports -----------------------------------------------------------------------------


def rows_of(response: object) -> list[list[str]]:
    content = b"".join(response.streaming_content).decode("utf-8")  # type: ignore[attr-defined]
    assert content.startswith("\ufeff")  # spreadsheet programs then read UTF-8
    return list(csv.reader(io.StringIO(content[1:])))


def test_the_funnel_exports_per_run_and_in_total(viewer: Client) -> None:
    campaign = finished()
    a_run(campaign, -48, targets=10)  # an older run without results
    viewer.cookies[TIME_ZONE_COOKIE] = "Asia/Shanghai"
    response = viewer.get(reverse("campaign_funnel_csv", args=[campaign.pk]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].endswith(f'-{campaign.pk}-funnel.csv"')
    header, older, run, total = rows_of(response)
    assert header[:5] == [
        "Run due (Asia/Shanghai)",
        "Run's time zone",
        "Status",
        "Results as of (Asia/Shanghai)",
        "Targets",
    ]
    assert header[5:9] == ["Accepted by the provider", "Sent to devices", "Arrived", "Opened"]
    assert len(header) == 5 + 10  # every count of the funnel
    assert older[4:6] == ["10", ""]
    assert run[4:9] == ["250", "250", "240", "200", "50"]
    assert total[0] == "Total"
    assert total[4:9] == ["260", "250", "240", "200", "50"]  # each column added up


def test_the_targets_export_has_a_row_per_target_with_its_msgkey(viewer: Client) -> None:
    campaign = finished()
    run = campaign.runs.get()
    viewer.cookies[TIME_ZONE_COOKIE] = "Asia/Shanghai"
    response = viewer.get(reverse("campaign_targets_csv", args=[campaign.pk]))
    assert response.streaming
    header, *rows = rows_of(response)
    assert header == [
        "Run due (Asia/Shanghai)",
        "Batch",
        "Target",
        "msgKey",
        "Status",
        "ResultCode",
        "Message",
        "RequestId",
        "Sent at (Asia/Shanghai)",
    ]
    assert len(rows) == 250
    by_target = {row[2]: row for row in rows}
    call = Dispatch.objects.get(run=run, seq=3)
    assert by_target["user249"][1:5] == ["3", "user249", f"pd{run.pk}-3-49", "Sent"]
    assert by_target["user249"][7] == call.request_id
    assert call.sent_at is not None
    shanghai = timezone.localtime(call.sent_at, timezone.get_fixed_timezone(8 * 60))
    assert by_target["user249"][8] == shanghai.strftime("%Y-%m-%d %H:%M:%S")


def test_exports_are_linked_from_the_results(viewer: Client) -> None:
    campaign = finished()
    html = page_of(viewer, campaign)
    assert reverse("campaign_funnel_csv", args=[campaign.pk]) in html
    assert reverse("campaign_targets_csv", args=[campaign.pk]) in html
