import logging
import shutil

import pytest

from kiosk.errors import ConfigError
from kiosk.i18n import TRANSLATIONS_DIR, Translator


def test_core_files_have_the_same_keys_in_both_languages(tmp_path):
    for lang in ("zh", "en"):
        shutil.copy(TRANSLATIONS_DIR / f"core.{lang}.toml", tmp_path)
    t = Translator.load(tmp_path)
    assert len(t.keys("zh")) > 20 and t.keys("zh") == t.keys("en")


def test_merges_topics_and_switches_language(tmp_path):
    (tmp_path / "core.zh.toml").write_text('kiosk.hello = "你好"\nkiosk.bye = "再见"\n', encoding="utf-8")
    (tmp_path / "core.en.toml").write_text('kiosk.hello = "Hello"\n', encoding="utf-8")
    (tmp_path / "hardware.zh.toml").write_text('[hardware]\ncard = "请放身份证"\n', encoding="utf-8")
    (tmp_path / "hardware.en.toml").write_text('hardware.card = "Place your ID card"\n', encoding="utf-8")
    t = Translator.load(tmp_path, "zh")
    assert t.lang == "zh" and t.t("kiosk.hello") == "你好" and t.t("hardware.card") == "请放身份证"
    t.set_language("en")
    assert t.lang == "en" and t.t("hardware.card") == "Place your ID card"
    assert t.t("kiosk.bye") == "再见"  # falls back to Chinese
    assert Translator.load(tmp_path, "en").t("kiosk.hello") == "Hello"
    with pytest.raises(ConfigError):
        t.set_language("fr")


def test_missing_key_is_the_key_and_logged_once(tmp_path, caplog):
    (tmp_path / "core.zh.toml").write_text('kiosk.n = "{n}个"\n', encoding="utf-8")
    t = Translator.load(tmp_path, "zh")
    with caplog.at_level(logging.WARNING, logger="kiosk.i18n"):
        assert t.t("kiosk.nothing") == "kiosk.nothing"
        assert t.t("kiosk.nothing") == "kiosk.nothing"
    assert len([r for r in caplog.records if "kiosk.nothing" in r.getMessage()]) == 1
    assert t.t("kiosk.n", n=3) == "3个"
    assert t.t("kiosk.n") == "{n}个"
    assert t.t("kiosk.n", m=1) == "{n}个"  # a wrong placeholder never raises


def test_bad_files(tmp_path):
    (tmp_path / "core.zh.toml").write_text("kiosk.x = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="must be a string"):
        Translator.load(tmp_path)
    (tmp_path / "core.zh.toml").write_text("kiosk.x = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="core.zh.toml.*line 1"):
        Translator.load(tmp_path)
    (tmp_path / "core.zh.toml").unlink()
    (tmp_path / "strings.toml").write_text('a = "b"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="<topic>.<lang>.toml"):
        Translator.load(tmp_path)
