"""The console in real headless Chromium: log in, see kiosks, open an application, change it.

Screenshots of each page go to tests/artifacts/console-<name>.png.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tests.hall.kiosk_client import SignedClient
from tests.support.hall_process import HallProcess

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def page_image(text: str) -> bytes:
    image = Image.new("RGB", (600, 800), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((30, 30, 570, 770), outline="black", width=4)
    for row in range(8):
        draw.line((60, 120 + row * 70, 540, 120 + row * 70), fill="gray", width=3)
    draw.text((60, 60), text, fill="black")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def browser():
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("chromium and chromedriver are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="hall-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--no-first-run", "--disable-component-update",
                "--disable-sync", "--window-size=1280,1000", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    # Attachments that are not images are downloads: keep them in the throw-away profile.
    options.add_experimental_option("prefs", {"download.default_directory": profile,
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def shot(driver, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(800, min(int(height) + 140, 3000)))
    driver.save_screenshot(str(ARTIFACTS / f"console-{name}.png"))
    # every page fits a laptop's 1280 px: nothing hidden off the right edge behind a scroll bar
    overflow = driver.execute_script(
        "const e = document.documentElement; return e.scrollWidth - e.clientWidth")
    assert overflow <= 0, f"console page {name} is {overflow} px wider than the window"


def submit(driver, element_id: str) -> None:
    """Click a submit button and wait for the next page to replace this one."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.ID, element_id).click()

    def replaced(_driver) -> bool:
        try:
            return expected_conditions.staleness_of(old)(_driver)
        except WebDriverException:
            # mid-navigation Chrome may answer "Node with given id does not belong to the
            # document" instead of a stale-element error: the old page is gone all the same
            return True

    WebDriverWait(driver, 15).until(replaced)


def test_console_flow(tmp_path, browser):
    from selenium.webdriver.common.by import By

    with HallProcess(tmp_path) as hall:
        hall.create_user("clerk", "correct horse")
        kiosk = SignedClient.enrolled(hall.url, hall.enrollment_code())
        other = SignedClient.enrolled(hall.url, hall.enrollment_code())
        answer = kiosk.submit([(page_image("ID card front"), "M1", "image/png"),
                               (page_image("Household register"), "M2", "image/png")])
        other.submit()

        browser.get(hall.url + "/console/")
        assert browser.current_url.endswith("/console/login")
        browser.find_element(By.ID, "username").send_keys("clerk")
        browser.find_element(By.ID, "password").send_keys("wrong password")
        submit(browser, "login")
        assert "Wrong username or password" in browser.page_source
        shot(browser, "login")
        browser.find_element(By.ID, "password").clear()
        browser.find_element(By.ID, "password").send_keys("correct horse")
        submit(browser, "login")
        assert browser.current_url.endswith("/console/")
        assert answer["provisional_number"] in browser.page_source
        shot(browser, "overview")

        browser.get(hall.url + "/console/devices")
        assert kiosk.device_id in browser.page_source
        submit(browser, f"revoke-{other.device_id}")
        assert browser.current_url.endswith("/console/devices")
        shot(browser, "devices")
        assert other.status_changes().json()["error"] == "device_revoked"

        browser.get(hall.url + "/console/enrolment-codes")
        submit(browser, "new-code")
        code = browser.find_element(By.ID, "code").text
        assert len(code) == 9 and code[4] == "-"
        shot(browser, "enrolment-code")
        assert SignedClient.enrolled(hall.url, code).device_id.startswith("kiosk-")

        browser.get(hall.url + "/console/applications")
        shot(browser, "applications")
        browser.find_element(By.LINK_TEXT, answer["provisional_number"]).click()
        page = browser.page_source
        assert "张三" in page and "44142319800101001X" in page
        images = browser.find_elements(By.CSS_SELECTOR, ".thumbs img")
        assert len(images) == 2
        assert all(browser.execute_script("return arguments[0].naturalWidth", img) == 600 for img in images)
        shot(browser, "application")

        browser.find_element(By.ID, "status-correction_needed").click()
        browser.find_element(By.ID, "reason").clear()
        browser.find_element(By.ID, "reason").send_keys("请补充户口簿首页 Add the register's first page")
        submit(browser, "save-status")
        assert "/console/applications/" in browser.current_url
        assert "Add the register" in browser.page_source
        shot(browser, "application-changed")

        changes = kiosk.status_changes().json()["changes"]
        assert [(c["id"], c["status"]) for c in changes] == [(answer["id"], "correction_needed")]
        assert [a["status"] for a in hall.applications() if a["id"] == answer["id"]] == ["correction_needed"]


def test_console_refuses_without_login_and_bad_csrf(tmp_path):
    import requests

    with HallProcess(tmp_path) as hall:
        hall.create_user("clerk", "correct horse")
        anonymous = requests.get(hall.url + "/console/devices", allow_redirects=False, timeout=5)
        assert anonymous.status_code == 303 and anonymous.headers["location"] == "/console/login"
        session = requests.Session()
        page = session.get(hall.url + "/console/login", timeout=5).text
        token = page.split('name="login_token" value="', 1)[1].split('"', 1)[0]
        form = {"username": "clerk", "password": "correct horse", "login_token": token}
        login = session.post(hall.url + "/console/login", data=form, allow_redirects=False, timeout=5)
        assert login.status_code == 303
        assert session.get(hall.url + "/console/devices", timeout=5).status_code == 200
        forged = session.post(hall.url + "/console/enrolment-codes", data={"csrf": "forged"},
                              allow_redirects=False, timeout=5)
        assert forged.status_code == 303 and forged.headers["location"] == "/console/login"


ATTACK_SCRIPT = """
document.title = "pwned";
fetch("/console/enrolment-codes").then(r => r.text()).then(page => {
  const csrf = page.match(/name="csrf" value="([^"]+)"/)[1];
  return fetch("/console/enrolment-codes", {method: "POST", body: "csrf=" + encodeURIComponent(csrf),
    headers: {"Content-Type": "application/x-www-form-urlencoded"}});
}).then(() => { document.title = "pwned: code made"; });
"""
HTML_ATTACK = f"<html><head><title>scan</title></head><body><script>{ATTACK_SCRIPT}</script></body></html>"
SVG_ATTACK = ('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" '
              'onload="document.title=\'pwned\'">'
              f"<script>{ATTACK_SCRIPT}</script><rect width=\"100\" height=\"100\"/></svg>")


def enrolment_code_count(hall: HallProcess) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(hall.db_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM enrolment_codes")).scalar_one()
    finally:
        engine.dispose()


def test_attachment_declared_html_or_svg_runs_no_script(tmp_path, browser):
    """Finding 1 (issue 9): a kiosk's attachment must never run script in the clerk's session."""
    import requests
    from selenium.webdriver.common.by import By

    with HallProcess(tmp_path) as hall:
        hall.create_user("clerk", "correct horse")
        kiosk = SignedClient.enrolled(hall.url, hall.enrollment_code())
        answer = kiosk.submit([
            (HTML_ATTACK.encode(), "M1", "text/html"),
            (SVG_ATTACK.encode(), "M2", "image/svg+xml"),
            (SVG_ATTACK.encode() + b" ", "M3", "image/png"),  # a lie the thumbnail would believe
            (page_image("ID card front"), "M4", "text/html"),  # a real image, declared wrongly
        ])
        codes_before = enrolment_code_count(hall)

        browser.get(hall.url + "/console/login")
        browser.find_element(By.ID, "username").send_keys("clerk")
        browser.find_element(By.ID, "password").send_keys("correct horse")
        submit(browser, "login")
        browser.find_element(By.LINK_TEXT, answer["provisional_number"]).click()
        page_url = browser.current_url
        links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, ".thumbs a")]
        assert len(links) == 4
        for link in links:
            browser.get(page_url)
            browser.get(link)  # a download leaves the browser on the application page
            time.sleep(0.5)  # the script's fetches had their chance
            assert "pwned" not in browser.title
        assert enrolment_code_count(hall) == codes_before

        cookies = {c["name"]: c["value"] for c in browser.get_cookies()}
        kinds = []
        for link in links:
            served = requests.get(link, cookies=cookies, timeout=10)
            assert served.status_code == 200
            assert served.headers["X-Content-Type-Options"] == "nosniff"
            assert "sandbox" in served.headers["Content-Security-Policy"]
            assert served.headers["Content-Type"] in ("image/png", "image/jpeg", "application/octet-stream")
            kind = served.headers["Content-Type"]
            kinds.append((kind, served.headers["Content-Disposition"].split(";")[0]))
            assert b"<script" not in served.content or kind == "application/octet-stream"
        assert kinds == [("application/octet-stream", "attachment")] * 3 + [("image/png", "inline")]
        page = requests.get(page_url, cookies=cookies, timeout=10)
        assert "script-src" not in page.headers["Content-Security-Policy"]  # default-src 'none' covers it
        assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert "<script" not in page.text and " style=" not in page.text
