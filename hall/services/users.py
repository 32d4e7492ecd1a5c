"""Console users (county staff)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.core.passwords import hash_password, verify_password
from hall.errors import InvalidRequest
from hall.models import ConsoleUser
from hall.timeutil import Clock, system_clock, to_datetime

MIN_PASSWORD = 4  # `kiosk demo` uses admin/demo; a real deployment sets long passwords


def create_user(db: Session, username: str, password: str, clock: Clock = system_clock) -> ConsoleUser:
    username = username.strip()
    if not username or len(username) > 100:
        raise InvalidRequest("username must be 1 to 100 characters")
    if len(password) < MIN_PASSWORD:
        raise InvalidRequest(f"password must be at least {MIN_PASSWORD} characters")
    user = db.scalar(select(ConsoleUser).where(ConsoleUser.username == username))
    if user is None:
        user = ConsoleUser(username=username, created_at=to_datetime(clock()))
        db.add(user)
    user.password_hash = hash_password(password)
    db.commit()
    return user


def check_login(db: Session, username: str, password: str) -> ConsoleUser | None:
    user = db.scalar(select(ConsoleUser).where(ConsoleUser.username == username.strip()))
    if user is None:
        verify_password(password, "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA")  # same cost
        return None
    return user if verify_password(password, user.password_hash) else None
