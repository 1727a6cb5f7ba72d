"""The whole harvest in a real browser, on its own server over a copy of the sample corpus: a
practitioner contributes through the form (with near-duplicate hints while typing), a curator
signs in, approves it and rejects another, the approved record is found in search and shows its
status on its page, the receipts show the statuses; script payloads in every field never run."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from kg.settings import Settings
from tests.conftest import free_port, running

pytestmark = pytest.mark.browser
TOKEN = "curator-" + uuid.uuid4().hex
# Each field gets markup that would set window.__xss if it ever ran.
PAYLOAD = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


@pytest.fixture(scope="module")
def site(sample_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from api.app import create_app

    data_dir = tmp_path_factory.mktemp("harvest-web") / "data"
    shutil.copytree(sample_data_dir, data_dir)
    port = free_port()
    app = create_app(Settings(data_dir=data_dir, threads=1, curator_token=TOKEN,
                              public_url=f"http://127.0.0.1:{port}"))
    with running(app, port, startup_seconds=120) as url:
        yield url


def no_script_ran(browser: Any) -> None:
    assert browser.execute_script("return window.__xss === undefined"), "a payload ran"


def contribute(browser: Any, site: str, wait: Any, title: str, *, kind: str = "les") -> str:
    browser.get(site + "/bijdragen")
    browser.find_element(By.XPATH, f"//label[normalize-space()='{kind}']/input").click()
    browser.find_element(By.ID, "b-title").send_keys(title)
    browser.find_element(By.ID, "b-text").send_keys("Wat we leerden " + PAYLOAD)
    browser.find_element(By.CSS_SELECTOR, "input[name=themes][value=energiegemeenschap]").click()
    Select(browser.find_element(By.ID, "b-thresholds")).select_by_value(
        "drempel-energiedelen-meters")
    browser.find_element(By.ID, "b-municipality").send_keys("Temse")
    browser.find_element(By.ID, "b-organisation").send_keys("Gemeente Temse " + PAYLOAD)
    browser.find_element(By.ID, "b-email").send_keys("an@temse.example")
    browser.find_element(By.CSS_SELECTOR, "#bijdrage-formulier button[type=submit]").click()
    wait(browser, lambda d: "/bijdragen/b-" in d.current_url)
    return str(browser.current_url).rsplit("/", 1)[1]


def test_contribute_review_approve_reject_and_find(browser: Any, site: str, wait: Any) -> None:
    word = "wijkbatterij" + uuid.uuid4().hex[:5]
    # Near-duplicates while typing (JavaScript): existing lessons like the title.
    browser.get(site + "/bijdragen")
    browser.find_element(By.ID, "b-title").send_keys("Een buurtbatterij in de wijk")
    hint = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#b-duplicates li a"))
    assert "Lijkt dit op een bestaande les?" in browser.find_element(By.ID, "b-duplicates").text
    assert "/id/lesson/" in hint[0].get_attribute("href")

    approved = contribute(browser, site, wait, f"De {word} als leerproject " + PAYLOAD)
    assert "ingediend" in browser.find_element(By.CSS_SELECTOR, ".receipt-status").text
    assert PAYLOAD in browser.find_element(By.TAG_NAME, "main").text  # shown as text
    no_script_ran(browser)
    rejected = contribute(browser, site, wait, f"Nog een {word}", kind="drempel")

    # The curator signs in and sees both in the queue, the payloads as text.
    browser.get(site + "/curatie")
    browser.find_element(By.ID, "c-name").send_keys("Curator An")
    browser.find_element(By.ID, "c-token").send_keys(TOKEN)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "article.review"))
    ids = [a.get_attribute("data-id") for a in browser.find_elements(
        By.CSS_SELECTOR, "article.review")]
    assert approved in ids and rejected in ids
    no_script_ran(browser)
    article = browser.find_element(By.ID, f"r-{approved}")
    assert "Lijkt op" in article.text  # near-duplicates for the curator
    article.find_element(By.XPATH, ".//button[normalize-space()='Goedkeuren']").click()
    wait(browser, lambda d: "gedaan=" in d.current_url)
    assert "goedgekeurd" in browser.find_element(By.CSS_SELECTOR, ".notice").text
    article = browser.find_element(By.ID, f"r-{rejected}")
    article.find_element(By.CSS_SELECTOR, "input[name=reason]").send_keys(
        "Dubbel met een bestaande drempel")
    article.find_element(By.XPATH, ".//button[normalize-space()='Afwijzen']").click()
    wait(browser, lambda d: "afgewezen" in d.find_element(By.CSS_SELECTOR, ".notice").text)
    assert not browser.find_elements(By.CSS_SELECTOR, "article.review")
    recent = browser.find_element(By.ID, "recent").text
    assert "gevalideerd" in recent and "afgewezen" in recent

    # The approved record is found in search and shows its status on its page.
    browser.get(site + f"/?q={word}")
    first = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".hit h2 a, .hit h3 a"))
    assert word in first[0].text
    first[0].click()
    wait(browser, lambda d: "/id/lesson/" in d.current_url)
    assert "gevalideerd" in browser.find_element(By.CSS_SELECTOR, ".item-head").text
    no_script_ran(browser)

    # The receipts show the outcome.
    browser.get(site + f"/bijdragen/{rejected}")
    text = browser.find_element(By.TAG_NAME, "main").text
    assert "afgewezen" in text and "Dubbel met een bestaande drempel" in text
    browser.get(site + f"/bijdragen/{approved}")
    link = browser.find_element(By.CSS_SELECTOR, ".receipt-status a")
    assert "/id/lesson/" in link.get_attribute("href")
    no_script_ran(browser)


def test_the_form_keeps_values_and_lists_problems(browser: Any, site: str, wait: Any) -> None:
    browser.get(site + "/bijdragen")
    browser.find_element(By.ID, "b-title").send_keys("Zonder organisatie")
    browser.find_element(By.CSS_SELECTOR, "#bijdrage-formulier button[type=submit]").click()
    alert = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#problemen"))[0]
    assert "organisation" in alert.text
    assert browser.find_element(By.ID, "b-title").get_attribute("value") == "Zonder organisatie"


def test_a_wrong_curator_token_is_refused(browser: Any, site: str, wait: Any) -> None:
    browser.delete_all_cookies()
    browser.get(site + "/curatie")
    browser.find_element(By.ID, "c-token").send_keys("fout")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    alert = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "[role=alert]"))
    assert "geen toegang" in alert[0].text
    assert not browser.find_elements(By.CSS_SELECTOR, "article.review")


def test_a_curator_merges_a_contribution_into_an_existing_record(browser: Any, site: str,
                                                                 wait: Any) -> None:
    word = "buurtbatterij" + uuid.uuid4().hex[:5]
    cid = contribute(browser, site, wait, f"Een {word} is eerst een leerproject")
    browser.delete_all_cookies()
    browser.get(site + "/curatie")
    browser.find_element(By.ID, "c-token").send_keys(TOKEN)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    article = wait(browser, lambda d: d.find_elements(By.ID, f"r-{cid}"))[0]
    into = article.find_element(By.CSS_SELECTOR, "input[name=into]").get_attribute("value")
    assert into, "the nearest existing record is offered"
    article.find_element(By.XPATH, ".//button[normalize-space()='Samenvoegen']").click()
    wait(browser, lambda d: "samengevoegd" in d.find_element(By.CSS_SELECTOR, ".notice").text)
    browser.get(site + f"/bijdragen/{cid}")
    status = browser.find_element(By.CSS_SELECTOR, ".receipt-status")
    assert "Samengevoegd" in status.text
    status.find_element(By.TAG_NAME, "a").click()
    wait(browser, lambda d: d.current_url.endswith("/" + into))
    assert word in browser.find_element(By.TAG_NAME, "main").text  # the editorial note
    no_script_ran(browser)
