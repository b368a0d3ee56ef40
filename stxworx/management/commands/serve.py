from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand

from stxworx.processes import supervise, workers_default


class Command(BaseCommand):
    help = (
        "Serve HTTP + WebSocket (uvicorn, WEB_CONCURRENCY processes) and run every background "
        "worker until stopped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))

    def handle(self, *args, host: str, port: int, **options):
        self.stdout.write(f"Serving on http://{host}:{port} (Ctrl-C stops everything)")
        indexer = settings.CHAINSYNC["ENABLED"]
        workers = workers_default(
            host, port, indexer=indexer, web_processes=settings.WEB_CONCURRENCY
        )
        code = supervise(workers)
        if code:
            raise SystemExit(code)
