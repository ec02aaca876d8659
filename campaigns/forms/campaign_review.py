"""The approver's comment on a campaign waiting for approval: optional when approving,
required when rejecting, since the author needs to know what to change."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

COMMENT_MAX_LENGTH = 2000


class ReviewForm(forms.Form):
    """Approving, with an optional word for the author."""

    comment = forms.CharField(
        label=_("Comment for the author (optional)"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RejectionForm(forms.Form):
    """Rejecting: back to draft, with what needs to change."""

    comment = forms.CharField(
        label=_("What needs to change"),
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The author sees this on the campaign page, and it stays in its history."),
        error_messages={"required": _("Say what needs to change: a rejection needs a comment.")},
    )
