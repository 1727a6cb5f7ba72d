"""Search evaluation: nDCG@10, Recall@10 and MRR of BM25, dense and hybrid on a labelled set,
with bootstrap confidence intervals, and an ablation of the hybrid's levers.

A question set is JSON Lines: `{"qid", "query", "kind", "split", "tags": [...],
"relevance": {id: grade}, "filters": {...}}` with grades 2 (answers it), 1 (partly) and 0
(judged not relevant). Recall@10 counts items graded ≥ 1; MRR is the reciprocal rank of the
first item graded 2.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from kg.errors import UserError
from search.hybrid import Weights

if TYPE_CHECKING:
    from search.engine import SearchEngine

MODES = ("bm25", "dense", "hybrid")
CUTOFF = 10
BOOTSTRAP_SAMPLES = 2000
TRY_PRF = 0.3  # the weights at which the ablation tries levers that are off by default
TRY_INTENT = 0.05


@dataclass(frozen=True)
class Question:
    """One labelled question."""

    qid: str
    query: str
    kind: str
    split: str
    relevance: dict[str, int]
    filters: dict[str, str]
    tags: tuple[str, ...] = field(default=())


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
                                {str(k): str(v) for k, v in (d.get("filters") or {}).items()},
                                tuple(str(t) for t in d.get("tags") or ())))
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


def bootstrap_ci(values: Sequence[float], *, samples: int = BOOTSTRAP_SAMPLES,
                 level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean (seeded: the same every run)."""
    if not values:
        return (0.0, 0.0)
    rng = random.Random(seed)
    n = len(values)
    means = sorted(sum(rng.choices(values, k=n)) / n for _ in range(samples))
    tail = (1.0 - level) / 2
    return (means[int(tail * samples)], means[min(samples - 1, int((1 - tail) * samples))])


def _groups(q: Question) -> list[str]:
    return ["all", q.kind, f"split:{q.split}", f"{q.kind}/{q.split}",
            *(f"tag:{t}" for t in q.tags), *(f"tag:{t}/{q.split}" for t in q.tags)]


def _metrics(ranked: Sequence[str], q: Question) -> dict[str, float]:
    return {"ndcg@10": ndcg(ranked, q.relevance), "recall@10": recall(ranked, q.relevance),
            "mrr": reciprocal_rank(ranked, q.relevance)}


def _aggregate(rows: Sequence[tuple[Question, dict[str, float]]]
               ) -> dict[str, dict[str, float]]:
    groups: dict[str, list[dict[str, float]]] = {"all": []}
    for q, m in rows:
        for g in _groups(q):
            groups.setdefault(g, []).append(m)
    out = {}
    for g, ms in groups.items():
        lo, hi = bootstrap_ci([m["ndcg@10"] for m in ms])
        out[g] = {**{k: sum(m[k] for m in ms) / len(ms) for k in ms[0]}, "n": len(ms),
                  "ndcg_ci_low": lo, "ndcg_ci_high": hi}
    return out


def evaluate(engine: SearchEngine, questions: Sequence[Question], *, depth: int = 100
             ) -> dict[str, dict[str, dict[str, float]]]:
    """Metrics per mode and group (`all`, each kind, split, kind×split, `tag:…`), with a 95 %
    bootstrap interval of nDCG@10."""
    per: dict[str, list[tuple[Question, dict[str, float]]]] = {m: [] for m in MODES}
    for q in questions:
        for mode in MODES:
            result = engine.search(q.query, k=min(depth, 100), filters=q.filters, mode=mode)
            per[mode].append((q, _metrics([h.id for h in result.hits], q)))
    return {mode: _aggregate(rows) for mode, rows in per.items()}


def levers(base: Weights) -> dict[str, Weights]:
    """The ablation's configurations: all levers as configured, each lever off (or, for one
    that is off, on), and plain score fusion without any."""
    plain = replace(base, propagation=0.0, facet=0.0, intent=0.0, expansion=0.0, prf=0.0,
                    dense2=0.0)
    configs = {"hybrid (as configured)": base, "score fusion only": plain}
    # A lever turned on takes its default weight; PRF and the intent boost default to off,
    # so they are tried at the weights the tuning grid tried them at.
    on_ = Weights()
    toggles: dict[str, Callable[[Weights, bool], Weights]] = {
        "graph propagation": lambda w, on: replace(w, propagation=on_.propagation if on else 0.0),
        "query understanding (boosts)": lambda w, on: replace(
            w, facet=on_.facet if on else 0.0, intent=TRY_INTENT if on else 0.0),
        "thesaurus expansion": lambda w, on: replace(w, expansion=on_.expansion if on else 0.0),
        "pseudo-relevance feedback": lambda w, on: replace(w, prf=TRY_PRF if on else 0.0),
        "second embedding model": lambda w, on: replace(w, dense2=on_.dense2 if on else 0.0),
    }
    active = {"graph propagation": base.propagation > 0,
              "query understanding (boosts)": base.facet > 0 or base.intent > 0,
              "thesaurus expansion": base.expansion > 0, "pseudo-relevance feedback": base.prf > 0,
              "second embedding model": base.dense2 > 0}
    for name, toggle in toggles.items():
        on = active[name]
        configs[f"{'without' if on else 'with'} {name}"] = toggle(base, not on)
        configs[f"fusion + {name} only"] = toggle(plain, True)
    return configs


def ablation(engine: SearchEngine, questions: Sequence[Question], *, depth: int = 100
             ) -> dict[str, dict[str, dict[str, float]]]:
    """Hybrid metrics per lever configuration (see :func:`levers`) and group; the second
    embedding model's configurations only when one is configured."""
    out = {}
    for name, weights in levers(engine.weights).items():
        if "second embedding model" in name and engine.embedder2 is None:
            continue
        rows = [(q, _metrics([h.id for h in engine.search(
            q.query, k=min(depth, 100), filters=q.filters, weights=weights).hits], q))
                 for q in questions]
        out[name] = _aggregate(rows)
    return out


def markdown_table(results: dict[str, dict[str, dict[str, float]]], groups: Sequence[str]
                   ) -> str:
    """A Markdown table: one row per group and mode (or configuration)."""
    lines = ["| questions | n | mode | nDCG@10 | 95 % CI | Recall@10 | MRR |",
             "| --- | ---: | --- | ---: | --- | ---: | ---: |"]
    for g in groups:
        for mode, per_group in results.items():
            m = per_group.get(g)
            if m is None:
                continue
            ci = f"{m['ndcg_ci_low']:.3f}–{m['ndcg_ci_high']:.3f}" if "ndcg_ci_low" in m else ""
            lines.append(f"| {g} | {int(m['n'])} | {mode} | {m['ndcg@10']:.3f} | {ci} | "
                         f"{m['recall@10']:.3f} | {m['mrr']:.3f} |")
    return "\n".join(lines) + "\n"


def report_groups(results: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    """The groups worth a table row, in reading order: all, kinds, tags, then the test half."""
    present = set().union(*(set(r) for r in results.values())) if results else set()
    kinds = sorted(g for g in present if "/" not in g and ":" not in g and g != "all")
    tags = sorted(g for g in present if g.startswith("tag:") and "/" not in g)
    test = sorted(g for g in present if g.endswith("/test"))
    return [g for g in ["all", *kinds, *tags, "split:tune", "split:test", *test] if g in present]
