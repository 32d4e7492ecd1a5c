"""``county-hall backup`` / ``restore`` on PostgreSQL: a hall with kiosk data and
e-certificates is backed up, its database and its whole data dir (keys and blobs too) are
wiped, the backup is restored, and the console shows the applications, the e-certificates'
documents open and their holders are found, and the kiosk carries on as if nothing happened."""

from __future__ import annotations

import shutil

import pytest
import requests
from sqlalchemy import select

from hall.core.config import load_settings
from hall.core.keys import load_or_create_keys
from hall.db import make_engine, make_sessionmaker
from hall.models import ECertificate
from hall.services.certificates import SAMPLE_FILE, holder_key, holder_secret, open_document
from hardware.sample_cards import MIDDLE_AGED_VILLAGER
from tests.hall.kiosk_client import SignedClient
from tests.hall.test_console import page_image
from tests.hall.test_console_login import login
from tests.support.hall_process import HallProcess


@pytest.mark.postgres
def test_dump_wipe_restore_and_the_kiosk_resyncs(tmp_path, postgres_cluster):
    db_url = postgres_cluster.create_database("hall_backup")
    backup = tmp_path / "backup"
    with HallProcess(tmp_path, db_url=db_url) as hall:
        hall.create_user("clerk", "correct horse")
        certificates = int(hall.cli("certs", "load", str(SAMPLE_FILE)).stdout.split()[0])
        assert certificates >= 6
        kiosk = SignedClient.enrolled(hall.url, hall.enrollment_code())
        first = kiosk.submit([(page_image("hukou page 1"), "M1", "image/png")])
        hall.set_status(first["id"], "accepted")
        seen = kiosk.status_changes().json()
        assert [c["status"] for c in seen["changes"]] == ["accepted"]
        old_request = kiosk.status_changes(seen["cursor"])
        assert old_request.status_code == 200

        out = hall.cli("backup", str(backup)).stdout
        assert f"{1 + certificates} blob(s)" in out and (backup / "hall.dump").exists()
        assert (backup / "keys" / "seal.key").exists() and (backup / "keys" / "holder.key").exists()
        assert oct(backup.stat().st_mode & 0o777) == "0o700"

        # After the backup: a change the kiosk sees, which the restore will lose.
        hall.set_status(first["id"], "correction_needed", reason="照片不清楚")
        later = kiosk.status_changes(seen["cursor"]).json()
        assert [c["status"] for c in later["changes"]] == ["correction_needed"]

        hall.stop()
        postgres_cluster.create_database("hall_backup")  # dropped and made anew: empty
        shutil.rmtree(hall.data_dir)  # keys, attachments, everything
        hall.data_dir.mkdir()
        restored = hall.cli("restore", str(backup)).stdout
        assert f"{1 + certificates} blob(s)" in restored
        hall.start()

        # The e-certificates' documents open from the store, and their holders are found again
        # (their keys are HMACs under the restored holder.key, not a new one).
        settings = load_settings(db=db_url, data_dir=hall.data_dir, environ={})
        engine = make_engine(db_url)
        with make_sessionmaker(engine)() as db:
            rows = list(db.scalars(select(ECertificate)))
            assert len(rows) == certificates
            assert open_document(settings, load_or_create_keys(settings.keys_dir).seal_private,
                                 rows[0]).startswith(b"\x89PNG")
            mine = holder_key(holder_secret(settings), MIDDLE_AGED_VILLAGER.id_number)
            assert mine in {row.holder_key for row in rows}
        engine.dispose()

        # The console shows the application, and opens its sealed attachment with the restored key.
        session = requests.Session()
        assert login(hall.url, "clerk", "correct horse", session=session).status_code == 303
        listing = session.get(hall.url + "/console/applications", timeout=10).text
        assert first["provisional_number"] in listing
        page = session.get(hall.url + f"/console/applications/{first['id']}", timeout=10)
        assert page.status_code == 200 and "张三" in page.text
        (sha,) = [a["sha256"] for a in hall.applications()[0]["attachments"]]
        image = session.get(hall.url + f"/console/applications/{first['id']}/attachments/{sha}", timeout=10)
        assert image.status_code == 200 and image.headers["Content-Type"] == "image/png"

        # The kiosk's pinned keys still match, its old cursor still works, and the next change
        # reaches it although the restored hall never issued the change it saw last.
        assert kiosk.status_changes(later["cursor"]).json()["changes"] == []
        hall.set_status(first["id"], "completed")
        after = kiosk.status_changes(later["cursor"]).json()
        assert [c["status"] for c in after["changes"]] == ["completed"]
        second = kiosk.submit([(page_image("hukou page 2"), "M1", "image/png")])
        assert second["provisional_number"] != first["provisional_number"]
        # A request signed before the backup is still a replay (its nonce was in the dump; on a
        # machine so slow that the test outlived the 5-minute skew, it is stale instead).
        replay = kiosk.session.send(old_request.request, timeout=10)
        assert replay.status_code == 401 and replay.json()["error"] in ("replayed_nonce", "stale_timestamp")
        # Restoring over a hall whose keys differ is refused (the kiosks pinned the old ones).
        hall.stop()
        (hall.data_dir / "keys" / "sign.key").write_bytes(b"\0" * 32)
        refused = hall.cli("restore", str(backup), check=False)
        assert refused.returncode == 2 and "differs from the backup" in refused.stderr
