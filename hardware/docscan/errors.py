"""The scanning errors: a branch of ``hardware.errors.HardwareError``.

::

    HardwareError
    └── ScanError                 message_key "scan.failed"        a page could not be made
        ├── BadImage              "scan.bad_image"    not a picture: corrupt, empty, zero-size
        ├── NoPage                "scan.no_page"      no page found where one was needed
        └── EncodeFailed          "scan.encode_failed" the page could not be compressed

Messages (``str(exc)``) are for engineers and never name a file (a name can carry a
person's name); the UI and the CLIs show ``t(exc.message_key)``.
"""

from __future__ import annotations

from hardware.errors import HardwareError


class ScanError(HardwareError):
    """A page could not be detected, straightened or compressed."""

    message_key = "scan.failed"


class BadImage(ScanError, ValueError):
    """The input is not a usable picture (corrupt file, not an image, zero-size frame)."""

    message_key = "scan.bad_image"


class NoPage(ScanError):
    """No page was found in a picture where one was needed."""

    message_key = "scan.no_page"


class EncodeFailed(ScanError):
    """The page could not be encoded as JPEG or WebP."""

    message_key = "scan.encode_failed"
