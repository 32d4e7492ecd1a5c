"""The grid worker's worklist: the applications they made, a correction answered on the spot."""

from __future__ import annotations

from kivy.properties import StringProperty

from screens.base import KioskScreen
from screens.widgets.status_card import status_card


class WorklistScreen(KioskScreen):
    summary = StringProperty("")

    def refresh(self) -> None:
        rows = self.run(self.step.rows)
        box = self.ids.rows
        box.clear_widgets()
        if rows is None:  # signed out meanwhile: the popup said so
            self.summary = ""
            return
        self.summary = (self.tr("worklist.count", worker_id=self.step.worker_id, count=len(rows)) if rows
                        else self.tr("worklist.none"))
        for i, row in enumerate(rows):
            box.add_widget(status_card(self, i, row, "worklist", self.supplement))

    def forget(self) -> None:
        self.ids.rows.clear_widgets()
        self.summary = ""

    def on_event_queue_changed(self) -> None:
        if self.manager is not None and self.manager.current == self.name:
            self.refresh()  # a status came back from the hall while the worker looks

    def on_event_worklist_reasons(self) -> None:
        if self.manager is not None and self.manager.current == self.name:
            self.refresh()  # the staff card opened the county's reasons (or could not)

    def supplement(self, entry_id: str) -> None:
        """Add the missing page now (a missing camera: plain words, the worklist stays)."""
        if self.run(self.step.start_supplement, entry_id):
            self.nav.forward()
