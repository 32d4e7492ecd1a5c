"""Releases side by side on the kiosk (A/B), the switch on restart, and the fallback.

    <data_dir>/releases/
        state.json            {"current", "previous", "next", "trial": {version, since, starts}, "bad": [...]}
        current -> 0.2.0      the release the launcher starts (no link: the factory install)
        0.2.0/site/           the release's wheels installed with pip --target (offline)
        0.2.0/healthy         written by that release after its first good heartbeat
        0.1.9/site/           the one before: kept, to fall back to

``install`` puts a downloaded release beside the running one and marks it ``next``;
nothing changes for the running app. ``at_start`` (the launcher, before the app starts)
switches to ``next`` (the ``current`` link replaced atomically) and starts its trial; at
each later start it checks the trial: healthy → kept; more than ``max_starts`` starts or
``timeout_s`` without the marker → the link goes back to ``previous`` and the version is
remembered as bad (never installed again). A release that crashes at start therefore
rolls back by itself after a few restarts of its service manager.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RELEASE_ENV = "KIOSK_RELEASE"  # the launcher tells the started release its version
RELEASES = "releases"
STATE_FILE = "state.json"
CURRENT_LINK = "current"
HEALTHY_MARKER = "healthy"
MAX_BAD = 50
PIP_TIMEOUT_S = 900


@dataclass
class SlotState:
    current: str = ""  # "" = the factory install (no release folder)
    previous: str = ""
    next: str = ""
    trial: dict[str, Any] | None = None  # {"version", "since", "starts"}
    bad: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, data_dir: Path) -> SlotState:
        try:
            raw = json.loads((releases_dir(data_dir) / STATE_FILE).read_text(encoding="utf-8"))
            return cls(str(raw.get("current", "")), str(raw.get("previous", "")), str(raw.get("next", "")),
                       raw.get("trial") if isinstance(raw.get("trial"), dict) else None,
                       [str(v) for v in raw.get("bad", [])][-MAX_BAD:])
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError, TypeError, AttributeError):
            # Unreadable: start the factory install, which is always there.
            return cls(bad=[])

    def save(self, data_dir: Path) -> None:
        folder = releases_dir(data_dir)
        folder.mkdir(parents=True, exist_ok=True)
        body = {"current": self.current, "previous": self.previous, "next": self.next, "trial": self.trial,
                "bad": self.bad[-MAX_BAD:]}
        tmp = folder / f".{STATE_FILE}.{secrets.token_hex(4)}"
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(body, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, folder / STATE_FILE)


def releases_dir(data_dir: Path) -> Path:
    return Path(data_dir) / RELEASES


def site_dir(data_dir: Path, version: str) -> Path:
    return releases_dir(data_dir) / version / "site"


class InstallFailed(Exception):
    """pip could not install the release's wheels (the reason is pip's last line)."""


def install(data_dir: Path, version: str, wheels: Sequence[Path], python: str = sys.executable) -> Path:
    """Install ``wheels`` beside the running release (offline: no index, only these files) and
    mark the release ``next``: the launcher switches to it at the next start."""
    target = site_dir(data_dir, version)
    if not target.is_dir():
        partial = target.with_name("site.partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.parent.mkdir(parents=True, exist_ok=True)
        folder = str(Path(wheels[0]).parent)
        command = [python, "-m", "pip", "install", "--no-index", "--find-links", folder, "--no-deps",
                   "--disable-pip-version-check", "--no-compile", "--quiet", "--target", str(partial),
                   *[str(w) for w in wheels]]
        done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False)
        if done.returncode != 0:
            shutil.rmtree(partial, ignore_errors=True)
            last = (done.stderr.strip().splitlines() or ["pip failed"])[-1]
            raise InstallFailed(last[:200])
        os.replace(partial, target)
    state = SlotState.load(data_dir)
    state.next = version
    state.save(data_dir)
    prune(data_dir, keep={state.current, state.previous, version})
    return target


def prune(data_dir: Path, keep: set[str]) -> None:
    """Remove release folders other than ``keep`` (current, previous, next) and finished downloads."""
    folder = releases_dir(data_dir)
    for path in folder.iterdir():
        if path.is_dir() and not path.is_symlink() and path.name not in keep and path.name != "downloads":
            shutil.rmtree(path, ignore_errors=True)
    shutil.rmtree(folder / "downloads", ignore_errors=True)  # installed: the wheels are not needed again

def _point_current(data_dir: Path, version: str) -> None:
    """Swap the ``current`` link in one rename (a power cut leaves the old or the new one)."""
    folder = releases_dir(data_dir)
    link = folder / CURRENT_LINK
    if not version:
        link.unlink(missing_ok=True)
        return
    tmp = folder / f".{CURRENT_LINK}.{secrets.token_hex(4)}"
    os.symlink(version, tmp)
    os.replace(tmp, link)


def mark_healthy(data_dir: Path, version: str) -> bool:
    """Called by a release after its first good heartbeat: it keeps its place."""
    folder = releases_dir(data_dir) / version
    if not version or not folder.is_dir():
        return False
    marker = folder / HEALTHY_MARKER
    if not marker.exists():
        marker.write_text("ok\n", encoding="ascii")
    return True


@dataclass(frozen=True)
class StartDecision:
    version: str  # the release to start ("" = factory install)
    event: str = ""  # "switched", "rolled_back", "kept", ""
    detail: str = ""


def at_start(data_dir: Path, now: float, timeout_s: float, max_starts: int) -> StartDecision:
    """What the launcher runs this time (switching or rolling back first, as needed)."""
    state = SlotState.load(data_dir)
    if state.trial is not None:
        version = str(state.trial.get("version", ""))
        if (releases_dir(data_dir) / version / HEALTHY_MARKER).exists():
            state.trial = None
            state.save(data_dir)
            return StartDecision(state.current, "kept", version)
        starts = int(state.trial.get("starts", 0))
        if starts >= max_starts or now - float(state.trial.get("since", now)) > timeout_s:
            failed, state.current = version, state.previous
            state.bad = [v for v in state.bad if v != failed] + [failed]
            state.trial = None
            _point_current(data_dir, state.current)
            state.save(data_dir)
            return StartDecision(state.current, "rolled_back", failed)
        state.trial["starts"] = starts + 1
        state.save(data_dir)
        return StartDecision(state.current)
    if state.next and state.next != state.current and site_dir(data_dir, state.next).is_dir():
        state.previous, state.current, state.next = state.current, state.next, ""
        state.trial = {"version": state.current, "since": now, "starts": 1}
        _point_current(data_dir, state.current)
        state.save(data_dir)
        return StartDecision(state.current, "switched", state.previous)
    return StartDecision(state.current)
