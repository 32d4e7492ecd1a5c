"""Draws the synthetic document photos in ``hardware/samples/`` that the replay camera serves.

A page (title, ruled table, text-like strokes, a red seal) lies slightly turned on a
wood-coloured desk, as a document camera would see it. Deterministic; regenerate with::

    .venv/bin/python -m hardware.sample_images
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from hardware.camera import SAMPLES_DIR

WIDTH, HEIGHT = 1280, 960


def _wood(rng: np.random.Generator) -> np.ndarray:
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    grain = np.sin(y / 9.0 + 3.0 * np.sin(x / 170.0)) * 0.5 + 0.5
    base = np.array([60, 105, 150], np.float32)  # BGR, a warm brown
    wood = base[None, None, :] * (0.82 + 0.18 * grain[..., None])
    wood += rng.normal(0, 2.0, (HEIGHT, WIDTH, 1)).astype(np.float32)
    image: np.ndarray = np.clip(wood, 0, 255).astype(np.uint8)
    return image


def _page(title: str, rows: int, rng: np.random.Generator) -> np.ndarray:
    page_w, page_h = 700, 960
    page = np.full((page_h, page_w, 3), (232, 240, 244), np.uint8)
    cv2.rectangle(page, (30, 30), (page_w - 30, page_h - 30), (70, 70, 70), 3)
    font = cv2.FONT_HERSHEY_DUPLEX
    (tw, _), _ = cv2.getTextSize(title, font, 1.6, 3)
    cv2.putText(page, title, ((page_w - tw) // 2, 105), font, 1.6, (30, 30, 30), 3, cv2.LINE_AA)
    cv2.putText(page, "SAMPLE - NOT A REAL DOCUMENT", (190, 145), font, 0.6, (90, 90, 90), 1, cv2.LINE_AA)
    top, bottom = 180, page_h - 170
    step = (bottom - top) // rows
    for i in range(rows + 1):
        cv2.line(page, (60, top + i * step), (page_w - 60, top + i * step), (80, 80, 80), 2)
    for x in (60, 230, page_w - 60):
        cv2.line(page, (x, top), (x, top + rows * step), (80, 80, 80), 2)
    for i in range(rows):
        y = top + i * step + step // 2
        for x0, x1 in ((75, 215), (245, page_w - 75)):
            x = x0
            while x < x1 - 20:  # text-like strokes of varying length
                w = int(rng.integers(14, 40))
                cv2.line(page, (x, y), (min(x + w, x1), y), (40, 40, 40), 3)
                x += w + int(rng.integers(6, 14))
    cv2.circle(page, (page_w - 170, page_h - 100), 62, (40, 40, 200), 5, cv2.LINE_AA)
    cv2.circle(page, (page_w - 170, page_h - 100), 52, (40, 40, 200), 2, cv2.LINE_AA)
    star = [
        (page_w - 170 + int(30 * np.sin(a)), page_h - 100 - int(30 * np.cos(a)))
        for a in np.linspace(0, 4 * np.pi, 6)[:-1]
    ]
    cv2.fillPoly(page, [np.array(star, np.int32)], (40, 40, 200), cv2.LINE_AA)
    return page


def draw_sample(title: str, rows: int, corners: list[tuple[int, int]], seed: int) -> np.ndarray:
    """The page warped onto the desk so that its corners land on ``corners`` (TL, TR, BR, BL)."""
    rng = np.random.default_rng(seed)
    desk = _wood(rng)
    page = _page(title, rows, rng)
    h, w = page.shape[:2]
    src = np.array([(0, 0), (w, 0), (w, h), (0, h)], np.float32)
    matrix = cv2.getPerspectiveTransform(src, np.array(corners, np.float32))
    warped = cv2.warpPerspective(page, matrix, (WIDTH, HEIGHT))
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), matrix, (WIDTH, HEIGHT))
    shadow = cv2.GaussianBlur(np.roll(mask, (12, 12), axis=(0, 1)), (31, 31), 0)
    desk = (desk.astype(np.float32) * (1 - 0.35 * shadow[..., None] / 255.0)).astype(np.uint8)
    desk[mask > 0] = warped[mask > 0]
    return desk


SAMPLES = {
    "household_register.jpg": ("HOUSEHOLD REGISTER", 8, [(330, 40), (1010, 75), (965, 925), (280, 890)], 1),
    "land_contract.jpg": ("LAND CONTRACT", 10, [(300, 90), (940, 40), (1000, 900), (360, 935)], 2),
}


def main(folder: Path = SAMPLES_DIR) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (title, rows, corners, seed) in SAMPLES.items():
        path = folder / name
        cv2.imwrite(str(path), draw_sample(title, rows, corners, seed), [cv2.IMWRITE_JPEG_QUALITY, 80])
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in main():
        print(written_path, written_path.stat().st_size, "bytes")
