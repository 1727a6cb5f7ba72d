"""The SPARQL editor page (YASGUI against this server's /sparql) and its example queries."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By

from api.sparql.examples import EXAMPLES

pytestmark = pytest.mark.browser
QUERY = """PREFIX wk: <https://w3id.org/100wijken/ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?drempel ?titel WHERE { ?drempel a wk:Threshold ; rdfs:label ?titel } LIMIT 7"""


def test_editor_runs_a_query(browser: Any, web_url: str, wait: Any) -> None:
    browser.get(web_url + "/editor")
    wait(browser, lambda d: d.execute_script("return !!window.wijkenYasgui"))
    endpoint = browser.execute_script("return window.wijkenYasgui.getTab().getEndpoint()")
    assert endpoint == web_url + "/sparql"
    browser.execute_script("window.wijkenYasgui.getTab().setQuery(arguments[0])", QUERY)
    browser.find_element(By.CSS_SELECTOR, ".yasqe_queryButton").click()
    rows = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".yasr table tbody tr"))
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".yasr table tbody tr")) == 7)
    assert rows
    headers = browser.find_element(By.CSS_SELECTOR, ".yasr table thead").text
    assert "drempel" in headers and "titel" in headers


def test_example_buttons_load_queries(browser: Any, web_url: str, wait: Any) -> None:
    browser.get(web_url + "/editor")
    wait(browser, lambda d: d.execute_script("return !!window.wijkenYasgui"))
    example = EXAMPLES[1]
    browser.find_element(By.CSS_SELECTOR, f'button[data-example="{example.key}"]').click()
    assert browser.execute_script("return window.wijkenYasgui.getTab().getQuery()") \
        == example.query
    assert "wk:similarity" in example.query


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.key for e in EXAMPLES])
def test_every_example_query_answers(web_url: str, example: Any) -> None:
    response = httpx.post(web_url + "/sparql", data={"query": example.query}, timeout=60,
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    assert response.json()["results"]["bindings"], example.key


def test_editor_page_ships_its_assets(web_url: str) -> None:
    page = httpx.get(web_url + "/editor", timeout=60)
    assert page.status_code == 200
    assert 'data-endpoint="/sparql"' in page.text
    assert "/static/vendor/yasgui.min.js" in page.text
    assert httpx.get(web_url + "/static/vendor/yasgui.min.js", timeout=60).status_code == 200
