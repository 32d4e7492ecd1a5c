import io
import logging
import shutil

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from kiosk.errors import ConfigError
from kiosk.i18n import LANGUAGES, TRANSLATIONS_DIR, Translator, read_catalog, read_catalogs


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    """Catalogs written here are parsed into this test's own cache folder: each catalog path has
    its cached copy, and a test's passing paths would pile up in the user's cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


def write_catalog(folder, lang, topic, texts, fuzzy=()):
    catalog = Catalog(locale=None, domain=topic)
    for key, text in texts.items():
        catalog.add(key, text, flags=("fuzzy",) if key in fuzzy else ())
    path = folder / lang / "LC_MESSAGES" / f"{topic}.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog)
    return path


def test_core_catalogs_have_the_same_keys_in_both_languages(tmp_path):
    for lang in ("zh", "en"):
        target = tmp_path / lang / "LC_MESSAGES"
        target.mkdir(parents=True)
        shutil.copy(TRANSLATIONS_DIR / lang / "LC_MESSAGES" / "core.po", target)
    t = Translator.load(tmp_path)
    assert len(t.keys("zh")) > 20 and t.keys("zh") == t.keys("en")


def test_every_screen_text_is_in_both_screen_languages():
    tables = read_catalogs(TRANSLATIONS_DIR)
    assert set(LANGUAGES) <= set(tables) and {"yue", "hak"} <= set(tables)
    assert not sorted(set(tables["zh"]) ^ set(tables["en"]))
    assert set(tables["yue"]) <= {k for k in tables["zh"] if k.startswith("voice.")}  # voice texts only
    assert tables["yue"]["voice.card_read"] != tables["zh"]["voice.card_read"]  # its own wording


def test_every_catalog_compiles_and_reads_back(tmp_path):
    """What ``make translations`` (pybabel compile) does, and what any gettext tool needs."""
    paths = sorted(TRANSLATIONS_DIR.glob("*/LC_MESSAGES/*.po"))
    assert len(paths) >= 24
    for path in paths:
        with path.open("rb") as fh:
            catalog = read_po(fh, abort_invalid=True)
        assert catalog.charset.lower() == "utf-8", path
        errors = [(m.id, e) for m, e in catalog.check()]
        assert not errors, (path, errors[:3])
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        assert buffer.getvalue()[:4] in (b"\xde\x12\x04\x95", b"\x95\x04\x12\xde")


def test_merges_topics_and_switches_language(tmp_path):
    write_catalog(tmp_path, "zh", "core", {"kiosk.hello": "你好", "kiosk.bye": "再见"})
    write_catalog(tmp_path, "en", "core", {"kiosk.hello": "Hello"})
    write_catalog(tmp_path, "zh", "hardware", {"hardware.card": "请放身份证"})
    write_catalog(tmp_path, "en", "hardware", {"hardware.card": "Place your ID card"})
    write_catalog(tmp_path, "yue", "voice", {"voice.home": "你好", "voice.form": "未译"},
                  fuzzy={"voice.form"})
    t = Translator.load(tmp_path, "zh")
    assert t.lang == "zh" and t.t("kiosk.hello") == "你好" and t.t("hardware.card") == "请放身份证"
    t.set_language("en")
    assert t.lang == "en" and t.t("hardware.card") == "Place your ID card"
    assert t.t("kiosk.bye") == "再见"  # falls back to Chinese
    assert Translator.load(tmp_path, "en").t("kiosk.hello") == "Hello"
    assert t.catalogs()["yue"] == {"voice.home": "你好"}  # a fuzzy entry is not used, as in gettext
    assert t.languages() == ("zh", "en")
    with pytest.raises(ConfigError):
        t.set_language("fr")
    with pytest.raises(ConfigError):
        t.set_language("yue")  # a voice language, not a screen language


def test_missing_key_is_the_key_and_logged_once(tmp_path, caplog):
    write_catalog(tmp_path, "zh", "core", {"kiosk.n": "{n}个"})
    t = Translator.load(tmp_path, "zh")
    with caplog.at_level(logging.WARNING, logger="kiosk.i18n"):
        assert t.t("kiosk.nothing") == "kiosk.nothing"
        assert t.t("kiosk.nothing") == "kiosk.nothing"
    assert len([r for r in caplog.records if "kiosk.nothing" in r.getMessage()]) == 1
    assert t.t("kiosk.n", n=3) == "3个"
    assert t.t("kiosk.n") == "{n}个"
    assert t.t("kiosk.n", m=1) == "{n}个"  # a wrong placeholder never raises


def test_bad_files(tmp_path):
    path = write_catalog(tmp_path, "zh", "core", {"kiosk.x": "好"})
    path.write_text('msgid "kiosk.x"\nmsgstr "好"\nmsgid\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="core.po.*not a valid gettext catalog"):
        Translator.load(tmp_path)
    path.write_bytes('msgid "kiosk.x"\nmsgstr "好"\n'.encode("gb18030"))
    with pytest.raises(ConfigError, match="core.po"):
        read_catalog(path)
    path.unlink()
    (tmp_path / "strings.zh.toml").write_text('a = "b"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="tools/toml_to_po.py"):  # a branch's toml not yet converted
        Translator.load(tmp_path)
    (tmp_path / "strings.zh.toml").unlink()
    (tmp_path / "Chinese").mkdir()
    with pytest.raises(ConfigError, match="language code"):
        Translator.load(tmp_path)


def test_the_conversion_script_is_repeatable_and_merges(tmp_path):
    from tools.toml_to_po import convert

    (tmp_path / "more.zh.toml").write_text('[screen]\nhello = "你好 {name}"\n', encoding="utf-8")
    (tmp_path / "more.en.toml").write_text('screen.hello = "Hello {name}"\n', encoding="utf-8")
    written = convert(sorted(tmp_path.glob("*.toml")), tmp_path)
    first = {p: p.read_bytes() for p in written}
    assert not list(tmp_path.glob("*.toml"))  # converted files are removed
    en = (tmp_path / "en" / "LC_MESSAGES" / "more.po").read_text(encoding="utf-8")
    assert "#. 你好 {name}" in en and "#. keep the {placeholders}" in en and '"Language: en\\n"' in en
    # a later branch adds a key in a toml file of its own
    (tmp_path / "more.zh.toml").write_text('screen.bye = "再见"\n', encoding="utf-8")
    convert([tmp_path / "more.zh.toml"], tmp_path)
    t = Translator.load(tmp_path)
    assert (t.t("screen.hello", name="王"), t.t("screen.bye")) == ("你好 王", "再见")
    (tmp_path / "again.zh.toml").write_text('screen.hello = "你好 {name}"\n', encoding="utf-8")
    convert([tmp_path / "again.zh.toml"], tmp_path, keep=True)
    assert (tmp_path / "again.zh.toml").exists()
    en_path = tmp_path / "en" / "LC_MESSAGES" / "more.po"
    assert first[en_path] == en_path.read_bytes()  # untouched by the later runs: the same bytes


def test_parsed_catalogs_are_cached_and_a_changed_file_is_read_again(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = write_catalog(tmp_path / "tr", "zh", "core", {"kiosk.a": "甲"})
    assert read_catalog(path) == {"kiosk.a": "甲"}
    cached = list((tmp_path / "cache" / "village-kiosk" / "translations").glob("zh.core*.json"))
    assert len(cached) == 1
    write_catalog(tmp_path / "tr", "zh", "core", {"kiosk.a": "乙乙"})  # edited: another size and time
    assert read_catalog(path) == {"kiosk.a": "乙乙"}
    assert len(list(cached[0].parent.glob("zh.core*.json"))) == 1  # the stale copy is gone
    other = write_catalog(tmp_path / "tr2", "zh", "core", {"kiosk.a": "丙"})  # another copy of the app
    assert read_catalog(other) == {"kiosk.a": "丙"}
    assert len(list(cached[0].parent.glob("zh.core*.json"))) == 2  # each keeps its own
    cached[0].parent.joinpath("junk").write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache" / "junk"))  # a cache folder it cannot make
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert read_catalog(path) == {"kiosk.a": "乙乙"}  # read all the same
