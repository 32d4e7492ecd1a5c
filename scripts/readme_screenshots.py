"""Small pictures of the main screens for README.md, from the size audit's PNGs.

Run the audit first (``pytest tests/screens/test_sizes.py`` and, for 1920×1080, the
audited walk ``tests/screens/test_gui.py::test_walk_every_screen_by_touch``): it saves
every screen at every supported size in ``tests/artifacts/size-<w>x<h>-<screen>.png``. This script
shrinks the main screens of the two orientations (1920×1080 and an upright 1080×1920)
into ``docs/screenshots/`` as small palette PNGs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
OUT = ROOT / "docs" / "screenshots"
SCREENS = ("01-home", "03-catalog", "05-form", "08-receipt")
SIZES = {"landscape": ((1920, 1080), 480), "upright": ((1080, 1920), 270)}


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    missing = []
    for orientation, ((width, height), shown_width) in SIZES.items():
        for screen in SCREENS:
            source = ARTIFACTS / f"size-{width}x{height}-{screen}.png"
            if not source.is_file():
                missing.append(source.name)
                continue
            with Image.open(source) as picture:
                small = picture.convert("RGB").resize((shown_width, round(shown_width * height / width)),
                                                      Image.Resampling.LANCZOS)
            small = small.quantize(colors=64, method=Image.Quantize.MEDIANCUT)
            small.save(OUT / f"{orientation}-{screen.split('-', 1)[1]}.png", optimize=True)
    if missing:
        print("missing (run tests/screens/test_sizes.py first): " + ", ".join(missing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
