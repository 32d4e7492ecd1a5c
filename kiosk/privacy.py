"""Keeping personal data out of logs, and the applicant tag.

``PersonalDataFilter`` is the last line of defence: code should never log personal data,
but if it does, every record passing a handler that carries this filter has its final
message (the message with its args filled in), its traceback and its stack text masked:

* resident ID numbers, 18 (last may be X) or 15 digits → ``44**************1X``,
* mainland mobile numbers ``1[3-9]`` + 9 digits (optionally +86) → ``138****5678``,
* landlines with an area code (``020-12345678``, ``0753 2212345``) → ``020-****5678``,
* names the session registered with ``register_name`` → ``**``.

After filtering, ``record.args`` is empty and ``record.msg`` is the masked text.
Registered names live only as long as the session: ``Session.wipe`` calls
``forget_names``. Filters are tracked in a weak set, so a filter that is dropped is
forgotten too.

``setup_logging`` sets up a rotating file log under ``<data_dir>/logs`` (and stderr) with
the filter on every handler. ``applicant_tag`` is the HMAC-SHA256 of an ID number under
a random key kept in ``<data_dir>/tag.key`` (mode 0600), so an applicant's queued
applications can be found again without the number being stored.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import logging.handlers
import os
import re
import secrets
import sys
import threading
import weakref
from pathlib import Path

from kiosk.errors import ConfigError
from kiosk.idnumber import mask_id_number, normalize_id_number

TAG_KEY_FILE = "tag.key"
TAG_KEY_BYTES = 32
LOG_FILE = "kiosk.log"

_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9A-Za-z])(?:(?:\+|00)?86[- ]?)?(1[3-9]\d)(\d{4})(\d{4})(?![0-9A-Za-z])")
_LANDLINE = re.compile(
    r"(?<![0-9A-Za-z-])(0(?:10|2\d|[3-9]\d{2}))([- ]?)([2-9]\d{2,3})(\d{4})(?![0-9A-Za-z])"
)
NAME_MASK = "**"

_filters: weakref.WeakSet[PersonalDataFilter] = weakref.WeakSet()
_filters_lock = threading.Lock()


def mask_text(text: str, names: frozenset[str] | set[str] = frozenset()) -> str:
    """``text`` with ID numbers, phone numbers and the given names masked."""
    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group()), text)
    text = _MOBILE.sub(lambda m: f"{m[1]}****{m[3]}", text)
    text = _LANDLINE.sub(lambda m: f"{m[1]}{m[2]}{'*' * len(m[3])}{m[4]}", text)
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, NAME_MASK)
    return text


class PersonalDataFilter(logging.Filter):
    """Masks personal data in every record it sees; never drops a record."""

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        self._names: set[str] = set()
        self._lock = threading.Lock()
        with _filters_lock:
            _filters.add(self)

    def register_name(self, name: str) -> None:
        name = name.strip()
        if len(name) >= 2:  # a one-character "name" would mask ordinary words
            with self._lock:
                self._names.add(name)

    def forget_names(self) -> None:
        with self._lock:
            self._names.clear()

    def mask(self, text: str) -> str:
        with self._lock:
            names = frozenset(self._names)
        return mask_text(text, names)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the raw parts, masked
            message = f"{record.msg} {record.args!r}"
        record.msg = self.mask(message)
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True


def register_name(name: str) -> None:
    """Tell every live filter to mask ``name`` (called when a card is read)."""
    with _filters_lock:
        live = list(_filters)
    for f in live:
        f.register_name(name)


def forget_names() -> None:
    """Drop every registered name (called when a session is wiped)."""
    with _filters_lock:
        live = list(_filters)
    for f in live:
        f.forget_names()


def install_filter(logger: logging.Logger | None = None,
                   data_filter: PersonalDataFilter | None = None) -> PersonalDataFilter:
    """Put one filter on every handler of ``logger`` (the root logger by default)."""
    logger = logger or logging.getLogger()
    data_filter = data_filter or PersonalDataFilter()
    for handler in logger.handlers:
        if not any(isinstance(f, PersonalDataFilter) for f in handler.filters):
            handler.addFilter(data_filter)
    return data_filter


def setup_logging(data_dir: Path, level: int | str = logging.INFO, *, console: bool = True,
                  max_bytes: int = 1_000_000, backups: int = 5) -> PersonalDataFilter:
    """Log to ``<data_dir>/logs/kiosk.log`` (rotating) and stderr, masked; idempotent."""
    log_dir = Path(data_dir) / "logs"
    log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_kiosk_handler", False):
            root.removeHandler(handler)
            handler.close()
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [
        logging.handlers.RotatingFileHandler(
            log_dir / LOG_FILE, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
    ]
    if console:
        # the real stderr: Kivy swaps sys.stderr for a stream that logs, which would loop
        handlers.append(logging.StreamHandler(sys.__stderr__))
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.setLevel(level)  # Kivy lowers the root level to DEBUG; our handlers keep theirs
        handler._kiosk_handler = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    return install_filter(root)


# --- the applicant tag ------------------------------------------------------------------


def load_tag_key(data_dir: Path) -> bytes:
    """The 32-byte tag key in ``<data_dir>/tag.key``, created (mode 0600) on first use."""
    path = Path(data_dir) / TAG_KEY_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            key = path.read_bytes()
        else:
            key = secrets.token_bytes(TAG_KEY_BYTES)
            with os.fdopen(fd, "wb") as fh:
                fh.write(key)
                fh.flush()
                os.fsync(fh.fileno())
    except OSError as exc:
        raise ConfigError(str(path), f"cannot use the tag key: {exc.strerror}") from exc
    if len(key) != TAG_KEY_BYTES:
        raise ConfigError(str(path), f"the tag key must be {TAG_KEY_BYTES} bytes")
    return key


def applicant_tag(id_number: str, data_dir: Path) -> str:
    """Hex HMAC-SHA256 of the normalized ID number under this kiosk's tag key."""
    key = load_tag_key(data_dir)
    return hmac.new(key, normalize_id_number(id_number).encode("ascii"), hashlib.sha256).hexdigest()
