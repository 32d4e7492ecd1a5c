"""The visit is wiped as one: every way of identifying a villager, then a search for what is left.

``every_path_then_search`` runs the real app (``tests.screens.scenarios_codes_staff.build_app``:
the SAM simulator, a camera that can be shown a code, the real PC/SC reader with vpcd) through
each path that brings personal data in — the ID card, an ID number typed on the keypad, a
social security card, a receipt QR, and a grid worker applying on a villager's behalf — and
ends each with finish, cancel or the idle timeout. After each it searches

* every object reachable from the app (``gc.get_referents`` from the app and from the live
  frames of every other thread, plus Kivy's caches and the log filter's names),
* the text of every widget (every screen, built or shown, and every popup),

for the villagers' names, ID numbers, phone and address in UTF-8, UTF-16 and GB18030. The
parent test searches the data directory after the app has ended.

Not searched: what stands for the physical world — the cards themselves (the sample-card
constants, the SAM simulator holding a card "on the reader", the virtual PC/SC card) and
this scenario's own frames (it knows the secrets it looks for).
"""

from __future__ import annotations

import gc
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

from hardware.sample_cards import ELDERLY_VILLAGER, MIDDLE_AGED_VILLAGER
from tests.screens.scenarios import SERVICE
from tests.screens.scenarios_codes_staff import build_app as build_codes_staff_app
from tests.screens.signing import sign_and_submit

PHONE = "13800138000"
ENCODINGS = ("utf-8", "utf-16-le", "gb18030")


def secrets() -> dict[str, str]:
    """What must not outlive a visit, by a name for the report (never the value)."""
    return {
        "elderly.name": ELDERLY_VILLAGER.name, "elderly.id_number": ELDERLY_VILLAGER.id_number,
        "elderly.address": ELDERLY_VILLAGER.address, "phone": PHONE,
        "middle.name": MIDDLE_AGED_VILLAGER.name, "middle.id_number": MIDDLE_AGED_VILLAGER.id_number,
    }


def _needles() -> list[tuple[str, str, bytes]]:
    return [(label, value, value.encode(enc)) for label, value in secrets().items() for enc in ENCODINGS]


def build_app(params: dict[str, Any]) -> Any:
    """``scenarios_codes_staff.build_app`` logging to the data directory, as `kiosk run` does."""
    from pathlib import Path

    from kiosk.privacy import setup_logging

    setup_logging(Path(params["data_dir"]), console=False)
    return build_codes_staff_app(params)


# -- the search --------------------------------------------------------------------------------

_NOT_DESCENDED = (types.ModuleType, type, types.CodeType, types.BuiltinFunctionType, types.FrameType)
_PHYSICAL = ("hardware.sam_simulator", "hardware.pty_device", "hardware.vpcd_card", "hardware.sample_cards",
             "tests.")


def _physical(obj: Any) -> bool:
    module = getattr(type(obj), "__module__", "") or ""
    return module.startswith(_PHYSICAL)


def _referents(obj: Any) -> list[Any]:
    if isinstance(obj, types.FunctionType):  # its defaults and closure, not the module it lives in
        out = list(obj.__defaults__ or ()) + list((obj.__kwdefaults__ or {}).values())
        out += [c.cell_contents for c in obj.__closure__ or () if _has_contents(c)]
        return out
    if isinstance(obj, types.MethodType):
        return [obj.__self__, obj.__func__]
    return gc.get_referents(obj)


def _has_contents(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises
    except ValueError:
        return False
    return True


def _hits(obj: Any, needles: list[tuple[str, str, bytes]]) -> list[str]:
    if isinstance(obj, str):
        return [label for label, value, _raw in needles if value in obj]
    if isinstance(obj, bytes | bytearray):
        return [label for label, _value, raw in needles if raw in obj]
    return []


def search_objects(roots: list[Any], skip_thread: int | None) -> list[str]:
    """Labels of the secrets found in the graph reachable from ``roots`` and the threads' frames."""
    needles = _needles()
    physical = {id(card) for card in (ELDERLY_VILLAGER, MIDDLE_AGED_VILLAGER)}
    here = sys._getframe()
    stack: list[Any] = list(roots)
    for ident, frame in sys._current_frames().items():
        if ident == skip_thread:
            continue  # the scenario's own thread: it holds the secrets it searches for
        while frame is not None:
            if frame is not here and frame.f_code.co_filename != __file__:
                stack.append(dict(frame.f_locals))
            frame = frame.f_back
    seen: set[int] = set()
    found: list[str] = []
    while stack:
        obj = stack.pop()
        if id(obj) in seen or id(obj) in physical:
            continue
        seen.add(id(obj))
        found += [f"{label} in a {type(obj).__name__}" for label in _hits(obj, needles)]
        if isinstance(obj, str | bytes | bytearray | int | float) or isinstance(obj, _NOT_DESCENDED):
            continue
        if _physical(obj):
            continue
        stack.extend(_referents(obj))
    return sorted(set(found))


def kivy_roots() -> list[Any]:
    """Kivy's module-level caches (label textures are cached by text) and the log filters' names."""
    from kivy.cache import Cache

    from kiosk import privacy

    return [getattr(Cache, "_objects", {}), getattr(Cache, "_categories", {}),
            [f._names for f in list(getattr(privacy, "_filters", ()))]]


def search_widgets(app: Any) -> list[str]:
    """Labels of the secrets shown in the text of any widget: every screen (shown or not), popups."""
    from kivy.core.window import Window

    needles = _needles()
    found: list[str] = []
    tops = list(Window.children) + list(app.nav.manager.screens)
    seen: set[int] = set()
    while tops:
        widget = tops.pop()
        if id(widget) in seen:
            continue
        seen.add(id(widget))
        for name in ("text", "hint_text", "title", "message"):
            value = getattr(widget, name, None)
            if isinstance(value, str):
                found += [f"{label} in {type(widget).__name__}.{name}" for label in _hits(value, needles)]
        tops.extend(widget.children)
        tops.extend(getattr(widget, "ids", {}).values())
    return sorted(set(found))


def search_everything(d: Any, where: str) -> dict[str, list[str]]:
    scenario_thread = threading.get_ident()

    def search() -> dict[str, list[str]]:
        gc.collect()
        return {"objects": search_objects([d.app, *kivy_roots()], scenario_thread),
                "widgets": search_widgets(d.app)}

    found = d.call(search, timeout=120)
    return {f"{where}: {kind}": labels for kind, labels in found.items() if labels}


# -- the paths ---------------------------------------------------------------------------------


def _identify_by_card(d: Any, start: str) -> None:
    service = d.app.service
    simulator = service.id_reader.simulator
    simulator.remove_card()
    d.tap(start)
    d.wait_for_screen("identify")
    simulator.present_card(ELDERLY_VILLAGER)


def _open_form_and_type_the_phone(d: Any) -> None:
    d.tap(f"service_{SERVICE}")
    d.wait_for_screen("guide")
    d.tap("guide_start")
    d.wait_for_screen("form")
    # the form asks the hall for e-certificates as it opens and builds its rows again when the
    # answer comes (at once here: no hall); a touch in that moment lands on the rows being replaced
    visit = d.app.service.visit
    d.wait_for(lambda: getattr(visit.certificates, "state", "") != "looking", what="the certificates asked")
    d.wait_frames(2)
    d.tap("field_phone")
    for digit in PHONE:
        d.tap(f"keypad_{digit}")


def _fill_form_and_capture(d: Any) -> None:
    service = d.app.service
    _open_form_and_type_the_phone(d)
    d.tap("choice_grade_360")
    d.tap("choice_bank_psbc")
    d.tap("form_next")
    d.wait_for_screen("capture")
    d.wait_for(lambda: service.steps.capture.camera_frame() is not None, what="a camera frame")
    d.tap("capture_shoot")
    d.wait_for(lambda: len(service.steps.capture.pages) == 1, what="one page")
    d.tap("capture_next")
    d.wait_for_screen("review")


def path_card_to_receipt(d: Any) -> None:
    """The ID card, the whole form, a page, confirm, the receipt, done (finish)."""
    _identify_by_card(d, "start_button")
    d.wait_for_screen("catalog", timeout=20)
    _fill_form_and_capture(d)
    during = search_everything(d, "during")  # the search itself must see a visit that runs
    assert any(label.startswith("elderly.name") for label in during.get("during: objects", [])), during
    assert any(label.startswith("phone") for label in during.get("during: widgets", [])), during
    d.tap("review_confirm")
    sign_and_submit(d)  # consent and signature seal it
    d.wait_for_screen("receipt", timeout=20)
    d.app.service.id_reader.simulator.remove_card()  # the villager takes the card home
    d.tap("receipt_done")
    d.tap("rating_skip")  # 好差评 is skippable
    d.wait_for_screen("home")


def path_typed_number(d: Any) -> None:
    """No card: the ID number typed on the keypad, the form filled, then 回首页 (cancel)."""
    d.app.service.id_reader.simulator.remove_card()
    d.tap("start_button")
    d.wait_for_screen("identify")
    d.tap("manual_entry")
    for key in MIDDLE_AGED_VILLAGER.id_number:
        d.tap("manual_x" if key == "X" else f"keypad_{key}")
    d.tap("manual_ok")
    d.wait_for_screen("catalog", timeout=20)
    _open_form_and_type_the_phone(d)
    d.tap("home_button")
    d.wait_for_screen("home")


def path_social_security_card(d: Any) -> None:
    """查进度 with a social security card on the PC/SC reader (real pcscd + vpcd), then done."""
    from hardware.vpcd_card import VpcdCard, sample_social_security_card

    d.app.service.id_reader.simulator.remove_card()
    d.tap("status_button")
    d.wait_for_screen("identify")
    with VpcdCard(sample_social_security_card()):
        d.wait_for_screen("status", timeout=20)
    d.tap("status_done")
    d.wait_for_screen("home")


def path_receipt_qr_then_idle(d: Any, tmp: str) -> None:
    """查进度 by the receipt QR held up to the camera, then the villager walks away (idle timeout)."""
    service = d.app.service
    service.id_reader.simulator.remove_card()
    d.tap("status_button")
    d.wait_for_screen("identify")
    service.camera.hold_up(f"{tmp}/receipt_qr.png")
    d.wait_for_screen("status", timeout=20)
    service.camera.hold_up(None)
    service.keeper.idle_timeout_s = 2.0  # walk away now rather than after five minutes
    d.wait_for_screen("home", timeout=20)  # quietly: the status was seen, nothing was abandoned
    assert d._find("popup_ok") is None, "a wipe notice after a finished visit"
    service.keeper.idle_timeout_s = float(service.settings.kiosk.idle_timeout_s)


def path_grid_worker(d: Any) -> None:
    """A grid worker signs in (staff card + PIN), applies with a villager's ID card, cancels, signs out."""
    from hardware.vpcd_card import VpcdCard, sample_staff_card

    service = d.app.service
    with VpcdCard(sample_staff_card()):
        d.wait_for(lambda: d._find("pin_ok") is not None, timeout=20, what="the PIN keypad")
        for digit in "123456":
            d.tap(f"keypad_{digit}")
        d.tap("pin_ok")
        d.wait_for(lambda: d._find("pin_ok") is None, timeout=15, what="the keypad to close")
    d.wait_for(lambda: service.staff is not None, what="the grid worker signed in")
    _identify_by_card(d, "start_button")
    d.wait_for_screen("catalog", timeout=20)
    _fill_form_and_capture(d)
    d.app.service.id_reader.simulator.remove_card()
    d.tap("home_button")
    d.wait_for_screen("home")
    d.tap("staff_logout")
    d.wait_for(lambda: service.staff is None, what="the sign-out")


def every_path_then_search(d: Any, params: dict[str, Any]) -> dict[str, Any]:
    """The paths named in ``params["paths"]`` (all of ``PATHS`` when not given), each then a search."""
    d.wait_for_screen("home")
    d.app.service.id_reader.simulator.remove_card()
    left: dict[str, list[str]] = {}
    left.update(search_everything(d, "before any visit"))  # the app must start clean too
    done = []
    for name in params.get("paths") or list(PATHS):
        PATHS[name](d, params)
        d.wait_frames(5)
        left.update(search_everything(d, name))
        done.append(name)
    return {"left": left, "paths": done}


# name -> the path; the last two need the PC/SC reader (``params["pcsc_reader"]``)
PATHS: dict[str, Callable[[Any, dict[str, Any]], None]] = {
    "card, finish": lambda d, _params: path_card_to_receipt(d),
    "typed number, cancel": lambda d, _params: path_typed_number(d),
    "receipt QR, idle timeout": lambda d, params: path_receipt_qr_then_idle(d, params["tmp"]),
    "social security card, done": lambda d, _params: path_social_security_card(d),
    "grid worker, cancel": lambda d, _params: path_grid_worker(d),
}
PCSC_PATHS = ("social security card, done", "grid worker, cancel")
