"""The campaign page's "did this target get it?" question: one target, as the audience
lists it (a user ID, device ID, account or alias)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

TARGET_MAX_LENGTH = 255  # AudienceMember.target


class TargetLookupForm(forms.Form):
    target = forms.CharField(
        label=_("Target"),
        max_length=TARGET_MAX_LENGTH,
        help_text=_("A user ID, device ID, account or alias, exactly as the audience lists it."),
        error_messages={"required": _("Enter the target to look for.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
