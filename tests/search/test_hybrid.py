"""Hybrid ranking (search/hybrid.py): RRF arithmetic, fusion order, the graph signal and the
Dutch explanation, on hand-built rankings and documents (no model)."""

from __future__ import annotations

import pytest

from search.documents import Document, Ref
from search.hybrid import RRF_K, Component, Fused, Weights, explain, fuse, rrf


def doc(rid: str, type_: str = "lesson", *, thresholds: tuple[str, ...] = (),
        title: str | None = None) -> Document:
    """A document with the given threshold links; linked titles are derived from the ids."""
    return Document(
        id=rid, type=type_, iri=f"https://w3id.org/100wijken/id/{type_}/{rid}",
        title=title or f"Titel van {rid}", text="",
        thresholds=[Ref(t, f"Drempel {t}") for t in thresholds])


PLAIN = Weights(dense=1.0, bm25=1.0, graph=0.0)  # unweighted RRF, no graph signal


def scores(fused: list[Fused]) -> dict[str, float]:
    return {f.id: f.score for f in fused}


# -- RRF arithmetic -------------------------------------------------------------------------

def test_rrf_is_one_over_k_plus_rank() -> None:
    assert RRF_K == 60
    assert rrf(1) == pytest.approx(1 / 61)
    assert rrf(10) == pytest.approx(1 / 70)
    assert rrf(1) > rrf(2) > rrf(100) > 0


def test_fuse_sums_reciprocal_ranks_of_both_rankings() -> None:
    docs = {d: doc(d) for d in "abc"}
    fused = fuse([("a", 0.9), ("b", 0.8)], [("b", 7.0), ("c", 3.0)], docs, weights=PLAIN)
    assert [f.id for f in fused] == ["b", "a", "c"]
    s = scores(fused)
    assert s["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert s["a"] == pytest.approx(1 / 61)
    assert s["c"] == pytest.approx(1 / 62)
    b = fused[0]
    assert b.dense == Component(2, 0.8) and b.bm25 == Component(1, 7.0)
    assert fused[1].bm25 is None and fused[2].dense is None


def test_fuse_component_weights_scale_contributions() -> None:
    docs = {d: doc(d) for d in "ab"}
    fused = fuse([("a", 0.9)], [("b", 5.0)], docs,
                 weights=Weights(dense=1.0, bm25=2.0, graph=0.0))
    assert [f.id for f in fused] == ["b", "a"]
    assert scores(fused)["b"] == pytest.approx(2 / 61)
    dense_heavier = fuse([("a", 0.9)], [("b", 5.0)], docs,
                         weights=Weights(dense=1.5, bm25=1.0, graph=0.0))
    assert [f.id for f in dense_heavier] == ["a", "b"]
    assert scores(dense_heavier)["a"] == pytest.approx(1.5 / 61)
    only_dense = fuse([("a", 0.9)], [("b", 5.0)], docs,
                      weights=Weights(dense=1.0, bm25=0.0, graph=0.0))
    assert scores(only_dense)["b"] == 0.0


def test_fuse_breaks_ties_by_id_and_is_deterministic() -> None:
    docs = {d: doc(d) for d in "xyz"}
    # y is first in dense, x first in BM25: equal scores, so the order is by id.
    fused = fuse([("y", 1.0), ("z", 0.5)], [("x", 2.0), ("z", 1.0)], docs, weights=PLAIN)
    assert [f.id for f in fused] == ["z", "x", "y"]
    assert fused[1].score == fused[2].score


def test_fuse_of_empty_rankings_is_empty() -> None:
    assert fuse([], [], {}) == []


# -- graph signal ---------------------------------------------------------------------------

def test_graph_boost_only_when_a_threshold_is_shared_with_a_top_hit() -> None:
    docs = {
        "t1": doc("t1", "threshold"),
        "l1": doc("l1", thresholds=("t1",)),
        "l2": doc("l2", thresholds=("t2",)),
        "m1": doc("m1", "measure", thresholds=("t1", "t3")),
    }
    dense = [("t1", 0.9), ("l2", 0.8), ("l1", 0.7), ("m1", 0.6)]
    w = Weights(dense=1.0, graph=0.3, graph_top=5)
    fused = {f.id: f for f in fuse(dense, [], docs, weights=w)}
    # l2 shares nothing with anyone: no graph signal.
    assert fused["l2"].graph_score == 0.0 and fused["l2"].graph_via == []
    # l1 addresses t1, the rank-1 hit (a threshold is about itself) and shares t1 with m1.
    assert fused["l1"].graph_via == [("t1", "t1"), ("t1", "m1")]
    assert fused["l1"].graph_score == pytest.approx(0.3 * rrf(1) + 0.3 * rrf(4))
    # t1 itself is boosted by the items addressing it (l1 at rank 3, m1 at rank 4).
    assert fused["t1"].graph_via == [("t1", "l1"), ("t1", "m1")]
    assert fused["t1"].graph_score == pytest.approx(0.3 * rrf(3) + 0.3 * rrf(4))
    for f in fused.values():
        assert f.dense is not None
        assert f.score == pytest.approx(rrf(f.dense.rank) + f.graph_score)


def test_graph_boost_comes_only_from_the_strongest_hits() -> None:
    docs = {d: doc(d) for d in "abcde"}
    docs["a"] = doc("a", thresholds=("t9",))
    docs["e"] = doc("e", thresholds=("t9",))
    dense = [(d, 1.0 - i / 10) for i, d in enumerate("abcde")]
    top2 = {f.id: f for f in fuse(dense, [], docs, weights=Weights(graph_top=2))}
    # e (rank 5) shares t9 with a (rank 1): a is a top hit, so e is boosted ...
    assert top2["e"].graph_via == [("t9", "a")]
    # ... but e is not in the top 2, so a gets nothing from e.
    assert top2["a"].graph_via == []
    top5 = {f.id: f for f in fuse(dense, [], docs, weights=Weights(graph_top=5))}
    assert top5["a"].graph_via == [("t9", "e")]


def test_graph_boost_can_reorder_and_is_off_with_weight_zero() -> None:
    docs = {
        "t1": doc("t1", "threshold"),
        "x": doc("x"),
        "y": doc("y", thresholds=("t1",)),
    }
    dense = [("t1", 0.9), ("x", 0.8), ("y", 0.7)]
    on = fuse(dense, [], docs, weights=Weights(dense=1.0, graph=0.3))
    assert [f.id for f in on][:2] == ["t1", "y"]
    off = fuse(dense, [], docs, weights=PLAIN)
    assert [f.id for f in off] == ["t1", "x", "y"]
    assert all(f.graph_via == [] and f.graph_score == 0.0 for f in off)


def test_default_graph_signal_does_not_overtake_the_first_of_both_rankings() -> None:
    """Siblings that share a threshold boost each other once per sibling in the top five; the
    item both retrievers rank first (here linked to no threshold) must stay on top."""
    docs = {"best": doc("best"), **{s: doc(s, thresholds=("t1",)) for s in ("a", "b", "c")}}
    ranking = [("best", 0.9), ("a", 0.8), ("b", 0.7), ("c", 0.6)]
    fused = fuse(ranking, ranking, docs)  # the tuned default weights
    assert fused[0].id == "best", [(f.id, round(f.score, 5), round(f.graph_score, 5))
                                   for f in fused]


def test_candidates_without_a_document_are_kept_but_get_no_signal() -> None:
    docs = {"t1": doc("t1", "threshold"), "l1": doc("l1", thresholds=("t1",))}
    fused = fuse([("gone", 0.9), ("t1", 0.8), ("l1", 0.7)], [], docs)
    by_id = {f.id: f for f in fused}
    assert by_id["gone"].graph_score == 0.0 and by_id["gone"].graph_via == []
    assert by_id["l1"].graph_via == [("t1", "t1")]


# -- explanation ----------------------------------------------------------------------------

def test_explain_semantic_rank_and_matched_words() -> None:
    d = doc("a")
    f = Fused("a", score=0.1, dense=Component(3, 0.8), bm25=Component(1, 4.0))
    text = explain(f, d, {"a": d}, ["warmtenet", "wijk"])
    assert text == ("Inhoudelijk verwant aan de vraag (semantische rang 3); bevat de zoektermen "
                    "‘warmtenet’, ‘wijk’.")
    one = explain(Fused("a", bm25=Component(1, 4.0)), d, {"a": d}, ["warmtenet"])
    assert one == "Bevat de zoekterm ‘warmtenet’."


def test_explain_leaves_out_a_weak_semantic_rank_and_caps_the_words() -> None:
    d = doc("a")
    f = Fused("a", dense=Component(21, 0.1))
    assert explain(f, d, {"a": d}, []) == "Verwant via de ranking."
    words = [f"w{i}" for i in range(8)]
    text = explain(Fused("a"), d, {"a": d}, words)
    assert "‘w4’" in text and "‘w5’" not in text


def test_explain_names_the_shared_threshold() -> None:
    docs = {
        "t1": doc("t1", "threshold", title="Aannemers zijn niet te vinden"),
        "l1": doc("l1", thresholds=("t1",), title="Les over aannemers"),
        "l2": doc("l2", thresholds=("t1",)),
    }
    f = Fused("l2", graph_score=0.01, graph_via=[("t1", "l1")])
    assert explain(f, docs["l2"], docs, []) == (
        "Deelt de drempel ‘Aannemers zijn niet te vinden’ met een sterk resultaat.")
    t = Fused("t1", graph_score=0.01, graph_via=[("t1", "l1")])
    assert explain(t, docs["t1"], docs, []) == (
        "Is de drempel van het sterke resultaat ‘Les over aannemers’.")


def test_explain_of_a_fused_result_end_to_end() -> None:
    docs = {"t1": doc("t1", "threshold"), "l1": doc("l1", thresholds=("t1",))}
    fused = {f.id: f for f in fuse([("t1", 0.9), ("l1", 0.5)], [("l1", 2.0)], docs)}
    text = explain(fused["l1"], docs["l1"], docs, ["drempel"])
    assert text.startswith("Inhoudelijk verwant aan de vraag (semantische rang 2)")
    assert "bevat de zoekterm ‘drempel’" in text
    assert "deelt de drempel ‘Titel van t1’ met een sterk resultaat" in text
    assert text.endswith(".")
