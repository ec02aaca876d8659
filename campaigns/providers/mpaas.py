"""The mPaaS Message Push client (API 2020-10-28): pushes, task queries, schedules, revokes
and the template store.

Push inputs and their builders live in ``mpaas_push`` (re-exported here); this module
holds the builders of the calls around pushes and ``MpaasClient``, whose methods build
first, so a broken rule raises ``RequestInvalid`` before any I/O, then call.

mPaaS answers HTTP 200 for refused pushes too: ``ResultCode`` other than "OK",
``PushResult.Success`` false (pushes, revokes) or ``Success`` false (template store) is
turned into a ``ProviderError`` carrying the provider's code, message and RequestId.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.providers.base import ProviderClient, ProviderRequest, ProviderResponse, register
from campaigns.providers.errors import ProviderError, RuleCheck, is_permanent
from campaigns.providers.mpaas_options import (
    MpaasApp,
    StrategyType,
    app_params,
    check_app,
    epoch_ms,
    is_aware,
    wire,
)
from campaigns.providers.mpaas_push import (
    API_VERSION,
    PushBroadcast,
    PushMultiple,
    PushSimple,
    PushStyle,
    PushTemplate,
    build_push_broadcast,
    build_push_multiple,
    build_push_simple,
    build_push_template,
    check_template_name,
    request,
)
from campaigns.providers.wire import compact_json

__all__ = [
    "API_VERSION",
    "MpaasApp",
    "MpaasClient",
    "PushBroadcast",
    "PushMultiple",
    "PushReceipt",
    "PushSimple",
    "PushTemplate",
    "TaskStats",
    "TemplateDraft",
    "build_cancel_push_scheduler",
    "build_create_template",
    "build_delete_template",
    "build_get_template",
    "build_list_template_page",
    "build_push_broadcast",
    "build_push_multiple",
    "build_push_simple",
    "build_push_template",
    "build_query_push_analysis_core_index",
    "build_query_push_analysis_task_detail",
    "build_query_push_analysis_task_list",
    "build_query_push_scheduler_list",
    "build_revoke_push_message",
    "build_revoke_push_task",
]

MAX_PAGE_SIZE = 100  # pages of task lists, schedules and templates
# mPaaS result codes (HTTP 200) that say "later", not "never"; others are judged by
# errors.is_permanent, which holds unknown codes of a 200 answer permanent.
RETRYABLE_RESULT_CODE = re.compile(r"(?i)throttl|busy|flow_?limit|timeout|system_?error")


@dataclass(frozen=True)
class PushReceipt:
    """An accepted push: PushResult.Data is the push task ID, or the scheduled task's ID."""

    request_id: str
    task_id: str | None
    scheduled: bool


@dataclass(frozen=True)
class TaskStats:
    """QueryPushAnalysisTaskDetail's ResultContent.Data."""

    task_id: str
    push_num: float | None
    push_success_num: float | None
    push_arrival_num: float | None
    start_time: int | None  # milliseconds
    end_time: int | None
    duration: str | None


@dataclass(frozen=True)
class TemplateDraft:
    """A template for the mPaaS template store (CreateTemplate)."""

    name: str
    title: str
    content: str  # with #placeholders#
    description: str | None = None
    push_style: PushStyle | None = None
    show_style: int | None = None
    jump_action: int | None = None
    uri: str | None = None
    image_urls: Mapping[str, str] | None = None
    icon_urls: Mapping[str, str] | None = None
    variables: tuple[str, ...] = ()  # sent comma-separated


# -- builders of the calls around pushes -----------------------------------------------------


def _app_request(action: str, app: MpaasApp, check: RuleCheck, **params: object) -> ProviderRequest:
    check_app(check, app)
    check.raise_if_any()
    wire_params = app_params(app)
    for name, value in params.items():
        if value is not None:
            wire_params[name] = wire(epoch_ms(value) if isinstance(value, datetime) else value)
    return request(action, wire_params)


def _require_id(check: RuleCheck, wire_name: str, value: str | None, message: str) -> None:
    check.require(bool(value and value.strip()), wire_name, message)


def _check_page(check: RuleCheck, number_name: str, number: int, size: int) -> None:
    check.require(number >= 1, number_name, _("Pages are numbered from 1."))
    check.require(
        1 <= size <= MAX_PAGE_SIZE,
        "PageSize",
        _("A page holds 1 to %(limit)d rows.") % {"limit": MAX_PAGE_SIZE},
    )


def _check_times(check: RuleCheck, start: datetime | None, end: datetime | None) -> None:
    for name, value in (("StartTime", start), ("EndTime", end)):
        if value is not None and not is_aware(value):
            check.fail(name, _("The date and time need a time zone."))
    if start is not None and end is not None and is_aware(start) and is_aware(end):
        check.require(end >= start, "EndTime", _("The end cannot be before the start."))


def build_query_push_analysis_task_detail(app: MpaasApp, task_id: str) -> ProviderRequest:
    check = RuleCheck()
    _require_id(check, "TaskId", task_id, _("Which push task? The task ID is missing."))
    return _app_request("QueryPushAnalysisTaskDetail", app, check, TaskId=task_id)


def build_query_push_analysis_task_list(
    app: MpaasApp,
    *,
    start: datetime | None = None,
    task_id: str | None = None,
    task_name: str | None = None,
    page_number: int = 1,
    page_size: int = 20,
) -> ProviderRequest:
    check = RuleCheck()
    _check_page(check, "PageNumber", page_number, page_size)
    _check_times(check, start, None)
    return _app_request(
        "QueryPushAnalysisTaskList",
        app,
        check,
        StartTime=start,
        TaskId=task_id,
        TaskName=task_name,
        PageNumber=page_number,
        PageSize=page_size,
    )


def build_query_push_analysis_core_index(
    app: MpaasApp,
    *,
    start: datetime,
    end: datetime,
    task_id: str | None = None,
    platform: str | None = None,
    channel: str | None = None,
    index_type: str | None = None,
) -> ProviderRequest:
    check = RuleCheck()
    _check_times(check, start, end)
    return _app_request(
        "QueryPushAnalysisCoreIndex",
        app,
        check,
        StartTime=start,
        EndTime=end,
        TaskId=task_id,
        Platform=platform,
        Channel=channel,
        Type=index_type,
    )


def build_query_push_scheduler_list(
    app: MpaasApp,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    unique_id: str | None = None,
    strategy_type: StrategyType | None = None,
    page_number: int = 1,
    page_size: int = 20,
) -> ProviderRequest:
    check = RuleCheck()
    _check_page(check, "PageNumber", page_number, page_size)
    _check_times(check, start, end)
    return _app_request(
        "QueryPushSchedulerList",
        app,
        check,
        StartTime=start,
        EndTime=end,
        UniqueId=unique_id,
        Type=strategy_type,
        PageNumber=page_number,
        PageSize=page_size,
    )


def build_cancel_push_scheduler(
    app: MpaasApp, unique_ids: Sequence[str], *, strategy_type: StrategyType | None = None
) -> ProviderRequest:
    check = RuleCheck()
    check.require(bool(unique_ids), "UniqueIds", _("Choose at least one scheduled push."))
    check.require(
        all(value.strip() and "," not in value for value in unique_ids),
        "UniqueIds",
        _("A scheduled push ID is empty or contains a comma."),
    )
    return _app_request(
        "CancelPushScheduler", app, check, UniqueIds=",".join(unique_ids), Type=strategy_type
    )


def build_revoke_push_message(app: MpaasApp, message_id: str, target_id: str) -> ProviderRequest:
    check = RuleCheck()
    _require_id(check, "MessageId", message_id, _("The message key to revoke is missing."))
    _require_id(check, "TargetId", target_id, _("The target of the message is missing."))
    return _app_request("RevokePushMessage", app, check, MessageId=message_id, TargetId=target_id)


def build_revoke_push_task(app: MpaasApp, task_id: str) -> ProviderRequest:
    check = RuleCheck()
    _require_id(check, "TaskId", task_id, _("Which push task? The task ID is missing."))
    return _app_request("RevokePushTask", app, check, TaskId=task_id)


def build_create_template(app: MpaasApp, draft: TemplateDraft) -> ProviderRequest:
    check = RuleCheck()
    check_template_name(check, draft.name)
    check.require(bool(draft.title.strip()), "Title", _("The template needs a title."))
    check.require(bool(draft.content.strip()), "Content", _("The template needs a text."))
    return _app_request(
        "CreateTemplate",
        app,
        check,
        TemplateName=draft.name,
        Title=draft.title,
        Content=draft.content,
        DescInfo=draft.description,
        PushStyle=draft.push_style,
        ShowStyle=draft.show_style,
        JumpAction=draft.jump_action,
        Uri=draft.uri,
        ImageUrls=compact_json(dict(draft.image_urls)) if draft.image_urls else None,
        IconUrls=compact_json(dict(draft.icon_urls)) if draft.icon_urls else None,
        Variables=",".join(draft.variables) if draft.variables else None,
    )


def _template_key(check: RuleCheck, template_id: str | None, name: str | None) -> None:
    check.require(
        bool(template_id or name),
        "TemplateName",
        _("Give the template's ID or name."),
    )


def build_get_template(
    app: MpaasApp, *, template_id: str | None = None, name: str | None = None
) -> ProviderRequest:
    check = RuleCheck()
    _template_key(check, template_id, name)
    return _app_request("GetTemplate", app, check, TemplateId=template_id, TemplateName=name)


def build_list_template_page(
    app: MpaasApp, *, current_page: int = 1, page_size: int = 20
) -> ProviderRequest:
    check = RuleCheck()
    _check_page(check, "CurrentPage", current_page, page_size)
    return _app_request(
        "ListTemplatePage", app, check, CurrentPage=current_page, PageSize=page_size
    )


def build_delete_template(
    app: MpaasApp, *, template_id: str | None = None, name: str | None = None
) -> ProviderRequest:
    check = RuleCheck()
    _template_key(check, template_id, name)
    return _app_request("DeleteTemplate", app, check, TemplateId=template_id, TemplateName=name)


# -- the client ------------------------------------------------------------------------------


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _result_data(response: ProviderResponse) -> Any:
    return _mapping(response.body.get("ResultContent")).get("Data")


@register("mpaas")
class MpaasClient(ProviderClient):
    """mPaaS Message Push for one account; every method checks, builds, then calls."""

    def parse(self, response: httpx.Response) -> ProviderResponse:
        parsed = super().parse(response)
        body = parsed.body
        push_result = _mapping(body.get("PushResult"))
        result_code = str(body.get("ResultCode") or "")
        code = ""
        if result_code and result_code != "OK":
            code = result_code
        elif push_result.get("Success") is False:
            code = "PushFailed"
        elif body.get("Success") is False:
            code = str(body.get("Code") or "Failed")
        if not code:
            return parsed
        message = body.get("ResultMessage") or push_result.get("ResultMsg") or body.get("Msg") or ""
        raise ProviderError(
            str(message),
            permanent=is_permanent(code, response.status_code)
            and not RETRYABLE_RESULT_CODE.search(code),
            code=code,
            request_id=parsed.request_id or None,
            http_status=response.status_code,
        )

    @staticmethod
    def _now(now: datetime | None) -> datetime:
        return now if now is not None else timezone.localtime()

    def _push(self, request: ProviderRequest, strategy_type: StrategyType) -> PushReceipt:
        response = self.call(request)
        data = _mapping(response.body.get("PushResult")).get("Data")
        return PushReceipt(
            request_id=response.request_id,
            task_id=str(data) if data not in (None, "") else None,
            scheduled=strategy_type is not StrategyType.IMMEDIATE,
        )

    def push_simple(
        self, app: MpaasApp, push: PushSimple, *, now: datetime | None = None
    ) -> PushReceipt:
        built = build_push_simple(app, push, now=self._now(now))
        return self._push(built, push.strategy.type)

    def push_template(
        self, app: MpaasApp, push: PushTemplate, *, now: datetime | None = None
    ) -> PushReceipt:
        built = build_push_template(app, push, now=self._now(now))
        return self._push(built, push.strategy.type)

    def push_multiple(
        self, app: MpaasApp, push: PushMultiple, *, now: datetime | None = None
    ) -> PushReceipt:
        built = build_push_multiple(app, push, now=self._now(now))
        return self._push(built, push.strategy.type)

    def push_broadcast(
        self, app: MpaasApp, push: PushBroadcast, *, now: datetime | None = None
    ) -> PushReceipt:
        built = build_push_broadcast(app, push, now=self._now(now))
        return self._push(built, push.strategy.type)

    def task_stats(self, app: MpaasApp, task_id: str) -> TaskStats:
        response = self.call(build_query_push_analysis_task_detail(app, task_id))
        data = _mapping(_result_data(response))
        return TaskStats(
            task_id=str(data.get("TaskId") or task_id),
            push_num=data.get("PushNum"),
            push_success_num=data.get("PushSuccessNum"),
            push_arrival_num=data.get("PushArrivalNum"),
            start_time=data.get("StartTime"),
            end_time=data.get("EndTime"),
            duration=data.get("Duration"),
        )

    def task_list(self, app: MpaasApp, **query: Any) -> list[Mapping[str, Any]]:
        """ResultContent.Data of QueryPushAnalysisTaskList (build_... names the filters)."""
        data = _result_data(self.call(build_query_push_analysis_task_list(app, **query)))
        return list(data) if isinstance(data, list) else []

    def core_index(
        self, app: MpaasApp, *, start: datetime, end: datetime, **query: Any
    ) -> Mapping[str, Any]:
        """ResultContent.Data of QueryPushAnalysisCoreIndex: push, arrival, open numbers."""
        built = build_query_push_analysis_core_index(app, start=start, end=end, **query)
        return _mapping(_result_data(self.call(built)))

    def schedules(self, app: MpaasApp, **query: Any) -> Mapping[str, Any]:
        """ResultContent.Data of QueryPushSchedulerList: {"TotalCount", "List": [...]}."""
        return _mapping(_result_data(self.call(build_query_push_scheduler_list(app, **query))))

    def cancel_schedules(
        self,
        app: MpaasApp,
        unique_ids: Sequence[str],
        *,
        strategy_type: StrategyType | None = None,
    ) -> str:
        """Cancels scheduled pushes; returns the RequestId."""
        built = build_cancel_push_scheduler(app, unique_ids, strategy_type=strategy_type)
        return self.call(built).request_id

    def revoke_message(self, app: MpaasApp, message_id: str, target_id: str) -> str:
        return self.call(build_revoke_push_message(app, message_id, target_id)).request_id

    def revoke_task(self, app: MpaasApp, task_id: str) -> str:
        return self.call(build_revoke_push_task(app, task_id)).request_id

    def create_template(self, app: MpaasApp, draft: TemplateDraft) -> str | None:
        """Returns Data, the new template's ID as the provider gives it."""
        data = self.call(build_create_template(app, draft)).body.get("Data")
        return None if data is None else str(data)

    def get_template(
        self, app: MpaasApp, *, template_id: str | None = None, name: str | None = None
    ) -> Mapping[str, Any]:
        built = build_get_template(app, template_id=template_id, name=name)
        return _mapping(self.call(built).body.get("Data"))

    def list_templates(
        self, app: MpaasApp, *, current_page: int = 1, page_size: int = 20
    ) -> Mapping[str, Any]:
        """The page: {"Data": [...], "CurrentPage", "PageSize", "TotalSize"}."""
        built = build_list_template_page(app, current_page=current_page, page_size=page_size)
        body = self.call(built).body
        keys = ("Data", "CurrentPage", "PageSize", "TotalSize")
        return {key: body.get(key) for key in keys}

    def delete_template(
        self, app: MpaasApp, *, template_id: str | None = None, name: str | None = None
    ) -> str:
        built = build_delete_template(app, template_id=template_id, name=name)
        return self.call(built).request_id
