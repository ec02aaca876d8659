"""The demo campaigns ``load_demo`` creates on the demo apps: one of every kind, in the states
a newcomer meets (draft, waiting for approval, scheduled, recurring, provider-held), each
with the audit trail it would have had. Made once; a second run leaves them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from campaigns import approval, template_store
from campaigns.audit import record
from campaigns.models import Audience, Campaign, MessageTemplate, MobileApp, User

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class DemoCampaign:
    name: str
    app: str
    kind: str
    audience: str
    status: str
    template: str = ""
    title: str = ""
    body: str = ""
    values: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    schedule: dict[str, Any] = field(default_factory=dict)


def _tomorrow_at(hour: int, days: int = 1) -> datetime:
    today = timezone.now().astimezone(SHANGHAI).date()
    return datetime.combine(today + timedelta(days=days), time(hour), tzinfo=SHANGHAI)


def _weeks(weeks: int) -> dict[str, date]:
    today = timezone.now().astimezone(SHANGHAI).date()
    return {"starts_on": today + timedelta(days=1), "ends_on": today + timedelta(weeks=weeks)}


SHOP, NEWS = "Demo shop (mPaaS)", "Demo news (EMAS)"
S = Campaign.Status


def demo_campaigns() -> list[DemoCampaign]:
    return [
        DemoCampaign(
            "VIP preview of the spring sale",
            SHOP,
            Campaign.Kind.SIMPLE,
            "VIP testers",
            S.DRAFT,
            title="Spring sale starts tomorrow",
            body="You get first pick: 30% off everything until Sunday.",
            options={"mp_push_style": "1", "mp_extended_params": {"page": "sale"}},
        ),
        DemoCampaign(
            "Order shipped notice",
            SHOP,
            Campaign.Kind.TEMPLATE,
            "VIP testers",
            S.SCHEDULED,
            template="Order shipped",
            values={"name": "friend", "order": "A-1024"},
            options={"mp_push_action": "0", "mp_expiry": 86400},
        ),
        DemoCampaign(
            "Spring sale, personal offers",
            SHOP,
            Campaign.Kind.PERSONALISED,
            "Spring sale customers",
            S.SCHEDULED,
            template="Spring sale",
            options={"mp_classification": "0", "mp_third_channel_category": {"hms": "9"}},
            schedule={"schedule_mode": Campaign.ScheduleMode.AT, "send_at": _tomorrow_at(10)},
        ),
        DemoCampaign(
            "Welcome back, every Android phone",
            SHOP,
            Campaign.Kind.BROADCAST,
            "All Android devices",
            S.PENDING_APPROVAL,
            template="Welcome back",
            values={"money": "20"},
        ),
        DemoCampaign(
            "Flash deal for loyalty members",
            NEWS,
            Campaign.Kind.EMAS,
            "Loyalty accounts",
            S.SCHEDULED,
            template="Flash deal",
            values={"item": "Noise-cancelling headphones", "price": "399"},
            options={
                "push_type": "NOTICE",
                "device_type": "ANDROID",
                "android_open_type": "APPLICATION",
                "huawei_importance": "LOW",
                "xiaomi_channel": "promotions",
            },
            schedule={
                "schedule_mode": Campaign.ScheduleMode.AT,
                "send_at": _tomorrow_at(12, days=2),
                "schedule_holder": Campaign.ScheduleHolder.PROVIDER,
            },
        ),
        DemoCampaign(
            "Weekly digest for shoppers",
            NEWS,
            Campaign.Kind.EMAS,
            "Tagged shoppers",
            S.DRAFT,
            template="Weekly digest",
            values={"name": "shopper"},
            options={"push_type": "NOTICE", "device_type": "ANDROID"},
            schedule={
                "schedule_mode": Campaign.ScheduleMode.RECURRING,
                "frequency": Campaign.Frequency.WEEKLY,
                "repeat_on": [1],
                "time_of_day": time(9, 0),
                **_weeks(8),
            },
        ),
    ]


def create_demo(demo: DemoCampaign, apps: dict[str, MobileApp], people: dict[str, User]) -> None:
    app = apps[demo.app]
    marketer, admin = people["marketer"], people["admin"]
    template = MessageTemplate.objects.filter(app=app, name=demo.template).first()
    if template is not None and template_store.has_store(app) and template.remote_id == "":
        record(None, "sync", template, template_store.sync(template), actor=marketer)
    campaign = Campaign.objects.create(
        name=demo.name,
        app=app,
        kind=demo.kind,
        audience=Audience.objects.get(app=app, name=demo.audience),
        template=template,
        title=demo.title,
        body=demo.body,
        template_values=demo.values,
        options=demo.options,
        created_by=marketer,
        changed_by=marketer,
        **demo.schedule,
    )
    record(None, "create", campaign, actor=marketer)
    # The same moves the campaign page makes, so the demo's states are ones a person reaches.
    if demo.status == S.DRAFT:
        return
    if approval.needs_approval(campaign):
        record(None, "submit", campaign, approval.submit(campaign, marketer), actor=marketer)
        if demo.status == S.SCHEDULED:
            changes = approval.approve(campaign, admin, "Looks good.")
            record(None, "approve", campaign, changes, actor=admin)
    else:
        record(None, "schedule", campaign, approval.schedule(campaign, marketer), actor=marketer)


def load_demo_campaigns() -> int:
    """Create the demo campaigns that do not exist yet; how many were created."""
    apps = {app.name: app for app in MobileApp.objects.filter(name__in=(SHOP, NEWS))}
    people = {
        user.username: user for user in User.objects.filter(username__in=("marketer", "admin"))
    }
    if len(apps) < 2 or len(people) < 2:
        return 0
    existing = set(Campaign.objects.values_list("name", flat=True))
    created = 0
    with transaction.atomic():
        for demo in demo_campaigns():
            if demo.name not in existing:
                create_demo(demo, apps, people)
                created += 1
    return created
