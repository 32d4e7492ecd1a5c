"""Scenarios for the catalog (categories, search), the guide's conditions, device problems,
maintenance and the out-of-service notice: run in the app's own process (``kivy_driver``).

One app start walks many screens; ``build_app`` is ``tests.screens.scenarios``'s, with a
camera and a printer taken away when ``params`` say so.
"""

from __future__ import annotations

from typing import Any

from tests.screens.scenarios_input import _draw, _line

# 生, as a finger writes it: 丿 一 丨 一 一
SHENG = (_line(0.35, 0.1, 0.2, 0.35), _line(0.25, 0.3, 0.8, 0.3), _line(0.5, 0.1, 0.5, 0.85),
         _line(0.25, 0.58, 0.75, 0.58), _line(0.1, 0.85, 0.9, 0.85))


def build_app(params: dict[str, Any]) -> Any:
    from tests.screens.scenarios import build_app as build

    app = build(params)
    if params.get("no_camera"):
        app.service.camera = None
    return app


def _collect(d: Any, widget_id: str, prefix: str) -> list[str]:
    """On the UI thread: the ``kiosk_id`` s starting with ``prefix`` under the widget ``widget_id``."""
    root = d._find(widget_id)
    return [w.kiosk_id for w in root.walk(restrict=True) if getattr(w, "kiosk_id", "").startswith(prefix)]


def _ids_under(d: Any, widget_id: str, prefix: str) -> list[str]:
    return list(d.call(_collect, d, widget_id, prefix))


def catalog_search_and_guide(d: Any, params: dict[str, Any]) -> dict[str, Any]:
    """Categories → one category's items → search by letters → by handwriting → the guide."""
    service = d.app.service
    out: dict[str, Any] = {}
    d.wait_for_screen("home")
    d.tap("start_button")
    d.wait_for_screen("catalog", timeout=20)
    out["categories"] = _ids_under(d, "side", "category_")
    out["first_items"] = _ids_under(d, "main", "service_")
    d.screenshot("20-catalog-categories")

    d.tap("category_assistance")
    d.wait_for(lambda: "service_GD-SAMPLE-004" in _collect(d, "main", "service_"), what="assistance items")
    out["assistance_items"] = _ids_under(d, "main", "service_")
    d.screenshot("21-catalog-category-assistance")

    d.tap("catalog_search")
    d.wait_for(lambda: service.steps.catalog.search_ready, timeout=60, what="the search to load")
    d.tap("letter_s")
    d.tap("letter_y")
    d.wait_for(lambda: bool(_collect(d, "side", "result_")), what="results for sy")
    out["letters_results"] = _ids_under(d, "side", "result_")
    out["letters_note"] = d.text("catalog_search_note")
    d.screenshot("22-catalog-search-letters")

    d.tap("catalog_by_hand")
    canvas = d.wait_for(lambda: d._find("pad_canvas"), what="the handwriting pad")
    for stroke in SHENG:
        d.call(_draw, stroke, canvas)
    d.wait_for(lambda: bool(canvas.parent.parent.candidates), timeout=10,
               what="handwriting candidates")
    out["hand_candidates"] = d.call(lambda: list(canvas.parent.parent.candidates))
    d.screenshot("23-catalog-search-hand")
    d.tap("pad_candidate_0")
    d.wait_for(lambda: bool(_collect(d, "side", "result_")), what="results for the character")
    out["hand_results"] = _ids_under(d, "side", "result_")
    d.screenshot("23b-catalog-search-hand-results")

    d.tap(out["hand_results"][0])
    d.wait_for_screen("guide")
    out["guide_item"] = service.visit.service_code
    d.screenshot("24-guide-conditions")
    out["conditions"] = d.text("guide_conditions")
    return out
