"""A plain page, not JSON, when a console user opens something out of their scope (404)
or a page their role does not have (403): the same status the tests and scripts see,
words a clerk can read, and a way back. The API keeps its ``{"error", "detail"}`` answers."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from hall.console.routes import TEMPLATES
from hall.console.security_headers import add_security_headers
from hall.errors import HallError

WORDS = {
    403: ("没有权限", "Your role does not allow this page."),
    404: ("找不到", "There is nothing here, or it is not yours to see."),
}


def install_console_error_page(app: FastAPI) -> None:
    api_handler = app.exception_handlers[HallError]

    async def handler(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status", 500)
        if request.url.path.startswith("/console/") and status in WORDS:
            page = TEMPLATES.TemplateResponse(request, "error.html",
                                              {"session": None, "words": WORDS[status]}, status_code=status)
            return add_security_headers(page)
        return await api_handler(request, exc)

    app.add_exception_handler(HallError, handler)
