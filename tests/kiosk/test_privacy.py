import logging
import os
import stat

import pytest

from kiosk import privacy
from kiosk.privacy import PersonalDataFilter, applicant_tag, load_tag_key, mask_text, setup_logging

from .conftest import make_card

ID = make_card().id_number


@pytest.fixture
def logger():
    """A private logger with a list handler that carries the filter."""
    records: list[logging.LogRecord] = []

    class ListHandler(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = ListHandler()
    data_filter = PersonalDataFilter()
    handler.addFilter(data_filter)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("test.privacy")
    log.propagate = False
    log.handlers = [handler]
    log.setLevel(logging.DEBUG)
    log.records = records
    log.format = lambda: [handler.format(r) for r in records]
    yield log
    privacy.forget_names()
    log.handlers = []


def test_masks_id_numbers_phones_in_message_and_args(logger):
    logger.info(f"card {ID} phone 13812345678")
    logger.info("card %s phone %s landline %s", ID, 13987654321, "020-83331234")
    logger.info("mapping %(id)s", {"id": ID.lower()})
    logger.info("old card %s, +86 139 mobile %s", "441423500601041", "+8613912345678")
    text = "\n".join(logger.format())
    assert ID not in text and ID.lower() not in text and "441423500601041" not in text
    for digits in ("13812345678", "13987654321", "83331234", "13912345678"):
        assert digits not in text
    assert "44**************" in text and "138****5678" in text and "020-****1234" in text
    assert all(r.args == () for r in logger.records)


def test_leaves_ordinary_numbers_alone():
    text = "K0001-20261128-0007 441423-20261128-000012 2026-11-28T04:11:52Z took 1234 ms"
    assert mask_text(text) == text


def test_registered_names_are_masked_until_forgotten(logger):
    privacy.register_name("黄秀梅")
    privacy.register_name("李")  # too short to register
    logger.warning("applicant %s is here, 李 too", "黄秀梅")
    privacy.forget_names()
    logger.warning("applicant 黄秀梅 again")
    first, second = logger.format()
    assert "黄秀梅" not in first and "**" in first and "李" in first
    assert "黄秀梅" in second


def test_card_repr_and_exceptions_leak_nothing(logger):
    card = make_card()
    privacy.register_name(card.name)
    logger.info("read %r / %s", card, card)
    try:
        raise ValueError(f"bad card {card.id_number} for {card.name}")
    except ValueError:
        logger.exception("failed")
    text = "\n".join(logger.format())
    assert card.id_number not in text and card.name not in text and card.address not in text
    assert "ValueError" in text


def test_setup_logging_writes_a_masked_file(tmp_path):
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        setup_logging(tmp_path, logging.INFO, console=False)
        setup_logging(tmp_path, logging.INFO, console=False)  # idempotent
        ours = [h for h in root.handlers if getattr(h, "_kiosk_handler", False)]
        assert len(ours) == 1
        assert all(any(isinstance(f, PersonalDataFilter) for f in h.filters) for h in root.handlers)
        logging.getLogger("kiosk.test").info("number %s phone 13812345678", ID)
        for h in ours:
            h.flush()
        text = (tmp_path / "logs" / "kiosk.log").read_text(encoding="utf-8")
        assert "number 44**" in text and ID not in text and "13812345678" not in text
    finally:
        for h in list(root.handlers):
            if h not in before:
                root.removeHandler(h)
                h.close()


def test_applicant_tag(tmp_path):
    tag = applicant_tag(ID, tmp_path)
    assert len(tag) == 64 and ID not in tag
    assert applicant_tag(ID.lower(), tmp_path) == tag
    assert applicant_tag(ID, tmp_path) == tag  # the key is made once
    mode = stat.S_IMODE(os.stat(tmp_path / "tag.key").st_mode)
    assert mode == 0o600 and len(load_tag_key(tmp_path)) == 32
    other = tmp_path / "other"
    assert applicant_tag(ID, other) != tag  # another kiosk, another key
