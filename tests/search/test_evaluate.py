"""Search evaluation (search/evaluate.py): the metrics on hand-computed examples, question-set
parsing with line-numbered errors, and the per-mode, per-group aggregation."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from kg.errors import UserError
from search.evaluate import (
    MODES,
    Question,
    bootstrap_ci,
    evaluate,
    levers,
    load_questions,
    markdown_table,
    ndcg,
    recall,
    reciprocal_rank,
    report_groups,
)
from search.hybrid import Weights

LOG2_3 = math.log2(3)


# -- nDCG -----------------------------------------------------------------------------------

def test_ndcg_with_graded_gains_by_hand() -> None:
    relevance = {"a": 0, "b": 2, "c": 1, "d": 2}
    # DCG: a 0, b (2^2-1)/log2(3), c (2^1-1)/log2(4); ideal: 2, 2, 1 at ranks 1, 2, 3.
    dcg = 3 / LOG2_3 + 1 / 2
    idcg = 3 / 1 + 3 / LOG2_3 + 1 / 2
    assert ndcg(["a", "b", "c"], relevance) == pytest.approx(dcg / idcg)
    assert ndcg(["a", "b", "c"], relevance) == pytest.approx(0.443701, abs=1e-6)


def test_ndcg_is_one_for_the_ideal_order_and_prefers_higher_grades_first() -> None:
    relevance = {"x": 2, "y": 1, "z": 0}
    assert ndcg(["x", "y", "z"], relevance) == pytest.approx(1.0)
    assert ndcg(["x", "y"], relevance) == pytest.approx(1.0)  # grade 0 adds nothing
    swapped = ndcg(["y", "x"], relevance)
    # y first: 1/1 + 3/log2(3); ideal 3/1 + 1/log2(3).
    assert swapped == pytest.approx((1 + 3 / LOG2_3) / (3 + 1 / LOG2_3))
    assert swapped < 1.0


def test_ndcg_cutoff_and_degenerate_cases() -> None:
    relevance = {"hit": 2}
    ranked = [f"n{i}" for i in range(10)] + ["hit"]
    assert ndcg(ranked, relevance) == 0.0  # rank 11 is past the cutoff of 10
    assert ndcg(ranked, relevance, k=11) == pytest.approx(1 / math.log2(12))
    assert ndcg(["a"], {}) == 0.0
    assert ndcg(["a"], {"a": 0, "b": 0}) == 0.0
    assert ndcg([], {"a": 2}) == 0.0


def test_ndcg_ideal_counts_relevant_items_that_were_not_retrieved() -> None:
    relevance = {"a": 1, "b": 1}
    assert ndcg(["a"], relevance) == pytest.approx(1 / (1 + 1 / LOG2_3))


# -- Recall and MRR -------------------------------------------------------------------------

def test_recall_counts_items_graded_one_or_more_within_the_cutoff() -> None:
    relevance = {"a": 0, "b": 2, "c": 1, "d": 2}
    assert recall(["a", "b", "c"], relevance) == pytest.approx(2 / 3)
    assert recall(["a", "b", "c"], relevance, k=2) == pytest.approx(1 / 3)
    assert recall(["b", "c", "d"], relevance) == 1.0
    assert recall(["a"], relevance) == 0.0
    assert recall(["a"], {"a": 0}) == 0.0  # nothing relevant: 0, not a division by zero
    ranked = [f"n{i}" for i in range(10)] + ["b"]
    assert recall(ranked, {"b": 2}) == 0.0


def test_reciprocal_rank_is_of_the_first_item_graded_two() -> None:
    relevance = {"a": 1, "b": 0, "c": 2, "d": 2}
    assert reciprocal_rank(["a", "b", "c", "d"], relevance) == pytest.approx(1 / 3)
    assert reciprocal_rank(["d", "c"], relevance) == 1.0
    assert reciprocal_rank(["a", "b"], relevance) == 0.0  # grade 1 does not count
    assert reciprocal_rank([], relevance) == 0.0


# -- question sets --------------------------------------------------------------------------

def _write(path: Path, lines: list[Any]) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n",
                    encoding="utf-8")
    return path


def test_load_questions_reads_fields_and_skips_blank_lines(tmp_path: Path) -> None:
    path = _write(tmp_path / "q.jsonl", [
        {"qid": 1, "query": "warmtenet in de wijk", "kind": "keyword", "split": "tune",
         "tags": ["how", "filter"],
         "relevance": {"les-1": 2, "drempel-b": "1"}, "filters": {"municipality": 44021}},
        "",
        {"qid": "q2", "query": "renovatie", "relevance": {}},
    ])
    qs = load_questions(path)
    assert qs == [
        Question("1", "warmtenet in de wijk", "keyword", "tune", {"les-1": 2, "drempel-b": 1},
                 {"municipality": "44021"}, ("how", "filter")),
        Question("q2", "renovatie", "", "", {}, {}),
    ]


@pytest.mark.parametrize("bad", [
    "{not json",
    json.dumps({"qid": "x", "relevance": {"a": 2}}),  # no query
    json.dumps({"qid": "x", "query": "q"}),  # no relevance
    json.dumps({"qid": "x", "query": "q", "relevance": {"a": "twee"}}),
    json.dumps({"qid": "x", "query": "q", "relevance": ["a"]}),
    json.dumps(["a list"]),
])
def test_load_questions_errors_name_the_line(tmp_path: Path, bad: str) -> None:
    good = json.dumps({"qid": "ok", "query": "q", "relevance": {"a": 2}})
    path = _write(tmp_path / "q.jsonl", [good, "", bad])
    with pytest.raises(UserError, match=r"q\.jsonl:3: not a question object"):
        load_questions(path)


# -- aggregation ----------------------------------------------------------------------------

class RankingEngine:
    """Answers every question with a fixed ranking per mode and records the calls."""

    def __init__(self, rankings: dict[str, dict[str, list[str]]]) -> None:
        self.rankings = rankings
        self.calls: list[tuple[str, int, dict[str, str], str]] = []

    def search(self, query: str, *, k: int, filters: dict[str, str], mode: str = "hybrid",
               weights: Any = None) -> Any:
        self.calls.append((query, k, filters, mode))
        ids = self.rankings[query][mode][:k]
        return SimpleNamespace(hits=[SimpleNamespace(id=i) for i in ids])


def test_evaluate_averages_per_mode_and_group() -> None:
    q1 = Question("1", "vraag een", "paraphrase", "test", {"a": 2, "b": 1}, {"type": "lesson"},
                  ("how",))
    q2 = Question("2", "vraag twee", "keyword", "test", {"c": 2}, {})
    engine = RankingEngine({
        "vraag een": {"bm25": ["x", "a"], "dense": ["a", "b"], "hybrid": ["a", "b"]},
        "vraag twee": {"bm25": ["c"], "dense": ["y"], "hybrid": ["c", "y"]},
    })
    out = evaluate(engine, [q1, q2], depth=20)
    assert set(out) == set(MODES)
    assert {c[3] for c in engine.calls} == set(MODES) and len(engine.calls) == 6
    assert ("vraag een", 20, {"type": "lesson"}, "hybrid") in engine.calls
    hybrid = out["hybrid"]
    assert set(hybrid) == {"all", "paraphrase", "keyword", "split:test", "paraphrase/test",
                           "keyword/test", "tag:how", "tag:how/test"}
    perfect = {"ndcg@10": 1.0, "recall@10": 1.0, "mrr": 1.0, "n": 2, "ndcg_ci_low": 1.0,
               "ndcg_ci_high": 1.0}
    assert hybrid["all"] == perfect
    assert hybrid["tag:how"]["n"] == 1
    bm25 = out["bm25"]
    # q1 under BM25: a (grade 2) at rank 2, b not found; q2: c at rank 1.
    q1_ndcg = (3 / LOG2_3) / (3 + 1 / LOG2_3)
    assert bm25["paraphrase"]["ndcg@10"] == pytest.approx(q1_ndcg)
    assert bm25["paraphrase"]["recall@10"] == pytest.approx(0.5)
    assert bm25["paraphrase"]["mrr"] == pytest.approx(0.5)
    assert bm25["keyword/test"] == {**perfect, "n": 1}
    # q1 0.53, q2 1.0: the bootstrap interval of the mean spans both
    assert bm25["all"]["ndcg_ci_low"] == pytest.approx(q1_ndcg)
    assert bm25["all"]["ndcg_ci_high"] == 1.0
    assert bm25["all"]["mrr"] == pytest.approx(0.75)
    assert bm25["split:test"]["n"] == 2
    assert out["dense"]["keyword"]["ndcg@10"] == 0.0


def test_evaluate_caps_the_depth_at_the_engine_maximum() -> None:
    q = Question("1", "vraag", "keyword", "tune", {"a": 2}, {})
    engine = RankingEngine({"vraag": {m: ["a"] for m in MODES}})
    evaluate(engine, [q])
    assert {c[1] for c in engine.calls} == {100}


def test_markdown_table_has_a_row_per_group_and_mode() -> None:
    q = Question("1", "vraag", "keyword", "tune", {"a": 2}, {})
    engine = RankingEngine({"vraag": {"bm25": ["a"], "dense": ["b", "a"], "hybrid": ["a"]}})
    table = markdown_table(evaluate(engine, [q]), ["all", "keyword", "paraphrase"])
    lines = table.splitlines()
    assert lines[0] == "| questions | n | mode | nDCG@10 | 95 % CI | Recall@10 | MRR |"
    assert len(lines) == 2 + 2 * len(MODES)  # no rows for the absent group 'paraphrase'
    assert "| all | 1 | bm25 | 1.000 | 1.000–1.000 | 1.000 | 1.000 |" in lines
    assert "| keyword | 1 | dense | 0.631 | 0.631–0.631 | 1.000 | 0.500 |" in lines
    assert table.endswith("\n")


def test_bootstrap_interval_brackets_the_mean_and_is_reproducible() -> None:
    values = [0.0, 0.2, 0.5, 0.9, 1.0, 1.0, 0.3, 0.7]
    lo, hi = bootstrap_ci(values)
    mean = sum(values) / len(values)
    assert lo < mean < hi and lo >= 0.0 and hi <= 1.0
    assert bootstrap_ci(values) == (lo, hi)  # seeded
    wide = bootstrap_ci(values[:3])
    assert wide[1] - wide[0] > 0
    assert bootstrap_ci([0.4] * 5) == (0.4, 0.4)
    assert bootstrap_ci([]) == (0.0, 0.0)


def test_levers_turn_each_lever_off_and_on_alone() -> None:
    base = Weights(propagation=0.2, facet=0.1, intent=0.05, expansion=0.4, prf=0.0)
    configs = levers(base)
    assert configs["hybrid (as configured)"] == base
    plain = configs["score fusion only"]
    assert (plain.propagation, plain.facet, plain.intent, plain.expansion, plain.prf,
            plain.dense2) == (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    assert configs["without graph propagation"].propagation == 0.0
    assert configs["without graph propagation"].expansion == 0.4
    assert configs["with pseudo-relevance feedback"].prf > 0  # off in base: tried on
    assert configs["fusion + thesaurus expansion only"].expansion > 0
    assert configs["fusion + thesaurus expansion only"].propagation == 0.0


def test_report_groups_orders_kinds_tags_and_the_test_half() -> None:
    results = {"hybrid": {g: {} for g in ("keyword", "all", "tag:how", "split:test",
                                           "keyword/test", "tag:how/test", "split:tune")}}
    assert report_groups(results) == ["all", "keyword", "tag:how", "split:tune", "split:test",
                                      "keyword/test", "tag:how/test"]
