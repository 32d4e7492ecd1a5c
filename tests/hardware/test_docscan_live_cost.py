"""The live scanner looks for the page only when the picture moved; the preview reuses its buffers;
a page running off the frame keeps its true corners."""

import cv2
import numpy as np

from hardware.docscan.detect import clip_to_frame, detect_page, visible_area
from hardware.docscan.live import PREVIEW_BUFFERS, PREVIEW_WIDTH, LiveScanner
from hardware.docscan.measure import jaccard
from hardware.docscan.quality import Thresholds
from hardware.docscan.synthetic import make_scene


def steady_scene(seed: int = 21):
    rng = np.random.default_rng(seed)
    scene = make_scene(rng, "plain")
    while any(e in scene.effects for e in ("blur", "glare", "finger")) or scene.quad[:, 1].max() > 690 \
            or scene.quad[:, 1].min() < 30 or scene.quad[:, 0].min() < 60:
        scene = make_scene(rng, "plain")
    return scene


def test_a_still_page_is_looked_at_now_and_then_yet_taken_and_a_move_is_seen_at_once():
    scene = steady_scene()
    now = [0.0]
    scanner = LiveScanner(None, Thresholds(min_coverage=0.1), hold_s=0.5, detect_every=10,
                          clock=lambda: now[0])
    fired = False
    for _ in range(30):
        now[0] += 0.05
        view = scanner.step(scene.image.copy())  # a new array each frame, as from a camera
        fired = fired or view.fire
    assert fired and view.outline is not None and view.quality.ok, view.quality
    assert scanner.looks <= 4  # the first frame and every 10th, not 30
    looks = scanner.looks
    moved = np.roll(scene.image, 40, axis=1)  # the page slid to the right
    view = scanner.step(moved)
    assert scanner.looks == looks + 1
    assert view.outline is not None and "moving" in view.quality.problems
    nothing = np.full_like(scene.image, 90)  # the page taken away
    for _ in range(5):
        view = scanner.step(nothing)
    assert view.outline is None and view.quality.problems == ("no_page",)


def test_the_preview_is_rgb_at_preview_width_in_a_few_reused_buffers():
    scene = steady_scene()
    scanner = LiveScanner(None)
    buffers = set()
    for _ in range(3 * PREVIEW_BUFFERS):
        view = scanner.step(scene.image)
        assert view.preview is not None and view.preview.shape[1] == PREVIEW_WIDTH
        buffers.add(id(view.preview))
    assert len(buffers) == PREVIEW_BUFFERS
    b, g, r = scene.image[360, 640].astype(int)
    y, x = round(360 * PREVIEW_WIDTH / 1280), PREVIEW_WIDTH // 2
    assert np.abs(view.preview[y - 1:y + 2, x - 1:x + 2].reshape(-1, 3).mean(axis=0) - (r, g, b)).max() < 40


def test_a_page_running_off_the_frame_keeps_its_true_corners():
    scene = steady_scene(5)
    cut = int(scene.quad[:, 0].min()) + 50  # the page's left part falls off the frame
    image = np.ascontiguousarray(scene.image[:, cut:])
    truth = scene.quad - np.array([cut, 0], np.float32)
    found = detect_page(image)
    assert found is not None
    assert found.quad[:, 0].min() < -20  # not pulled into the frame corner by corner
    assert jaccard(found.quad, truth, image.shape) > 0.95
    h, w = image.shape[:2]
    inside = clip_to_frame(found.quad, w, h)
    assert len(inside) >= 4 and inside[:, 0].min() >= -1e-3 and inside[:, 0].max() <= w - 1 + 1e-3
    assert 0 < visible_area(found.quad, w, h) < w * h
    assert 0 < found.coverage <= 1


def test_a_side_along_the_frame_border_keeps_its_line_and_the_other_three_are_refined():
    # A clean page running off the left edge: its left side has no step under it. The
    # refinement used to give up on the whole outline then (corners ≈ 3 px off, Jaccard 0.982).
    rng = np.random.default_rng(3)
    table = np.clip(rng.normal(95, 6, (720, 1280, 3)), 0, 255).astype(np.uint8)
    truth = np.array([[-300, 90], [700, 130], [676, 650], [-324, 610]], np.float32)
    big = np.zeros((720 * 4, 1280 * 4), np.uint8)  # drawn 4× larger, shrunk: anti-aliased sides
    cv2.fillConvexPoly(big, np.round((truth + 0.5) * 4 - 0.5).astype(np.int32), 255)
    alpha = cv2.resize(big, (1280, 720), interpolation=cv2.INTER_AREA).astype(np.float32)[..., None] / 255
    image = (table * (1 - alpha) + 235 * alpha).astype(np.uint8)
    for y in range(200, 560, 30):  # lines of print, well inside (a blank sheet is no page)
        cv2.line(image, (80, y + 4), (560, y + 28), (40, 40, 40), 6)
    found = detect_page(image)
    assert found is not None
    assert jaccard(found.quad, truth, image.shape) > 0.99
    assert np.abs(found.quad[1:3] - truth[1:3]).max() < 1.0  # the right-hand corners, to the pixel
