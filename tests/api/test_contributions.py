"""The harvest over real HTTP on a copy of the sample corpus (real store, real index): a
contribution stays out of search, SPARQL, exports and the werkboek until a curator approves it;
approving makes it a normal, searchable record with its provenance; rejecting leaves the graph
as it was; curators need their token; bad input is refused whole; a client has an hourly
limit; the contact e-mail is never published; a harvest session's spreadsheet goes in whole or
not at all."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from api.app import create_app
from api.knowledgebase import KnowledgeBase
from ingest.contributions import REVIEW_GRAPH
from kg.settings import Settings
from tests.api.conftest import LiveServer, assert_error
from tests.api.test_cli import wijken
from tests.conftest import free_port, running

TOKEN = "curator-" + uuid.uuid4().hex
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BASE = "https://w3id.org/100wijken/id/"


@pytest.fixture(scope="module")
def harvest(sample_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("harvest") / "data"
    shutil.copytree(sample_data_dir, data_dir)
    port = free_port()
    settings = Settings(data_dir=data_dir, curator_token=TOKEN, contribution_limit=1000,
                        threads=1, public_url=f"http://127.0.0.1:{port}")
    kb = KnowledgeBase.from_settings(settings)
    try:
        with running(create_app(settings, kb=kb), port, startup_seconds=120) as url:
            yield LiveServer(url, settings, kb)
    finally:
        kb.close()


@pytest.fixture(scope="module")
def http(harvest: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=harvest.url, timeout=120) as client:
        yield client


def lesson(word: str, **extra: object) -> dict[str, object]:
    return {"type": "lesson", "title": f"Een {word} in de wijk werkt als de buren meedoen",
            "text": f"Met de {word} leerden we dat buren samen sneller beslissen.",
            "themes": ["energiegemeenschap"], "municipality": "Temse",
            "thresholds": ["drempel-energiedelen-meters"], "organisation": "Gemeente Temse",
            "email": "contact@temse.example", **extra}


def hits(http: httpx.Client, word: str) -> list[str]:
    return [h["id"] for h in http.get("/api/search", params={"q": word, "k": 5}).json()["hits"]]


def ask(harvest: LiveServer, query: str) -> bool:
    r = httpx.get(harvest.sparql, params={"query": query}, timeout=60)
    assert r.status_code == 200, r.text
    return bool(r.json()["boolean"])


def test_a_contribution_waits_outside_the_graph(harvest: LiveServer, http: httpx.Client) -> None:
    word = "zonnedelerij" + uuid.uuid4().hex[:6]
    r = http.post("/api/contributions", json=lesson(word))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "ingediend" and r.headers["location"] == (
        f"/api/contributions/{body['id']}")
    assert body["receipt"] == f"/bijdragen/{body['id']}" and body["record"] is None
    assert http.get(f"/api/contributions/{body['id']}").json()["status"] == "ingediend"
    # Not in search, SPARQL, the export, the item API or the werkboek.
    assert not [h for h in hits(http, word) if h == body["record_id"]]
    assert not ask(harvest, f'ASK {{ ?s ?p ?o FILTER (CONTAINS(STR(?o), "{word}")) }}')
    assert http.get(f"/api/items/{body['record_id']}").status_code == 404
    assert word not in http.get("/werkboek.md").text
    assert word not in harvest.kb.export("nq").decode()
    # The e-mail is kept apart and shown nowhere.
    everything = http.get("/api/contributions", headers=AUTH).text
    assert "contact@temse.example" not in everything and body["id"] in everything
    assert harvest.kb.inbox.contact(body["id"]) == "contact@temse.example"


def test_approving_makes_it_a_searchable_record_with_provenance(harvest: LiveServer,
                                                               http: httpx.Client) -> None:
    word = "buurtmeter" + uuid.uuid4().hex[:6]
    cid = http.post("/api/contributions", json=lesson(word)).json()["id"]
    queue = http.get("/api/contributions", headers=AUTH).json()
    mine = next(c for c in queue if c["id"] == cid)
    assert mine["near_duplicates"] and all(d["id"] for d in mine["near_duplicates"])
    editions_before = len(http.get("/api/werkboek/editions").json())
    r = http.post(f"/api/contributions/{cid}/approve", headers=AUTH,
                  json={"curator": "Curator An", "edits": {"title": f"De {word} werkt"}})
    assert r.status_code == 200, r.text
    record_id = r.json()["record"]["id"]
    # Searchable at once, a normal record with status gevalideerd and the edited title.
    assert record_id in hits(http, word)
    item = http.get(f"/api/items/{record_id}").json()
    assert item["title"] == f"De {word} werkt" and item["status"]["id"] == "gevalideerd"
    receipt = http.get(f"/api/contributions/{cid}").json()
    assert receipt["status"] == "gevalideerd" and receipt["record"] == (
        f"/id/lesson/{record_id}")
    # Provenance: the review used the contribution and generated the record.
    assert ask(harvest, f"""PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX wk: <https://w3id.org/100wijken/ns#>
        ASK {{ GRAPH <{REVIEW_GRAPH}> {{ ?r a prov:Activity ; wk:decision "goedgekeurd" ;
          prov:used <{BASE}bijdrage/{cid}> ; prov:generated <{BASE}lesson/{record_id}> ;
          prov:wasAssociatedWith ?curator ; prov:endedAtTime ?t }} }}""")
    assert not ask(harvest, 'ASK { ?s ?p ?o FILTER (CONTAINS(STR(?o), "contact@temse")) }')
    # A new werkboek edition lists it as new.
    editions = http.get("/api/werkboek/editions").json()
    assert len(editions) > editions_before
    assert any(c["id"] == record_id and c["change"] == "nieuw"
               for e in editions[editions_before:] for c in e["changes"])
    # Once decided, a contribution cannot be decided again.
    assert_error(http.post(f"/api/contributions/{cid}/approve", headers=AUTH), 409)
    assert_error(http.post(f"/api/contributions/{cid}/reject", headers=AUTH,
                           json={"reason": "x"}), 409)


def graph_without_reviews(kb: KnowledgeBase) -> set[str]:
    return {str(q) for q in ox.parse(kb.store.dump(ox.RdfFormat.N_QUADS),
                                     format=ox.RdfFormat.N_QUADS)
            if not (q.graph_name and str(q.graph_name.value) == REVIEW_GRAPH)
            and "graph/generation/" not in str(q.graph_name)}


def test_rejecting_or_a_failed_approval_leaves_the_graph_as_it_was(harvest: LiveServer,
                                                                   http: httpx.Client) -> None:
    word = "dakkoepel" + uuid.uuid4().hex[:6]
    cid = http.post("/api/contributions", json=lesson(word)).json()["id"]
    before = graph_without_reviews(harvest.kb)
    # An approval whose edits the ingest refuses: 422, nothing changes, still ingediend.
    bad = http.post(f"/api/contributions/{cid}/approve", headers=AUTH,
                    json={"edits": {"themes": ["geen-thema"]}})
    assert_error(bad, 422)
    assert "themes" in " ".join(bad.json()["error"]["detail"])
    assert graph_without_reviews(harvest.kb) == before
    assert http.get(f"/api/contributions/{cid}").json()["status"] == "ingediend"
    # Rejecting needs a reason; with one the receipt shows it and the graph gets no record.
    assert_error(http.post(f"/api/contributions/{cid}/reject", headers=AUTH, json={}), 400)
    r = http.post(f"/api/contributions/{cid}/reject", headers=AUTH,
                  json={"reason": "Dubbel met een bestaande les", "curator": "Curator An"})
    assert r.status_code == 200 and r.json()["status"] == "afgewezen"
    receipt = http.get(f"/api/contributions/{cid}").json()
    assert receipt["reason"] == "Dubbel met een bestaande les" and receipt["record"] is None
    assert graph_without_reviews(harvest.kb) == before
    assert ask(harvest, f"""PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX wk: <https://w3id.org/100wijken/ns#>
        ASK {{ ?r wk:decision "afgewezen" ; prov:used <{BASE}bijdrage/{cid}> }}""")


@pytest.mark.parametrize(("change", "field"), [
    ({"themes": ["geen-thema"]}, "themes"), ({"thresholds": ["bestaat-niet"]}, "thresholds"),
    ({"municipality": "Atlantis"}, "municipality"), ({"organisation": ""}, "organisation"),
    ({"type": "actor"}, "type"), ({"id": "drempel-vme-besluitvorming"}, "id"),
    ({"source": "drempel-vme-besluitvorming"}, "source"), ({"date": "2024-13-45"}, "date"),
    ({"email": "geen"}, "email"), ({"text": "x" * 6001}, "text"),
    ({"title": "<script>alert(1)</script>" * 20}, "title"),
])
def test_bad_contributions_are_refused_whole(harvest: LiveServer, http: httpx.Client,
                                             change: dict[str, object], field: str) -> None:
    kept = len(harvest.kb.inbox.all())
    r = http.post("/api/contributions", json=lesson("fout", **change))
    assert_error(r, 422)
    assert any(f": {field}: " in p or p.startswith(f"bijdrage: {field}")
               or f" {field}:" in p for p in r.json()["error"]["detail"]), r.json()
    assert len(harvest.kb.inbox.all()) == kept


def test_bodies_that_are_not_a_contribution(http: httpx.Client) -> None:
    assert_error(http.post("/api/contributions", content=b"{nee", headers={
        "content-type": "application/json"}), 400)
    assert_error(http.post("/api/contributions", content=b"x" * 70_000, headers={
        "content-type": "application/json"}), 413)
    assert_error(http.post("/api/contributions", json=["een", "lijst"]), 422)


def test_curators_need_their_token(http: httpx.Client) -> None:
    r = http.get("/api/contributions")
    assert_error(r, 401)
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert_error(http.get("/api/contributions", headers={"Authorization": "Bearer fout"}), 403)
    assert_error(http.post("/api/contributions/b-0123456789abcdef0123/approve",
                           headers={"Authorization": "Bearer fout"}), 403)
    assert_error(http.post("/api/contributions/b-0123456789abcdef0123/approve", headers=AUTH),
                 404)
    assert_error(http.get("/api/contributions/b-0123456789abcdef0123"), 404)


def test_without_a_curator_token_reviewing_is_off_and_a_client_has_a_limit(
        tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(data_dir=tmp_path / "data", contribution_limit=2,
                        public_url=f"http://127.0.0.1:{port}")
    kb = KnowledgeBase.from_settings(settings)
    try:
        with running(create_app(settings, kb=kb), port) as url, httpx.Client(
                base_url=url, timeout=60) as client:
            one = {"type": "drempel", "title": "x", "organisation": "o"}
            assert_error(client.post("/api/contributions", json=one), 422)  # counts too
            ok = {"type": "threshold", "title": "Een drempel", "organisation": "o"}
            assert client.post("/api/contributions", json=ok).status_code == 201
            limited = client.post("/api/contributions", json=ok)
            assert_error(limited, 429)
            assert_error(client.get("/api/contributions", headers=AUTH), 403)
    finally:
        kb.close()


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found, "the form has a CSRF token"
    return found.group(1)


def test_a_harvest_spreadsheet_goes_in_whole_or_not_at_all(harvest: LiveServer,
                                                          http: httpx.Client) -> None:
    from openpyxl import load_workbook

    template = http.get("/bijdragen/sjabloon.xlsx")
    assert template.status_code == 200
    book = load_workbook(io.BytesIO(template.content))
    sheet = book["Bijdragen"]
    assert [c.value for c in sheet[1]][:3] == ["type", "title", "text"]
    assert sheet.data_validations.dataValidation, "the template has lists to choose from"
    word = "kelderisolatie" + uuid.uuid4().hex[:6]
    sheet.append(["lesson", f"{word}: samen isoleren", "Tekst", "renovatie", "Gent"])
    sheet.append(["threshold", f"{word}: drempel", "Tekst", "geen-thema"])
    out = io.BytesIO()
    book.save(out)
    form = http.get("/bijdragen")
    token = csrf_of(form.text)
    kept = len(harvest.kb.inbox.all())
    files = {"spreadsheet": ("oogst.xlsx", out.getvalue(), "application/vnd.openxmlformats-"
                             "officedocument.spreadsheetml.sheet")}
    bad = http.post("/bijdragen/spreadsheet", data={"csrf": token, "organisation": "Team X"},
                    files=files)
    assert bad.status_code == 422
    problems = re.findall(r"<code>([^<]*)</code>", bad.text)
    assert any(re.match(r"oogst\.xlsx(\[Bijdragen\])?:3: themes: unknown theme", p)
               for p in problems), problems
    assert len(harvest.kb.inbox.all()) == kept
    sheet.delete_rows(3)
    sheet.append(["threshold", f"{word}: drempel", "Tekst", "renovatie|financiering"])
    out = io.BytesIO()
    book.save(out)
    files["spreadsheet"] = ("oogst.xlsx", out.getvalue(), files["spreadsheet"][2])
    good = http.post("/bijdragen/spreadsheet", data={"csrf": token, "organisation": "Team X"},
                     files=files)
    assert good.status_code == 201, good.text[-2000:]
    made = [c for c in harvest.kb.inbox.all() if c.channel == "xlsx"
            and word in str(c.record["title"])]
    assert len(made) == 2 and {c.record_type for c in made} == {"lesson", "threshold"}
    assert all(f"/bijdragen/{c.id}" in good.text for c in made)


def test_forms_need_their_csrf_token(http: httpx.Client) -> None:
    r = http.post("/bijdragen", data={"type": "lesson", "title": "x", "organisation": "o"})
    assert r.status_code == 403
    with httpx.Client(base_url=str(http.base_url), timeout=60) as fresh:
        token = csrf_of(fresh.get("/bijdragen").text)
        fresh.cookies.clear()  # the token without its cookie: refused
        assert fresh.post("/bijdragen", data={"csrf": token, "type": "lesson",
                                              "title": "x", "organisation": "o"}
                          ).status_code == 403
    # The curators' forms need a session.
    assert http.post("/curatie/b-0123456789abcdef0123/goedkeuren",
                     data={"csrf": "0" * 32}).status_code == 403


def test_the_contact_can_be_forgotten_from_the_command_line(harvest: LiveServer,
                                                            http: httpx.Client) -> None:
    cid = http.post("/api/contributions", json=lesson("vergeet")).json()["id"]
    assert harvest.kb.inbox.contact(cid) == "contact@temse.example"
    run = wijken("contributions", "--data-dir", harvest.settings.data_dir,
                 "--forget-contact", cid)
    assert run.code == 0 and "deleted" in run.out, run.err
    assert harvest.kb.inbox.contact(cid) is None
    listed = wijken("contributions", "--data-dir", harvest.settings.data_dir, "--json")
    assert listed.code == 0 and cid in listed.out and "contact@" not in listed.out


def test_merging_supplements_an_existing_record(harvest: LiveServer, http: httpx.Client) -> None:
    word = "meterkast" + uuid.uuid4().hex[:6]
    body = lesson(word, themes=["energiegemeenschap", "participatie"],
                  thresholds=["drempel-energiedelen-meters", "drempel-taal"])
    cid = http.post("/api/contributions", json=body).json()["id"]
    assert_error(http.post(f"/api/contributions/{cid}/merge", headers=AUTH, json={}), 400)
    assert_error(http.post(f"/api/contributions/{cid}/merge", headers=AUTH,
                           json={"into": "bestaat-niet"}), 404)
    assert_error(http.post(f"/api/contributions/{cid}/merge", headers=AUTH,
                           json={"into": "stad-gent"}), 400)  # an actor
    target = "les-b-027"
    r = http.post(f"/api/contributions/{cid}/merge", headers=AUTH,
                  json={"into": target, "curator": "Curator An"})
    assert r.status_code == 200, r.text
    receipt = http.get(f"/api/contributions/{cid}").json()
    assert receipt["status"] == "gevalideerd" and receipt["merged_into"] == target
    assert receipt["record"] == f"/id/lesson/{target}"
    # The record has the proposed links and the text as an editorial note; no new record.
    iri = f"<{BASE}lesson/{target}>"
    assert ask(harvest, f"""PREFIX wk: <https://w3id.org/100wijken/ns#>
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        ASK {{ {iri} wk:addresses <{BASE}threshold/drempel-taal> ;
                     skos:editorialNote ?note FILTER (CONTAINS(?note, "{word}")) }}""")
    assert http.get(f"/api/items/{body_id(receipt)}").status_code == 404
    assert ask(harvest, f"""PREFIX wk: <https://w3id.org/100wijken/ns#>
        PREFIX prov: <http://www.w3.org/ns/prov#>
        ASK {{ ?r wk:decision "samengevoegd" ; wk:mergedInto {iri} ;
                  prov:used <{BASE}bijdrage/{cid}> }}""")
    assert_error(http.post(f"/api/contributions/{cid}/merge", headers=AUTH,
                           json={"into": target}), 409)


def body_id(receipt: dict[str, object]) -> str:
    return str(receipt["record_id"])


def test_curators_can_sign_in_with_a_password(tmp_path: Path) -> None:
    from api.security import hash_password, verify_password

    stored = hash_password("een lang curatorwachtwoord")
    assert verify_password("een lang curatorwachtwoord", stored)
    assert not verify_password("fout", stored)
    assert not verify_password("x", "scrypt$99999999$8$1$AA==$AA==")  # too costly: refused
    assert not verify_password("x", "geen hash")
    port = free_port()
    settings = Settings(data_dir=tmp_path / "data", curator_password_hash=stored,
                        public_url=f"http://127.0.0.1:{port}")
    kb = KnowledgeBase.from_settings(settings)
    try:
        with running(create_app(settings, kb=kb), port) as url, httpx.Client(
                base_url=url, timeout=60) as client:
            token = csrf_of(client.get("/curatie").text)
            wrong = client.post("/curatie/aanmelden", data={"csrf": token, "token": "fout"})
            assert wrong.status_code == 403 and "geen toegang" in wrong.text
            ok = client.post("/curatie/aanmelden", data={
                "csrf": token, "token": "een lang curatorwachtwoord", "name": "An"},
                follow_redirects=True)
            assert ok.status_code == 200 and "te beoordelen" in ok.text
            # The API still wants the token, which this server does not have.
            assert_error(client.get("/api/contributions", headers=AUTH), 403)
    finally:
        kb.close()
    run = subprocess.run([sys.executable, "-m", "api.cli", "curator-password", "--stdin"],
                         input="een lang curatorwachtwoord\n", capture_output=True, text=True,
                         timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert run.returncode == 0, run.stderr
    assert verify_password("een lang curatorwachtwoord", run.stdout.strip())
    short = subprocess.run([sys.executable, "-m", "api.cli", "curator-password", "--stdin"],
                           input="kort\n", capture_output=True, text=True, timeout=120,
                           cwd=Path(__file__).resolve().parents[2])
    assert short.returncode == 2 and "12 characters" in short.stderr
