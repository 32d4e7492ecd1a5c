"""Errors of the reference county sub-hall.

Every error the API answers with becomes ``{"error": code, "detail": detail}`` with
the class's HTTP status (see ``docs/protocol.md``)::

    HallError                      (400, any code)
    ├── InvalidRequest             422 invalid_request
    ├── InvalidCode                400 invalid_code
    ├── AuthFailed                 401 bad_signature (also for an unknown device) | stale_timestamp
    │                                  | replayed_nonce
    ├── DeviceRevoked              403 device_revoked
    ├── Forbidden                  403 forbidden (a console role that may not see the page)
    ├── NotFound                   404 not_found | upload_not_found | application_not_found
    ├── Conflict                   409 offset_mismatch | missing_attachment | rating_conflict
    ├── TooLarge                   413 too_large
    └── Unprocessable              422 hash_mismatch | idempotency_conflict | unreadable_document
                                       | invalid_status

``detail`` never carries personal data: only ids, hashes and plain reasons.
"""

from __future__ import annotations


class HallError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, detail: str = "", code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code


class InvalidRequest(HallError):
    status = 422
    code = "invalid_request"


class InvalidCode(HallError):
    status = 400
    code = "invalid_code"


class AuthFailed(HallError):
    status = 401
    code = "bad_signature"


class DeviceRevoked(HallError):
    status = 403
    code = "device_revoked"


class Forbidden(HallError):
    status = 403
    code = "forbidden"


class NotFound(HallError):
    status = 404
    code = "not_found"


class Conflict(HallError):
    status = 409
    code = "conflict"


class TooLarge(HallError):
    status = 413
    code = "too_large"


class Unprocessable(HallError):
    status = 422
    code = "unprocessable"
