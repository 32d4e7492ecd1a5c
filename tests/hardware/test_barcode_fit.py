"""Code 128 fitted symbol by symbol (``hardware.barcode_fit``): where libzbar's bar widths fail."""

import cv2
import numpy as np
import pytest

from hardware.barcode import BarcodeDecoder
from hardware.barcode_fit import (
    START_B,
    START_C,
    checksum_ok,
    code128_text,
    is_id_number,
    read_code128,
)
from hardware.barcode_passes import ALL_PASSES, DEFAULT_PASSES, READ_PASSES, bar_quads
from hardware.barcode_samples import code_modules, make_set
from hardware.barcode_zbar import ZbarScanner

ID = "44142319480312008X"  # fictional; its GB 11643 check character holds


def _streaked(payload: str, module_px: float, streak_px: float, degrees: float = 30.0) -> np.ndarray:
    """A Code 128 on a white slip, turned ``degrees`` on a grey desk, smeared by a motion streak
    of ``streak_px`` along the code's axis, with sensor noise."""
    row = code_modules("CODE128", payload.encode("ascii"))[0]
    width = int(len(row) * module_px)
    bars = ((1 - row) * 235 + 10).astype(np.uint8)[None, :]
    code = cv2.resize(bars, (width, 130), interpolation=cv2.INTER_AREA)
    slip = np.pad(code, ((30, 60), (40, 40)), constant_values=245)
    canvas = np.full((720, 1280), 90, np.uint8)
    top, left = (720 - slip.shape[0]) // 2, (1280 - slip.shape[1]) // 2
    canvas[top:top + slip.shape[0], left:left + slip.shape[1]] = slip
    turn = cv2.getRotationMatrix2D((640, 360), degrees, 1.0)
    picture = cv2.warpAffine(canvas, turn, (1280, 720), borderValue=90).astype(np.float32)
    length = int(round(streak_px)) | 1
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    centre = (length / 2 - 0.5, length / 2 - 0.5)
    kernel = cv2.warpAffine(kernel, cv2.getRotationMatrix2D(centre, degrees, 1.0), (length, length))
    picture = cv2.filter2D(picture, -1, kernel / kernel.sum())
    picture += np.random.default_rng(5).normal(0, 4, picture.shape)
    return np.clip(picture, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def decoder():
    dec = BarcodeDecoder()
    yield dec
    dec.close()


def test_text_of_symbol_sequences_and_the_check_symbol():
    # Start C, pairs of digits, Code B for a last digit and X (as python-barcode writes an ID number)
    values = [START_C, 44, 14, 23, 19, 48, 3, 12, 0, 100, 24, 56]
    assert code128_text(values) == ID
    check = (values[0] + sum(i * v for i, v in enumerate(values[1:], start=1))) % 103
    assert checksum_ok([*values, check]) and not checksum_ok([*values, (check + 1) % 103])
    assert code128_text([START_B, 33, 34, 98, 65, 65]) == "AB\x01a"  # Shift: one character of set A
    assert code128_text([7, 8]) is None  # no start symbol
    assert is_id_number(ID) and not is_id_number("441423194803120081") and not is_id_number("GD-441423")


def test_a_code_streaked_along_its_axis_is_read_by_the_fit_where_libzbar_reads_nothing(decoder):
    """A 6 px streak along a code at 3.6 px a module runs its narrow bars together: libzbar reads
    nothing on any picture pass; fitted symbol by symbol, with the check symbol holding, it reads."""
    picture = _streaked(ID, 3.6, 6.0)
    scanner = ZbarScanner()
    try:
        for name in DEFAULT_PASSES:
            if name in ALL_PASSES:
                made = ALL_PASSES[name](picture)
                assert not any(scanner.scan(p) for p in (made if isinstance(made, list) else [made])), name
    finally:
        scanner.close()
    assert read_code128(picture, bar_quads(picture)) == [ID]
    result = decoder.decode_detailed(picture)
    assert [(c.type, c.text) for c in result.codes] == [("CODE128", ID)]
    assert result.pass_name == "code128_fit" and result.passes_tried == len(DEFAULT_PASSES)
    assert DEFAULT_PASSES[-1] == "code128_fit" and "code128_fit" in READ_PASSES


def test_the_fit_reads_nothing_on_a_blank_a_qr_code_or_other_one_dimensional_codes():
    assert read_code128(np.full((720, 1280), 90, np.uint8), []) == []
    blank = np.full((720, 1280), 90, np.uint8)
    assert read_code128(blank, bar_quads(blank)) == []
    for sample in make_set(2026, 14):  # two of each kind, clean to hard
        gray = cv2.cvtColor(sample.bgr, cv2.COLOR_BGR2GRAY)
        texts = read_code128(gray, bar_quads(gray))
        assert texts in ([], [sample.text]), sample.kind  # a read is the code's own text, never another
        if sample.type != "CODE128":
            assert texts == []
