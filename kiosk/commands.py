"""What each `kiosk` sub-command does; `kiosk.cli` only parses and dispatches.

Output for people goes through the translator in the kiosk's language; `--json`
output is one JSON object per line with stable English keys. No command prints
personal data.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from kiosk.catalog import load_catalog
from kiosk.errors import ConfigError
from kiosk.i18n import Translator
from kiosk.settings import Settings, load_settings


def settings_from(args: argparse.Namespace) -> Settings:
    from kiosk.agent.config import with_hall_layer

    config = Path(args.config) if getattr(args, "config", None) else None
    data_dir = Path(args.data_dir) if getattr(args, "data_dir", None) else None
    # The hall's signed configuration (if any) sits under device.toml and the --config file.
    return with_hall_layer(load_settings(config_file=config, data_dir=data_dir), config)


def _translator(args: argparse.Namespace) -> Translator:
    try:
        return Translator.load(lang=settings_from(args).kiosk.language)
    except Exception:  # a broken config must still be explained
        return Translator.load(lang="zh")


def explain(exc: BaseException, args: argparse.Namespace) -> str:
    """One line a person can act on, in the kiosk's language, with the technical detail."""
    t = _translator(args)
    text = t.t(getattr(exc, "message_key", "kiosk.error"))
    if isinstance(exc, ConfigError):
        return f"kiosk: {text}: {exc}"
    detail = str(exc)
    return f"kiosk: {text}" + (f" ({detail})" if detail and detail != text else "")


def _emit(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, ensure_ascii=False, sort_keys=True))


# -- run and demo -------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    from kiosk.runtime import run_kiosk

    return run_kiosk(settings_from(args))


def demo(args: argparse.Namespace) -> int:
    from kiosk.demo import run_demo

    return run_demo(
        data_dir=Path(args.data_dir) if args.data_dir else None,
        config_file=Path(args.config) if args.config else None,
        screenshot=Path(args.screenshot) if args.screenshot else None,
        exit_after=args.exit_after,
        port=args.port,
    )


# -- enrolment and sync -------------------------------------------------------------


def enroll(args: argparse.Namespace) -> int:
    from offline_queue.identity import enroll as enroll_device

    settings = settings_from(args)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    identity = enroll_device(
        args.hall,
        args.code,
        settings.data_dir,
        name=args.name or settings.kiosk.device_name,
        timeout_s=settings.hall.timeout_s,
    )
    t = Translator.load(lang=settings.kiosk.language)
    print(t.t("cli.enrolled", device_id=identity.device_id, county=identity.county))
    return 0


def sync(args: argparse.Namespace) -> int:
    from kiosk.runtime import open_sync_engine

    settings = settings_from(args)
    engine = open_sync_engine(settings)
    t = Translator.load(lang=settings.kiosk.language)
    while True:
        report = engine.run_once()
        if args.json:
            _emit(
                {
                    "sent": report.sent,
                    "failed": report.failed,
                    "retried": report.retried,
                    "status_updates": report.status_updates,
                    "errors": list(report.errors),
                    "quiet": report.quiet,
                    "purged": report.purged,
                }
            )
        elif report.quiet:
            print(t.t("cli.sync_quiet", hours=settings.sync.quiet_hours))
        else:
            print(
                t.t(
                    "cli.sync_report",
                    sent=report.sent,
                    failed=report.failed,
                    retried=report.retried,
                    updates=report.status_updates,
                )
            )
        if args.once:  # 3: some work must wait (hall down or busy, or quiet hours)
            return 3 if report.errors or report.quiet else 0
        time.sleep(settings.sync.interval_s)


# -- queue and catalog --------------------------------------------------------------


def queue_status(args: argparse.Namespace) -> int:
    from kiosk.runtime import open_queue

    settings = settings_from(args)
    queue = open_queue(settings)
    summary = queue.summary()
    if args.json:
        _emit(
            {
                "counts": dict(summary.counts),
                "oldest_unsent_age_s": summary.oldest_unsent_age_s,
                "bytes_used": summary.bytes_used,
                "budget_bytes": summary.budget_bytes,
                "near_full": summary.near_full,
                "recovered": queue.recovery.to_dict(),
                "purges": [
                    {
                        "provisional_number": p.provisional_number,
                        "official_number": p.official_number,
                        "purged_at": p.purged_at,
                        "bytes_freed": p.bytes_freed,
                        "reason": p.reason,
                    }
                    for p in queue.purges()
                ],
            }
        )
        for entry in queue.entries():
            _emit(
                {
                    "id": entry.id,
                    "provisional_number": entry.provisional_number,
                    "official_number": entry.official_number,
                    "service_code": entry.service_code,
                    "state": entry.state,
                    "reason": entry.reason,
                    "created_at": entry.created_at,
                    "attempts": entry.attempts,
                }
            )
        return 0
    t = Translator.load(lang=settings.kiosk.language)
    waiting = sum(n for state, n in summary.counts.items() if state in ("sealed", "uploading"))
    print(
        t.t(
            "cli.queue_summary",
            waiting=waiting,
            total=sum(summary.counts.values()),
            used_mb=f"{summary.bytes_used / 1e6:.1f}",
            budget_mb=f"{summary.budget_bytes / 1e6:.0f}",
        )
    )
    for state, count in sorted(summary.counts.items()):
        print(f"  {state:<18} {count}")
    if summary.oldest_unsent_age_s is not None:
        print(t.t("cli.queue_oldest", minutes=int(summary.oldest_unsent_age_s // 60)))
    if queue.recovery.anything:
        print(t.t("cli.queue_recovered", **queue.recovery.to_dict()))
    purges = queue.purges()
    if purges:
        freed_mb = f"{sum(p.bytes_freed for p in purges) / 1e6:.1f}"
        print(t.t("cli.queue_purged", count=len(purges), mb=freed_mb))
    return 0


def catalog(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    items = load_catalog().items()
    if args.json:
        for item in items:
            _emit(item.to_json())
        return 0
    lang = settings.kiosk.language
    for item in items:
        print(f"{item.code:<16} {item.name.get(lang)}  ({item.department.get(lang)})")
    return 0


# -- paper applications -------------------------------------------------------------


def submit(args: argparse.Namespace) -> int:
    from kiosk.paper import read_paper_application
    from kiosk.runtime import enqueue_session, open_queue

    settings = settings_from(args)
    session, item = read_paper_application(Path(args.file), load_catalog())
    try:
        entry = enqueue_session(settings, open_queue(settings), session, item)
    finally:
        session.wipe()
    if args.json:
        _emit({"id": entry.id, "provisional_number": entry.provisional_number, "state": entry.state})
    else:
        t = Translator.load(lang=settings.kiosk.language)
        print(t.t("cli.submitted", id=entry.id, number=entry.provisional_number))
    return 0
