"""Every ```sparql block in docs/sparql.md runs against a real server and returns something."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from rdflib import Graph

from tests.api.conftest import LiveServer

DOC = Path(__file__).parents[2] / "docs" / "sparql.md"
BLOCKS = re.findall(r"```sparql\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
ID = "https://w3id.org/100wijken/id/"


def _params() -> list[object]:
    params: list[object] = []
    for n, query in enumerate(BLOCKS):
        if "wk:similarity" in query:
            params.append(pytest.param(query, "indexed", marks=pytest.mark.slow, id=f"block{n}"))
        else:
            params.append(pytest.param(query, "live", id=f"block{n}"))
    return params


def test_the_docs_have_examples() -> None:
    assert len(BLOCKS) >= 6
    assert sum("wk:similarity" in q for q in BLOCKS) >= 2


@pytest.mark.parametrize(("query", "server"), _params())
def test_doc_query_runs(query: str, server: str, request: pytest.FixtureRequest) -> None:
    live = request.getfixturevalue(server)
    response = httpx.post(live.sparql, data={"query": query}, timeout=60)
    assert response.status_code == 200, response.text
    if response.headers["content-type"].startswith("text/turtle"):
        assert len(Graph().parse(data=response.text, format="turtle")) > 0
        return
    doc = response.json()
    if "boolean" in doc:
        assert doc["boolean"] is True
        return
    rows = doc["results"]["bindings"]
    assert rows
    if "wk:similarity" in query:
        scores = [float(r["score"]["value"]) for r in rows]
        assert scores == sorted(scores, reverse=True)
        assert all(-1.0 <= s <= 1.0 for s in scores)


@pytest.mark.slow
def test_similarity_ranks_the_answer_to_the_question_first(indexed: LiveServer) -> None:
    query = next(q for q in BLOCKS if "voorfinancieren" in q)
    response = httpx.post(indexed.sparql, data={"query": query}, timeout=60)
    rows = response.json()["results"]["bindings"]
    assert [r["doorbraak"]["value"] for r in rows] == [
        ID + "breakthrough/renovatiebegeleiding",
        ID + "breakthrough/collectief-renoveren",
    ]
    heat = next(q for q in BLOCKS if "hittestress" in q)
    rows = httpx.post(indexed.sparql, data={"query": heat}, timeout=60).json()["results"][
        "bindings"
    ]
    assert rows[0]["item"]["value"] in (
        ID + "threshold/hitte",
        ID + "breakthrough/groene-speelstraten",
    )
