"""How many PushMultiple calls (100 targets each) the standalone sandbox validates and
records per second of its own CPU time, at zero added latency.

The sandbox runs as its own process (``manage.py sandbox``, DEBUG off as in production);
calls are signed before the clock starts, each with fresh message keys, and sent from this
process over keep-alive connections, in three rounds. CPU time is read from /proc for the
sandbox process alone, so the client's work does not count against it; the median round's
rate is the result, beside the slowest and the fastest, and the CPU time of a fixed Python
loop taken before each round (``reference_loop_ms``): a slow machine shows there.
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
    # Keep benchmark rows out of the development database, and start from an empty file:
    # a file holding the free pages of an earlier run's deleted rows is slower to fill.
    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
    for old in (ROOT / "var" / "bench").glob("sandbox.sqlite3*"):
        old.unlink()
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
ROUNDS = 3  # the median round is reported: this machine's speed drifts by a tenth


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


def reference_loop_s() -> float:
    """CPU seconds of a fixed pure-Python loop: this machine's speed drifts by as much as
    two times within an hour (shared cores), so each round is shown beside it."""
    started = time.process_time()
    total = 0
    for number in range(5_000_000):
        total += number
    return time.process_time() - started


def wire_bytes(request: httpx.Request) -> bytes:
    """The request as it goes on the wire, written once before the clock starts."""
    head = [b"%s %s HTTP/1.1" % (request.method.encode(), request.url.raw_path)]
    head += [name + b": " + value for name, value in request.headers.raw]
    return b"\r\n".join(head) + b"\r\n\r\n" + request.content


class Connection:
    """A keep-alive connection sending prepared bytes and reading the status of each
    answer: a client that costs next to nothing, so that the other core stays quiet while
    the sandbox's CPU time is measured (httpx took as much CPU per call as the sandbox)."""

    def __init__(self, port: int) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port))
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.stream = self.socket.makefile("rb")

    def call(self, request: bytes) -> int:
        self.socket.sendall(request)
        status = int(self.stream.readline().split()[1])
        length = 0
        while (line := self.stream.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        self.stream.read(length)
        return status

    def calls(self, requests: list[bytes]) -> list[int]:
        return [self.call(request) for request in requests]


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
        print(f"signing {ROUNDS} x {calls} PushMultiple calls of {TARGETS_PER_CALL} targets…")
        run = str(int(time.time()))
        rounds = [signed_calls(url, calls, run=f"{run}-{n}") for n in range(ROUNDS)]
        clients = [Connection(port) for _ in range(CONNECTIONS)]
        warm = wire_bytes(signed_calls(url, 1, run=f"warm-{time.time()}")[0])
        clients[0].call(warm)  # imports, the first database connection

        statuses: list[int] = []
        rates, walls, cpus, references = [], [], [], []
        for signed in rounds:
            requests = [wire_bytes(request) for request in signed]
            shares = [requests[n::CONNECTIONS] for n in range(CONNECTIONS)]
            references.append(reference_loop_s())
            cpu_before, started = cpu_seconds(server.pid), time.perf_counter()
            with ThreadPoolExecutor(max_workers=CONNECTIONS) as pool:
                for answered in pool.map(Connection.calls, clients, shares):
                    statuses += answered
            walls.append(time.perf_counter() - started)
            cpus.append(cpu_seconds(server.pid) - cpu_before)
            rates.append(calls / cpus[-1])
            print(
                f"  round {len(rates)}: {rates[-1]:,.0f} calls per sandbox CPU-second "
                f"(reference loop {references[-1]:.2f} s)"
            )
    finally:
        server.terminate()
        server.wait(timeout=10)

    accepted = statuses.count(200)
    recorded = SandboxMessage.objects.filter(app=APP_KEY).count()
    middle = sorted(range(ROUNDS), key=rates.__getitem__)[ROUNDS // 2]
    metrics = {
        "calls": float(calls * ROUNDS),
        "accepted": float(accepted),
        "push_multiple_rps": round(rates[middle], 1),  # the median round
        "push_multiple_rps_min": round(min(rates), 1),
        "push_multiple_rps_max": round(max(rates), 1),
        "wall_calls_per_s": round(calls / walls[middle], 1),
        "sandbox_cpu_s": round(cpus[middle], 2),
        "ledger_rows": float(recorded),
        "reference_loop_ms": round(references[middle] * 1000, 1),
    }
    for name, value in metrics.items():
        print(f"{name:<22} {value:>12,.1f}")
    write_report("sandbox", metrics)
    if accepted != calls * ROUNDS or recorded < calls * ROUNDS * TARGETS_PER_CALL:
        print("not every call was accepted and recorded", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
