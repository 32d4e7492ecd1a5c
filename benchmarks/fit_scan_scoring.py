"""Fit the page detector's candidate scoring (``SCORE_WEIGHTS`` in ``hardware/docscan/detect.py``).

For every frame of the synthetic training sets (seeds 1–6 by default; never the seeds
the benchmark reports as held out: 7, 42, 2026), every candidate outline the detector scores is
described by its features (``detect._features``) and labelled with its Jaccard index
against the true page (the SmartDoc measure, as in ``benchmarks/scan.py``; −0.5 on a frame
without a page, so that anything found there scores low). A ridge regression from the
features to the label gives the weights; the detector keeps the candidate with the
highest prediction if it is at least ``MIN_SCORE``.

    .venv/bin/python benchmarks/fit_scan_scoring.py [--seeds 1,2,3,4,5,6] [--frames 300]

Prints, per training seed left out in turn, the mean Jaccard of the chosen (unrefined)
candidates with weights fitted on the other seeds, then the weights fitted on all of
them, ready to paste.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks.scan import jaccard  # noqa: E402
from hardware.docscan.detect import MIN_SCORE, check_frame, scored_candidates, shrink, to_frame  # noqa: E402
from hardware.docscan.synthetic import make_set  # noqa: E402

NO_PAGE_LABEL = -0.5
RIDGE = 1e-2


def collect(seed: int, frames: int) -> list[tuple[bool, list[tuple[np.ndarray, float]]]]:
    """Per frame: whether it holds a page, and each candidate's (features, Jaccard)."""
    out = []
    for scene in make_set(seed, frames):
        frame = check_frame(scene.image)
        small = shrink(frame)
        rows = [(features, jaccard(to_frame(quad, small.shape, frame.shape), scene.quad))
                for quad, features in scored_candidates(small)]
        out.append((scene.quad is not None, rows))
    return out


def fit(data: list) -> np.ndarray:
    x = np.array([f for _page, rows in data for f, _j in rows])
    y = np.array([j if page else NO_PAGE_LABEL for page, rows in data for _f, j in rows])
    return np.linalg.solve(x.T @ x + RIDGE * np.eye(x.shape[1]), x.T @ y)


def mean_jaccard(data: list, weights: np.ndarray) -> tuple[float, int]:
    scores, false_pages = [], 0
    for page, rows in data:
        ranked = [(float(f @ weights), j) for f, j in rows]
        best = max(ranked, default=None)
        if best is None or best[0] < MIN_SCORE:
            scores.append(0.0 if page else 1.0)
        else:
            scores.append(best[1] if page else 0.0)
            false_pages += not page
    return float(np.mean(scores)), false_pages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="1,2,3,4,5,6")
    parser.add_argument("--frames", type=int, default=300)
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    data = {seed: collect(seed, args.frames) for seed in seeds}
    for seed in seeds:
        rest = [frame for other in seeds if other != seed for frame in data[other]]
        score, false_pages = mean_jaccard(data[seed], fit(rest))
        print(f"seed {seed} left out: mean Jaccard {score:.4f} (unrefined), false pages {false_pages}")
    weights = fit([frame for seed in seeds for frame in data[seed]])
    print("SCORE_WEIGHTS = np.array([")
    for i in range(0, len(weights), 9):
        print("    " + ", ".join(f"{w:.4f}" for w in weights[i:i + 9]) + ",")
    print("])")
    return 0


if __name__ == "__main__":
    sys.exit(main())
