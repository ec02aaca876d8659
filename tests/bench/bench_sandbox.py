"""How many PushMultiple calls (100 targets each) the standalone sandbox validates and
records per second of its own CPU time, at zero added latency.

The sandbox runs as its own process (``manage.py sandbox``, DEBUG off as in production);
calls are signed before the clock starts, each with fresh message keys, and sent from this
process over keep-alive connections. CPU time is read from /proc for the sandbox process
alone, so the client's work does not count against it.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
if not os.environ.get("DATABASE_URL"):
    # Keep benchmark rows out of the development database.
    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'bench' / 'sandbox.sqlite3'}"

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from django.core.management import call_command  # noqa: E402

from campaigns.models import SandboxMessage, SandboxPush  # noqa: E402
from campaigns.providers.base import Account, Credentials, ProviderClient  # noqa: E402
from campaigns.providers.mpaas import build_push_multiple  # noqa: E402
from campaigns.providers.mpaas_options import MpaasApp  # noqa: E402
from campaigns.providers.mpaas_push import DeliveryType, PushMultiple, TargetMessage  # noqa: E402
from tests.bench.report import write_report  # noqa: E402

APP = MpaasApp("ONEXBENCH0000001", "bench")
APP_KEY = "ONEXBENCH0000001:bench"
TARGETS_PER_CALL = 100
CONNECTIONS = 8


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def production_like(environ: Mapping[str, str]) -> dict[str, str]:
    """The sandbox runs as it would in production: DEBUG off (Django keeps no query log),
    with throwaway keys."""
    return {
        **environ,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SANDBOX_ACCESS_KEYS": "sandbox-key:sandbox-secret",
    }


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def signed_calls(url: str, count: int, run: str) -> list[httpx.Request]:
    client = ProviderClient(Account(url, Credentials("sandbox-key", "sandbox-secret")))
    now = datetime.now(UTC)
    requests = []
    for call in range(count):
        push = PushMultiple(
            task_name="bench",
            delivery_type=DeliveryType.USER,
            expired_seconds=3600,
            template_name="sale",
            target_msgs=tuple(
                TargetMessage(
                    f"user{call * TARGETS_PER_CALL + n}",
                    f"{run}-{call}-{n}",
                    {"name": f"Name {n}", "money": str(n)},
                )
                for n in range(TARGETS_PER_CALL)
            ),
        )
        requests.append(client.signed(build_push_multiple(APP, push, now=now)))
    return requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 calls instead of 5,000")
    calls = 1000 if parser.parse_args().quick else 5000

    logging.getLogger("httpx").setLevel(logging.WARNING)
    call_command("migrate", verbosity=0)
    SandboxMessage.objects.filter(app=APP_KEY).delete()
    SandboxPush.objects.filter(app=APP_KEY).delete()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox", "--port", str(port)],
        cwd=ROOT,
        env=production_like(os.environ),
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.1)
        print(f"signing {calls} PushMultiple calls of {TARGETS_PER_CALL} targets…", flush=True)
        requests = signed_calls(url, calls, run=str(int(time.time())))
        http = httpx.Client(limits=httpx.Limits(max_connections=CONNECTIONS))
        http.send(signed_calls(url, 1, run=f"warm-{time.time()}")[0])  # connect, import

        cpu_before, started = cpu_seconds(server.pid), time.perf_counter()
        with ThreadPoolExecutor(max_workers=CONNECTIONS) as pool:
            statuses = list(pool.map(lambda request: http.send(request).status_code, requests))
        wall = time.perf_counter() - started
        cpu = cpu_seconds(server.pid) - cpu_before
    finally:
        server.terminate()
        server.wait(timeout=10)

    accepted = statuses.count(200)
    recorded = SandboxMessage.objects.filter(app=APP_KEY).count()
    metrics = {
        "calls": float(calls),
        "accepted": float(accepted),
        "push_multiple_rps": round(calls / cpu, 1),
        "wall_calls_per_s": round(calls / wall, 1),
        "sandbox_cpu_s": round(cpu, 2),
        "ledger_rows": float(recorded),
    }
    for name, value in metrics.items():
        print(f"{name:<20} {value:>12,.1f}")
    write_report("sandbox", metrics)
    if accepted != calls or recorded < calls * TARGETS_PER_CALL:
        print("not every call was accepted and recorded", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
