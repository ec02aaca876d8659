"""The Celery application: configured from Django settings (``CELERY_*``), tasks autodiscovered."""

from __future__ import annotations

import logging.config
import os
from typing import Any

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


@setup_logging.connect
def log_as_django_does(**kwargs: Any) -> None:
    """Worker and beat log through settings.LOGGING, as the web does: the same structured
    lines and redaction, instead of Celery's own handler on the root logger (so LOG_LEVEL,
    not ``--loglevel``, sets the level)."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


app = Celery("pushdeck")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
