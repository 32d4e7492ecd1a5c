"""The offline queue's errors: one tree, rooted at ``QueueError``.

Every class carries ``message_key`` (a key in ``config/translations/<lang>/LC_MESSAGES/queue.po``;
the UI shows ``translator.t(exc.message_key)``, never ``str(exc)``) and ``code`` (a
stable snake_case word for reports and logs). Hall errors also say whether they are
``transient`` (retry later with backoff) or not. Third-party errors (``requests``,
``sqlite3``, ``OSError``) are translated where they happen, with ``raise … from exc``.

    QueueError                       queue.error
    ├── QueueFull                    queue.full            the size budget would be exceeded
    │   └── DiskFull                 queue.disk_full       the disk is (nearly) full; also a StorageError
    ├── DuplicateEntry               queue.duplicate       this application is already queued
    ├── StorageError                 queue.storage_error   SQLite or the blob folder failed
    │   └── BlobCorrupt              queue.blob_corrupt    a blob's bytes no longer match its name
    ├── NotEnrolled                  queue.not_enrolled    no identity.json in the data directory
    ├── EnrolmentFailed              queue.enrolment_failed  the hall refused the code / odd answer
    ├── InsecureHallUrl              queue.insecure_hall_url plain http:// to a host that is not loopback
    └── HallError                    queue.hall_error      anything the hall exchange went wrong on
        ├── HallUnreachable   (transient)  connection refused, DNS, timeouts
        │   └── AnswerUnverified (transient) the answer lacks the pinned hall key's signature:
        │                                    nothing in it is applied (maybe a fake hall)
        ├── HallBusy          (transient)  429 (honours Retry-After) and 5xx
        ├── HallGarbage       (transient)  an answer that does not parse or has the wrong shape
        ├── HallAuthRefused   (transient)  401 twice in a row: clock off or device unknown
        ├── UploadLost        (transient)  404 on an upload: start that upload again
        ├── OffsetMismatch    (transient)  409 offset_mismatch: ask the offset and resume
        ├── AttachmentMissing (transient)  409 missing_attachment: upload it, post again
        ├── HallRejected      (permanent)  413, 422 and other 4xx: the item goes to ``failed``
        └── DeviceRevoked     (permanent)  403 device_revoked: stop syncing, tell the grid worker
"""

from __future__ import annotations


class QueueError(Exception):
    """Root of every error the offline queue raises."""

    message_key = "queue.error"
    code = "queue_error"


class QueueFull(QueueError):
    message_key = "queue.full"
    code = "queue_full"


class DuplicateEntry(QueueError):
    message_key = "queue.duplicate"
    code = "duplicate_entry"


class StorageError(QueueError):
    message_key = "queue.storage_error"
    code = "storage_error"


class BlobCorrupt(StorageError):
    message_key = "queue.blob_corrupt"
    code = "blob_corrupt"


class DiskFull(QueueFull, StorageError):
    """The filesystem refused a write (ENOSPC, SQLITE_FULL) or has too little room left.

    Nothing already queued is lost: the write that failed is rolled back whole.
    """

    message_key = "queue.disk_full"
    code = "disk_full"


class NotEnrolled(QueueError):
    message_key = "queue.not_enrolled"
    code = "not_enrolled"


class EnrolmentFailed(QueueError):
    message_key = "queue.enrolment_failed"
    code = "enrolment_failed"

    def __init__(self, message: str, code: str = "enrolment_failed") -> None:
        super().__init__(message)
        self.code = code


class InsecureHallUrl(QueueError):
    """The hall's address is plain ``http://`` to a host other than this machine."""

    message_key = "queue.insecure_hall_url"
    code = "insecure_hall_url"


class HallError(QueueError):
    """Something went wrong talking to the county hall."""

    message_key = "queue.hall_error"
    code = "hall_error"
    transient = True


class HallUnreachable(HallError):
    message_key = "queue.hall_unreachable"
    code = "hall_unreachable"


class AnswerUnverified(HallUnreachable):
    """An answer whose ``X-Hall-Signature`` does not verify: treated as if it never came."""

    code = "answer_unverified"


class HallBusy(HallError):
    message_key = "queue.hall_busy"
    code = "hall_busy"

    def __init__(self, message: str, retry_after: float | None = None, status: int = 0) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class HallGarbage(HallError):
    message_key = "queue.hall_garbage"
    code = "hall_garbage"


class HallAuthRefused(HallError):
    message_key = "queue.device_attention"
    code = "auth_refused"

    def __init__(self, message: str, code: str = "auth_refused") -> None:
        super().__init__(message)
        self.code = code


class UploadLost(HallError):
    message_key = "queue.hall_error"
    code = "upload_lost"


class OffsetMismatch(HallError):
    message_key = "queue.hall_error"
    code = "offset_mismatch"


class AttachmentMissing(HallError):
    message_key = "queue.hall_error"
    code = "missing_attachment"

    def __init__(self, message: str, sha256: str) -> None:
        super().__init__(message)
        self.sha256 = sha256


class HallRejected(HallError):
    """A permanent refusal: the item goes to ``failed`` with the hall's reason."""

    message_key = "queue.hall_rejected"
    transient = False

    def __init__(self, code: str, detail: str = "", status: int = 0) -> None:
        super().__init__(f"{status} {code}: {detail}" if status else f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.status = status


class DeviceRevoked(HallError):
    message_key = "queue.device_revoked"
    code = "device_revoked"
    transient = False
