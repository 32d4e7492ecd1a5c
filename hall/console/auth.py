"""Console sessions: an itsdangerous-signed cookie holding the user, a CSRF token and the
user's session version, which is checked against the database on every request (logout
and a password reset end the session everywhere).

The login form has its own CSRF token (double submit: the same signed token in a cookie
and in the form), so that no other site can log a clerk's browser into an account of its
choosing. Cookies are ``HttpOnly``, ``SameSite=Strict``, limited to ``/console``, and
``Secure`` when the hall is reached over https (or ``Settings.secure_cookies`` is set).
"""

from __future__ import annotations

import dataclasses
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from hall.api.deps import DbDep
from hall.services.roles import CLERK, Scope
from hall.services.users import find_user

COOKIE = "hall_console"
LOGIN_COOKIE = "hall_console_login"
MAX_AGE_S = 12 * 3600
LOGIN_FORM_MAX_AGE_S = 3600


class LoginRequired(Exception):
    """No valid console session: the handler redirects to the login page."""


@dataclass(frozen=True)
class ConsoleSession:
    username: str
    csrf: str
    version: int
    # Filled from the user's row on every request (current_session): role changes apply at once.
    scope: Scope = Scope(username="", role="", county="")

    def check_csrf(self, token: str) -> None:
        if not hmac.compare_digest(self.csrf, token or ""):
            raise LoginRequired()


def serializer(secret: bytes) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="hall-console-session")


def make_cookie(secret: bytes, username: str, version: int) -> str:
    return serializer(secret).dumps({"u": username, "c": secrets.token_urlsafe(24), "v": version})


def read_cookie(secret: bytes, value: str | None) -> ConsoleSession | None:
    if not value:
        return None
    try:
        data = serializer(secret).loads(value, max_age=MAX_AGE_S)
        return ConsoleSession(username=str(data["u"]), csrf=str(data["c"]), version=int(data["v"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def current_session(request: Request, db: DbDep) -> ConsoleSession:
    session = read_cookie(request.app.state.console_secret, request.cookies.get(COOKIE))
    user = find_user(db, session.username) if session is not None else None
    if session is None or user is None or user.session_version != session.version:
        raise LoginRequired()
    codes = tuple(request.app.state.catalog.codes_of(user.department)) if user.role == CLERK else ()
    scope = Scope(username=user.username, role=user.role, county=user.county,
                  department=user.department, item_codes=codes)
    return dataclasses.replace(session, scope=scope)


SessionDep = Annotated[ConsoleSession, Depends(current_session)]


# -- the login form's CSRF token --------------------------------------------------------


def _login_serializer(secret: bytes) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="hall-console-login-form")


def new_login_token(secret: bytes) -> str:
    return _login_serializer(secret).dumps(secrets.token_urlsafe(16))


def login_token_ok(secret: bytes, cookie: str | None, form: str) -> bool:
    """The form's token equals the cookie's, and it is one this hall signed, recently."""
    if not cookie or not form or not hmac.compare_digest(cookie, form):
        return False
    try:
        _login_serializer(secret).loads(form, max_age=LOGIN_FORM_MAX_AGE_S)
    except BadSignature:
        return False
    return True


def wants_secure_cookies(request: Request) -> bool:
    return request.url.scheme == "https" or bool(getattr(request.app.state.settings, "secure_cookies", False))


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="strict", path="/console",
                        secure=wants_secure_cookies(request))
