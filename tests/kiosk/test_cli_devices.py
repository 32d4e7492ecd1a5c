"""`kiosk read-id`, `kiosk devices`, `kiosk doctor`: the real commands in a child process."""

from __future__ import annotations

import json
from datetime import date

import pytest

from hardware.sam_simulator import SamSimulator
from hardware.sample_cards import ELDERLY_VILLAGER, EXPIRED_CARD
from hardware.vpcd_card import VpcdCard, sample_social_security_card, sample_staff_card
from kiosk.commands_devices import id_card_json
from tests.hardware.test_sam_text import FOREIGN_2023, FOREIGN_OLD, PERMIT
from tests.kiosk.test_cli import kiosk
from tests.support.pcscd import VPCD_READER

READ_ID_KEYS = {"card_type", "name", "sex", "birth_date", "valid_from", "valid_to", "expired", "address",
                "id_number", "issuer"}


def config(tmp_path, text: str) -> str:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_read_id_serial_json_masked_and_revealed(tmp_path):
    with SamSimulator(card=ELDERLY_VILLAGER) as sim:
        masked = kiosk("read-id", "--serial", sim.port, "--json", "--data-dir", str(tmp_path))
        sim.present_card(EXPIRED_CARD)
        revealed = kiosk("read-id", "--serial", sim.port, "--json", "--reveal", "--data-dir", str(tmp_path))
    assert masked.returncode == 0, masked.stderr
    lines = masked.stdout.splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert set(record) == READ_ID_KEYS | {"ethnicity"}
    assert record["card_type"] == "resident" and record["sex"] == "female" and record["ethnicity"] == "汉"
    assert record["valid_to"] == "long_term" and record["expired"] is False
    assert record["birth_date"] == "1951-03-15" and record["valid_from"] == "2016-05-20"
    for secret in (ELDERLY_VILLAGER.name, ELDERLY_VILLAGER.id_number, ELDERLY_VILLAGER.address):
        assert secret not in masked.stdout + masked.stderr
    assert record["id_number"] == "44**************" + ELDERLY_VILLAGER.id_number[-2:]
    shown = json.loads(revealed.stdout)
    assert shown["name"] == EXPIRED_CARD.name and shown["id_number"] == EXPIRED_CARD.id_number
    assert shown["address"] == EXPIRED_CARD.address
    assert shown["expired"] is True and shown["valid_to"] == "2023-04-10"


def test_read_id_without_a_card_and_without_a_reader(tmp_path):
    with SamSimulator(card=None) as sim:
        none = kiosk("read-id", "--serial", sim.port, "--timeout", "0.3", "--data-dir", str(tmp_path))
    assert none.returncode == 2 and none.stdout == "" and len(none.stderr.splitlines()) == 1
    assert "0.3" in none.stderr
    gone = kiosk("read-id", "--serial", str(tmp_path / "ttyUSB9"), "--timeout", "0.3",
                 "--data-dir", str(tmp_path))
    assert gone.returncode == 2 and "Traceback" not in gone.stderr
    assert "读卡器没有连上" in gone.stderr


def test_read_id_json_of_permits_and_foreign_cards():
    permit = id_card_json(PERMIT, date(2026, 1, 1))
    assert permit["card_type"] == "hk_macau_taiwan" and "ethnicity" not in permit
    assert set(permit) == READ_ID_KEYS | {"permit_number", "issue_count"}
    assert permit["permit_number"] != PERMIT.permit_number  # masked
    assert id_card_json(PERMIT, date(2026, 1, 1), reveal=True)["permit_number"] == PERMIT.permit_number
    for card in (FOREIGN_OLD, FOREIGN_2023):
        record = id_card_json(card, date(2026, 1, 1), reveal=True)
        assert record["card_type"] == "foreign_permanent"
        assert set(record) >= READ_ID_KEYS | {"english_name", "nationality"}
        assert record["english_name"] == card.english_name and len(record["nationality"]) == 3
        assert card.english_name not in json.dumps(id_card_json(card, date(2026, 1, 1)))


@pytest.mark.pcsc
def test_read_id_pcsc(tmp_path, pcscd):
    with VpcdCard(sample_social_security_card()):
        social = kiosk("read-id", "--pcsc", VPCD_READER, "--json", "--timeout", "5",
                       "--data-dir", str(tmp_path))
    with VpcdCard(sample_staff_card()):
        staff = kiosk("read-id", "--pcsc", "--json", "--timeout", "5", "--data-dir", str(tmp_path))
    assert social.returncode == 0, social.stderr
    record = json.loads(social.stdout)
    assert record["card_type"] == "social_security" and record["sex"] == "male"
    assert record["ethnicity"] == "瑶"
    assert record["region_code"] == "441826" and "*" in record["id_number"] and "*" in record["name"]
    assert staff.returncode == 0, staff.stderr
    assert json.loads(staff.stdout) == {"card_type": "staff", "worker_id": "GW-441423-0007",
                                        "county": "441423"}


def test_devices_and_doctor_with_the_simulators(tmp_path):
    args = ["--data-dir", str(tmp_path)]
    out = kiosk("devices", "--json", *args)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    by_device = {r["device"]: r for r in rows}
    assert {"id_reader", "pcsc_reader", "camera"} <= set(by_device)
    assert by_device["id_reader"]["state"] == "ok" and by_device["id_reader"]["reason"] == "simulated"
    assert by_device["camera"]["state"] == "ok"
    assert all(r["state"] in ("ok", "degraded", "missing") and r["checked_at"].endswith("Z") for r in rows)
    assert by_device["pcsc_reader"]["required"] is False
    doctor = kiosk("doctor", *args)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "身份证读卡器" in doctor.stdout


def test_doctor_names_a_missing_reader_and_what_to_do(tmp_path):
    cfg = config(tmp_path, f'[kiosk]\nlanguage = "en"\n[devices.id_reader]\ndriver = "sam_serial"\n'
                           f'port = "{tmp_path}/ttyUSB0"\n')
    doctor = kiosk("doctor", "--config", cfg, "--data-dir", str(tmp_path))
    assert doctor.returncode == 3
    assert "ID card reader: missing" in doctor.stdout
    assert "serial port does not exist" in doctor.stdout and "USB cable" in doctor.stdout
    devices = kiosk("devices", "--config", cfg, "--data-dir", str(tmp_path))
    assert devices.returncode == 0 and "ID card reader: missing" in devices.stdout
