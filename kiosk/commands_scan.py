"""`kiosk scan`: page detection and straightening from the command line.

    kiosk scan detect IMAGE... [--json]                      the page's corners in each picture
    kiosk scan rectify IMAGE --out FILE [--mode colour|grey|text]

``detect`` prints per picture ``{"file", "quad", "ms"}`` (``quad``: four ``[x, y]``
corners clockwise from top-left in the picture's own pixels, or null when there is no
page); a file that cannot be read as a picture gets ``{"file", "error", "message"}`` and
the others go on; the exit code is 2 when any file could not be read. ``rectify``
writes the straightened, cleaned page (the format from the file name's suffix; exit 2
when no page is found or the picture cannot be read).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

MODES = ("colour", "grey", "text")


Handler = Callable[[argparse.Namespace], int]


def register(subparsers: Any, common: argparse.ArgumentParser) -> dict[str, Handler]:
    scan = subparsers.add_parser("scan", parents=[common], help="find and straighten pages in pictures")
    actions = scan.add_subparsers(dest="scan_command", required=True, metavar="ACTION")
    detect = actions.add_parser("detect", parents=[common], help="the page's four corners in each picture")
    detect.add_argument("images", nargs="+", metavar="IMAGE")
    detect.add_argument("--json", action="store_true")
    rectify = actions.add_parser("rectify", parents=[common], help="write the straightened page")
    rectify.add_argument("image", metavar="IMAGE")
    rectify.add_argument("--out", required=True, metavar="FILE")
    rectify.add_argument("--mode", choices=MODES, default="colour")
    return {"scan": _dispatch}


def _dispatch(args: argparse.Namespace) -> int:
    return detect(args) if args.scan_command == "detect" else rectify(args)


def _translator(args: argparse.Namespace) -> Any:
    from kiosk.i18n import Translator

    lang = "zh"
    try:
        from kiosk.settings import load_settings

        lang = load_settings(Path(args.config) if args.config else None,
                             Path(args.data_dir) if args.data_dir else None).kiosk.language
    except Exception:  # a bad setting must not stop a look at a picture
        pass
    return Translator.load(lang=lang)


def read_image(path: str) -> np.ndarray:
    """The picture at ``path`` (BGR), or ``BadImage`` for a missing, empty, corrupt or oversized file.

    Through ``hardware.images``: a bounded read of a regular file, and the header's size
    checked before any pixel is decoded (a small PNG may claim 30000×30000 pixels).
    """
    from hardware import images
    from hardware.docscan.errors import BadImage
    from hardware.errors import ImageUnreadable

    try:
        return images.load(path)
    except ImageUnreadable as exc:
        raise BadImage(str(exc)) from exc


def detect(args: argparse.Namespace) -> int:
    from hardware.docscan.detect import detect_page

    t = _translator(args)
    failures = 0
    for path in args.images:
        try:
            image = read_image(path)
            start = time.perf_counter()
            found = detect_page(image)
            ms = round((time.perf_counter() - start) * 1000, 1)
        except Exception as exc:
            key = getattr(exc, "message_key", "scan.failed")
            failures += 1
            if args.json:
                print(json.dumps({"file": path, "quad": None, "error": key, "message": t.t(key)},
                                 ensure_ascii=False))
            else:
                print(f"{path}: {t.t(key)} ({exc})", file=sys.stderr)
            continue
        quad = None if found is None else found.as_list()
        if args.json:
            print(json.dumps({"file": path, "quad": quad, "ms": ms}, ensure_ascii=False))
        else:
            corners = " ".join(f"({x:.0f},{y:.0f})" for x, y in quad or [])
            where = t.t("scan.cli.no_page") if quad is None else corners
            print(f"{path}: {where}  [{ms} ms]")
    return 2 if failures else 0


def rectify(args: argparse.Namespace) -> int:
    from hardware.docscan.detect import detect_page
    from hardware.docscan.enhance import enhance
    from hardware.docscan.errors import EncodeFailed, NoPage
    from hardware.docscan.rectify import rectify as straighten

    t = _translator(args)
    image = read_image(args.image)
    found = detect_page(image)
    if found is None:
        raise NoPage("no page in the picture")
    page = enhance(straighten(image, found.quad), args.mode)
    out = Path(args.out)
    suffix = out.suffix.lower() or ".jpg"
    ok, buf = cv2.imencode(suffix if suffix in (".jpg", ".jpeg", ".png", ".webp") else ".jpg", page)
    if not ok:
        raise EncodeFailed("the page could not be encoded")
    try:
        out.write_bytes(buf.tobytes())
    except OSError as exc:
        raise EncodeFailed(f"cannot write the output ({exc.strerror or type(exc).__name__})") from exc
    h, w = page.shape[:2]
    print(t.t("scan.cli.written", out=str(out), width=w, height=h, bytes=len(buf),
              media_type="image/" + suffix.lstrip(".").replace("jpg", "jpeg")))
    return 0
