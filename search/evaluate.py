"""Search evaluation: nDCG@10, Recall@10 and MRR of BM25, dense and hybrid on a labelled set.

A question set is JSON Lines: `{"qid", "query", "kind", "split", "relevance": {id: grade},
"filters": {...}}` with grades 2 (answers it), 1 (partly) and 0 (judged not relevant).
Recall@10 counts items graded ≥ 1; MRR is the reciprocal rank of the first item graded 2.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kg.errors import UserError

if TYPE_CHECKING:
    from search.engine import SearchEngine

MODES = ("bm25", "dense", "hybrid")
CUTOFF = 10


@dataclass(frozen=True)
class Question:
    """One labelled question."""

    qid: str
    query: str
    kind: str
    split: str
    relevance: dict[str, int]
    filters: dict[str, str]


def load_questions(path: Path) -> list[Question]:
    """Read a question set; problems name the line."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            out.append(Question(str(d["qid"]), str(d["query"]), str(d.get("kind", "")),
                                str(d.get("split", "")),
                                {str(k): int(v) for k, v in d["relevance"].items()},
                                {str(k): str(v) for k, v in (d.get("filters") or {}).items()}))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise UserError(f"{path}:{n}: not a question object: {exc}") from exc
    return out


def ndcg(ranked: Sequence[str], relevance: dict[str, int], k: int = CUTOFF) -> float:
    """Normalised discounted cumulative gain at k, with gains 2^grade - 1."""
    dcg = sum((2 ** relevance.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted((g for g in relevance.values() if g > 0), reverse=True)[:k]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked: Sequence[str], relevance: dict[str, int], k: int = CUTOFF) -> float:
    """Share of the items graded ≥ 1 found in the top k."""
    wanted = {d for d, g in relevance.items() if g > 0}
    return len(wanted & set(ranked[:k])) / len(wanted) if wanted else 0.0


def reciprocal_rank(ranked: Sequence[str], relevance: dict[str, int]) -> float:
    """1 / rank of the first item graded 2 (0 when none is ranked)."""
    for i, d in enumerate(ranked, start=1):
        if relevance.get(d, 0) >= 2:
            return 1.0 / i
    return 0.0


def evaluate(engine: SearchEngine, questions: Sequence[Question], *, depth: int = 100
             ) -> dict[str, dict[str, dict[str, float]]]:
    """Metrics per mode and group (`all`, each kind, each split, and kind×split)."""
    per: dict[str, list[tuple[Question, dict[str, float]]]] = {m: [] for m in MODES}
    for q in questions:
        for mode in MODES:
            result = engine.search(q.query, k=min(depth, 100), filters=q.filters, mode=mode)
            ranked = [h.id for h in result.hits]
            per[mode].append((q, {"ndcg@10": ndcg(ranked, q.relevance),
                                  "recall@10": recall(ranked, q.relevance),
                                  "mrr": reciprocal_rank(ranked, q.relevance)}))
    out: dict[str, dict[str, dict[str, float]]] = {}
    for mode, rows in per.items():
        groups: dict[str, list[dict[str, float]]] = {"all": []}
        for q, m in rows:
            for g in ("all", q.kind, f"split:{q.split}", f"{q.kind}/{q.split}"):
                groups.setdefault(g, []).append(m)
        out[mode] = {g: {**{k: sum(m[k] for m in ms) / len(ms) for k in ms[0]}, "n": len(ms)}
                     for g, ms in groups.items()}
    return out


def markdown_table(results: dict[str, dict[str, dict[str, float]]], groups: Sequence[str]
                   ) -> str:
    """A Markdown table: one row per group and mode."""
    lines = ["| questions | n | mode | nDCG@10 | Recall@10 | MRR |",
             "| --- | ---: | --- | ---: | ---: | ---: |"]
    for g in groups:
        for mode in MODES:
            m = results[mode].get(g)
            if m is None:
                continue
            lines.append(f"| {g} | {int(m['n'])} | {mode} | {m['ndcg@10']:.3f} | "
                         f"{m['recall@10']:.3f} | {m['mrr']:.3f} |")
    return "\n".join(lines) + "\n"
