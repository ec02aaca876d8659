"""Test sends: the draft as it stands, sent now to a few test targets through the same
request builder and provider client a real send uses, answered with what the provider said.

(Named "trial" in code so that test collectors never mistake it for a test module.)
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from campaigns.campaign_requests import Recipient, build_requests, call_keys, sample_recipients
from campaigns.connections import emas_client, mpaas_client
from campaigns.models import Campaign
from campaigns.providers.base import ProviderClient, ProviderRequest
from campaigns.providers.errors import ProviderError


@dataclass(frozen=True)
class TrialResult:
    ok: bool
    action: str
    request_id: str
    code: str  # "OK", or the provider's code
    message: str  # the provider's message, or the task / message id it gave
    advice: str = ""


def as_trial(campaign: Campaign) -> Campaign:
    """The campaign, sent now: a test never waits for the campaign's schedule."""
    test = copy.copy(campaign)
    test.schedule_mode = Campaign.ScheduleMode.NOW
    test.name = f"[test] {campaign.name}"[:200]
    return test


def trial_recipients(campaign: Campaign, targets: Sequence[str]) -> list[Recipient]:
    """Each test target with the values of its audience row when it is a member, else the
    first member's (so a personalised template fills in as it would for a real one)."""
    known: dict[str, Recipient] = {}
    audience = campaign.audience
    if audience is not None and audience.pk is not None and audience.is_listed:
        rows = audience.members.filter(target__in=list(targets)).values_list(
            "target", "values", "extended_params"
        )
        known = {t: Recipient(t, values or {}, extras or {}) for t, values, extras in rows}
    fallback = sample_recipients(campaign, limit=1)[0]
    return [
        known.get(target, Recipient(target, fallback.values, fallback.extended_params))
        for target in targets
    ]


def trial_requests(
    campaign: Campaign, targets: Sequence[str], *, now: datetime
) -> list[ProviderRequest]:
    """The requests a test send makes. Raises RequestInvalid, naming broken rules."""
    test = as_trial(campaign)
    recipients = trial_recipients(test, targets)
    keys = call_keys(test, len(recipients), f"test-{uuid.uuid4().hex[:12]}")
    return build_requests(test, recipients, keys, now=now)


def client_for(campaign: Campaign) -> ProviderClient:
    if campaign.kind == Campaign.Kind.EMAS:
        return emas_client(campaign.app)
    return mpaas_client(campaign.app)


def send_trial(campaign: Campaign, requests: Sequence[ProviderRequest]) -> list[TrialResult]:
    client = client_for(campaign)
    results = []
    for request in requests:
        try:
            response = client.call(request)
        except ProviderError as error:
            results.append(
                TrialResult(
                    ok=False,
                    action=request.action,
                    request_id=error.request_id or "",
                    code=error.code,
                    message=error.message,
                    advice=str(error.advice or ""),
                )
            )
            continue
        body = response.body
        push_result = body.get("PushResult") or {}
        sent_id = body.get("MessageId") or (
            push_result.get("Data") if isinstance(push_result, dict) else ""
        )
        results.append(
            TrialResult(
                ok=True,
                action=request.action,
                request_id=response.request_id,
                code=str(body.get("ResultCode") or "OK"),
                message=str(sent_id or ""),
            )
        )
    return results
