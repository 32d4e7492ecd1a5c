"""The core rooms import no Kivy: they must run and be tested without a window."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE_PACKAGES = ("kiosk", "hardware", "offline_queue", "hall", "workers")
GUI_MODULES = {"kiosk/app.py"}


def _core_modules() -> list[str]:
    modules = []
    for package in CORE_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel in GUI_MODULES or "/migrations/" in rel:
                continue
            modules.append(rel[:-3].replace("/", ".").removesuffix(".__init__"))
    return modules


def test_core_modules_import_without_kivy():
    """Import every core module in a fresh interpreter and check kivy never loaded."""
    modules = _core_modules()
    assert modules, "no core modules found"
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    if name.endswith('__main__'):\n"
        "        continue\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'kivy' or m.startswith('kivy.'))\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"kivy imported by a core module: {out.stdout.strip()}"


def test_core_sources_do_not_mention_kivy_imports():
    offenders = []
    for package in CORE_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if rel in GUI_MODULES:
                continue
            for line in path.read_text(encoding="utf-8").splitlines():
                stripped = line.strip()
                if stripped.startswith(("import kivy", "from kivy")):
                    offenders.append(f"{rel}: {stripped}")
    assert not offenders, offenders
