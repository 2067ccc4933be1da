"""A local OpenAI-compatible server for the LLM tests: ``POST /v1/chat/completions`` answers as a
model would, by calling the output tool it was offered, and records every request. It runs with
uvicorn in a thread on a free 127.0.0.1 port; nothing leaves the machine."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class StubLlm:
    """What the stub answers (``mode``: answer, garbage, error or slow) and what it was asked."""

    url: str = ""
    mode: str = "answer"
    answer: dict[str, Any] = field(default_factory=dict)
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)

    async def completions(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.requests.append(body)
        if self.mode == "error":
            return JSONResponse({"error": {"message": "the stub is down"}}, status_code=500)
        if self.mode == "slow":
            await asyncio.sleep(self.delay)
        arguments = "{this is not json" if self.mode == "garbage" else json.dumps(self.answer)
        tool = body["tools"][0]["function"]["name"]
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": f"call_{len(self.requests)}",
                    "type": "function",
                    "function": {"name": tool, "arguments": arguments},
                }
            ],
        }
        return JSONResponse(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "tool_calls", "message": message}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
            }
        )

    def messages(self, role: str) -> list[str]:
        """The text of every message with this role, over all requests."""
        return [
            m["content"] if isinstance(m["content"], str) else json.dumps(m["content"])
            for body in self.requests
            for m in body["messages"]
            if m["role"] == role
        ]


@contextmanager
def running_stub() -> Iterator[StubLlm]:
    """A started stub; stopped (waiting for its thread) when the block ends."""
    stub = StubLlm()
    app = Starlette(routes=[Route("/v1/chat/completions", stub.completions, methods=["POST"])])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    stub.url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    started = threading.Event()
    for _ in range(500):  # at most 5 s for the server to start
        if server.started:
            started.set()
            break
        started.wait(0.01)
    assert server.started, "the stub LLM server did not start"
    try:
        yield stub
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
