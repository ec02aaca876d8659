"""The demo catalog ``load_demo`` creates: two sandbox apps (mPaaS and EMAS), their
templates and audiences of 10 to 50,000 members, so a newcomer's console is not empty.

Everything is made once: running it again leaves what exists as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from campaigns.encryption import Secret
from campaigns.models import Audience, AudienceMember, MessageTemplate, MobileApp, User
from campaigns.models.apps import SANDBOX_ENDPOINT

MEMBER_BATCH = 5_000


@dataclass(frozen=True)
class DemoAudience:
    name: str
    kind: str
    description: str
    members: int = 0  # listed audiences: targets 0..members-1 of the sandbox's registry
    template: str = ""  # per-target values for this template's placeholders
    platform: str = ""
    tag_expression: str = ""


MPAAS_TEMPLATES = (
    ("Spring sale", "A sale for #name#", "#name#, save #money# yuan today"),
    ("Order shipped", "Your order is on its way", "Hi #name#, order #order# left our warehouse."),
    ("Welcome back", "We missed you", "Come back today and get #money# yuan off."),
)
EMAS_TEMPLATES = (
    ("Flash deal", "Flash deal: #item#", "#item# at #price# yuan for the next hour."),
    ("Weekly digest", "Your week", "Hello #name#, here is what happened this week."),
)
MPAAS_AUDIENCES = (
    DemoAudience(
        "Spring sale customers",
        Audience.Kind.USERS,
        "Everyone who bought in spring",
        50_000,
        template="Spring sale",
    ),
    DemoAudience(
        "Autumn sale customers",
        Audience.Kind.USERS,
        "Everyone who bought in autumn",
        1_000,
        template="Spring sale",
    ),
    DemoAudience("VIP testers", Audience.Kind.USERS, "The team's own phones", 10),
    DemoAudience("All Android devices", Audience.Kind.BROADCAST, "Broadcast", platform="android"),
)
EMAS_AUDIENCES = (
    DemoAudience("Loyalty accounts", Audience.Kind.ACCOUNTS, "Loyalty programme members", 2_000),
    DemoAudience(
        "Tagged shoppers",
        Audience.Kind.TAGS,
        "Devices tagged as shoppers",
        tag_expression='{"tag": "tag1"}',
    ),
)


def sandbox_keys() -> tuple[str, str] | None:
    """The sandbox's first AccessKey pair, if it has one."""
    pairs: dict[str, str] = settings.SANDBOX_ACCESS_KEYS
    return next(iter(pairs.items()), None)


def _targets(audience: DemoAudience) -> Iterator[str]:
    """Targets the sandbox's registry knows: user<n> (mPaaS), acct<n> (EMAS)."""
    prefix = "acct" if audience.kind == Audience.Kind.ACCOUNTS else "user"
    return (f"{prefix}{n}" for n in range(audience.members))


def _values(template: str, n: int) -> dict[str, str] | None:
    if not template:
        return None
    return {"name": f"Customer {n}", "money": str(5 + n % 50)}


def _members(audience: Audience, demo: DemoAudience) -> int:
    if audience.member_count or not demo.members:
        return 0
    batch: list[AudienceMember] = []
    for n, target in enumerate(_targets(demo)):
        batch.append(
            AudienceMember(audience=audience, target=target, values=_values(demo.template, n))
        )
        if len(batch) == MEMBER_BATCH:
            AudienceMember.objects.bulk_create(batch)
            batch = []
    AudienceMember.objects.bulk_create(batch)
    audience.member_count = demo.members
    audience.save(update_fields=["member_count"])
    return demo.members


def _app(name: str, provider: str, owner: User, keys: tuple[str, str], **ids: str) -> MobileApp:
    app, _ = MobileApp.objects.get_or_create(
        name=name,
        defaults={
            "provider": provider,
            "endpoint": SANDBOX_ENDPOINT,
            "access_key_id": keys[0],
            "access_key_secret": Secret(keys[1]),
            "test_targets": "user1\nuser2" if provider == MobileApp.Provider.MPAAS else "acct1",
            # The 50,000-member audience then needs an approver: the demo shows approval.
            "approval_threshold": 20_000,
            "created_by": owner,
            **ids,
        },
    )
    return app


def _catalog(
    app: MobileApp,
    templates: tuple[tuple[str, str, str], ...],
    audiences: tuple[DemoAudience, ...],
    owner: User,
) -> int:
    by_name = {}
    for name, title, body in templates:
        by_name[name], _ = MessageTemplate.objects.get_or_create(
            app=app, name=name, defaults={"title": title, "body": body, "created_by": owner}
        )
        if not by_name[name].versions.exists():
            by_name[name].versions.create(number=1, title=title, body=body, created_by=owner)
    members = 0
    for demo in audiences:
        template = by_name.get(demo.template)
        audience, _ = Audience.objects.get_or_create(
            app=app,
            name=demo.name,
            defaults={
                "kind": demo.kind,
                "description": demo.description,
                "owner": owner,
                "platform": demo.platform,
                "tag_expression": demo.tag_expression,
                "bind_status": Audience.BindStatus.EVERYONE
                if demo.kind == Audience.Kind.BROADCAST
                else None,
                "bind_period": Audience.Period.EVER
                if demo.kind == Audience.Kind.BROADCAST
                else None,
                "template": template,
                "value_columns": template.placeholders if template else [],
            },
        )
        members += _members(audience, demo)
    return members


def load_catalog(owner: User) -> int | None:
    """Create the demo apps, templates and audiences; how many members were added, or
    None when the sandbox has no AccessKey to give the apps."""
    keys = sandbox_keys()
    if keys is None:
        return None
    with transaction.atomic():
        mpaas = _app(
            "Demo shop (mPaaS)",
            MobileApp.Provider.MPAAS,
            owner,
            keys,
            mpaas_app_id="ONEX570DA89211721",
            mpaas_workspace_id="test",
        )
        emas = _app(
            "Demo news (EMAS)",
            MobileApp.Provider.EMAS,
            owner,
            keys,
            emas_app_key_android="23267207",
        )
        return _catalog(mpaas, MPAAS_TEMPLATES, MPAAS_AUDIENCES, owner) + _catalog(
            emas, EMAS_TEMPLATES, EMAS_AUDIENCES, owner
        )
