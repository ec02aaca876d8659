"""Peak memory of the history's CSV export, measured in a process of its own.

Run by bench_pages.py (``python tests/bench/export_rss.py [--since YYYY-MM-DD]``, with the
bench's DATABASE_URL): it signs in a viewer, streams the export of the campaigns that went
out (since a day, or all) to nowhere and prints one JSON line: rows, bytes, the process's
peak RSS before the export (after a warm-up export of one day) and after it, in MB. A
streamed export keeps the peak where it was whatever the number of rows.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# DEBUG as the rest of the bench (production settings want real keys); its query log keeps
# at most 9,000 statements, and the export makes one per 2,000 rows.
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
sys.path.insert(0, str(ROOT))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--since", default="", help="only campaigns sent since this day")
    args = parser.parse_args()
    import django

    django.setup()
    from django.test import Client
    from django.urls import reverse

    from campaigns.models import User

    viewer = User.objects.get(username="bench-viewer")
    client = Client(HTTP_HOST="localhost")
    client.force_login(viewer)
    url = reverse("history_export")

    def export(params: dict[str, str]) -> tuple[int, int]:
        response = client.get(url, params)
        assert response.status_code == 200, response.status_code
        rows = size = 0
        for chunk in response.streaming_content:  # type: ignore[attr-defined]
            size += len(chunk)
            rows += chunk.count(b"\n")
        return rows - 1, size  # less the header

    export({"sent_from": "2999-01-01"})  # warm-up: code, templates, connection
    before = peak_mb()
    rows, size = export({"sent_from": args.since} if args.since else {})
    print(json.dumps({"rows": rows, "bytes": size, "before_mb": before, "peak_mb": peak_mb()}))


if __name__ == "__main__":
    main()
