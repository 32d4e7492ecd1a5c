"""The `kiosk` command: the contract that scripts, technicians and later checks use.

    kiosk run [--config FILE]                       start the kiosk (= python main.py)
    kiosk demo [--screenshot PNG] [--exit-after S]  simulated devices + a local hall
    kiosk enroll --hall URL --code CODE             enrol this kiosk with a county hall
    kiosk sync [--once]                             send the queue, pull status changes
    kiosk queue status [--json]                     what waits in the outbox
    kiosk catalog [--json]                          the service items and their forms
    kiosk submit FILE.json                          enqueue a paper application

`--json` prints one JSON object per line. Every command takes `--config FILE` and
`--data-dir DIR` (or KIOSK_DATA_DIR). Errors a person can meet print one translated
line and exit 2; nothing prints a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

import hardware.images  # noqa: F401  (first: sets OpenCV's pixel limit before anything loads cv2)
from kiosk import commands
from kiosk.errors import KioskError

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="FILE", help="a TOML file layered over the defaults")
    common.add_argument("--data-dir", metavar="DIR", help="where the queue and identity live")

    parser = argparse.ArgumentParser(prog="kiosk", description="Village self-service kiosk", parents=[common])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("run", parents=[common], help="start the kiosk")

    demo = sub.add_parser("demo", parents=[common], help="simulated devices and a local county hall")
    demo.add_argument("--screenshot", metavar="PNG", help="save the home screen to PNG and exit")
    demo.add_argument("--exit-after", type=float, metavar="SECONDS", help="stop after SECONDS")
    demo.add_argument("--port", type=int, default=0, help="the local hall's port (default: a free one)")

    enroll = sub.add_parser("enroll", parents=[common], help="enrol this kiosk with a county hall")
    enroll.add_argument("--hall", required=True, metavar="URL")
    enroll.add_argument("--code", required=True)
    enroll.add_argument("--name", default="", help="a label for the county's console")

    sync = sub.add_parser("sync", parents=[common], help="send the queue and pull status changes")
    sync.add_argument("--once", action="store_true", help="one pass, then exit")
    sync.add_argument("--json", action="store_true")

    queue = sub.add_parser("queue", parents=[common], help="the outbox")
    queue_sub = queue.add_subparsers(dest="queue_command", required=True, metavar="ACTION")
    status = queue_sub.add_parser("status", parents=[common], help="what waits in the outbox")
    status.add_argument("--json", action="store_true")

    catalog = sub.add_parser("catalog", parents=[common], help="the service items")
    catalog.add_argument("--json", action="store_true")

    submit = sub.add_parser("submit", parents=[common], help="enqueue an application from a JSON file")
    submit.add_argument("file", metavar="FILE.json")
    submit.add_argument("--json", action="store_true")

    for module in _command_modules():
        HANDLERS.update(module.register(sub, common))
    return parser


def _command_modules() -> list:
    """Modules that add their own sub-commands: ``register(subparsers, common) -> {name: handler}``.

    Each topic (devices, scanning, …) keeps its commands in its own small module, so
    this file only dispatches.
    """
    import importlib

    return [importlib.import_module(name) for name in COMMAND_MODULES]


COMMAND_MODULES: list[str] = [
    "kiosk.commands_scan", "kiosk.commands_codes", "kiosk.commands_devices", "kiosk.commands_agent",
]


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": commands.run,
    "demo": commands.demo,
    "enroll": commands.enroll,
    "sync": commands.sync,
    "queue": commands.queue_status,
    "catalog": commands.catalog,
    "submit": commands.submit,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return HANDLERS[args.command](args)
    except KioskError as exc:
        print(commands.explain(exc, args), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last line of defence: a message, never a traceback
        if getattr(exc, "message_key", None):
            print(commands.explain(exc, args), file=sys.stderr)
            return 2
        if isinstance(exc, RecursionError):  # hostile input nested past Python's limit: bad input
            print("kiosk: the input is nested too deeply", file=sys.stderr)
            return 2
        if log.hasHandlers():  # into the kiosk log when there is one; a traceback never reaches the console
            log.error("unexpected error in `kiosk %s`", args.command, exc_info=True)
        print(f"kiosk: unexpected error ({type(exc).__name__}); see the kiosk log", file=sys.stderr)
        return 1
