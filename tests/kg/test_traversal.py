"""Graph traversal (kg/traversal.py) on a small hand-built graph in a real on-disk store: related
items and why, the subgraph around an item, and who overcame a threshold."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rdflib import Graph

from kg.store import Store
from kg.traversal import SIMILAR_NEIGHBOURS, Traversal, threshold_breakthroughs
from ontology.namespaces import (
    DEFAULT_BASE_IRI,
    concept_iri,
    item_iri,
    municipality_iri,
    sparql_prefixes,
)

GRAPH = DEFAULT_BASE_IRI + "graph/traversal-fixture"
GENT = municipality_iri("44021")
FINANCIERING = concept_iri("thema", "financiering")


def iri(record_type: str, record_id: str) -> str:
    return item_iri(DEFAULT_BASE_IRI, record_type, record_id)


# Two breakthroughs overcome the same two thresholds; a lesson links to the first in four ways;
# another lesson only shares its theme; an actor is linked but never a related item.
TURTLE = f"""
<{iri("threshold", "t-kosten")}> a wk:Threshold ; dct:identifier "t-kosten" ;
    rdfs:label "De kosten zijn te hoog"@nl ; dct:description "Renovatie kost veel."@nl .
<{iri("threshold", "t-tijd")}> a wk:Threshold ; dct:identifier "t-tijd" ;
    rdfs:label "Er is te weinig tijd"@nl .
<{iri("measure", "m-fonds")}> a wk:Measure ; dct:identifier "m-fonds" ;
    rdfs:label "Een rollend fonds"@nl ; wk:addresses <{iri("threshold", "t-kosten")}> ;
    wk:neighbourhood <{iri("neighbourhood", "w-brugse")}> .
<{iri("neighbourhood", "w-muide")}> a wk:Neighbourhood ; dct:identifier "w-muide" ;
    rdfs:label "Muide"@nl ; wk:municipality <{GENT}> .
<{iri("neighbourhood", "w-brugse")}> a wk:Neighbourhood ; dct:identifier "w-brugse" ;
    rdfs:label "Brugse Poort"@nl .
<{iri("actor", "a-stad")}> a wk:Actor ; dct:identifier "a-stad" ; rdfs:label "Stad Gent"@nl .
<{iri("breakthrough", "b-fonds")}> a wk:Breakthrough ; dct:identifier "b-fonds" ;
    rdfs:label "Fonds op wijkniveau"@nl ; dct:description "Een fonds per wijk."@nl ;
    wk:overcomes <{iri("threshold", "t-kosten")}> , <{iri("threshold", "t-tijd")}> ;
    wk:usesMeasure <{iri("measure", "m-fonds")}> ;
    wk:neighbourhood <{iri("neighbourhood", "w-muide")}> ;
    wk:involves <{iri("actor", "a-stad")}> ; dct:subject <{FINANCIERING}> .
<{iri("breakthrough", "b-tweede")}> a wk:Breakthrough ; dct:identifier "b-tweede" ;
    rdfs:label "Samen aanvragen"@nl ;
    wk:overcomes <{iri("threshold", "t-kosten")}> , <{iri("threshold", "t-tijd")}> ;
    dct:subject <{FINANCIERING}> .
<{iri("lesson", "l-een")}> a wk:Lesson ; dct:identifier "l-een" ;
    rdfs:label "Een fonds maakt renovatie haalbaar"@nl ;
    wk:addresses <{iri("threshold", "t-kosten")}> ; wk:usesMeasure <{iri("measure", "m-fonds")}> ;
    wk:neighbourhood <{iri("neighbourhood", "w-muide")}> ;
    wk:related <{iri("breakthrough", "b-fonds")}> .
<{iri("lesson", "l-ver")}> a wk:Lesson ; dct:identifier "l-ver" ;
    rdfs:label "Verwant via het thema"@nl ; dct:subject <{FINANCIERING}> .
<{iri("lesson", "l-los")}> a wk:Lesson ; dct:identifier "l-los" ; rdfs:label "Los"@nl .
<{FINANCIERING}> a skos:Concept ; skos:notation "financiering" ;
    skos:prefLabel "Financiering"@nl , "Financing"@en .
<{GENT}> a wk:Municipality ; wk:nisCode "44021" ; rdfs:label "Gent"@nl .
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = Store(tmp_path_factory.mktemp("traversal"))
    store.replace_graphs({GRAPH: Graph().parse(data=sparql_prefixes() + TURTLE,
                                               format="turtle")})
    yield store
    store.close()


@pytest.fixture
def traversal(store: Store) -> Traversal:
    return Traversal(store)


B_FONDS = iri("breakthrough", "b-fonds")


def test_related_items_are_scored_by_their_connections(traversal: Traversal) -> None:
    related = traversal.related(B_FONDS)
    assert [(r.id, r.score) for r in related] == [
        ("l-een", 3.5),     # related 1.5 + threshold 1.0 + measure 0.6 + neighbourhood 0.4
        ("m-fonds", 2.2),   # direct 1.2 + shared threshold 1.0
        ("b-tweede", 2.1),  # two shared thresholds 2 x 1.0 + theme 0.1
        ("t-kosten", 1.2),  # direct links; equal scores in title order
        ("t-tijd", 1.2),
        ("w-muide", 1.2),
        ("l-ver", 0.1),     # theme only
    ]
    assert {r.id: r.type for r in related}["b-tweede"] == "breakthrough"
    assert {r.id: r.title for r in related}["m-fonds"] == "Een rollend fonds"


def test_via_explains_each_connection_strongest_first(traversal: Traversal) -> None:
    by_id = {r.id: r for r in traversal.related(B_FONDS)}
    assert [(v.relation, v.label, v.through) for v in by_id["l-een"].via] == [
        ("related", "expliciet verwant", []),
        ("shared-threshold", "deelt drempel", ["t-kosten"]),
        ("shared-measure", "deelt maatregel", ["m-fonds"]),
        ("same-neighbourhood", "zelfde wijk", ["w-muide"]),
    ]
    assert [(v.relation, v.through) for v in by_id["b-tweede"].via] == [
        ("shared-threshold", ["t-kosten", "t-tijd"]),
        ("shared-theme", ["financiering"]),  # a concept is named by its notation
    ]
    assert [(v.relation, v.through) for v in by_id["w-muide"].via] == [("direct", [])]
    assert all(v.score is None for r in by_id.values() for v in r.via)


def test_related_are_only_knowledge_items_never_the_item_itself(traversal: Traversal) -> None:
    ids = {r.id for r in traversal.related(B_FONDS)}
    assert "b-fonds" not in ids
    assert "a-stad" not in ids  # an actor is linked, but not a related item


def test_related_types_filter_and_limit(traversal: Traversal) -> None:
    lessons = traversal.related(B_FONDS, types=("lesson",))
    assert [r.id for r in lessons] == ["l-een", "l-ver"]
    assert [r.id for r in traversal.related(B_FONDS, types=("lesson", "threshold"))] == [
        "l-een", "t-kosten", "t-tijd", "l-ver"]
    assert [r.id for r in traversal.related(B_FONDS, limit=2)] == ["l-een", "m-fonds"]
    assert traversal.related(B_FONDS, types=("actor",)) == []


def test_related_of_an_unknown_iri_is_empty(traversal: Traversal) -> None:
    assert traversal.related(iri("lesson", "bestaat-niet")) == []


def test_similar_text_adds_and_scores_neighbours(traversal: Traversal) -> None:
    asked: list[int] = []

    def similar(n: int) -> list[tuple[str, float]]:
        asked.append(n)
        return [("b-fonds", 0.99), ("a-stad", 0.98), ("l-ver", 0.95), ("l-los", 0.8),
                ("bestaat-niet", 0.9)]

    related = traversal.related(B_FONDS, similar=similar, limit=10)
    assert asked == [SIMILAR_NEIGHBOURS]  # not `limit`: the top must not depend on it
    by_id = {r.id: r for r in related}
    # 0.1 for the theme + 1.0 x (0.95 - 0.75) x 4 for the text
    assert by_id["l-ver"].score == 0.9
    assert [(v.relation, v.label, v.score) for v in by_id["l-ver"].via] == [
        ("similar-text", "inhoudelijk gelijkaardig", 0.95), ("shared-theme", "deelt thema", None)]
    assert by_id["l-los"].score == 0.2  # only similar: a new candidate
    assert [v.relation for v in by_id["l-los"].via] == ["similar-text"]
    assert {"b-fonds", "a-stad", "bestaat-niet"}.isdisjoint(by_id)
    assert [r.id for r in related][-3:] == ["w-muide", "l-ver", "l-los"]


def test_similar_text_below_the_threshold_adds_nothing_to_the_score(
        traversal: Traversal) -> None:
    related = traversal.related(B_FONDS, similar=lambda n: [("l-ver", 0.6)])
    (l_ver,) = [r for r in related if r.id == "l-ver"]
    assert l_ver.score == 0.1
    assert l_ver.via[0].relation == "similar-text" and l_ver.via[0].score == 0.6


def test_subgraph_depth_one_holds_the_direct_neighbours(traversal: Traversal) -> None:
    sub = traversal.subgraph(B_FONDS, depth=1)
    nodes = {n.iri: n for n in sub.nodes}
    assert sub.center == B_FONDS and not sub.truncated
    assert set(nodes) == {B_FONDS, iri("threshold", "t-kosten"), iri("threshold", "t-tijd"),
                          iri("measure", "m-fonds"), iri("neighbourhood", "w-muide"),
                          iri("actor", "a-stad"), iri("lesson", "l-een"), FINANCIERING}
    assert (nodes[B_FONDS].id, nodes[B_FONDS].type, nodes[B_FONDS].label) == (
        "b-fonds", "breakthrough", "Fonds op wijkniveau")
    concept = nodes[FINANCIERING]
    assert (concept.id, concept.type, concept.label) == ("financiering", "concept",
                                                         "Financiering")
    edges = {(e.source, e.target, e.relation, e.label) for e in sub.edges}
    assert (B_FONDS, iri("threshold", "t-kosten"), "overcomes", "overwint drempel") in edges
    assert (iri("lesson", "l-een"), B_FONDS, "related", "verwant") in edges
    assert len(edges) == 7  # one per link of b-fonds; links between its neighbours wait


def test_subgraph_depth_two_reaches_further(traversal: Traversal) -> None:
    one = {n.iri for n in traversal.subgraph(B_FONDS, depth=1).nodes}
    two = traversal.subgraph(B_FONDS, depth=2)
    nodes = {n.iri: n for n in two.nodes}
    assert set(nodes) - one == {iri("breakthrough", "b-tweede"), iri("lesson", "l-ver"),
                                iri("neighbourhood", "w-brugse"), GENT}
    assert (nodes[GENT].type, nodes[GENT].label) == ("municipality", "Gent")
    edges = {(e.source, e.target, e.relation) for e in two.edges}
    assert (iri("lesson", "l-een"), iri("measure", "m-fonds"), "uses-measure") in edges
    assert (iri("neighbourhood", "w-muide"), GENT, "municipality") in edges
    assert all(e.source in nodes and e.target in nodes for e in two.edges)


def test_subgraph_max_nodes_caps_and_marks_truncated(traversal: Traversal) -> None:
    sub = traversal.subgraph(B_FONDS, depth=2, max_nodes=4)
    nodes = {n.iri for n in sub.nodes}
    assert sub.truncated
    assert len(nodes) == 4 and B_FONDS in nodes
    assert sub.edges and all(e.source in nodes and e.target in nodes for e in sub.edges)


def test_subgraph_of_an_unknown_iri_is_one_bare_node(traversal: Traversal) -> None:
    unknown = DEFAULT_BASE_IRI + "lesson/bestaat-niet"
    sub = traversal.subgraph(unknown, depth=2)
    assert [(n.id, n.type, n.label) for n in sub.nodes] == [
        ("bestaat-niet", "resource", "bestaat-niet")]
    assert sub.edges == [] and not sub.truncated


def test_threshold_breakthroughs_lists_who_overcame_it_and_how(store: Store) -> None:
    answer = threshold_breakthroughs(store, iri("threshold", "t-kosten"), "t-kosten")
    assert (answer.threshold.id, answer.threshold.title) == ("t-kosten", "De kosten zijn te hoog")
    assert answer.text == "Renovatie kost veel."
    assert [b.id for b in answer.breakthroughs] == ["b-fonds", "b-tweede"]  # by title
    fonds = answer.breakthroughs[0]
    assert fonds.text == "Een fonds per wijk."
    assert [m.id for m in fonds.measures] == ["m-fonds"]
    # its own neighbourhood and that of its measure, by title
    assert [(n.id, n.title) for n in fonds.neighbourhoods] == [
        ("w-brugse", "Brugse Poort"), ("w-muide", "Muide")]
    assert [(m.id, m.title) for m in fonds.municipalities] == [("44021", "Gent")]
    assert [a.id for a in fonds.actors] == ["a-stad"]
    assert [t.id for t in fonds.other_thresholds] == ["t-tijd"]
    tweede = answer.breakthroughs[1]
    assert tweede.text is None and tweede.measures == [] and tweede.actors == []
    assert [r.id for r in answer.lessons] == ["l-een"]
    assert [r.id for r in answer.measures] == ["m-fonds"]


def test_threshold_breakthroughs_of_an_unknown_threshold_is_empty(store: Store) -> None:
    answer = threshold_breakthroughs(store, iri("threshold", "t-geen"), "t-geen")
    assert (answer.threshold.id, answer.threshold.title) == ("t-geen", "t-geen")
    assert answer.text is None
    assert answer.breakthroughs == [] and answer.lessons == [] and answer.measures == []
