"""The search page: results, facets with counts, shareable URLs, and no JavaScript needed."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
from selenium.webdriver.common.by import By

pytestmark = pytest.mark.browser
QUESTION = "Hoe helpen we eigenaars die hun renovatie niet kunnen voorfinancieren?"


def _candidates(driver: Any) -> int:
    title = driver.find_element(By.CSS_SELECTOR, ".results-title").text
    found = re.search(r"\((\d+) kandidaten", title)
    assert found, title
    return int(found.group(1))


def _facet_count(driver: Any, facet: str, value: str) -> int:
    box = driver.find_element(By.CSS_SELECTOR, f'#facet-{facet} input[value="{value}"]')
    label = driver.find_element(By.CSS_SELECTOR, f'label[for="{box.get_attribute("id")}"]')
    return int(label.find_element(By.CSS_SELECTOR, ".count").get_attribute("data-count"))


def test_search_returns_explained_results(browser: Any, web_url: str, wait: Any) -> None:
    browser.get(web_url + "/")
    box = browser.find_element(By.ID, "q")
    box.send_keys(QUESTION)
    box.submit()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".hit"))
    assert parse_qs(urlparse(browser.current_url).query)["q"] == [QUESTION]
    hits = browser.find_elements(By.CSS_SELECTOR, ".hit")
    assert len(hits) == 10
    first = hits[0]
    assert first.find_element(By.CSS_SELECTOR, ".badge").text in {
        "les", "drempel", "maatregel", "doorbraak"}
    assert first.find_element(By.CSS_SELECTOR, ".snippet").text
    text = browser.find_element(By.CSS_SELECTOR, ".hits").text
    assert "Drempels" in text and "Thema's" in text
    # "Waarom dit resultaat?" opens the explanation with the component ranks
    why = first.find_element(By.CSS_SELECTOR, ".why")
    why.find_element(By.TAG_NAME, "summary").click()
    assert "semantische rang" in why.text or "zoekterm" in why.text
    assert "Betekenis (semantisch)" in why.text and "Trefwoorden (BM25)" in why.text


def test_facet_narrows_results(browser: Any, web_url: str, wait: Any) -> None:
    browser.get(web_url + "/?q=warmtenet")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".hit"))
    before = _candidates(browser)
    lessons = _facet_count(browser, "type", "lesson")
    water_before = _facet_count(browser, "theme", "warmte")
    assert 0 < lessons < before
    browser.find_element(By.CSS_SELECTOR, '#facet-type input[value="lesson"]').click()
    # the form submits itself on change (without JavaScript: "Filters toepassen")
    wait(browser, lambda d: "type=lesson" in d.current_url)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".hit"))
    assert _candidates(browser) == lessons
    badges = {b.text for b in browser.find_elements(
        By.CSS_SELECTOR, ".hit .hit-head .badge:not(.status)")}  # type badges, not the status
    assert badges == {"les"}
    # other facets now count lessons only; the type facet keeps its own counts
    assert _facet_count(browser, "theme", "warmte") < water_before
    assert _facet_count(browser, "type", "lesson") == lessons
    assert browser.find_element(By.CSS_SELECTOR, '#facet-type input[value="lesson"]').is_selected()
    # the active filter chip removes the filter again
    browser.find_element(By.CSS_SELECTOR, ".chip").click()
    wait(browser, lambda d: "type=lesson" not in d.current_url)
    assert _candidates(browser) == before


def test_search_works_without_javascript(web_url: str, parse: Any) -> None:
    params = {"q": "hittestress en te weinig schaduw", "type": ["lesson", "measure"],
              "theme": "vergroening"}
    response = httpx.get(web_url + "/", params=params, timeout=60)
    assert response.status_code == 200
    page = parse(response.text)
    hits = page.find("li", class_="hit")
    assert hits, "server-rendered results"
    badges = re.findall(r'class="hit-head"><span class="badge"[^>]*>([^<]+)</span>', response.text)
    assert len(badges) == len(hits)
    assert set(badges) <= {"les", "maatregel"}
    # the filters come back checked in the GET form, so the URL is the shareable state
    checked = {(a["name"], a["value"]) for a in page.find("input", type="checkbox")
               if "checked" in a}
    assert checked == {("type", "lesson"), ("type", "measure"), ("theme", "vergroening")}
    assert page.find("form", method="get", action="/")
    assert page.find("button", type="submit")


def test_unknown_filter_value_is_explained(web_url: str, parse: Any) -> None:
    response = httpx.get(web_url + "/", params={"q": "renovatie", "municipality": "Atlantis"},
                         timeout=60)
    assert response.status_code == 400
    assert 'role="alert"' in response.text and "Atlantis" in response.text


def test_browse_by_filter_without_question(web_url: str, parse: Any) -> None:
    response = httpx.get(web_url + "/", params={"theme": "water", "type": "breakthrough"},
                         timeout=60)
    assert response.status_code == 200
    page = parse(response.text)
    found = re.search(r"(\d+) items met deze filters", response.text)
    assert found
    count = int(found.group(1))
    assert count > 0
    assert len(page.find("li", class_="hit")) == min(count, 10)


def test_answer_card_and_filter_suggestions(browser: Any, web_url: str, wait: Any) -> None:
    """A "hoe hebben anderen …" question gets the graph's answer above the hits, and what the
    question names is offered as a filter, not applied."""
    question = "hoe hebben anderen collectieve renovatie gefinancierd in Gent?"
    browser.get(web_url + "/?" + urlencode({"q": question}))
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".hit"))
    card = browser.find_element(By.CSS_SELECTOR, ".answer-card")
    assert card.find_element(By.TAG_NAME, "h2").text == "Wat anderen deden"
    thresholds = card.find_elements(By.CSS_SELECTOR, ".answer-threshold")
    assert thresholds
    statuses = {t.get_attribute("data-status") for t in thresholds}
    assert statuses <= {"overwonnen", "deels", "open"}
    # every link on the card leads to a page of the site
    for a in card.find_elements(By.TAG_NAME, "a")[:5]:
        assert a.get_attribute("href").startswith(web_url)
    candidates = _candidates(browser)
    suggestion = browser.find_element(By.CSS_SELECTOR, "#suggesties")
    assert "Bedoelt u" in suggestion.text and "gemeente Gent" in suggestion.text
    link = next(a for a in suggestion.find_elements(By.TAG_NAME, "a")
                if a.text == "gemeente Gent")
    link.click()
    wait(browser, lambda d: "municipality=" in d.current_url)
    assert _candidates(browser) < candidates  # chosen now, so it filters
