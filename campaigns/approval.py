"""The approval workflow: whether a campaign needs an approver, who may be its approver, and
the moves between draft, waiting for approval and scheduled.

Each move takes the campaign and the acting user, flips the status with a conditional UPDATE
(two clicks, or two people, never both move it) and returns what it changed, for the caller
to write into the audit trail in the same transaction. A move that is not allowed raises
``TransitionRefused`` with a reason the marketer can act on, and changes nothing.

Approving, or scheduling a campaign that needs no approver, freezes its snapshot: what is
sent is what was approved, even if its template changes afterwards.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from campaigns import dispatch, scheduling
from campaigns.audit import Changes
from campaigns.campaign_requests import check_campaign, snapshot_of
from campaigns.models import Audience, Campaign, MessageTemplate, MobileApp, User

APPROVE = "campaigns.approve_campaign"
COMPOSE = "campaigns.compose_campaign"
SEND = "campaigns.send_campaign"

# Audiences the provider expands to every device of the app (or of one platform): as wide as
# a broadcast whatever the campaign's kind, so like a broadcast they always need an approver.
# EMAS warns that a push to all iOS devices can cause "significant costs" (seed 004).
WHOLE_APP_AUDIENCES = (Audience.Kind.BROADCAST, Audience.Kind.ALL)
# The "broad" policy adds tag expressions, whose reach nobody can count beforehand.
BROAD_AUDIENCES = (Audience.Kind.TAGS, *WHOLE_APP_AUDIENCES)


class TransitionRefused(Exception):
    """A move the campaign's status, rules or the user's role do not allow; ``message``
    says why in words for the page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- who and what needs approval --------------------------------------------------------------


def approval_reason(campaign: Campaign) -> str:
    """Why the campaign needs an approver, in a sentence; "" when it needs none."""
    app = campaign.app
    audience = campaign.audience
    if campaign.kind == Campaign.Kind.BROADCAST:
        return _("Broadcasts always need an approver.")
    if audience is not None and audience.kind in WHOLE_APP_AUDIENCES:
        return _("Pushes to every device of the app always need an approver.")
    if audience is not None and audience.member_count > app.approval_threshold:
        return _(
            "The audience has %(count)s targets; above %(threshold)s, %(app)s always needs "
            "an approver."
        ) % {
            "count": number_format(audience.member_count, force_grouping=True),
            "threshold": number_format(app.approval_threshold, force_grouping=True),
            "app": app.name,
        }
    if app.approval_policy == MobileApp.ApprovalPolicy.ALL:
        return _("%(app)s needs an approver for every campaign.") % {"app": app.name}
    if (
        app.approval_policy == MobileApp.ApprovalPolicy.BROAD
        and audience is not None
        and audience.kind in BROAD_AUDIENCES
    ):
        return _("%(app)s needs an approver for pushes to a tag expression.") % {"app": app.name}
    return ""


def needs_approval(campaign: Campaign) -> bool:
    return bool(approval_reason(campaign))


def can_approve(user: User, campaign: Campaign) -> tuple[bool, str]:
    """Whether ``user`` may review (approve or reject) the campaign, and if not, why."""
    if not user.has_perm(APPROVE):
        return False, _("Only approvers can approve or reject campaigns.")
    if campaign.status != Campaign.Status.PENDING_APPROVAL:
        return False, _(
            "Only a campaign waiting for approval can be approved or rejected (this one: "
            "%(status)s)."
        ) % {"status": campaign.get_status_display()}
    if campaign.app.four_eyes:
        own = [
            (campaign.created_by_id, _("You created this campaign")),
            (campaign.changed_by_id, _("You last changed this campaign")),
            (campaign.submitted_by_id, _("You submitted this campaign")),
        ]
        for person, role in own:
            if person == user.pk:
                return False, _(
                    "%(role)s, and %(app)s needs a second person to approve it (four-eyes rule)."
                ) % {"role": role, "app": campaign.app.name}
    return True, ""


# -- ready to send ----------------------------------------------------------------------------


def ready_to_send(campaign: Campaign, *, now: datetime) -> list[str]:
    """What stops the campaign from being submitted, approved or scheduled as it is ([] when
    nothing does): the essentials first, then every rule of the provider's request builder
    (``campaign_requests.check_campaign``, the composer's own check)."""
    problems = essentials_missing(campaign, now=now)
    if problems:
        return problems
    found = (str(error.message) for error in check_campaign(campaign, now=now))
    return list(dict.fromkeys(found))


def essentials_missing(campaign: Campaign, *, now: datetime) -> list[str]:
    """What any send needs before the provider's rules are worth asking: an active app, an
    audience, something to say and a send time still ahead."""
    problems: list[str] = []
    if not campaign.app.is_active:
        problems.append(_("Its app is deactivated; campaigns cannot use it."))
    audience = campaign.audience
    if audience is None:
        problems.append(_("Choose an audience."))
    elif audience.is_archived:
        problems.append(
            _("Its audience “%(name)s” is archived; choose another.") % {"name": audience.name}
        )
    has_text = bool(campaign.title.strip() and campaign.body.strip())
    template = campaign.template
    if campaign.needs_template and template is None:
        problems.append(_("Choose a template."))
    elif campaign.needs_template and template is not None and not _in_store(template):
        # mPaaS fills the text in from its template store, by name: without the current
        # version there, every call would be refused (or send an older text).
        problems.append(
            _(
                "mPaaS's template store does not hold “%(name)s” as it reads now: sync it "
                "(Templates → Sync to provider) first."
            )
            % {"name": template.name}
        )
    elif not campaign.needs_template and not has_text and campaign.template is None:
        problems.append(_("Write a title and a text."))
    mode = campaign.schedule_mode
    if mode == Campaign.ScheduleMode.AT and (campaign.send_at is None or campaign.send_at <= now):
        problems.append(_("Its send time has passed or is missing; choose a later one."))
    ends_on = campaign.ends_on if mode == Campaign.ScheduleMode.RECURRING else None
    if ends_on is not None and ends_on < timezone.localdate(now, scheduling.zone(campaign)):
        problems.append(_("Its repeats ended before today; choose a later end date."))
    return problems


def _in_store(template: MessageTemplate) -> bool:
    return (
        template.sync_state == MessageTemplate.SyncState.SYNCED
        and template.synced_version == template.version
    )


# -- the moves --------------------------------------------------------------------------------


def submit(campaign: Campaign, user: User, *, now: datetime | None = None) -> Changes:
    """Draft → waiting for approval, when it needs an approver and is ready to send."""
    if not user.has_perm(COMPOSE):
        raise TransitionRefused(_("Your role cannot submit campaigns."))
    _expect(campaign, Campaign.Status.DRAFT, _("Only a draft can be submitted for approval"))
    if not needs_approval(campaign):
        raise TransitionRefused(_("This campaign needs no approver: schedule it instead."))
    moment = now or timezone.now()
    _refuse_unless_ready(campaign, moment, _("It cannot be submitted yet:"))
    return _move(
        campaign,
        Campaign.Status.DRAFT,
        Campaign.Status.PENDING_APPROVAL,
        submitted_by=user,
        submitted_at=moment,
        review_comment="",
    )


def approve(
    campaign: Campaign, user: User, comment: str = "", *, now: datetime | None = None
) -> Changes:
    """Waiting for approval → scheduled, its content frozen as approved."""
    allowed, reason = can_approve(user, campaign)
    if not allowed:
        raise TransitionRefused(reason)
    moment = now or timezone.now()
    _refuse_unless_ready(
        campaign, moment, _("It cannot be approved as it is; reject it with what to change:")
    )
    return _move(
        campaign,
        Campaign.Status.PENDING_APPROVAL,
        Campaign.Status.SCHEDULED,
        snapshot=snapshot_of(campaign),
        approved_by=user,
        approved_at=moment,
        review_comment=comment.strip(),
    )


def reject(campaign: Campaign, user: User, comment: str) -> Changes:
    """Waiting for approval → draft, with what needs to change."""
    allowed, reason = can_approve(user, campaign)
    if not allowed:
        raise TransitionRefused(reason)
    if not comment.strip():
        raise TransitionRefused(_("Say what needs to change: a rejection needs a comment."))
    return _move(
        campaign,
        Campaign.Status.PENDING_APPROVAL,
        Campaign.Status.DRAFT,
        submitted_by=None,
        submitted_at=None,
        review_comment=comment.strip(),
    )


def schedule(campaign: Campaign, user: User, *, now: datetime | None = None) -> Changes:
    """Draft → scheduled, for a campaign that needs no approver; its content is frozen."""
    if not user.has_perm(SEND):
        raise TransitionRefused(_("Your role cannot schedule campaigns."))
    _expect(campaign, Campaign.Status.DRAFT, _("Only a draft can be scheduled"))
    reason = approval_reason(campaign)
    if reason:
        raise TransitionRefused(
            _("%(reason)s Submit it for approval; it is scheduled once approved.")
            % {"reason": reason}
        )
    _refuse_unless_ready(campaign, now or timezone.now(), _("It cannot be scheduled yet:"))
    return _move(
        campaign,
        Campaign.Status.DRAFT,
        Campaign.Status.SCHEDULED,
        snapshot=snapshot_of(campaign),
    )


def unschedule(campaign: Campaign, user: User) -> Changes:
    """Scheduled → draft, before it started sending; the approval and snapshot go with it."""
    if not user.has_perm(SEND):
        raise TransitionRefused(_("Your role cannot unschedule campaigns."))
    _expect(
        campaign,
        Campaign.Status.SCHEDULED,
        _("Only a scheduled campaign that has not started sending can go back to draft"),
    )
    return _move(
        campaign,
        Campaign.Status.SCHEDULED,
        Campaign.Status.DRAFT,
        snapshot=None,
        submitted_by=None,
        submitted_at=None,
        approved_by=None,
        approved_at=None,
        review_comment="",
    )


# Everything a marketer set, copied by duplicate(); status, owners, approval and snapshot are not.
COPIED_FIELDS = (
    "app",
    "kind",
    "audience",
    "template",
    "title",
    "body",
    "template_values",
    "options",
    "schedule_mode",
    "send_at",
    "frequency",
    "repeat_on",
    "time_of_day",
    "starts_on",
    "ends_on",
    "time_zone",
    "recipient_local_time",
    "schedule_holder",
)


def duplicate(campaign: Campaign, user: User) -> Campaign:
    """A new draft of ``user``'s with everything ``campaign`` says, whatever its status."""
    if not user.has_perm(COMPOSE):
        raise TransitionRefused(_("Your role cannot create campaigns."))
    name_field = Campaign._meta.get_field("name")
    name = _("Copy of %(name)s") % {"name": campaign.name}
    copy = Campaign(
        name=name[: name_field.max_length],
        status=Campaign.Status.DRAFT,
        duplicated_from=campaign,
        created_by=user,
        changed_by=user,
        **{field: getattr(campaign, field) for field in COPIED_FIELDS},
    )
    copy.save()
    return copy


def _expect(campaign: Campaign, status: Campaign.Status, only: str) -> None:
    if campaign.status != status:
        raise TransitionRefused(
            _("%(only)s (this one: %(status)s).")
            % {"only": only, "status": campaign.get_status_display()}
        )


def _refuse_unless_ready(campaign: Campaign, now: datetime, lead: str) -> None:
    problems = ready_to_send(campaign, now=now)
    if problems:
        raise TransitionRefused(" ".join([lead, *problems]))


def _move(
    campaign: Campaign, before: Campaign.Status, after: Campaign.Status, **fields: object
) -> Changes:
    """Flip the status if nobody else did meanwhile, set ``fields`` with it, and say what
    changed. The review comment is told in the changes; the snapshot is not (it is large
    and the campaign holds it)."""
    moved = Campaign.objects.filter(pk=campaign.pk, status=before).update(status=after, **fields)
    if not moved:
        raise TransitionRefused(
            _("Someone changed this campaign meanwhile; look at it again and retry.")
        )
    changes: Changes = {"status": [before.value, after.value]}
    comment_before = campaign.review_comment
    for name, value in fields.items():
        setattr(campaign, name, value)
    campaign.status = after
    # The runs follow the status, in the same transaction: scheduled has its first run
    # waiting; back to draft has none.
    if after == Campaign.Status.SCHEDULED:
        dispatch.first_run(campaign)
    elif before == Campaign.Status.SCHEDULED:
        dispatch.drop_waiting_runs(campaign)
    if "review_comment" in fields and fields["review_comment"] != comment_before:
        changes["review_comment"] = [comment_before, fields["review_comment"]]
    return changes
