"""What a template looks like on a phone: its placeholders, filled with sample values, and
the vendors that would cut or refuse it.

The live panel of the template pages sends what is typed (title, body and a ``sample-<name>``
field per placeholder); ``build_preview`` turns that into what the panel shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from campaigns.rendering import placeholders, render
from campaigns.vendor_limits import LengthWarning, warnings

SAMPLE_PREFIX = "sample-"
# The placeholders whose sample inputs the page shows now, comma-separated (a placeholder
# name is letters, digits and "_", never a comma): when they are still the ones in the text,
# the inputs are left alone, so typing a sample value never loses the cursor.
SHOWN_FIELD = "shown_placeholders"


@dataclass(frozen=True)
class Sample:
    name: str
    value: str

    @property
    def field_name(self) -> str:
        return f"{SAMPLE_PREFIX}{self.name}"


@dataclass(frozen=True)
class Preview:
    samples: list[Sample]
    title: str  # filled in with the sample values
    body: str
    warnings: list[LengthWarning]
    samples_changed: bool  # the page shows inputs for other placeholders than these

    @property
    def placeholders(self) -> list[str]:
        return [sample.name for sample in self.samples]

    @property
    def shown(self) -> str:
        return ",".join(self.placeholders)


def sample_values(names: list[str], data: Mapping[str, str]) -> list[Sample]:
    """A sample value for each placeholder: what was typed for it, or its own name for a
    placeholder that has no input yet. An emptied input stays empty, and the placeholder then
    shows unfilled, as it would on a phone with no value for it."""
    return [Sample(name, data.get(f"{SAMPLE_PREFIX}{name}", name)) for name in names]


def build_preview(
    title: str, body: str, data: Mapping[str, str], provider: str | None = None
) -> Preview:
    samples = sample_values(placeholders(title, body), data)
    values = {sample.name: sample.value for sample in samples if sample.value}
    filled_title, filled_body = render(title, values), render(body, values)
    shown = data.get(SHOWN_FIELD)
    return Preview(
        samples=samples,
        title=filled_title,
        body=filled_body,
        warnings=warnings(filled_title, filled_body, provider),
        samples_changed=shown is None or shown != ",".join(sample.name for sample in samples),
    )
