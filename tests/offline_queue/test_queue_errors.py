"""One error tree; every error has a translated message in both languages."""

import inspect
from pathlib import Path

import pytest

from kiosk.i18n import read_catalog
from offline_queue import errors

ROOT = Path(__file__).resolve().parents[2]
CLASSES = [c for c in vars(errors).values() if inspect.isclass(c) and issubclass(c, errors.QueueError)]


def test_tree_shape():
    for cls in CLASSES:
        assert issubclass(cls, errors.QueueError)
    hall = [c for c in CLASSES if issubclass(c, errors.HallError)]
    assert {c.__name__ for c in hall} >= {
        "HallError",
        "HallUnreachable",
        "HallRejected",
        "HallBusy",
        "HallGarbage",
        "DeviceRevoked",
    }
    assert errors.HallRejected.transient is False
    assert errors.DeviceRevoked.transient is False
    assert errors.HallUnreachable.transient and errors.HallBusy.transient and errors.HallGarbage.transient
    assert errors.NotEnrolled.message_key == "queue.not_enrolled"
    assert errors.EnrolmentFailed.message_key == "queue.enrolment_failed"
    assert errors.QueueFull.message_key == "queue.full"


def test_every_class_is_drawn_in_the_docstring():
    for cls in CLASSES:
        assert cls.__name__ in errors.__doc__


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_message_key_is_translated(lang):
    table = read_catalog(ROOT / "config" / "translations" / lang / "LC_MESSAGES" / "queue.po")
    assert all(isinstance(v, str) and v for v in table.values())
    missing = {c.message_key for c in CLASSES} - set(table)
    assert not missing


def test_rejected_carries_code_and_detail():
    exc = errors.HallRejected("too_large", "20 MB", 413)
    assert (exc.code, exc.detail, exc.status) == ("too_large", "20 MB", 413)
    assert errors.HallBusy("busy", retry_after=7).retry_after == 7
