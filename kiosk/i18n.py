"""Translations: every user-facing string goes through ``Translator.t``.

``config/translations/`` holds gettext catalogs, one per language and topic, in the
layout Babel and every translation tool know: ``<lang>/LC_MESSAGES/<topic>.po``
(``zh/LC_MESSAGES/core.po``, ``en/LC_MESSAGES/screens.po`` …). The msgid is a flat
dotted key (``kiosk.unknown_service``), the msgstr the text. The catalogs are read as
they are with Babel's reader (the result cached: ``read_catalog``), so a fresh clone needs
no compile step; ``make
translations`` compiles them to ``.mo`` (a check that every tool will take them; the
kiosk does not read the ``.mo``). ``tools/toml_to_po.py`` converts the TOML files the
kiosk used before (and that branches may still add) into catalogs.

Languages: ``zh`` and ``en`` are the screen's languages (``LANGUAGES``); ``yue``
(Cantonese) and ``hak`` (Hakka) hold the spoken prompts' own wording (``kiosk.voice``).
``Translator.load`` merges every topic of every language it finds.

A key missing in the current language falls back to Simplified Chinese, then to the key
itself; each miss is logged once (the key only, never the values). A fuzzy or empty
entry counts as missing, as in gettext. ``t(key, **fmt)`` fills ``{placeholders}`` with
``str.format``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kiosk.errors import ConfigError

log = logging.getLogger(__name__)

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "config" / "translations"
LANGUAGES = ("zh", "en")  # what the screens can be shown in
FALLBACK = "zh"
_LANG = re.compile(r"^[a-z]{2,3}$")  # zh, en, yue, hak
_TOPIC = re.compile(r"^[A-Za-z0-9_-]+\.po$")


# Babel's reader takes about a second for all the catalogs on a loaded kiosk (TOML took a
# third of that), so each parsed catalog is kept: in this process (the screens' words, the
# voice and a language switch read them again) and as JSON in the user's cache folder, named
# by the file's path, mtime and size, so the next start reads it in a millisecond. A cache
# that cannot be written or read only makes a slower start.
_PARSED: dict[Path, tuple[int, int, dict[str, str]]] = {}


def _cache_file(path: Path, stat: os.stat_result) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    where = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    digest = hashlib.sha256(f"{path.resolve()}\0{stat.st_mtime_ns}\0{stat.st_size}".encode()).hexdigest()[:32]
    # <lang>.<topic>.<where>-<digest>.json: one file per catalog file. ``where`` names the file's
    # path, so that two copies of the app under one user (an update beside the running one, two
    # checkouts) do not delete each other's copy at every start, each parsing all again.
    name = f"{path.parent.parent.name}.{path.stem}.{where}-{digest}.json"
    return Path(base) / "village-kiosk" / "translations" / name


def _from_cache(cache: Path) -> dict[str, str] | None:
    try:
        table = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        return None
    return table


def _to_cache(cache: Path, table: dict[str, str]) -> None:
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        temp = cache.with_suffix(f".tmp{os.getpid()}")
        temp.write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
        temp.replace(cache)
        for old in cache.parent.glob(f"{cache.name.rsplit('-', 1)[0]}-*.json"):
            if old != cache:  # one file per topic name: an edited catalog leaves no stale copies
                old.unlink(missing_ok=True)
    except OSError as exc:
        log.info("translation cache not written (%s)", type(exc).__name__)


def _parse_po(path: Path) -> dict[str, str]:
    from babel.messages.pofile import PoFileError, read_po  # ~0.2 s to import: only on a cache miss

    try:
        with path.open("rb") as fh:
            catalog = read_po(fh, abort_invalid=True)
    except OSError as exc:
        raise ConfigError(str(path), f"cannot be read: {exc.strerror}") from exc
    except (PoFileError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(str(path), f"not a valid gettext catalog: {exc}") from exc
    table: dict[str, str] = {}
    for message in catalog:
        if not isinstance(message.id, str) or not message.id:
            continue  # the header, or a plural entry (the kiosk uses none)
        if message.fuzzy or not isinstance(message.string, str) or not message.string:
            continue
        table[message.id] = message.string
    return table


def read_catalog(path: Path) -> dict[str, str]:
    """Key -> text of one ``.po`` file; fuzzy and empty entries left out; ``ConfigError`` when bad."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise ConfigError(str(path), f"cannot be read: {exc.strerror}") from exc
    kept = _PARSED.get(path)
    if kept is not None and kept[:2] == (stat.st_mtime_ns, stat.st_size):
        return dict(kept[2])
    cache = _cache_file(path, stat)
    table = _from_cache(cache)
    if table is None:
        table = _parse_po(path)
        _to_cache(cache, table)
    _PARSED[path] = (stat.st_mtime_ns, stat.st_size, table)
    return dict(table)


def read_catalogs(folder: Path) -> dict[str, dict[str, str]]:
    """Every ``<lang>/LC_MESSAGES/<topic>.po`` in ``folder``, merged per language (topics in name order)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(str(folder), "translations folder not found")
    left = sorted(p.name for p in folder.glob("*.toml"))
    if left:
        raise ConfigError(left[0], "translations are gettext catalogs now: convert with tools/toml_to_po.py")
    tables: dict[str, dict[str, str]] = {}
    origin: dict[tuple[str, str], str] = {}
    for lang_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        if not _LANG.match(lang_dir.name):
            raise ConfigError(lang_dir.name, "a sub-folder is named by its language code (zh, yue …)")
        table = tables.setdefault(lang_dir.name, {})
        for path in sorted((lang_dir / "LC_MESSAGES").glob("*.po")):
            if not _TOPIC.match(path.name):
                raise ConfigError(path.name, "catalogs are named <topic>.po")
            where = f"{lang_dir.name}/{path.name}"
            for key, text in read_catalog(path).items():
                if key in table:
                    log.warning("translation key %s in %s also in %s; the later file wins",
                                key, where, origin[(lang_dir.name, key)])
                table[key] = text
                origin[(lang_dir.name, key)] = where
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
        """Read every catalog in ``folder``; raises ``ConfigError`` for a bad file."""
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

    def catalogs(self) -> dict[str, dict[str, str]]:
        """Every language's table (a copy): what the voice reads its texts from."""
        return {lang: dict(table) for lang, table in self._messages.items()}

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
