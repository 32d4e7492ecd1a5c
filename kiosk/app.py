"""The Kivy application: the only module in ``kiosk/`` that imports Kivy.

``KioskApp`` is built with explicit arguments (the presenter, the settings, and the two
switches the demo and the tests use) and wires four things: the Chinese font, the window,
the navigator with its screens, and the safety nets (presenter events moved onto the UI
thread, an exception handler that sends the villager home with a kind word, and the idle
timeout that wipes the session).
"""

from __future__ import annotations

import logging
import os
import traceback
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Kivy's own log mode swaps sys.stderr and adds handlers that would bypass the
# personal-data filter; in PYTHON mode its records go through ours (kiosk.privacy).
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")

from kivy.config import Config  # noqa: E402

from kiosk.i18n import TRANSLATIONS_DIR, read_catalogs  # noqa: E402
from kiosk.input.engines import InputEngines  # noqa: E402
from kiosk.service import UNEXPECTED_KEY, KioskService  # noqa: E402
from kiosk.settings import Settings  # noqa: E402
from kiosk.voice.guide import VoiceGuide  # noqa: E402
from kiosk.watchdog import SystemdNotifier  # noqa: E402
from screens import theme  # noqa: E402

# Before the window exists: no red multitouch dots on a right click, no exit on Escape, and
# none of Kivy's debugging modules (the inspector, the monitor …) a config file could switch on.
Config.set("input", "mouse", "mouse,disable_multitouch")
Config.set("kivy", "exit_on_escape", "0")
for _module in Config.options("modules") if Config.has_section("modules") else []:
    Config.remove_option("modules", _module)

from kivy.app import App  # noqa: E402
from kivy.base import ExceptionHandler, ExceptionManager  # noqa: E402
from kivy.clock import Clock  # noqa: E402
from kivy.core.text import LabelBase  # noqa: E402
from kivy.core.window import Window  # noqa: E402

if TYPE_CHECKING:
    from screens.navigator import Navigator

log = logging.getLogger(__name__)

NOTO_DIR = Path("/usr/share/fonts/opentype/noto")
FONT_FILES = {"regular": "NotoSansCJK-Regular.ttc", "bold": "NotoSansCJK-Bold.ttc"}
IDLE_CHECK_S = 1.0  # the idle warning counts down in seconds


def font_cache_dir(data_dir: Path | None = None) -> Path:
    """Where the extracted Simplified-Chinese faces are kept: XDG cache, else the data dir."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = Path(base) / "village-kiosk" / "fonts"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    except OSError:
        if data_dir is None:
            raise
        folder = data_dir / "fonts"
        folder.mkdir(parents=True, exist_ok=True)
        return folder


def simplified_chinese_face(collection: Path, cache: Path) -> Path:
    """The Simplified-Chinese face of a Noto CJK collection as a single font file.

    A ``.ttc`` opens on its first face, which in Noto CJK is the Japanese one (its
    glyph shapes differ from what a Guangdong villager learned); the SC face is found by
    its family name and saved once. Returns the collection itself if extraction fails.
    """
    target = cache / (collection.stem + "-SC.otf")
    if target.exists() and target.stat().st_size > 0:
        return target
    try:
        from fontTools.ttLib import TTCollection

        fonts = TTCollection(str(collection), lazy=True).fonts
        index = next(i for i, f in enumerate(fonts)
                     if "SC" in (f["name"].getDebugName(1) or "") and "Mono" not in f["name"].getDebugName(1))
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        TTCollection(str(collection)).fonts[index].save(str(tmp))
        tmp.replace(target)
        return target
    except Exception as exc:
        log.warning("could not extract the SC face of %s (%s); using the collection", collection.name,
                    type(exc).__name__)
        return collection


def register_fonts(cache: Path, folder: Path = NOTO_DIR) -> dict[str, str]:
    """Make the Simplified-Chinese Noto face the default font of every label."""
    faces = {}
    for style, name in FONT_FILES.items():
        path = folder / name
        if path.exists():
            faces[style] = str(simplified_chinese_face(path, cache))
    if "regular" not in faces:
        log.warning("no Noto CJK font found in %s; Chinese will not show", folder)
        return faces
    bold = faces.get("bold", faces["regular"])
    for family in ("Roboto", "NotoSansSC"):  # Roboto is Kivy's default: every Label uses it
        LabelBase.register(name=family, fn_regular=faces["regular"], fn_bold=bold,
                           fn_italic=faces["regular"], fn_bolditalic=bold)
    return faces


class FriendlyExceptionHandler(ExceptionHandler):
    """Any exception in a UI callback: log its type, tell the villager kindly, go home."""

    def __init__(self, app: KioskApp) -> None:
        super().__init__()
        self.app = app

    def handle_exception(self, inst: BaseException) -> int:
        if isinstance(inst, KeyboardInterrupt | SystemExit):
            return int(ExceptionManager.RAISE)  # Kivy has no type information: its constants are Any
        # The type and where it happened, never the message (it may hold personal data).
        log.error("unexpected %s in a UI callback at %s", type(inst).__name__, where(inst))
        self.app.errors_handled += 1
        try:
            self.app.recover()
        except Exception as exc:  # never let the safety net itself fall
            log.error("recovery failed: %s", type(exc).__name__)
        return int(ExceptionManager.PASS)


def where(exc: BaseException) -> str:
    """``file:line in function`` of the innermost frames, without the exception's message."""
    frames = traceback.extract_tb(exc.__traceback__)[-4:]
    return " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))


class UiRelay:
    """The presenter's observer: moves every ``on_event_<name>`` onto the UI thread."""

    def __init__(self, app: KioskApp) -> None:
        self._app = app

    def __getattr__(self, attr: str) -> Any:
        if not attr.startswith("on_event_"):
            raise AttributeError(attr)
        name = attr[len("on_event_"):]

        def relay(**payload: Any) -> None:
            Clock.schedule_once(lambda _dt: self._app.on_service_event(name, payload), 0)

        return relay


class KioskApp(App):
    title = "村级自助服务终端"
    use_kivy_settings = False  # F1 and the menu key open nothing (see open_settings)

    def __init__(self, *, service: KioskService, settings: Settings, screenshot: Path | None = None,
                 exit_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.service = service
        self.settings = settings
        self.screenshot_path = Path(screenshot) if screenshot else None
        self.exit_after = exit_after
        self.nav: Navigator | None = None  # made in build(), after the window settings
        self.maintenance_door: Any = None
        self.errors_handled = 0
        self.restart_requested = False  # the hall's restart command: run_kiosk exits with 75
        self.fonts: dict[str, str] = {}
        self._relay = UiRelay(self)
        self.input_engines = InputEngines()
        self.voice: VoiceGuide | None = None  # made in build()
        self._handler = FriendlyExceptionHandler(self)
        self.locked_down = False  # set in build(): a kiosk window (display.fullscreen)
        self._may_close = False  # only leave_kiosk() lets the window close
        self.notifier = SystemdNotifier()
        self.warm_up_job: Future[None] | None = None  # kiosk.warmup, once, after the first frame

    # -- building ---------------------------------------------------------------------

    def build(self) -> Any:
        display = self.settings.display
        under_test = bool(os.environ.get("KIOSK_UNDER_TEST")) or self.screenshot_path is not None
        Window.size = (display.width, display.height)
        Window.fullscreen = bool(display.fullscreen) and not under_test
        Window.clearcolor = theme.BACKGROUND
        if display.fullscreen:
            self.lock_down()
        theme.apply_window(*Window.size)  # before any screen is built: kv rules read the sizes
        Window.bind(size=self._on_window_size)
        try:
            self.fonts = register_fonts(font_cache_dir(self.settings.data_dir))
        except Exception as exc:
            log.warning("font set-up failed: %s", type(exc).__name__)
        ExceptionManager.add_handler(self._handler)
        # Jobs the home screen starts (its device check) wait for the first frame: _warm_up.
        self.service.hold_jobs()
        self.service.bind(self._relay)
        Window.bind(on_touch_down=self._on_any_touch)
        from screens.navigator import Navigator  # after the window settings above

        self.nav = Navigator(self.service)
        # Handwriting and pinyin: loaded off the UI thread when the first form is shown.
        self.nav.input_engines = self.input_engines
        self.nav.voice = self._start_voice()
        self.nav.start()
        from screens.maintenance_door import MaintenanceDoor  # the technician's hidden corner and PIN

        self.maintenance_door = MaintenanceDoor(self.nav)
        return self.nav.manager

    def _start_voice(self) -> Any:
        """The spoken prompts (kiosk.voice.guide): told each screen and error by the navigator,
        the card's events by the service; spoken on their own worker thread."""
        from screens.widgets.voice_controls import VoiceControls

        data_dir = self.settings.data_dir
        self.voice = VoiceGuide.from_settings(self.settings.voice, data_dir, read_catalogs(TRANSLATIONS_DIR),
                                              font_cache_dir(data_dir).parent / "voice")
        self.service.bind(self.voice)
        self.voice.start()
        return VoiceControls(self.voice)

    def lock_down(self) -> None:
        """A kiosk window: no frame, no cursor, and no way out but ``leave_kiosk`` (maintenance PIN).

        Escape does nothing (``exit_on_escape``), F1 and the menu key open no settings
        panel (``open_settings``), Alt-F4 and the window manager's close are refused
        (``on_request_close``); Kivy's inspector and other modules are never loaded.
        """
        self.locked_down = True
        Window.borderless = True
        Window.show_cursor = False  # a touch screen: a pointer left in the middle only confuses
        Window.bind(on_request_close=self._on_request_close)

    def leave_kiosk(self) -> None:
        """The one way out of a locked-down kiosk, for maintenance after its PIN."""
        self._may_close = True
        self.stop()

    def _on_request_close(self, *_args: Any, **_kwargs: Any) -> bool:
        if self._may_close:
            return False
        log.info("a request to close the kiosk window was refused")
        return True  # True: handled, the window stays

    @property
    def exit_code(self) -> int:
        """What the process exits with once the app stopped: 75 asks the service manager (systemd's
        ``RestartForceExitStatus=75``, the launcher) to start it again, after the hall's restart."""
        from kiosk.agent.agent import RESTART_EXIT_CODE

        return RESTART_EXIT_CODE if self.restart_requested else 0

    def open_settings(self, *_args: Any) -> bool:
        return False  # Kivy's settings panel would let anyone change the app's configuration

    def on_start(self) -> None:
        Clock.schedule_interval(self._check_idle, IDLE_CHECK_S)
        interval = self.notifier.ping_interval
        if interval is not None:  # from the UI loop itself: a hung UI stops the pings
            Clock.schedule_interval(lambda _dt: self.notifier.ping(), interval)
        Clock.schedule_once(lambda _dt: self.notifier.ready(), 0)  # home is shown: systemd may stop waiting
        Clock.schedule_interval(self._warm_up_after_first_frame, 0)
        if self.screenshot_path is not None:
            Clock.schedule_once(self._save_screenshot, 1.0)
        if self.exit_after is not None:
            Clock.schedule_once(lambda _dt: self.stop(), self.exit_after)

    def _warm_up_after_first_frame(self, _dt: float) -> bool:
        """Each tick until the home screen's first frame is drawn (the clock counts the frames it
        drew), then once: import what that screen did not need, off the UI thread (``kiosk.warmup``).
        Not an ``on_flip`` listener: a listener that unbinds itself while the window calls them makes
        the window skip the next one, and nothing is drawn again until something changes."""
        if Clock.frames_displayed < 1:
            return True
        if self.warm_up_job is None:
            self.warm_up_job = self.service.warm_up()
        return False

    def on_stop(self) -> None:
        self.input_engines.stop()
        if self.voice is not None:
            self.voice.stop()
        self.notifier.stopping()
        self.notifier.close()
        try:
            self.service.close()
        except Exception as exc:
            log.warning("closing the service failed: %s", type(exc).__name__)
        ExceptionManager.remove_handler(self._handler)

    # -- events and safety nets ---------------------------------------------------------

    def on_service_event(self, name: str, payload: dict[str, Any]) -> None:
        if name == "fleet" and payload.get("what") == "restart":
            # The agent asked only with no villager at the kiosk; the service manager starts it again.
            self.restart_requested = True
            self.stop()
            return
        if self.nav is not None:
            self.nav.dispatch_event(name, payload)  # the idle timeout's events included

    def _on_window_size(self, _window: Any, size: tuple[int, int]) -> None:
        if tuple(size) != theme.WINDOW:
            Clock.schedule_once(self._relayout, 0)  # once, after the window settled

    def _relayout(self, _dt: float = 0) -> None:
        """The window changed size: set the sizes again and build the screens again with them.

        Kiosk windows keep their size; this is for a screen rotated or a display changed
        while the app runs. The visit lives in the steps, so rebuilt screens show it again.
        """
        if tuple(Window.size) == theme.WINDOW or self.nav is None:
            return
        theme.apply_window(*Window.size)
        nav = self.nav
        if nav.popup is not None:
            nav.popup.dismiss()
        current = nav.current_screen
        name = current.name
        current.leave()
        nav.steps.by_name(name).leave()
        nav.manager.clear_widgets()  # the screens are built again on first use, at the new sizes
        nav._show(name, remember=False)

    def _on_any_touch(self, _window: Any, _touch: Any) -> bool:
        self.service.touch()
        return False

    def _check_idle(self, _dt: float) -> None:
        self.service.expire_if_idle()

    def recover(self) -> None:
        """After an unexpected error: wipe the visit, show home and a kind message."""
        if self.nav is None:
            self.service.cancel()
            return
        self.nav.home()
        self.nav.show_error(UNEXPECTED_KEY)

    def _save_screenshot(self, _dt: float, frames_left: int = 10) -> None:
        # On a loaded machine a second may pass before the first full frame: wait for a
        # few more frames to be drawn, so the picture is the screen and not a blank one.
        if frames_left > 0:
            Clock.schedule_once(lambda dt: self._save_screenshot(dt, frames_left - 1), 0)
            return
        path = self.screenshot_path
        assert path is not None
        save_window_png(path)
        self.stop()


def save_window_png(path: Path) -> Path:
    """Save what the window shows now as ``path`` (PNG)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    made = Window.screenshot(name=str(path.with_suffix("")) + ".png")
    if made:
        Path(made).replace(path)
    return path
