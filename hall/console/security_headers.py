"""Security headers on every page the console and ``/track`` answer with.

A route class rather than an app middleware so that the console's routers carry their
own headers (``APIRouter(route_class=ConsoleRoute)``) and the API's JSON answers stay as
the protocol describes them.

The policy allows no script at all (the console has none: it is forms and links), only
the console's own stylesheet and images, forms that post back to the hall, and no
framing. A stored script that slipped past the attachment rules would still not run.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# Attachments: not even a stylesheet; ``sandbox`` makes a document (should one ever be
# served) an opaque origin with no script, no forms and no access to the console's cookies.
ATTACHMENT_POLICY = "default-src 'none'; img-src 'self'; frame-ancestors 'none'; sandbox"

PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    # Every console page shows personal data or the fleet; /track shows a live status.
    "Cache-Control": "no-store",
}


def add_security_headers(response: Response) -> Response:
    for name, value in PAGE_HEADERS.items():
        if name == "Content-Security-Policy" and name.lower() in response.headers:
            continue  # an attachment keeps its stricter policy
        response.headers[name] = value
    return response


class ConsoleRoute(APIRoute):
    """An ``APIRoute`` whose every answer carries ``PAGE_HEADERS``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_headers(request: Request) -> Response:
            return add_security_headers(await handler(request))

        return with_headers
