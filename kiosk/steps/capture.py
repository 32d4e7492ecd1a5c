"""Capture: the camera preview, page detection and the pages taken, one material after another.

On ``enter`` the step borrows the camera from its ``DeviceLease`` and runs the live
scanner on it (``hardware.docscan.live``: camera and detection on their own thread); on
``leave`` it stops and gives the camera back. The screen only asks for the latest view
(``live_preview``: the scanner's scaled RGB preview buffer, no copy; ``scan_preview``: a scaled RGB copy;
neither waits). Pages, the material being photographed and the last
frame are the ``Visit``'s. Events: ``scan_guidance`` (message_key, text: a hook for a voice
prompt), ``page_taken`` (index, material_id, auto).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from hardware.camera import read_within
from kiosk.certificates import covered_materials
from kiosk.presentation import (
    PREVIEW_MAX_WIDTH,
    THUMB_MAX_WIDTH,
    ActionFailed,
    Image,
    MaterialRow,
    ScanPreview,
    guarded,
    to_image,
)
from kiosk.steps.context import Step, StepContext
from kiosk.steps.table import CAPTURE, REVIEW, SUPPLEMENT
from kiosk.visit import Page

if TYPE_CHECKING:
    from hardware.docscan.live import LiveScanner

log = logging.getLogger(__name__)

FRAME_WAIT_S = 2.0

# OpenCV and the page detection (a quarter of a second on a busy kiosk) are imported where they are
# used, not on the way to the home screen's first frame; ``kiosk.warmup`` imports them off the UI
# thread once that frame is drawn, so the capture screen does not wait for them either.
DEFERRED_IMPORTS = ("cv2", "hardware.docscan.detect", "hardware.docscan.live", "hardware.docscan.page")


@dataclass(frozen=True)
class LivePreview:
    """The capture screen's live picture, without a copy: the scanner's preview buffer, drawn as it is.

    ``frame`` is RGB, top row first, scaled for the screen by the scanner's thread into one of
    a few buffers it reuses (read it at once, never write to it); ``sequence`` changes with
    each new frame, so a screen draws each frame once.
    """

    frame: np.ndarray
    sequence: int
    outline: tuple[tuple[float, float], ...]  # the page's part inside the frame, in ``frame``'s pixels
    message_key: str
    guidance: str           # translated advice
    ok: bool                # every check passes
    progress: float         # 0–1, the hold before auto-capture
    fire: bool              # take the page now (once)
    stalled: bool


def visible_outline(quad: np.ndarray, width: int, height: int,
                    scale: float = 1.0) -> tuple[tuple[float, float], ...]:
    """A page outline cut to the frame as a whole (its true corners may lie outside), scaled."""
    from hardware.docscan.detect import clip_to_frame

    part = clip_to_frame(quad, width, height)
    return tuple((float(x) * scale, float(y) * scale) for x, y in part) if len(part) >= 3 else ()


class CaptureStep(Step):
    name = CAPTURE

    def __init__(self, ctx: StepContext) -> None:
        super().__init__(ctx)
        self._scanner: LiveScanner | None = None
        self.guidance_key = ""

    # -- the step: the camera is borrowed while the screen shows ------------------------

    def enter(self) -> None:
        self.start_scanning()

    def next_step(self) -> str:
        """On to the review; when answering a correction, to the supplement's confirmation."""
        return SUPPLEMENT if self.supplementing else REVIEW

    @property
    def supplementing(self) -> bool:
        """The pages answer a correction (``kiosk.steps.supplement``): only the named materials."""
        visit = self.ctx.visit
        return visit is not None and visit.supplement_for is not None

    def leave(self) -> None:
        self.stop_scanning()

    def start_scanning(self) -> None:
        """Borrow the camera and start the live scanner (camera, outline, quality checks)."""
        camera = self.ctx.camera.lend(self)
        if camera is None:
            self.ctx.camera.release(self)
            return
        scan = self.ctx.settings.scan
        if self._scanner is None or self._scanner.camera is not camera:
            from hardware.docscan.live import LiveScanner

            self._scanner = LiveScanner(camera, scan, auto_capture=scan.auto_capture, hold_s=scan.hold_s,
                                        paced=True)  # camera reads no faster than the screen draws
        self.guidance_key = ""
        self._scanner.start()

    def stop_scanning(self) -> None:
        self.give_back()
        self.ctx.camera.release(self)

    def give_back(self) -> None:
        if self._scanner is not None:
            self._scanner.stop()

    @property
    def scanning(self) -> bool:
        return self._scanner is not None and self._scanner.running

    # -- the picture -----------------------------------------------------------------------

    def camera_frame(self, max_width: int = PREVIEW_MAX_WIDTH) -> Image | None:
        """The next preview frame as RGB, or None when the camera has nothing now (never waits long)."""
        camera = self.ctx.camera.device
        if camera is None:
            return None
        if self._scanner is not None and self._scanner.running:
            frame = self._scanner.latest().frame
        else:
            try:
                frame = read_within(camera, FRAME_WAIT_S)
            except Exception as exc:
                log.warning("camera frame failed: %s", type(exc).__name__)
                return None
        if frame is None:
            return None
        visit = self.ctx.visit
        if visit is not None:
            visit.last_frame = frame  # a picture that may show a document: the visit's, wiped with it
        return to_image(frame, max_width)

    def scan_preview(self, max_width: int = PREVIEW_MAX_WIDTH) -> ScanPreview | None:
        """The newest live view for the screen, at once; None before the first frame."""
        if self._scanner is None:
            return None
        view = self._scanner.latest()
        if view.frame is None:
            self._announce(view.message_key if view.stalled or view.error_key else "scan.guide.waiting")
            return None
        image = to_image(view.frame, max_width)
        h, w = view.frame.shape[:2]
        outline = () if view.outline is None else visible_outline(view.outline.quad, w, h, image.width / w)
        key = view.message_key
        self._announce(key)
        return ScanPreview(image=image, outline=outline, message_key=key, guidance=self.t(key),
                           ok=view.quality.ok and not view.stalled, progress=view.progress, fire=view.fire,
                           stalled=view.stalled)

    def live_preview(self) -> LivePreview | None:
        """The newest live view for the screen, at once and without copying the frame."""
        if self._scanner is None:
            return None
        view = self._scanner.latest()
        if view.frame is None:
            self._announce(view.message_key if view.stalled or view.error_key else "scan.guide.waiting")
            return None
        h, w = view.frame.shape[:2]
        picture = view.preview
        if picture is None:  # an odd frame the scanner made no preview of: the slow way, once
            # a writable copy: the screen's texture upload refuses a read-only buffer
            picture = np.frombuffer(bytearray(to_image(view.frame, PREVIEW_MAX_WIDTH).rgb), np.uint8).reshape(
                -1, min(w, PREVIEW_MAX_WIDTH), 3)
        scale = picture.shape[1] / w
        outline = () if view.outline is None else visible_outline(view.outline.quad, w, h, scale)
        key = view.message_key
        self._announce(key)
        return LivePreview(frame=picture, sequence=view.sequence, outline=outline, message_key=key,
                           guidance=self.t(key), ok=view.quality.ok and not view.stalled,
                           progress=view.progress, fire=view.fire, stalled=view.stalled)

    def guidance(self) -> str:
        """The current advice, translated (before the first frame: "waiting for the camera")."""
        return self.t(self.guidance_key or "scan.guide.waiting")

    def _announce(self, key: str) -> None:
        if key != self.guidance_key:
            self.guidance_key = key
            self.ctx.events.emit("scan_guidance", message_key=key, text=self.t(key))

    # -- pages -------------------------------------------------------------------------------

    @guarded
    def capture_page(self, material_id: str | None = None, auto: bool = False) -> int:
        """Take the page in view: straightened, cleaned and compressed; returns its index."""
        visit, item = self.ctx.need_visit(), self.ctx.need_item()
        material_id = material_id or self.current_material_id()
        item.material(material_id)  # raises for a material the item does not have
        frame, quad = None, None
        camera = self.ctx.camera.device
        if self._scanner is not None and self._scanner.running:
            view = self._scanner.latest()
            frame = view.frame
            quad = None if view.outline is None else view.outline.quad
        elif camera is not None:
            frame = read_within(camera, FRAME_WAIT_S)
        if frame is None:
            frame = visit.last_frame
        if frame is None:
            raise ActionFailed("capture.no_frame", "no frame")
        from hardware.docscan.page import scan_page

        scan = self.ctx.settings.scan
        page = scan_page(frame, quad, mode=scan.mode, paper=scan.paper, long_side=scan.long_side,
                         target_bytes=scan.target_kb * 1000, formats=scan.formats)
        visit.add_page(Page(material_id=material_id, data=page.data, media_type=page.media_type,
                            width=page.width, height=page.height))
        visit.touch(self.ctx.clock())
        if self._scanner is not None and not auto:
            self._scanner.rearm()
        index = len(visit.pages) - 1
        self.ctx.events.emit("page_taken", index=index, material_id=material_id, auto=auto)
        return index

    @property
    def pages(self) -> list[Page]:
        visit = self.ctx.visit
        return list(visit.pages) if visit is not None else []

    def page_thumbnail(self, index: int, max_width: int = THUMB_MAX_WIDTH) -> Image | None:
        pages = self.pages
        if not 0 <= index < len(pages):
            return None
        import cv2

        frame = cv2.imdecode(np.frombuffer(pages[index].data, np.uint8), cv2.IMREAD_COLOR)
        return None if frame is None else to_image(frame, max_width)

    @guarded
    def delete_page(self, index: int) -> None:
        visit = self.ctx.need_visit()
        if 0 <= index < len(visit.pages):
            visit.remove_page(index)
        visit.touch(self.ctx.clock())

    # -- materials ---------------------------------------------------------------------------

    def materials_to_capture(self) -> list[MaterialRow]:
        item, lang = self.ctx.current_item, self.language
        if item is None:
            return []
        pages = self.pages
        visit = self.ctx.visit
        covered = covered_materials(item, visit.certificates if visit is not None else None)
        must = {m.id for m in item.capture_materials()}
        named = visit.supplement_materials if visit is not None and visit.supplement_for else None
        if named is not None:
            must = set(named)  # a correction: exactly what the county asked for, each needed
        return [
            MaterialRow(id=m.id, name=m.name.get(lang), required=m.id in must, count=max(1, m.count),
                        pages=sum(1 for p in pages if p.material_id == m.id),
                        e_certificate=bool(m.e_certificate))
            for m in item.materials
            # a correction: the named materials only; else what the card and agreed e-certificates leave
            if (m.id in must if named is not None else not m.covered_by_card and m.id not in covered)
        ]

    def current_material_id(self) -> str:
        rows = self.materials_to_capture()
        if not rows:
            raise ActionFailed("capture.no_materials", "no materials")
        return rows[min(self.material_index, len(rows) - 1)].id

    @property
    def material_index(self) -> int:
        visit = self.ctx.visit
        return visit.material_index if visit is not None else 0

    def select_material(self, index: int) -> None:
        visit = self.ctx.visit
        if visit is not None:
            visit.material_index = max(0, min(index, len(self.materials_to_capture()) - 1))

    def next_material(self) -> bool:
        """Move to the next material; False when the current one was the last."""
        visit = self.ctx.visit
        if visit is not None and visit.material_index + 1 < len(self.materials_to_capture()):
            visit.material_index += 1
            return True
        return False

    def page_done(self) -> None:
        """After a page: when the current material has all its pages, go on to the next."""
        rows = self.materials_to_capture()
        if not rows:
            return
        current = rows[min(self.material_index, len(rows) - 1)]
        if current.pages >= current.count:
            self.next_material()

    def missing_materials(self) -> list[str]:
        """Translated names of required materials with no page yet."""
        return [r.name for r in self.materials_to_capture() if r.required and r.pages == 0]

    def close(self) -> None:
        self.leave()
