"""The built book as a reader's browser shows it: headless Chromium over the HTML of `make book`.

Run after building the book (CI does: `make book`, then `pytest -m browser tests/test_site.py`).
Skipped, with the reason, when the book has not been built or Chromium and its driver are missing.
"""

import functools
import http.server
import re
import shutil
import socketserver
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "book" / "_build" / "html"
CHAPTERS = sorted(p.stem for p in (ROOT / "book").glob("*.ipynb"))
PAGES = ["intro", *CHAPTERS]


def _repository_url() -> str:
    match = re.search(r"^repository:\s*\n\s+url:\s*(\S+)", (ROOT / "book" / "_config.yml").read_text(), flags=re.M)
    return match.group(1)


@pytest.fixture(scope="module")
def server():
    if not (SITE / "intro.html").is_file():
        pytest.skip("the book is not built: run `make book` first")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SITE))
    handler.log_message = lambda *args: None
    with socketserver.TCPServer(("127.0.0.1", 0), handler) as httpd:
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
        httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.skip("Chromium and chromedriver are not installed (Debian: apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    from selenium.webdriver.chrome.service import Service

    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _open(browser, url):
    browser.get(url)
    browser.execute_script("return document.readyState")  # waits for the load to finish


@pytest.mark.parametrize("page", PAGES)
def test_every_image_loads_and_no_script_fails(server, browser, page):
    _open(browser, f"{server}/{page}.html")
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.currentSrc || i.src, i.complete, i.naturalWidth]);"
    )
    broken = [src for src, complete, width in images if not complete or width == 0]
    assert not broken, f"{page}: images that did not load: {broken[:5]}"
    if page in CHAPTERS and not page.startswith("appendix"):
        assert len(images) >= 2, f"{page} shows only {len(images)} images"
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, f"{page}: JavaScript errors: {errors}"


def test_formulas_are_typeset_offline(server, browser):
    """MathJax comes with the book (`make install`), so chapter 3's formulas render with no network."""
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, f"{server}/03_colorization.html")
    scripts = browser.execute_script("return Array.from(document.scripts).map(s => s.src).filter(s => /mathjax/i.test(s));")
    assert scripts and all(s.startswith(server) for s in scripts), f"MathJax is not served by the book: {scripts}"
    WebDriverWait(browser, 60).until(lambda b: b.execute_script(
        "return document.querySelectorAll('mjx-container').length > 0 && !!window.MathJax && !!MathJax.startup"
        " && MathJax.startup.document && MathJax.startup.document.processed !== false;"))
    typeset = browser.execute_script("return document.querySelectorAll('mjx-container').length;")
    text = browser.execute_script("return document.querySelector('main, article, body').innerText;")
    assert typeset >= 5, f"only {typeset} formulas typeset"
    assert "\\(" not in text and "\\[" not in text and "$$" not in text, "raw TeX left in the page"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_colab_launch_link_opens_the_chapter_in_the_configured_repository(server, browser, chapter):
    _open(browser, f"{server}/{chapter}.html")
    links = browser.execute_script(
        "return Array.from(document.querySelectorAll('a')).map(a => a.href).filter(h => h.includes('colab'));"
    )
    repo = _repository_url().removeprefix("https://github.com/")
    expected = f"https://colab.research.google.com/github/{repo}/blob/main/book/{chapter}.ipynb"
    assert expected in links, f"{chapter}: Colab links {links}"


def test_site_search_finds_latent(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, f"{server}/search.html?q=latent")
    WebDriverWait(browser, 30).until(ec.presence_of_element_located((By.CSS_SELECTOR, "ul.search li")))
    hits = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "ul.search li")]
    assert any("improving" in h.lower() or "latent" in h.lower() for h in hits), hits[:5]


def test_intro_shows_the_headline_table(server, browser):
    from selenium.webdriver.common.by import By

    _open(browser, f"{server}/intro.html")
    tables = browser.find_elements(By.TAG_NAME, "table")
    text = " ".join(t.text for t in tables)
    assert "BCE" in text and "PCA" in text and "RED-Net" in text, text[:300]
    assert re.search(r"\d+\.\d\d dB", text), "the headline table shows no glued numbers"
