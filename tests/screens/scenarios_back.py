"""Going back from the capture screen: the screens before it were dropped and are built again.

While the capture screen shows, the catalog, guide and form screens are out of the screen
manager (``screens.table.DROPPED_WHEN_SHOWN``: their widgets and label textures freed); the
way back builds each again from its step, with what the villager typed and chose: the
form's values, the catalog's search and its letters.
"""

from __future__ import annotations

import time
from typing import Any

from tests.screens.scenarios import SERVICE
from tests.screens.scenarios_sizes import build_app  # noqa: F401 - the app the test starts (params["size"])

DROPPED = ("catalog", "guide", "form")


def _built(d: Any) -> list[str]:
    """The screens in the screen manager (on the UI thread: ``wait_for`` runs its test there)."""
    return list(d.app.nav.manager.screen_names)


def _back(d: Any, to: str) -> float:
    """Tap the top bar's back button; seconds until ``to`` shows and two frames are drawn."""
    start = time.perf_counter()
    d.tap("back_button")
    d.wait_for_screen(to, timeout=30)
    d.wait_frames(2)
    return time.perf_counter() - start


def back_from_capture(d: Any, params: dict[str, Any]) -> dict[str, Any]:
    service = d.app.service
    size = params.get("tag", "")
    d.wait_for_screen("home")
    d.tap("start_button")
    d.wait_for_screen("catalog", timeout=20)
    d.tap("catalog_search")
    d.wait_for(lambda: service.steps.catalog.search_ready, timeout=60, what="the catalog's search")
    d.tap("letter_y")
    d.tap("letter_l")
    d.tap(f"result_{SERVICE}")
    d.wait_for_screen("guide")
    d.tap("guide_start")
    d.wait_for_screen("form")
    d.tap("field_phone")
    for digit in "13800138000":
        d.tap(f"keypad_{digit}")
    d.tap("choice_grade_360")
    d.tap("choice_bank_psbc")
    d.wait_for(lambda: service.visit.fields.get("phone") == "13800138000", what="the phone number")
    d.tap("form_next")
    d.wait_for_screen("capture")
    d.wait_for(lambda: not set(DROPPED) & set(_built(d)), timeout=20, what="the screens behind dropped")
    at_capture = d.call(_built, d)
    d.tap("capture_shoot")
    d.wait_for(lambda: len(service.steps.capture.pages) == 1, timeout=20, what="one page")

    took = {"form": _back(d, "form")}
    d.screenshot(f"back-01-form{size}")
    form = {"phone": d.text("field_phone"), "grade": d.text("choice_grade_360"),
            "bank": d.text("choice_bank_psbc")}
    d.tap("form_next")  # forward again: the page taken is still there
    d.wait_for_screen("capture")
    d.wait_for(lambda: not set(DROPPED) & set(_built(d)), timeout=20, what="the screens dropped again")
    pages = len(service.steps.capture.pages)
    took["form_again"] = _back(d, "form")
    took["guide"] = _back(d, "guide")
    d.screenshot(f"back-02-guide{size}")
    guide_start = d.exists("guide_start")
    took["catalog"] = _back(d, "catalog")
    d.screenshot(f"back-03-catalog{size}")
    catalog = d.call(lambda: d.app.nav.manager.current_screen)
    searching = d.call(lambda: (catalog.searching, catalog.letters))
    result = d.exists(f"result_{SERVICE}")
    d.tap("catalog_by_category")
    d.wait_for(lambda: d.exists(f"service_{SERVICE}"), what="the categories again", on_ui=False)
    d.call(d.app.nav.home)
    d.wait_for_screen("home")
    fields = None if service.visit is None else dict(service.visit.fields)
    return {"at_capture": at_capture, "form": form, "pages": pages, "guide_start": guide_start,
            "searching": list(searching), "result_shown": result, "visit_fields": fields,
            "back_ms": {k: round(v * 1000) for k, v in took.items()}}
