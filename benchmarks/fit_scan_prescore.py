"""Fit the page detector's pre-score (``PRESCORE_WEIGHTS`` in ``hardware/docscan/detect.py``).

Snapping a candidate outline to its edges and describing it for the scoring cost about 1 ms
each, and a frame has up to ``MAX_SCORED`` of them. The pre-score is a linear model over a
few cheap measures of the rough outline (``detect.prescore_features``) predicting the
snapped outline's Jaccard index with the true page; only the ``PRESCORED`` best go on.

For every frame of the training sets (training seeds only; held-out seeds are refused) each
plausible candidate is snapped, described and labelled as the detector does it. Frames
``--fit`` (a slice of each set, e.g. ``40:80``) give the ridge regression (page frames
only: on a frame without a page no candidate is better than another, and a subset of the
candidates can find no page where all of them found none). Frames ``--check`` (another
slice) are then run through the detector's choice (the best-scored candidate with edges
and print, unrefined, without the grow step) with all the candidates and with only the top
K by the pre-score, for each K: mean Jaccard, false pages, and on how many frames the
choice changed.

    .venv/bin/python benchmarks/fit_scan_prescore.py [--fit 40:80] [--check 0:40] [--k 4 5 6 8]

Prints the weights, ready to paste, and one JSON line last.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from hardware.docscan import detect, synthetic, synthetic_desks  # noqa: E402
from hardware.docscan.measure import jaccard  # noqa: E402

RIDGE = 0.1
DEFAULT_SETS = "desks:11,desks:12,desks:13,desks:14,first:1,first:2,first:3,first:4,first:5,first:6"


def scenes_of(name: str, count: int) -> list:
    kind, _, arg = name.partition(":")
    seed = int(arg)
    if kind == "desks":
        if seed not in synthetic_desks.TRAINING_SEEDS:
            raise SystemExit(f"{name}: training seeds only ({synthetic_desks.TRAINING_SEEDS})")
        return synthetic_desks.make_set(seed, count)
    if kind == "first":
        if not 1 <= seed <= 6:
            raise SystemExit(f"{name}: training seeds only (1-6)")
        return synthetic.make_set(seed, count)
    raise SystemExit(f"unknown set {name!r}: first:N or desks:N")


def collect(scene: Any) -> dict[str, Any]:
    """One frame's plausible candidates, as ``scored_candidates`` sees them before the cut."""
    frame = detect.check_frame(scene.image)
    small = detect.shrink(frame)
    sh, sw = small.shape[:2]
    smooth = cv2.GaussianBlur(small, (3, 3), 0)
    hsv = cv2.cvtColor(smooth, cv2.COLOR_BGR2HSV)
    brightest = detect._brightest(hsv)
    tried = [q for q in detect._candidates(small) if detect._plausible(q, sw, sh)][: detect.MAX_SCORED]
    rows: dict[str, Any] = {"page": scene.quad is not None, "pre": np.zeros((0, 14)), "quads": [],
                            "scores": [], "edged": [], "printed": [], "jaccard": []}
    if not tried:
        return rows
    rows["pre"] = detect.prescore_features(smooth, hsv, tried, brightest)
    for quad, snapped in zip(tried, detect._refine_many(smooth, tried, radius=6.0, samples=24), strict=True):
        if snapped is not None and cv2.isContourConvex(snapped.reshape(-1, 1, 2)):
            quad = detect.order_corners(snapped)
        features = detect._features(smooth, hsv, quad, detect._side_support(smooth, quad, offset=2.0),
                                    brightest)
        full = detect.to_frame(quad, small.shape, frame.shape)
        rows["quads"].append(quad)
        rows["scores"].append(float(features @ detect.SCORE_WEIGHTS))
        rows["edged"].append(detect.edged(features))
        rows["printed"].append(detect.print_level(frame, full) >= detect.MIN_PRINT)
        rows["jaccard"].append(jaccard(full, scene.quad, frame.shape))
    return rows


def choose(rows: dict[str, Any], keep: list[int]) -> float:
    """The detector's choice among the kept candidates (unrefined): its Jaccard (1/0 without a page)."""
    kept: list[int] = []
    for i in keep:  # the order of the candidates; a later one snapped onto an earlier one goes
        if not any(np.abs(rows["quads"][i] - rows["quads"][j]).max() < 0.5 for j in kept):
            kept.append(i)
    for i in sorted(kept, key=lambda i: (-rows["scores"][i], i)):
        if rows["scores"][i] < detect.MIN_SCORE:
            break
        if rows["edged"][i] and rows["printed"][i]:
            return float(rows["jaccard"][i]) if rows["page"] else 0.0
    return 0.0 if rows["page"] else 1.0


def top_k(pre: np.ndarray, weights: np.ndarray, k: int) -> list[int]:
    if len(pre) <= k:
        return list(range(len(pre)))
    order = np.argsort(-(pre @ weights), kind="stable")[:k]
    return sorted(int(i) for i in order)


def outcome(rows: list[dict[str, Any]], chosen: list[float], every: list[float]) -> dict[str, Any]:
    """Mean Jaccard and false pages of a choice, and on how many frames it differs from ``every``."""
    pairs = list(zip(every, chosen, strict=True))
    return {"mean_jaccard": round(float(np.mean(chosen)), 4),
            "false_pages": sum(int(not r["page"] and j == 0.0) for r, j in zip(rows, chosen, strict=True)),
            "changed": sum(int(abs(a - b) > 1e-9) for a, b in pairs),
            "worse": sum(int(b < a - 1e-9) for a, b in pairs)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default=DEFAULT_SETS)
    parser.add_argument("--fit", default="40:80", help="frames of each set to fit on (a slice)")
    parser.add_argument("--check", default="0:40", help="frames of each set to check on (a slice)")
    parser.add_argument("--k", type=int, nargs="*", default=[4, 5, 6, 7, 8])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)
    fit_slice = slice(*(int(v) for v in args.fit.split(":")))
    check_slice = slice(*(int(v) for v in args.check.split(":")))
    fit_rows: list[dict[str, Any]] = []
    check_rows: list[dict[str, Any]] = []
    for name in args.sets.split(","):
        scenes = scenes_of(name, max(fit_slice.stop, check_slice.stop))
        fit_rows += [collect(s) for s in scenes[fit_slice]]
        check_rows += [collect(s) for s in scenes[check_slice]]
        del scenes
        print(f"{name}: collected", file=sys.stderr, flush=True)
    x = np.concatenate([r["pre"] for r in fit_rows if r["page"] and r["jaccard"]])
    y = np.concatenate([r["jaccard"] for r in fit_rows if r["page"] and r["jaccard"]])
    weights = np.linalg.solve(x.T @ x + RIDGE * np.eye(x.shape[1]), x.T @ y)
    print("PRESCORE_WEIGHTS = np.array([")
    for i in range(0, len(weights), 7):
        print("    " + ", ".join(f"{w:.4f}" for w in weights[i:i + 7]) + ",")
    print("])")
    results: dict[str, Any] = {}
    for label, rows in (("fit", fit_rows), ("check", check_rows)):
        every = [choose(r, list(range(len(r["quads"])))) for r in rows]
        results[label] = {"frames": len(rows),
                          "candidates_mean": round(float(np.mean([len(r["quads"]) for r in rows])), 2),
                          "all": outcome(rows, every, every)}
        for k in args.k:
            chosen = [choose(r, top_k(r["pre"], weights, k)) for r in rows]
            results[label][f"top{k}"] = outcome(rows, chosen, every)
            results[label][f"top{k}"]["kept_share"] = round(float(np.mean(
                [min(k, len(r["quads"])) / max(len(r["quads"]), 1) for r in rows])), 3)
        print(label, json.dumps(results[label]), file=sys.stderr)
    weights_out = [round(float(w), 4) for w in weights]
    print(json.dumps({"benchmark": "fit_scan_prescore", "weights": weights_out, **results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
