"""A PDF result rendered to page images once on the hall (issue 12 part 2), within bounds: a real
letter made here, a broken file, a file of 500 pages, one that takes too long."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from hall.services.result_pages import MAX_PAGES, PAGE_WIDTH_PX, PdfRefused, render_pdf
from tests.support.result_pdfs import BROKEN_PDF, letter_pdf


def test_a_letter_becomes_grey_pages_the_printer_and_screen_can_use():
    pages = render_pdf(letter_pdf(3))
    assert len(pages) == 3
    for png in pages:
        with Image.open(io.BytesIO(png)) as page:
            assert (page.format, page.mode, page.width) == ("PNG", "L", PAGE_WIDTH_PX)
            assert 1700 < page.height < 1800  # A4's shape kept
            assert page.getextrema() == (0, 255)  # black letters on white
    # a page of an odd shape (a long strip) is drawn narrower rather than taller than the bound
    (strip,) = render_pdf(letter_pdf(1, size=(300, 6000)))
    with Image.open(io.BytesIO(strip)) as page:
        assert page.height <= 3600 and page.width < PAGE_WIDTH_PX


@pytest.mark.parametrize(("data", "words"), [
    (BROKEN_PDF, "打不开"),
    (b"%PDF-1.7\n" + bytes(range(256)) * 40, "打不开"),
    (letter_pdf(500), f"超过 {MAX_PAGES} 页"),
])
def test_a_broken_or_endless_pdf_is_refused_in_plain_words(data, words):
    with pytest.raises(PdfRefused) as refused:
        render_pdf(data)
    assert refused.value.status == 422 and words in refused.value.detail
    assert "Traceback" not in refused.value.detail


def test_a_pdf_that_takes_too_long_is_refused_and_its_renderer_ended():
    with pytest.raises(PdfRefused) as refused:
        render_pdf(letter_pdf(2), timeout_s=0.05)  # the child cannot even start in that time
    assert "时限" in refused.value.detail
