"""``kiosk-launch``: what the service manager starts; it picks the release and starts ``kiosk``.

    kiosk-launch run                       # systemd: ExecStart=/opt/kiosk/venv/bin/kiosk-launch run
    kiosk-launch agent --once --data-dir D # any ``kiosk`` command, run from the current release

Before the app starts, ``kiosk.updates.slots.at_start`` switches to a release installed
for the next start, or — when the release on trial has not reported healthy within its
starts or its time — goes back to the previous one and notes it for the next heartbeat.
The launcher itself is the factory install's code: a broken release cannot break it.
The chosen release's ``site`` folder goes first on ``PYTHONPATH`` and its version in
``KIOSK_RELEASE`` (what the agent reports, and the marker it writes when healthy).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.updates.slots import RELEASE_ENV, at_start, site_dir

if TYPE_CHECKING:
    from kiosk.settings import Settings

log = logging.getLogger(__name__)
PROBLEM_PREFIX = "release_rolled_back:"


def _settings(argv: Sequence[str]) -> Settings:
    from kiosk.commands import settings_from

    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--data-dir")
    parser.add_argument("--config")
    known, _rest = parser.parse_known_args(list(argv))
    return settings_from(known)


def _note_rollback(data_dir: Path, version: str) -> None:
    from kiosk.agent.state import AgentState

    state = AgentState.load(data_dir)
    state.add_problem(PROBLEM_PREFIX + version)
    state.save(data_dir)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = _settings(args)
    decision = at_start(settings.data_dir, time.time(), settings.kiosk.release_health_timeout_s,
                        settings.kiosk.release_max_starts)
    if decision.event == "rolled_back":
        log.warning("release %s did not report healthy: back to %s", decision.detail,
                    decision.version or "the factory install")
        _note_rollback(settings.data_dir, decision.detail)
    elif decision.event == "switched":
        log.info("starting release %s (on trial)", decision.version)
    env = dict(os.environ)
    env[RELEASE_ENV] = decision.version
    if decision.version:
        paths = [str(site_dir(settings.data_dir, decision.version))]
        env["PYTHONPATH"] = os.pathsep.join(paths + [p for p in [env.get("PYTHONPATH", "")] if p])
    # exec: the service manager sees the kiosk's own exit code and signals reach it directly.
    # -P: the working directory is not put first on sys.path (a checkout there would shadow the release).
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-P", "-m", "kiosk", *args], env)
    return 127  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
