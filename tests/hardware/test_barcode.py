"""The barcode decoder on the real libzbar: raw QR bytes, 1-D codes, preprocessing passes."""

import cv2
import numpy as np
import pytest

from hardware.barcode import Barcode, BarcodeDecoder
from hardware.barcode_passes import (
    ALL_PASSES,
    DEFAULT_PASSES,
    QR_DEBLUR_SIGMAS,
    READ_PASSES,
    bar_quads,
    qr_regions,
    upright,
)
from hardware.barcode_samples import code_modules, fictional_id_number, make_sample
from hardware.barcode_zbar import ZbarScanner, decode_text
from hardware.errors import BarcodeError

PICTURE_PASSES = [name for name in DEFAULT_PASSES if name in ALL_PASSES]
CHINESE = "广东政务服务网 办件查询 受理号 K0007-20261128-0012"


def render(symbology: str, data: bytes, module_px: int = 4) -> np.ndarray:
    modules = code_modules(symbology, data)
    if symbology != "QRCODE":
        modules = np.repeat(modules, 3, axis=0)
    img = ((1 - modules) * 255).astype(np.uint8)
    return cv2.resize(img, None, fx=module_px, fy=module_px, interpolation=cv2.INTER_NEAREST)


@pytest.fixture(scope="module")
def decoder():
    dec = BarcodeDecoder()
    yield dec
    dec.close()


def test_decode_text_utf8_then_gb18030():
    assert decode_text(CHINESE.encode("utf-8")) == CHINESE
    assert decode_text(CHINESE.encode("gbk")) == CHINESE
    assert decode_text(CHINESE.encode("gb18030")) == CHINESE
    assert decode_text(b"\xef\xbb\xbf" + "你好".encode()) == "你好"
    assert decode_text(b"https://example.gov.cn/a?b=1") == "https://example.gov.cn/a?b=1"
    assert decode_text(b"\xff\xfe\x81") == decode_text(b"\xff\xfe\x81")  # never raises
    # GBK 一 (D2 BB) is also valid UTF-8 (Cyrillic һ): scripts such codes never carry lose.
    assert decode_text("一".encode("gbk")) == "一" and decode_text("一".encode()) == "一"
    assert decode_text("café".encode()) == "café"


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_chinese_qr_comes_back_right_where_plain_pyzbar_garbles_it(encoding):
    from pyzbar import pyzbar

    img = render("QRCODE", CHINESE.encode(encoding))
    scanner = ZbarScanner()
    try:
        [symbol] = scanner.scan(img)
    finally:
        scanner.close()
    assert symbol.type == "QRCODE"
    assert symbol.data == CHINESE.encode(encoding)  # the raw bytes: ZBAR_CFG_BINARY is on
    assert decode_text(symbol.data) == CHINESE
    if encoding == "gbk":  # why this module exists: libzbar's own guess has no GBK
        [plain] = pyzbar.decode(img)
        assert plain.data.decode("utf-8", errors="replace") != CHINESE


@pytest.mark.parametrize(
    ("symbology", "text"),
    [("CODE128", fictional_id_number(np.random.default_rng(3))), ("CODE128", "44142319480312002X"),
     ("EAN13", "6901234567892"), ("CODE39", "GD-441423-0007")],
)
def test_one_dimensional_codes(decoder, symbology, text):
    [code] = decoder.decode(render(symbology, text.encode("ascii"), module_px=3))
    assert (code.type, code.text) == (symbology, text)


def test_colour_grey_and_bgra_pictures(decoder):
    grey = render("QRCODE", b"http://127.0.0.1:8400/track/K0001-20260101-0001")
    bgr = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    bgra = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGRA)
    for picture in (grey, bgr, bgra, grey[:, :, None]):
        assert [c.text for c in decoder.decode(picture)] == ["http://127.0.0.1:8400/track/K0001-20260101-0001"]


def test_two_codes_in_one_picture_are_both_reported_once(decoder):
    a = render("QRCODE", "甲".encode("gbk"))
    b = render("QRCODE", "乙".encode())
    h = max(a.shape[0], b.shape[0])
    pad = lambda x: np.pad(x, ((0, h - x.shape[0]), (0, 0)), constant_values=255)  # noqa: E731
    both = np.hstack([pad(a), np.full((h, 40), 255, np.uint8), pad(b)])
    assert sorted(c.text for c in decoder.decode(both)) == ["乙", "甲"]


def test_nothing_found_is_an_empty_list(decoder):
    rng = np.random.default_rng(0)
    assert decoder.decode(rng.integers(0, 256, (240, 320), dtype=np.uint8)) == []
    assert decoder.decode(np.full((100, 100, 3), 255, np.uint8)) == []


def test_repr_never_shows_the_text():
    code = Barcode(type="CODE128", text="44142319480312002X")
    assert "4414" not in repr(code) and "4414" not in str(code)
    assert code.to_json() == {"type": "CODE128", "text": "44142319480312002X"}


def test_unknown_pass_and_bad_pixels_are_refused(decoder):
    with pytest.raises(ValueError):
        BarcodeDecoder(passes=("half", "magic"))
    with pytest.raises(BarcodeError):
        decoder.decode(np.zeros((10, 10), np.float64))
    with pytest.raises(BarcodeError):
        decoder.decode(np.zeros((0, 10), np.uint8))


def test_every_default_pass_exists_and_keeps_uint8_greyscale():
    img = render("QRCODE", b"x")
    assert set(DEFAULT_PASSES) <= set(ALL_PASSES) | set(READ_PASSES)
    for name in DEFAULT_PASSES:
        if name in READ_PASSES:  # reads codes itself (tests/hardware/test_barcode_fit.py)
            assert READ_PASSES[name](img) == []
            continue
        made = ALL_PASSES[name](img)
        for out in made if isinstance(made, list) else [made]:  # one picture, or several scanned in turn
            assert out.dtype == np.uint8 and out.ndim == 2 and out.size > 0


def test_upright_stands_a_slanted_barcode_up():
    img = cv2.resize(render("CODE128", b"44142319480312002X", module_px=3), None, fx=1, fy=0.25)
    img = np.pad(img, 200, constant_values=255)
    h, w = img.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), 50, 1.0)
    slanted = cv2.warpAffine(img, matrix, (w, h), borderValue=255)
    scanner = ZbarScanner()
    try:
        assert scanner.scan(slanted) == []  # libzbar reads along rows and columns only
        [symbol] = scanner.scan(upright(slanted))
    finally:
        scanner.close()
    assert symbol.data == b"44142319480312002X"


def test_passes_rescue_photographs_plain_zbar_misses(decoder):
    """Hard photographs (seeded): the passes read more than one plain scan does."""
    rng = np.random.default_rng(20261128)
    samples = [make_sample(rng, kind, 0.8) for kind in ("qr_gbk", "code128_id", "ean13", "qr_url") * 3]
    scanner = ZbarScanner()
    plain = sum(
        any(decode_text(s.data) == x.text for s in scanner.scan(cv2.cvtColor(x.bgr, cv2.COLOR_BGR2GRAY)))
        for x in samples
    )
    scanner.close()
    ours = 0
    for x in samples:
        result = decoder.decode_detailed(x.bgr)
        ours += any(c.text == x.text and c.type == x.type for c in result.codes)
    assert ours > plain
    assert ours >= 0.75 * len(samples)


def test_an_easy_picture_stops_at_the_first_pass(decoder):
    sample = make_sample(np.random.default_rng(5), "qr_utf8", 0.0)
    result = decoder.decode_detailed(sample.bgr)
    assert [c.text for c in result.codes] == [sample.text]
    assert result.passes_tried == 1 and result.pass_name == DEFAULT_PASSES[0]


def test_strips_reads_two_codes_held_at_opposite_slants():
    """Two slips at +40° and -40°: the whole picture's dominant angle is about 0°, so
    ``upright`` turns nothing and libzbar reads neither; ``strips`` turns each by its own."""
    canvas = np.full((720, 1280), 120, np.uint8)
    for i, (payload, angle) in enumerate(((b"44142319480312002X", 40), (b"GD-441423-0007", -40))):
        code = cv2.resize(render("CODE128", payload, module_px=3), None, fx=1, fy=0.25)
        code = np.pad(code, 30, constant_values=255)
        h, w = code.shape
        big = np.full((760, 760), 120, np.uint8)
        big[380 - h // 2:380 - h // 2 + h, 380 - w // 2:380 - w // 2 + w] = code
        turn = cv2.getRotationMatrix2D((380, 380), angle, 1.0)
        turned = cv2.warpAffine(big, turn, (760, 760), borderValue=120)
        canvas[:, i * 640:(i + 1) * 640] = turned[20:740, 60:700]
    scanner = ZbarScanner()
    try:
        assert scanner.scan(canvas) == [] and scanner.scan(upright(canvas)) == []
        found = {s.data for s in scanner.scan(ALL_PASSES["strips"](canvas))}
    finally:
        scanner.close()
    assert found == {b"44142319480312002X", b"GD-441423-0007"}


def test_strips_on_a_picture_without_bars_is_a_small_blank():
    out = ALL_PASSES["strips"](np.full((720, 1280), 90, np.uint8))
    assert out.dtype == np.uint8 and out.ndim == 2 and out.size < 5000


def _fanned(payload: bytes, corners: list[list[int]]) -> np.ndarray:
    """A Code 128 seen in perspective: its four corners where ``corners`` says, on grey."""
    code = np.pad(cv2.resize(render("CODE128", payload, module_px=3), None, fx=1, fy=0.4), 20,
                  constant_values=255)
    h, w = code.shape
    matrix = cv2.getPerspectiveTransform(np.float32([[0, 0], [w, 0], [w, h], [0, h]]), np.float32(corners))
    return cv2.warpPerspective(code, matrix, (1280, 720), borderValue=90)


def test_bars_straightens_a_code_whose_bars_fan_out():
    """In perspective the bars are not parallel; ``bars`` maps the code's four corners to a
    rectangle (plain libzbar reads nothing here), and the corners it finds are the code's."""
    corners = [[350, 80], [1050, 330], [900, 640], [200, 300]]
    picture = _fanned(b"44142319480312002X", corners)
    scanner = ZbarScanner()
    try:
        assert scanner.scan(picture) == []
        assert {s.data for s in scanner.scan(ALL_PASSES["bars"](picture))} == {b"44142319480312002X"}
        [quad] = bar_quads(picture)
    finally:
        scanner.close()
    # Inside the slip's outline, covering most of it (the slip adds a quiet zone and margins).
    outline = np.float32(corners)
    assert all(cv2.pointPolygonTest(outline, (float(x), float(y)), True) > -10 for x, y in quad)
    assert cv2.contourArea(quad) > 0.55 * cv2.contourArea(outline)


def test_bars_reads_two_codes_held_at_opposite_slants_and_nothing_on_a_blank():
    canvas = np.full((720, 1280), 120, np.uint8)
    for payload, corners in ((b"44142319480312002X", [[40, 300], [560, 40], [640, 200], [120, 460]]),
                             (b"GD-441423-0007", [[700, 60], [1220, 330], [1160, 480], [640, 210]])):
        code = _fanned(payload, corners)
        canvas = np.where(code != 90, code, canvas).astype(np.uint8)
    scanner = ZbarScanner()
    try:
        found = {s.data for s in scanner.scan(ALL_PASSES["bars"](canvas))}
    finally:
        scanner.close()
    assert found == {b"44142319480312002X", b"GD-441423-0007"}
    blank = ALL_PASSES["bars"](np.full((720, 1280), 90, np.uint8))
    assert blank.dtype == np.uint8 and blank.size < 5000


def test_samples_say_what_the_generator_applied():
    sample = make_sample(np.random.default_rng(11), "code128_slanted", 0.9)
    assert 20 <= abs(sample.params["angle"]) <= 45
    applied = {"module_px", "blur_sigma", "motion_px", "noise", "light", "jpeg_quality", "tilt"}
    assert applied <= set(sample.params)


def _reads(scanner: ZbarScanner, made: np.ndarray | list[np.ndarray]) -> bool:
    """Whether libzbar finds anything in what a pass made (one picture or several)."""
    return any(scanner.scan(picture) for picture in (made if isinstance(made, list) else [made]))


def _turned_qr(payload: bytes, module_px: float, top: int, degrees: float) -> tuple[np.ndarray, int]:
    """A small QR code (``module_px`` a module) on a dark desk at (``top``, 500), turned by
    ``degrees``; the 1280×720 picture and the code's side in pixels."""
    modules = code_modules("QRCODE", payload)
    side = int(modules.shape[0] * module_px)
    canvas = np.full((720, 1280), 70, np.uint8)
    canvas[top:top + side, 500:500 + side] = cv2.resize(((1 - modules) * 245).astype(np.uint8), (side, side),
                                                        interpolation=cv2.INTER_AREA)
    turn = cv2.getRotationMatrix2D((500 + side / 2, top + side / 2), degrees, 1.0)
    return cv2.warpAffine(canvas, turn, (1280, 720), borderValue=70), side


def _noisy(picture: np.ndarray, sigma: float) -> np.ndarray:
    noise = np.random.default_rng(1).normal(0, sigma, picture.shape)
    return np.clip(picture + noise, 0, 255).astype(np.uint8)


def test_qr_crops_reads_a_small_blurred_qr_code_held_at_an_angle(decoder):
    """2.5 px a module, turned 35°, blurred and noisy: plain libzbar and the other passes of the
    order but the last miss it; ``qr_crops`` finds the region by its edges pointing every way,
    stands it upright and redraws it, second in the order."""
    turned, side = _turned_qr(CHINESE.encode("gbk"), 2.5, 300, 35)
    picture = _noisy(cv2.GaussianBlur(turned, (0, 0), 0.9), 6)
    [(centre, size, _)] = qr_regions(picture)
    assert np.hypot(centre[0] - 500 - side / 2, centre[1] - 300 - side / 2) < 10
    assert 0.8 * side < min(size) <= max(size) < 1.3 * side
    scanner = ZbarScanner()
    try:
        assert scanner.scan(picture) == []
        reading = [name for name in PICTURE_PASSES if _reads(scanner, ALL_PASSES[name](picture))]
        assert reading == ["qr_crops", "qr_deblur"]  # the last pass works on the same crops
    finally:
        scanner.close()
    result = decoder.decode_detailed(picture)
    assert [(c.type, c.text) for c in result.codes] == [("QRCODE", CHINESE)]
    assert result.pass_name == "qr_crops" and result.passes_tried == 2
    blank = ALL_PASSES["qr_crops"](np.full((720, 1280), 90, np.uint8))
    assert blank.dtype == np.uint8 and blank.size < 5000


def test_interleaved_2_of_5_shorter_than_ten_digits_is_not_reported(decoder):
    """I25 has no check character: libzbar's 6-digit minimum let clutter read as one (a
    misread on the benchmark); ITF-14 and 10-digit codes still read."""
    import barcode

    def itf(digits: str) -> np.ndarray:
        row = np.array([int(c) for c in "".join(barcode.get_barcode_class("itf")(digits).build())], np.uint8)
        row = np.concatenate([np.zeros(10, np.uint8), row, np.zeros(10, np.uint8)])
        strip = np.repeat(((1 - row) * 255).astype(np.uint8)[None, :], 60, axis=0)
        return cv2.resize(strip, None, fx=3, fy=1, interpolation=cv2.INTER_NEAREST)

    assert [(c.type, c.text) for c in decoder.decode(itf("12345678901234"))] == [("I25", "12345678901234")]
    assert [(c.type, c.text) for c in decoder.decode(itf("1234567890"))] == [("I25", "1234567890")]
    assert decoder.decode(itf("123456")) == []


def test_qr_deblur_reads_a_qr_code_too_blurred_for_the_other_passes(decoder):
    """2.5 px a module under a Gaussian blur of 1.2 px: modules run together, no other pass of
    the order (nor plain libzbar) reads it; undoing the blur on the upright crop does."""
    payload = b"https://hall.example.gov.cn/track/K0103-20270305-0450"
    turned, _side = _turned_qr(payload, 2.5, 300, 30)
    picture = _noisy(cv2.GaussianBlur(turned, (0, 0), 1.2), 4)
    scanner = ZbarScanner()
    try:
        reading = [name for name in PICTURE_PASSES if _reads(scanner, ALL_PASSES[name](picture))]
        assert reading == ["qr_deblur"]
    finally:
        scanner.close()
    result = decoder.decode_detailed(picture)
    assert [(c.type, c.text) for c in result.codes] == [("QRCODE", payload.decode())]
    assert result.pass_name == "qr_deblur" == PICTURE_PASSES[-1]  # only the Code 128 fit after it
    assert ALL_PASSES["qr_deblur"](np.full((720, 1280), 90, np.uint8)) == []


def test_qr_deblur_undoes_a_motion_streak_across_a_qr_code(decoder):
    """3 px a module, turned 25°, streaked 6 px at 70°: no other pass of the order and no
    Gaussian width reads it; the streak found from the crop's edges and undone does."""
    payload = "城乡居民基本养老保险参保登记 已受理，请留意短信通知。".encode()
    turned, _side = _turned_qr(payload, 3.0, 250, 25)
    streak = np.zeros((8, 8), np.float32)
    dx, dy = 3 * np.cos(np.radians(70)), 3 * np.sin(np.radians(70))
    cv2.line(streak, (round(4 - dx), round(4 - dy)), (round(4 + dx), round(4 + dy)), 1.0, 1, cv2.LINE_AA)
    picture = _noisy(cv2.filter2D(turned, -1, streak / streak.sum()), 3)
    scanner = ZbarScanner()
    try:
        reading = [name for name in PICTURE_PASSES if _reads(scanner, ALL_PASSES[name](picture))]
        gaussian_forms = 2 * len(QR_DEBLUR_SIGMAS)  # the streak's forms come after these
        assert not _reads(scanner, ALL_PASSES["qr_deblur"](picture)[:gaussian_forms])
    finally:
        scanner.close()
    assert reading == ["qr_deblur"]
    assert [c.text for c in decoder.decode(picture)] == [payload.decode()]


def test_the_passes_tensor_is_let_go_when_a_decode_ends() -> None:
    """The tensor the passes share for one frame (≈ 5 MB at 1280×720) is not kept after the decode:
    it stayed held from the identify screen's last scan on (docs/scanning.md, "Less memory held")."""
    import hardware.barcode_passes as passes

    picture = np.full((360, 640), 255, np.uint8)
    picture[100:260:8, 200:440] = 0  # bars without a code: every pass runs, the tensor is built
    BarcodeDecoder().decode_detailed(picture)
    assert passes._last_tensor is None
