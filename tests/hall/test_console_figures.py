"""The figures page in real headless Chromium (issue 12 part 5): a county admin opens
``/console/figures`` for October–November 2026, reads the work plan's figures, the months,
the kiosks and the ratings of the hand-computed fixture of test_figures.py, downloads the
CSV and the XLSX (opened with openpyxl: the same numbers), records a counter entry (a
mistyped one first: the message, and nothing lost) and sees the November figures move.
One hall, one browser. Screenshots: tests/artifacts/console-figures*.png."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import requests
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from tests.hall.test_console import (  # noqa: F401  (browser: the Chromium fixture)
    ARTIFACTS,
    browser,
    shot,
    submit,
)
from tests.hall.test_figures import COUNTY, KIOSK_A, load_fixture
from tests.support.hall_process import HallProcess

PERIOD = "?first=2026-10&last=2026-11"


def test_figures_page_exports_and_counter_entries(tmp_path, browser):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    with HallProcess(tmp_path) as hall:
        hall.create_user("chen.admin", "correct horse", role="county_admin", county=COUNTY)
        hall.create_user("tech", "correct horse", role="technician", county=COUNTY)
        hall.create_user("viewer", "correct horse", role="viewer", county=COUNTY)
        engine = create_engine(hall.db_url)
        with Session(engine) as db:
            load_fixture(db)
        engine.dispose()

        browser.get(hall.url + "/console/login")
        browser.find_element(By.ID, "username").send_keys("chen.admin")
        browser.find_element(By.ID, "password").send_keys("correct horse")
        submit(browser, "login")
        browser.find_element(By.ID, "nav-figures").click()
        browser.get(hall.url + "/console/figures" + PERIOD)

        def text(element_id: str) -> str:
            return browser.find_element(By.ID, element_id).text

        def cells(row_id: str) -> list[str]:
            return [c.text for c in browser.find_elements(By.CSS_SELECTOR, f"#{row_id} td")]

        # the county over the period, against the plan's targets (27/37, 7/37, 22/27, 18/27, 8/13, 11/13)
        assert [text(f"measured-{k}") for k in ("online_rate", "finished_rate", "le1_rate", "zero_rate",
                                                "full_online_items", "mobile_items")] == [
            "73.0%", "18.9%", "81.5%", "66.7%", "61.5%", "84.6%"]
        assert "未达标 below" in text("figure-finished_rate") and "30.0%" in text("figure-finished_rate")
        assert "达标 meets" in text("figure-online_rate") and "35.0%" in text("figure-online_rate")
        assert "Applications submitted online / all applications" in text("figure-online_rate")
        # the schema records e-certificate links now; the fixture's applications used none
        assert "E-certificates in use 0 " in text("figure-ecert") and text("mobile-count") == "7"
        # by month: all, kiosk, counter, online, four rates, phone
        assert cells("month-2026-10")[:9] == ["19", "8", "11", "13", "68.4%", "21.1%", "76.9%", "61.5%", "2"]
        assert cells("month-2026-11")[:9] == ["18", "8", "10", "14", "77.8%", "16.7%", "85.7%", "71.4%", "5"]
        assert cells(f"kiosk-{KIOSK_A}") == ["9", "4", "44.4%", "88.9%", "66.7%"]
        assert "上坑村 Shangkeng" in text(f"kiosk-{KIOSK_A}") and "kiosk-fig-x" not in browser.page_source
        charts = browser.find_elements(By.CSS_SELECTOR, ".charts svg.chart")
        assert len(charts) == 4 and "68.4%" in charts[0].get_attribute("innerHTML")
        # ratings: item 001 rated 5, 4, 1, 5; the unhappy reasons, newest first, no personal data
        first = browser.find_element(By.CSS_SELECTOR, "#ratings-by-item tbody tr")
        assert "城乡居民基本养老保险参保登记" in first.text
        assert [first.find_element(By.CSS_SELECTOR, f".score-{s}").text for s in (5, 4, 3, 2, 1)] == [
            "50.0%", "25.0%", "0.0%", "0.0%", "25.0%"]
        assert first.find_element(By.CSS_SELECTOR, ".count").text == "4"
        reasons = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#unhappy li")]
        assert len(reasons) == 2 and "等太久 Too slow" in reasons[0] and "看不懂说明 Unclear" in reasons[1]
        assert "GD-SAMPLE" not in browser.page_source
        shot(browser, "figures")
        browser.execute_script("window.scrollTo(0, document.body.scrollHeight)")
        browser.save_screenshot(str(ARTIFACTS / "console-figures-ratings.png"))

        # the downloads, with this browser's session
        web = requests.Session()
        for cookie in browser.get_cookies():
            web.cookies.set(cookie["name"], cookie["value"], path=cookie.get("path", "/"))
        answer = web.get(hall.url + "/console/figures.csv" + PERIOD, timeout=10)
        assert answer.status_code == 200 and "attachment" in answer.headers["Content-Disposition"]
        table = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
        by_key = {(row[0], row[1], row[3]): row for row in table[1:]}
        assert by_key[("县 county", "", "2026-10")][4:16] == ["19", "8", "11", "13", "4", "10", "8", "2",
                                                           "68.4%", "21.1%", "76.9%", "61.5%"]
        assert by_key[("终端 kiosk", KIOSK_A, "2026-11")][4:12] == ["4", "4", "0", "4", "2", "4", "3", "0"]
        answer = web.get(hall.url + "/console/figures.xlsx" + PERIOD, timeout=10)
        book = openpyxl.load_workbook(io.BytesIO(answer.content))
        rows = {(r[0], r[1] or "", r[3]): r for r in book["Figures"].iter_rows(min_row=2, values_only=True)}
        november = rows[("县 county", "", "2026-11")]
        assert november[4:12] == (18, 8, 10, 14, 3, 12, 10, 5)
        assert round(november[12], 4) == round(14 / 18, 4) and round(november[15], 4) == round(10 / 14, 4)
        assert rows[("县 county", "", "全部 all")][4] == 37
        plan = {r[0]: r for r in book["Definitions"].iter_rows(min_row=2, values_only=True)}
        assert plan["上网办理率 Applications made online"][2:] == (0.35, 27 / 37)
        assert book["Figures"].cell(row=2, column=13).number_format == "0.0%"
        # no session: the login page, not the numbers
        assert requests.get(hall.url + "/console/figures.csv", timeout=10,
                            allow_redirects=False).status_code in (303, 307)

        # a counter entry: a slip first (the form keeps what was typed), then the real one
        browser.find_element(By.ID, "to-counter").click()
        Select(browser.find_element(By.ID, "service_code")).select_by_value("GD-SAMPLE-004")
        browser.find_element(By.ID, "day").send_keys("2026-11-28")
        browser.find_element(By.ID, "channel-counter").click()
        browser.find_element(By.ID, "count").send_keys("two")
        submit(browser, "save-counter")
        assert "digits" in text("error")
        assert browser.find_element(By.ID, "day").get_attribute("value") == "2026-11-28"
        browser.find_element(By.ID, "count").clear()
        browser.find_element(By.ID, "count").send_keys("2")
        submit(browser, "save-counter")
        assert "特困人员" in text("counter-entries") or "2026-11-28" in text("counter-entries")
        shot(browser, "figures-counter")
        browser.get(hall.url + "/console/figures" + PERIOD)
        assert cells("month-2026-11")[:5] == ["20", "8", "12", "14", "70.0%"]
        assert text("measured-online_rate") == "69.2%"  # 27 / 39

        # a technician sees no figures; a viewer reads them and records nothing
        for username, page, expected in (("tech", "/console/figures", 403),
                                         ("viewer", "/console/figures", 200),
                                         ("viewer", "/console/figures.xlsx", 200)):
            web = login(hall.url, username)
            answer = web.get(hall.url + page, timeout=10)
            assert answer.status_code == expected, (username, page)
            assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
        overview = web.get(hall.url + "/console/", timeout=10).text
        csrf = re.search(r'name="csrf" value="([^"]+)"', overview).group(1)
        assert 'id="counter-form"' not in web.get(hall.url + "/console/counter-applications", timeout=10).text
        answer = web.post(hall.url + "/console/counter-applications", timeout=10, allow_redirects=False,
                          data={"csrf": csrf, "service_code": "GD-SAMPLE-001", "day": "2026-11-01",
                                "channel": "web", "count": "1"})
        assert answer.status_code == 403


def login(url: str, username: str) -> requests.Session:
    web = requests.Session()
    token = re.search(r'name="login_token" value="([^"]+)"', web.get(url + "/console/login", timeout=10).text)
    answer = web.post(url + "/console/login", timeout=10, allow_redirects=False,
                      data={"username": username, "password": "correct horse", "login_token": token.group(1)})
    assert answer.status_code == 303
    return web

