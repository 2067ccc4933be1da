"""Serving the app with uvicorn."""

from __future__ import annotations

import errno
import socket
from types import FrameType

import uvicorn
from fastapi import FastAPI

from deskhand.errors import UsageError


class _Server(uvicorn.Server):
    """uvicorn, except that a stop asked for with Ctrl-C or SIGTERM ends with exit status 0
    after the graceful shutdown (uvicorn re-raises the signal, which a service manager or a
    script then reports as a crash)."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()


def check_port(host: str, port: int) -> None:
    """A UsageError when ``host:port`` cannot be listened on (another server has it, or the
    address is not this machine's), said before anything claims to be serving there."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            taken = error.errno == errno.EADDRINUSE
            raise UsageError(
                f"Cannot serve at {host}:{port}: "
                + (
                    "another program is already listening there." if taken else f"{error.strerror}."
                ),
                hint=f"Stop the other server, or choose another port: --port {port + 1}."
                if taken
                else "Use an address of this machine with --host (127.0.0.1 or 0.0.0.0).",
            ) from None


def run_server(app: FastAPI, host: str, port: int) -> None:
    """Serve ``app`` until stopped. uvicorn's own proxy-header handling is off (it would believe
    X-Forwarded-For from any local peer): the app applies it for the proxies it is given."""
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", proxy_headers=False)
    _Server(config).run()
