"""One HTTP request through an ASGI application, as the ASGI server would make it, without a client
library: for testing the dashboard's own middlewares (app_pages.web)."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


async def streamlit_stand_in(scope, receive, send) -> None:
    """Stands in for Streamlit's routes behind a middleware: says which path reached it."""
    body = f"streamlit {scope['path']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})


def request(app: Callable[..., Any], path: str, method: str = "GET", headers: dict[str, str] | None = None) -> Answer:
    raw_path, _, query = path.partition("?")
    scope = {"type": "http", "method": method, "path": raw_path, "query_string": query.encode(),
             "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]}
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b""}

    async def send(message: dict) -> None:
        sent.append(message)

    # on a thread of its own: a session's browser fixture may already run an event loop on this one
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()
    start, body = sent[0], b"".join(m.get("body", b"") for m in sent[1:])
    return Answer(start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body)
