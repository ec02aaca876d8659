"""Test connection: one harmless signed call that tells an admin whether an app's endpoint,
AccessKey and IDs work, in words.

mPaaS apps list the first page of their template store (ListTemplatePage); EMAS apps ask
for the last day's push records (QueryPushRecords) once per configured AppKey. Neither
call sends or changes anything. The call runs in the web request: it is one short call
bounded by the provider client's timeouts, and the secret it is signed with never leaves
this process (no Celery task carries it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.connections import emas_apps, emas_client, mpaas_app, mpaas_client
from campaigns.models import MobileApp
from campaigns.providers.emas import EmasApp
from campaigns.providers.errors import ProviderError
from campaigns.providers.mpaas import build_list_template_page

logger = logging.getLogger(__name__)

RECORDS_WINDOW = timedelta(days=1)

PLATFORM_NAMES = {"android": "Android", "ios": "iOS", "harmony": "HarmonyOS"}


@dataclass(frozen=True)
class ConnectionCheck:
    """What one test of an app's connection found."""

    ok: bool
    message: str  # for the admin, in words
    code: str = ""  # the provider's code on failure
    request_id: str = ""  # the provider's RequestId, when it answered
    advice: str = ""  # what to do about it, when there is something to do


def check_connection(app: MobileApp, *, now: datetime | None = None) -> ConnectionCheck:
    """Call the provider once (once per AppKey for EMAS) and say what happened."""
    if app.provider == MobileApp.Provider.EMAS:
        calls = _emas_calls(app, now or timezone.now())
    else:
        calls = _mpaas_calls(app)
    request_id = ""
    for app_label, call in calls:
        try:
            request_id = call()
        except ProviderError as error:
            logger.info("Connection test of app %s failed: %r", app.pk, error)
            return _failure(app, error, app_label)
    logger.info("Connection test of app %s succeeded (RequestId %s)", app.pk, request_id)
    return ConnectionCheck(
        ok=True,
        message=_("Connected: the keys and the app IDs work."),
        request_id=request_id,
    )


# A call to make, returning the RequestId, and the app it is made for, in words.
Call = tuple[str, Callable[[], str]]


def _mpaas_calls(app: MobileApp) -> list[Call]:
    label = _("%(app_id)s in workspace %(workspace)s") % {
        "app_id": app.mpaas_app_id,
        "workspace": app.mpaas_workspace_id,
    }

    def list_one_template() -> str:
        request = build_list_template_page(mpaas_app(app), current_page=1, page_size=1)
        return mpaas_client(app).call(request).request_id

    return [(label, list_one_template)]


def _emas_calls(app: MobileApp, now: datetime) -> list[Call]:
    client = emas_client(app)

    def records_of_the_last_day(emas_app: EmasApp) -> Callable[[], str]:
        def call() -> str:
            start = now - RECORDS_WINDOW
            page = client.query_push_records(emas_app, start=start, end=now, page=1, page_size=1)
            return page.request_id

        return call

    return [
        (
            _("the %(platform)s AppKey %(key)s")
            % {"platform": PLATFORM_NAMES[platform], "key": emas_app.app_key},
            records_of_the_last_day(emas_app),
        )
        for platform, emas_app in emas_apps(app).items()
    ]


def _failure(app: MobileApp, error: ProviderError, app_label: str) -> ConnectionCheck:
    describe = _DESCRIPTIONS.get(error.code, _described_by_kind)
    return ConnectionCheck(
        ok=False,
        message=describe(app, error, app_label),
        code=error.code,
        request_id=error.request_id or "",
        advice=str(error.advice),
    )


def endpoint_label(app: MobileApp) -> str:
    return _("the built-in sandbox") if app.uses_sandbox else app.endpoint


Describe = Callable[[MobileApp, ProviderError, str], str]


def _wrong_secret(app: MobileApp, error: ProviderError, app_label: str) -> str:
    return _("The AccessKey secret is wrong (%(code)s).") % {"code": error.code}


def _unknown_key(app: MobileApp, error: ProviderError, app_label: str) -> str:
    return _("Unknown AccessKey ID: the provider does not know %(key)s (%(code)s).") % {
        "key": app.access_key_id,
        "code": error.code,
    }


def _disabled_key(app: MobileApp, error: ProviderError, app_label: str) -> str:
    return _("The AccessKey %(key)s is disabled (%(code)s).") % {
        "key": app.access_key_id,
        "code": error.code,
    }


def _not_allowed(app: MobileApp, error: ProviderError, app_label: str) -> str:
    return _(
        "The AccessKey %(key)s may not call push: grant its RAM user the push permission "
        "(%(code)s)."
    ) % {"key": app.access_key_id, "code": error.code}


def _not_owned(app: MobileApp, error: ProviderError, app_label: str) -> str:
    return _(
        "The AccessKey %(key)s may not use %(app)s: the app does not exist at the provider "
        "or belongs to another account (%(code)s)."
    ) % {"key": app.access_key_id, "app": app_label, "code": error.code}


def _no_such_app(app: MobileApp, error: ProviderError, app_label: str) -> str:
    return _("The app %(app)s does not exist at the provider (%(code)s).") % {
        "app": app_label,
        "code": error.code,
    }


def _unreachable(app: MobileApp, error: ProviderError, app_label: str) -> str:
    return _("Could not reach the endpoint %(endpoint)s (%(code)s).") % {
        "endpoint": endpoint_label(app),
        "code": error.code,
    }


def _no_answer(app: MobileApp, error: ProviderError, app_label: str) -> str:
    return _("The endpoint %(endpoint)s did not answer in time (%(code)s).") % {
        "endpoint": endpoint_label(app),
        "code": error.code,
    }


def _not_a_gateway(app: MobileApp, error: ProviderError, app_label: str) -> str:
    return _(
        "The endpoint %(endpoint)s answered, but it is not an %(provider)s gateway (%(code)s)."
    ) % {
        "endpoint": endpoint_label(app),
        "provider": app.get_provider_display(),
        "code": error.code,
    }


def _clock(app: MobileApp, error: ProviderError, app_label: str) -> str:
    return _("The provider refused the call's time: this server's clock is off (%(code)s).") % {
        "code": error.code
    }


def _busy(app: MobileApp, error: ProviderError, app_label: str) -> str:
    return _("The provider is busy or slowing calls down; test again in a minute (%(code)s).") % {
        "code": error.code
    }


def _described_by_kind(app: MobileApp, error: ProviderError, app_label: str) -> str:
    if error.code.startswith("HTTP"):
        return _not_a_gateway(app, error, app_label)
    if not error.permanent:
        return _busy(app, error, app_label)
    return _("The provider refused the call: %(message)s (%(code)s).") % {
        "message": error.message or _("no reason given"),
        "code": error.code,
    }


_DESCRIPTIONS: dict[str, Describe] = {
    "SignatureDoesNotMatch": _wrong_secret,
    "IncompleteSignature": _wrong_secret,
    "InvalidAccessKeyId.NotFound": _unknown_key,
    "InvalidAccessKeyId.Inactive": _disabled_key,
    "Forbidden.AccessKeyDisabled": _disabled_key,
    "Forbidden.RAM": _not_allowed,
    "PermissionDenied": _not_owned,  # EMAS: an AppKey this AccessKey does not own
    "APP_NOT_EXIST": _no_such_app,  # mPaaS: no app with this appId and workspaceId
    "InvalidAppKey.NotFound": _no_such_app,
    "ConnectionError": _unreachable,
    "Timeout": _no_answer,
    "InvalidAction.NotFound": _not_a_gateway,
    "InvalidTimeStamp.Expired": _clock,
}
