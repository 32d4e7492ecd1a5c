"""Every `kiosk` command, handed hostile input, ends with one plain line and exit 2.

Run as real processes (``python -c`` around ``kiosk.cli.main``) so that the peak memory
of the command itself can be read with ``resource.getrusage`` afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.hostile_files import png_bomb

ROOT = Path(__file__).resolve().parents[2]

# Runs `kiosk ARGS`, then reports its own peak RSS on the last line of stderr.
# The peak is read from /proc/self/status (VmHWM, this process's own memory since exec), not
# from getrusage: Linux carries ru_maxrss across fork and exec, so a child forked from a
# pytest that has grown to 450 MB would report 450 MB whatever it did itself.
_MEASURED = (
    "import sys\n"
    "from kiosk.cli import main\n"
    "try:\n"
    "    code = main(sys.argv[1:])\n"
    "except SystemExit as exc:\n"
    "    code = exc.code\n"
    "sys.stdout.flush()\n"
    "hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')]\n"
    "print('MAXRSS_KB', hwm[0], file=sys.stderr)\n"
    "sys.exit(code)\n"
)
# Should a guard fail, the command must hit this wall rather than the shared machine's memory.
_ADDRESS_SPACE_LIMIT = 2 * 1024**3


@dataclass
class Ran:
    code: int
    out: str
    err_lines: list[str]
    max_rss_mb: float


def _limit_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (_ADDRESS_SPACE_LIMIT, _ADDRESS_SPACE_LIMIT))


def run_kiosk(*args: str, timeout: float = 60) -> Ran:
    env = {k: v for k, v in os.environ.items() if k not in ("KIOSK_DATA_DIR", "DISPLAY")}
    done = subprocess.run([sys.executable, "-c", _MEASURED, *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env=env, preexec_fn=_limit_memory)
    lines = done.stderr.splitlines()
    rss = [line for line in lines if line.startswith("MAXRSS_KB ")]
    return Ran(done.returncode, done.stdout, [line for line in lines if not line.startswith("MAXRSS_KB ")],
               int(rss[-1].split()[1]) / 1024 if rss else float("nan"))


def assert_refused(ran: Ran, *needles: str) -> None:
    text = "\n".join(ran.err_lines) + ran.out
    assert ran.code == 2, text
    assert "Traceback" not in text, text
    assert len(ran.err_lines) + len(ran.out.splitlines()) == 1, text
    for needle in needles:
        assert needle in text, text


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """A valid 30000×30000 PNG, about 110 KB on disk, 2.7 GB once decoded."""
    return png_bomb(tmp_path_factory.mktemp("bomb") / "bomb.png")


@pytest.mark.parametrize(
    ("command", "needle"),
    [
        (("scan", "detect"), "impossible size"),
        (("scan", "detect", "--json"), '"error": "scan.bad_image"'),
        (("scan", "rectify", "--out", "{tmp}/page.jpg"), "impossible size"),
        (("barcode",), "impossible size"),
        (("barcode", "--json"), "hardware.image_unreadable"),
    ],
    ids=["detect", "detect-json", "rectify", "barcode", "barcode-json"],
)
def test_a_decompression_bomb_is_refused_without_taking_memory(bomb, tmp_path, command, needle):
    """Finding 11: `kiosk scan detect|rectify` decoded a 30000×30000 PNG (5.3 GB)."""
    args = [part.replace("{tmp}", str(tmp_path)) for part in command]
    ran = run_kiosk(*args, str(bomb))
    assert_refused(ran, needle)
    assert ran.max_rss_mb < 250, f"peak RSS {ran.max_rss_mb:.0f} MB"  # 2.7 GB if the pixels were decoded
    assert not (tmp_path / "page.jpg").exists()


# --- every command, hostile input: one line, exit 2 ------------------------------------------


def _hostile_files(folder: Path) -> dict[str, str]:
    deep = folder / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    big_int = folder / "bigint.json"
    big_int.write_text('{"service": ' + "9" * 5000 + "}", encoding="utf-8")
    deep_object = folder / "deep_object.json"
    deep_object.write_text('{"a":' * 50 + "1" + "}" * 50, encoding="utf-8")
    bad_toml = folder / "bad.toml"
    bad_toml.write_text("x = [", encoding="utf-8")
    broken_identity = folder / "broken-data"
    broken_identity.mkdir()
    (broken_identity / "identity.json").write_text('{"device_id": 5}', encoding="utf-8")
    return {"{deep}": str(deep), "{bigint}": str(big_int), "{deep_object}": str(deep_object),
            "{bad_toml}": str(bad_toml), "{broken_data}": str(broken_identity), "{tmp}": str(folder)}


HOSTILE = [
    (("submit", "{deep}"), "nested too deeply"),
    (("submit", "{bigint}"), "more than 20 digits"),
    (("submit", "{deep_object}"), "nested too deeply"),
    (("submit", "/dev/zero"), "not a regular file"),
    (("submit", "{tmp}"), "folder"),
    (("submit", "{tmp}/missing.json"), "no such file"),
    (("scan", "detect", "/dev/zero"), "not a regular file"),
    (("scan", "rectify", "{deep}", "--out", "{tmp}/x.jpg"), "not a picture"),
    (("barcode", "{bigint}"), "not a picture"),
    (("sync", "--once", "--data-dir", "{broken_data}"), "identity.json"),
    (("queue", "status", "--config", "{bad_toml}"), "not valid TOML"),
    (("catalog", "--config", "{bad_toml}"), "not valid TOML"),
    (("devices", "--config", "{bad_toml}"), "not valid TOML"),
    (("doctor", "--config", "{bad_toml}"), "not valid TOML"),
    (("run", "--config", "{bad_toml}"), "not valid TOML"),
    (("enroll", "--hall", "ftp://hall.example", "--code", "X" * 5000, "--data-dir", "{tmp}/enrol"), "kiosk:"),
    (("read-id", "--serial", "/dev/null", "--timeout", "0.5", "--data-dir", "{tmp}"), "kiosk:"),
    (("print-test", "--out", "{tmp}", "--data-dir", "{tmp}"), "kiosk:"),
]


@pytest.mark.parametrize(("command", "needle"), HOSTILE, ids=[" ".join(c[:2]) + f"-{i}" for i, (c, _) in
                                                               enumerate(HOSTILE)])
def test_every_command_answers_hostile_input_with_one_line(tmp_path, command, needle):
    """The 'low' item of issue 9: nested JSON or a 5000-digit integer printed a traceback."""
    names = _hostile_files(tmp_path)
    args = []
    for part in command:
        for placeholder, value in names.items():
            part = part.replace(placeholder, value)
        args.append(part)
    if "--data-dir" not in args and "--config" not in args:
        args += ["--data-dir", str(tmp_path / "data")]
    assert_refused(run_kiosk(*args, timeout=60), needle)
