"""The drempel signals page in a real browser: the ranked table, the filter form, downloads."""

from __future__ import annotations

from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

pytestmark = pytest.mark.browser


def test_signals_page_ranks_drempels_and_filters_them(browser: Any, web_url: str,
                                                      wait: Any) -> None:
    browser.get(web_url + "/signalen")
    rows = browser.find_elements(By.CSS_SELECTOR, "#signals tbody tr")
    assert len(rows) >= 40
    counts = [int(r.find_elements(By.TAG_NAME, "td")[2].text) for r in rows]
    assert counts == sorted(counts, reverse=True) and counts[0] > 1
    first = rows[0].find_element(By.CSS_SELECTOR, "th a")
    assert first.text and first.get_attribute("href")
    assert browser.find_element(By.LINK_TEXT, "Signalen").get_attribute("aria-current") == "page"
    # Filter by province with the form: fewer municipalities count, and the URL says so.
    Select(browser.find_element(By.ID, "f-province")).select_by_visible_text("Provincie Limburg")
    browser.find_element(By.CSS_SELECTOR, "form.signal-filters button").click()
    wait(browser, lambda d: "province=70000" in d.current_url)
    limburg = browser.find_elements(By.CSS_SELECTOR, "#signals tbody tr")
    assert 0 < len(limburg) < len(rows)
    assert int(limburg[0].find_elements(By.TAG_NAME, "td")[2].text) <= counts[0]
    csv_link = browser.find_element(By.LINK_TEXT, "CSV").get_attribute("href")
    assert "province=70000" in csv_link and "format=csv" in csv_link
    # And by beleidsniveau: every row shows the chosen level.
    Select(browser.find_element(By.ID, "f-province")).select_by_visible_text("heel Vlaanderen")
    Select(browser.find_element(By.ID, "f-level")).select_by_visible_text("federaal")
    browser.find_element(By.CSS_SELECTOR, "form.signal-filters button").click()
    wait(browser, lambda d: "level=federaal" in d.current_url)
    federal = browser.find_elements(By.CSS_SELECTOR, "#signals tbody tr")
    assert federal and all(r.find_elements(By.TAG_NAME, "td")[1].text == "federaal"
                           for r in federal)


def test_an_unknown_filter_value_is_explained(browser: Any, web_url: str) -> None:
    browser.get(web_url + "/signalen?theme=geen-thema")
    alert = browser.find_element(By.CSS_SELECTOR, "[role=alert]")
    assert "geen-thema" in alert.text


def test_wijken_page_compares_the_pioneers(browser: Any, web_url: str) -> None:
    browser.get(web_url + "/wijken")
    rows = browser.find_elements(By.CSS_SELECTOR, "#wijken tbody tr")
    assert len(rows) >= 8
    first = rows[0]
    assert "koploper" in first.find_element(By.TAG_NAME, "th").text
    cells = first.find_elements(By.TAG_NAME, "td")
    assert cells[0].text  # the municipality
    assert int(cells[5].text) >= int(cells[6].text) >= 0  # drempels met >= overcome here
    link = first.find_element(By.CSS_SELECTOR, "th a").get_attribute("href")
    assert "/id/neighbourhood/" in link
    assert browser.find_element(By.LINK_TEXT, "Wijken").get_attribute("aria-current") == "page"
