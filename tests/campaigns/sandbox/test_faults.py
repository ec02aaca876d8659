"""Injected faults fail the expected share of calls, in the expected ways."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from campaigns.providers.base import (
    Account,
    Credentials,
    ProviderClient,
    ProviderRequest,
    SignatureVersion,
)
from campaigns.providers.errors import ProviderError
from campaigns.sandbox import control
from tests.campaigns.sandbox.conftest import SANDBOX_KEY, SANDBOX_SECRET, RunningSandbox

CALLS = 1000
UNKNOWN = ProviderRequest("NoSuchAction", "2020-10-28", {"AppId": "x"}, in_query=False)


def outcome(client: ProviderClient) -> str:
    try:
        client.call(UNKNOWN)
    except ProviderError as error:
        return error.code
    return "ok"


def test_error_throttle_and_drop_rates_hold_over_a_thousand_calls(
    sandbox_server: RunningSandbox,
) -> None:
    control.update(error_rate=0.05, throttle_rate=0.03, drop_rate=0.02, seed=7)
    account = Account(
        sandbox_server.url, Credentials(SANDBOX_KEY, SANDBOX_SECRET), SignatureVersion.V3
    )
    client = ProviderClient(account, http=httpx.Client(timeout=5))
    counts = Counter(outcome(client) for _ in range(CALLS))

    # Calls that pass the faults reach routing: NoSuchAction is 404 InvalidAction.NotFound.
    assert counts["ServiceUnavailable"] == pytest.approx(0.05 * CALLS, abs=20)
    assert counts["Throttling.User"] == pytest.approx(0.03 * CALLS, abs=17)
    assert counts["ConnectionError"] == pytest.approx(0.02 * CALLS, abs=14)
    assert counts["InvalidAction.NotFound"] == CALLS - sum(
        counts[code] for code in ("ServiceUnavailable", "Throttling.User", "ConnectionError")
    )


def test_throttling_says_when_to_retry(sandbox_server: RunningSandbox) -> None:
    control.update(throttle_rate=1.0)
    account = Account(sandbox_server.url, Credentials(SANDBOX_KEY, SANDBOX_SECRET))
    with pytest.raises(ProviderError) as caught:
        ProviderClient(account, http=httpx.Client()).call(UNKNOWN)
    assert (caught.value.code, caught.value.permanent, caught.value.retry_after) == (
        "Throttling.User",
        False,
        1.0,
    )


def test_a_timeout_fault_outlasts_the_clients_read_timeout(sandbox_server: RunningSandbox) -> None:
    control.update(timeout_rate=1.0)
    account = Account(sandbox_server.url, Credentials(SANDBOX_KEY, SANDBOX_SECRET))
    client = ProviderClient(account, http=httpx.Client(timeout=httpx.Timeout(0.3)))
    with pytest.raises(ProviderError) as caught:
        client.call(UNKNOWN)
    assert (caught.value.code, caught.value.permanent) == ("Timeout", False)
