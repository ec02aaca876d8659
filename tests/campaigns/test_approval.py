"""The approval workflow's rules: what needs an approver, who may approve, and each move
between draft, waiting for approval and scheduled."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from campaigns import approval
from campaigns.approval import TransitionRefused
from campaigns.campaign_requests import content_of
from campaigns.models import Audience, Campaign, MessageTemplate, MobileApp, User
from campaigns.roles import Role
from tests.factories import (
    AudienceFactory,
    CampaignFactory,
    EmasAppFactory,
    MessageTemplateFactory,
    MobileAppFactory,
    make_user,
)

pytestmark = pytest.mark.django_db

Policy = MobileApp.ApprovalPolicy


@pytest.fixture
def author() -> User:
    return make_user("author", Role.MARKETER)


@pytest.fixture
def approver() -> User:
    return make_user("approver", Role.ADMIN)


def a_campaign(policy: str = Policy.NONE, author: User | None = None, **fields: Any) -> Campaign:
    app = MobileAppFactory.create(approval_policy=policy)
    return CampaignFactory.create(app=app, created_by=author, changed_by=author, **fields)


# As if synced to mPaaS's template store at version 1 (mPaaS sends templates from there).
IN_STORE = {"sync_state": MessageTemplate.SyncState.SYNCED, "synced_version": 1}


def a_template_campaign(author: User, policy: str = Policy.ALL) -> Campaign:
    app = MobileAppFactory.create(approval_policy=policy)
    template = MessageTemplateFactory.create(
        app=app, title="Hello #name#", body="You won #money#", **IN_STORE
    )
    return CampaignFactory.create(
        app=app,
        kind=Campaign.Kind.TEMPLATE,
        template=template,
        title="",
        body="",
        template_values={"name": "Li", "money": "100"},
        created_by=author,
        changed_by=author,
    )


def a_broadcast(policy: str = Policy.NONE, author: User | None = None) -> Campaign:
    app = MobileAppFactory.create(approval_policy=policy)
    audience = AudienceFactory.create(
        app=app,
        kind=Audience.Kind.BROADCAST,
        platform=Audience.Platform.ANDROID,
        bind_status=Audience.BindStatus.BOUND,
        bind_period=Audience.Period.WEEK,
    )
    template = MessageTemplateFactory.create(app=app, **IN_STORE)
    return CampaignFactory.create(
        app=app,
        kind=Campaign.Kind.BROADCAST,
        audience=audience,
        template=template,
        template_values={"name": "Li", "money": "100"},
        created_by=author,
        changed_by=author,
    )


def pending(author: User, policy: str = Policy.ALL) -> Campaign:
    campaign = a_campaign(policy, author)
    approval.submit(campaign, author)
    return campaign


def stored(campaign: Campaign) -> Campaign:
    return Campaign.objects.get(pk=campaign.pk)


# -- what needs an approver -------------------------------------------------------------------


def test_a_simple_push_to_a_small_list_needs_no_approver_when_the_policy_says_none() -> None:
    assert not approval.needs_approval(a_campaign(Policy.NONE))


def test_every_campaign_needs_an_approver_when_the_policy_says_all() -> None:
    campaign = a_campaign(Policy.ALL)
    assert approval.needs_approval(campaign)
    assert approval.approval_reason(campaign) == (
        f"{campaign.app.name} needs an approver for every campaign."
    )


@pytest.mark.parametrize(
    ("kind", "needed"),
    [(Audience.Kind.TAGS, True), (Audience.Kind.USERS, False), (Audience.Kind.DEVICES, False)],
)
def test_the_broad_policy_asks_an_approver_for_tag_pushes_only_among_listed_and_tag_audiences(
    kind: str, needed: bool
) -> None:
    campaign = a_campaign(Policy.BROAD)
    assert campaign.audience is not None
    campaign.audience.kind = kind
    assert approval.needs_approval(campaign) is needed


def test_a_broadcast_always_needs_an_approver_even_when_the_policy_says_none() -> None:
    campaign = a_broadcast(Policy.NONE)
    assert approval.approval_reason(campaign) == "Broadcasts always need an approver."


def test_an_emas_push_to_every_device_always_needs_an_approver_even_when_the_policy_says_none() -> (
    None
):
    app = EmasAppFactory.create(approval_policy=Policy.NONE)
    audience = AudienceFactory.create(app=app, kind=Audience.Kind.ALL)
    campaign = CampaignFactory.create(app=app, kind=Campaign.Kind.EMAS, audience=audience)
    assert approval.needs_approval(campaign)


def test_an_audience_above_the_apps_threshold_always_needs_an_approver() -> None:
    campaign = a_campaign(Policy.NONE)
    campaign.app.approval_threshold = 1000
    assert campaign.audience is not None
    campaign.audience.member_count = 1000
    assert not approval.needs_approval(campaign)
    campaign.audience.member_count = 1001
    assert approval.approval_reason(campaign) == (
        f"The audience has 1,001 targets; above 1,000, {campaign.app.name} always needs an "
        "approver."
    )


# -- who may approve --------------------------------------------------------------------------


def test_a_marketer_cannot_approve(author: User) -> None:
    campaign = pending(author)
    other_marketer = make_user("other", Role.MARKETER)
    assert approval.can_approve(other_marketer, campaign) == (
        False,
        "Only approvers can approve or reject campaigns.",
    )
    with pytest.raises(TransitionRefused):
        approval.approve(campaign, other_marketer)
    assert stored(campaign).status == Campaign.Status.PENDING_APPROVAL


def test_an_approver_cannot_approve_a_campaign_they_created(approver: User) -> None:
    campaign = pending(approver)
    allowed, reason = approval.can_approve(approver, campaign)
    assert not allowed
    assert reason == (
        f"You created this campaign, and {campaign.app.name} needs a second person to "
        "approve it (four-eyes rule)."
    )
    with pytest.raises(TransitionRefused, match="four-eyes"):
        approval.approve(campaign, approver)
    assert stored(campaign).status == Campaign.Status.PENDING_APPROVAL


@pytest.mark.parametrize(
    ("role", "words"),
    [("changed_by", "You last changed"), ("submitted_by", "You submitted")],
)
def test_an_approver_cannot_approve_a_campaign_they_changed_or_submitted(
    author: User, approver: User, role: str, words: str
) -> None:
    campaign = pending(author)
    setattr(campaign, role, approver)
    allowed, reason = approval.can_approve(approver, campaign)
    assert not allowed
    assert reason.startswith(words)


def test_without_four_eyes_the_creator_approves_their_own_campaign(approver: User) -> None:
    campaign = pending(approver)
    MobileApp.objects.filter(pk=campaign.app_id).update(four_eyes=False)
    campaign.app.refresh_from_db()
    approval.approve(campaign, approver)
    assert stored(campaign).status == Campaign.Status.SCHEDULED
    assert stored(campaign).approved_by == approver


def test_a_second_approver_may_approve(author: User, approver: User) -> None:
    assert approval.can_approve(approver, pending(author)) == (True, "")


# -- the moves --------------------------------------------------------------------------------


def test_submitting_a_draft_that_needs_an_approver_waits_for_approval(author: User) -> None:
    campaign = a_campaign(Policy.ALL, author)
    changes = approval.submit(campaign, author)
    saved = stored(campaign)
    assert changes == {"status": ["draft", "pending_approval"]}
    assert saved.status == Campaign.Status.PENDING_APPROVAL
    assert saved.submitted_by == author
    assert saved.submitted_at is not None


def test_a_draft_that_needs_no_approver_is_told_to_schedule_instead(author: User) -> None:
    campaign = a_campaign(Policy.NONE, author)
    with pytest.raises(TransitionRefused, match="needs no approver: schedule it instead"):
        approval.submit(campaign, author)
    assert stored(campaign).status == Campaign.Status.DRAFT


def test_a_draft_without_audience_or_text_cannot_be_submitted_and_says_what_is_missing(
    author: User,
) -> None:
    campaign = a_campaign(Policy.ALL, author, audience=None, title="")
    with pytest.raises(TransitionRefused) as refused:
        approval.submit(campaign, author)
    assert refused.value.message == (
        "It cannot be submitted yet: Choose an audience. Write a title and a text."
    )
    assert stored(campaign).status == Campaign.Status.DRAFT


def test_the_provider_builders_rules_guard_the_workflow(author: User) -> None:
    campaign = a_broadcast(Policy.NONE, author)
    assert campaign.audience is not None
    Audience.objects.filter(pk=campaign.audience.pk).update(bind_period=None)
    campaign.audience.refresh_from_db()
    with pytest.raises(TransitionRefused, match="bound or unbound their devices"):
        approval.submit(campaign, author)


def test_approval_freezes_a_snapshot_that_a_later_template_change_does_not_touch(
    author: User, approver: User
) -> None:
    campaign = a_template_campaign(author)
    approval.submit(campaign, author)
    changes = approval.approve(campaign, approver, "  Looks good  ")
    assert campaign.template is not None
    campaign.template.title = "Changed after approval"
    campaign.template.version = 2
    campaign.template.save()
    saved = stored(campaign)
    assert changes == {
        "status": ["pending_approval", "scheduled"],
        "review_comment": ["", "Looks good"],
    }
    assert saved.status == Campaign.Status.SCHEDULED
    assert (saved.approved_by, saved.review_comment) == (approver, "Looks good")
    assert saved.snapshot is not None
    assert saved.snapshot["template"]["title"] == "Hello #name#"
    assert saved.snapshot["template"]["version"] == 1
    assert content_of(saved).title == "Hello #name#"


def test_rejecting_needs_a_comment_and_returns_the_campaign_to_draft(
    author: User, approver: User
) -> None:
    campaign = pending(author)
    with pytest.raises(TransitionRefused, match="a rejection needs a comment"):
        approval.reject(campaign, approver, "   ")
    assert stored(campaign).status == Campaign.Status.PENDING_APPROVAL
    approval.reject(campaign, approver, "Say which shops")
    saved = stored(campaign)
    assert saved.status == Campaign.Status.DRAFT
    assert saved.review_comment == "Say which shops"
    assert saved.submitted_by is None
    assert saved.snapshot is None


def test_a_campaign_that_needs_no_approver_is_scheduled_with_its_content_frozen(
    author: User,
) -> None:
    campaign = a_campaign(Policy.NONE, author)
    assert approval.schedule(campaign, author) == {"status": ["draft", "scheduled"]}
    saved = stored(campaign)
    assert saved.status == Campaign.Status.SCHEDULED
    assert saved.snapshot is not None
    assert saved.snapshot["title"] == "Spring sale"
    assert saved.approved_by is None


@pytest.mark.parametrize("policy", [Policy.ALL, Policy.BROAD])
def test_scheduling_without_approval_is_refused_when_the_policy_asks_for_one(
    author: User, policy: str
) -> None:
    campaign = a_broadcast(policy, author) if policy == Policy.BROAD else a_campaign(policy, author)
    with pytest.raises(TransitionRefused, match="Submit it for approval"):
        approval.schedule(campaign, author)
    assert stored(campaign).status == Campaign.Status.DRAFT


def test_a_broadcast_cannot_be_scheduled_without_approval_even_when_the_policy_says_none(
    author: User,
) -> None:
    campaign = a_broadcast(Policy.NONE, author)
    with pytest.raises(TransitionRefused, match="Broadcasts always need an approver"):
        approval.schedule(campaign, author)


def test_a_send_time_in_the_past_cannot_be_scheduled(author: User) -> None:
    campaign = a_campaign(
        Policy.NONE,
        author,
        schedule_mode=Campaign.ScheduleMode.AT,
        send_at=timezone.now() - timedelta(minutes=5),
    )
    with pytest.raises(TransitionRefused, match="send time has passed"):
        approval.schedule(campaign, author)


def test_unscheduling_returns_to_draft_and_drops_the_approval_and_snapshot(
    author: User, approver: User
) -> None:
    campaign = pending(author)
    approval.approve(campaign, approver, "ok")
    assert approval.unschedule(campaign, author) == {
        "status": ["scheduled", "draft"],
        "review_comment": ["ok", ""],
    }
    saved = stored(campaign)
    assert saved.status == Campaign.Status.DRAFT
    assert (saved.snapshot, saved.approved_by, saved.approved_at) == (None, None, None)
    assert approval.needs_approval(saved)  # so it goes through an approver again


def test_a_campaign_that_started_sending_cannot_be_unscheduled(author: User) -> None:
    campaign = a_campaign(Policy.NONE, author, status=Campaign.Status.RUNNING)
    with pytest.raises(TransitionRefused) as refused:
        approval.unschedule(campaign, author)
    assert refused.value.message == (
        "Only a scheduled campaign that has not started sending can go back to draft "
        "(this one: Sending)."
    )
    assert stored(campaign).status == Campaign.Status.RUNNING


def test_a_move_from_the_wrong_status_is_refused_and_changes_nothing(
    author: User, approver: User
) -> None:
    campaign = a_campaign(Policy.ALL, author)
    with pytest.raises(TransitionRefused, match="waiting for approval"):
        approval.approve(campaign, approver)
    with pytest.raises(TransitionRefused, match="Only a draft can be scheduled"):
        approval.schedule(a_campaign(Policy.NONE, author, status=Campaign.Status.COMPLETED), author)
    saved = stored(campaign)
    assert (saved.status, saved.snapshot, saved.approved_by) == (Campaign.Status.DRAFT, None, None)


def test_a_move_on_a_stale_copy_is_refused_when_someone_moved_the_campaign_meanwhile(
    author: User, approver: User
) -> None:
    campaign = pending(author)
    stale = stored(campaign)
    approval.approve(campaign, approver)
    with pytest.raises(TransitionRefused, match="Someone changed this campaign meanwhile"):
        approval.reject(stale, approver, "too late")
    assert stored(campaign).status == Campaign.Status.SCHEDULED


def test_a_viewer_can_make_no_move(author: User) -> None:
    viewer = make_user("viewer", Role.VIEWER)
    campaign = a_campaign(Policy.ALL, author)
    for move in (approval.submit, approval.schedule, approval.duplicate):
        with pytest.raises(TransitionRefused):
            move(campaign, viewer)
    assert stored(campaign).status == Campaign.Status.DRAFT
    assert Campaign.objects.count() == 1


def test_a_duplicate_is_a_draft_copy_owned_by_whoever_duplicated_it(
    author: User, approver: User
) -> None:
    source = a_template_campaign(author)
    source.options = {"expiry": 3600}
    source.schedule_mode = Campaign.ScheduleMode.AT
    source.send_at = timezone.now() + timedelta(days=1)
    source.save()
    approval.submit(source, author)
    approval.approve(source, approver, "ok")
    copy = approval.duplicate(stored(source), approver)
    saved = stored(copy)
    assert saved.name == f"Copy of {source.name}"
    assert saved.status == Campaign.Status.DRAFT
    assert (saved.created_by, saved.changed_by) == (approver, approver)
    assert saved.duplicated_from == source
    assert (saved.snapshot, saved.approved_by, saved.submitted_by, saved.review_comment) == (
        None,
        None,
        None,
        "",
    )
    for field in approval.COPIED_FIELDS:
        assert getattr(saved, field) == getattr(source, field), field
