"""The web interface under its Content-Security-Policy: templates that cannot bypass the link
policy or need inline script, and every page (YASGUI, the cytoscape graph, Swagger UI at /docs)
working in headless Chromium without a single CSP violation or request to another host."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By

from api.security import CONTENT_SECURITY_POLICY, VENDOR_INLINE_STYLES
from api.web.templating import KINDS, STATIC_DIR, TEMPLATES_DIR

TEMPLATES = sorted(TEMPLATES_DIR.glob("*.html"))
OWN_SCRIPTS = sorted(STATIC_DIR.glob("*.js"))
URL_ATTRIBUTE = re.compile(r"""\s(href|src|action|formaction)\s*=\s*(["'])(.*?)\2""", re.DOTALL)
# Collects CSP violations in every page before its own scripts run.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(
  e.effectiveDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber));
"""


@pytest.mark.parametrize("template", TEMPLATES, ids=[t.name for t in TEMPLATES])
def test_templates_link_urls_only_through_the_policy(template: Path) -> None:
    # A URL from data goes through `link()` (api/web/templating.py); a template may interpolate
    # only after a literal path of this site (`/?theme={{ … }}`, `/id/concept/thema/{{ … }}`).
    source = template.read_text(encoding="utf-8")
    for attribute, _, value in URL_ATTRIBUTE.findall(source):
        if "{{" in value or "{%" in value:
            prefix = re.split(r"\{[{%]", value, maxsplit=1)[0]
            assert re.match(r"/[^/\\{]|[?#]", prefix), (template.name, attribute, value)
    assert "javascript:" not in source.lower()
    assert "|safe" not in source.replace(" ", "")


@pytest.mark.parametrize("template", TEMPLATES, ids=[t.name for t in TEMPLATES])
def test_templates_have_no_inline_script_or_style(template: Path) -> None:
    source = template.read_text(encoding="utf-8")
    for tag in re.findall(r"<script\b[^>]*>", source):
        assert "src=" in tag or 'type="application/json"' in tag, (template.name, tag)
    assert not re.search(r"""\son[a-z]+\s*=\s*["']""", source), template.name
    assert not re.search(r"""\sstyle\s*=""", source), template.name
    assert "<style" not in source, template.name


@pytest.mark.parametrize("script", OWN_SCRIPTS, ids=[s.name for s in OWN_SCRIPTS])
def test_own_scripts_build_no_code_or_markup_from_strings(script: Path) -> None:
    source = script.read_text(encoding="utf-8")
    for construct in ("eval(", "new Function", "innerHTML", "outerHTML", "document.write",
                      "setAttribute(\"style\"", "insertAdjacentHTML"):
        assert construct not in source, (script.name, construct)


def test_kind_colour_classes_match_the_kinds() -> None:
    css = (STATIC_DIR / "wijken.css").read_text(encoding="utf-8")
    classes = dict(re.findall(r'\[data-kind="([a-z]+)"\] \{ --kind: (#[0-9a-f]{6}); \}', css))
    assert classes == {kind: colour for kind, (_, colour) in KINDS.items()}


def test_allowed_inline_styles_are_the_vendored_libraries() -> None:
    # Each hash in style-src stands for a <style> a vendored library inserts; after an update
    # of the library this fails instead of the page silently losing its styles.
    vendor = STATIC_DIR / "vendor"
    yasgui = (vendor / "yasgui.min.js").read_text(encoding="utf-8")
    cytoscape = (vendor / "cytoscape.min.js").read_text(encoding="utf-8")
    container, grips, drag_cursor = VENDOR_INLINE_STYLES
    assert grips in yasgui
    assert "*{cursor:`+n.opt.dragCursor+`!important}" in yasgui
    assert "dragCursor:`col-resize`" in yasgui and drag_cursor == "*{cursor:col-resize!important}"
    assert 's="__________cytoscape_container"' in cytoscape
    assert '"."+s+" { position: relative; }"' in cytoscape
    assert container == ".__________cytoscape_container { position: relative; }"
    assert CONTENT_SECURITY_POLICY.count("'sha256-") == len(VENDOR_INLINE_STYLES)


def test_docs_page_is_served_from_the_package(web_url: str) -> None:
    page = httpx.get(web_url + "/docs", timeout=60)
    assert page.status_code == 200
    assert "/static/vendor/swagger-ui-bundle.js" in page.text
    assert "/static/api-docs.js" in page.text
    assert "cdn" not in page.text.lower() and "<script>" not in page.text
    assert httpx.get(web_url + "/redoc", timeout=60).status_code == 404
    for asset in ("vendor/swagger-ui-bundle.js", "vendor/swagger-ui.css", "api-docs.js"):
        assert httpx.get(f"{web_url}/static/{asset}", timeout=60).status_code == 200


@pytest.fixture(scope="module")
def csp_browser(browser: Any) -> Any:
    """The session's browser, collecting CSP violations in every page it opens from now on."""
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_LISTENER})
    return browser


def _problems(driver: Any) -> list[str]:
    """CSP violations of the current page, and CSP messages or errors in the console (but the
    status of the page itself: the 404 page is a 404)."""
    violations: list[str] = driver.execute_script("return window.__cspViolations || []")
    own_status = driver.current_url + " - Failed to load resource"
    console = [entry["message"] for entry in driver.get_log("browser")
               if (entry["level"] == "SEVERE" and not entry["message"].startswith(own_status))
               or "Content Security Policy" in entry["message"]]
    return violations + console


def _ready(driver: Any, wait: Any, path: str) -> None:
    if path.startswith("/id/") and "concept" not in path:
        wait(driver, lambda d: d.execute_script("return !!window.wijkenGraph"))
    elif path == "/editor":  # with a result table: YASGUI's column resizer inserts its styles
        wait(driver, lambda d: d.execute_script("return !!window.wijkenYasgui"))
        driver.execute_script("window.wijkenYasgui.getTab().query()")
        wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".yasr table tbody tr"))
    elif path == "/docs":
        wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock"))


@pytest.mark.parametrize("path", [
    "/",
    "/?q=renovatie+in+een+tuinwijk&theme=renovatie",
    "/id/breakthrough/doorbraak-gedeelde-investering",
    "/id/neighbourhood/mijncite-beringen",
    "/id/concept/thema/water",
    "/overzicht",
    "/editor",
    "/docs",
    "/bestaat-niet",
])
def test_pages_work_without_csp_violations(csp_browser: Any, web_url: str, wait: Any,
                                           path: str) -> None:
    csp_browser.get_log("browser")  # drop what earlier pages logged
    csp_browser.get(web_url + path)
    _ready(csp_browser, wait, path)
    assert _problems(csp_browser) == []
    assert csp_browser.execute_script("return typeof window.__cspViolations") == "object"


def test_docs_render_the_operations_without_other_hosts(csp_browser: Any, web_url: str,
                                                        wait: Any) -> None:
    operations = sum(len(ops) for ops in
                     httpx.get(web_url + "/openapi.json", timeout=60).json()["paths"].values())
    csp_browser.get(web_url + "/docs")
    wait(csp_browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) == operations)
    text = csp_browser.find_element(By.ID, "swagger-ui").text
    assert "/api/search" in text and "/sparql" in text
    resources = csp_browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert any(r.endswith("/static/vendor/swagger-ui-bundle.js") for r in resources)
    assert any(r.endswith("/openapi.json") for r in resources)
    assert all(r.startswith(web_url + "/") for r in resources), resources
    assert _problems(csp_browser) == []


def test_editor_results_link_only_http_iris(csp_browser: Any, web_url: str, wait: Any) -> None:
    query = ("SELECT ?x WHERE { VALUES ?x { <javascript:alert(document.domain)> "
             "<https://www.example.org/ok> } }")
    csp_browser.get(web_url + "/editor")
    wait(csp_browser, lambda d: d.execute_script("return !!window.wijkenYasgui"))
    csp_browser.execute_script("window.wijkenYasgui.getTab().setQuery(arguments[0]);"
                               "window.wijkenYasgui.getTab().query()", query)
    wait(csp_browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".yasr table tbody tr"))
         == 2)
    table = csp_browser.find_element(By.CSS_SELECTOR, ".yasr table tbody")
    assert "javascript:alert(document.domain)" in table.text
    hrefs = [a.get_attribute("href") for a in
             csp_browser.find_elements(By.CSS_SELECTOR, "#yasgui a[href]")]
    assert "https://www.example.org/ok" in hrefs
    assert not [h for h in hrefs if not h.startswith(("http://", "https://"))], hrefs
    assert _problems(csp_browser) == []
