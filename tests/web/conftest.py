"""A real server and a real headless Chromium for the web interface tests.

The server is built like `wijken serve` builds it (`create_app(settings)`, the lifespan opens
the store) over a copy of the session's ingested sample corpus, on a free loopback port. The
browser is Debian's `chromium` driven through its `chromium-driver` by Selenium; when either is
missing the browser tests fail with the install command, they never skip.
"""

from __future__ import annotations

import os

for _var, _value in {"OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE",
                     "SE_AVOID_STATS": "true"}.items():
    os.environ.setdefault(_var, _value)

import shutil  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from html.parser import HTMLParser  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

from tests.conftest import free_port, running  # noqa: E402

CHROME_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync")
INSTALL_HINT = "install them with `apt-get install -y chromium chromium-driver` (as root)"
WAIT = 60  # seconds; the first search loads the embedding model


class Page(HTMLParser):
    """A parsed HTML page: every start tag with its attributes, and the text per element id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self._open: list[str] = []
        self.text: dict[str, str] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self.tags.append((tag, attributes))
        if "id" in attributes and tag not in ("input", "br", "meta", "link", "img"):
            self._open.append(attributes["id"])
            self.text.setdefault(attributes["id"], "")

    def handle_data(self, data: str) -> None:
        for element_id in self._open:
            self.text[element_id] += data

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        """Start tags named `tag` whose attributes contain `attrs` (`class_` for class)."""
        wanted = {k.rstrip("_"): v for k, v in attrs.items()}
        return [a for t, a in self.tags if t == tag and all(
            v in a.get(k, "").split() if k == "class" else a.get(k) == v
            for k, v in wanted.items())]


@pytest.fixture(scope="session")
def web_url(sample_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a server over a copy of the sample corpus (the server owns the copy)."""
    from api.app import create_app
    from kg.settings import Settings

    data_dir = tmp_path_factory.mktemp("web") / "data"
    shutil.copytree(sample_data_dir, data_dir)
    port = free_port()
    app = create_app(Settings(data_dir=data_dir, threads=1, public_url=f"http://127.0.0.1:{port}"))
    with running(app, port, startup_seconds=120) as url:
        yield url


def _binary(name: str) -> str:
    found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists()
                                   else None)
    if found is None:
        pytest.fail(f"`{name}` is not installed: the browser tests need Chromium; {INSTALL_HINT}",
                    pytrace=False)
    return found


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Chromium with a fresh profile, driven by the system chromedriver."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("selenium is not installed: `pip install -e .[test]`", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = _binary("chromium")
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.add_argument("--window-size=1280,1000")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # console, CSP reports
    driver = webdriver.Chrome(options=options,
                              service=Service(executable_path=_binary("chromedriver")))
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver: Any, condition: Any, timeout: float = WAIT) -> Any:
    """Wait until `condition(driver)` is truthy and return it."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


@pytest.fixture(scope="session")
def wait() -> Any:
    """`wait(driver, condition)`: the tests' explicit wait."""
    return wait_for


@pytest.fixture(scope="session")
def parse() -> Any:
    """`parse(html)` -> `Page`, for the tests that read pages without a browser."""
    return Page

