"""Form field kinds: one registry (kiosk.fields) that the catalog and the checks both use."""

from dataclasses import dataclass

import pytest

from kiosk import fields
from kiosk.catalog import FIELD_KINDS as CATALOG_KINDS
from kiosk.catalog import load_catalog
from kiosk.fields import FIELD_KINDS


@dataclass(frozen=True)
class Field:
    max_length: int | None = None
    choices: tuple[str, ...] = ()

    def choice_values(self) -> tuple[str, ...]:
        return self.choices


@pytest.mark.parametrize(
    ("kind", "good", "bad", "problem"),
    [
        ("phone", ["13800138000", "138 0013 8000", "020-83991234"], ["12345", "238001380"],
         fields.PHONE_INVALID),
        ("id_number", ["11010519491231002X"], ["110105194912310021", "abc"], fields.ID_NUMBER_INVALID),
        ("date", ["2024-02-29"], ["2023-02-29", "20240101", "2024-1-01"], fields.DATE_INVALID),
        ("number", ["12", "3.5"], ["1.", ".5", "1.2.3", "-1"], fields.NUMBER_INVALID),
        ("choice", ["a"], ["c"], fields.CHOICE_INVALID),
        ("text", ["anything at all"], [], None),
    ],
)
def test_each_kind_checks_its_values(kind, good, bad, problem):
    check = FIELD_KINDS[kind].check
    for value in good:
        assert check(value, Field(choices=("a", "b"))) is None, value
    for value in bad:
        assert check(value, Field(choices=("a", "b"))) == problem, value


def test_the_catalog_admits_exactly_the_registered_kinds():
    assert CATALOG_KINDS == tuple(FIELD_KINDS)
    assert [k.name for k in FIELD_KINDS.values() if k.takes_choices] == ["choice"]
    for item in load_catalog():
        for f in item.fields:
            assert f.kind in FIELD_KINDS
