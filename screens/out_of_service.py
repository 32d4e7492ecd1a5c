"""Out of service: the county locked this kiosk; only its notice shows, nothing can be started.

The notice is the county's text (from the ``lock`` command) or the standard words. There
is no button: the technician's hidden corner still opens maintenance with the PIN
(``screens.maintenance_door``). The navigator brings home back on ``unlock``.
"""

from __future__ import annotations

from kivy.properties import StringProperty

from screens.base import KioskScreen


class OutOfServiceScreen(KioskScreen):
    notice = StringProperty("")

    def refresh(self) -> None:
        self.notice = self.step.notice()
