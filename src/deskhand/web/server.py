"""Serving the app with uvicorn."""

from __future__ import annotations

from types import FrameType

import uvicorn
from fastapi import FastAPI


class _Server(uvicorn.Server):
    """uvicorn, except that a stop asked for with Ctrl-C or SIGTERM ends with exit status 0
    after the graceful shutdown (uvicorn re-raises the signal, which a service manager or a
    script then reports as a crash)."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()


def run_server(app: FastAPI, host: str, port: int) -> None:
    """Serve ``app`` until stopped. uvicorn's own proxy-header handling is off (it would believe
    X-Forwarded-For from any local peer): the app applies it for the proxies it is given."""
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", proxy_headers=False)
    _Server(config).run()
