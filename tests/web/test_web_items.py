"""Record pages: the graph view (drawn, clickable), threshold and neighbourhood pages."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

pytestmark = pytest.mark.browser
BREAKTHROUGH = "/id/breakthrough/doorbraak-gedeelde-investering"
THRESHOLD = "/id/threshold/drempel-warmtenet-businesscase"
NEIGHBOURHOOD = "/id/neighbourhood/mijncite-beringen"


def _graph_ready(driver: Any) -> bool:
    return bool(driver.execute_script("return !!window.wijkenGraph"))


def test_item_page_draws_its_graph(browser: Any, web_url: str, wait: Any) -> None:
    browser.get(web_url + BREAKTHROUGH)
    wait(browser, _graph_ready)
    assert browser.find_elements(By.CSS_SELECTOR, "#graph canvas")
    nodes = browser.execute_script("return window.wijkenGraph.nodes().length")
    edges = browser.execute_script("return window.wijkenGraph.edges().length")
    assert nodes > 1 and edges >= 1
    centre = browser.execute_script(
        "return window.wijkenGraph.nodes('[?center]').map(n => n.data('type'))")
    assert centre == ["breakthrough"]
    # every type in the graph is in the legend
    types = set(browser.execute_script(
        "return window.wijkenGraph.nodes().map(n => n.data('type'))"))
    legend = browser.find_element(By.CSS_SELECTOR, "#graaf ~ .legend, .legend").text
    assert "doorbraak" in legend and "drempel" in legend and len(types) >= 3
    # links grouped by relation, with Dutch labels, and related breakthroughs with why
    side = browser.find_element(By.CSS_SELECTOR, ".item-side").text
    assert "overwint drempel" in side and "gebruikt maatregel" in side
    assert "Verwante doorbraken" in side and "deelt drempel" in side


def test_clicking_a_node_navigates(browser: Any, web_url: str, wait: Any) -> None:
    browser.get(web_url + BREAKTHROUGH)
    wait(browser, _graph_ready)
    holder = browser.find_element(By.ID, "graph")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", holder)
    target = browser.execute_script("""
        const cy = window.wijkenGraph;
        const node = cy.nodes('[!center][type = "threshold"]')[0];
        const p = node.renderedPosition();
        return {x: p.x, y: p.y, href: node.data('href'), w: cy.width(), h: cy.height()};""")
    assert target["href"].startswith("/id/threshold/")
    # a real pointer click on the node's position (offsets are from the element's centre)
    ActionChains(browser).move_to_element_with_offset(
        holder, int(target["x"] - target["w"] / 2), int(target["y"] - target["h"] / 2)
    ).click().perform()
    wait(browser, lambda d: d.current_url == web_url + target["href"])
    assert browser.find_element(By.TAG_NAME, "h1").text


def test_threshold_page_lists_breakthroughs(browser: Any, web_url: str, wait: Any) -> None:
    browser.get(web_url + THRESHOLD)
    section = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=elders]")
    assert "Wie heeft deze drempel elders overwonnen, en hoe" in section.text
    cards = section.find_elements(By.CSS_SELECTOR, ".breakthroughs .card")
    assert len(cards) >= 5
    text = section.text
    for field in ("Maatregelen", "Wijken", "Gemeenten", "Actoren"):
        assert field in text
    link = cards[0].find_element(By.CSS_SELECTOR, "h3 a")
    assert link.get_attribute("href").startswith(web_url + "/id/breakthrough/")


def test_neighbourhood_page_shows_case_and_similar(web_url: str, parse: Any) -> None:
    response = httpx.get(web_url + NEIGHBOURHOOD, headers={"Accept": "text/html"}, timeout=60)
    assert response.status_code == 200
    page = parse(response.text)
    case = page.text["case"]
    assert "pionierscase" in case
    html = response.text
    assert "Lessen" in html and "Maatregelen" in html and "Doorbraken" in html
    assert html.count('href="/id/lesson/') >= 3
    similar = html.split('id="similar"', 1)[1]
    assert "Deelt" in similar and 'href="/id/neighbourhood/' in similar
    assert 'href="/id/threshold/' in similar
    # The drempels the wijk met through its own items' links, most linked first.
    met = html.split('id="met"', 1)[1].split('id="similar"', 1)[0]
    assert met.count('href="/id/threshold/') >= 5 and "hier overwonnen" in met
    assert "via " in met
    timeline = html.split('id="timeline"', 1)[1].split('id="similar"', 1)[0]
    dates = re.findall(r'<time datetime="([0-9-]+)"', timeline)
    assert len(dates) >= 5 and dates == sorted(dates)


def test_a_sample_record_shows_its_status_next_to_the_title(web_url: str, parse: Any) -> None:
    response = httpx.get(web_url + BREAKTHROUGH, headers={"Accept": "text/html"}, timeout=60)
    head = response.text.split('class="item-head"', 1)[1].split("</header>", 1)[0]
    assert parse(response.text).find("span", class_="status", **{"data-status": "voorbeeld"})
    assert "voorbeeld — illustratieve gegevens" in head and head.index("status") < head.index(
        "<h1>")
    item = httpx.get(web_url + "/api/items/doorbraak-gedeelde-investering", timeout=60).json()
    assert (item["status"]["id"], item["status"]["title"]) == ("voorbeeld", "voorbeeld")


def test_other_formats_still_negotiated(web_url: str) -> None:
    turtle = httpx.get(web_url + THRESHOLD, timeout=60)
    assert turtle.headers["content-type"].startswith("text/turtle")
    page = httpx.get(web_url + THRESHOLD, params={"format": "html"}, timeout=60)
    assert page.headers["content-type"].startswith("text/html")
