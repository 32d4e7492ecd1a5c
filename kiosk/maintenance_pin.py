"""The technician's maintenance PIN: stored only as a salted PBKDF2 hash, tried a few times.

``hash_pin(pin)`` makes the value for ``[maintenance] pin_hash``::

    .venv/bin/python -c "from kiosk.maintenance_pin import hash_pin; print(hash_pin('24681357'))"

``PinGuard`` checks a PIN typed on the kiosk against it: after ``max_tries`` wrong PINs in a
row it refuses everything for ``lockout_s`` (a stolen kiosk's keypad cannot be tried
through), then allows ``max_tries`` again. The count and the lockout are kept in a small file
(``state_path``) so that pulling the plug does not give a new round of tries; the clock is
the wall clock for that reason, and a lockout that a clock set back would stretch is cut
to ``lockout_s``. The file holds two numbers, nothing of the PIN. No PIN, hash or attempt
is ever logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ITERATIONS = 200_000
PIN_STATE_FILE = "maintenance-pin.json"  # in the data directory: tries and lockout, no PIN


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
                 clock: Callable[[], float] = time.time, state_path: Path | None = None) -> None:
        self.stored = stored
        self.max_tries = max_tries
        self.lockout_s = lockout_s
        self.clock = clock
        self.state_path = state_path
        self.failures = 0
        self.locked_until = 0.0
        self._load()

    def _load(self) -> None:
        if self.state_path is None:
            return
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
            failures, until = int(state["failures"]), float(state["locked_until"])
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError):
            # A damaged file must not open the door: count it as a lockout just begun.
            log.warning("maintenance PIN: unreadable lockout file; locked out for %.0f s", self.lockout_s)
            failures, until = 0, self.clock() + self.lockout_s
        self.failures = max(0, min(failures, self.max_tries))
        self.locked_until = min(until, self.clock() + self.lockout_s)  # a clock set back stretches nothing

    def _save(self) -> None:
        if self.state_path is None:
            return
        tmp = self.state_path.with_name(f".{self.state_path.name}.{secrets.token_hex(4)}")
        try:
            tmp.write_text(json.dumps({"failures": self.failures, "locked_until": self.locked_until}),
                           encoding="utf-8")
            os.replace(tmp, self.state_path)
        except OSError as exc:  # a full disk: the lockout still holds in memory
            tmp.unlink(missing_ok=True)
            log.warning("maintenance PIN: cannot keep the lockout on disk: %s", exc.strerror)

    def check(self, pin: str) -> PinVerdict:
        if not self.stored:
            return PinVerdict(False, no_pin=True)
        now = self.clock()
        if now < self.locked_until:
            return PinVerdict(False, locked_for_s=self.locked_until - now)
        if pin_matches(pin, self.stored):
            if self.failures:
                self.failures = 0
                self._save()
            log.info("maintenance opened")
            return PinVerdict(True)
        self.failures += 1
        if self.failures >= self.max_tries:
            self.failures = 0
            self.locked_until = now + self.lockout_s
            self._save()
            log.warning("maintenance PIN: locked out for %.0f s after %d wrong tries", self.lockout_s,
                        self.max_tries)
            return PinVerdict(False, locked_for_s=self.lockout_s)
        self._save()
        return PinVerdict(False, tries_left=self.max_tries - self.failures)
