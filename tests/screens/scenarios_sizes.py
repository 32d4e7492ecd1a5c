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


def audit_every_screen(d: Any, params: dict[str, Any]) -> dict[str, Any]:
    """Walk every screen by touch, auditing each; then the screens the walk did not reach."""
    from screens.table import SCREENS

    d.default_timeout = 30  # the audit's renders and a busy machine slow the UI thread down
    auditing = AuditingDriver(d, plain_names=bool(params.get("plain_names")))
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
    if params.get("then_resize"):  # the window changes size while the app runs: screens built again
        from kivy.core.window import Window

        from screens import theme

        size = tuple(params["then_resize"])
        d.call(lambda: setattr(Window, "size", size))
        d.wait_for(lambda: theme.WINDOW == size and d.app.nav.current == "home", what="the new sizes")
        auditing.screenshot("resized-01-home")
        d.tap("start_button")
        d.wait_for_screen("catalog", timeout=30)
        auditing.screenshot("resized-03-catalog")
        d.call(nav.home)
    return {"problems": auditing.problems, "screens": auditing.screens, "walk": walked}
