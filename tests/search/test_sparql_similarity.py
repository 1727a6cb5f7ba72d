"""`wk:similarity` against a real search index built with the real Dutch embedder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyoxigraph as ox
import pytest
from rdflib import Graph

from api.knowledgebase import KnowledgeBase
from kg.errors import SearchIndexError
from search.sparql_similarity import XSD_DOUBLE, SimilarityConfig, SimilarityFunction
from search.vectorindex import VectorIndex

RECORDS = Path(__file__).parents[1] / "api" / "records.ttl"
BASE = "https://w3id.org/100wijken/id/"
QUESTION = "Hoe helpen we eigenaars die hun renovatie niet kunnen voorfinancieren?"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    base = KnowledgeBase(data_dir=tmp_path_factory.mktemp("similarity"))
    base.store.replace_graphs({BASE + "graph/fixture": Graph().parse(RECORDS, format="turtle")})
    base.search_engine.sync()
    yield base
    base.close()


@pytest.fixture
def similarity(kb: KnowledgeBase) -> SimilarityFunction:
    assert kb.data_dir is not None
    config = SimilarityConfig(
        index_dir=kb.data_dir / "index" / "vectors", embedder="e5-small", base_iri=BASE
    )
    return SimilarityFunction(config)


def test_score_is_the_cosine_of_the_best_chunk(
    similarity: SimilarityFunction, kb: KnowledgeBase
) -> None:
    assert kb.data_dir is not None
    embedder = kb.search_engine.embedder  # the engine that built the index (the default)
    index = VectorIndex.load(kb.data_dir / "index" / "vectors",
                             expected_model_id=embedder.model_id, expected_dim=embedder.dim)
    query = embedder.embed_queries([QUESTION])[0]
    expected = float((index.vectors_for("renovatiebegeleiding") @ query).max())
    score = similarity.score(BASE + "breakthrough/renovatiebegeleiding", QUESTION)
    assert score == pytest.approx(expected, abs=1e-5)


def test_the_relevant_item_scores_highest(similarity: SimilarityFunction) -> None:
    scores = {
        item: similarity.score(BASE + item, QUESTION)
        for item in (
            "breakthrough/renovatiebegeleiding",
            "breakthrough/groene-speelstraten",
            "threshold/hitte",
            "lesson/vertrouwen",
        )
    }
    assert max(scores, key=lambda k: scores[k] or -1) == "breakthrough/renovatiebegeleiding"
    assert all(s is not None and -1.0 <= s <= 1.0 for s in scores.values())


def test_sparql_call_convention(similarity: SimilarityFunction) -> None:
    item = ox.NamedNode(BASE + "threshold/hitte")
    value = similarity(item, ox.Literal("hitte in de zomer", language="nl"))
    assert isinstance(value, ox.Literal) and value.datatype == XSD_DOUBLE
    assert 0.0 < float(value.value) <= 1.0
    # Not an indexed item, not a literal, an empty text: unbound, not an error.
    assert similarity(ox.NamedNode(BASE + "actor/energiehuis"), ox.Literal("x")) is None
    assert (
        similarity(ox.NamedNode("https://data.vlaanderen.be/id/gemeente/34022"), ox.Literal("x"))
        is None
    )
    assert similarity(item, item) is None
    assert similarity(ox.Literal("x"), ox.Literal("x")) is None
    assert similarity(item, ox.Literal("   ")) is None
    assert similarity.take_error() is None


def test_query_embeddings_are_cached(similarity: SimilarityFunction) -> None:
    calls = []
    similarity.score(BASE + "threshold/hitte", "schaduw")
    embedder = similarity._embedder
    assert embedder is not None
    original = embedder.embed_queries

    def counting(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        return original(texts)

    embedder.embed_queries = counting  # type: ignore[method-assign]
    for item in ("threshold/hitte", "breakthrough/groene-speelstraten", "lesson/vertrouwen"):
        similarity.score(BASE + item, "schaduw")
    assert calls == []
    similarity.score(BASE + "threshold/hitte", "bomen")
    assert calls == [["bomen"]]


def test_a_missing_index_is_reported_not_hidden(tmp_path: Path) -> None:
    config = SimilarityConfig(index_dir=tmp_path / "nothing", embedder="e5-small", base_iri=BASE)
    function = SimilarityFunction(config)
    assert function(ox.NamedNode(BASE + "threshold/hitte"), ox.Literal("x")) is None
    error = function.take_error()
    assert isinstance(error, SearchIndexError)
    assert "wijken reindex" in str(error)
    assert function.take_error() is None


def test_a_replaced_index_is_reloaded(similarity: SimilarityFunction, kb: KnowledgeBase) -> None:
    item = BASE + "lesson/vertrouwen"
    before = similarity.score(item, "aanspreekpunt in de buurt")
    kb.store.update(
        f"""DELETE {{ GRAPH ?g {{ <{item}> <http://purl.org/dc/terms/description> ?d }} }}
            INSERT {{ GRAPH ?g {{ <{item}> <http://purl.org/dc/terms/description>
              "Een fietsenstalling voor de hele straat."@nl }} }}
            WHERE {{ GRAPH ?g {{ <{item}> <http://purl.org/dc/terms/description> ?d }} }}"""
    )
    kb.after_update()
    similarity.refresh()
    after = similarity.score(item, "aanspreekpunt in de buurt")
    assert before is not None and after is not None
    assert after < before
