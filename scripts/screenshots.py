"""Screenshots of the main web pages for docs/web.md, taken with headless Chromium.

    python scripts/screenshots.py --url http://127.0.0.1:8000          # a running server
    python scripts/screenshots.py --data-dir wijken-data                # starts its own server
                                                                        # on a copy of the data

Needs Debian's `chromium` and `chromium-driver` and `pip install selenium`. Writes
docs/screenshots/{zoeken,item,drempel,wijk,sparql,overzicht,signalen,wijken,werkboek,
bijdragen,curatie}.png (curatie: only with --data-dir, on the script's own server) (1280 px
wide).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "screenshots"
CHROME_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync")
# name -> (path, what must be on the page before the picture is taken)
PAGES = {
    "zoeken": ("/?q=Hoe+helpen+we+eigenaars+die+hun+renovatie+niet+kunnen+voorfinancieren%3F"
               "&type=lesson&type=breakthrough", ".hit"),
    "item": ("/id/breakthrough/doorbraak-gedeelde-investering", "#graph canvas"),
    "drempel": ("/id/threshold/drempel-warmtenet-businesscase", ".breakthroughs .card"),
    "wijk": ("/id/neighbourhood/mijncite-beringen", "#graph canvas"),
    "sparql": ("/editor", ".yasr table, .yasr .dataTable"),
    "overzicht": ("/overzicht", "svg.bars"),
    "signalen": ("/signalen", "#signals tbody tr"),
    "wijken": ("/wijken", "#wijken tbody tr"),
    "werkboek": ("/werkboek", "article.wb-drempel"),
    "bijdragen": ("/bijdragen", "#bijdrage-formulier"),
}


def browser(user_data_dir: Path, width: int = 1280, height: int = 900):  # type: ignore[no-untyped-def]
    """A headless Chromium driven by Selenium, with the system chromedriver (no downloads)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_AVOID_STATS", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={user_data_dir}")
    options.add_argument(f"--window-size={width},{height}")
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    return webdriver.Chrome(options=options, service=Service(executable_path=driver_path))


@contextmanager
def serve(data_dir: Path) -> Iterator[str]:
    """Serve a copy of `data_dir` with uvicorn on a free loopback port (like `wijken serve`)."""
    import uvicorn

    from api.app import create_app
    from kg.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "data"
        shutil.copytree(data_dir, copy)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        settings = Settings(data_dir=copy, curator_token=CURATOR_TOKEN)
        server = uvicorn.Server(uvicorn.Config(create_app(settings),
                                               host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            if not thread.is_alive():
                raise SystemExit("the server did not start")
            time.sleep(0.1)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(30)


CURATOR_TOKEN = "schermafbeelding"  # the script's own server only
EXAMPLE_CONTRIBUTION = {
    "type": "lesson", "title": "Een buurtbatterij werkt pas als de netbeheerder vroeg meedoet",
    "text": "In de oogstsessie vertelde de gemeente hoe de buurtbatterij maanden vertraging "
            "opliep: de aansluiting werd pas laat aangevraagd.",
    "themes": ["energiegemeenschap"], "municipality": "Temse",
    "thresholds": ["drempel-energiedelen-meters"], "organisation": "Gemeente Temse"}


def shoot_curation(driver: Any, base_url: str, token: str, target: Path) -> bool:
    """The curators' queue with one contribution in it (only on a server with that token)."""
    import httpx
    from selenium.webdriver.common.by import By

    made = httpx.post(base_url + "/api/contributions", json=EXAMPLE_CONTRIBUTION, timeout=60)
    if made.status_code != 201:
        return False
    driver.get(base_url + "/curatie")
    if not driver.find_elements(By.ID, "c-token"):
        return False
    driver.find_element(By.ID, "c-name").send_keys("Curator")
    driver.find_element(By.ID, "c-token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    time.sleep(3.0)  # the near-duplicates come from the search index
    if not driver.find_elements(By.CSS_SELECTOR, "article.review"):
        return False
    driver.save_screenshot(str(target))
    return True


def shoot(base_url: str, out: Path, curator_token: str | None = None) -> list[Path]:
    """Open each page, wait for its main element, run the SPARQL example, save a PNG."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    out.mkdir(parents=True, exist_ok=True)
    saved = []
    with tempfile.TemporaryDirectory() as profile:
        driver = browser(Path(profile))
        try:
            for name, (path, ready) in PAGES.items():
                driver.get(base_url + path)
                wait = WebDriverWait(driver, 60)
                if name == "sparql":
                    wait.until(lambda d: d.execute_script("return !!window.wijkenYasgui"))
                    driver.execute_script("window.wijkenYasgui.getTab().query()")
                wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ready)))
                if name == "zoeken":  # open one explanation
                    driver.execute_script("document.querySelector('.why').open = true")
                driver.execute_script("window.scrollTo(0, 0)")
                time.sleep(1.0)  # layout and fonts settle
                height = driver.execute_script("return document.body.scrollHeight")
                driver.set_window_size(1280, min(max(900, height), 1800))
                time.sleep(0.5)
                target = out / f"{name}.png"
                driver.save_screenshot(str(target))
                driver.set_window_size(1280, 900)
                saved.append(target)
            if curator_token and shoot_curation(driver, base_url, curator_token,
                                                out / "curatie.png"):
                saved.append(out / "curatie.png")
        finally:
            driver.quit()
    return saved


def main() -> None:
    """Take the screenshots from a running server or from a data directory."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--url", help="base URL of a running wijken server")
    source.add_argument("--data-dir", type=Path, help="an ingested and indexed data directory")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if args.url:
        saved = shoot(args.url.rstrip("/"), args.out)
    else:
        sys.path.insert(0, str(REPO))
        with serve(args.data_dir) as url:
            saved = shoot(url, args.out, CURATOR_TOKEN)
    for path in saved:
        print(path)


if __name__ == "__main__":
    main()
