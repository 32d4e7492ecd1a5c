"""Console sessions: an itsdangerous-signed cookie, and a CSRF token inside it."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "hall_console"
MAX_AGE_S = 12 * 3600


class LoginRequired(Exception):
    """No valid console session: the handler redirects to the login page."""


@dataclass(frozen=True)
class ConsoleSession:
    username: str
    csrf: str

    def check_csrf(self, token: str) -> None:
        if not hmac.compare_digest(self.csrf, token or ""):
            raise LoginRequired()


def serializer(secret: bytes) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="hall-console-session")


def make_cookie(secret: bytes, username: str) -> str:
    return serializer(secret).dumps({"u": username, "c": secrets.token_urlsafe(24)})


def read_cookie(secret: bytes, value: str | None) -> ConsoleSession | None:
    if not value:
        return None
    try:
        data = serializer(secret).loads(value, max_age=MAX_AGE_S)
    except BadSignature:
        return None
    return ConsoleSession(username=data["u"], csrf=data["c"])


def current_session(request: Request) -> ConsoleSession:
    session = read_cookie(request.app.state.console_secret, request.cookies.get(COOKIE))
    if session is None:
        raise LoginRequired()
    return session


SessionDep = Annotated[ConsoleSession, Depends(current_session)]
