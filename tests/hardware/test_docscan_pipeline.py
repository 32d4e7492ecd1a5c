"""Document scanning on real image data: detection, tracking, rectify, enhance, quality, encode."""

import threading
import time

import cv2
import numpy as np
import pytest

from hardware.camera import read_within
from hardware.docscan import detect
from hardware.docscan.autocapture import AutoCapture
from hardware.docscan.detect import (
    Detection,
    _quantile_rows,
    _sides,
    detect_page,
    order_corners,
    percentile_u8,
)
from hardware.docscan.encode import encode_page
from hardware.docscan.enhance import MODES, enhance
from hardware.docscan.errors import BadImage, ScanError
from hardware.docscan.live import LiveScanner
from hardware.docscan.page import scan_page
from hardware.docscan.quality import Thresholds, assess
from hardware.docscan.rectify import rectify
from hardware.docscan.synthetic import make_scene, make_set
from hardware.docscan.tracker import OutlineTracker
from hardware.errors import HardwareError


def _iou(a, b):
    inter, _ = cv2.intersectConvexConvex(order_corners(a), order_corners(b))
    return inter / (cv2.contourArea(order_corners(a)) + cv2.contourArea(order_corners(b)) - inter)


@pytest.fixture(scope="module")
def scenes():
    return make_set(seed=2024, count=25, empty_share=0.15)


def test_finds_pages_on_held_out_scenes_and_nothing_on_empty_ones(scenes):
    scores = []
    for scene in scenes:
        found = detect_page(scene.image)
        if scene.quad is None:
            assert found is None, "a page was reported on a frame without one"
        else:
            scores.append(0.0 if found is None else _iou(found.quad, scene.quad))
    assert np.mean(scores) > 0.9


def test_the_last_outline_helps_a_steady_page_and_never_invents_one(scenes):
    pages = [s for s in scenes if s.quad is not None]
    empty = [s for s in scenes if s.quad is None]
    assert empty
    for scene in empty:  # the page was taken away: its old outline is not reported
        assert detect_page(scene.image, prior=pages[0].quad) is None
    rng = np.random.default_rng(5)
    with_prior = [detect_page(s.image, prior=s.quad + rng.normal(0, 3, (4, 2))) for s in pages]
    score = np.mean([0.0 if f is None else _iou(f.quad, s.quad)
                     for f, s in zip(with_prior, pages, strict=True)])
    assert score > 0.95


def test_corners_are_clockwise_from_top_left_in_frame_pixels():
    rng = np.random.default_rng(3)
    scene = make_scene(rng, "plain")
    found = detect_page(scene.image)
    assert found is not None and found.quad.shape == (4, 2)
    q = found.quad
    assert q[0].sum() == min(p.sum() for p in q)
    a, b = q[1] - q[0], q[2] - q[1]
    cross = a[0] * b[1] - a[1] * b[0]
    assert cross > 0  # clockwise on screen (y down)
    assert np.abs(q - scene.quad).max() < 6


def test_the_fast_percentiles_are_numpys_to_the_last_bit():
    # the detector's thresholds come from these: a different rounding would move outlines
    rng = np.random.default_rng(5)
    for _ in range(200):
        n = int(rng.integers(1, 2000))
        values = rng.integers(0, int(rng.integers(1, 256)), n).astype(np.uint8)
        q = float(rng.choice([97.0, 90.0, 75.0, 50.0, 0.0, 100.0, rng.uniform(0, 100)]))
        assert percentile_u8(values.reshape(1, -1), q) == float(np.percentile(values, q))
        floats = values.astype(np.float32)
        for q in (50.0, 75.0):  # the ones the scoring takes
            assert _quantile_rows(floats[None, :], q)[0] == float(np.percentile(floats, q))
            # a row's values left out by ``keep`` count for nothing
            padded = np.concatenate([floats, rng.integers(0, 256, 7).astype(np.float32)])[None, :]
            keep = np.arange(n + 7)[None, :] < n
            assert _quantile_rows(padded, q, keep)[0] == float(np.percentile(floats, q))
    quad = np.array([[10, 10], [200, 12], [190, 150], [12, 140]], np.float32)
    p, _, n = _sides(quad)
    assert _sides(quad.copy())[2] is n  # the same candidate's sides are worked out once
    with pytest.raises(ValueError):
        p[0, 0] = 0  # and shared read-only


def test_the_small_copy_is_opencvs_area_resize_to_the_last_bit():
    # the fast quarter (two exact halvings of 4x values) must not move a single outline
    rng = np.random.default_rng(9)
    for shape in ((720, 1280, 3), (360, 640, 3), (724, 1288, 3), (1080, 1920, 3)):
        frame = rng.integers(0, 256, shape, dtype=np.uint8)
        frame[:40] = 255  # flat and saturated parts too, and sums exactly halfway (rounded to even)
        frame[40:80, ::2] = (7, 8, 9)
        h, w = shape[:2]
        size = (max(16, round(w * 320 / w)), max(16, round(h * 320 / w)))
        expected = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        np.testing.assert_array_equal(detect.shrink(frame), expected)


def _hull_to_quad_vectorised(hull: np.ndarray) -> np.ndarray | None:
    """``detect.hull_to_quad`` as it was written with NumPy (every edge at once per round)."""
    pts = hull.reshape(-1, 2).astype(np.float64)
    peri = cv2.arcLength(pts.astype(np.float32), True)
    pts = cv2.approxPolyDP(pts.astype(np.float32), 0.01 * peri, True).reshape(-1, 2).astype(np.float64)
    while len(pts) > 4:
        ring = np.concatenate([pts[-1:], pts, pts[:2]])
        a, b, c, d = ring[:-3], ring[1:-2], ring[2:-1], ring[3:]
        d1, d2 = b - a, d - c
        den = d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]
        parallel = np.abs(den) < 1e-9
        t = ((c[:, 0] - a[:, 0]) * d2[:, 1] - (c[:, 1] - a[:, 1]) * d2[:, 0]) / np.where(parallel, 1.0, den)
        meet = a + t[:, None] * d1
        cost = 0.5 * np.abs((c[:, 0] - b[:, 0]) * (meet[:, 1] - b[:, 1])
                            - (c[:, 1] - b[:, 1]) * (meet[:, 0] - b[:, 0]))
        behind = (((meet - b) * (b - a)).sum(axis=1) < 0) | (((meet - c) * (c - d)).sum(axis=1) < 0)
        cost[parallel | behind] = np.inf
        best = int(np.argmin(cost))
        if not np.isfinite(cost[best]):
            return None
        n = len(pts)
        pts[best] = meet[best]
        pts = np.delete(pts, (best + 1) % n, axis=0)
    return pts.astype(np.float32) if len(pts) == 4 else None


def test_the_quad_around_a_hull_is_the_vectorised_forms_to_the_last_bit():
    rng = np.random.default_rng(3)
    for _ in range(1500):
        pts = rng.uniform(0, 300, (int(rng.integers(3, 40)), 2)).astype(np.float32)
        if rng.random() < 0.3:
            pts = np.round(pts)  # integer corners, as contours have: ties and parallel sides
        hull = cv2.convexHull(pts)
        quad, expected = detect.hull_to_quad(hull), _hull_to_quad_vectorised(hull)
        assert (quad is None) == (expected is None)
        if quad is not None:
            np.testing.assert_array_equal(quad, expected)


def test_both_planes_edges_in_one_canny_call_are_one_call_per_planes(scenes):
    # the two edge maps: grey's and saturation's gradients stacked for one Canny per strength
    def gradients(plane: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (cv2.Sobel(plane, cv2.CV_16S, 1, 0, ksize=3, borderType=cv2.BORDER_REPLICATE),
                cv2.Sobel(plane, cv2.CV_16S, 0, 1, ksize=3, borderType=cv2.BORDER_REPLICATE))

    for scene in scenes[:8]:
        small = detect.shrink(scene.image)
        blur = cv2.GaussianBlur(small, (5, 5), 0)
        saturation = np.ascontiguousarray(cv2.cvtColor(blur, cv2.COLOR_BGR2HSV)[..., 1])
        planes = (cv2.cvtColor(blur, cv2.COLOR_BGR2GRAY), saturation)
        maps = detect._maps(small)
        for i, (low, high) in enumerate(((15, 45), (40, 110))):
            edges = np.bitwise_or(*(cv2.Canny(*gradients(p), low, high) for p in planes))
            np.testing.assert_array_equal(maps[i], cv2.dilate(edges, np.ones((3, 3), np.uint8)))


def test_every_and_outer_outline_from_one_tree_are_list_and_external_calls(scenes):
    # the edge maps' contours traced once (RETR_TREE) for RETR_LIST's and RETR_EXTERNAL's lists
    for scene in scenes[:12]:
        small = detect.shrink(scene.image)
        min_area = detect.MIN_AREA * small.shape[0] * small.shape[1] * 0.6
        for binary in detect._maps(small):
            every, outer = detect._every_and_outer(binary, min_area)
            for mode, got in ((cv2.RETR_LIST, every), (cv2.RETR_EXTERNAL, outer)):
                expected = detect._outlines(binary, mode, min_area)
                assert len(got) == len(expected)
                for a, b in zip(got, expected, strict=True):
                    np.testing.assert_array_equal(a, b)


def test_candidates_measured_together_give_the_numbers_of_one_by_one(scenes, monkeypatch):
    # the snapping and the side support run over all of a frame's candidates at once
    checked = 0
    for scene in scenes[:8]:
        small = detect.shrink(scene.image)
        smooth = cv2.GaussianBlur(small, (3, 3), 0)
        hsv = cv2.cvtColor(smooth, cv2.COLOR_BGR2HSV)
        quads = [q for q in detect._candidates(small) if detect._plausible(q, small.shape[1], small.shape[0])]
        if not quads:
            continue
        for margin in (0.1, 0.08):
            base, n = detect._side_points_many(quads, 24, margin)
            for i, quad in enumerate(quads):
                alone_base, alone_n = detect.side_points(quad, 24, margin)
                np.testing.assert_array_equal(base[i], alone_base)
                np.testing.assert_array_equal(n[i], alone_n)
        together = detect._refine_many(smooth, quads, radius=6.0, samples=24)
        for quad, snapped in zip(quads, together, strict=True):
            alone = detect._refine(smooth, quad, radius=6.0, samples=24)
            assert (alone is None) == (snapped is None)
            if alone is not None:
                np.testing.assert_array_equal(alone, snapped)
        np.testing.assert_array_equal(detect._side_support_many(smooth, quads, offset=2.0),
                                      np.stack([detect._side_support(smooth, q, offset=2.0) for q in quads]))
        supports = detect._side_support_many(smooth, quads, offset=2.0)
        brightest = detect._brightest(hsv)
        np.testing.assert_array_equal(detect._features_many(smooth, hsv, quads, supports, brightest),
                                      np.stack([detect._features(smooth, hsv, q, s, brightest)
                                                for q, s in zip(quads, supports, strict=True)]))
        # the pruning keeps the first ``fixed`` (the live path's outline) and the others' order
        monkeypatch.setattr(detect, "PRESCORED", 3)
        kept = detect._prune(smooth, hsv, quads, 1, detect._brightest(hsv))
        assert kept[0] is quads[0] and len(kept) == min(len(quads), detect.PRESCORED + 1)
        positions = [next(i for i, q in enumerate(quads) if q is k) for k in kept]
        assert positions == sorted(positions)
        checked += 1
    assert checked >= 4


def test_the_second_look_measures_the_first_looks_candidates_as_a_fresh_scoring_would(scenes):
    # every map's candidates after the first look's (``FIRST_MAPS``): the same outlines and features
    # as scoring every map's candidates from nothing, so a frame the first look does not settle
    # gets exactly the detector's choice without it
    taken_over = 0
    for scene in scenes[:10]:
        small = detect.shrink(scene.image)
        smooth_hsv = detect.smoothed(small)
        outlines = detect._MapOutlines(small)
        every = outlines.of(range(detect.MAP_COUNT))
        assert len(every) == len(detect._MapOutlines(small).of(range(detect.MAP_COUNT)))
        fresh = detect.scored_candidates(small, (), smooth_hsv, list(every))
        scoring = detect._Scoring()
        first = detect.scored_candidates(small, (), smooth_hsv, outlines.of(detect.FIRST_MAPS), scoring)
        after = detect.scored_candidates(small, (), smooth_hsv, outlines.of(range(detect.MAP_COUNT)), scoring)
        assert len(after) == len(fresh)
        for (quad, features), (quad2, features2) in zip(after, fresh, strict=True):
            np.testing.assert_array_equal(quad, quad2)
            np.testing.assert_array_equal(features, features2)
        taken_over += sum(any(np.array_equal(q, f) for f, _ in first) for q, _ in after)
    assert taken_over >= 10  # the first look's candidates were reused, not only measured again


def _side_moves_one_side(smooth, quad, side, sw, sh):
    # the grow step's moves as they were found, one side at a time with its own sampling: the
    # reference detect._side_moves_many must give side by side
    p, _, n = detect._sides(quad)
    reach = min(0.8 * float(np.max((quad - p[side]) @ n[side])), 0.35 * sw)
    points, inward = detect.side_points(quad, 24)
    offsets = np.arange(-2.0, reach + 3.0, 1.0, dtype=np.float32)
    along = points[side][:, None, :] - offsets[None, :, None] * inward[side][None, None, :]
    vals = detect._sample(smooth, along)
    moves = []
    for distance in detect._edges_in_profiles(vals, offsets):
        moved = detect._shift_side(quad, side, distance, n)
        if moved is None or not detect._plausible(moved, sw, sh):
            continue
        if moved.min() < -1 or moved[:, 0].max() > sw or moved[:, 1].max() > sh:
            continue  # the page lies inside the picture
        moves.append(moved)
    return moves


def _grow_one_move_at_a_time(small, smooth, hsv, quad, rank):
    # the grow step as it was: each side's moves tried one by one, the first the scoring prefers taken
    sh, sw = small.shape[:2]
    features = None
    brightest = detect._brightest(hsv)
    for side in range(4):
        for moved in _side_moves_one_side(smooth, quad, side, sw, sh):
            snapped = detect._refine(smooth, moved, radius=4.0, samples=24)
            if snapped is not None and cv2.isContourConvex(snapped.reshape(-1, 1, 2)):
                moved = order_corners(snapped)
            if not detect._paper_strip(smooth, quad, moved):
                continue
            support = detect._side_support(smooth, moved, offset=2.0)
            f = detect._features(smooth, hsv, moved, support, brightest)
            if float(f @ detect.SCORE_WEIGHTS) > rank + detect.GROW_GAIN:
                rank, quad, features = float(f @ detect.SCORE_WEIGHTS), moved, f
                break
    return rank, quad, features


def test_the_grow_step_measuring_all_moves_together_takes_the_moves_one_at_a_time_would(scenes):
    grown = 0
    for scene in scenes[:12]:
        small = detect.shrink(scene.image)
        smooth, hsv = detect.smoothed(small)
        for quad, _ in detect.scored_candidates(small, (), (smooth, hsv))[:4]:
            for rank in (-1.0, 0.5):   # low: every side's moves are tried, and some taken
                expected = _grow_one_move_at_a_time(small, smooth, hsv, quad, rank)
                got = detect._grow(small, smooth, hsv, quad, rank)
                assert got[0] == expected[0]
                np.testing.assert_array_equal(got[1], expected[1])
                assert (got[2] is None) == (expected[2] is None)
                if got[2] is not None:
                    np.testing.assert_array_equal(got[2], expected[2])
                    grown += 1
    assert grown >= 5


def test_every_sides_moves_at_once_are_each_sides_moves(scenes):
    # the grow step finds the edges beyond every remaining side in one sampling
    checked = 0
    for scene in scenes[:10]:
        small = detect.shrink(scene.image)
        smooth, hsv = detect.smoothed(small)
        sh, sw = small.shape[:2]
        for quad, _ in detect.scored_candidates(small, (), (smooth, hsv))[:4]:
            for first in (0, 2):
                together = detect._side_moves_many(smooth, quad, range(first, 4), sw, sh)
                alone = [(s, moved) for s in range(first, 4)
                         for moved in _side_moves_one_side(smooth, quad, s, sw, sh)]
                assert [s for s, _ in together] == [s for s, _ in alone]
                for (_, a), (_, b) in zip(together, alone, strict=True):
                    np.testing.assert_array_equal(a, b)
                checked += len(together)
    assert checked >= 10


def test_maps_one_at_a_time_are_the_maps_of_the_whole_list(scenes):
    for scene in scenes[:6]:
        small = detect.shrink(scene.image)
        maker = detect._MapMaker(small)
        one_by_one = [m for m in (maker.make(i) for i in reversed(range(detect.MAP_COUNT))) if m is not None]
        for a, b in zip(detect._maps(small), reversed(one_by_one), strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad", [np.zeros((0, 0, 3), np.uint8), np.zeros((4, 4, 3), np.uint8), None,
                                 np.zeros((20, 20, 3), np.float64)])
def test_bad_frames_raise_a_typed_error(bad):
    with pytest.raises(BadImage) as err:
        detect_page(bad)
    assert isinstance(err.value, ScanError) and isinstance(err.value, HardwareError)
    assert err.value.message_key == "scan.bad_image"


def test_rectify_gives_the_a4_aspect_and_modes_keep_or_drop_colour():
    rng = np.random.default_rng(11)
    scene = make_scene(rng, "wood")
    page = rectify(scene.image, scene.quad, size="a4", long_side=1000)
    h, w = page.shape[:2]
    assert max(h, w) == 1000 and abs(max(h, w) / min(h, w) - 297 / 210) < 0.01
    colour, grey, text = (enhance(page, m) for m in MODES)
    assert colour.ndim == 3 and grey.ndim == 2 and text.ndim == 2
    assert set(np.unique(text)) <= {0, 255}
    # paper is flattened to near white despite the lighting
    assert np.percentile(grey, 60) > 200


def test_red_seal_stays_red_in_colour_mode():
    page = np.full((400, 300, 3), 200, np.uint8)
    page[:, :150] = 150  # a shadow over half the page
    cv2.circle(page, (200, 300), 40, (40, 40, 200), 6)
    out = enhance(page, "colour")
    b, g, r = out[300, 240].astype(int)
    assert r > 150 and r - g > 60
    assert abs(int(out[50, 50].mean()) - int(out[50, 250].mean())) < 25  # shadow flattened


def test_encode_fits_the_target_and_reports_dimensions():
    rng = np.random.default_rng(5)
    scene = make_scene(rng, "cloth")
    page = enhance(rectify(scene.image, scene.quad, size="a4"), "colour")
    data, media, w, h = encode_page(page, target_bytes=200_000)
    assert len(data) <= 200_000 and media in ("image/jpeg", "image/webp")
    assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape[:2] == (h, w)
    with pytest.raises(BadImage):
        encode_page(np.zeros((0, 0), np.uint8))


def test_scan_page_keeps_the_whole_picture_when_no_page_is_found():
    blank = np.full((360, 640, 3), 90, np.uint8)
    page = scan_page(blank)
    assert page.found is False and page.width == 640


def test_quality_names_the_problem_first():
    rng = np.random.default_rng(8)
    scene = make_scene(rng, "plain")
    found = detect_page(scene.image)
    assert assess(scene.image, None, 0.0, Thresholds()).message_key == "scan.guide.no_page"
    moving = assess(scene.image, found, 50.0, Thresholds())
    assert "moving" in moving.problems
    blurred = cv2.GaussianBlur(scene.image, (0, 0), 6)
    assert "blurred" in assess(blurred, found, 0.0, Thresholds()).problems
    small = Detection(quad=found.quad, score=1.0, coverage=0.05)
    assert "too_small" in assess(scene.image, small, 0.0, Thresholds()).problems


def test_tracker_smooths_holds_and_reports_motion():
    quad = np.array([[100, 100], [500, 100], [500, 600], [100, 600]], np.float32)
    tracker = OutlineTracker(hold_frames=2)
    for i in range(5):
        tracker.update(Detection(quad + (i % 2), 1.0, 0.3), 1280)
    assert tracker.motion < 0.2
    assert tracker.update(None, 1280) is not None  # a missed frame keeps the outline
    tracker.update(None, 1280)
    assert tracker.update(None, 1280) is None


def test_autocapture_fires_once_after_the_hold():
    auto = AutoCapture(hold_s=1.0, cooldown_s=2.0)
    assert [auto.update(True, t) for t in (0.0, 0.5, 1.01, 1.5, 5.0)] == [False, False, True, False, False]
    auto.update(False, 6.0)
    assert auto.update(True, 6.1) is False and auto.update(True, 7.2) is True


class StallingCamera:
    def __init__(self):
        self.release = threading.Event()

    def read_frame(self):
        self.release.wait(30)
        return None

    def close(self):
        self.release.set()


def test_a_stalling_camera_never_hangs_the_caller():
    camera = StallingCamera()
    started = time.monotonic()
    assert read_within(camera, 0.3) is None
    now = [0.0]
    scanner = LiveScanner(camera, stall_s=1.0, clock=lambda: now[0])
    scanner.start()
    now[0] = 5.0
    view = scanner.latest()
    assert view.stalled and view.message_key == "scan.guide.no_camera"
    scanner.stop(timeout=0.2)
    assert time.monotonic() - started < 3
    camera.close()


class SteadyCamera:
    def __init__(self, frame):
        self.frame = frame

    def read_frame(self):
        return self.frame.copy()

    def close(self):
        pass


def test_live_scanner_auto_captures_a_steady_sharp_page():
    rng = np.random.default_rng(21)
    scene = make_scene(rng, "plain")
    while any(e in scene.effects for e in ("blur", "glare", "finger")) or scene.quad[:, 1].max() > 690 \
            or scene.quad[:, 1].min() < 30:
        scene = make_scene(rng, "plain")
    now = [0.0]
    scanner = LiveScanner(SteadyCamera(scene.image), Thresholds(min_coverage=0.1), hold_s=0.5,
                          clock=lambda: now[0])
    fired = False
    for _ in range(12):
        now[0] += 0.1
        view = scanner.step(scene.image)
        fired = fired or view.fire
    assert view.outline is not None and view.quality.ok, view.quality
    assert fired


def test_the_least_squares_lines_of_all_sides_at_once_are_opencvs():
    # ``_fit_lines``' refit: the centroid and principal axis in OpenCV's arithmetic, for every side at once
    rng = np.random.default_rng(5)
    points = np.empty((200, 48, 2), np.float32)
    for s in range(len(points)):
        angle, centre = rng.uniform(0, np.pi), rng.uniform(0, 1280, 2)
        along = rng.uniform(-300, 300, 48)
        points[s] = centre + along[:, None] * [np.cos(angle), np.sin(angle)] + rng.normal(0, 0.7, (48, 2))
    keep = rng.random((200, 48)) < 0.8
    keep[:, :6] = True
    got = detect._least_squares_lines(points, keep)
    for s in range(len(points)):
        expected = cv2.fitLine(points[s][keep[s]], cv2.DIST_L2, 0, 0.01, 0.01).ravel()
        np.testing.assert_allclose(got[s], expected, atol=1e-6)


def test_the_corners_of_many_quads_ordered_at_once_are_order_corners(scenes):
    rng = np.random.default_rng(3)
    quads = [order_corners(q) for scene in scenes if scene.quad is not None for q in [scene.quad]]
    quads += [np.asarray(q, np.float32)[rng.permutation(4)] for q in quads]     # shuffled corners
    quads += [q + rng.normal(0, 0.2, (4, 2)).astype(np.float32) for q in quads]
    got = detect._order_corners_many(quads)
    assert len(got) == len(quads)
    for quad, ordered in zip(quads, got, strict=True):
        np.testing.assert_array_equal(ordered, order_corners(quad))
    assert detect._order_corners_many([]) == []


def test_distinct_drops_the_quads_within_half_a_pixel_of_one_kept_before():
    a = np.array([[0, 0], [100, 0], [100, 80], [0, 80]], np.float32)
    b, c = a + 0.4, a + 0.6
    kept = detect._distinct([a, b, c, c + 0.3, a])
    assert [id(q) for q in kept] == [id(a), id(c)]
    assert detect._distinct([a]) == [a]
