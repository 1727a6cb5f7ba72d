"""Basic accessibility checks on every kind of page, in the browser after scripts ran."""

from __future__ import annotations

from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

pytestmark = pytest.mark.browser
PAGES = (
    "/",
    "/?q=renovatie+in+een+tuinwijk&theme=renovatie",
    "/id/breakthrough/doorbraak-gedeelde-investering",
    "/id/threshold/drempel-warmtenet-businesscase",
    "/id/neighbourhood/mijncite-beringen",
    "/id/concept/thema/water",
    "/overzicht",
    "/signalen",
    "/wijken",
    "/werkboek?werf=werf-3",
    "/bijdragen",
    "/curatie",
    "/editor",
)
# Problems on the page: controls without an accessible name, images without text, and so on.
AUDIT = """
const visible = el => el.getClientRects().length > 0
  && getComputedStyle(el).visibility !== 'hidden';
const text = ids => ids.split(/\\s+/).map(id => document.getElementById(id))
  .filter(Boolean).map(e => e.textContent.trim()).join(' ');
const name = el => (el.getAttribute('aria-label') || '').trim()
  || (el.getAttribute('aria-labelledby') ? text(el.getAttribute('aria-labelledby')) : '')
  || [...(el.labels || [])].map(l => l.textContent.trim()).join(' ')
  || (el.getAttribute('title') || '').trim()
  || (['BUTTON', 'A'].includes(el.tagName) ? el.textContent.trim() : '')
  || (el.type === 'submit' || el.type === 'button' ? el.value : '');
const problems = [];
for (const el of document.querySelectorAll('input, select, textarea, button')) {
  if (el.type === 'hidden' || !visible(el)) continue;
  if (!name(el)) problems.push('unlabelled ' + el.tagName + ' ' + el.outerHTML.slice(0, 120));
}
for (const el of document.querySelectorAll('a[href]')) {
  if (visible(el) && !name(el) && !el.querySelector('img[alt]:not([alt=""]), svg title'))
    problems.push('link without text ' + el.outerHTML.slice(0, 120));
}
for (const img of document.querySelectorAll('img')) {
  if (!img.hasAttribute('alt')) problems.push('img without alt ' + img.src);
}
for (const svg of document.querySelectorAll('svg')) {
  const hidden = svg.closest('[aria-hidden=true]') || svg.getAttribute('role') === 'presentation';
  if (!hidden && !svg.querySelector('title') && !svg.getAttribute('aria-label')
      && !svg.getAttribute('aria-labelledby'))
    problems.push('svg without title ' + svg.outerHTML.slice(0, 120));
}
return {
  lang: document.documentElement.lang,
  h1: document.querySelectorAll('h1').length,
  main: document.querySelectorAll('main').length,
  nav: document.querySelectorAll('nav').length,
  title: document.title,
  problems: problems,
};
"""


@pytest.mark.parametrize("path", PAGES)
def test_page_basics(browser: Any, web_url: str, wait: Any, path: str) -> None:
    browser.get(web_url + path)
    if path.startswith("/id/") and "concept" not in path:
        wait(browser, lambda d: d.execute_script("return !!window.wijkenGraph"))
    if path == "/editor":  # audit the editor with a result table in it
        wait(browser, lambda d: d.execute_script("return !!window.wijkenYasgui"))
        browser.execute_script("window.wijkenYasgui.getTab().query()")
        wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".yasr table tbody tr"))
    report = browser.execute_script(AUDIT)
    assert report["lang"] == "nl"
    assert report["h1"] == 1
    assert report["main"] == 1 and report["nav"] >= 1
    assert "100 WIJKEN" in report["title"]
    assert report["problems"] == []


def test_keyboard_skip_link_and_focus_style(browser: Any, web_url: str, wait: Any) -> None:
    browser.get(web_url + "/?q=warmtenet")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    active = browser.switch_to.active_element
    assert active.text == "Ga naar de inhoud" and active.is_displayed()
    outline = browser.execute_script(
        "return getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")
    active.send_keys(Keys.ENTER)
    assert browser.current_url.endswith("#inhoud")
    # the facets are reachable and operable by keyboard
    box = browser.find_element(By.CSS_SELECTOR, '#facet-type input[value="measure"]')
    box.send_keys(Keys.SPACE)
    wait(browser, lambda d: "type=measure" in d.current_url)


def test_badge_colours_meet_contrast_aa() -> None:
    from api.web.templating import KINDS

    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    for kind, (_, colour) in KINDS.items():
        ratio = (1.05) / (luminance(colour) + 0.05)  # white text on the badge colour
        assert ratio >= 4.5, (kind, colour, round(ratio, 2))
