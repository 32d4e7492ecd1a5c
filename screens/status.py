"""Status: the villager's applications, each with a coloured badge that says its state.

A correction shows what the county asked for in big plain words (the materials and the
clerk's reason) and a big 补交材料 button, which starts the capture of those materials.
"""

from __future__ import annotations

from kivy.properties import StringProperty

from screens.base import KioskScreen
from screens.widgets.status_card import status_card


class StatusScreen(KioskScreen):
    summary = StringProperty("")

    def refresh(self) -> None:
        rows = self.run(self.step.my_applications) or []
        box = self.ids.rows
        box.clear_widgets()
        self.summary = self.tr("status.count", count=len(rows)) if rows else self.tr("status.none")
        for i, row in enumerate(rows):
            box.add_widget(status_card(self, i, row, "status", self.supplement, self.print_result))

    def forget(self) -> None:
        self.ids.rows.clear_widgets()
        self.summary = ""

    def on_event_queue_changed(self) -> None:
        self.refresh()  # a status came back from the hall while the villager looks

    def print_result(self, entry_id: str) -> None:
        """打印结果单: fetched off the UI thread; ``result_ready`` says what became of it."""
        self.run(self.step.fetch_result, entry_id)

    def on_event_result_ready(self, entry_id: str, printed: bool, picture: bool, message: str,
                              message_key: str = "") -> None:
        shown = self.step.result_pictures() if picture and not printed else []
        if not shown:
            self.nav.show_error(message_key or "result.pdf")
            return
        from screens.widgets.result_view import ResultView

        if len(shown) > 1:  # say there is more than the first page, and how to reach it
            message = f"{message}\n{self.tr('result.pages_scroll', pages=len(shown))}"
        ResultView(shown, message, self.tr("common.ok")).open()

    def on_event_result_failed(self, message_key: str, message: str) -> None:
        self.nav.show_error(message_key)

    def supplement(self, entry_id: str) -> None:
        """补交材料: photograph what the county asked for (a missing camera: plain words, stay here)."""
        if self.run(self.step.start_supplement, entry_id):
            self.nav.forward()
