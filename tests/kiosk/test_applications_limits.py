"""The confirm button's validation bounds what the sealed document carries (issue 9, finding 10)."""

from __future__ import annotations

import pytest

from hardware.sample_cards import SAMPLE_CARDS
from kiosk.applications import IDENTITY_MAX_LENGTH, TOO_LONG, build_application, validate_identity
from kiosk.catalog import load_catalog
from kiosk.errors import ApplicationInvalid
from kiosk.visit import Page, Visit
from tests.kiosk.conftest import make_card

CATALOG = load_catalog()


@pytest.mark.parametrize("card_name", sorted(SAMPLE_CARDS))
def test_a_real_cards_values_fit_every_item(card_name):
    """The touch path is unchanged: a card read never meets the limits."""
    card = SAMPLE_CARDS[card_name]
    for item in CATALOG:
        assert validate_identity(item, card, {"phone": "13800138000"}) == {}, item.code


def _session(card, **fields) -> Visit:
    session = Visit("s", 0.0)
    session.card = card
    session.fields = {"phone": "13800138000", "grade": "360", "bank": "psbc", **fields}
    session.add_page(Page("M1", b"\xff\xd8page"))
    return session


def test_the_applicant_block_is_checked_uncut(tmp_path):
    """The form cut a card value to its field's length; the sealed document carried it whole."""
    item = CATALOG.get("GD-SAMPLE-001")
    kwargs = dict(device_id="kiosk-1", county="441423", sequence=1, tag_key_dir=tmp_path)
    with pytest.raises(ApplicationInvalid) as caught:
        build_application(_session(make_card(name="黄" * 31)), item, **kwargs)
    assert caught.value.errors == {"name": TOO_LONG}
    with pytest.raises(ApplicationInvalid) as caught:
        build_application(_session(make_card(english_name="A" * (IDENTITY_MAX_LENGTH + 1))), item, **kwargs)
    assert caught.value.errors == {"applicant.english_name": TOO_LONG}
    app = build_application(_session(make_card()), item, **kwargs)
    assert app.document["applicant"]["name"] == "黄秀梅"
