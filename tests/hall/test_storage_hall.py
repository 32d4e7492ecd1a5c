"""A hall started with ``--storage s3`` against a real S3-compatible server (moto, its own
process): a kiosk's attachment goes to the bucket and the console shows it; a release's
file goes to the bucket and a kiosk downloads a range of it. One hall, one browser."""

from __future__ import annotations

import hashlib

from tests.hall.kiosk_client import SignedClient
from tests.hall.test_console import browser, page_image, shot, submit  # noqa: F401  (fixture)
from tests.support.hall_process import HallProcess
from tests.support.releases import broken_wheel
from tests.support.s3_server import s3_server  # noqa: F401  (session fixture)


def test_a_hall_on_object_storage_takes_an_attachment_and_serves_a_release(  # noqa: F811
        tmp_path, monkeypatch, s3_server, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    for name, value in s3_server.env.items():  # the keys reach the hall only through its environment
        monkeypatch.setenv(name, value)
    bucket = s3_server.new_bucket("hall-e2e")
    storage = ["--storage", "s3", "--s3-endpoint", s3_server.endpoint, "--s3-bucket", bucket,
               "--s3-prefix", "county-441423"]
    client = s3_server.client()
    with HallProcess(tmp_path, serve_args=storage) as hall:
        hall.create_user("clerk", "correct horse")
        kiosk = SignedClient.enrolled(hall.url, hall.enrollment_code())
        scan = page_image("hukou page 1")
        answer = kiosk.submit([(scan, "M1", "image/png")])
        stored = [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]]
        assert len(stored) == 1 and stored[0].startswith("county-441423/attachments/")
        assert not list((hall.data_dir / "attachments").iterdir())  # nothing finished stays on disk
        assert not list((hall.data_dir / "uploads").iterdir())  # the partial went once it was stored

        browser.get(hall.url + "/console/login")
        browser.find_element(By.ID, "username").send_keys("clerk")
        browser.find_element(By.ID, "password").send_keys("correct horse")
        submit(browser, "login")
        browser.find_element(By.LINK_TEXT, answer["official_number"]).click()
        image = browser.find_element(By.CSS_SELECTOR, ".thumbs img")
        width = browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image)
        assert width == 600
        shot(browser, "storage-s3-application")

        # A release published by the CLI on the same store; the kiosk reads it by ranges.
        wheel = broken_wheel(tmp_path / "bundle", "0.9.0", padding=5000)
        hall.cli("release", "publish", str(wheel.parent), "--version", "0.9.0", "--pilot", kiosk.device_id,
                 *storage)
        assert not (hall.data_dir / "releases").exists()
        data = wheel.read_bytes()
        part = kiosk.request("GET", f"/api/v1/releases/0.9.0/{wheel.name}",
                             headers={"Range": "bytes=100-1123"})
        assert part.status_code == 206, part.text
        assert part.content == data[100:1124]
        assert part.headers["Content-Range"] == f"bytes 100-1123/{len(data)}"
        tail = kiosk.request("GET", f"/api/v1/releases/0.9.0/{wheel.name}",
                             headers={"Range": f"bytes={len(data) - 10}-"})
        assert tail.content == data[-10:]
        assert hashlib.sha256(data).hexdigest() in hall.cli("release", "list", "--json", *storage).stdout

        log = hall.log_path.read_text(errors="replace")
        assert s3_server.env["AWS_SECRET_ACCESS_KEY"] not in log
        assert s3_server.env["AWS_ACCESS_KEY_ID"] not in log
