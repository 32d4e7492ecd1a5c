"""The error tree and its translations."""

import inspect
from pathlib import Path

import pytest

from hardware import errors
from kiosk.i18n import read_catalog

ROOT = Path(__file__).resolve().parents[2]
ERROR_CLASSES = [
    cls for _, cls in inspect.getmembers(errors, inspect.isclass) if issubclass(cls, errors.HardwareError)
]


def test_one_root_and_every_class_has_a_key():
    assert len(ERROR_CLASSES) >= 17
    for cls in ERROR_CLASSES:
        assert "message_key" in {k for c in cls.__mro__ for k in vars(c)}
        assert cls.message_key.startswith("hardware.")
    assert issubclass(errors.ReaderTimeout, TimeoutError)
    assert issubclass(errors.ReaderFault, errors.CardStatusError)
    assert issubclass(errors.SmartCardUnavailable, errors.ReaderNotFound)
    assert issubclass(errors.WrongPin, errors.SmartCardError)


def test_smart_card_errors_carry_their_status_word():
    exc = errors.WrongPin(2, sw=0x63C2)
    assert exc.retries_left == 2 and exc.sw == 0x63C2 and "63C2" in str(exc)
    assert errors.SmartCardError("select", sw=0x6A82).sw == 0x6A82
    assert errors.CardRemoved(status=0x80).status == 0x80


def test_the_docstring_draws_every_class():
    for cls in ERROR_CLASSES:
        assert cls.__name__ in errors.__doc__
        assert cls.message_key in errors.__doc__


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_key_is_translated(lang):
    table = read_catalog(ROOT / "config" / "translations" / lang / "LC_MESSAGES" / "hardware.po")
    assert all(isinstance(v, str) and v for v in table.values())
    assert {cls.message_key for cls in ERROR_CLASSES} == set(table)


def test_status_error_message():
    exc = errors.CardStatusError(0x41, "read card")
    assert exc.status == 0x41 and "41" in str(exc) and "read_failed" in str(exc)
