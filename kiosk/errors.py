"""The kiosk core's errors, one tree with one root.

::

    KioskError                      message_key "kiosk.error"
    ├── ConfigError(key, reason)    "kiosk.config_error"       a setting or data file is wrong
    ├── UnknownService(code)        "kiosk.unknown_service"    no such item in the catalog
    ├── InvalidIdNumber(reason)     "kiosk.invalid_id_number"  not a well-formed ID number
    ├── ApplicationInvalid(errors)  "kiosk.application_invalid" form or materials incomplete
    ├── ApplicationTooLarge(size, limit) "kiosk.application_too_large" over the protocol's JSON limit
    └── SessionError                "kiosk.session_error"
        └── NoActiveSession         "kiosk.no_active_session"  nobody is being served

Every error carries ``message_key``, a key in ``config/translations/<lang>/LC_MESSAGES/core.po``; the
UI shows ``translator.t(exc.message_key)`` and never ``str(exc)``. ``str(exc)`` is for
logs and engineers and never holds personal data.
"""

from __future__ import annotations

from collections.abc import Mapping


class KioskError(Exception):
    """Root of every error raised by the kiosk core."""

    message_key = "kiosk.error"


class ConfigError(KioskError):
    """A setting (or a data file such as the catalog) is missing, unknown or of the wrong type.

    ``key`` is the dotted key (``devices.camera.driver``) or a file name with a key.
    """

    message_key = "kiosk.config_error"

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"{key}: {reason}")


class UnknownService(KioskError):
    """The catalog has no service item with this code."""

    message_key = "kiosk.unknown_service"

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"unknown service item {code!r}")


class InvalidIdNumber(KioskError):
    """The text is not a well-formed resident ID number. The message never holds the number."""

    message_key = "kiosk.invalid_id_number"

    def __init__(self, reason: str = "invalid ID number") -> None:
        self.reason = reason
        super().__init__(reason)


class ApplicationInvalid(KioskError):
    """The application cannot be built: ``errors`` maps a field or material id to a message key."""

    message_key = "kiosk.application_invalid"

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("application invalid: " + ", ".join(f"{k}={v}" for k, v in self.errors.items()))


class ApplicationTooLarge(KioskError):
    """The request that would carry the sealed application exceeds the protocol's JSON limit.

    The hall would refuse it (413) after it sat in the queue; it is refused before queueing.
    """

    message_key = "kiosk.application_too_large"

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(f"the application request would be {size} bytes, the limit is {limit}")


class SessionError(KioskError):
    """Something is wrong with the applicant's session."""

    message_key = "kiosk.session_error"


class NoActiveSession(SessionError):
    """An operation needs a session but nobody is being served."""

    message_key = "kiosk.no_active_session"
