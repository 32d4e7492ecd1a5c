"""Convert ``<topic>.<lang>.toml`` translation files to gettext catalogs (Babel).

    python tools/toml_to_po.py                       # every *.toml in config/translations
    python tools/toml_to_po.py screens_more.zh.toml screens_more.en.toml
    python tools/toml_to_po.py --keep                # write the .po, leave the .toml files

Each ``<topic>.<lang>.toml`` becomes ``<lang>/LC_MESSAGES/<topic>.po`` in the same folder
(the layout ``pybabel compile -d config/translations -D <topic>`` expects). The msgid is
the dotted key (``kiosk.unknown_service``), the msgstr the text. A catalog that already
exists is merged: the toml's keys are added or replace the catalog's (the toml is the
newer text), the catalog's other keys stay. Entries are sorted by key and the header is
fixed, so running it twice gives the same bytes. In a catalog other than Simplified
Chinese, each entry carries the Chinese text as a comment for the translator.
An entry with ``{placeholders}`` says to keep them. The toml file is removed once
its catalog is written (``--keep`` leaves it).

Made for the move from TOML (issue 10 part 6) and kept for merges: a branch that adds
keys in a toml file is converted with this script after it is merged.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "config" / "translations"
SOURCE_LANG = "zh"
TOML_NAME = re.compile(r"^(?P<topic>[A-Za-z0-9_-]+)\.(?P<lang>[a-z]{2,3})\.toml$")
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
FIXED_DATE = datetime(2026, 12, 1, tzinfo=UTC)  # no date churn in the diffs
LANGUAGE_NAMES = {"zh": "Simplified Chinese", "en": "English", "yue": "Cantonese", "hak": "Hakka"}
LANGUAGE_NOTES = {  # what a translator of the voice texts must know (kiosk/voice/languages.py)
    "yue": "# Written Cantonese, read aloud by espeak-ng's yue voice. Empty: the Chinese text is read.",
    "hak": "# Sixian Hakka in romanisation (Pha̍k-fa-sṳ): espeak-ng's hak voice cannot read characters.\n"
           "# Tone marks: â 阴平, à 阳平, á 上声, a 去声 and 阴入, a̍ 阳入; hyphens join a word's syllables\n"
           "# (espeak-ng applies the tone sandhi inside a word). Written by the kiosk team, not by a\n"
           "# native speaker: WANTS REVIEW by a Hakka speaker (Sixian or Hailu) before use.\n"
           "# Empty: Mandarin is spoken until a Hakka text or a recording is there.",
}


def flatten(tree: Mapping[str, Any], where: str, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for name, value in tree.items():
        key = prefix + name
        if isinstance(value, dict):
            flat.update(flatten(value, where, key + "."))
        elif isinstance(value, str):
            flat[key] = value
        else:
            raise SystemExit(f"{where}: {key} is not a string")
    return flat


def po_path(folder: Path, topic: str, lang: str) -> Path:
    return folder / lang / "LC_MESSAGES" / f"{topic}.po"


def read_catalog(path: Path) -> dict[str, str]:
    """Key -> text of an existing catalog (empty when there is none)."""
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        catalog = read_po(fh)
    return {str(m.id): str(m.string) for m in catalog if m.id and isinstance(m.id, str)}


def render(topic: str, lang: str, texts: Mapping[str, str], source: Mapping[str, str]) -> bytes:
    """The .po file's bytes: fixed header, entries sorted by key."""
    name = LANGUAGE_NAMES.get(lang, lang)
    header = (f"# {name} texts of the village kiosk: {topic}.\n"
              "# msgid is the key the code asks for; msgstr is what people read or hear.\n"
              "# Made by tools/toml_to_po.py; edit with any gettext tool.")
    if lang in LANGUAGE_NOTES:
        header += "\n" + LANGUAGE_NOTES[lang]
    catalog = Catalog(locale=None, domain=topic, project="village-kiosk", version="1",
                      creation_date=FIXED_DATE, revision_date=FIXED_DATE, fuzzy=False, header_comment=header,
                      language_team=f"{name} <{lang}>", last_translator="village kiosk team")
    for key in sorted(texts):
        text = texts[key]
        comments = [source[key]] if lang != SOURCE_LANG and key in source else []
        if PLACEHOLDER.search(text):  # Babel's own flag looks at the msgid, a key here: say it in words
            comments.append("keep the {placeholders} as they are")
        catalog.add(key, text, auto_comments=comments)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, omit_header=False, sort_output=True)
    data = buffer.getvalue()
    # no locale given to Babel (it has no data for hak): the Language header is written here
    return data.replace(b'"Language-Team:', f'"Language: {lang}\\n"\n"Language-Team:'.encode(), 1)


def convert(tomls: Iterable[Path], folder: Path = FOLDER, keep: bool = False) -> list[Path]:
    """Convert each toml file into (or into an existing) catalog; returns the catalogs written."""
    tomls = sorted(tomls, key=lambda p: (not p.name.endswith(f".{SOURCE_LANG}.toml"), p.name))  # zh first
    written = []
    for path in tomls:
        match = TOML_NAME.match(path.name)
        if not match:
            raise SystemExit(f"{path.name}: translation files are named <topic>.<lang>.toml")
        topic, lang = match["topic"], match["lang"]
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SystemExit(f"{path.name}: not valid TOML: {exc}") from exc
        target = po_path(folder, topic, lang)
        texts = read_catalog(target)
        texts.update(flatten(data, path.name))
        source = read_catalog(po_path(folder, topic, SOURCE_LANG)) if lang != SOURCE_LANG else {}
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(render(topic, lang, texts, source))
        written.append(target)
        if not keep:
            path.unlink()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("files", nargs="*", type=Path, help="toml files (default: every one in the folder)")
    parser.add_argument("--folder", type=Path, default=FOLDER, help="the translations folder")
    parser.add_argument("--keep", action="store_true", help="leave the toml files in place")
    args = parser.parse_args(argv)
    files = [f if f.is_absolute() or f.exists() else args.folder / f for f in args.files]
    files = files or sorted(args.folder.glob("*.toml"))
    for target in convert(files, args.folder, keep=args.keep):
        print(target.relative_to(args.folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
