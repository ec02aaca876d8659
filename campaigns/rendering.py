"""Filling a template's #placeholders# with values: the one substitution Pushdeck does.

The template pages preview with it and the sender fills templates with it (EMAS has no
template store, so Pushdeck sends EMAS pushes already filled in), so what a marketer
previews is what a phone receives.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from campaigns.models.templates import PLACEHOLDER, placeholders

__all__ = ["placeholders", "render"]


def render(text: str, values: Mapping[str, object]) -> str:
    """``text`` with each ``#name#`` replaced by ``values[name]``; a placeholder without a
    value is left as it is, so a missing value shows instead of vanishing."""

    def value_of(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(values[name]) if name in values else match.group(0)

    return PLACEHOLDER.sub(value_of, text)
