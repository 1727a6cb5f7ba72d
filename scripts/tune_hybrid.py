"""Tune the hybrid weights on the `tune` half of the evaluation set; report the `test` half.

    python scripts/tune_hybrid.py --data-dir wijken-data [--questions data/eval/questions.jsonl]

The dense and BM25 rankings of every question are computed once; the grid then only re-fuses
them (search.hybrid.fuse is pure), so the search is exhaustive and fast.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from api.knowledgebase import KnowledgeBase
from search.evaluate import load_questions, ndcg, recall, reciprocal_rank
from search.hybrid import Weights, fuse


def main() -> None:
    """Grid-search the fusion weights and print the best ones with their scores."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--questions", type=Path, default=Path("data/eval/questions.jsonl"))
    args = parser.parse_args()
    kb = KnowledgeBase(data_dir=args.data_dir, read_only=True)
    engine = kb.search_engine
    docs = engine.documents()
    questions = load_questions(args.questions)
    runs = []
    for q in questions:
        allowed = engine.allowed(q.filters)
        assert engine._vectors is not None and engine._bm25 is not None
        dense = engine._vectors.search(engine._embed_query(q.query), k=50, allowed=allowed)
        lexical = engine._bm25.search(q.query, k=50, allowed=allowed)
        runs.append((q, dense, lexical))

    def score(weights: Weights, split: str) -> dict[str, float]:
        rows = []
        for q, dense, lexical in runs:
            if split != "all" and q.split != split:
                continue
            ranked = [f.id for f in fuse(dense, lexical, docs, weights=weights)]
            rows.append((ndcg(ranked, q.relevance), recall(ranked, q.relevance),
                         reciprocal_rank(ranked, q.relevance)))
        n = len(rows)
        return {"ndcg@10": sum(r[0] for r in rows) / n, "recall@10": sum(r[1] for r in rows) / n,
                "mrr": sum(r[2] for r in rows) / n}

    grid = itertools.product([0.8, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0], [0.0, 0.025, 0.05, 0.1, 0.2],
                             [3, 5, 10])
    results = []
    for dense_w, graph_w, top in grid:
        w = Weights(dense=dense_w, bm25=1.0, graph=graph_w, graph_top=top)
        results.append((score(w, "tune")["ndcg@10"], w))
    results.sort(key=lambda r: -r[0])
    print("best on tune (nDCG@10):")
    for s, w in results[:8]:
        print(f"  {s:.4f}  {w}")
    best = results[0][1]
    for split in ("tune", "test", "all"):
        print(split, {k: round(v, 4) for k, v in score(best, split).items()})
    print("defaults", {k: round(v, 4) for k, v in score(Weights(), "test").items()})


if __name__ == "__main__":
    main()
