"""`kiosk agent`: the fleet agent from a shell (one beat for tests and technicians, or a loop).

    kiosk agent --once [--json]     one heartbeat: report, carry out the hall's commands, ack
    kiosk agent                     beat at the interval the hall sets until interrupted

With ``--json`` each beat prints one object: ``reached_hall``, ``interval_s``, ``done``
([id, kind, status]), ``refused`` ([id, reason]), ``waiting`` ([id, kind]), ``locked``,
``restart``, ``error``. Exit 3 when the hall was not reached with ``--once``; exit 75
(``RESTART_EXIT_CODE``) after a beat that carried out ``restart`` or ``rotate_keys``, for
the service manager to start it again. ``sync_now`` runs one sync pass right here (there
is no sync worker to wake).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from kiosk.commands import settings_from

UNREACHED_EXIT = 3


def register(subparsers: Any, common: argparse.ArgumentParser) -> dict[str, Any]:
    agent = subparsers.add_parser("agent", aliases=["heartbeat"], parents=[common],
                                  help="heartbeat to the hall, run its commands")
    agent.add_argument("--once", action="store_true", help="one beat, then exit")
    agent.add_argument("--json", action="store_true")
    return {"agent": run_agent, "heartbeat": run_agent}


def _line(report: Any, locked: bool) -> str:
    reached = "reached the hall" if report.reached_hall else f"did not reach the hall ({report.error})"
    counts = f"{len(report.done)} done, {len(report.refused)} refused, {len(report.waiting)} waiting"
    return f"heartbeat {reached}; commands: {counts}" + ("; LOCKED" if locked else "")


def run_agent(args: argparse.Namespace) -> int:
    from kiosk.agent.agent import RESTART_EXIT_CODE
    from kiosk.agent.wiring import build_agent
    from kiosk.runtime import open_queue, open_sync_engine, require_identity

    settings = settings_from(args)
    queue = open_queue(settings)
    agent = build_agent(settings, require_identity(settings), queue,
                        sync_now=lambda: open_sync_engine(settings, queue).run_once())
    try:
        while True:
            report = agent.beat()
            if args.json:
                print(json.dumps({"reached_hall": report.reached_hall, "interval_s": report.interval_s,
                                  "done": report.done, "refused": report.refused, "waiting": report.waiting,
                                  "locked": agent.locked, "restart": report.restart,
                                  "release": report.release,
                                  "error": report.error},
                                 sort_keys=True), flush=True)
            else:
                print(_line(report, agent.locked), flush=True)
            if report.restart:
                return RESTART_EXIT_CODE
            if args.once:
                return 0 if report.reached_hall else UNREACHED_EXIT
            time.sleep(report.interval_s)
    finally:
        queue.close()
