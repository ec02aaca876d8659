"""What can go wrong with a provider call, and whether trying again can help.

``KNOWN_CODES`` maps the codes of the Alibaba Cloud gateway, mPaaS and EMAS (seed 004) to
permanent or retryable, with what a marketer can do about it. Unknown codes are judged by
their HTTP status: 5xx and throttling statuses are retryable, other 4xx permanent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class FieldError:
    field: str  # the wire name of the parameter, e.g. "TargetMsgkey"
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ProviderError(Exception):
    """A call that did not succeed.

    ``permanent`` is True when sending the same request again cannot succeed (a bad
    parameter, bad credentials); ``retry_after`` is how long, in seconds, the provider
    asked to wait before the next try, when it said so.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        code: str = "",
        request_id: str | None = None,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.code = code
        self.request_id = request_id
        self.http_status = http_status
        self.retry_after = retry_after

    def __str__(self) -> str:
        parts = [self.code, self.message]
        if self.request_id:
            parts.append(f"(RequestId {self.request_id})")
        return " ".join(part for part in parts if part)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, permanent={self.permanent}, "
            f"http_status={self.http_status}, retry_after={self.retry_after}, "
            f"request_id={self.request_id!r}, message={self.message!r})"
        )

    @property
    def advice(self) -> str | Promise:
        return advice_for(self.code)


class RequestInvalid(ProviderError):
    """The request breaks a rule of the provider; found before anything was sent."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(
            "; ".join(str(error) for error in errors), permanent=True, code="RequestInvalid"
        )
        self.errors = tuple(errors)

    def for_field(self, wire_name: str) -> list[str]:
        return [error.message for error in self.errors if error.field == wire_name]


class RuleCheck:
    """Collects every rule a request breaks, then raises them together."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, wire_name: str, message: str) -> None:
        self.errors.append(FieldError(wire_name, message))

    def require(self, condition: bool, wire_name: str, message: str) -> None:
        """Fail with ``message`` unless ``condition``. The message is translated even when
        the rule holds: in a loop over targets, test first and call ``fail``."""
        if not condition:
            self.fail(wire_name, message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise RequestInvalid(self.errors)


@dataclass(frozen=True)
class KnownCode:
    permanent: bool
    advice: str | Promise


_CREDENTIALS = _("Check the app's AccessKey ID and secret, and that the RAM user may call push.")
_PARAMETER = _("A parameter was refused; correct the campaign and send again.")
_LATER = _("The provider had a passing problem; Pushdeck tries again by itself.")
_THROTTLED = _("The provider asked to slow down; Pushdeck waits and tries again.")

KNOWN_CODES: dict[str, KnownCode] = {
    # Alibaba Cloud gateway, both products
    "Throttling": KnownCode(False, _THROTTLED),
    "Throttling.User": KnownCode(False, _THROTTLED),
    "Throttling.Api": KnownCode(False, _THROTTLED),
    "Throttling.AppKey": KnownCode(False, _THROTTLED),
    "ServiceUnavailable": KnownCode(False, _LATER),
    "InternalError": KnownCode(False, _LATER),
    "Timeout": KnownCode(False, _LATER),
    "ConnectionError": KnownCode(False, _LATER),
    "SignatureDoesNotMatch": KnownCode(True, _CREDENTIALS),
    "IncompleteSignature": KnownCode(True, _CREDENTIALS),
    "InvalidAccessKeyId.NotFound": KnownCode(True, _CREDENTIALS),
    "InvalidAccessKeyId.Inactive": KnownCode(True, _CREDENTIALS),
    "Forbidden.RAM": KnownCode(True, _CREDENTIALS),
    "Forbidden.AccessKeyDisabled": KnownCode(True, _CREDENTIALS),
    "InvalidTimeStamp.Expired": KnownCode(
        True, _("The clock of the Pushdeck server is off; synchronise it (NTP).")
    ),
    "SignatureNonceUsed": KnownCode(True, _("A request was replayed; send the campaign again.")),
    "MissingParameter": KnownCode(True, _PARAMETER),
    "InvalidParameter": KnownCode(True, _PARAMETER),
    "InvalidAction.NotFound": KnownCode(True, _("The endpoint is not an mPaaS or EMAS gateway.")),
    # EMAS Push (seed 004)
    "InvalidPeriod.ExceedDays": KnownCode(True, _PARAMETER),
    "AccountDisabled": KnownCode(True, _("The EMAS account is not enabled.")),
    "FileNotExist": KnownCode(True, _PARAMETER),
    "IncorrectPassword": KnownCode(True, _("The APNs certificate password is wrong.")),
    "NotApnsCertificate": KnownCode(True, _("The uploaded certificate is not an APNs one.")),
    "PermissionDenied": KnownCode(True, _("This AccessKey may not push for that AppKey.")),
    "SendSpeedNotSupported": KnownCode(True, _PARAMETER),
    "SmsProfileConfigFailed": KnownCode(True, _("SMS fallback is not set up for this app.")),
    "SmsProfileGetFailed": KnownCode(True, _("SMS fallback is not set up for this app.")),
    "SmsRoleAuthorizeFailed": KnownCode(True, _("Authorise the SMS role in the EMAS console.")),
    "SmsRoleUnauthorized": KnownCode(True, _("Authorise the SMS role in the EMAS console.")),
    "TagsNumberBeyondLimit": KnownCode(True, _("The app has too many tags; remove unused ones.")),
    "Invalid.Parameter": KnownCode(True, _PARAMETER),
    "TargetNotSupported": KnownCode(True, _("This target type cannot be used for a batch push.")),
}

# "Invalid%s.Format", "Invalid%s.LengthExceed", "Invalid%s.BytesExceed", "Invalid%s.Empty"
PARAMETER_CODE = re.compile(r"^Invalid\w*\.(Format|LengthExceed|BytesExceed|Empty)$")
THROTTLING_CODE = re.compile(r"^Throttling(\..+)?$")
RETRYABLE_STATUSES = {408, 429, 500, 502, 503, 504}


def is_permanent(code: str, http_status: int | None) -> bool:
    known = KNOWN_CODES.get(code)
    if known is not None:
        return known.permanent
    if THROTTLING_CODE.match(code):
        return False
    if PARAMETER_CODE.match(code):
        return True
    return http_status not in RETRYABLE_STATUSES


def advice_for(code: str) -> str | Promise:
    known = KNOWN_CODES.get(code)
    if known is not None:
        return known.advice
    if PARAMETER_CODE.match(code):
        return _PARAMETER
    return ""


# mPaaS refuses a push with HTTP 200 and a ResultCode of its own (seeds 000-003; the
# sandbox's table in campaigns/sandbox/mpaas.py).
MPAAS_RESULT_ADVICE: dict[str, str | Promise] = {
    "PARAM_ILLEGAL": _PARAMETER,
    "APP_NOT_EXIST": _("Check the app's mPaaS appId and workspaceId on its page."),
    "TEMPLATE_NOT_EXIST": _(
        "The template is not in the app's mPaaS template store: sync it from its page, then "
        "send again."
    ),
    "TARGET_OVER_LIMIT": _(
        "mPaaS took fewer targets per call than Pushdeck sent: report it with the RequestId."
    ),
    "MSGKEY_DUPLICATE": _(
        "mPaaS saw the same msgKey twice in one call: report it with the RequestId."
    ),
    "SCHEDULE_LIMIT": _(
        "The app has 100 schedules pending at mPaaS: cancel some, or let Pushdeck keep the "
        "schedule."
    ),
}
# Found by Pushdeck before the call was made (RequestInvalid): nothing reached the provider.
_REFUSED_HERE = _(
    "Pushdeck refused the call before sending it: correct the campaign as the "
    "message says, then send it again."
)


def advice_for_provider(provider: str, code: str) -> str | Promise:
    """What a marketer can do about ``code`` from ``provider`` ("mpaas" or "emas"); "" when
    Pushdeck knows nothing better than the provider's own message."""
    if code == "RequestInvalid":
        return _REFUSED_HERE
    if provider == "mpaas" and code in MPAAS_RESULT_ADVICE:
        return MPAAS_RESULT_ADVICE[code]
    return advice_for(code)


def retry_after_seconds(headers: Any) -> float | None:
    """The wait the gateway asked for: x-acs-retry-after (milliseconds, as the official
    SDKs read it) or a standard Retry-After (seconds)."""
    for name, scale in (("x-acs-retry-after", 1000.0), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw:
            try:
                value = float(raw) / scale
            except ValueError:
                continue
            if value > 0:
                return value
    return None
