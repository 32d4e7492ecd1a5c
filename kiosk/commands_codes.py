"""`kiosk barcode` and `kiosk print-test`: codes in pictures, and the receipt printer.

    kiosk barcode IMAGE... [--json]        the codes in each picture
    kiosk print-test [--out FILE] [--json] a sample receipt on the configured printer (or a file)

``barcode`` prints per picture ``{"file": …, "codes": [{"type": …, "text": …}]}``; a file
that is not a picture, or a broken one, gets ``{"file": …, "codes": [], "error":
message_key, "message": …}`` and the others go on; the exit code is 2 when any file
could not be read, 0 otherwise (a picture without a code is not an error). Codes can
hold personal data (an ID number); they are printed, as asked, and never logged.

``print-test`` checks the printer's status (paper, cover) where it reports it, prints a
receipt with a made-up number and the tracking URL of ``hall.url``, and exits 2 with one
translated line when the printer cannot print (no printer configured, out of paper,
cover open, unreachable).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.commands import settings_from
from kiosk.errors import ConfigError
from kiosk.i18n import Translator

SAMPLE_NUMBER = "K0000-20260101-0001"


def register(
    subparsers: Any, common: argparse.ArgumentParser
) -> dict[str, Callable[[argparse.Namespace], int]]:
    barcode = subparsers.add_parser("barcode", parents=[common],
                                    help="read barcodes and QR codes in pictures")
    barcode.add_argument("images", nargs="+", metavar="IMAGE")
    barcode.add_argument("--json", action="store_true")
    test = subparsers.add_parser("print-test", parents=[common], help="print a sample receipt")
    test.add_argument("--out", metavar="FILE", help="write the printer's bytes to FILE instead")
    test.add_argument("--json", action="store_true")
    return {"barcode": barcode_command, "print-test": print_test}


def _emit(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, ensure_ascii=False, sort_keys=True), flush=True)


def _translator(args: argparse.Namespace) -> Translator:
    try:
        return Translator.load(lang=settings_from(args).kiosk.language)
    except Exception:  # a bad setting must not stop a look at a picture
        return Translator.load(lang="zh")


# -- kiosk barcode --------------------------------------------------------------------


def barcode_command(args: argparse.Namespace) -> int:
    from hardware.errors import ImageUnreadable
    from hardware.factory import build_barcode_reader

    t = _translator(args)
    decoder = build_barcode_reader()
    failed = found = 0
    try:
        for name in args.images:
            try:
                codes = [c.to_json() for c in decoder.decode_file(Path(name))]
            except ImageUnreadable as exc:
                failed += 1
                message = t.t("codes.cli.file_error", reason=t.t(exc.message_key))
                if args.json:
                    _emit({"file": name, "codes": [], "error": exc.message_key, "message": message,
                           "detail": str(exc)})
                else:
                    print(f"{name}: {message} ({exc})")
                continue
            found += len(codes)
            if args.json:
                _emit({"file": name, "codes": codes})
            elif not codes:
                print(f"{name}: {t.t('codes.cli.no_codes')}")
            else:
                for code in codes:
                    print(f"{name}: {code['type']} {code['text']}")
    finally:
        decoder.close()
    if not args.json and len(args.images) > 1:
        print(t.t("codes.cli.summary", files=len(args.images), codes=found, errors=failed))
    return 2 if failed else 0


# -- kiosk print-test -----------------------------------------------------------------


@dataclass(frozen=True)
class _SampleReceipt:
    provisional_number: str
    qr_text: str
    service_name: str
    created_at: str
    agent: str = ""


def print_test(args: argparse.Namespace) -> int:
    from datetime import datetime

    from hardware.factory import build_printer
    from hardware.printer_receipt import print_receipt
    from kiosk.applications import CHINA_TIME
    from kiosk.receipts import receipt_slip

    settings = settings_from(args)
    t = Translator.load(lang=settings.kiosk.language)
    cfg: Any = settings.devices.printer
    if args.out:
        cfg = argparse.Namespace(driver="file", target=str(Path(args.out)))
    elif cfg.driver == "none":
        hint = f"{t.t('codes.cli.no_printer')}; {t.t('codes.cli.no_printer_hint')}"
        raise ConfigError("devices.printer.driver", hint)
    printer = build_printer(cfg)
    if printer is None:  # an empty driver name: nothing to print on
        hint = f"{t.t('codes.cli.no_printer')}; {t.t('codes.cli.no_printer_hint')}"
        raise ConfigError("devices.printer.driver", hint)
    try:
        sample = _SampleReceipt(
            provisional_number=SAMPLE_NUMBER,
            qr_text=f"{settings.hall.url.rstrip('/')}/track/{SAMPLE_NUMBER}",
            service_name=t.t("codes.receipt.test_service"),
            created_at=datetime.now(CHINA_TIME).strftime("%Y-%m-%d %H:%M"),
        )
        status = printer.status()
        print_receipt(printer, receipt_slip(sample, t, place=settings.kiosk.device_name))
    finally:
        printer.close()
    if args.json:
        out = {"printed": True, "driver": cfg.driver, "status": status.to_json()}
        if args.out:
            out.update(file=args.out, bytes=Path(args.out).stat().st_size)
        _emit(out)
        return 0
    if args.out:
        print(t.t("codes.cli.printed_file", path=args.out, size=Path(args.out).stat().st_size))
    else:
        print(t.t("codes.cli.printed", driver=cfg.driver))
        if printer.reports_status:
            print(t.t("codes.cli.printer_status", paper=status.paper, cover=status.cover_open,
                      online=status.online))
    sys.stdout.flush()
    return 0
