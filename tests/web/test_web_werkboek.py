"""The werkboek page in a real browser: the book's structure and navigation, partial werkboeken,
downloads, and the printed book (Chromium's own print to PDF with the print CSS)."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

pytestmark = pytest.mark.browser


def test_werkboek_page_is_the_whole_book_and_navigable(browser: Any, web_url: str,
                                                       wait: Any) -> None:
    book = httpx.get(web_url + "/api/werkboek", timeout=120).json()
    drempels = [d for p in book["parts"] for t in p["themes"] for d in t["drempels"]]
    browser.get(web_url + "/werkboek")
    assert browser.find_element(By.TAG_NAME, "h1").text == book["title"]
    assert browser.find_element(By.LINK_TEXT, "Werkboek").get_attribute("aria-current") == "page"
    articles = browser.find_elements(By.CSS_SELECTOR, "article.wb-drempel")
    assert [a.get_attribute("id") for a in articles] == ["d-" + d["id"] for d in drempels]
    assert "Editie" in browser.find_element(By.CSS_SELECTOR, ".wb-edition").text
    # The table of contents leads to a theme section.
    toc = browser.find_elements(By.CSS_SELECTOR, "nav.wb-toc a")
    assert len(toc) >= len(book["parts"]) + 3
    theme_link = browser.find_element(By.CSS_SELECTOR, "nav.wb-toc ol ol a")
    target = theme_link.get_attribute("href").split("#", 1)[1]
    theme_link.click()
    wait(browser, lambda d: d.current_url.endswith("#" + target))
    assert browser.execute_script(
        "const r = document.getElementById(arguments[0]).getBoundingClientRect();"
        "return r.top >= -2 && r.top < window.innerHeight;", target)
    # A drempel nobody overcame is listed under "Wat nog openligt" and links back.
    open_links = browser.find_elements(By.CSS_SELECTOR, "#open li a")
    assert open_links and all(
        browser.find_element(By.ID, a.get_attribute("href").split("#", 1)[1])
        .get_attribute("data-status") == "open" for a in open_links)
    # Lessons fold open.
    details = browser.find_element(By.CSS_SELECTOR, "details.wb-lessons")
    details.find_element(By.TAG_NAME, "summary").click()
    assert details.get_attribute("open") is not None


def test_a_partial_werkboek_and_its_downloads(browser: Any, web_url: str, wait: Any) -> None:
    browser.get(web_url + "/werkboek")
    everything = len(browser.find_elements(By.CSS_SELECTOR, "article.wb-drempel"))
    Select(browser.find_element(By.ID, "w-werf")).select_by_value("werf-4")
    browser.find_element(By.CSS_SELECTOR, "form.wb-filters button").click()
    wait(browser, lambda d: "werf=werf-4" in d.current_url)
    part = browser.find_elements(By.CSS_SELECTOR, "article.wb-drempel")
    assert 0 < len(part) < everything
    assert [p.get_attribute("id") for p in browser.find_elements(
        By.CSS_SELECTOR, "section.wb-part")][:1] == ["werf-4"]
    assert "Deelwerkboek" in browser.find_element(By.CSS_SELECTOR, ".wb-cover").text
    pdf = browser.find_element(By.LINK_TEXT, "PDF").get_attribute("href")
    assert "/werkboek.pdf?" in pdf and "werf=werf-4" in pdf
    r = httpx.get(pdf, timeout=120)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    browser.get(web_url + "/werkboek?municipality=Atlantis")
    assert "Atlantis" in browser.find_element(By.CSS_SELECTOR, "[role=alert]").text


def test_the_page_prints_as_a_book(browser: Any, web_url: str) -> None:
    from io import BytesIO

    from pypdf import PdfReader

    browser.get(web_url + "/werkboek?werf=werf-3")
    assert browser.find_element(By.CSS_SELECTOR, ".print-link").is_displayed()
    browser.execute_script("window.dispatchEvent(new Event('beforeprint'))")
    assert all(d.get_attribute("open") is not None
               for d in browser.find_elements(By.CSS_SELECTOR, "details.wb-lessons"))
    printed = browser.execute_cdp_cmd("Page.printToPDF", {"printBackground": False})
    reader = PdfReader(BytesIO(base64.b64decode(printed["data"])))
    text = " ".join(p.extract_text() for p in reader.pages)
    assert len(reader.pages) >= 3
    assert "Zoeken" not in text.split("Dynamisch werkboek")[0]  # the site's header is hidden
    lesson = browser.find_element(By.CSS_SELECTOR, "details.wb-lessons .wb-entry-title").text
    assert lesson.split("(")[0].strip()[:30] in " ".join(text.split())
    browser.execute_script("window.dispatchEvent(new Event('afterprint'))")
