"""What every benchmark shares: the machine it ran on, the table it prints, the JSON it writes."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[2] / "var" / "bench"


def machine() -> dict[str, object]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "database": os.environ.get("DATABASE_URL", "sqlite").split("://", 1)[0],
    }


def write_report(name: str, metrics: dict[str, float]) -> Path:
    """Write var/bench/<name>.json: {"metrics": ..., "machine": ..., "when": ...}."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path = BENCH_DIR / f"{name}.json"
    when = datetime.now(UTC).isoformat(timespec="seconds")
    path.write_text(json.dumps({"metrics": metrics, "machine": machine(), "when": when}, indent=2))
    print(f"wrote {path}")
    return path
