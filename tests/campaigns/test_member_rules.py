"""What a member's target, time zone and extended params may look like, per provider."""

from __future__ import annotations

import pytest

from campaigns.member_rules import (
    KINDS_BY_PROVIDER,
    TARGET_CHECKS,
    TARGET_EXAMPLES,
    extended_params_json,
    target_check,
    time_zone_problem,
)
from campaigns.models import Audience


@pytest.mark.parametrize(
    ("provider", "kind", "target", "problem"),
    [
        ("mpaas", "users", "userid1024", None),
        ("mpaas", "devices", "android-1024", None),
        ("mpaas", "users", "user 1024", "A target cannot contain spaces or control characters."),
        ("mpaas", "users", "u" * 256, "A target has at most 255 characters."),
        ("emas", "devices", "e2ba19de97604f55b165576736477b74", None),
        ("emas", "devices", "e2ba19de97604f55", "An EMAS device ID is 32 letters and digits."),
        ("emas", "accounts", "alice@example.com", None),
        ("emas", "accounts", "a,b", "An account or alias cannot contain a comma."),
        ("emas", "accounts", "账" * 22, "At most 64 bytes (UTF-8)."),  # 66 bytes
        ("emas", "aliases", "别名" * 21, None),  # 126 bytes
        ("emas", "aliases", "a" * 129, "At most 128 bytes (UTF-8)."),
    ],
)
def test_targets_follow_the_format_of_their_kind_and_provider(
    provider: str, kind: str, target: str, problem: str | None
) -> None:
    assert target_check(provider, kind)(target) == problem


def test_every_listed_kind_a_provider_offers_has_a_target_rule_and_examples() -> None:
    for provider, kinds in KINDS_BY_PROVIDER.items():
        for kind in set(kinds) & set(Audience.LISTED):
            assert (provider, kind) in TARGET_CHECKS
            examples = TARGET_EXAMPLES[(provider, kind)]
            assert [target_check(provider, kind)(target) for target in examples] == [None, None]


def test_time_zones_are_iana_names() -> None:
    assert time_zone_problem("Asia/Shanghai") is None
    assert time_zone_problem("GMT+8") == "GMT+8 is not a time zone name such as Asia/Shanghai."


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ('{"page": "sale", "id": 7}', ('{"page":"sale","id":7}', None)),
        ('{"名": "值"}', ('{"名":"值"}', None)),
        ("[1, 2]", (None, 'Extended params must be a JSON object such as {"key": "value"}.')),
        ("{page: sale}", (None, 'Extended params are not JSON; write them as {"key": "value"}.')),
        ('{"a": "\\u0000"}', (None, "Extended params cannot contain a NUL character.")),
    ],
)
def test_extended_params_are_a_json_object_stored_compactly(
    text: str, result: tuple[str | None, str | None]
) -> None:
    assert extended_params_json(text) == result
