import dataclasses
from pathlib import Path

import pytest

from kiosk.errors import ConfigError
from kiosk.settings import (
    DEFAULT_DATA_DIR,
    Settings,
    check_layer,
    known_keys,
    layer_from_tree,
    load_settings,
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults(tmp_path):
    s = load_settings(data_dir=tmp_path, environ={})
    assert isinstance(s, Settings)
    assert s.kiosk.language == "zh" and s.kiosk.county == "441423"
    assert s.kiosk.idle_timeout_s == 120 and s.data_dir == tmp_path.absolute()
    assert s.hall.url == "http://127.0.0.1:8400"
    assert s.devices.id_reader.driver == "sam_simulator"
    assert s.devices.camera.driver == "replay" and s.devices.camera.source == ""
    assert (s.queue.budget_mb, s.queue.near_full_fraction, s.queue.retention_days) == (512, 0.9, 30)
    assert s.queue.budget_bytes == 512 * 1024 * 1024
    assert (s.sync.interval_s, s.sync.backoff_base_s, s.sync.backoff_max_s) == (30, 2, 300)
    assert (s.display.width, s.display.height, s.display.fullscreen) == (1920, 1080, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.kiosk.language = "en"


def test_layers_later_wins(tmp_path):
    data = tmp_path / "data"
    write(data / "device.toml", '[kiosk]\ndevice_name = "样板村"\nlanguage = "en"\n[hall]\nurl = "http://h:1"\n')
    cfg = write(tmp_path / "run.toml", '[hall]\nurl = "https://hall.example"\n[devices.camera]\ndriver="opencv"\n')
    s = load_settings(cfg, data_dir=data, environ={})
    assert s.kiosk.device_name == "样板村" and s.kiosk.language == "en"  # device.toml
    assert s.hall.url == "https://hall.example"  # config file beats device.toml
    assert s.devices.camera.driver == "opencv"
    assert s.devices.camera.width == 1920  # untouched keys keep their defaults


def test_data_dir_precedence(tmp_path, monkeypatch):
    arg, env, in_file = tmp_path / "arg", tmp_path / "env", tmp_path / "file"
    cfg = write(tmp_path / "run.toml", f'[kiosk]\ndata_dir = "{in_file}"\n')
    environ = {"KIOSK_DATA_DIR": str(env)}
    assert load_settings(cfg, data_dir=arg, environ=environ).data_dir == arg
    assert load_settings(cfg, environ=environ).data_dir == env
    assert load_settings(cfg, environ={}).data_dir == in_file
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert load_settings(environ={}).data_dir == DEFAULT_DATA_DIR.expanduser().absolute()
    assert str(load_settings(environ={}).data_dir).startswith(str(tmp_path / "home"))


def test_relative_data_dir_in_file_is_relative_to_the_file(tmp_path):
    cfg = write(tmp_path / "conf" / "run.toml", '[kiosk]\ndata_dir = "kdata"\n')
    assert load_settings(cfg, environ={}).data_dir == tmp_path / "conf" / "kdata"


def test_device_toml_comes_from_the_env_data_dir(tmp_path):
    write(tmp_path / "device.toml", "[queue]\nbudget_mb = 64\n")
    assert load_settings(environ={"KIOSK_DATA_DIR": str(tmp_path)}).queue.budget_mb == 64


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ('[devices.camera]\ndriver = "webcam"\n', "devices.camera.driver", "must be one of replay, opencv"),
        ('[devices.id_reader]\ndriver = "x"\n', "devices.id_reader.driver", "must be one of sam_serial"),
        ('[kiosk]\nidle_timeout_s = "soon"\n', "kiosk.idle_timeout_s", "must be a number"),
        ("[queue]\nbudget_mb = 1.5\n", "queue.budget_mb", "must be a whole number"),
        ("[display]\nfullscreen = 1\n", "display.fullscreen", "must be true or false"),
        ("[queue]\nnear_full_fraction = 1.5\n", "queue.near_full_fraction", "at most 1"),
        ('[kiosk]\ncounty = "4414"\n', "kiosk.county", "6-digit"),
        ('[hall]\nurl = "ftp://x"\n', "hall.url", "http"),
        ('[kiosk]\nlanguage = "fr"\n', "kiosk.language", "must be one of zh, en"),
        ("[kiosk]\ncolour = 1\n", "kiosk.colour", "unknown setting"),
        ("[printer]\nport = 1\n", "printer", "unknown setting"),
        ("[devices.scanner]\nport = 1\n", "devices.scanner", "unknown setting"),
        ("hall = 3\n", "hall", "must be a table"),
        ("[sync]\nbackoff_base_s = 10\nbackoff_max_s = 5\n", "sync.backoff_max_s", "backoff_base_s"),
        ("[queue]\nbudget_mb = 16\n", "queue.reserve_mb", "must not be above queue.budget_mb"),
        ("[queue]\nbudget_mb = true\n", "queue.budget_mb", "must be a whole number"),
        ("[scan]\nmin_brightness = 200\nmax_brightness = 100\n", "scan.max_brightness", "min_brightness"),
        ('[scan]\nmode = "sepia"\n', "scan.mode", "must be one of colour, grey, text"),
        ('[sync]\nquiet_hours = "25:00-01:00"\n', "sync.quiet_hours", "hours must be 00-23"),
        ("[sync]\nchunk_max_kb = 20000\n", "sync.chunk_max_kb", "must be at most 16384"),
        ('[devices.printer]\ndriver = "usb"\ntarget = "lp0"\n', "devices.printer.target", "VID:PID"),
        ('[kiosk]\ndevice_name = 7\n', "kiosk.device_name", "must be a string"),
    ],
)
def test_bad_values_name_the_dotted_key(tmp_path, text, key, reason):
    cfg = write(tmp_path / "run.toml", text)
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, data_dir=tmp_path, environ={})
    message = str(info.value)
    assert message.startswith(f"{key}: "), message
    assert reason in message
    assert info.value.key == key


def test_bad_value_in_device_toml_names_that_file(tmp_path):
    device = write(tmp_path / "device.toml", '[devices.camera]\ndriver = "webcam"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(data_dir=tmp_path, environ={})
    assert str(info.value).startswith("devices.camera.driver: must be one of replay, opencv")
    assert str(device) in str(info.value)


def test_corrupt_toml_names_file_and_line(tmp_path):
    cfg = write(tmp_path / "run.toml", '[kiosk]\nlanguage = "zh"\ncounty = \n')
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, data_dir=tmp_path, environ={})
    assert str(cfg) in str(info.value) and "line 3" in str(info.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.toml", data_dir=tmp_path, environ={})


def test_device_toml_may_not_move_the_data_dir(tmp_path):
    write(tmp_path / "device.toml", '[kiosk]\ndata_dir = "/elsewhere"\n')
    with pytest.raises(ConfigError, match=r"^kiosk\.data_dir"):
        load_settings(data_dir=tmp_path, environ={})


def test_with_overrides_checks_values(tmp_path):
    s = load_settings(data_dir=tmp_path, environ={})
    demo = s.with_overrides({"hall.url": "http://127.0.0.1:9999", "kiosk.data_dir": tmp_path / "demo"})
    assert demo.hall.url == "http://127.0.0.1:9999" and demo.data_dir == tmp_path / "demo"
    assert s.hall.url == "http://127.0.0.1:8400"  # the original is unchanged
    assert demo.queue == s.queue
    with pytest.raises(ConfigError, match=r"^devices\.camera\.driver: must be one of"):
        s.with_overrides({"devices.camera.driver": "webcam"})
    with pytest.raises(ConfigError, match="unknown setting"):
        s.with_overrides({"hall.colour": "red"})
    replaced = dataclasses.replace(s, hall=dataclasses.replace(s.hall, url="http://x:1"))
    assert replaced.hall.url == "http://x:1"


def test_to_dict_round_trips_every_key(tmp_path):
    s = load_settings(data_dir=tmp_path, environ={})
    d = s.to_dict()
    assert d["devices"]["camera"]["driver"] == "replay" and d["kiosk"]["data_dir"] == str(tmp_path)
    flat = set()

    def walk(tree, prefix=""):
        for k, v in tree.items():
            if isinstance(v, dict):
                walk(v, prefix + k + ".")
            else:
                flat.add(prefix + k)

    walk(d)
    assert flat == set(known_keys())


def test_every_error_names_the_file_the_value_came_from(tmp_path):
    cfg = write(tmp_path / "run.toml", "[queue]\nbudget_mb = 0\n")
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, data_dir=tmp_path, environ={})
    assert str(info.value) == f"queue.budget_mb: must be at least 1 (in {cfg})"


def test_replace_on_a_section_checks_the_new_value(tmp_path):
    s = load_settings(data_dir=tmp_path, environ={})
    with pytest.raises(ValueError):
        dataclasses.replace(s.queue, budget_mb=0)


def test_a_partial_layer_is_checked_over_the_defaults():
    """The hall checks a configuration layer before it signs it, with the kiosk's own models."""
    check_layer(layer_from_tree({"queue": {"budget_mb": 256}, "sync": {"interval_s": 60}}, "hall"))
    with pytest.raises(ConfigError) as info:
        check_layer(layer_from_tree({"sync": {"backoff_max_s": 1}}, "hall configuration 7"))
    assert str(info.value) == (
        "sync.backoff_max_s: must not be below sync.backoff_base_s (in hall configuration 7)"
    )
    with pytest.raises(ConfigError, match=r"^hall\.colour: unknown setting"):
        layer_from_tree({"hall": {"colour": "red"}}, "hall")
