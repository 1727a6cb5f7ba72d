"""The overview page: counts per type, per theme and per LEKP werf, with charts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from selenium.webdriver.common.by import By

pytestmark = pytest.mark.browser


def test_overview_shows_the_charts(browser: Any, web_url: str) -> None:
    browser.get(web_url + "/overzicht")
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.bars")
    assert len(charts) == 2
    themes, werven = charts
    assert len(themes.find_elements(By.CSS_SELECTOR, "g.bar-row")) >= 10
    bars = themes.find_elements(By.TAG_NAME, "rect")
    assert bars and all(float(b.get_attribute("width")) > 0 for b in bars)
    assert themes.rect["width"] > 300  # drawn, not collapsed
    werf_labels = [t.text for t in werven.find_elements(By.CSS_SELECTOR, "text.bar-label")]
    assert any(label.startswith("werf-2") for label in werf_labels)
    # the renovation theme counts under werf-2 in the table
    browser.find_element(By.CSS_SELECTOR, "#per-thema ~ details summary, "
                                          "section[aria-labelledby=per-thema] summary").click()
    row = browser.find_element(By.XPATH, "//table//th[a[normalize-space()='renovatie']]/..")
    assert "werf-2" in row.text
    total = int(re.findall(r"\d+", row.text)[-1])
    assert total > 0
