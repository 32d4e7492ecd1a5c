"""The device commands: `kiosk read-id`, `kiosk devices`, `kiosk doctor`.

    kiosk read-id (--serial PORT | --pcsc [READER]) [--json] [--reveal] [--timeout S]
    kiosk devices [--json]
    kiosk doctor [--json]

`read-id` reads one card. With ``--serial`` it is an ID card through the SAM reader; its
JSON keys are ``card_type`` (resident | hk_macau_taiwan | foreign_permanent), ``name``,
``sex`` (male | female | unknown | unspecified), ``ethnicity`` (Chinese name; absent when
blank), ``birth_date``, ``valid_from``, ``valid_to`` (YYYY-MM-DD or ``long_term``),
``expired``, ``address``, ``id_number``, ``issuer``; permits add ``permit_number`` and
``issue_count``; foreign cards add ``english_name`` and ``nationality``. With ``--pcsc``
it is a social security card (``card_type`` social_security, with ``card_number`` and
``region_code``) or a staff card (``card_type`` staff: ``worker_id``, ``county``). Without
``--reveal`` names, numbers and the address are masked. No card in time: exit 2.

`devices` prints each device's state (ok | degraded | missing) with its reason;
`doctor` says in plain words what is wrong and what to do, and exits 3 when a required
device is not ok.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from hardware.interfaces import IdCard
from hardware.pcsc_cards import SocialSecurityCard, StaffCardReading
from kiosk.commands import settings_from
from kiosk.i18n import Translator

DOCTOR_PROBLEM_EXIT = 3


def register(subparsers: Any, common: argparse.ArgumentParser) -> dict[str, Any]:
    read = subparsers.add_parser("read-id", parents=[common],
                                 help="read one ID, social security or staff card")
    source = read.add_mutually_exclusive_group(required=True)
    source.add_argument("--serial", metavar="PORT", help="a SAM ID card reader on this serial port")
    source.add_argument("--pcsc", nargs="?", const="", metavar="READER",
                        help="a PC/SC reader (a name or its beginning; none = any reader)")
    read.add_argument("--json", action="store_true")
    read.add_argument("--reveal", action="store_true", help="show names, numbers and the address unmasked")
    read.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                      help="wait this long for a card")
    read.add_argument("--baud", type=int, default=115200, help="serial speed (default 115200)")

    devices = subparsers.add_parser("devices", parents=[common], help="how each device is")
    devices.add_argument("--json", action="store_true")
    doctor = subparsers.add_parser("doctor", parents=[common],
                                   help="what is wrong with a device, and what to do")
    doctor.add_argument("--json", action="store_true")
    return {"read-id": read_id, "devices": devices_command, "doctor": doctor_command}


def _translator(args: argparse.Namespace) -> Translator:
    try:
        return Translator.load(lang=settings_from(args).kiosk.language)
    except Exception:  # a broken config must not stop a technician reading a card
        return Translator.load(lang="zh")


def _emit(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, ensure_ascii=False, sort_keys=True))


# -- read-id --------------------------------------------------------------------------


def _mask_name(name: str) -> str:
    from kiosk.presentation import mask_name

    return mask_name(name) if name else ""


def _mask_number(number: str) -> str:
    from kiosk.idnumber import mask_id_number

    return mask_id_number(number) if number else ""


def _mask_address(address: str) -> str:
    """The first six characters (province and city), stars for the rest."""
    return address[:6] + "*" * max(0, len(address) - 6)


def id_card_json(card: IdCard, today: date, reveal: bool = False) -> dict[str, Any]:
    """The read-id JSON of an ``IdCard`` (the contract in the module docstring)."""
    show_name = (lambda s: s) if reveal else _mask_name
    show_number = (lambda s: s) if reveal else _mask_number
    out: dict[str, Any] = {
        "card_type": card.card_type,
        "name": show_name(card.name),
        "sex": card.sex,
        "birth_date": card.birth_date.isoformat(),
        "valid_from": card.valid_from.isoformat(),
        "valid_to": "long_term" if card.valid_to is None else card.valid_to.isoformat(),
        "expired": card.is_expired(today),
        "address": card.address if reveal else _mask_address(card.address),
        "id_number": show_number(card.id_number),
        "issuer": card.issuer,
    }
    if card.ethnicity:
        out["ethnicity"] = card.ethnicity
    if card.card_type == "hk_macau_taiwan":
        out["permit_number"] = show_number(card.permit_number or "")
        out["issue_count"] = card.issue_count or ""
    if card.card_type == "foreign_permanent":
        out["english_name"] = (card.english_name or "") if reveal else _mask_name(card.english_name or "")
        out["nationality"] = card.nationality or ""
    return out


def smart_card_json(card: StaffCardReading | SocialSecurityCard, today: date,
                    reveal: bool = False) -> dict[str, Any]:
    """The read-id JSON of a social security card or a staff card."""
    out: dict[str, Any]
    if isinstance(card, StaffCardReading):
        out = {"card_type": "staff", "worker_id": card.worker_id, "county": card.county}
        if card.role:
            out["role"] = card.role
        return out
    out = {
        "card_type": "social_security",
        "name": card.name if reveal else _mask_name(card.name),
        "sex": card.sex,
        "birth_date": card.birth_date.isoformat(),
        "id_number": card.id_number if reveal else _mask_number(card.id_number),
        "card_number": card.card_number if reveal else _mask_number(card.card_number),
        "region_code": card.region_code,
        "expired": card.is_expired(today),
    }
    if card.ethnicity:
        out["ethnicity"] = card.ethnicity
    if card.issued:
        out["valid_from"] = card.issued.isoformat()
    if card.expires:
        out["valid_to"] = card.expires.isoformat()
    return out


def read_id(args: argparse.Namespace) -> int:
    t = _translator(args)
    if args.serial:
        from hardware.sam_reader import SamSerialReader

        with SamSerialReader(args.serial, baud=args.baud, timeout=2.0) as reader:
            id_card = reader.read_card(timeout=args.timeout)
        record = None if id_card is None else id_card_json(id_card, date.today(), reveal=args.reveal)
    else:
        from hardware.pcsc_reader import PcscCardReader

        with PcscCardReader(args.pcsc or None, require_removal=False) as reader:
            smart_card = reader.read_card(timeout=args.timeout)
        record = None if smart_card is None else smart_card_json(smart_card, date.today(), reveal=args.reveal)
    if record is None:
        print(f"kiosk: {t.t('devices.no_card', seconds=f'{args.timeout:g}')}", file=sys.stderr)
        return 2
    if args.json:
        _emit(record)
        return 0
    for key, value in record.items():
        if isinstance(value, bool):
            value = t.t("devices.value.yes" if value else "devices.value.no")
        elif key in ("card_type", "sex") or value == "long_term":
            value = t.t(f"devices.value.{value}")
        print(f"{t.t(f'devices.field.{key}')}: {value}")
    return 0


# -- devices and doctor -----------------------------------------------------------------


def _report(args: argparse.Namespace) -> Any:
    from hardware.health import check_devices

    return check_devices(settings_from(args).devices)


def devices_command(args: argparse.Namespace) -> int:
    report = _report(args)
    if args.json:
        for device in report.devices:
            _emit({**device.to_json(), "checked_at": report.checked_at})
        return 0
    t = _translator(args)
    print(t.t("devices.header", when=report.checked_at))
    for d in report.devices:
        reason = t.t(f"devices.reason.{d.reason}") if d.reason else ""
        print(f"  {t.t(f'devices.name.{d.device}')}: {t.t(f'devices.state.{d.state}')}  {reason}".rstrip())
    return 0


def doctor_command(args: argparse.Namespace) -> int:
    report = _report(args)
    t = _translator(args)
    problems = [d for d in report.devices if d.state != "ok"]
    required_problems = [d for d in problems if d.required]
    if args.json:
        for d in report.devices:
            _emit({**d.to_json(), "checked_at": report.checked_at,
                   "why": t.t(f"devices.reason.{d.reason}") if d.reason else "",
                   "what_to_do": t.t(f"devices.advice.{d.reason}") if d.reason and d.state != "ok" else ""})
        return DOCTOR_PROBLEM_EXIT if required_problems else 0
    if not problems:
        print(t.t("devices.doctor_all_ok"))
    else:
        print(t.t("devices.doctor_problems", count=len(problems)))
    for d in report.devices:
        mark = "✓" if d.state == "ok" else "✗"
        print(f"{mark} {t.t(f'devices.name.{d.device}')}: {t.t(f'devices.state.{d.state}')}")
        if d.reason:
            print(f"    {t.t('devices.why')}: {t.t(f'devices.reason.{d.reason}')}"
                  + (f" ({d.detail})" if d.detail and d.state != "ok" else ""))
        if d.state != "ok" or d.reason in ("simulated", "virtual", "replay"):
            print(f"    {t.t('devices.what_to_do')}: {t.t(f'devices.advice.{d.reason}')}")
    return DOCTOR_PROBLEM_EXIT if required_problems else 0
