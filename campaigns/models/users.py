"""The console's user: Django's, in a model of our own so it can grow without a
painful swap later (Django's advice for every new project)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    pass
