"""The capture step of the presenter: the camera preview, page detection and pages taken.

Mixed into ``kiosk.service.KioskService`` (which provides the session, the settings,
``emit`` and ``t``). The camera and the detector run on their own thread
(``hardware.docscan.live``); the screen only asks for the latest view.
"""

from __future__ import annotations

import logging
from typing import Any

from kiosk.presentation import (
    PREVIEW_MAX_WIDTH,
    THUMB_MAX_WIDTH,
    ActionFailed,
    Image,
    MaterialRow,
    ScanPreview,
    _to_image,
    guarded,
)

log = logging.getLogger(__name__)


class CaptureMixin:
    # -- the camera -----------------------------------------------------------------

    def camera_frame(self, max_width: int = PREVIEW_MAX_WIDTH) -> Image | None:
        """The next preview frame as RGB, or None when the camera has nothing now (never waits long)."""
        if self.camera is None:
            return None
        if self._scanner is not None and self._scanner.running:
            frame = self._scanner.latest().frame
        else:
            from hardware.camera import read_within

            try:
                frame = read_within(self.camera, 2.0)
            except Exception as exc:
                log.warning("camera frame failed: %s", type(exc).__name__)
                return None
        if frame is None:
            return None
        self._last_frame = frame
        return _to_image(frame, max_width)

    def start_scanning(self) -> None:
        """Start the live scanner (camera, page outline, quality checks) on its own thread."""
        if self.camera is None:
            return
        self.stop_code_scan()  # one reader of the camera at a time
        if self._scanner is None:
            from hardware.docscan.live import LiveScanner

            scan = self.settings.scan
            self._scanner = LiveScanner(self.camera, scan, auto_capture=scan.auto_capture, hold_s=scan.hold_s)
        self._guidance_key = ""
        self._scanner.start()

    def stop_scanning(self) -> None:
        if self._scanner is not None:
            self._scanner.stop()

    def scan_preview(self, max_width: int = PREVIEW_MAX_WIDTH) -> ScanPreview | None:
        """The newest live view for the screen, at once; None before the first frame."""
        if self._scanner is None:
            return None
        view = self._scanner.latest()
        if view.frame is None:
            key = view.message_key if view.stalled or view.error_key else "scan.guide.waiting"
            self._announce(key)
            return None
        image = _to_image(view.frame, max_width)
        scale = image.width / view.frame.shape[1]
        outline = (
            ()
            if view.outline is None
            else tuple((float(x) * scale, float(y) * scale) for x, y in view.outline.quad)
        )
        key = view.message_key
        self._announce(key)
        return ScanPreview(
            image=image,
            outline=outline,
            message_key=key,
            guidance=self.t(key),
            ok=view.quality.ok and not view.stalled,
            progress=view.progress,
            fire=view.fire,
            stalled=view.stalled,
        )

    def _announce(self, key: str) -> None:
        if key != self._guidance_key:
            self._guidance_key = key
            self.emit("scan_guidance", message_key=key, text=self.t(key))

    @guarded
    def capture_page(self, material_id: str | None = None, auto: bool = False) -> int:
        """Take the page in view: straightened, cleaned and compressed; returns its index."""
        from hardware.camera import read_within
        from hardware.docscan.page import scan_page
        from kiosk.session import Page

        session, item = self._need_session(), self._need_item()
        material_id = material_id or self.current_material_id()
        if hasattr(item, "material"):
            item.material(material_id)  # raises for a material the item does not have
        frame, quad = None, None
        if self._scanner is not None and self._scanner.running:
            view = self._scanner.latest()
            frame = view.frame
            quad = None if view.outline is None else view.outline.quad
        elif self.camera is not None:
            frame = read_within(self.camera, 2.0)
        if frame is None:
            frame = self._last_frame
        if frame is None:
            raise ActionFailed("capture.no_frame", "no frame")
        scan = self.settings.scan
        page = scan_page(
            frame,
            quad,
            mode=scan.mode,
            paper=scan.paper,
            long_side=scan.long_side,
            target_bytes=scan.target_kb * 1000,
            formats=scan.formats,
        )
        session.add_page(
            Page(
                material_id=material_id,
                data=page.data,
                media_type=page.media_type,
                width=page.width,
                height=page.height,
            )
        )
        session.touch(self.clock())
        if self._scanner is not None and not auto:
            self._scanner.rearm()
        index = len(session.pages) - 1
        self.emit("page_taken", index=index, material_id=material_id, auto=auto)
        return index

    @property
    def pages(self) -> list[Any]:
        session = self.keeper.current
        return list(session.pages) if session is not None else []

    def page_thumbnail(self, index: int, max_width: int = THUMB_MAX_WIDTH) -> Image | None:
        import cv2
        import numpy as np

        pages = self.pages
        if not 0 <= index < len(pages):
            return None
        frame = cv2.imdecode(np.frombuffer(pages[index].data, np.uint8), cv2.IMREAD_COLOR)
        return None if frame is None else _to_image(frame, max_width)

    @guarded
    def delete_page(self, index: int) -> None:
        session = self._need_session()
        if 0 <= index < len(session.pages):
            session.remove_page(index)
        session.touch(self.clock())

    def materials_to_capture(self) -> list[MaterialRow]:
        item, lang = self.current_item, self.language
        if item is None:
            return []
        pages = self.pages
        must = {m.id for m in item.capture_materials()}
        return [
            MaterialRow(
                id=m.id,
                name=m.name.get(lang),
                required=m.id in must,
                count=max(1, m.count),
                pages=sum(1 for p in pages if p.material_id == m.id),
                e_certificate=bool(m.e_certificate),
            )
            for m in item.materials
            if not m.covered_by_card
        ]

    def current_material_id(self) -> str:
        rows = self.materials_to_capture()
        if not rows:
            raise ActionFailed("capture.no_materials", "no materials")
        return rows[min(self._material_index, len(rows) - 1)].id

    @property
    def material_index(self) -> int:
        return self._material_index

    def select_material(self, index: int) -> None:
        rows = self.materials_to_capture()
        self._material_index = max(0, min(index, len(rows) - 1))

    def next_material(self) -> bool:
        """Move to the next material; False when the current one was the last."""
        rows = self.materials_to_capture()
        if self._material_index + 1 < len(rows):
            self._material_index += 1
            return True
        return False

    def missing_materials(self) -> list[str]:
        """Translated names of required materials with no page yet."""
        return [r.name for r in self.materials_to_capture() if r.required and r.pages == 0]
