"""What the ASGI middlewares in app_pages/web share: ASGI's types, where a path sits under
Streamlit's `server.baseUrlPath`, and answering a request with a body (HEAD gets the headers alone)."""
from __future__ import annotations

from typing import Any, Awaitable, Callable

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


def under(base_url_path: str, path: str) -> str:
    """`path` as the browser asks for it: '/<path>', or '/<base>/<path>' under a base URL path."""
    base = base_url_path.strip("/")
    return f"/{base}/{path}" if base else f"/{path}"


async def send_body(scope: Scope, send: Send, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    """A 200 response with `headers`, its Content-Length, and the body unless the request is HEAD."""
    await send({"type": "http.response.start", "status": 200,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
