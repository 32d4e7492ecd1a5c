"""Fit the page detector's candidate scoring (``SCORE_WEIGHTS`` in ``hardware/docscan/detect.py``).

For every frame of the training sets (both generators' training seeds by default:
``synthetic.py`` seeds 1–6 and ``synthetic_desks.py``'s ``TRAINING_SEEDS``; never a held-out
seed, which is refused; plus folders of labelled real photos with ``--photos DIR``), every
candidate outline the detector scores is described by its features (``detect._features``)
and labelled with its Jaccard index against the true page (the SmartDoc measure, as in
``benchmarks/scan.py``; −0.5 on a frame without a page, so that anything found there
scores low). A ridge regression from the
features to the label gives the weights; the detector keeps the candidate with the
highest prediction if it is at least ``MIN_SCORE`` and has edges (``detect.edged``).

    .venv/bin/python benchmarks/fit_scan_scoring.py [--sets first:1:60,...,desks:11:200,...] [--frames 300]
                                                    [--photos DIR]

Prints, per training set left out in turn, the mean Jaccard of the chosen (unrefined)
candidates with weights fitted on the other sets (and of the best candidate there was),
then the weights fitted on all of them, ready to paste.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from hardware.docscan import synthetic_desks  # noqa: E402
from hardware.docscan.detect import (  # noqa: E402
    MIN_SCORE,
    check_frame,
    edged,
    scored_candidates,
    shrink,
    to_frame,
)
from hardware.docscan.measure import jaccard  # noqa: E402
from hardware.docscan.photos import load_photos  # noqa: E402
from hardware.docscan.synthetic import make_set  # noqa: E402

NO_PAGE_LABEL = -0.5
RIDGE = 0.1  # 0.01 before the 42 features: 0.1 chose better on the first generator's seed 6 left out
DEFAULT_SETS = ("first:1:60,first:2:60,first:3:60,first:4:60,first:5:60,first:6:60,"
                "desks:11:200,desks:12:200,desks:13:200,desks:14:200")


def scenes_of(name: str, frames: int) -> list:
    """``first:N`` / ``desks:N`` (a generator and a seed; ``desks:N:COUNT`` sets that set's
    frame count) or ``photos:DIR``."""
    kind, _, arg = name.partition(":")
    if kind == "photos":
        return load_photos(arg)
    arg, _, count = arg.partition(":")
    frames = int(count) if count else frames
    if kind == "desks":
        seed = int(arg)
        if seed in synthetic_desks.HELD_OUT_SEEDS:
            raise SystemExit(f"{name} is held out: never fit on it")
        return synthetic_desks.make_set(seed, frames)
    if kind == "first":
        if int(arg) in (7, 42, 2026):
            raise SystemExit(f"{name} is held out: never fit on it")
        return make_set(int(arg), frames)
    raise SystemExit(f"unknown set {name!r}: first:N, desks:N or photos:DIR")


def collect(scenes: list) -> list[tuple[bool, list[tuple[np.ndarray, float]]]]:
    """Per frame: whether it holds a page, and each candidate's (features, Jaccard)."""
    out = []
    for scene in scenes:
        frame = check_frame(scene.image)
        small = shrink(frame)
        rows = [(features, jaccard(to_frame(quad, small.shape, frame.shape), scene.quad, frame.shape))
                for quad, features in scored_candidates(small)]
        out.append((scene.quad is not None, rows))
    return out


def fit(data: list) -> np.ndarray:
    x = np.array([f for _page, rows in data for f, _j in rows])
    y = np.array([j if page else NO_PAGE_LABEL for page, rows in data for _f, j in rows])
    return np.linalg.solve(x.T @ x + RIDGE * np.eye(x.shape[1]), x.T @ y)


def mean_jaccard(data: list, weights: np.ndarray) -> tuple[float, int, float]:
    """Mean Jaccard of the chosen candidates, false pages, and the best possible choice's mean."""
    scores, best_possible, false_pages = [], [], 0
    for page, rows in data:
        ranked = [(float(f @ weights), j) for f, j in rows if edged(f)]
        best = max(ranked, default=None)
        best_possible.append(max((j for _f, j in rows), default=0.0) if page else 1.0)
        if best is None or best[0] < MIN_SCORE:
            scores.append(0.0 if page else 1.0)
        else:
            scores.append(best[1] if page else 0.0)
            false_pages += not page
    return float(np.mean(scores)), false_pages, float(np.mean(best_possible))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default=DEFAULT_SETS,
                        help="comma-separated first:SEED, desks:SEED, photos:DIR (training sets only)")
    parser.add_argument("--photos", metavar="DIR", action="append", default=[],
                        help="a folder of labelled photos to fit on as well")
    parser.add_argument("--frames", type=int, default=300)
    args = parser.parse_args()
    names = [n for n in args.sets.split(",") if n] + [f"photos:{d}" for d in args.photos]
    data = {name: collect(scenes_of(name, args.frames)) for name in names}
    for name in names:
        rest = [frame for other in names if other != name for frame in data[other]]
        score, false_pages, possible = mean_jaccard(data[name], fit(rest))
        print(f"{name} left out: mean Jaccard {score:.4f} (unrefined; best candidate {possible:.4f}), "
              f"false pages {false_pages}")
    weights = fit([frame for name in names for frame in data[name]])
    print("SCORE_WEIGHTS = np.array([")
    for i in range(0, len(weights), 9):
        print("    " + ", ".join(f"{w:.4f}" for w in weights[i:i + 9]) + ",")
    print("])")
    return 0


if __name__ == "__main__":
    sys.exit(main())
