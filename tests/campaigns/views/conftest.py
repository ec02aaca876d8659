"""Fixtures of the page tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from campaigns.sandbox import control


@pytest.fixture(autouse=True)
def sandbox_without_faults() -> Iterator[None]:
    """The sandbox's settings are cached for a second: read them afresh before, and leave
    none of this test's behind for the next."""
    control.forget_cache()
    yield
    control.forget_cache()
