"""manage.py sandbox: the sandbox gateway as a standalone HTTP server."""

from __future__ import annotations

import gc
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from campaigns.sandbox import control
from campaigns.sandbox.server import make_server


class Command(BaseCommand):
    help = "Serve the mPaaS and EMAS sandbox gateway on its own port, with optional faults."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=9100)
        parser.add_argument("--latency-ms", type=int, default=0)
        parser.add_argument("--error-rate", type=float, default=0.0)
        parser.add_argument("--throttle-rate", type=float, default=0.0)
        parser.add_argument("--timeout-rate", type=float, default=0.0)
        parser.add_argument("--drop-rate", type=float, default=0.0)
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args: Any, **options: Any) -> None:
        control.update(
            latency_ms=options["latency_ms"],
            error_rate=options["error_rate"],
            throttle_rate=options["throttle_rate"],
            timeout_rate=options["timeout_rate"],
            drop_rate=options["drop_rate"],
            seed=options["seed"],
        )
        server = make_server(options["host"], options["port"])
        # Everything loaded so far lives as long as the process: keep it out of the
        # collector's scans, which otherwise cost a busy gateway about a tenth of its CPU.
        gc.freeze()
        port = server.server_address[1]
        self.stdout.write(f"Sandbox gateway on http://{options['host']}:{port}/ (Ctrl-C stops it)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
