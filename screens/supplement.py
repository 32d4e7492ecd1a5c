"""Supplement sent: "已补交，请等待县里审核", what was added, and one way out (完成).

The pages are sealed and queued when the screen shows (``SupplementStep.send``, once per
visit); if that fails (the queue is full), the popup says why and 完成 still ends the visit.
"""

from __future__ import annotations

from kivy.properties import StringProperty

from screens.base import KioskScreen


class SupplementScreen(KioskScreen):
    headline = StringProperty("")
    details = StringProperty("")

    def refresh(self) -> None:
        sent = self.run(self.step.send) if self.step.ready else None
        if sent is None:
            self.headline = self.tr("supplement.not_sent")
            self.details = ""
            return
        self.headline = self.tr("supplement.done")
        self.details = "\n".join([
            sent.service_name,
            self.tr("status.number", number=sent.number),
            self.tr("supplement.materials", materials="、".join(sent.materials)),
            self.tr("supplement.pages", count=sent.pages),
        ])

    def forget(self) -> None:
        self.headline = self.details = ""
