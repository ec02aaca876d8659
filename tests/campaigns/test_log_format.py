"""Structured logs: one JSON object per line in production, key=value in development, the
dispatch engine's fields on every line of a send, and never a credential."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from campaigns import approval, dispatch
from campaigns.log_format import REDACTED, JsonFormatter, KeyValueFormatter
from campaigns.models import AudienceMember, Dispatch
from campaigns.roles import Role
from campaigns.sandbox import control
from tests.factories import AudienceFactory, CampaignFactory, MobileAppFactory, make_user

ROOT = Path(__file__).resolve().parents[2]
ACCESS_KEY_SECRET = "q8Zr5LkT2wXvN7mB3cYpA1dE"  # made up, to look for in the lines
SIGNATURE = "Zm9vYmFyYmF6c2lnbmF0dXJl"
FORMATTERS = [JsonFormatter(), KeyValueFormatter()]


def record(message: str, *args: Any, **extra: Any) -> logging.LogRecord:
    logger = logging.getLogger("campaigns.dispatch")
    return logger.makeRecord(
        logger.name, logging.WARNING, __file__, 1, message, args, None, extra=extra
    )


def test_a_production_line_is_one_json_object_with_the_extra_fields() -> None:
    line = JsonFormatter().format(
        record("call refused", run_id=7, dispatch_id=42, attempt=2, code="Throttling.User")
    )
    assert "\n" not in line
    fields = json.loads(line)
    assert fields["level"] == "WARNING"
    assert fields["logger"] == "campaigns.dispatch"
    assert fields["message"] == "call refused"
    assert fields["time"].endswith("+00:00")
    assert (fields["run_id"], fields["dispatch_id"], fields["attempt"]) == (7, 42, 2)
    assert fields["code"] == "Throttling.User"


def test_a_development_line_reads_as_key_value_pairs_after_the_message() -> None:
    line = KeyValueFormatter().format(
        record("run planned", run_id=7, calls=3, targets=250, note="two words")
    )
    assert " WARNING campaigns.dispatch run planned run_id=7 calls=3 targets=250 " in line
    assert line.endswith('note="two words"')


@pytest.mark.parametrize("formatter", FORMATTERS, ids=["json", "key_value"])
def test_credentials_in_extras_and_arguments_never_reach_the_log(
    formatter: logging.Formatter,
) -> None:
    secrets = [
        record(
            "call to %s",
            "https://cloudpush.aliyuncs.com/",
            access_key_secret=ACCESS_KEY_SECRET,
            headers={"Authorization": f"acs sandbox-key:{SIGNATURE}", "Accept": "json"},
            params={"AccessKeyId": "sandbox-key", "Signature": SIGNATURE},
            password=ACCESS_KEY_SECRET,
            token=ACCESS_KEY_SECRET,
        ),
        record("headers %s", {"Authorization": f"Bearer {ACCESS_KEY_SECRET}"}),
        record("key %(AccessKeySecret)s for %(app)s", {"AccessKeySecret": ACCESS_KEY_SECRET}),
        record(
            "GET https://cloudpush.aliyuncs.com/?AccessKeyId=sandbox-key&Signature=%s&Action=Push",
            SIGNATURE,
        ),
        record(f'gateway said {{"AccessKeySecret": "{ACCESS_KEY_SECRET}"}}'),
        record(f"Authorization: acs sandbox-key:{SIGNATURE}"),
    ]
    for secret_record in secrets:
        line = formatter.format(secret_record)
        assert ACCESS_KEY_SECRET not in line
        assert SIGNATURE not in line
        assert REDACTED in line
    first = formatter.format(secrets[0])
    assert "https://cloudpush.aliyuncs.com/" in first  # the rest of the line is kept
    assert "sandbox-key" in first  # an AccessKeyId is not a secret
    assert "Accept" in first


@pytest.mark.parametrize("formatter", FORMATTERS, ids=["json", "key_value"])
def test_a_traceback_is_kept_without_the_credentials_in_it(formatter: logging.Formatter) -> None:
    try:
        raise RuntimeError(f"gateway refused Signature={SIGNATURE}")
    except RuntimeError:
        failed = logging.getLogger("campaigns.dispatch").makeRecord(
            "campaigns.dispatch",
            logging.ERROR,
            __file__,
            1,
            "send crashed",
            (),
            sys.exc_info(),
            extra={"dispatch_id": 3},
        )
    line = formatter.format(failed)
    assert "RuntimeError: gateway refused Signature=" in line
    assert SIGNATURE not in line


@pytest.fixture
def failing_gateway() -> Iterator[None]:
    control.forget_cache()
    control.update(error_rate=1.0)
    control.forget_cache()
    yield
    control.update(error_rate=0.0)
    control.forget_cache()


@pytest.mark.django_db
@pytest.mark.usefixtures("failing_gateway")
def test_a_sends_log_lines_carry_its_run_and_dispatch(caplog: pytest.LogCaptureFixture) -> None:
    app = MobileAppFactory.create(rate_limit=1000)
    audience = AudienceFactory.create(app=app, member_count=2)
    AudienceMember.objects.bulk_create(
        AudienceMember(audience=audience, target=f"user{n}") for n in range(2)
    )
    campaign = CampaignFactory.create(app=app, audience=audience)
    approval.schedule(campaign, make_user("sender", Role.MARKETER))
    run = campaign.runs.get()
    dispatch.claim_due_runs()
    dispatch.plan(run.id)
    [claimed] = dispatch.claim_dispatches()
    caplog.clear()  # planning's lines are the run's, not a send's

    with caplog.at_level(logging.INFO, logger="campaigns.dispatch"):
        dispatch.send_claimed([claimed])

    sent = [r for r in caplog.records if r.name == "campaigns.dispatch"]
    assert sent, "a refused call is logged"
    for line in (json.loads(JsonFormatter().format(r)) for r in sent):
        assert (line["run_id"], line["dispatch_id"]) == (run.id, claimed)
        assert line["attempt"] == 1
        assert line["code"] == "ServiceUnavailable"
        assert "sandbox-secret" not in json.dumps(line)
    assert Dispatch.objects.get(id=claimed).status == Dispatch.Status.PENDING  # tried again


SETUP = {
    "web": "import django; django.setup()",
    "worker": "from config.celery import app; app.log.setup_logging_subsystem(loglevel='INFO')",
}


def log_line_of(process: str, debug: bool) -> str:
    """The line a web or worker process (DEBUG on or off) writes for a refused call."""
    script = (
        f"{SETUP[process]}; import logging; logging.getLogger('campaigns.dispatch').warning("
        "'call refused', extra={'run_id': 5, 'dispatch_id': 9, 'secret': 'hunter2'})"
    )
    environment = {
        **os.environ,
        "DEBUG": str(debug).lower(),
        "SECRET_KEY": "log-format-test-" + "x" * 50,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }
    environment.pop("LOG_FORMAT", None)  # each mode's default
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    [line] = [text for text in done.stderr.splitlines() if "call refused" in text]
    assert "hunter2" not in line
    return line


@pytest.mark.parametrize("process", ["web", "worker"])
def test_production_processes_write_one_json_object_per_line(process: str) -> None:
    """The web configures logging from settings.LOGGING as Django does; the worker and beat
    through Celery's setup_logging signal (config/celery.py), not Celery's own format."""
    fields = json.loads(log_line_of(process, debug=False))
    assert (fields["run_id"], fields["dispatch_id"], fields["level"]) == (5, 9, "WARNING")
    assert fields["secret"] == REDACTED


@pytest.mark.parametrize("process", ["web", "worker"])
def test_development_processes_write_key_value_pairs(process: str) -> None:
    line = log_line_of(process, debug=True)
    assert line.endswith(f"call refused run_id=5 dispatch_id=9 secret={REDACTED}")
