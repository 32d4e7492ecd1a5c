"""Translations: every user-facing string goes through ``Translator.t``.

``config/translations/`` holds one TOML file per topic and language,
``<topic>.<lang>.toml`` (``core.zh.toml``, ``hardware.en.toml``, ``screens.zh.toml`` …).
Keys are flat dotted names (``kiosk.unknown_service``); in TOML they may be written as
bare dotted keys or as tables, both read the same. ``Translator.load`` merges every topic
of every language it finds.

A key missing in the current language falls back to Simplified Chinese, then to the key
itself; each miss is logged once (the key only, never the values). ``t(key, **fmt)``
fills ``{placeholders}`` with ``str.format``.
"""

from __future__ import annotations

import logging
import re
import threading
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kiosk.errors import ConfigError

log = logging.getLogger(__name__)

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "config" / "translations"
LANGUAGES = ("zh", "en")
FALLBACK = "zh"
_FILE_NAME = re.compile(r"^(?P<topic>[A-Za-z0-9_-]+)\.(?P<lang>[a-z]{2})\.toml$")


def _flatten(tree: Mapping[str, Any], where: str, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for name, value in tree.items():
        key = prefix + name
        if isinstance(value, dict):
            flat.update(_flatten(value, where, key + "."))
        elif isinstance(value, str):
            flat[key] = value
        else:
            raise ConfigError(f"{where}: {key}", "a translation must be a string")
    return flat


def read_catalogs(folder: Path) -> dict[str, dict[str, str]]:
    """Every ``<topic>.<lang>.toml`` in ``folder``, merged per language (files in name order)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(str(folder), "translations folder not found")
    tables: dict[str, dict[str, str]] = {}
    origin: dict[tuple[str, str], str] = {}
    for path in sorted(folder.glob("*.toml")):
        match = _FILE_NAME.match(path.name)
        if not match:
            raise ConfigError(path.name, "translation files are named <topic>.<lang>.toml")
        lang = match["lang"]
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(path.name, f"not valid TOML: {exc}") from exc
        table = tables.setdefault(lang, {})
        for key, text in _flatten(data, path.name).items():
            if key in table:
                log.warning("translation key %s in %s also in %s; the later file wins",
                            key, path.name, origin[(lang, key)])
            table[key] = text
            origin[(lang, key)] = path.name
    return tables


class Translator:
    """Looks up user-facing strings in the current language."""

    def __init__(self, lang: str = FALLBACK, messages: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self._messages = {lang_: dict(table) for lang_, table in (messages or {}).items()}
        self._missed: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._lang = FALLBACK
        self.set_language(lang)

    @classmethod
    def load(cls, folder: Path = TRANSLATIONS_DIR, lang: str = FALLBACK) -> Translator:
        """Read every translation file in ``folder``; raises ``ConfigError`` for a bad file."""
        return cls(lang, read_catalogs(folder))

    @property
    def lang(self) -> str:
        return self._lang

    def languages(self) -> tuple[str, ...]:
        """Languages a villager can switch to (those with at least one file, zh first)."""
        return tuple(lang for lang in LANGUAGES if lang in self._messages) or (FALLBACK,)

    def set_language(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ConfigError("kiosk.language", "must be one of " + ", ".join(LANGUAGES))
        self._lang = lang

    def has(self, key: str, lang: str | None = None) -> bool:
        return key in self._messages.get(lang or self._lang, {})

    def keys(self, lang: str) -> frozenset[str]:
        return frozenset(self._messages.get(lang, {}))

    def t(self, key: str, **fmt: Any) -> str:
        text = self._messages.get(self._lang, {}).get(key)
        if text is None:
            self._miss(self._lang, key)
            text = self._messages.get(FALLBACK, {}).get(key)
            if text is None:
                if self._lang != FALLBACK:
                    self._miss(FALLBACK, key)
                return key
        if not fmt:
            return text
        try:
            return text.format(**fmt)
        except (KeyError, IndexError, ValueError):
            self._miss(self._lang, key + " (placeholders)")
            return text

    def _miss(self, lang: str, key: str) -> None:
        with self._lock:
            if (lang, key) in self._missed:
                return
            self._missed.add((lang, key))
        log.warning("missing translation %s for %s", lang, key)
