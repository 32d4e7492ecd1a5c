"""A clerk's day in real headless Chromium: the department's inbox (oldest first, the
overdue one in red), a correction naming materials, the kiosk's supplement joining the
application (its page marked as added), acceptance, completion with a PDF result sealed
on the hall, and both tracking pages at a phone's size. Screenshots: tests/artifacts/console-clerk-*.png."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from hall.models import Application, ApplicationResult
from hall.services.numbering import canonical_official
from tests.hall.kiosk_client import SignedClient
from tests.hall.test_console import (  # noqa: F401  (browser: the Chromium fixture)
    ARTIFACTS,
    browser,
    page_image,
    shot,
    submit,
)
from tests.hall.test_county_work import make_supplement, post_supplement
from tests.support.hall_process import HallProcess
from tests.support.result_pdfs import BROKEN_PDF, letter_pdf

PDF = letter_pdf(2)


def test_clerk_inbox_correction_and_completion(tmp_path, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    with HallProcess(tmp_path) as hall:
        hall.create_user("clerk-wang", "correct horse", role="clerk", department="hrss")
        kiosk = SignedClient.enrolled(hall.url, hall.enrollment_code())
        older = kiosk.submit([(page_image("Household register"), "M1", "image/png")],
                             service_code="GD-SAMPLE-001")
        newer = kiosk.submit([(page_image("Bank passbook"), "M1", "image/png")], service_code="GD-SAMPLE-002")
        other_department = kiosk.submit(service_code="GD-SAMPLE-004")
        engine = create_engine(hall.db_url)
        with Session(engine) as db:  # received a fortnight ago: its promised day is long past
            row = db.get(Application, older["id"])
            row.received_at = row.received_at - timedelta(days=14)
            db.commit()

        browser.get(hall.url + "/console/login")
        browser.find_element(By.ID, "username").send_keys("clerk-wang")
        browser.find_element(By.ID, "password").send_keys("correct horse")
        submit(browser, "login")
        browser.find_element(By.ID, "nav-inbox").click()
        rows = browser.find_elements(By.CSS_SELECTOR, "table.inbox tbody tr")
        numbers = [r.find_element(By.CSS_SELECTOR, ".appno").text for r in rows]
        # oldest first, own items; not accepted yet, so known by the receipt's number (issue 12)
        assert numbers == [older["provisional_number"], newer["provisional_number"]]
        assert "overdue" in rows[0].get_attribute("class") and "overdue" not in rows[1].get_attribute("class")
        assert "城乡居民基本养老保险参保登记" in rows[0].text and "GD-SAMPLE" not in browser.page_source
        assert other_department["provisional_number"] not in browser.page_source
        shot(browser, "clerk-inbox")

        browser.find_element(By.LINK_TEXT, older["provisional_number"]).click()
        assert "County Human Resources" in browser.page_source
        browser.find_element(By.ID, "status-correction_needed").click()
        submit(browser, "save-status")  # no material named, no reason: refused, nothing lost
        assert "say why" in browser.find_element(By.ID, "error").text
        browser.find_element(By.ID, "status-correction_needed").click()
        browser.find_element(By.ID, "material-M1").click()
        browser.find_element(By.ID, "reason").send_keys("户口簿照片太暗，请重新拍户主页")
        submit(browser, "save-status")
        history = browser.find_element(By.CSS_SELECTOR, "ol.history").text
        assert "需补正 Correction needed" in history and "居民户口簿" in history and "clerk-wang" in history
        shot(browser, "clerk-correction")

        # The villager's new page arrives from the kiosk: it joins the same application, marked.
        body = make_supplement(kiosk, older["id"], [(page_image("Register, brighter"), "M1")])
        assert post_supplement(kiosk, older["id"], body).status_code == 201
        browser.refresh()
        added = browser.find_element(By.CSS_SELECTOR, "figure.added")
        assert "补交 Added" in added.text and "居民户口簿" in added.text
        assert browser.execute_script("return arguments[0].naturalWidth",
                                      added.find_element(By.TAG_NAME, "img")) == 600
        assert "已补正 Supplemented" in browser.find_element(By.CSS_SELECTOR, "ol.history").text
        shot(browser, "clerk-supplemented")

        browser.get(hall.url + f"/console/applications/{newer['id']}")
        browser.find_element(By.ID, "status-accepted").click()
        submit(browser, "save-status")
        official = browser.find_element(By.CSS_SELECTOR, "h1 .appno").text  # given at acceptance
        assert canonical_official(official) == official and official.startswith("441423-")
        # A broken PDF is refused in plain words (never a 500), and nothing is completed or kept.
        broken = tmp_path / "broken.pdf"
        broken.write_bytes(BROKEN_PDF)
        browser.find_element(By.ID, "status-completed").click()
        browser.find_element(By.ID, "result").send_keys(str(broken))
        submit(browser, "save-status")
        assert "打不开" in browser.find_element(By.ID, "error").text
        assert "已办结 Completed" not in browser.find_element(By.CSS_SELECTOR, "ol.history").text
        pdf = tmp_path / "decision.pdf"
        pdf.write_bytes(PDF)
        browser.find_element(By.ID, "status-completed").click()
        browser.find_element(By.ID, "result").send_keys(str(pdf))
        submit(browser, "save-status")
        assert "已办结 Completed" in browser.find_element(By.CSS_SELECTOR, "ol.history").text
        assert "2 页 pages" in browser.find_element(By.CSS_SELECTOR, "a[id^=result-]").text
        assert browser.find_elements(By.CSS_SELECTOR, "a[id^=result-]")
        shot(browser, "clerk-completed")

        changes = [(c["id"], c["status"], c["reason"]) for c in kiosk.status_changes().json()["changes"]]
        assert changes == [(older["id"], "correction_needed", "户口簿照片太暗，请重新拍户主页"),
                           (older["id"], "supplemented", ""),
                           (newer["id"], "accepted", ""), (newer["id"], "completed", "")]
        with Session(engine) as db:
            (result,) = db.query(ApplicationResult).all()
            box = (hall.data_dir / "results" / result.box_sha256).read_bytes()
            pages = [(hall.data_dir / "results" / f"{result.box_sha256}.p{n}").read_bytes() for n in range(2)]
        assert result.media_type == "application/pdf" and b"%PDF" not in box  # sealed on disk
        assert result.pages == 2 and all(b"PNG" not in page for page in pages)  # its pages: sealed too
        assert len(list((hall.data_dir / "results").iterdir())) == 3  # the refused file left nothing
        engine.dispose()

        # The receipt's QR target, on a phone: status and next step in plain words, nothing personal.
        browser.delete_all_cookies()
        browser.set_window_size(390, 844)
        for number, words in ((older["provisional_number"], "已补正"), (official, "已办结"),
                              (newer["provisional_number"], "已办结")):
            browser.get(hall.url + "/track/" + number)
            text = browser.find_element(By.TAG_NAME, "main").text
            assert words in text and "城乡居民基本养老保险" in text
            assert "张三" not in text and "户口簿照片太暗" not in text and "GD-SAMPLE" not in text
            assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
        assert "办理结果已经出来了" in text  # the completed one has a result: where to get it
        browser.save_screenshot(str(ARTIFACTS / "track-phone-completed.png"))
