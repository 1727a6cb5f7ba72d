"""Tune the hybrid's weights on the `tune` half of the evaluation set; report the `test` half.

    python scripts/tune_hybrid.py --data-dir wijken-data [--questions data/eval/questions.jsonl]

Each question's retriever runs are computed once per retrieval setting (thesaurus expansion
weight, pseudo-relevance feedback weight); the grid then only re-fuses them
(search.hybrid.fuse is pure), so the search is exhaustive and fast. Only the `tune` half
chooses; the `test` half is reported for the chosen weights and never looked at before.
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import replace
from pathlib import Path

from api.knowledgebase import KnowledgeBase
from search.evaluate import levers, load_questions, ndcg
from search.hybrid import Weights, fuse

Runs = dict[str, list[tuple[str, float]]]


def main() -> None:
    """Grid-search the fusion weights and print the best ones with their scores."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--questions", type=Path, default=Path("data/eval/questions.jsonl"))
    args = parser.parse_args()
    kb = KnowledgeBase(data_dir=args.data_dir, read_only=True)
    engine = kb.search_engine
    docs = engine.documents()
    graph = engine._graph
    questions = load_questions(args.questions)
    understood = {q.qid: engine.understand(q.query) for q in questions}
    allowed = {q.qid: engine.allowed(q.filters) for q in questions}
    expansions, prfs = (0.0, 0.25, 0.4, 0.6), (0.0, 0.3)
    runs: dict[tuple[float, float], dict[str, Runs]] = {}
    for e, p in itertools.product(expansions, prfs):
        w = Weights(expansion=e, prf=p)
        runs[(e, p)] = {q.qid: engine.retrieve(q.query, understood[q.qid], pool=50,
                                               allowed=allowed[q.qid], weights=w)
                        for q in questions}

    def score(weights: Weights, split: str) -> float:
        chosen = runs[(weights.expansion, weights.prf)]
        total, n = 0.0, 0
        for q in questions:
            if split != "all" and q.split != split:
                continue
            u = understood[q.qid]
            ids = allowed[q.qid]
            ranked = [f.id for f in fuse(
                chosen[q.qid], docs, weights=weights, graph=graph, facets=u.facets(),
                intent_types=u.intent.types if u.intent else (),
                allowed=None if ids is None else set(ids))]
            total += ndcg(ranked, q.relevance)
            n += 1
        return total / n if n else 0.0

    grid = itertools.product([0.5, 0.7, 1.0, 1.5], [0.0, 0.1, 0.2, 0.3, 0.4], [0.0, 0.5],
                             [0.0, 0.05], [0.0, 0.05], expansions, prfs)
    results = []
    for bm25, prop, shared, facet, intent, e, p in grid:
        w = Weights(dense=1.0, bm25=bm25, propagation=prop, shared=shared, facet=facet,
                    intent=intent, expansion=e, prf=p)
        results.append((score(w, "tune"), w))
    results.sort(key=lambda r: -r[0])
    print("best on tune (nDCG@10):")
    for s, w in results[:10]:
        print(f"  {s:.4f}  {w}")
    best = results[0][1]
    print(f"\nchosen: {best}")
    for split in ("tune", "test", "all"):
        print(f"  {split}: hybrid nDCG@10 {score(best, split):.4f}")
    print("\neach lever from the chosen weights (tune / test):")
    configs = {**levers(replace(best, dense2=0.0)), "dense only": Weights.single("dense"),
               "bm25 only": Weights.single("bm25")}
    for name, change in configs.items():
        if "second embedding model" not in name:  # no second model's runs here
            print(f"  {name:<48} {score(change, 'tune'):.4f} / {score(change, 'test'):.4f}")


if __name__ == "__main__":
    main()
