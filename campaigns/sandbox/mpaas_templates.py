"""The sandbox's mPaaS template store: CreateTemplate, GetTemplate, ListTemplatePage,
DeleteTemplate, and the lookup the template pushes use (cached like the sandbox's
settings: a batch of PushMultiple calls names the same template thousands of times).

Templates are SandboxTemplate rows, one name per app; the templates the seeds' examples name
exist in every mPaaS app of the registry. Template actions answer in their own family:
{"Success", "Code", "Msg", "Data"...}.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from django.db import IntegrityError, transaction

from campaigns.models import SandboxTemplate
from campaigns.sandbox import control
from campaigns.sandbox.gateway import MPAAS_VERSION, Call, action
from campaigns.sandbox.mpaas_rules import (
    OK,
    TEMPLATE_EXIST,
    TEMPLATE_NOT_EXIST,
    Params,
    Rejected,
    answers,
    reject,
    resolve_app,
)

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
_PLACEHOLDER = re.compile(r"#(\w+)#")


Template = SandboxTemplate


def placeholders(*texts: str) -> str:
    names: list[str] = []
    for text in texts:
        names += [name for name in _PLACEHOLDER.findall(text) if name not in names]
    return ",".join(names)


DEMO_CREATED = "2024-01-01 00:00:00"
# The seeds' examples: (name, title, content).
DEMO_TEMPLATES = (
    ("Test template", "Hello #name#", "Congratulations #name# on winning #money# yuan"),
    ("Test Template", "Hello #name#", "Congratulations #name# on winning #money# yuan"),
    ("template1024", "Hello #name#", "Congratulations #name# on winning #money# yuan"),
    ("sale", "A sale for #name#", "#name#, save #money# yuan today"),
    ("broadcastTemplate", "Announcement", "#content#"),
    ("Broadcast template", "Announcement", "#content#"),
)

DEMO_NAMES = tuple(name for name, _, _ in DEMO_TEMPLATES)


def _seed_demo(app_key: str) -> None:
    """The seeds' example templates exist in every mPaaS app of the registry (made again
    only when all of them were deleted)."""
    if Template.objects.filter(app=app_key, name__in=DEMO_NAMES).exists():
        return
    Template.objects.bulk_create(
        [
            Template(
                app=app_key,
                template_id=str(1000 + number),
                name=name,
                title=title,
                content=content,
                variables=placeholders(title, content),
                created=DEMO_CREATED,
                modified=DEMO_CREATED,
            )
            for number, (name, title, content) in enumerate(DEMO_TEMPLATES, start=1)
        ],
        ignore_conflicts=True,
    )


# (app, name) -> (when read, template): the pushes' lookups. A change made by this process
# clears it; one made by another process is seen within control.CACHE_SECONDS.
_found: dict[tuple[str, str], tuple[float, Template]] = {}
control.also_forget(_found.clear)


def find(app_key: str, name: str) -> Template | None:
    """The template a push names (absent ones are looked up every time)."""
    cached = _found.get((app_key, name))
    if cached is not None and time.monotonic() - cached[0] < control.CACHE_SECONDS:
        return cached[1]
    found = Template.objects.filter(app=app_key, name=name).first()
    if found is None and name in DEMO_NAMES:
        _seed_demo(app_key)
        found = Template.objects.filter(app=app_key, name=name).first()
    if found is not None:
        _found[(app_key, name)] = (time.monotonic(), found)
    return found


def _lookup(app_key: str, params: Params) -> Template:
    template_id = params.text("TemplateId")
    name = params.text("TemplateName")
    if not template_id and not name:
        reject("TemplateId", "or TemplateName is required")
    _seed_demo(app_key)
    found = Template.objects.filter(app=app_key)
    template = (
        found.filter(template_id=template_id) if template_id else found.filter(name=name)
    ).first()
    if template is None:
        raise Rejected(TEMPLATE_NOT_EXIST, f"template {template_id or name} does not exist")
    return template


def _ok(**extra: Any) -> dict[str, Any]:
    return {"Success": True, "Code": OK, "Msg": "", **extra}


@action(MPAAS_VERSION, "CreateTemplate")
@answers("template")
def create_template(call: Call) -> dict[str, Any]:
    params = Params(call.params)
    app = resolve_app(params)
    name = params.text("TemplateName", required=True)
    if "," in name:
        reject("TemplateName", "cannot contain commas")
    title = params.text("Title", required=True)
    content = params.text("Content", required=True)
    params.integer("PushStyle", choices=(0, 1, 2))
    stamp = call.received_at.strftime("%Y-%m-%d %H:%M:%S")
    template = Template(
        app=app.key,
        template_id=str(uuid.uuid4().int % 10**12),
        name=name,
        title=title,
        content=content,
        desc_info=params.text("DescInfo"),
        push_style=params.text("PushStyle") or "0",
        show_style=params.text("ShowStyle") or "0",
        jump_action=params.text("JumpAction") or "0",
        uri=params.text("Uri"),
        icon_urls=params.text("IconUrls"),
        image_urls=params.text("ImageUrls"),
        variables=params.text("Variables") or placeholders(title, content),
        created=stamp,
        modified=stamp,
    )
    _seed_demo(app.key)
    _found.clear()
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError:
        raise Rejected(TEMPLATE_EXIST, f"template {name} already exists") from None
    return _ok(Data=template.template_id)


@action(MPAAS_VERSION, "GetTemplate")
@answers("template")
def get_template(call: Call) -> dict[str, Any]:
    params = Params(call.params)
    app = resolve_app(params)
    return _ok(Data=_lookup(app.key, params).as_data())


@action(MPAAS_VERSION, "ListTemplatePage")
@answers("template")
def list_template_page(call: Call) -> dict[str, Any]:
    params = Params(call.params)
    app = resolve_app(params)
    page = params.integer("CurrentPage", default=1, minimum=1) or 1
    size = params.integer("PageSize", default=DEFAULT_PAGE_SIZE, minimum=1) or DEFAULT_PAGE_SIZE
    size = min(size, MAX_PAGE_SIZE)
    _seed_demo(app.key)
    mine = Template.objects.filter(app=app.key).order_by("-created", "-name")
    chunk = mine[(page - 1) * size : page * size]
    return _ok(
        CurrentPage=page,
        PageSize=size,
        TotalSize=mine.count(),
        Data=[template.as_data() for template in chunk],
    )


@action(MPAAS_VERSION, "DeleteTemplate")
@answers("template")
def delete_template(call: Call) -> dict[str, Any]:
    params = Params(call.params)
    app = resolve_app(params)
    _lookup(app.key, params).delete()
    _found.clear()
    return _ok()
