"""Template filters of the results pages: counts and shares as the reader's language writes
them. A results page writes a few hundred numbers; Django's ``floatformat:"0g"`` costs about
70 µs each (it goes through Decimal and reads the locale's formats every time), these a tenth
of that."""

from __future__ import annotations

from functools import cache

from django import template
from django.conf import settings
from django.utils import translation
from django.utils.formats import get_format

register = template.Library()


@cache
def _number_style(language: str) -> tuple[str, int, str]:
    """(thousands separator, digits per group, decimal separator) of ``language``."""
    grouping = get_format("NUMBER_GROUPING", language)
    return (
        str(get_format("THOUSAND_SEPARATOR", language)),
        grouping if isinstance(grouping, int) else 3,
        str(get_format("DECIMAL_SEPARATOR", language)),
    )


def _style() -> tuple[str, int, str]:
    return _number_style(translation.get_language() or settings.LANGUAGE_CODE)


@register.filter
def count(value: int | None) -> str:
    """A whole number with the language's digit grouping ("1,234,567"), as
    ``floatformat:"0g"`` writes it; "—" for none."""
    if value is None:
        return "—"
    number = int(value)
    separator, size, _ = _style()
    digits = str(abs(number))
    if separator and size:
        head = len(digits) % size or size
        groups = [digits[:head], *(digits[at : at + size] for at in range(head, len(digits), size))]
        digits = separator.join(groups)
    return f"-{digits}" if number < 0 else digits


@register.filter
def percent(share: float | None, digits: int = 1) -> str:
    """A share of 0..1 as a percentage ("42.5%"), "—" for none."""
    if share is None:
        return "—"
    return f"{share * 100:.{int(digits)}f}%".replace(".", _style()[2])
