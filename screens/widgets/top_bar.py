"""The bar at the top of every screen but home: 返回 / Back, the title, the voice's mute and
volume buttons, 回首页 / Home."""

from __future__ import annotations

from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout


class TopBar(BoxLayout):
    """Dispatches ``on_back`` and ``on_home``; ``screen`` is the screen it sits on (for words)."""

    title = StringProperty("")
    back_text = StringProperty("")
    home_text = StringProperty("")
    show_back = BooleanProperty(True)
    screen = ObjectProperty(None, allownone=True)
    voice = ObjectProperty(None, allownone=True)  # screens.widgets.voice_controls.VoiceControls

    def on_screen(self, _bar: TopBar, screen: object) -> None:
        self.voice = getattr(getattr(screen, "nav", None), "voice", None)

    __events__ = ("on_back", "on_home")

    def on_back(self) -> None:
        pass

    def on_home(self) -> None:
        pass
