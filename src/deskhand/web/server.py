"""Serving the app with uvicorn."""

from __future__ import annotations

import errno
import gc
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
    settle_heap()
    _Server(config).run()


def settle_heap() -> None:
    """Move what start-up built (modules, the app, templates: some 300,000 objects) out of the
    garbage collector's reach. Otherwise every full collection walks all of them again, and one
    request in twenty takes two to three times as long (``bench/web.py`` saw 200-260 ms beside a
    75 ms median on the plan queue); what requests allocate is still collected as before."""
    gc.collect()
    gc.freeze()
