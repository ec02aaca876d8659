"""factory_boy factories for Pushdeck's models, with typed helpers for the tests."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory, Password

from campaigns.encryption import Secret
from campaigns.models import (
    Audience,
    AudienceImport,
    Campaign,
    MessageTemplate,
    MobileApp,
    User,
)
from campaigns.models.apps import SANDBOX_ENDPOINT
from campaigns.roles import Role, assign_role

PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")  # type: ignore[attr-defined]
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")  # type: ignore[attr-defined]
    password = Password(PASSWORD)


def make_user(username: str | None = None, role: Role | None = None) -> User:
    """A saved user with the test password and, if given, one role."""
    user = UserFactory.create(**({"username": username} if username else {}))
    if role is not None:
        assign_role(user, role)
    return user


class MobileAppFactory(DjangoModelFactory[MobileApp]):
    """An mPaaS app on the built-in sandbox, with the sandbox's keys and demo app ids."""

    class Meta:
        model = MobileApp

    name = factory.Sequence(lambda n: f"App {n}")  # type: ignore[attr-defined]
    provider = MobileApp.Provider.MPAAS
    endpoint = SANDBOX_ENDPOINT
    mpaas_app_id = "ONEX570DA89211721"
    mpaas_workspace_id = "test"
    access_key_id = "sandbox-key"
    access_key_secret = Secret("sandbox-secret")


class EmasAppFactory(MobileAppFactory):
    provider = MobileApp.Provider.EMAS
    mpaas_app_id = ""
    mpaas_workspace_id = ""
    emas_app_key_android = "23267207"


class MessageTemplateFactory(DjangoModelFactory[MessageTemplate]):
    class Meta:
        model = MessageTemplate

    app = factory.SubFactory(MobileAppFactory)  # type: ignore[attr-defined]
    name = factory.Sequence(lambda n: f"template {n}")  # type: ignore[attr-defined]
    title = "Hello #name#"
    body = "Congratulations #name# on winning #money# yuan"


class AudienceFactory(DjangoModelFactory[Audience]):
    class Meta:
        model = Audience

    app = factory.SubFactory(MobileAppFactory)  # type: ignore[attr-defined]
    name = factory.Sequence(lambda n: f"audience {n}")  # type: ignore[attr-defined]
    kind = Audience.Kind.USERS


class AudienceImportFactory(DjangoModelFactory[AudienceImport]):
    """An import of a pasted list, queued; it has no file unless a test saves one."""

    class Meta:
        model = AudienceImport

    audience = factory.SubFactory(AudienceFactory)  # type: ignore[attr-defined]
    pasted = True


class CampaignFactory(DjangoModelFactory[Campaign]):
    """A simple mPaaS push draft to an audience of user IDs of the same app."""

    class Meta:
        model = Campaign

    app = factory.SubFactory(MobileAppFactory)  # type: ignore[attr-defined]
    name = factory.Sequence(lambda n: f"campaign {n}")  # type: ignore[attr-defined]
    kind = Campaign.Kind.SIMPLE
    audience = factory.SubFactory(  # type: ignore[attr-defined]
        AudienceFactory,
        app=factory.SelfAttribute("..app"),  # type: ignore[attr-defined]
    )
    title = "Spring sale"
    body = "Everything 20% off until Sunday"
