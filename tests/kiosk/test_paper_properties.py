"""Hypothesis: whatever `kiosk submit` is handed, it queues a valid application or says no in one line.

The files are the valid paper application with random damage (any JSON value in any
place, long and odd strings, huge numbers, deep nesting, unknown keys) and page paths
from a menu that includes every way out of the folder (``..``, absolute paths, symlinks
out, a FIFO, ``/dev/zero``, NUL bytes, non-pictures). For every file:

* ``kiosk.cli.main`` returns 0 or 2 and never raises;
* on 2: exactly one line on stderr, nothing on stdout, nothing queued;
* on 0: exactly one application queued, and the hall (holding its key) finds a valid
  one in it: a catalog item, fields that pass the confirm button's validation, and only
  pages whose bytes are a picture inside the folder;
* no file outside the folder is opened by the command's own reads (``os.open`` is watched).

Bounded: about 40 s on this machine in total.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kiosk.applications import validate_fields
from kiosk.catalog import load_catalog
from kiosk.cli import main
from kiosk.paper import PAGE_MEDIA_TYPES
from offline_queue.identity import DeviceIdentity
from offline_queue.outbox import OfflineQueue
from offline_queue.sealing import open_box
from tests.kiosk.conftest import make_id

ID_NUMBER = make_id("441423", date(1950, 6, 1), 42)
CATALOG = load_catalog()


class World:
    """One folder of files (good and hostile) beside the JSON file, and an enrolled data dir."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / "forms"
        self.folder.mkdir()
        self.page = cv2.imencode(".jpg", np.full((120, 90, 3), 200, np.uint8))[1].tobytes()
        (self.folder / "page.jpg").write_bytes(self.page)
        (self.folder / "sub").mkdir()
        (self.folder / "sub" / "inner.jpg").write_bytes(self.page)
        (self.folder / "link_in.jpg").symlink_to(self.folder / "sub" / "inner.jpg")
        (self.folder / "notes.html").write_bytes(b"<script>alert(1)</script>")
        outside = root / "outside.jpg"
        outside.write_bytes(cv2.imencode(".jpg", np.full((50, 50, 3), 9, np.uint8))[1].tobytes())
        (self.folder / "link_out.jpg").symlink_to(outside)
        (self.folder / "zero.jpg").symlink_to("/dev/zero")
        os.mkfifo(self.folder / "fifo.jpg")
        self.paths = ["page.jpg", "./page.jpg", "sub/inner.jpg", "link_in.jpg", "sub/../page.jpg",
                      "../outside.jpg", str(outside), "link_out.jpg", "zero.jpg", "fifo.jpg", "notes.html",
                      "sub", "", "page.jpg\x00", "missing.jpg", "/dev/zero", "C:\\forms\\page.jpg",
                      "//server/share/page.jpg", "sub/../../outside.jpg"]
        self.hall_key = X25519PrivateKey.generate()
        self.data_dir = root / "data"
        self.data_dir.mkdir()
        DeviceIdentity(
            device_id="kiosk-c1a55e01", county="441423", hall_url="http://127.0.0.1:9",
            private_key=Ed25519PrivateKey.generate(),
            hall_seal_public_key=self.hall_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
            hall_sign_public_key=Ed25519PrivateKey.generate().public_key().public_bytes(
                Encoding.Raw, PublicFormat.Raw),
        ).save(self.data_dir)
        self.file = self.folder / "paper.json"

    def inside(self, opened: str) -> bool:
        real = Path(opened).resolve()
        return real.is_relative_to(self.folder.resolve()) or real.is_relative_to(self.data_dir.resolve())


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    return World(tmp_path_factory.mktemp("paper-world"))


def _valid() -> dict:
    return {
        "service": "GD-SAMPLE-001",
        "applicant": {"name": "黄秀梅", "id_number": ID_NUMBER, "phone": "13800138000",
                      "address": "广东省梅州市丰顺县示范镇样板村一巷2号"},
        "fields": {"grade": "360", "bank": "psbc"},
        "attachments": [{"material": "M1", "path": "page.jpg"}],
    }


ODD_TEXT = ["x" * 5000, "黄" * 31, "\ud800", "a\x00b", "13800138000"]
json_leaf = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
             | st.text(max_size=50) | st.sampled_from(ODD_TEXT))
json_value = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)

PLACES = [("service",), ("applicant",), ("applicant", "name"), ("applicant", "id_number"),
          ("applicant", "phone"), ("applicant", "address"), ("applicant", "extra"), ("fields",),
          ("fields", "grade"), ("fields", "bank"), ("fields", "other"), ("attachments",), ("extra",)]


@st.composite
def paper_files(draw, world: World) -> bytes:
    data = _valid()
    damage = st.lists(st.sampled_from(PLACES), min_size=1, max_size=3)
    for place in draw(st.just([]) | damage):  # half the files keep their values: some must pass
        target = data
        for key in place[:-1]:
            target = target.setdefault(key, {}) if isinstance(target, dict) else {}
        if isinstance(target, dict):
            target[place[-1]] = draw(json_value)
    if draw(st.booleans()):
        materials = st.sampled_from(["M1", "M1", "M2", "M9"])
        paths = st.sampled_from(["page.jpg", "link_in.jpg"]) | st.sampled_from(world.paths)
        data["attachments"] = [{"material": draw(materials), "path": draw(paths)}
                               for _ in range(draw(st.integers(0, 3)))]
    text = json.dumps(data, ensure_ascii=draw(st.booleans()))
    kind = draw(st.sampled_from(["json"] * 6 + ["deep", "bigint", "truncated"]))
    if kind == "deep":
        text = '{"service": ' + "[" * draw(st.integers(5, 20000)) + "]}"
    elif kind == "bigint":
        text = text.replace('"360"', "9" * draw(st.integers(1, 6000)), 1)
    elif kind == "truncated":
        text = text[: draw(st.integers(0, len(text)))]
    return text.encode("utf-8", "surrogatepass")


def _entries(world: World) -> list:
    queue = OfflineQueue(world.data_dir / "outbox", 10**9)
    try:
        return queue.entries()
    finally:
        queue.close()


def _check_queued(world: World, entry_id: str) -> None:
    queue = OfflineQueue(world.data_dir / "outbox", 10**9)
    try:
        context = entry_id.encode()
        document = json.loads(open_box(queue.sealed_document(entry_id), world.hall_key, context))
        item = CATALOG.get(document["service_code"])
        assert validate_fields(item, document["fields"]) == {}
        assert len(document["applicant"]["name"]) <= 30
        for att in queue.attachments(entry_id):
            page = open_box(queue.read_blob(att.sha256), world.hall_key, context)
            assert page == world.page  # only the picture inside the folder can be a page
        assert all(a["media_type"] in PAGE_MEDIA_TYPES for a in document["attachments"])
    finally:
        queue.close()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_submit_never_raises_never_reads_outside_and_queues_only_valid_applications(world, data, monkeypatch):
    world.file.write_bytes(data.draw(paper_files(world)))
    before = len(_entries(world))
    opened: list[str] = []
    real_open = os.open

    def watched_open(path, *args, **kwargs):
        opened.append(os.fsdecode(path))
        return real_open(path, *args, **kwargs)

    out, err = io.StringIO(), io.StringIO()
    with monkeypatch.context() as patch:
        patch.setattr(os, "open", watched_open)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["submit", str(world.file), "--data-dir", str(world.data_dir), "--json"])
    assert all(world.inside(path) for path in opened), opened
    event(f"exit {code}")
    entries = _entries(world)
    if code == 0:
        assert len(entries) == before + 1
        _check_queued(world, json.loads(out.getvalue())["id"])
    else:
        assert code == 2, err.getvalue()
        assert out.getvalue() == "" and len(err.getvalue().splitlines()) == 1, err.getvalue()
        assert "Traceback" not in err.getvalue()
        assert len(entries) == before
