"""Hybrid ranking (search/hybrid.py): per-query score normalisation, weighted fusion, soft
boosts, one propagation step over curated links and the Dutch explanation, on hand-built
candidate lists and documents (no model)."""

from __future__ import annotations

import pytest

from search.documents import Document, Ref
from search.hybrid import Fused, LinkGraph, Weights, explain, fuse, normalise

PLAIN = Weights(dense=1.0, bm25=1.0, propagation=0.0, facet=0.0, intent=0.0)


def doc(rid: str, type_: str = "lesson", *, thresholds: tuple[str, ...] = (),
        measures: tuple[str, ...] = (), related: tuple[str, ...] = (),
        themes: tuple[str, ...] = (), title: str | None = None) -> Document:
    """A document with the given links; linked titles are derived from the ids."""
    return Document(
        id=rid, type=type_, iri=f"https://w3id.org/100wijken/id/{type_}/{rid}",
        title=title or f"Titel van {rid}", text="",
        thresholds=[Ref(t, f"Drempel {t}") for t in thresholds],
        measures=[Ref(m, f"Maatregel {m}") for m in measures],
        related=[Ref(r, f"Item {r}") for r in related],
        themes=[Ref(t, t) for t in themes])


def scores(fused: list[Fused]) -> dict[str, float]:
    return {f.id: f.score for f in fused}


# -- normalisation and fusion -------------------------------------------------------------------

def test_normalise_maps_the_pool_to_zero_one_keeping_ranks_and_raw_scores() -> None:
    n = normalise([("a", 12.0), ("b", 9.0), ("c", 6.0)])
    assert [(k, c.rank, c.score) for k, c in n.items()] == [("a", 1, 12.0), ("b", 2, 9.0),
                                                           ("c", 3, 6.0)]
    assert [c.normalised for c in n.values()] == pytest.approx([1.0, 0.5, 0.0])
    assert normalise([]) == {}
    # one candidate, or a tie over the whole pool: all count fully
    assert [c.normalised for c in normalise([("a", 0.3), ("b", 0.3)]).values()] == [1.0, 1.0]


def test_fusion_is_a_weighted_sum_of_normalised_scores() -> None:
    docs = {d: doc(d) for d in "abc"}
    runs = {"dense": [("a", 0.9), ("b", 0.8), ("c", 0.7)], "bm25": [("c", 7.0), ("b", 5.0)]}
    fused = fuse(runs, docs, weights=PLAIN)
    s = scores(fused)
    assert s["a"] == pytest.approx(1.0)  # best dense, not found by BM25
    assert s["b"] == pytest.approx(0.5 + 0.0)  # middle dense, last of BM25's pool
    assert s["c"] == pytest.approx(0.0 + 1.0)
    assert [f.id for f in fused] == ["a", "c", "b"]  # ties by id
    b = next(f for f in fused if f.id == "b")
    assert b.components["dense"].rank == 2 and b.components["bm25"].rank == 2
    heavier = fuse(runs, docs, weights=Weights(dense=1.0, bm25=2.0, propagation=0.0))
    assert next(f.id for f in heavier) == "c"


def test_score_fusion_tells_a_clear_winner_from_a_near_tie() -> None:
    """What rank fusion cannot: BM25's first by a wide margin beats dense's first by a hair."""
    docs = {d: doc(d) for d in "xyz"}
    runs = {"dense": [("x", 0.851), ("y", 0.850), ("z", 0.70)],
            "bm25": [("y", 20.0), ("x", 2.0), ("z", 1.0)]}
    fused = fuse(runs, docs, weights=PLAIN)
    assert fused[0].id == "y"


def test_fuse_of_nothing_is_empty() -> None:
    assert fuse({}, {}) == []
    assert fuse({"dense": [], "bm25": []}, {}) == []


# -- propagation -------------------------------------------------------------------------------

def test_link_graph_edges_are_curated_links_in_both_directions() -> None:
    docs = {"t1": doc("t1", "threshold"), "l1": doc("l1", thresholds=("t1",)),
            "b1": doc("b1", "breakthrough", thresholds=("t1",), measures=("m1",)),
            "m1": doc("m1", "measure"), "l2": doc("l2", related=("l1",)),
            "x": doc("x", thresholds=("unknown",))}
    g = LinkGraph(docs)
    assert g.edges["l1"]["t1"] == "addresses"
    assert g.edges["t1"] == {"l1": "threshold-of", "b1": "threshold-of"}
    assert g.edges["b1"]["m1"] == "uses-measure" and g.edges["m1"]["b1"] == "measure-of"
    assert g.edges["l2"]["l1"] == "related" and g.edges["l1"]["l2"] == "related"
    assert "x" not in g.edges  # a link to something that is not a document is no edge
    assert g.thresholds["t1"] == ["t1"] and g.thresholds["l1"] == ["t1"]


def test_propagation_brings_in_an_unretrieved_neighbour_of_a_strong_hit() -> None:
    """The breakthrough that overcomes the threshold a strong lesson names rises although no
    retriever found it."""
    docs = {"t1": doc("t1", "threshold"), "l1": doc("l1", thresholds=("t1",)),
            "b1": doc("b1", "breakthrough", measures=("m1",)), "m1": doc("m1", "measure"),
            "other": doc("other")}
    runs = {"dense": [("m1", 0.9), ("other", 0.5)]}
    w = Weights(dense=1.0, bm25=0.0, propagation=0.2, facet=0.0, intent=0.0)
    fused = {f.id: f for f in fuse(runs, docs, weights=w, graph=LinkGraph(docs))}
    assert "b1" in fused and fused["b1"].base == 0.0
    assert fused["b1"].lift is not None
    assert (fused["b1"].lift.kind, fused["b1"].lift.source) == ("uses-measure", "m1")
    assert fused["b1"].score == pytest.approx(0.2 * 1.0)
    assert "t1" not in fused and "l1" not in fused  # no strong neighbour: nothing to gain
    off = fuse(runs, docs, weights=PLAIN, graph=LinkGraph(docs))
    assert {f.id for f in off} == {"m1", "other"}


def test_propagation_takes_the_best_neighbour_not_the_sum() -> None:
    """A threshold linked by many candidates gains what its best one gives, once."""
    docs = {"t1": doc("t1", "threshold"),
            **{f"l{i}": doc(f"l{i}", thresholds=("t1",)) for i in range(5)},
            "z": doc("z")}
    runs = {"dense": [("l0", 1.0), ("l1", 0.9), ("l2", 0.8), ("l3", 0.7), ("l4", 0.6),
                      ("z", 0.5)]}
    w = Weights(dense=1.0, propagation=0.2, shared=0.5, facet=0.0, intent=0.0)
    fused = {f.id: f for f in fuse(runs, docs, weights=w, graph=LinkGraph(docs))}
    assert fused["t1"].graph_score == pytest.approx(0.2 * 1.0)
    # a lesson gains from its threshold only when that scores; here from its best sibling,
    # through the shared threshold at half weight, and never from itself
    l0, l1 = fused["l0"], fused["l1"]
    assert l1.lift is not None and (l1.lift.kind, l1.lift.source, l1.lift.via) == (
        "shared-threshold", "l0", "t1")
    assert l1.graph_score == pytest.approx(0.2 * 0.5 * 1.0)
    assert l0.lift is not None and l0.lift.source == "l1"
    assert fused["z"].lift is None


def test_propagation_respects_the_filter() -> None:
    docs = {"t1": doc("t1", "threshold"), "l1": doc("l1", thresholds=("t1",))}
    runs = {"dense": [("l1", 0.9)]}
    fused = fuse(runs, docs, weights=Weights(propagation=0.2), graph=LinkGraph(docs),
                 allowed={"l1"})
    assert [f.id for f in fused] == ["l1"]


def test_propagation_can_reorder() -> None:
    docs = {"t1": doc("t1", "threshold"), "x": doc("x"), "y": doc("y", thresholds=("t1",))}
    runs = {"dense": [("t1", 0.9), ("x", 0.8), ("y", 0.75), ("floor", 0.1)]}
    w = Weights(dense=1.0, propagation=0.3, facet=0.0, intent=0.0)
    on = fuse(runs, docs, weights=w, graph=LinkGraph(docs))
    assert [f.id for f in on][:3] == ["t1", "y", "x"]
    off = fuse(runs, docs, weights=PLAIN, graph=LinkGraph(docs))
    assert [f.id for f in off][:3] == ["t1", "x", "y"]


# -- boosts --------------------------------------------------------------------------------

def test_facet_and_intent_boosts_are_soft() -> None:
    docs = {"a": doc("a", themes=("water",)), "b": doc("b", "measure"), "c": doc("c")}
    runs = {"dense": [("c", 0.9), ("a", 0.8), ("b", 0.7), ("floor", 0.0)]}
    w = Weights(dense=1.0, propagation=0.0, facet=0.1, intent=0.05)
    fused = {f.id: f for f in fuse(runs, docs, weights=w, facets={"theme": {"water"}},
                                    intent_types=("measure",))}
    assert fused["a"].boosts == [("theme", "water", 0.1)]
    assert fused["a"].score == pytest.approx(0.8 / 0.9 + 0.1)
    assert fused["b"].boosts == [("intent", "measure", 0.05)]
    assert fused["c"].boosts == []
    # soft: the unboosted best candidate stays first
    assert max(fused.values(), key=lambda f: f.score).id == "c"


# -- explanation ----------------------------------------------------------------------------

def test_explain_names_each_component() -> None:
    docs = {"t1": doc("t1", "threshold", title="Aannemers zijn niet te vinden"),
            "l1": doc("l1", thresholds=("t1",), title="Les over aannemers"),
            "a": doc("a", thresholds=("t1",))}
    runs = {"dense": [("l1", 0.9), ("a", 0.85), ("floor", 0.1)],
            "bm25": [("a", 4.0), ("l1", 1.0)]}
    w = Weights(dense=1.0, bm25=0.5, propagation=0.2, facet=0.1, intent=0.05)
    fused = {f.id: f for f in fuse(runs, docs, weights=w, graph=LinkGraph(docs),
                                    facets={"threshold": {"t1"}})}
    text = explain(fused["a"], docs, ["aannemer"], [("vakman", "aannemer")],
                   {("threshold", "t1"): "Aannemers zijn niet te vinden"})
    assert text.startswith("Inhoudelijk verwant aan de vraag (semantische rang 2)")
    assert "bevat de zoekterm ‘aannemer’" in text
    assert "‘vakman’ (≈ ‘aannemer’) uit de praktijkthesaurus" in text
    assert "deelt de drempel ‘Aannemers zijn niet te vinden’ met het sterke resultaat " \
           "‘Les over aannemers’" in text
    assert text.endswith(".")
    assert "pakt de drempel ‘Aannemers zijn niet te vinden’ aan die de vraag noemt" in text
    t = explain(fused["t1"], docs, [])  # the stronger of its two lessons lifted it
    assert t == "Is de drempel van het sterke resultaat ‘Titel van a’."


def test_explain_without_signal_and_word_cap() -> None:
    docs = {"a": doc("a")}
    assert explain(Fused("a"), docs, []) == "Verwant via de rangschikking."
    text = explain(Fused("a"), docs, [f"w{i}" for i in range(8)])
    assert "‘w4’" in text and "‘w5’" not in text


def test_a_candidate_threshold_does_not_bring_in_everything_that_addresses_it() -> None:
    """In a large graph a threshold has thousands of items: only candidates gain from it."""
    docs = {"t1": doc("t1", "threshold"),
            **{f"l{i}": doc(f"l{i}", thresholds=("t1",)) for i in range(50)}}
    runs = {"dense": [("t1", 0.9), ("l7", 0.5), ("floor", 0.1)]}
    w = Weights(dense=1.0, propagation=0.2, facet=0.0, intent=0.0)
    fused = {f.id: f for f in fuse(runs, docs, weights=w, graph=LinkGraph(docs))}
    assert set(fused) == {"t1", "l7", "floor"}
    assert fused["l7"].lift is not None and fused["l7"].lift.kind == "addresses"
