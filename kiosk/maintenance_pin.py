"""The technician's maintenance PIN: stored only as a salted PBKDF2 hash, tried a few times.

``hash_pin(pin)`` makes the value for ``[maintenance] pin_hash``::

    .venv/bin/python -c "from kiosk.maintenance_pin import hash_pin; print(hash_pin('24681357'))"

``PinGuard`` checks a PIN typed on the kiosk against it: after ``max_tries`` wrong PINs in a
row it refuses everything for ``lockout_s`` (a stolen kiosk's keypad cannot be tried
through), then allows ``max_tries`` again. The count lives in memory: a restart takes
longer than a lockout's worth of tries would gain. No PIN, hash or attempt is ever logged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

ITERATIONS = 200_000


def hash_pin(pin: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def pin_matches(pin: str, stored: str) -> bool:
    """True when ``pin`` hashes to ``stored``; False for an empty or malformed ``stored``."""
    try:
        scheme, iterations, salt, expected = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), expected)


@dataclass(frozen=True)
class PinVerdict:
    """``ok``; else ``tries_left`` before the lockout, or ``locked_for_s`` while locked out."""

    ok: bool
    tries_left: int = 0
    locked_for_s: float = 0.0
    no_pin: bool = False  # no PIN is set in the settings: maintenance cannot be opened this way


class PinGuard:
    def __init__(self, stored: str, max_tries: int, lockout_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stored = stored
        self.max_tries = max_tries
        self.lockout_s = lockout_s
        self.clock = clock
        self.failures = 0
        self.locked_until = 0.0

    def check(self, pin: str) -> PinVerdict:
        if not self.stored:
            return PinVerdict(False, no_pin=True)
        now = self.clock()
        if now < self.locked_until:
            return PinVerdict(False, locked_for_s=self.locked_until - now)
        if pin_matches(pin, self.stored):
            self.failures = 0
            log.info("maintenance opened")
            return PinVerdict(True)
        self.failures += 1
        if self.failures >= self.max_tries:
            self.failures = 0
            self.locked_until = now + self.lockout_s
            log.warning("maintenance PIN: locked out for %.0f s after %d wrong tries", self.lockout_s,
                        self.max_tries)
            return PinVerdict(False, locked_for_s=self.lockout_s)
        return PinVerdict(False, tries_left=self.max_tries - self.failures)
