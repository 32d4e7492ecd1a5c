"""A hall started with ``--storage s3`` against a real S3-compatible server (moto, its own
process), in real headless Chromium: a kiosk's attachment goes to the bucket and the
console shows it; the e-certificates an older hall kept on its disk move into the bucket
(``county-hall certs to-store``) and the console opens one an application used; a county
admin uploads a release's wheels on the Releases page (county admins only, CSRF, capped
before it is read) and the pilot kiosk downloads it in ranges from the bucket; the CLI
publishes to the same bucket. One hall, one browser.

Screenshots: tests/artifacts/console-storage-s3-application.png, console-release-upload.png.
"""

from __future__ import annotations

from sqlalchemy import select

from hall.db import make_engine, make_sessionmaker
from hall.models import ECertificate
from hall.services.certificates import SAMPLE_FILE
from hardware.sample_cards import MIDDLE_AGED_VILLAGER
from tests.hall.kiosk_client import SignedClient
from tests.hall.raw_http import connect, read_answer
from tests.hall.test_api_certificates import application_using
from tests.hall.test_console import browser, page_image, shot, submit  # noqa: F401  (fixture)
from tests.hall.test_console_fleet import HEALTHY, beat
from tests.hall.test_county_work import PASSWORD, console
from tests.support.hall_process import HallProcess
from tests.support.releases import broken_wheel


def test_a_hall_on_object_storage_takes_an_attachment_and_serves_releases(
        tmp_path, monkeypatch, s3_server, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    for name, value in s3_server.env.items():  # the keys reach the hall only through its environment
        monkeypatch.setenv(name, value)
    bucket = s3_server.new_bucket("hall-e2e")
    storage = ["--storage", "s3", "--s3-endpoint", s3_server.endpoint, "--s3-bucket", bucket,
               "--s3-prefix", "county-441423"]
    client = s3_server.client()
    with HallProcess(tmp_path, serve_args=storage) as hall:
        hall.create_user("admin-wu", PASSWORD)
        hall.create_user("tech-he", PASSWORD, role="technician")
        kiosk = SignedClient.enrolled(hall.url, hall.enrollment_code())
        other = SignedClient.enrolled(hall.url, hall.enrollment_code())
        answer = kiosk.submit([(page_image("hukou page 1"), "M1", "image/png")])
        stored = [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]]
        assert len(stored) == 1 and stored[0].startswith("county-441423/attachments/")
        assert not list((hall.data_dir / "attachments").iterdir())  # nothing finished stays on disk
        assert not list((hall.data_dir / "uploads").iterdir())  # the partial went once it was stored

        browser.get(hall.url + "/console/login")
        browser.find_element(By.ID, "username").send_keys("admin-wu")
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        submit(browser, "login")
        browser.find_element(By.LINK_TEXT, answer["provisional_number"]).click()
        image = browser.find_element(By.CSS_SELECTOR, ".thumbs img")
        width = browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image)
        assert width == 600
        shot(browser, "storage-s3-application")

        # E-certificates an older hall kept in <data-dir>/certificates/ (what `--storage local`
        # still writes: the same path) move into the bucket with `certs to-store`, and the
        # console opens one that an application used, from the bucket.
        loaded = int(hall.cli("certs", "load", str(SAMPLE_FILE), "--storage", "local").stdout.split()[0])
        assert len(list((hall.data_dir / "certificates").iterdir())) == loaded
        moved = hall.cli("certs", "to-store", *storage).stdout
        assert moved.startswith(f"{loaded} certificate documents moved")
        assert not list((hall.data_dir / "certificates").iterdir())
        in_bucket = client.list_objects_v2(Bucket=bucket, Prefix="county-441423/certificates/")["KeyCount"]
        assert in_bucket == loaded
        engine = make_engine(hall.db_url)
        with make_sessionmaker(engine)() as db:
            reference = db.scalar(select(ECertificate.id).where(ECertificate.number == "HK441826-0031877"))
        engine.dispose()
        used = application_using(kiosk, MIDDLE_AGED_VILLAGER.id_number,
                                 [{"reference": reference, "type": "household_register", "material": "M1"}])
        assert kiosk.post_application(used).status_code == 201
        admin = console(hall.url, "admin-wu", "192.0.2.39")
        opened = admin.get(f"{hall.url}/console/applications/{used['id']}/certificates/{reference}",
                           timeout=10)
        assert opened.status_code == 200 and opened.content.startswith(b"\x89PNG")

        # A release uploaded through the browser, to a pilot group of one.
        wheel = broken_wheel(tmp_path / "bundle", "0.3.0", padding=5000)
        browser.get(hall.url + "/console/releases")
        browser.find_element(By.ID, "upload-version").send_keys("0.3.0")
        submit(browser, "upload-release")  # no file chosen: a plain message, nothing published
        assert ".whl" in browser.find_element(By.ID, "error").text
        browser.find_element(By.ID, "upload-wheels").send_keys(str(wheel))
        browser.find_element(By.ID, "upload-pilot-" + kiosk.device_id).click()
        submit(browser, "upload-release")
        assert "Pilot" in browser.find_element(By.ID, "stage-0.3.0").text
        shot(browser, "release-upload")
        offered = beat(kiosk, HEALTHY, 0)["release"]["manifest"]
        assert offered["version"] == "0.3.0" and offered["files"][0]["name"] == wheel.name
        assert beat(other, HEALTHY, 0).get("release") is None  # not in the pilot group
        data = wheel.read_bytes()
        path = f"/api/v1/releases/0.3.0/{wheel.name}"
        part = kiosk.request("GET", path, headers={"Range": "bytes=100-1123"})
        assert part.status_code == 206, part.text
        assert part.content == data[100:1124]  # an S3 Range GET behind it
        assert part.headers["Content-Range"] == f"bytes 100-1123/{len(data)}"
        tail = kiosk.request("GET", path, headers={"Range": f"bytes={len(data) - 10}-"})
        assert tail.content == data[-10:]
        assert not (hall.data_dir / "releases").exists()
        assert not list((hall.data_dir / "release-uploads").iterdir())  # the staging folder went

        files = {"wheels": (wheel.name, data, "application/octet-stream")}
        tech = console(hall.url, "tech-he", "192.0.2.40")
        refused = tech.post(hall.url + "/console/releases/upload", files=files, allow_redirects=False,
                            data={"csrf": tech.csrf, "version": "0.3.1"}, timeout=10)
        assert refused.status_code == 403  # technicians run devices, not the software of every kiosk
        admin = console(hall.url, "admin-wu", "192.0.2.41")  # a new session, another address
        forged = admin.post(hall.url + "/console/releases/upload", files=files, allow_redirects=False,
                            data={"csrf": "not-the-token", "version": "0.3.1"}, timeout=10)
        assert forged.status_code in (303, 401, 403)  # without the form's CSRF token: nothing published
        named = admin.post(hall.url + "/console/releases/upload", allow_redirects=False, timeout=10,
                           files={"wheels": ("../../keys/sign.whl", data, "application/octet-stream")},
                           data={"csrf": admin.csrf, "version": "0.3.2"})
        assert named.status_code == 422  # a path for a name: refused, nothing written
        sock = connect(hall.port)  # past the 64 MiB cap: 413 from the declared length, before reading
        sock.sendall(b"POST /console/releases/upload HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 70000000\r\n\r\n")
        assert read_answer(sock).status == 413
        sock.close()

        # The CLI takes the same storage options: a release it publishes lands in the bucket too.
        cli_wheel = broken_wheel(tmp_path / "cli-bundle", "0.9.0")
        hall.cli("release", "publish", str(cli_wheel.parent), "--version", "0.9.0",
                 "--pilot", other.device_id, *storage)
        listed = [o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix="county-441423/releases/")
                  ["Contents"]]
        assert sorted(listed) == [f"county-441423/releases/0.3.0/{wheel.name}",
                                  f"county-441423/releases/0.9.0/{cli_wheel.name}"]
        served = other.request("GET", f"/api/v1/releases/0.9.0/{cli_wheel.name}",
                               headers={"Range": "bytes=0-"})
        assert served.status_code == 206 and served.content == cli_wheel.read_bytes()

        log = hall.log_path.read_text(errors="replace")
        assert s3_server.env["AWS_SECRET_ACCESS_KEY"] not in log
        assert s3_server.env["AWS_ACCESS_KEY_ID"] not in log
