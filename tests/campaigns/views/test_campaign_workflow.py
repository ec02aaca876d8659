"""The campaign page's workflow: submit, approve or reject with a comment, schedule,
unschedule, duplicate; who may do each; and the trail each step leaves."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.middleware import TIME_ZONE_COOKIE
from campaigns.models import AuditEvent, Campaign, MobileApp, User
from campaigns.roles import Role
from campaigns.views.campaign_workflow import campaign_trail
from tests.factories import CampaignFactory, MobileAppFactory, make_user

pytestmark = pytest.mark.django_db

MOVES = (
    "campaign_submit",
    "campaign_approve",
    "campaign_reject",
    "campaign_schedule",
    "campaign_unschedule",
    "campaign_duplicate",
)


def user(name: str) -> User:
    return User.objects.get(username=name)


def campaign_of(owner: str, policy: str = MobileApp.ApprovalPolicy.ALL, **fields: Any) -> Campaign:
    app = MobileAppFactory.create(approval_policy=policy)
    author = user(owner)
    return CampaignFactory.create(app=app, created_by=author, changed_by=author, **fields)


def post(client: Client, name: str, campaign: Campaign, **data: str) -> Any:
    """The move, and the page it lands on (which shows, and so uses up, its messages)."""
    return client.post(reverse(name, args=[campaign.pk]), data, follow=True)


def landed(response: Any) -> str:
    return str(response.redirect_chain[-1][0])


def said(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def events(campaign: Campaign) -> list[tuple[str, str]]:
    found = AuditEvent.objects.filter(object_type="campaigns.campaign", object_id=str(campaign.pk))
    return list(found.order_by("id").values_list("action", "actor_name"))


def detail(campaign: Campaign) -> str:
    return reverse("campaign_detail", args=[campaign.pk])


def status(campaign: Campaign) -> str:
    campaign.refresh_from_db()
    return campaign.status


@pytest.fixture
def second_admin(client_as: Callable[[str], Client]) -> Client:
    client = Client()
    client.force_login(make_user("second_admin", Role.ADMIN))
    return client


# -- the must-show: roles and four-eyes -----------------------------------------------


def test_a_marketer_cannot_approve(marketer: Client, admin: Client) -> None:
    campaign = campaign_of("admin", status=Campaign.Status.PENDING_APPROVAL)
    response = post(marketer, "campaign_approve", campaign)
    assert response.status_code == 403
    assert status(campaign) == Campaign.Status.PENDING_APPROVAL
    page = marketer.get(detail(campaign)).content.decode()
    assert reverse("campaign_approve", args=[campaign.pk]) not in page
    assert "An approver reviews it next." in page


def test_an_approver_cannot_approve_their_own_campaign_and_the_page_says_why(
    admin: Client,
) -> None:
    campaign = campaign_of("admin")
    post(admin, "campaign_submit", campaign)
    response = post(admin, "campaign_approve", campaign)
    assert landed(response) == detail(campaign)
    assert said(response) == [
        f"You created this campaign, and {campaign.app.name} needs a second person to "
        "approve it (four-eyes rule)."
    ]
    assert status(campaign) == Campaign.Status.PENDING_APPROVAL
    page = admin.get(detail(campaign)).content.decode()
    assert reverse("campaign_approve", args=[campaign.pk]) not in page
    assert "You cannot review this campaign." in page
    assert "four-eyes rule" in page


def test_a_viewer_cannot_change_anything(viewer: Client, marketer: Client) -> None:
    campaign = campaign_of("marketer", status=Campaign.Status.PENDING_APPROVAL)
    for name in MOVES:
        assert post(viewer, name, campaign, **{"reject-comment": "no"}).status_code == 403, name
    assert status(campaign) == Campaign.Status.PENDING_APPROVAL
    assert Campaign.objects.count() == 1
    assert events(campaign) == []
    page = viewer.get(detail(campaign)).content.decode()
    assert 'method="post" action="/campaigns/' not in page


# -- the flow ---------------------------------------------------------------------------------


def test_a_marketer_submits_and_a_second_person_approves_with_a_comment(
    marketer: Client, admin: Client
) -> None:
    campaign = campaign_of("marketer")
    page = marketer.get(detail(campaign)).content.decode()
    assert "Every campaign needs an approver" not in page  # it names the app instead
    assert f"{campaign.app.name} needs an approver for every campaign." in page
    response = post(marketer, "campaign_submit", campaign)
    assert said(response) == ["Submitted: an approver will review it."]
    assert status(campaign) == Campaign.Status.PENDING_APPROVAL

    response = post(admin, "campaign_approve", campaign, **{"approve-comment": "Go ahead"})
    assert said(response) == ["Approved: the campaign is scheduled."]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SCHEDULED
    assert campaign.approved_by == user("admin")
    assert campaign.snapshot is not None
    assert events(campaign) == [("submit", "marketer"), ("approve", "admin")]
    approved = AuditEvent.objects.get(action="approve")
    assert approved.changes["status"] == ["pending_approval", "scheduled"]
    assert approved.changes["review_comment"] == ["", "Go ahead"]


def test_rejecting_needs_a_comment_and_sends_the_campaign_back_to_draft_with_it(
    marketer: Client, admin: Client
) -> None:
    campaign = campaign_of("marketer")
    post(marketer, "campaign_submit", campaign)
    response = post(admin, "campaign_reject", campaign, **{"reject-comment": "  "})
    assert said(response) == ["Say what needs to change: a rejection needs a comment."]
    assert status(campaign) == Campaign.Status.PENDING_APPROVAL

    response = post(admin, "campaign_reject", campaign, **{"reject-comment": "Name the shops"})
    assert said(response) == ["Rejected: the campaign is back to draft with your comment."]
    assert status(campaign) == Campaign.Status.DRAFT
    assert events(campaign) == [("submit", "marketer"), ("reject", "admin")]
    page = marketer.get(detail(campaign)).content.decode()
    assert "Sent back by the approver:" in page
    assert "Name the shops" in page


def test_a_campaign_that_needs_no_approver_is_scheduled_and_unscheduled_by_a_marketer(
    marketer: Client,
) -> None:
    campaign = campaign_of("marketer", policy=MobileApp.ApprovalPolicy.NONE)
    page = marketer.get(detail(campaign)).content.decode()
    assert reverse("campaign_schedule", args=[campaign.pk]) in page
    assert reverse("campaign_submit", args=[campaign.pk]) not in page
    response = post(marketer, "campaign_schedule", campaign)
    assert said(response) == ["Scheduled."]
    assert status(campaign) == Campaign.Status.SCHEDULED

    page = marketer.get(detail(campaign)).content.decode()
    assert '<details class="confirm-step">' in page
    assert reverse("campaign_unschedule", args=[campaign.pk]) in page
    response = post(marketer, "campaign_unschedule", campaign)
    assert said(response) == ["Unscheduled: the campaign is a draft again and will not be sent."]
    campaign.refresh_from_db()
    assert (campaign.status, campaign.snapshot) == (Campaign.Status.DRAFT, None)
    assert events(campaign) == [("schedule", "marketer"), ("unschedule", "marketer")]


def test_scheduling_without_approval_is_refused_when_the_apps_policy_asks_for_one(
    marketer: Client,
) -> None:
    campaign = campaign_of("marketer", policy=MobileApp.ApprovalPolicy.ALL)
    response = post(marketer, "campaign_schedule", campaign)
    assert said(response) == [
        f"{campaign.app.name} needs an approver for every campaign. Submit it for approval; "
        "it is scheduled once approved."
    ]
    assert status(campaign) == Campaign.Status.DRAFT
    assert events(campaign) == []


def test_a_move_from_the_wrong_status_is_refused_with_a_message_and_changes_nothing(
    marketer: Client, admin: Client
) -> None:
    campaign = campaign_of("marketer", status=Campaign.Status.COMPLETED)
    response = post(marketer, "campaign_unschedule", campaign)
    assert landed(response) == detail(campaign)
    assert said(response) == [
        "Only a scheduled campaign that has not started sending can go back to draft "
        "(this one: Completed)."
    ]
    response = post(admin, "campaign_approve", campaign)
    assert said(response) == [
        "Only a campaign waiting for approval can be approved or rejected (this one: Completed)."
    ]
    assert status(campaign) == Campaign.Status.COMPLETED
    assert events(campaign) == []


def test_duplicating_opens_a_new_draft_owned_by_whoever_duplicated_it(
    marketer: Client, admin: Client
) -> None:
    source = campaign_of("admin", status=Campaign.Status.COMPLETED)
    response = post(marketer, "campaign_duplicate", source)
    copy = Campaign.objects.exclude(pk=source.pk).get()
    assert landed(response) == detail(copy)
    assert said(response) == [f"Duplicated as the draft “Copy of {source.name}”."]
    assert (copy.status, copy.created_by, copy.duplicated_from) == (
        Campaign.Status.DRAFT,
        user("marketer"),
        source,
    )
    assert (copy.title, copy.body, copy.audience, copy.app) == (
        source.title,
        source.body,
        source.audience,
        source.app,
    )
    assert events(copy) == [("duplicate", "marketer")]
    page = marketer.get(detail(copy)).content.decode()
    assert f"created it as a copy of “{source.name}”" in page


@pytest.mark.parametrize("name", MOVES)
def test_the_moves_answer_only_posts(admin: Client, marketer: Client, name: str) -> None:
    campaign = campaign_of("marketer")
    assert admin.get(reverse(name, args=[campaign.pk])).status_code == 405


def test_a_move_on_a_campaign_that_does_not_exist_is_not_found(admin: Client) -> None:
    assert admin.post(reverse("campaign_submit", args=[987654])).status_code == 404


# -- the trail --------------------------------------------------------------------------------


def test_the_trail_shows_each_step_newest_first_with_actor_comment_and_zone(
    marketer: Client, second_admin: Client
) -> None:
    campaign = campaign_of("marketer")
    post(marketer, "campaign_submit", campaign)
    post(second_admin, "campaign_reject", campaign, **{"reject-comment": "Shorter title"})
    post(marketer, "campaign_submit", campaign)
    post(second_admin, "campaign_approve", campaign, **{"approve-comment": ""})
    AuditEvent.objects.filter(action="submit").update(
        created_at=datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
    )
    marketer.cookies[TIME_ZONE_COOKIE] = "Europe/Berlin"
    page = marketer.get(detail(campaign)).content.decode()
    trail = page[page.index('id="campaign-trail"') :]
    assert "Times in Europe/Berlin" in trail
    assert "2025-03-01 09:30" in trail  # 08:30 UTC in Berlin
    lines = [
        "second_admin</strong> approved it; it is scheduled",
        "second_admin</strong> rejected it; it is back to draft",
        "marketer</strong> submitted it for approval",
    ]
    positions = [trail.index(line) for line in lines]
    assert positions == sorted(positions)
    assert "Shorter title</blockquote>" in trail


def test_the_trail_costs_one_query(
    marketer: Client, django_assert_num_queries: Callable[[int], Any]
) -> None:
    campaign = campaign_of("marketer", policy=MobileApp.ApprovalPolicy.NONE)
    post(marketer, "campaign_schedule", campaign)
    post(marketer, "campaign_unschedule", campaign)
    with django_assert_num_queries(1):
        entries, is_cut = campaign_trail(campaign)
    assert [entry.event.action for entry in entries] == ["unschedule", "schedule"]
    assert not is_cut
