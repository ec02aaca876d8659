"""Runs every tests/bench/bench_*.py in turn (``make bench``); ``--quick`` is passed on.

Each benchmark prints a table and writes var/bench/<name>.json:
{"metrics": {name: number}, "machine": ..., "when": ...}.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if not scripts:
        print("No benchmarks yet: add tests/bench/bench_<name>.py.")
        return 0
    failed = []
    for script in scripts:
        print(f"== {script.stem}", flush=True)
        command = [sys.executable, "-m", f"tests.bench.{script.stem}", *argv]
        if subprocess.run(command, cwd=ROOT, check=False).returncode:
            failed.append(script.stem)
    if failed:
        print(f"Failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
