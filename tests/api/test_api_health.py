"""`GET /api/health` in every index state (ready, missing, mismatch, stale) and `GET /api/stats`
against SPARQL counts over the same store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.knowledgebase import KnowledgeBase
from ontology.namespaces import sparql_prefixes
from tests.api.conftest import LiveServer, assert_error, running
from tests.conftest import write_behind_the_index


def health(client: httpx.Client) -> dict:  # type: ignore[type-arg]
    response = client.get("/api/health")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_health_without_an_index_is_degraded_not_an_error(live: LiveServer,
                                                          client: httpx.Client) -> None:
    body = health(client)
    assert body["status"] == "degraded"
    assert body["index"]["state"] == "missing"
    assert "wijken reindex" in body["index"]["message"]
    assert body["store"] == {"triples": len(live.kb.store),
                             "generation": live.kb.store.generation, "read_only": False}
    assert body["embedder"]["setting"] == "e5-small"
    assert body["embedder"]["model_id"].startswith("onnx:multilingual-e5-small-int8@")
    # Search itself answers with the domain error, in the one shape.
    error = assert_error(client.get("/api/search", params={"q": "renovatie"}), 409,
                         "index-mismatch")
    assert "reindex" in error["message"]


@pytest.mark.slow
def test_health_of_a_ready_index(sample_live: LiveServer, sample_client: httpx.Client) -> None:
    body = health(sample_client)
    kb = sample_live.kb
    assert body["status"] == "ok"
    index = body["index"]
    assert index["state"] == "ready"
    assert index["generation"] == kb.store.generation
    assert index["model_id"] == body["embedder"]["model_id"]
    assert index["items"] == len(kb.search_engine.documents())
    assert body["store"]["triples"] == len(kb.store) > 1000
    assert body["store"]["read_only"] is True


@pytest.mark.slow
def test_health_of_a_stale_and_a_mismatched_index(sample_data_dir: Path,
                                                  tmp_path: Path) -> None:
    stale = tmp_path / "stale"
    shutil.copytree(sample_data_dir, stale)
    write_behind_the_index(stale)
    mismatch = tmp_path / "mismatch"
    shutil.copytree(sample_data_dir, mismatch)
    config_path = mismatch / "index" / "vectors" / "config.json"
    config = json.loads(config_path.read_text())
    config["model_id"] = "st:een-ander-model"
    config_path.write_text(json.dumps(config))
    for data_dir, state_name, words in ((stale, "stale", "graph state"),
                                        (mismatch, "mismatch", "st:een-ander-model")):
        kb = KnowledgeBase(data_dir=data_dir, read_only=True)
        try:
            with running(create_app(kb=kb)) as url, httpx.Client(base_url=url,
                                                                 timeout=60) as http:
                body = health(http)
                assert body["status"] == "degraded"
                assert body["index"]["state"] == state_name
                assert words in body["index"]["message"]
                assert "wijken reindex" in body["index"]["message"]
                error = assert_error(http.get("/api/search", params={"q": "renovatie"}), 409,
                                     "index-mismatch")
                assert words in error["message"]
        finally:
            kb.close()


@pytest.mark.slow
def test_stats_match_sparql_counts(sample_live: LiveServer, sample_client: httpx.Client) -> None:
    response = sample_client.get("/api/stats")
    assert response.status_code == 200, response.text
    stats = response.json()
    store = sample_live.kb.store
    p = sparql_prefixes()
    lessons = store.select(p + "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a wk:Lesson ; "
                           "dct:identifier ?id }")
    assert stats["types"]["Lesson"] == int(lessons[0]["n"]) > 10
    renovatie = store.select(p + """SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s dct:identifier
        ?id ; dct:subject <https://w3id.org/100wijken/id/concept/thema/renovatie> }""")
    assert stats["themes"]["renovatie"] == int(renovatie[0]["n"]) > 0
    gent = store.select(p + """SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s dct:identifier ?id ;
        wk:municipality <https://data.vlaanderen.be/id/gemeente/44021> }""")
    assert stats["municipalities"]["Gent"] == int(gent[0]["n"]) > 0
    assert list(stats["themes"].values()) == sorted(stats["themes"].values(), reverse=True)
    assert stats["triples"] == len(store)
    assert stats["source_graphs"] >= 5
