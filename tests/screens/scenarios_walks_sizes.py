"""Issue 10's end-to-end walks at every supported size, in ONE app start (marker ``gui``).

The app starts at the first size of ``params["sizes"]``; for each next size its window is
resized while it runs (``scenarios_sizes._resize``: the screens are built again, as on a
display rotated), and the same walks run again. An app start costs more than a walk on a
loaded machine, and the suite is over its time budget: one start for every size.

Each walk starts and ends on the home screen with no visit, so that the next one (or the
next size) begins as the next villager would. Taps go through the real touch path
(``Driver.tap``): a control outside the window, out of its list's view or covered at that
size fails the walk (``TapMissed``). Every picture is ``walk-<W>x<H>-<name>.png``.

Walks (``WALKS``), each ``walk(d, out)``:

* ``end``: the idle warning, a touch keeps the visit, then the wipe and its notice; a whole
  application (card, item 001, form, a page, review, consent, signature) to the receipt of a
  kiosk without a printer (note the number, the QR), the rating by touch (found on the
  hall), take your card;
* ``search``: the catalog's search by pinyin initials and by a character written by hand,
  then the guide of what it found, and the way home;
* ``devices``: no camera (the home notice, the item that needs a photo explained and not
  opened), the camera back; the county's lock (the out-of-service notice) and unlock;
* ``item_008``: the voice's buttons, then a card that will not read: the ID number typed,
  item 008's names by handwriting and pinyin, to the receipt (``scenarios_input``);
* ``correction``: the grid worker's correction asked on the real hall, answered from the
  worklist, joined and accepted on the hall (``scenarios_walk_correction``).

With ``params["hall_url"]`` (the test enrols the kiosk with a real ``county-hall serve``
first) the app sends through the real sync worker, as `kiosk run` does: every application
and rating of the walks reaches that hall.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hardware.sample_cards import ELDERLY_VILLAGER
from tests.screens import scenarios_end
from tests.screens.scenarios import SERVICE
from tests.screens.scenarios_input import walk_item_008
from tests.screens.scenarios_sizes import _resize
from tests.screens.scenarios_sizes import build_app as build_sized_app
from tests.screens.scenarios_walk_correction import hall_rating, synced, walk_correction
from tests.screens.signing import sign_and_submit

# The sync worker passes when a walk or the app wakes it (after a confirmation), not on a timer:
# a pass is a signed request to the hall, and the walks take minutes
SYNC_INTERVAL_S = 600.0


def build_app(params: dict[str, Any]) -> Any:
    """The GUI tests' app (simulated card reader and camera, no printer) at the first size; with
    ``params["hall_url"]`` enrolled with that hall (``data_dir`` holds its identity) and sending
    through the real sync worker, as `kiosk run` wires it."""
    app = build_sized_app({**params, "size": params["sizes"][0]})
    app.walk_params = params  # what a walk needs beyond the app (the hall's database)
    if params.get("hall_url"):
        _sync_worker(app)
    return app


def _sync_worker(app: Any) -> None:
    from kiosk.runtime import open_sync_engine
    from offline_queue.sync import SyncWorker

    service = app.service
    worker = SyncWorker(open_sync_engine(service.settings, service.queue), SYNC_INTERVAL_S,
                        on_event=service.on_sync_event)
    service.sync_worker = worker
    worker.start()
    app.bind(on_stop=lambda *_args: worker.stop())


class SizedDriver:
    """A driver whose pictures carry the window's size in their name; all else is the real driver's."""

    def __init__(self, driver: Any, size: tuple[int, int]) -> None:
        self._driver = driver
        self.prefix = "walk-{}x{}-".format(*size)
        self.pictures: list[str] = []

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._driver, attr)

    def screenshot(self, name: str) -> Any:
        self.pictures.append(self.prefix + name)
        return self._driver.screenshot(self.prefix + name)


def _card_on_reader(d: Any) -> None:
    d.app.service.id_reader.simulator.present_card(ELDERLY_VILLAGER)


def walk_end(d: Any, out: dict[str, Any]) -> None:
    """Idle warning and wipe; an application to the receipt (no printer), the rating, take your card."""
    service = d.app.service
    _card_on_reader(d)
    scenarios_end._idle_warning_then_wipe(d, out)
    scenarios_end._apply_to_review(d)
    before = len(service.queue.entries())
    d.tap("review_confirm")
    d.wait_for_screen("signature")
    out["queued_before_signing"] = len(service.queue.entries()) - before  # consent and signature first
    sign_and_submit(d, shots=True)  # an empty pad refused with a message, then agreed and signed
    d.wait_for_screen("receipt", timeout=30)
    out["keep"] = d.text("receipt_keep")
    out["qr"] = d.call(lambda: d._find("qr").texture is not None)
    d.screenshot("22c-receipt-no-printer")
    scenarios_end._receipt_rating_take_card(d, out)  # takes the pictures of the rating and take-card
    out["queued"] = len(service.queue.entries()) - before  # sealed, and maybe sent already
    # the rating travels as its own record, woken after it was given: at the hall
    out["hall_rating"] = synced(d, lambda: hall_rating(d, out["receipt_number"]), "the rating at the hall")


def walk_devices(d: Any, out: dict[str, Any]) -> None:
    """No camera: marked on home, explained in the catalog; the camera back. Then the county's lock."""
    from kiosk.agent.actions import Kit, lock, unlock
    from kiosk.agent.state import AgentState

    service = d.app.service
    camera = service.camera
    service.camera = None
    d.call(service.ctx.devices.check)
    no_camera = service.t("home.notice.no_camera")
    home = d.app.nav.current_screen
    d.call(home.refresh)  # home shows the notices of the devices as they are now
    d.wait_for(lambda: no_camera in home.notice_text, what="the no-camera notice on home")
    out["home_notice"] = no_camera
    d.screenshot("30-home-no-camera")
    _card_on_reader(d)
    d.tap("start_button")
    d.wait_for_screen("catalog", timeout=30)
    service.id_reader.simulator.remove_card()
    d.screenshot("31-catalog-no-camera")
    d.tap(f"service_{SERVICE}")
    d.wait_for(lambda: d._find("popup_ok") is not None, what="the 'no camera' message")
    out["blocked_message"] = d.text("popup_message")
    d.screenshot("32-catalog-no-camera-explained")
    d.tap("popup_ok")
    d.wait_for(lambda: d._find("popup_ok") is None, what="the message to close")
    out["still_catalog"] = d.current_screen()
    service.camera = camera  # a technician plugged it in again
    d.call(service.ctx.devices.check)
    d.tap("home_button")  # the villager's way out
    d.wait_for_screen("home")
    d.wait_for(lambda: service.visit is None, what="the visit to end")

    kit = Kit(data_dir=service.settings.data_dir, queue=service.queue, state=AgentState(),
              health=lambda: {}, emit=lambda what, payload: service.emit("fleet", what=what, payload=payload))
    lock(kit, {"notice": "本机正在维修，请到镇政务服务中心办理。"})  # as the running app's agent does
    d.wait_for_screen("out_of_service")
    out["locked_notice"] = d.text("out_of_service_notice")
    d.screenshot("36-out-of-service")
    unlock(kit, {})
    d.wait_for_screen("home")
    out["unlocked"] = d.current_screen()


def walk_search(d: Any, out: dict[str, Any]) -> None:
    """The catalog's search: pinyin initials (s, y), then 生 written by hand; its first item's guide."""
    from tests.screens.scenarios_input import _draw
    from tests.screens.scenarios_screens_a import SHENG, _collect, _ids_under

    service = d.app.service
    _card_on_reader(d)
    d.tap("start_button")
    d.wait_for_screen("catalog", timeout=30)
    service.id_reader.simulator.remove_card()
    d.tap("catalog_search")
    d.wait_for(lambda: service.steps.catalog.search_ready, timeout=60, what="the search to load")
    d.tap("letter_s")
    d.tap("letter_y")
    d.wait_for(lambda: bool(_collect(d, "side", "result_")), what="results for sy")
    out["letters_results"] = _ids_under(d, "side", "result_")
    d.screenshot("25-catalog-search-letters")
    d.tap("catalog_by_hand")
    canvas = d.wait_for(lambda: d._find("pad_canvas"), what="the handwriting pad")
    for stroke in SHENG:
        d.call(_draw, stroke, canvas)
    d.wait_for(lambda: bool(canvas.parent.parent.candidates), timeout=30, what="handwriting candidates")
    out["hand_candidates"] = d.call(lambda: list(canvas.parent.parent.candidates))[:3]
    d.screenshot("26-catalog-search-hand")
    d.tap("pad_candidate_0")
    d.wait_for(lambda: bool(_collect(d, "side", "result_")), what="results for the character")
    out["hand_results"] = _ids_under(d, "side", "result_")
    d.tap(out["hand_results"][0])
    d.wait_for_screen("guide")
    out["guide_item"] = service.visit.service_code
    d.screenshot("27-guide-from-search")
    d.tap("home_button")  # the villager's way out
    d.wait_for_screen("home")
    d.wait_for(lambda: service.visit is None, what="the visit to end")


WALKS: dict[str, Callable[[Any, dict[str, Any]], None]] = {
    "end": walk_end, "search": walk_search, "devices": walk_devices, "item_008": walk_item_008,
    "correction": walk_correction,
}


def walks_at_every_size(d: Any, params: dict[str, Any]) -> dict[str, Any]:
    """The walks of ``params["walks"]`` (all of ``WALKS`` when not given) at each size of
    ``params["sizes"]``; per size: each walk's findings and the pictures taken."""
    import time

    d.default_timeout = 30  # a loaded machine: seconds per frame
    results: dict[str, Any] = {}
    for n, raw in enumerate(params["sizes"]):
        size = (int(raw[0]), int(raw[1]))
        started = time.monotonic()
        if n:
            _resize(d, size)
        sized = SizedDriver(d, size)
        found: dict[str, Any] = {}
        for name in params.get("walks") or list(WALKS):
            out: dict[str, Any] = {}
            try:
                WALKS[name](sized, out)
            except BaseException as exc:
                sized.screenshot(f"failed-{name}")
                raise AssertionError(f"walk {name!r} at {size[0]}x{size[1]}: {exc}") from exc
            found[name] = out
        found["pictures"] = sized.pictures
        found["seconds"] = round(time.monotonic() - started, 1)
        results["{}x{}".format(*size)] = found
    return results
