"""The size audit's scenario: the walk of every screen, audited at one window size.

``walk_every_screen`` (``tests.screens.scenarios``) is reused as it is: it is handed a
driver whose ``screenshot(name)`` audits the window (``tests.screens.audit``) instead of
only saving it. Screens of the screen table (``screens.table``) that the walk does not
reach are then shown one by one through the navigator and audited too, so that a screen
added to the table is audited without a change here.
"""

from __future__ import annotations

from typing import Any

from tests.screens import scenarios
from tests.screens.audit import audit


def build_app(params: dict[str, Any]) -> Any:
    """The GUI tests' app, with a window of ``params["size"]`` (width, height)."""
    from kiosk.app import KioskApp

    service = scenarios.build_service(params)
    width, height = params["size"]
    settings = service.settings.with_overrides({"display.width": width, "display.height": height})
    return KioskApp(service=service, settings=settings)


class AuditingDriver:
    """A driver whose screenshots are audits; every other call goes to the real driver."""

    def __init__(self, driver: Any, plain_names: bool = False) -> None:
        self._driver = driver
        self.plain_names = plain_names  # also save <name>.png, as the plain walk does
        self.problems: list[str] = []
        self.screens: dict[str, str] = {}  # screen name -> the picture that showed it first

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._driver, attr)

    def screenshot(self, name: str) -> Any:
        import shutil

        from kivy.core.window import Window

        self.problems += audit(self._driver, name)
        self.screens.setdefault(self._driver.current_screen(), name)
        saved = self._driver.artifacts / f"size-{Window.width}x{Window.height}-{name}.png"
        if self.plain_names:
            shutil.copy(saved, self._driver.artifacts / f"{name}.png")
        return saved


def _audit_at_this_size(d: Any, auditing: AuditingDriver, params: dict[str, Any]) -> dict[str, Any]:
    """The walk, audited; then the screens of the table that the walk did not reach."""
    from screens.table import SCREENS

    walked = scenarios.walk_every_screen(auditing, params)
    nav = d.app.nav
    for name in SCREENS:
        if name in auditing.screens:
            continue
        try:
            d.call(nav._show, name, remember=False)
        except Exception as exc:  # a screen that cannot be shown alone still has to be audited
            auditing.problems.append(f"{name}: could not be shown on its own ({type(exc).__name__}: {exc});"
                                     " add it to the walk")
            continue
        auditing.screenshot(f"table-{name}")
        d.call(nav.home)
    return walked


def _resize(d: Any, size: tuple[int, int]) -> None:
    """The window changes size while the app runs: the screens are built again with the new sizes."""
    from kivy.core.window import Window

    from screens import theme

    d.call(lambda: setattr(Window, "size", size))
    d.wait_for(lambda: theme.WINDOW == size and d.app.nav.current == "home", what=f"the sizes of {size}")
    d.wait_frames(3)


def audit_every_screen(d: Any, params: dict[str, Any]) -> dict[str, Any]:
    """At each size of ``params["sizes"]`` (the first is the window the app starts with; the
    next ones by resizing the running window): walk every screen by touch, auditing each, then
    the screens the walk did not reach. One app start for every size."""
    d.default_timeout = 30  # the audit's renders and a busy machine slow the UI thread down
    service = d.app.service
    results: dict[str, Any] = {}
    for n, size in enumerate(params.get("sizes") or [params["size"]]):
        size = (int(size[0]), int(size[1]))
        if n:
            _resize(d, size)
            if service.language != "zh":  # the walk ends by switching to English: back to Chinese
                d.tap("lang_toggle")
                d.wait_for(lambda: service.language == "zh", what="Chinese again")
        auditing = AuditingDriver(d, plain_names=bool(params.get("plain_names")) and n == 0)
        walked = _audit_at_this_size(d, auditing, params)
        results["{}x{}".format(*size)] = {"problems": auditing.problems, "screens": auditing.screens,
                                          "walk": walked}
    return results
