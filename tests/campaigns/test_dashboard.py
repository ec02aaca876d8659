from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns import scheduling
from campaigns.models import Campaign, CampaignRun, Dispatch
from tests.factories import AudienceImportFactory, CampaignFactory, MobileAppFactory

Run, D = CampaignRun.Status, Dispatch.Status


def nav_keys(client: Client) -> list[str]:
    html = client.get(reverse("dashboard")).content.decode()
    return re.findall(r'data-nav="([a-z]+)"', html)


CONSOLE_NAV = ["dashboard", "campaigns", "calendar", "templates", "audiences", "history"]


def test_admin_sees_every_section_including_apps(admin: Client) -> None:
    assert nav_keys(admin) == [*CONSOLE_NAV[:5], "apps", "history", "sandbox"]


@pytest.mark.parametrize(
    ("persona", "navigation"),
    [("marketer", [*CONSOLE_NAV, "sandbox"]), ("viewer", CONSOLE_NAV)],
)
def test_non_admins_never_see_apps_and_credentials(
    persona: str, navigation: list[str], client_as: Callable[[str], Client]
) -> None:
    assert nav_keys(client_as(persona)) == navigation


def test_the_empty_dashboard_lists_next_steps_for_the_role(
    marketer: Client, viewer: Client
) -> None:
    marketer_page = marketer.get(reverse("dashboard")).content.decode()
    assert "No campaigns yet" in marketer_page
    assert "Compose and schedule a campaign" in marketer_page
    assert "Register an app" not in marketer_page
    viewer_page = viewer.get(reverse("dashboard")).content.decode()
    assert "Compose and schedule a campaign" not in viewer_page
    assert "Follow the results" in viewer_page


def test_admins_see_system_status_and_it_refreshes_as_a_partial(admin: Client) -> None:
    page = admin.get(reverse("dashboard")).content.decode()
    assert 'id="system-status"' in page
    partial = admin.get(
        reverse("dashboard"), headers={"HX-Request": "true", "HX-Target": "system-status"}
    ).content.decode()
    assert partial.lstrip().startswith('<section class="card" id="system-status"')
    assert "<html" not in partial


def test_marketers_do_not_see_system_status(marketer: Client) -> None:
    page = marketer.get(reverse("dashboard")).content.decode()
    assert 'id="system-status"' not in page


def test_an_outsider_is_told_to_ask_for_a_role(outsider: Client) -> None:
    response = outsider.get(reverse("dashboard"))
    assert response.status_code == 403
    assert b"Ask a Pushdeck admin" in response.content


def test_times_are_in_the_zone_the_browser_reports(viewer: Client) -> None:
    viewer.cookies["pushdeck_tz"] = "Asia/Shanghai"
    assert b"Times in Asia/Shanghai" in viewer.get(reverse("dashboard")).content
    viewer.cookies["pushdeck_tz"] = "Not/AZone"
    assert b"Times in UTC" in viewer.get(reverse("dashboard")).content


def test_pages_carry_a_content_security_policy_without_unsafe_inline(viewer: Client) -> None:
    policy = viewer.get(reverse("dashboard"))["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


def test_the_dashboard_needs_few_queries(admin: Client) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert admin.get(reverse("dashboard")).status_code == 200
    # session, user, user and group permissions, roles, database probe, heartbeat, the
    # session save that extends the idle timeout (BEGIN, UPDATE, COMMIT), and the
    # dashboard's four: runs, provider-held schedules, latest results, failed calls
    assert len(queries) <= 14


def test_senders_are_pointed_at_the_sandbox_inbox_and_viewers_are_not(
    marketer: Client, viewer: Client
) -> None:
    inbox = reverse("sandbox_inbox")
    assert f'href="{inbox}"' in marketer.get(reverse("dashboard")).content.decode()
    assert f'href="{inbox}"' not in viewer.get(reverse("dashboard")).content.decode()


@pytest.mark.django_db
def test_the_nav_marks_the_page_family_of_a_detail_page(admin: Client) -> None:
    app = MobileAppFactory.create()
    page = admin.get(reverse("app_detail", args=[app.pk])).content.decode()
    assert 'aria-current="page" data-nav="apps"' in page
    assert page.count('aria-current="page"') == 1


@pytest.mark.django_db
def test_the_nav_marks_audiences_on_an_import_page(marketer: Client) -> None:
    page = marketer.get(
        reverse("audience_import_detail", args=[AudienceImportFactory.create().pk])
    ).content.decode()
    assert 'aria-current="page" data-nav="audiences"' in page


# -- sending now, the next 7 days, latest results, alerts ------------------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shown(moment: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time as the dashboard shows it to a reader in Shanghai (zone CST)."""
    return f"{moment.astimezone(SHANGHAI).strftime(fmt)} CST"


def in_shanghai(client: Client) -> Client:
    client.cookies["pushdeck_tz"] = "Asia/Shanghai"
    return client


def dashboard_page(client: Client) -> str:
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return response.content.decode()


def sending_partial(client: Client) -> str:
    headers = {"HX-Request": "true", "HX-Target": "dashboard-sending"}
    return client.get(reverse("dashboard"), headers=headers).content.decode()


def section(html: str, section_id: str) -> str:
    """The HTML of the dashboard section with this id ("" when the page has none)."""
    found = re.search(rf'<section[^>]*id="{section_id}".*?</section>', html, re.DOTALL)
    return found[0] if found else ""


def a_run(
    status: str = Run.SENDING, *, campaign: Campaign | None = None, **fields: Any
) -> CampaignRun:
    now = timezone.now()
    defaults: dict[str, Any] = {"due_at": now - timedelta(seconds=30)}
    if status in (Run.SENDING, Run.PAUSED, Run.COMPLETED):
        defaults["started_at"] = now - timedelta(seconds=20)
    return CampaignRun.objects.create(
        campaign=campaign or CampaignFactory.create(status=Campaign.Status.RUNNING),
        status=status,
        **{**defaults, **fields},
    )


def a_call(run: CampaignRun, status: str, **fields: Any) -> Dispatch:
    seq = fields.pop("seq", Dispatch.objects.filter(run=run).count() + 1)
    return Dispatch.objects.create(
        run=run,
        seq=seq,
        targets=[["user-1", {}, {}]],
        target_count=fields.pop("target_count", 1),
        status=status,
        next_attempt_at=fields.pop("next_attempt_at", timezone.now()),
        **fields,
    )


def sent_campaign(name: str, sent_ago: timedelta, **totals: int) -> Campaign:
    return CampaignFactory.create(
        name=name,
        status=Campaign.Status.COMPLETED,
        first_sent_at=timezone.now() - sent_ago,
        results_at=timezone.now() - sent_ago + timedelta(hours=1),
        **totals,
    )


@pytest.mark.django_db
def test_sending_now_shows_each_runs_progress_and_refreshes_itself(viewer: Client) -> None:
    run = a_run(calls=10, calls_sent=3, calls_failed=1, targets_sent=300)
    html = section(dashboard_page(viewer), "dashboard-sending")
    assert f'href="{reverse("campaign_detail", args=[run.campaign_id])}"' in html
    assert run.campaign.name in html
    assert '<progress class="progress" max="10" value="4"' in html
    assert "4 / 10" in html
    assert 'hx-trigger="every 3s"' in html
    assert "Pause" not in html  # read-only here: steering is on the campaign's page
    partial = sending_partial(viewer)
    assert partial.lstrip().startswith('<section class="card stack" id="dashboard-sending"')
    assert "<html" not in partial
    assert "4 / 10" in partial


@pytest.mark.django_db
def test_the_sending_section_stops_refreshing_when_nothing_moves(viewer: Client) -> None:
    run = a_run(calls=10, calls_sent=9)
    assert 'hx-trigger="every 3s"' in sending_partial(viewer)
    CampaignRun.objects.filter(id=run.id).update(
        status=Run.COMPLETED, calls_sent=10, finished_at=timezone.now()
    )
    partial = sending_partial(viewer)
    assert "every 3s" not in partial
    assert "Nothing is sending right now." in partial
    a_run(Run.PAUSED, calls=10, calls_sent=2)  # paused: shown, but nothing to follow
    partial = sending_partial(viewer)
    assert "2 / 10" in partial
    assert "every 3s" not in partial


@pytest.mark.django_db
def test_the_sending_refresh_reads_one_query_besides_the_session(
    viewer: Client, django_assert_max_num_queries: Any
) -> None:
    for _ in range(5):
        a_run(calls=10, calls_sent=3)
    sending_partial(viewer)
    # session, user, user and group permissions, session save (3), the runs
    with django_assert_max_num_queries(8):
        assert sending_partial(viewer).count('data-testid="sending-run"') == 5


@pytest.mark.django_db
def test_the_next_7_days_list_waiting_runs_and_later_times_in_the_readers_zone(
    viewer: Client,
) -> None:
    now = timezone.now()
    soon = a_run(Run.WAITING, due_at=now + timedelta(days=2))
    a_run(Run.WAITING, due_at=now + timedelta(days=9))  # beyond the week
    daily = CampaignFactory.create(
        name="Daily digest",
        status=Campaign.Status.SCHEDULED,
        schedule_mode=Campaign.ScheduleMode.RECURRING,
        frequency=Campaign.Frequency.DAILY,
        time_of_day=time(9, 30),
        starts_on=now.date(),
        ends_on=now.date() + timedelta(days=60),
        time_zone="Asia/Shanghai",
    )
    daily_times = scheduling.occurrences(daily, after=now, limit=4)
    a_run(Run.WAITING, campaign=daily, due_at=daily_times[0])
    held = CampaignFactory.create(
        name="Held by mPaaS",
        status=Campaign.Status.RUNNING,
        schedule_mode=Campaign.ScheduleMode.AT,
        send_at=now + timedelta(days=3),
        schedule_holder=Campaign.ScheduleHolder.PROVIDER,
    )
    html = section(dashboard_page(in_shanghai(viewer)), "dashboard-upcoming")
    rows = re.findall(r'<tr data-testid="upcoming">.*?</tr>', html, re.DOTALL)
    assert shown(soon.due_at, "%a %Y-%m-%d %H:%M") in html
    assert "Times in Asia/Shanghai" in html
    assert f'href="{reverse("campaign_detail", args=[soon.campaign_id])}"' in html
    # A daily campaign shows its waiting run and its next times, at most three of them.
    assert [shown(moment, "%a %Y-%m-%d %H:%M") in html for moment in daily_times] == [
        True,
        True,
        True,
        False,
    ]
    assert sum("Daily digest" in row for row in rows) == 3
    assert "Held by mPaaS" in html
    assert "mPaaS, at its time" in html
    assert shown(held.send_at, "%a %Y-%m-%d %H:%M") in html  # type: ignore[arg-type]
    assert len(rows) == 5


@pytest.mark.django_db
def test_the_next_7_days_say_when_nothing_is_scheduled(viewer: Client) -> None:
    sent_campaign("Done", timedelta(days=1))
    html = section(dashboard_page(viewer), "dashboard-upcoming")
    assert "Nothing is scheduled to go out in the next 7 days." in html


@pytest.mark.django_db
def test_latest_results_show_the_campaigns_that_went_out_last_with_their_open_rate(
    viewer: Client,
) -> None:
    sent_campaign(
        "Spring sale",
        timedelta(hours=2),
        total_targets=12000,
        total_arrived=10000,
        total_opened=2345,
    )
    sent_campaign("Nothing arrived yet", timedelta(hours=1), total_targets=50)
    for day in range(2, 10):
        sent_campaign(f"Older {day}", timedelta(days=day))
    CampaignFactory.create(name="Never sent")
    html = section(dashboard_page(in_shanghai(viewer)), "dashboard-results")
    names = re.findall(r'<tr data-testid="recent-result">\s*<td><a [^>]*>([^<]+)</a>', html)
    assert names == ["Nothing arrived yet", "Spring sale", *[f"Older {d}" for d in range(2, 8)]]
    spring = re.search(
        r'<tr data-testid="recent-result">(?:(?!</tr>).)*Spring sale.*?</tr>', html, re.DOTALL
    )
    assert spring is not None
    for count in ("12,000", "10,000", "2,345"):
        assert count in spring[0]
    assert "23.4%" in spring[0]
    assert '<rect class="rate-fill" width="23.4"' in spring[0]
    sent = Campaign.objects.get(name="Spring sale")
    assert shown(sent.first_sent_at) in spring[0]  # type: ignore[arg-type]
    assert shown(sent.results_at) in spring[0]  # type: ignore[arg-type]


@pytest.mark.django_db
def test_latest_results_say_when_nothing_went_out_yet(viewer: Client) -> None:
    a_run(Run.WAITING, due_at=timezone.now() + timedelta(days=1))
    html = section(dashboard_page(viewer), "dashboard-results")
    assert "No campaign has gone out yet" in html


@pytest.mark.django_db
def test_next_steps_fold_away_once_there_are_campaigns(marketer: Client) -> None:
    sent_campaign("Done", timedelta(days=1))
    html = dashboard_page(marketer)
    assert "No campaigns yet" not in html
    assert '<details class="card getting-started">' in html
    assert "Compose and schedule a campaign" in html


@pytest.mark.django_db
def test_no_alerts_is_said_plainly(viewer: Client) -> None:
    sent_campaign("Done", timedelta(days=1))
    html = section(dashboard_page(viewer), "dashboard-alerts")
    assert "All clear" in html


@pytest.mark.django_db
def test_failed_calls_of_the_week_are_grouped_by_campaign_and_code(viewer: Client) -> None:
    run = a_run(Run.COMPLETED, calls=4)
    for _ in range(3):
        a_call(
            run, D.FAILED, result_code="InvalidParameter", message="Bad TaskName", target_count=10
        )
    a_call(run, D.SENT, result_code="OK")
    old = a_run(Run.COMPLETED, campaign=CampaignFactory.create(name="Last month"))
    a_call(
        old,
        D.FAILED,
        result_code="InternalError",
        next_attempt_at=timezone.now() - timedelta(days=8),
    )
    html = section(dashboard_page(viewer), "dashboard-alerts")
    failures = re.search(r'data-testid="alert-failures".*?<tbody>(.*?)</tbody>', html, re.DOTALL)
    assert failures is not None
    rows = re.findall(r"<tr>.*?</tr>", failures[1], re.DOTALL)
    assert len(rows) == 1
    assert run.campaign.name in rows[0]
    assert f'href="{reverse("campaign_detail", args=[run.campaign_id])}"' in rows[0]
    assert "<code>InvalidParameter</code>" in rows[0]
    assert "Bad TaskName" in rows[0]
    assert "correct the campaign and send again" in rows[0]  # the provider code's advice
    assert re.search(r'numeric">3</td>\s*<td class="numeric">30</td>', rows[0])
    assert "Last month" not in html


@pytest.mark.django_db
def test_an_app_whose_keys_were_refused_today_is_an_alert(admin: Client, viewer: Client) -> None:
    run = a_run(Run.FAILED, campaign=CampaignFactory.create(app__name="Shop app"))
    a_call(
        run,
        D.FAILED,
        result_code="SignatureDoesNotMatch",
        message="Specified signature is not matched",
    )
    yesterday = a_run(Run.FAILED, campaign=CampaignFactory.create(app__name="Quiet app"))
    a_call(
        yesterday,
        D.FAILED,
        result_code="InvalidAccessKeyId.NotFound",
        next_attempt_at=timezone.now() - timedelta(hours=30),
    )
    html = section(dashboard_page(admin), "dashboard-alerts")
    alerts = re.findall(r'data-testid="alert-credentials">.*?</div>', html, re.DOTALL)
    assert len(alerts) == 1
    assert "Shop app: the provider refused its keys" in alerts[0]
    assert "SignatureDoesNotMatch" in alerts[0]
    assert f'href="{reverse("app_detail", args=[run.campaign.app_id])}"' in alerts[0]
    assert f'href="{reverse("campaign_detail", args=[run.campaign_id])}"' in alerts[0]
    assert "InvalidAccessKeyId.NotFound" in html  # still a failed call of the week
    viewer_alert = section(dashboard_page(viewer), "dashboard-alerts")
    assert "Shop app: the provider refused its keys" in viewer_alert
    assert reverse("app_detail", args=[run.campaign.app_id]) not in viewer_alert
    assert "Ask a Pushdeck admin" in viewer_alert


@pytest.mark.django_db
def test_the_keys_alert_says_when_the_app_was_changed_since(admin: Client) -> None:
    run = a_run(Run.FAILED)
    a_call(
        run,
        D.FAILED,
        result_code="SignatureDoesNotMatch",
        next_attempt_at=timezone.now() - timedelta(hours=1),
    )
    run.campaign.app.save()  # an admin fixed the secret
    html = section(dashboard_page(admin), "dashboard-alerts")
    assert "settings were saved after that: test its connection" in html


@pytest.mark.django_db
def test_a_run_whose_sender_died_is_stuck(viewer: Client) -> None:
    run = a_run(calls=3, calls_sent=1)
    a_call(run, D.SENT)
    a_call(run, D.SENDING, lease_expires_at=timezone.now() - timedelta(minutes=3))
    a_call(run, D.PENDING)
    html = dashboard_page(viewer)
    alerts = section(html, "dashboard-alerts")
    assert f"{run.campaign.name}: sending looks stuck" in alerts
    assert "A sender stopped in the middle of a call" in alerts
    assert f'href="{reverse("campaign_detail", args=[run.campaign_id])}"' in alerts
    assert 'data-testid="sending-stuck"' in section(html, "dashboard-sending")


@pytest.mark.django_db
def test_a_sending_run_with_a_lease_still_held_is_not_stuck(viewer: Client) -> None:
    run = a_run(calls=3, calls_sent=1)
    a_call(run, D.SENDING, lease_expires_at=timezone.now() + timedelta(seconds=40))
    a_call(run, D.PENDING, next_attempt_at=timezone.now() - timedelta(minutes=20))
    assert "sending looks stuck" not in dashboard_page(viewer)


@pytest.mark.django_db
def test_calls_nobody_claims_for_minutes_make_a_run_stuck(viewer: Client) -> None:
    run = a_run(calls=2)
    a_call(run, D.PENDING, next_attempt_at=timezone.now() - timedelta(minutes=20))
    alerts = section(dashboard_page(viewer), "dashboard-alerts")
    assert "no sender is working on them" in alerts


@pytest.mark.django_db
def test_runs_not_started_long_after_their_time_are_stuck_unless_quiet_hours_hold_them(
    viewer: Client,
) -> None:
    late = a_run(Run.WAITING, due_at=timezone.now() - timedelta(minutes=12))
    planning = a_run(Run.PLANNING, due_at=timezone.now() - timedelta(minutes=30))
    quiet_app = MobileAppFactory.create(
        name="Night app",
        time_zone="UTC",
        quiet_hours_start=(timezone.now() - timedelta(hours=1)).time(),
        quiet_hours_end=(timezone.now() + timedelta(hours=1)).time(),
    )
    held = a_run(
        Run.WAITING,
        campaign=CampaignFactory.create(app=quiet_app, status=Campaign.Status.SCHEDULED),
        due_at=timezone.now() - timedelta(minutes=12),
    )
    html = dashboard_page(viewer)
    alerts = section(html, "dashboard-alerts")
    assert f"{late.campaign.name}: sending looks stuck" in alerts
    assert "Due 12 minutes ago and not started" in alerts
    assert f"{planning.campaign.name}: sending looks stuck" in alerts
    assert "still not planned" in alerts
    assert held.campaign.name not in alerts
    upcoming = section(html, "dashboard-upcoming")
    assert held.campaign.name in upcoming
    assert "Held back by the app&#x27;s quiet hours" in upcoming


@pytest.mark.django_db
def test_results_that_could_not_be_fetched_are_an_alert(viewer: Client) -> None:
    run = a_run(
        Run.COMPLETED,
        finished_at=timezone.now() - timedelta(hours=1),
        stats_error="Throttling.User: Request was denied due to user flow control.",
        stats_due_at=timezone.now() + timedelta(minutes=5),
    )
    a_run(
        Run.COMPLETED,
        campaign=CampaignFactory.create(name="Long ago"),
        due_at=timezone.now() - timedelta(days=10),
        stats_error="Timeout",
    )
    alerts = section(dashboard_page(viewer), "dashboard-alerts")
    assert f"{run.campaign.name}: delivery results could not be fetched" in alerts
    assert "Request was denied due to user flow control." in alerts
    assert "Pushdeck asks again by itself." in alerts
    assert "Long ago" not in alerts


def full_dashboard(copies: int) -> None:
    """Something in every section and every alert, ``copies`` times over."""
    now = timezone.now()
    for n in range(copies):
        sending = a_run(calls=5, calls_sent=2)
        a_call(sending, D.SENDING, lease_expires_at=now - timedelta(minutes=5))
        a_call(sending, D.FAILED, result_code="SignatureDoesNotMatch")
        a_run(Run.WAITING, due_at=now + timedelta(days=1, hours=n))
        a_run(Run.WAITING, due_at=now - timedelta(minutes=20))
        a_run(Run.COMPLETED, stats_error="Timeout")
        sent_campaign(f"Sent {n}", timedelta(hours=n + 1), total_arrived=10, total_opened=3)
        CampaignFactory.create(
            status=Campaign.Status.SCHEDULED,
            schedule_mode=Campaign.ScheduleMode.RECURRING,
            frequency=Campaign.Frequency.DAILY,
            time_of_day=time(8, 0),
            starts_on=now.date(),
            ends_on=now.date() + timedelta(days=30),
            schedule_holder=Campaign.ScheduleHolder.PROVIDER,
        )


@pytest.mark.django_db
@pytest.mark.parametrize("copies", [1, 6])
def test_the_full_dashboard_reads_a_fixed_number_of_queries(
    copies: int, client_as: Callable[[str], Client], django_assert_max_num_queries: Any
) -> None:
    full_dashboard(copies)
    viewer, admin = client_as("viewer"), client_as("admin")
    # session, user, user and group permissions, roles, session save (3) and the four of
    # campaigns.dashboard_data: runs, provider-held schedules, latest results, failed calls
    with django_assert_max_num_queries(12):
        html = dashboard_page(viewer)
    for testid in (
        "sending-run",
        "upcoming",
        "recent-result",
        "alert-credentials",
        "alert-stuck",
        "alert-stats",
    ):
        assert f'data-testid="{testid}"' in html, testid
    # and for admins the system status: the database probe and the scheduler's heartbeat
    with django_assert_max_num_queries(14):
        dashboard_page(admin)
