"""Pause, resume and cancel a campaign while it is sent; each correct at any moment.

Pause flips the campaign's sending runs to paused: senders stop claiming at once (they
claim only dispatches of sending runs) and a sender holding a claimed call hands it back
unsent; calls already in flight finish and are recorded. Resume flips them back. Cancel ends
every active run, cancels the calls not yet made and, where the provider holds the schedule,
cancels it there too. Each returns what changed, for the audit trail.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns import scheduling
from campaigns.approval import TransitionRefused
from campaigns.audit import Changes
from campaigns.connections import emas_apps, mpaas_app
from campaigns.models import Campaign, CampaignRun, Dispatch
from campaigns.providers.emas import EmasClient
from campaigns.providers.errors import ProviderError
from campaigns.providers.mpaas import MpaasClient
from campaigns.trial_send import client_for

Run, D = CampaignRun.Status, Dispatch.Status
S = Campaign.Status


def _flip(campaign: Campaign, before: S, after: S) -> None:
    if not Campaign.objects.filter(pk=campaign.pk, status=before).update(status=after):
        raise TransitionRefused(
            _("Someone changed this campaign meanwhile; look at it again and retry.")
        )
    campaign.status = after


def pause(campaign: Campaign) -> Changes:
    if campaign.status != S.RUNNING:
        raise TransitionRefused(_("Only a campaign that is sending can be paused."))
    with transaction.atomic():
        _flip(campaign, S.RUNNING, S.PAUSED)
        paused = campaign.runs.filter(status__in=(Run.SENDING, Run.PLANNING)).update(
            status=Run.PAUSED
        )
    return {"status": [S.RUNNING, S.PAUSED], "runs": [None, paused]}


def resume(campaign: Campaign) -> Changes:
    if campaign.status != S.PAUSED:
        raise TransitionRefused(_("Only a paused campaign can be resumed."))
    with transaction.atomic():
        _flip(campaign, S.PAUSED, S.RUNNING)
        # A run paused before it was planned is planned by the next tick.
        unplanned = campaign.runs.filter(status=Run.PAUSED, planned_at__isnull=True)
        unplanned.update(status=Run.WAITING)
        resumed = campaign.runs.filter(status=Run.PAUSED).update(status=Run.SENDING)
    return {"status": [S.PAUSED, S.RUNNING], "runs": [None, resumed]}


CANCELLABLE = (S.SCHEDULED, S.RUNNING, S.PAUSED)


def cancel(campaign: Campaign) -> Changes:
    """End the campaign: no further call is made; provider-held schedules are cancelled."""
    before = campaign.status
    if before not in CANCELLABLE:
        raise TransitionRefused(_("Only a scheduled, sending or paused campaign can be cancelled."))
    with transaction.atomic():
        _flip(campaign, S(before), S.CANCELLED)
        active = campaign.runs.filter(status__in=CampaignRun.ACTIVE)
        run_ids = list(active.values_list("id", flat=True))
        dropped = Dispatch.objects.filter(run_id__in=run_ids, status=D.PENDING).update(
            status=D.CANCELLED
        )
        active.update(status=Run.CANCELLED, finished_at=timezone.now())
    changes: Changes = {"status": [before, S.CANCELLED], "calls_cancelled": [None, dropped]}
    if scheduling.held_by_provider(campaign):
        changes["provider"] = [None, cancel_at_provider(campaign)]
    return changes


def cancel_at_provider(campaign: Campaign) -> str:
    """Cancel the schedules the provider holds for this campaign's calls; says how it went."""
    held = [
        provider_id
        for ids in Dispatch.objects.filter(run__campaign=campaign, status=D.SENT)
        .exclude(provider_id="")
        .values_list("provider_id", flat=True)
        for provider_id in ids.split(",")
    ]
    if not held:
        return _("nothing was held at the provider yet")
    client = client_for(campaign)
    try:
        if isinstance(client, MpaasClient):
            client.cancel_schedules(mpaas_app(campaign.app), held)
        elif isinstance(client, EmasClient):
            for message_id in held:
                _cancel_emas(client, campaign, message_id)
    except ProviderError as error:
        return _("the provider refused to cancel: %(error)s") % {"error": str(error)}
    return _("%(count)d provider schedules cancelled") % {"count": len(held)}


def _cancel_emas(client: EmasClient, campaign: Campaign, message_id: str) -> None:
    """A message id belongs to one of the app's AppKeys: the one that accepts the cancel."""
    refusal: ProviderError | None = None
    for app in emas_apps(campaign.app).values():
        try:
            client.cancel_push(app, message_id)
        except ProviderError as error:
            refusal = error
        else:
            return
    if refusal is not None:
        raise refusal
