"""Guide: what the chosen item is, who can apply (受理条件), what it needs and how long it takes."""

from __future__ import annotations

from kivy.properties import StringProperty

from screens.base import KioskScreen


class GuideScreen(KioskScreen):
    item_name = StringProperty("")
    guide_text = StringProperty("")
    conditions_text = StringProperty("")
    materials_text = StringProperty("")
    facts_text = StringProperty("")

    def refresh(self) -> None:
        info = self.run(self.step.guide)
        if not info:
            return
        self.item_name = info["name"]
        self.guide_text = info["guide"]
        conditions = info["conditions"] or [self.tr("guide.conditions_none")]
        self.conditions_text = "\n".join(f"•  {c}" for c in conditions)
        self.materials_text = "\n".join(f"•  {m}" for m in info["materials"])
        self.facts_text = "\n".join((
            self.tr("guide.days", days=info["days_text"]),
            self.tr("guide.fee", fee=info["fee"]),
            self.tr("guide.visits", visits=info["visits_text"]),
        ))
