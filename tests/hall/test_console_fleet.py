"""The fleet pages in real headless Chromium: overview with flags, a kiosk's page (chart,
timeline), a lock sent and acknowledged, a configuration pushed, the audit log.

Screenshots go to tests/artifacts/console-fleet-*.png.
"""

from __future__ import annotations

import time

from tests.hall.kiosk_client import SignedClient
from tests.hall.test_console import browser, shot, submit  # noqa: F401  (the Chromium fixture)
from tests.support.hall_process import HallProcess

PAPER_OUT = {"checked_at": "2026-12-01T16:00:00Z", "state": "degraded", "devices": [
    {"device": "id_reader", "driver": "sam_serial", "state": "ok", "reason": "", "detail": "",
     "required": True},
    {"device": "camera", "driver": "opencv", "state": "ok", "reason": "", "detail": "", "required": True},
    {"device": "printer", "driver": "escpos", "state": "degraded", "reason": "paper_out", "detail": "",
     "required": True}]}
HEALTHY = {**PAPER_OUT, "state": "ok", "devices": PAPER_OUT["devices"][:2]}


def beat(kiosk: SignedClient, health: dict, depth: int, oldest: int | None = None) -> dict:
    report = {"health": health, "queue": {"depth": depth, "oldest_unsent_s": oldest},
              "free_disk_bytes": 8 * 10**9, "versions": {"kiosk": "0.1.0"}, "uptime_s": 60}
    answer = kiosk.post_json("/api/v1/heartbeat", report)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_fleet_pages(tmp_path, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    with HallProcess(tmp_path) as hall:
        hall.create_user("staff-li", "correct horse")
        healthy, paper, quiet = (SignedClient.enrolled(hall.url, hall.enrollment_code()) for _ in range(3))
        for depth in (0, 2, 5, 3, 1):
            beat(healthy, HEALTHY, depth)
        beat(paper, PAPER_OUT, 4, oldest=30 * 3600)

        browser.get(hall.url + "/console/login")
        browser.find_element(By.ID, "username").send_keys("staff-li")
        browser.find_element(By.ID, "password").send_keys("correct horse")
        submit(browser, "login")

        browser.get(hall.url + "/console/fleet")
        rows = browser.find_elements(By.CSS_SELECTOR, "#fleet-table tbody tr")
        assert rows[-1].get_attribute("id") == f"row-{healthy.device_id}"  # the two flagged ones first
        paper_row = browser.find_element(By.ID, f"row-{paper.device_id}").text
        assert "缺纸 Out of paper" in paper_row and "积压 Queue too old" in paper_row
        assert "失联 Quiet" in browser.find_element(By.ID, f"row-{quiet.device_id}").text
        shot(browser, "fleet-overview")
        browser.find_element(By.ID, "fleet-filter").send_keys(healthy.device_id[-6:])
        submit(browser, "fleet-apply")
        rows = browser.find_elements(By.CSS_SELECTOR, "#fleet-table tbody tr")
        assert [r.get_attribute("id") for r in rows] == [f"row-{healthy.device_id}"]

        browser.find_element(By.LINK_TEXT, healthy.device_id).click()
        assert len(browser.find_elements(By.CSS_SELECTOR, "#queue-chart circle")) == 5
        browser.find_element(By.ID, "command-notice").send_keys("设备维护中 Under repair")
        submit(browser, "send-command")  # the first kind in the list: lock
        assert "pending" in browser.find_element(By.ID, "commands").text
        (delivery,) = beat(healthy, HEALTHY, 1)["commands"]
        assert delivery["document"]["args"] == {"notice": "设备维护中 Under repair"}
        ack = healthy.post_json(f"/api/v1/commands/{delivery['document']['id']}/ack",
                                {"status": "done", "result": {"locked": True}})
        assert ack.status_code == 200
        browser.refresh()
        assert "done" in browser.find_element(By.ID, f"command-{delivery['document']['id']}").text

        browser.find_element(By.ID, "command-ttl").clear()
        browser.find_element(By.ID, "command-ttl").send_keys("soon")
        submit(browser, "send-command")
        assert "Hours must be a number" in browser.find_element(By.ID, "error").text

        browser.find_element(By.ID, "config-toml").send_keys("[kiosk]\nidle_timeout_s = 1.0\n")
        submit(browser, "push-config")
        assert "kiosk.idle_timeout_s" in browser.find_element(By.ID, "error").text
        browser.find_element(By.ID, "config-toml").clear()
        browser.find_element(By.ID, "config-toml").send_keys("[kiosk]\nidle_timeout_s = 90.0\n")
        browser.find_element(By.ID, "config-note").send_keys("longer timeout")
        submit(browser, "push-config")
        assert "assigned v1" in browser.page_source
        config = beat(healthy, HEALTHY, 0)["config"]
        assert config["document"]["settings"] == {"kiosk": {"idle_timeout_s": 90.0}}
        browser.refresh()
        assert "command.lock" in browser.find_element(By.ID, "timeline").text
        shot(browser, "fleet-kiosk")

        browser.get(hall.url + "/console/configs")  # a group: two of the three kiosks
        browser.find_element(By.ID, f"pick-{healthy.device_id}").click()
        browser.find_element(By.ID, f"pick-{paper.device_id}").click()
        browser.find_element(By.ID, "group-toml").send_keys('[sync]\nquiet_hours = "08:00-09:00"\n')
        submit(browser, "push-group")
        assert "Waiting" in browser.find_element(By.ID, f"rollout-{paper.device_id}").text
        config = beat(healthy, HEALTHY, 0)["config"]
        assert config["document"]["version"] == 2
        report = {"health": HEALTHY, "config_version": 2}
        assert healthy.post_json("/api/v1/heartbeat", report).json()["config"] is None
        # A plain beat's state row is written behind its answer (flushed within 0.2 s,
        # hall/api/heartbeat_writer.py): the page shows it at the next look after that.
        deadline = time.monotonic() + 10
        while True:
            browser.refresh()
            took = "Took it" in browser.find_element(By.ID, f"rollout-{healthy.device_id}").text
            if took or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert took
        assert "Waiting" in browser.find_element(By.ID, f"rollout-{paper.device_id}").text
        assert quiet.device_id not in browser.find_element(By.ID, "rollout").text
        shot(browser, "fleet-configs")

        # Diagnostics the kiosk sealed (the real agent makes them: tests/kiosk/test_agent.py).
        from kiosk.agent.diagnostics import sealed_diagnostics
        document = {"device": {"health": PAPER_OUT}, "queue": {"waiting": 4, "counts": {"queued": 4}},
                    "logs": "2026-12-01 08:00:01 WARNING hardware.printer: paper_out\n" * 40}
        box, _cut = sealed_diagnostics(document, paper.device_id, paper.hall_seal_key)
        sent = paper.request("POST", "/api/v1/diagnostics", body=box,
                             headers={"Content-Type": "application/octet-stream"})
        assert sent.status_code == 200, sent.text
        browser.get(hall.url + f"/console/fleet/{paper.device_id}")
        browser.find_element(By.CSS_SELECTOR, f"#diagnostics-{sent.json()['id']} a").click()
        assert "paper_out" in browser.find_element(By.ID, "logs").text
        assert '"waiting": 4' in browser.find_element(By.ID, "queue-summary").text
        assert "paper_out" in browser.find_element(By.ID, "device-report").text
        shot(browser, "fleet-diagnostics")

        # A release: a bundle in the hall's inbox, to a pilot group, then a share, a halt, a roll back.
        from selenium.webdriver.support.ui import Select

        from tests.support.releases import broken_wheel
        broken_wheel(hall.data_dir / "release-inbox" / "kiosk-0.2.0", "0.2.0")
        browser.get(hall.url + "/console/releases")
        browser.find_element(By.ID, "release-version").send_keys("0.2.0")
        browser.find_element(By.ID, f"pilot-{healthy.device_id}").click()
        submit(browser, "publish-release")
        assert "Pilot" in browser.find_element(By.ID, "stage-0.2.0").text
        assert beat(healthy, HEALTHY, 0)["release"]["manifest"]["version"] == "0.2.0"
        assert beat(paper, PAPER_OUT, 4).get("release") is None  # not in the pilot group
        runs = {"health": HEALTHY, "versions": {"kiosk": "0.1.0", "release": "0.2.0"}}
        assert healthy.post_json("/api/v1/heartbeat", runs).json().get("release") is None
        browser.refresh()
        assert healthy.device_id in browser.find_element(By.ID, "running-0.2.0").text

        def change_stage(stage: str, percent: str = "") -> None:
            Select(browser.find_element(By.ID, "stage-select-0.2.0")).select_by_value(stage)
            browser.find_element(By.ID, "percent-0.2.0").send_keys(percent)
            submit(browser, "stage-0.2.0-go")

        change_stage("percent", "150")
        assert "0 and 100" in browser.find_element(By.ID, "error").text
        change_stage("percent", "50")
        assert "50 %" in browser.find_element(By.ID, "stage-0.2.0").text
        shot(browser, "fleet-releases")
        change_stage("halted")
        assert "Halt" in browser.find_element(By.ID, "stage-0.2.0").text
        change_stage("rolled_back")
        assert "Roll back" in browser.find_element(By.ID, "stage-0.2.0").text
        assert beat(healthy, HEALTHY, 0).get("release") is None  # nothing before it: stays as it is

        browser.get(hall.url + "/console/audit")
        text = browser.find_element(By.ID, "audit").text
        assert all(action in text for action in ("release.publish", "release.stage", "release.halt",
                                                 "release.rollback"))
        assert "console:staff-li" in text and "config.push" in text and "command.lock" in text
        assert "diagnostics.open" in text
        shot(browser, "fleet-audit")
        headers = __import__("requests").get(hall.url + "/console/fleet", timeout=10).headers
        assert "script-src" not in headers.get("Content-Security-Policy", "")
