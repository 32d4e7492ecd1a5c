"""Console users (county staff): passwords, and the session version that ends sessions.

A console session cookie carries the user's ``session_version``; every request checks it
against the database (``hall/console/auth.py``). Logging out or setting a new password
adds one to it, so every cookie issued before stops working at once, in every hall
process.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hall.core.passwords import hash_password, verify_password
from hall.errors import InvalidRequest
from hall.models import ConsoleUser
from hall.services.roles import CLERK, COUNTY_ADMIN, ROLES
from hall.timeutil import Clock, system_clock, to_datetime

MIN_PASSWORD = 10
_DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA"
MAX_PASSWORD = 200
# The most common passwords of 10 characters or more (lists of leaked passwords, Chinese
# ones included); shorter ones are refused by length already. Compared case-insensitively.
COMMON_PASSWORDS = frozenset({
    "0123456789", "1234567890", "12345678910", "123456789a", "a123456789", "1234567890a",
    "0987654321", "9876543210", "1111111111", "0000000000", "1234512345", "1q2w3e4r5t",
    "1q2w3e4r5t6y", "1qaz2wsx3edc", "qwertyuiop", "qwertyuiop123", "qwerty1234", "qwerty12345",
    "qwerty123456", "asdfghjkl1", "asdfghjkl;", "zxcvbnm123", "zxcvbnmasd", "qazwsxedc123",
    "qweasdzxc123", "password12", "password123", "password1234", "passw0rd123", "p@ssw0rd123",
    "p@ssword123", "administrator", "admin12345", "admin123456", "admin@1234", "abc1234567",
    "abcd123456", "abcdefghij", "aa12345678", "iloveyou12", "iloveyou123", "welcome123",
    "changeme123", "letmein123", "woaini1314", "woaini520", "5201314520", "520131400",
    "1314520520", "woaiwojia123", "zhang123456", "wang1234567", "qq123456789", "aini1314520",
    "county-hall", "countyhall1", "console123", "console1234",
})


def check_password(password: str, username: str = "") -> None:
    """Raise InvalidRequest, with a plain reason, for a password the hall will not take."""
    if len(password) < MIN_PASSWORD:
        raise InvalidRequest(f"password must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidRequest(f"password must be at most {MAX_PASSWORD} characters")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(lowered)) < 4:
        raise InvalidRequest("password is too common; choose a longer phrase")
    if username and username.strip().lower() in lowered:
        raise InvalidRequest("password must not contain the username")


def check_role(role: str, county: str, department: str, departments: Collection[str]) -> None:
    """Raise InvalidRequest unless the role exists, the county is six digits and a clerk
    (only a clerk) names a known department."""
    if role not in ROLES:
        raise InvalidRequest(f"role must be one of {', '.join(ROLES)}")
    if not re.fullmatch(r"[0-9]{6}", county):
        raise InvalidRequest("county must be a six-digit division code")
    if role == CLERK and department not in departments:
        raise InvalidRequest("a clerk needs a department: one of " + ", ".join(sorted(departments)))
    if role != CLERK and department:
        raise InvalidRequest("only a clerk belongs to a department")


def create_user(db: Session, username: str, password: str, clock: Clock = system_clock, *,
                role: str | None = None, county: str | None = None, department: str | None = None,
                departments: Collection[str] = ()) -> ConsoleUser:
    """Create a user, or set a new password (which ends every session of that user).

    A new user is a county admin of ``county`` unless ``role`` says otherwise; for an
    existing one, only the arguments given change."""
    username = username.strip()
    if not username or len(username) > 100:
        raise InvalidRequest("username must be 1 to 100 characters")
    check_password(password, username)
    user = find_user(db, username)
    if user is None:
        user = ConsoleUser(username=username, created_at=to_datetime(clock()), session_version=1,
                           role=COUNTY_ADMIN, county=county or "", department="")
        db.add(user)
    else:
        user.session_version = (user.session_version or 1) + 1
    new_role = role or user.role
    new_county = county or user.county
    new_department = department if department is not None else (user.department if new_role == CLERK else "")
    check_role(new_role, new_county, new_department, departments)
    user.role, user.county, user.department = new_role, new_county, new_department
    user.password_hash = hash_password(password)
    db.commit()
    return user


def find_user(db: Session, username: str) -> ConsoleUser | None:
    return db.scalar(select(ConsoleUser).where(ConsoleUser.username == username))


def list_users(db: Session, county: str | None = None) -> list[ConsoleUser]:
    query = select(ConsoleUser).order_by(ConsoleUser.county, ConsoleUser.username)
    if county is not None:
        query = query.where(ConsoleUser.county == county)
    return list(db.scalars(query))


def check_login(db: Session, username: str, password: str) -> ConsoleUser | None:
    user = db.scalar(select(ConsoleUser).where(ConsoleUser.username == username.strip()))
    if user is None or len(password) > MAX_PASSWORD:
        verify_password(password[:MAX_PASSWORD], _DUMMY_HASH)  # the same cost as a real check
        return None
    return user if verify_password(password, user.password_hash) else None


def session_version(db: Session, username: str) -> int | None:
    """The user's current session version, or None if the user is gone."""
    return db.scalar(select(ConsoleUser.session_version).where(ConsoleUser.username == username))


def end_sessions(db: Session, username: str) -> None:
    """Logout: every cookie of this user stops working (all of the user's browsers)."""
    db.execute(update(ConsoleUser).where(ConsoleUser.username == username)
               .values(session_version=ConsoleUser.session_version + 1))
    db.commit()
