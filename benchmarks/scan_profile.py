"""Where the page detector's time goes, and how it compares with another version of it.

Per stage (each candidate map, contours and quads, the snapping of candidates, the scoring
features, the print check, the grow step, the full-frame refinement), the median
milliseconds per frame over a fixed set of training frames (``time.perf_counter`` around
the detector's own functions; a stage inside another is counted in both). Then, with
``--against FILE`` (another ``detect.py``, e.g. ``git show main:hardware/docscan/detect.py``
saved somewhere), each frame through both detectors back to back in this process: the ratio
of their median times (wall), of their CPU times' median, mean and 90th percentile
(``time.process_time``, which counts both OpenCV threads), and both mean Jaccard indices and
false pages (training seeds only).

    .venv/bin/python benchmarks/scan_profile.py [--frames 30] [--skip 0] [--threads 1] [--against FILE]

Prints one JSON line last.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
import types
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from hardware.docscan import detect, synthetic, synthetic_desks  # noqa: E402
from hardware.docscan.measure import jaccard  # noqa: E402

STAGES = ("_edge_map", "_unlike_border", "_candidates", "scored_candidates", "_refine_many",
          "_side_supports_many", "_features_many", "print_level", "_grow", "shrink")


def training_frames(per_seed: int, desks: tuple[int, ...], first: tuple[int, ...], skip: int = 0) -> list:
    """``per_seed`` frames of each training seed, after its first ``skip``."""
    scenes: list[Any] = []
    for seed in desks:
        assert seed in synthetic_desks.TRAINING_SEEDS, "training seeds only"
        scenes += synthetic_desks.make_set(seed, skip + per_seed)[skip:]
    for seed in first:
        assert 1 <= seed <= 6, "training seeds only"
        scenes += synthetic.make_set(seed, skip + per_seed)[skip:]
    return scenes


def profile(scenes: list) -> dict[str, float]:
    """Median ms per frame in each stage (the snapping and the full-frame refinement apart)."""
    spent: dict[str, float] = defaultdict(float)
    originals = {name: getattr(detect, name) for name in STAGES}

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = name
            if name == "_refine_many":  # on the small copy (snapping) or the full frame
                key = "_refine_full" if args[0].shape[1] > 400 else "_refine_small"
            start = time.perf_counter()
            try:
                result = fn(*args, **kwargs)
            finally:
                spent[key] += time.perf_counter() - start
            # a lazy stage (``_candidates``) works while its items are asked for: time each step
            return timed_steps(key, result) if isinstance(result, types.GeneratorType) else result
        return wrapper

    def timed_steps(key: str, steps: Iterator[Any]) -> Iterator[Any]:
        while True:
            start = time.perf_counter()
            try:
                item = next(steps)
            except StopIteration:
                return
            finally:
                spent[key] += time.perf_counter() - start
            yield item

    per_frame: dict[str, list[float]] = defaultdict(list)
    try:
        for name, fn in originals.items():
            setattr(detect, name, timed(name, fn))
        for scene in scenes:
            spent.clear()
            start = time.perf_counter()
            detect.detect_page(scene.image)
            spent["total"] = time.perf_counter() - start
            for key in {*spent, "_refine_full", "_refine_small", *STAGES}:
                per_frame[key].append(spent.get(key, 0.0) * 1000)
    finally:
        for name, fn in originals.items():
            setattr(detect, name, fn)
    per_frame.pop("_refine_many", None)
    ordered = sorted(per_frame.items(), key=lambda kv: -sum(kv[1]))
    return {k: round(statistics.fmean(v), 2) for k, v in ordered}


def load_detector(path: str) -> Any:
    spec = importlib.util.spec_from_file_location("detect_against", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def interleaved(scenes: list, other: Any, rounds: int) -> dict[str, Any]:
    """Each frame through this detector and the other back to back (order alternating)."""
    times: dict[str, list[float]] = {"this": [], "other": []}
    cpu: dict[str, list[float]] = {"this": [], "other": []}   # process_time: both OpenCV threads count
    scores: dict[str, list[float]] = {"this": [], "other": []}
    false_pages = {"this": 0, "other": 0}
    quads: dict[str, list[Any]] = {"this": [], "other": []}
    for r in range(rounds):
        for i, scene in enumerate(scenes):
            order = [("this", detect), ("other", other)]
            if (i + r) % 2:
                order.reverse()
            for name, module in order:
                start, start_cpu = time.perf_counter(), time.process_time()
                found = module.detect_page(scene.image)
                times[name].append((time.perf_counter() - start) * 1000)
                cpu[name].append((time.process_time() - start_cpu) * 1000)
                if r == 0:
                    quad = None if found is None else found.quad
                    scores[name].append(jaccard(quad, scene.quad, scene.image.shape))
                    false_pages[name] += int(scene.quad is None and quad is not None)
                    quads[name].append(quad)
    med = {k: statistics.median(v) for k, v in times.items()}
    cpu_stats = {k: {"median": statistics.median(v), "mean": statistics.fmean(v),
                     "p90": float(np.percentile(v, 90))} for k, v in cpu.items()}
    return {
        "median_ms": {k: round(v, 2) for k, v in med.items()},
        "p90_ms": {k: round(float(np.percentile(v, 90)), 2) for k, v in times.items()},
        "ratio": round(med["this"] / med["other"], 3),
        "cpu_ms": {k: {m: round(v, 2) for m, v in stats.items()} for k, stats in cpu_stats.items()},
        # this ÷ the other, CPU time per frame: its median, mean and 90th percentile
        "cpu_ratio": {m: round(cpu_stats["this"][m] / cpu_stats["other"][m], 3)
                      for m in ("median", "mean", "p90")},
        "mean_jaccard": {k: round(statistics.fmean(v), 4) for k, v in scores.items()},
        "false_pages": false_pages,
        # outlines more than 0.01 px apart (or found by one only)
        "outlines_differing": sum(_differ(a, b) for a, b in zip(quads["this"], quads["other"], strict=True)),
    }


def _differ(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is not b
    return float(np.abs(a - b).max()) > 0.01


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=30, help="frames per seed")
    parser.add_argument("--skip", type=int, default=0, help="frames of each seed passed over first")
    parser.add_argument("--desks", type=int, nargs="*", default=[11])
    parser.add_argument("--first", type=int, nargs="*", default=[1])
    parser.add_argument("--threads", type=int, default=2, help="cv2.setNumThreads")
    parser.add_argument("--against", metavar="FILE", help="another detect.py to time against")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)
    scenes = training_frames(args.frames, tuple(args.desks), tuple(args.first), args.skip)
    for scene in scenes[:3]:  # warm up
        detect.detect_page(scene.image)
    line: dict[str, Any] = {"benchmark": "scan_profile", "frames": len(scenes), "threads": args.threads}
    if not args.no_profile:
        line["stages_ms"] = profile(scenes)
    if args.against:
        line["against"] = args.against
        line.update(interleaved(scenes, load_detector(args.against), args.rounds))
    print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
