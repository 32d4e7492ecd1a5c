"""Kiosk services a test made, closed after it (the autouse fixture in tests/conftest.py).

A test that forgets ``service.close()`` left the service's worker threads running into the
tests after it; one of them (the take-your-card reminder) logged at the end of a run into a
stream pytest had already closed. ``close()`` may be called again: a test's own call stands."""

from __future__ import annotations

from typing import Any

_open: list[Any] = []


def opened(service: Any) -> Any:
    """``service``, to be closed after the test that made it."""
    _open.append(service)
    return service


def close_all() -> None:
    while _open:
        _open.pop().close()
