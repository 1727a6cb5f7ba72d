"""Search quality on the sample corpus: hybrid must beat BM25 and dense alone (real model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.knowledgebase import KnowledgeBase
from search.evaluate import evaluate, load_questions

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_hybrid_beats_both_retrievers_on_ndcg(sample_data_dir: Path) -> None:
    kb = KnowledgeBase(data_dir=sample_data_dir, read_only=True)
    try:
        questions = load_questions(REPO / "data" / "eval" / "questions.jsonl")
        assert len(questions) >= 50
        results = evaluate(kb.search_engine, questions)
    finally:
        kb.close()
    for group in ("all", "split:test"):
        hybrid = results["hybrid"][group]["ndcg@10"]
        assert hybrid > results["bm25"][group]["ndcg@10"], group
        assert hybrid > results["dense"][group]["ndcg@10"], group
