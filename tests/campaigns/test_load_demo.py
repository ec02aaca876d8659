from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from campaigns import demo_results
from campaigns.campaign_requests import check_campaign
from campaigns.models import AuditEvent, Campaign
from campaigns.roles import Role, roles_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_finished_campaigns(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sending the finished demo campaigns and collecting their results takes seconds; only
    the tests about them do it."""
    if "finished" not in request.node.name:
        monkeypatch.setattr(demo_results, "finished_demos", list)


def load_demo() -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


@override_settings(DEBUG=True)
def test_it_creates_one_user_per_role_and_prints_the_logins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    output = load_demo()
    users = get_user_model().objects.order_by("username")
    assert [(u.username, roles_of(u)) for u in users] == [
        ("admin", [Role.ADMIN]),
        ("marketer", [Role.MARKETER]),
        ("viewer", [Role.VIEWER]),
    ]
    assert all(user.check_password("pushdeck-demo") for user in users)
    for username in ("admin", "marketer", "viewer"):
        assert username in output
    assert "pushdeck-demo" in output


@override_settings(DEBUG=True)
def test_it_can_run_twice_and_makes_campaigns_of_every_kind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    load_demo()
    load_demo()
    assert get_user_model().objects.count() == 3
    assert_demo_campaigns_of_every_kind_that_the_builders_accept()


@override_settings(DEBUG=False)
def test_it_refuses_the_default_password_with_debug_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="DEMO_PASSWORD"):
        load_demo()
    assert not get_user_model().objects.exists()


@override_settings(DEBUG=False)
def test_it_uses_demo_password_with_debug_off_and_does_not_print_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", "staging-demo-Secret-9")
    output = load_demo()
    assert get_user_model().objects.get(username="viewer").check_password("staging-demo-Secret-9")
    assert "staging-demo-Secret-9" not in output


@override_settings(DEBUG=True)
def test_it_sends_demo_pushes_through_the_sandbox_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from campaigns.models import SandboxMessage, SandboxPush

    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    assert "Sent 3 demo pushes to the sandbox" in load_demo()
    pushes, messages = SandboxPush.objects.count(), SandboxMessage.objects.count()
    assert (pushes, messages) == (3, 10 + 50 + 20)
    assert SandboxMessage.objects.filter(title="A sale for Customer 7", target="user7").exists()
    assert "demo pushes" not in load_demo()
    assert (SandboxPush.objects.count(), SandboxMessage.objects.count()) == (pushes, messages)


@override_settings(DEBUG=True)
def test_it_creates_two_sandbox_apps_with_templates_and_audiences(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from campaigns.connections import mpaas_app, mpaas_client
    from campaigns.models import Audience, MessageTemplate, MobileApp

    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    load_demo()
    load_demo()  # nothing twice
    apps = MobileApp.objects.order_by("provider")
    assert [(app.provider, app.uses_sandbox) for app in apps] == [("emas", True), ("mpaas", True)]
    assert MessageTemplate.objects.count() == 5
    sizes = sorted(a.member_count for a in Audience.objects.all() if a.is_listed)
    assert sizes == [10, 1_000, 2_000, 50_000]
    for audience in Audience.objects.all():
        assert audience.member_count == audience.members.count()
    # The demo app's keys work against the built-in sandbox.
    mpaas = apps.get(provider="mpaas")
    assert mpaas_client(mpaas).list_templates(mpaas_app(mpaas))


def assert_demo_campaigns_of_every_kind_that_the_builders_accept() -> None:
    campaigns = list(Campaign.objects.select_related("app", "audience", "template"))
    assert {campaign.kind for campaign in campaigns} == set(Campaign.Kind.values)
    assert len({campaign.status for campaign in campaigns}) >= 3
    assert len(campaigns) == len({campaign.name for campaign in campaigns})
    for campaign in campaigns:
        assert check_campaign(campaign, now=timezone.now()) == [], campaign.name
        assert AuditEvent.objects.filter(object_id=str(campaign.pk), action="create").exists()


@override_settings(DEBUG=True)
def test_it_sends_finished_campaigns_whose_results_came_from_the_sandbox(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from campaigns.models import CampaignRun, DeliveryStat

    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    output = load_demo()
    assert "Sent 3 demo pushes" in output  # the inbox's pushes are sent as before
    assert "Sent 4 demo campaigns to the sandbox and collected their results." in output
    went_out = Campaign.objects.exclude(first_sent_at=None)
    assert went_out.count() == 4
    now = timezone.now()
    for campaign in went_out:
        assert campaign.first_sent_at is not None
        assert campaign.first_sent_at < now - timedelta(hours=12)
        assert 0 < campaign.total_opened < campaign.total_arrived <= campaign.total_accepted
        assert campaign.total_accepted <= campaign.total_targets
        for run in campaign.runs.exclude(status=CampaignRun.Status.WAITING):
            snapshots = list(DeliveryStat.objects.filter(run=run).order_by("taken_at"))
            assert len(snapshots) >= 5  # 1 min to 6 h after sending have all passed
            arrived = [each.arrived for each in snapshots]
            assert arrived == sorted(arrived)  # the funnel fills in, never shrinks
    recurring = went_out.get(schedule_mode=Campaign.ScheduleMode.RECURRING)
    assert recurring.runs.filter(status=CampaignRun.Status.COMPLETED).count() == 3
    assert went_out.filter(status=Campaign.Status.CANCELLED).count() == 1
    assert "demo campaigns" not in load_demo()  # nothing twice
