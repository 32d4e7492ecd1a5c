"""`kiosk submit FILE.json` against hostile files (issue 9, finding 10).

Each test here failed on the code before the fix: the command read any path, a FIFO or
``/dev/zero`` without bound, took a page's media type from its name, let a typed name or
a field without a catalog limit grow without bound, and queued a request over the
protocol's 4 MiB JSON limit. Most run ``kiosk.cli.main`` in this process (fast); those
that could hang or eat memory on a regression run as a limited subprocess.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from hardware.camera import SAMPLES_DIR
from kiosk.cli import main
from offline_queue.outbox import OfflineQueue
from offline_queue.sealing import open_box
from tests.kiosk.test_cli import enrolled, paper_file  # noqa: F401  (the fixture and the file maker)
from tests.kiosk.test_cli_hostile import assert_refused, run_kiosk
from tests.support.hostile_files import png_bomb

SAMPLE_PAGE = SAMPLES_DIR / "household_register.jpg"


def submit(path: Path, data_dir: Path, capsys) -> tuple[int, str]:
    code = main(["submit", str(path), "--data-dir", str(data_dir), "--json"])
    captured = capsys.readouterr()
    return code, captured.err + captured.out


def queued(data_dir: Path) -> int:
    if not (data_dir / "outbox").exists():
        return 0
    queue = OfflineQueue(data_dir / "outbox", 10**9)
    try:
        return len(queue.entries())
    finally:
        queue.close()


def sealed_document(data_dir: Path, hall_key, entry_id: str) -> dict:
    queue = OfflineQueue(data_dir / "outbox", 10**9)
    try:
        return json.loads(open_box(queue.sealed_document(entry_id), hall_key, entry_id.encode()))
    finally:
        queue.close()


def with_pages(tmp_path: Path, *paths: str, **changes) -> Path:
    return paper_file(tmp_path, attachments=[{"material": "M1", "path": p} for p in paths], **changes)


def refused(code: int, text: str, *needles: str) -> None:
    assert code == 2, text
    assert "Traceback" not in text and len(text.strip().splitlines()) == 1, text
    for needle in needles:
        assert needle in text, text


# --- paths -------------------------------------------------------------------------------


def test_a_page_outside_the_files_folder_is_refused(tmp_path, enrolled, capsys):  # noqa: F811
    data_dir, _ = enrolled
    folder = tmp_path / "forms"
    folder.mkdir()
    (tmp_path / "secret.jpg").write_bytes(SAMPLE_PAGE.read_bytes())  # a "shadow" file next door
    for written in ("../secret.jpg", str(tmp_path / "secret.jpg"), "sub/../../secret.jpg"):
        code, text = submit(with_pages(folder, written), data_dir, capsys)
        refused(code, text, "申请文件有问题", "relative")
    assert queued(data_dir) == 0


def test_a_symlink_leading_out_of_the_folder_is_refused(tmp_path, enrolled, capsys):  # noqa: F811
    data_dir, _ = enrolled
    folder = tmp_path / "forms"
    folder.mkdir()
    (tmp_path / "secret.jpg").write_bytes(SAMPLE_PAGE.read_bytes())
    (folder / "page.jpg").symlink_to(tmp_path / "secret.jpg")
    (folder / "inside").mkdir()
    (folder / "inside" / "real.jpg").write_bytes(SAMPLE_PAGE.read_bytes())
    (folder / "ok.jpg").symlink_to(folder / "inside" / "real.jpg")  # a link that stays inside is fine
    code, text = submit(with_pages(folder, "page.jpg"), data_dir, capsys)
    refused(code, text, "leads out")
    code, text = submit(with_pages(folder, "ok.jpg"), data_dir, capsys)
    assert code == 0, text
    assert queued(data_dir) == 1


def test_devices_and_fifos_are_refused_without_hanging(tmp_path, enrolled):  # noqa: F811
    """Subprocesses with a memory limit: the old code grew /dev/zero to 17 GB, a FIFO blocked forever."""
    data_dir, _ = enrolled
    os.mkfifo(tmp_path / "page.jpg")
    assert_refused(run_kiosk("submit", str(with_pages(tmp_path, "page.jpg")), "--data-dir", str(data_dir),
                             timeout=30), "not a regular file")
    (tmp_path / "zero.jpg").symlink_to("/dev/zero")
    assert_refused(run_kiosk("submit", str(with_pages(tmp_path, "zero.jpg")), "--data-dir", str(data_dir),
                             timeout=30), "leads out")
    for path in ("/dev/zero", str(tmp_path / "page.jpg")):  # the JSON file itself
        ran = run_kiosk("submit", path, "--data-dir", str(data_dir), timeout=30)
        assert_refused(ran, "not a regular file")
        assert ran.max_rss_mb < 250
    assert queued(data_dir) == 0


def test_an_oversized_json_file_is_refused_before_it_is_parsed(tmp_path, enrolled, capsys):  # noqa: F811
    data_dir, _ = enrolled
    path = paper_file(tmp_path, applicant={"name": "黄" * 10_000_000, "id_number": "x"})
    code, text = submit(path, data_dir, capsys)
    refused(code, text, "too large")
    assert queued(data_dir) == 0


# --- pages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("page.html", b"<html><script>fetch('/console/enrolment-codes', {method: 'POST'})</script></html>"),
        ("page.svg", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),
        ("page.jpg", b"\xff\xd8\xff\xe0 not really a jpeg"),
        ("page.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"),
        ("page.gif", b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff,"
                     b"\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"),
    ],
)
def test_a_page_must_be_a_picture_the_kiosk_makes(tmp_path, enrolled, capsys, name, data):  # noqa: F811
    data_dir, _ = enrolled
    (tmp_path / name).write_bytes(data)
    code, text = submit(with_pages(tmp_path, name), data_dir, capsys)
    refused(code, text, "申请文件有问题", "attachments[0]")
    assert queued(data_dir) == 0


def test_a_pages_media_type_comes_from_its_content_not_its_name(tmp_path, enrolled, capsys):  # noqa: F811
    data_dir, hall_key = enrolled
    png = cv2.imencode(".png", np.full((400, 300, 3), 230, np.uint8))[1].tobytes()
    (tmp_path / "page.html").write_bytes(png)
    code, text = submit(with_pages(tmp_path, "page.html"), data_dir, capsys)
    assert code == 0, text
    document = sealed_document(data_dir, hall_key, json.loads(text)["id"])
    assert document["attachments"][0]["media_type"] == "image/png"


def test_a_decompression_bomb_page_is_refused_from_its_header(tmp_path, enrolled):  # noqa: F811
    data_dir, _ = enrolled
    png_bomb(tmp_path / "page.png")
    ran = run_kiosk("submit", str(with_pages(tmp_path, "page.png")), "--data-dir", str(data_dir))
    assert_refused(ran, "impossible size")
    assert ran.max_rss_mb < 250


def test_too_many_pages_are_refused(tmp_path, enrolled, capsys):  # noqa: F811
    from kiosk.paper import MAX_PAGES

    data_dir, _ = enrolled
    (tmp_path / "page.jpg").write_bytes(SAMPLE_PAGE.read_bytes())
    code, text = submit(with_pages(tmp_path, *["page.jpg"] * (MAX_PAGES + 1)), data_dir, capsys)
    refused(code, text, f"at most {MAX_PAGES}")


# --- fields and identity: the confirm button's validation ------------------------------------


def _applicant(**changes) -> dict:
    from tests.kiosk.test_cli import ID_NUMBER

    return {"name": "黄秀梅", "id_number": ID_NUMBER, "phone": "13800138000", **changes}


@pytest.mark.parametrize(
    ("applicant", "fields", "error"),
    [
        (_applicant(name="黄" * 31), None, "name=kiosk.field.too_long"),  # the catalog says 30
        (_applicant(address="村" * 71), None, "address=kiosk.field.too_long"),  # the catalog says 70
        (_applicant(phone="1" * 300), None, "phone=kiosk.field.phone_invalid"),
        (_applicant(), {"grade": "360", "bank": "psbc" * 100}, "bank=kiosk.field.choice_invalid"),
    ],
    ids=["name", "address", "phone", "choice"],
)
def test_identity_and_fields_get_the_catalogs_limits(tmp_path, enrolled, capsys, applicant, fields, error):  # noqa: F811
    data_dir, _ = enrolled
    changes = {"applicant": applicant} | ({"fields": fields} if fields else {})
    code, text = submit(paper_file(tmp_path, **changes), data_dir, capsys)
    refused(code, text, "还有内容没填好", error)
    assert queued(data_dir) == 0


def test_a_field_without_a_catalog_limit_still_has_one():
    from kiosk.applications import DEFAULT_MAX_LENGTH, TOO_LONG, validate_fields
    from kiosk.catalog import FormField, ServiceItem, Text

    item = ServiceItem.__new__(ServiceItem)
    object.__setattr__(item, "fields", (FormField("area", Text("面积", "Area"), "number", required=True),
                                        FormField("note", Text("备注", "Note"), "text", required=False)))
    assert validate_fields(item, {"area": "9" * 5000, "note": "字" * (DEFAULT_MAX_LENGTH + 1)}) == {
        "area": TOO_LONG, "note": TOO_LONG}
    assert validate_fields(item, {"area": "12.5", "note": "字" * DEFAULT_MAX_LENGTH}) == {}


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('{"service": "GD-SAMPLE-001", "service": "GD-SAMPLE-002"}', "twice"),
        ('{"service": NaN}', "not a JSON value"),
        ('{"service": "GD-SAMPLE-001", "extra": 1}', "unknown key 'extra'"),
        ('{"service": "GD-SAMPLE-001", "applicant": {"name": "\\ud800", "id_number": "1"}}', "unpaired"),
        ('{"service": "GD-SAMPLE-001", "applicant": {"name": "a\\u0000b", "id_number": "1"}}', "control"),
        ('{"service": "' + "X" * 100 + '"}', "not a service item code"),
        ('{"service": "GD-SAMPLE-001", "applicant": {"name": "a", "id_number": "1", "phone": 5}}', "phone"),
        ('{"service": "GD-SAMPLE-001", "applicant": {"name": "a", "id_number": "1"}, "attachments": [1]}',
         "must be an object"),
        (b"\xff\xfe{}", "not UTF-8"),
    ],
)
def test_malformed_files_get_one_line(tmp_path, enrolled, capsys, body, needle):  # noqa: F811
    data_dir, _ = enrolled
    path = tmp_path / "paper.json"
    path.write_bytes(body if isinstance(body, bytes) else body.encode("utf-8"))
    code, text = submit(path, data_dir, capsys)
    refused(code, text, "申请文件有问题", needle)


# --- the request the kiosk would send ----------------------------------------------------------


def test_a_request_over_the_protocols_json_limit_is_refused_before_queueing(tmp_path, enrolled):  # noqa: F811
    """The hall took a 13 MB JSON request; the protocol says 4 MiB. A catalog may allow long fields."""
    from dataclasses import replace

    from kiosk.applications import build_application
    from kiosk.catalog import load_catalog
    from kiosk.errors import ApplicationTooLarge
    from kiosk.intake import PROTOCOL_MAX_JSON_BYTES, enqueue_session, request_bytes
    from kiosk.paper import read_paper_application
    from offline_queue.identity import DeviceIdentity

    data_dir, hall_key = enrolled
    item = load_catalog().get("GD-SAMPLE-001")
    long_note = replace(item.fields[0], id="note", kind="text", required=False, source=None, max_length=10**7)
    roomy = replace(item, fields=(*item.fields, long_note))
    session, _ = read_paper_application(paper_file(tmp_path), load_catalog())
    queue = OfflineQueue(data_dir / "outbox", 10**9)
    identity = DeviceIdentity.load(data_dir)
    try:
        session.fields["note"] = "字" * (PROTOCOL_MAX_JSON_BYTES // 3)  # 4 MiB of UTF-8 once written
        with pytest.raises(ApplicationTooLarge):
            enqueue_session(session, roomy, queue=queue, identity=identity, county="441423",
                            data_dir=data_dir)
        assert queue.entries() == []

        session.fields["note"] = "字" * 1000  # and the bound is close: checked against the real request
        entry = enqueue_session(session, roomy, queue=queue, identity=identity, county="441423",
                                data_dir=data_dir)
        sealed = queue.sealed_document(entry.id)
        real = len(json.dumps({"sealed_document": base64.b64encode(sealed).decode()}))
        app = build_application(session, roomy, device_id=identity.device_id, county="441423", sequence=1,
                                tag_key_dir=data_dir)
        assert real < request_bytes(app) < real + 2048
    finally:
        session.wipe()
        queue.close()
