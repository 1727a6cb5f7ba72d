"""New reference data (an upgraded package) is loaded on open and the search index follows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api import knowledgebase
from api.knowledgebase import KnowledgeBase

RECORDS = [
    {"id": "drempel-vme", "type": "threshold", "title": "Besluitvorming in de VME",
     "themes": ["renovatie"]},
    {"id": "les-vme", "type": "lesson", "title": "Een modelbesluit helpt de VME beslissen",
     "text": "Met een modelbesluit stemden de mede-eigenaars sneller.",
     "thresholds": ["drempel-vme"], "themes": ["renovatie"]},
]


@pytest.mark.slow
def test_new_reference_data_keeps_the_index_fresh(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "r.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in RECORDS), encoding="utf-8")
    kb = KnowledgeBase(data_dir=tmp_path / "d")
    kb.ingest([corpus])
    generation = kb.store.generation
    kb.close()

    real = knowledgebase._reference_sources

    def upgraded() -> dict:
        return {iri: (digest + "-next", build) for iri, (digest, build) in real().items()}

    monkeypatch.setattr(knowledgebase, "_reference_sources", upgraded)
    kb = KnowledgeBase(data_dir=tmp_path / "d")
    try:
        assert kb.store.generation > generation  # the reference graphs were rewritten
        hits = kb.search("mede-eigenaars die niet meestemmen", k=2).hits  # not stale
        assert {h.id for h in hits} == {"les-vme", "drempel-vme"}
    finally:
        kb.close()
