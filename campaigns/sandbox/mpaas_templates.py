"""The sandbox's mPaaS template store: CreateTemplate, GetTemplate, ListTemplatePage,
DeleteTemplate, and the lookup the template pushes use.

Templates live in memory, per process, keyed by (app, name), pre-seeded with the templates
the seeds' examples name. (A store that outlives the process needs a model.) Template
actions answer in their own family: {"Success", "Code", "Msg", "Data"...}.
"""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

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
from campaigns.sandbox.registry import APPS

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
_PLACEHOLDER = re.compile(r"#(\w+)#")


@dataclass
class Template:
    id: str
    name: str
    title: str
    content: str
    desc_info: str = ""
    push_style: str = "0"
    show_style: str = "0"
    jump_action: str = "0"
    uri: str = ""
    icon_urls: str = ""
    image_urls: str = ""
    variables: str = ""
    created: str = field(default="2024-01-01 00:00:00")
    modified: str = field(default="2024-01-01 00:00:00")

    def as_data(self) -> dict[str, Any]:
        return {
            "Id": self.id,
            "Name": self.name,
            "Title": self.title,
            "Content": self.content,
            "DescInfo": self.desc_info,
            "PushStyle": self.push_style,
            "ShowStyle": self.show_style,
            "Action": self.jump_action,
            "Uri": self.uri,
            "IconUrls": self.icon_urls,
            "ImageUrls": self.image_urls,
            "Variables": self.variables,
            "GmtCreate": self.created,
            "GmtModified": self.modified,
        }


def placeholders(*texts: str) -> str:
    names: list[str] = []
    for text in texts:
        names += [name for name in _PLACEHOLDER.findall(text) if name not in names]
    return ",".join(names)


# The seeds' examples: (name, title, content).
DEMO_TEMPLATES = (
    ("Test template", "Hello #name#", "Congratulations #name# on winning #money# yuan"),
    ("Test Template", "Hello #name#", "Congratulations #name# on winning #money# yuan"),
    ("template1024", "Hello #name#", "Congratulations #name# on winning #money# yuan"),
    ("sale", "A sale for #name#", "#name#, save #money# yuan today"),
    ("broadcastTemplate", "Announcement", "#content#"),
    ("Broadcast template", "Announcement", "#content#"),
)

_lock = threading.Lock()
_templates: dict[tuple[str, str], Template] = {}


def reset() -> None:
    """Back to the demo templates (tests use it)."""
    with _lock:
        _templates.clear()
        for app in APPS.values():
            if app.provider != "mpaas":
                continue
            for number, (name, title, content) in enumerate(DEMO_TEMPLATES, start=1):
                _templates[(app.key, name)] = Template(
                    id=str(1000 + number),
                    name=name,
                    title=title,
                    content=content,
                    variables=placeholders(title, content),
                )


reset()


def find(app_key: str, name: str) -> Template | None:
    with _lock:
        return _templates.get((app_key, name))


def _lookup(app_key: str, params: Params) -> tuple[str, Template]:
    template_id = params.text("TemplateId")
    name = params.text("TemplateName")
    if not template_id and not name:
        reject("TemplateId", "or TemplateName is required")
    with _lock:
        for (key, template_name), template in _templates.items():
            if key != app_key:
                continue
            if (template_id and template.id == template_id) or (
                not template_id and template_name == name
            ):
                return template_name, template
    raise Rejected(TEMPLATE_NOT_EXIST, f"template {template_id or name} does not exist")


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
        id=str(uuid.uuid4().int % 10**12),
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
    with _lock:
        if (app.key, name) in _templates:
            raise Rejected(TEMPLATE_EXIST, f"template {name} already exists")
        _templates[(app.key, name)] = template
    return _ok(Data=template.id)


@action(MPAAS_VERSION, "GetTemplate")
@answers("template")
def get_template(call: Call) -> dict[str, Any]:
    params = Params(call.params)
    app = resolve_app(params)
    _, template = _lookup(app.key, params)
    return _ok(Data=template.as_data())


@action(MPAAS_VERSION, "ListTemplatePage")
@answers("template")
def list_template_page(call: Call) -> dict[str, Any]:
    params = Params(call.params)
    app = resolve_app(params)
    page = params.integer("CurrentPage", default=1, minimum=1) or 1
    size = params.integer("PageSize", default=DEFAULT_PAGE_SIZE, minimum=1) or DEFAULT_PAGE_SIZE
    size = min(size, MAX_PAGE_SIZE)
    with _lock:
        mine = [template for (key, _), template in _templates.items() if key == app.key]
    mine.sort(key=lambda template: (template.created, template.name), reverse=True)
    chunk = mine[(page - 1) * size : page * size]
    return _ok(
        CurrentPage=page,
        PageSize=size,
        TotalSize=len(mine),
        Data=[template.as_data() for template in chunk],
    )


@action(MPAAS_VERSION, "DeleteTemplate")
@answers("template")
def delete_template(call: Call) -> dict[str, Any]:
    params = Params(call.params)
    app = resolve_app(params)
    name, _ = _lookup(app.key, params)
    with _lock:
        _templates.pop((app.key, name), None)
    return _ok()
