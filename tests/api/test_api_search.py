"""`GET /api/search` and `POST /api/search/batch` on the sample corpus with the real embedder:
the same payload as `wijken search --json`, filters that narrow, parameter validation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import LiveServer, assert_error

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
QUESTION = "Hoe helpen we eigenaars die hun renovatie niet kunnen voorfinancieren?"


def cli_search(data_dir: Path, *args: str) -> dict:  # type: ignore[type-arg]
    """`wijken search … --json` as a user runs it, on the same data directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIJKEN_")}
    env.update(PYTHONPATH=str(REPO), OMP_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE",
               WIJKEN_THREADS="1", WIJKEN_DATA_DIR=str(data_dir))
    proc = subprocess.run([sys.executable, "-m", "api.cli", "search", *args, "--json"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def search(client: httpx.Client, **params: object) -> dict:  # type: ignore[type-arg]
    response = client.get("/api/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_search_equals_the_cli_json(sample_live: LiveServer, sample_client: httpx.Client) -> None:
    data_dir = sample_live.kb.data_dir
    assert data_dir is not None
    http = search(sample_client, q=QUESTION, k=7)
    assert http == cli_search(data_dir, QUESTION, "--k", "7")
    assert len(http["hits"]) == 7 and http["qid"] is None
    filtered = search(sample_client, q=QUESTION, k=5, type="lesson,measure", theme="renovatie")
    assert filtered == cli_search(data_dir, QUESTION, "--k", "5", "--type", "lesson,measure",
                                  "--theme", "renovatie")
    assert filtered["filters"] == {"type": "lesson,measure", "theme": "renovatie"}


def test_filters_narrow(sample_client: httpx.Client) -> None:
    q = "warmtenet in de wijk"
    everything = search(sample_client, q=q, k=30)
    types = {h["type"] for h in everything["hits"]}
    assert len(types) > 1
    only = search(sample_client, q=q, k=30, type="breakthrough")
    assert only["hits"] and {h["type"] for h in only["hits"]} == {"breakthrough"}
    assert only["total_candidates"] < everything["total_candidates"]
    themed = search(sample_client, q=q, k=30, type="breakthrough", theme="water")
    assert all("water" in {t["id"] for t in h["themes"]} for h in themed["hits"])
    assert themed["total_candidates"] < only["total_candidates"]
    # A municipality by name or by NIS code selects the same items.
    gent = search(sample_client, q=q, k=30, municipality="Gent")
    assert gent["hits"]
    assert all(h["municipality"] and h["municipality"]["title"] == "Gent" for h in gent["hits"])
    assert search(sample_client, q=q, k=30, municipality="44021")["hits"] == gent["hits"]
    # Filtering by a neighbourhood or an actor of a hit finds that hit again.
    hit = next(h for h in everything["hits"] if h["neighbourhood"] and h["actors"])
    for name, value in (("neighbourhood", hit["neighbourhood"]["id"]),
                        ("actor", hit["actors"][0]["id"])):
        narrowed = search(sample_client, q=q, k=30, **{name: value})
        assert hit["id"] in {h["id"] for h in narrowed["hits"]}
        assert narrowed["total_candidates"] < everything["total_candidates"]
    nb = search(sample_client, q=q, k=30, neighbourhood=hit["neighbourhood"]["id"])
    assert all(h["neighbourhood"]["id"] == hit["neighbourhood"]["id"] for h in nb["hits"])


@pytest.mark.parametrize(("params", "status", "field"), [
    ({}, 422, "q"),
    ({"q": ""}, 422, "q"),
    ({"q": "x" * 1001}, 422, "q"),
    ({"q": "renovatie", "k": 0}, 422, "k"),
    ({"q": "renovatie", "k": 101}, 422, "k"),
    ({"q": "renovatie", "k": "veel"}, 422, "k"),
])
def test_invalid_parameters(sample_client: httpx.Client, params: dict, status: int,  # type: ignore[type-arg]
                            field: str) -> None:
    error = assert_error(sample_client.get("/api/search", params=params), status,
                         "invalid-request")
    assert [e["loc"] for e in error["detail"]] == [["query", field]]


def test_bad_values_are_400_with_the_known_ones(sample_client: httpx.Client) -> None:
    error = assert_error(sample_client.get("/api/search", params={
        "q": "renovatie", "theme": "renovatie,ruimtevaart"}), 400, "bad-request")
    assert "ruimtevaart" in error["message"] and "vergroening" in error["message"]
    error = assert_error(sample_client.get("/api/search", params={
        "q": "renovatie", "municipality": "Gentt"}), 400, "bad-request")
    assert "Gent" in error["message"]
    assert_error(sample_client.get("/api/search", params={"q": "   "}), 400, "bad-request")
    assert search(sample_client, q="x" * 1000, k=1)["query"] == "x" * 1000


def test_batch_answers_in_order_like_single_searches(sample_client: httpx.Client) -> None:
    queries = [
        {"qid": "a", "query": QUESTION},
        {"qid": "b", "query": "hittestress in de straat", "type": "lesson", "k": 3},
        {"qid": "c", "query": "deelmobiliteit", "filters": {"theme": "mobiliteit"}},
    ]
    response = sample_client.post("/api/search/batch", json={"queries": queries, "k": 4})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["qid"] for r in results] == ["a", "b", "c"]
    assert [len(r["hits"]) for r in results] == [4, 3, 4]
    singles = [search(sample_client, q=QUESTION, k=4),
               search(sample_client, q="hittestress in de straat", type="lesson", k=3),
               search(sample_client, q="deelmobiliteit", theme="mobiliteit", k=4)]
    for batch, single in zip(results, singles, strict=True):
        assert {**batch, "qid": None} == single


def test_batch_validation(sample_client: httpx.Client) -> None:
    many = [{"query": "renovatie"}] * 101
    error = assert_error(sample_client.post("/api/search/batch", json={"queries": many}), 422)
    assert error["detail"][0]["loc"] == ["body", "queries"]
    assert_error(sample_client.post("/api/search/batch", json={"queries": []}), 422)
    assert_error(sample_client.post("/api/search/batch", json={
        "queries": [{"query": "renovatie", "thema": "water"}]}), 422)
    assert_error(sample_client.post("/api/search/batch", content=b"{niet json",
                                    headers={"content-type": "application/json"}), 422)
    error = assert_error(sample_client.post("/api/search/batch", json={"queries": [
        {"qid": "ok", "query": "renovatie"}, {"qid": "fout", "query": "x", "theme": "maan"}]}),
        400, "bad-request")
    assert "question 2" in error["message"] and "'fout'" in error["message"]
    error = assert_error(sample_client.post("/api/search/batch", json={"queries": [
        {"query": "renovatie", "filters": {"thema": "water"}}]}), 400, "bad-request")
    assert "thema" in error["message"]


def test_search_shows_what_it_understood_and_answers_from_the_graph(
        sample_client: httpx.Client) -> None:
    body = search(sample_client, q="hoe hebben anderen de prefinanciering van premies opgelost "
                                  "in Gent?", k=10)
    u = body["understanding"]
    assert u["intent"] == "how"
    assert {"kind": "municipality", "id": "44021", "label": "Gent", "text": "Gent"} in u["named"]
    assert any(e["text"].lower() == "prefinanciering" and e["terms"] for e in u["expansions"])
    assert {"filter": "municipality", "value": "44021"} in [
        {k: s[k] for k in ("filter", "value")} for s in body["suggestions"]]
    # suggestions are not filters: hits come from other municipalities too
    places = {h["municipality"]["id"] for h in body["hits"] if h["municipality"]}
    assert places - {"44021"}
    card = body["answer"]
    assert card and card["thresholds"]
    for t in card["thresholds"]:
        assert t["status"] in {"overwonnen", "deels", "open"}
        assert (t["status"] == "open") == (not t["places"])
        for b in t["breakthroughs"]:
            assert b["iri"].startswith("https://")
    # each hit's graph component names the edge and the strong candidate that lifted it
    for h in body["hits"]:
        g = h["components"]["graph"]
        assert (g["score"] > 0) == (g["source"] is not None) == (g["edge"] is not None)
    # the thesaurus words a hit holds are shown for it
    for h in body["hits"]:
        for syn in h["synonyms"]:
            assert syn["query_word"].lower() == "prefinanciering"
