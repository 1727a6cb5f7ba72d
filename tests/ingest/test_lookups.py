"""The store look-ups of the ingest pipeline (ingest/lookups.py) on a small real on-disk store:
known records, concept notations, referrers, mentions and the mention linker's terms."""

from __future__ import annotations

from collections.abc import Iterator

import pyoxigraph as ox
import pytest
from rdflib import Graph

from ingest import lookups
from ingest.resolve import KnownItem
from kg.mentions import Term
from kg.store import Store
from ontology.namespaces import (
    CONCEPT_ROOT,
    DEFAULT_BASE_IRI,
    WK,
    concept_iri,
    item_iri,
    municipality_iri,
    reference_graph,
    scheme_iri,
    sparql_prefixes,
)

BASE = DEFAULT_BASE_IRI
GA, GB, GC = BASE + "graph/a", BASE + "graph/b", BASE + "graph/c"
FILE_A, FILE_B = "/data/a.csv", "/data/b.jsonl"
GENT = municipality_iri("44021")
FINANCIERING = concept_iri("thema", "financiering")
FINANCIEEL = concept_iri("drempeltype", "financieel")


def iri(record_type: str, record_id: str) -> str:
    return item_iri(BASE, record_type, record_id)


def provenance(graph: str, source_file: str) -> str:
    return f"""<{graph}> a wk:SourceGraph ; wk:sourceFile "{source_file}" ;
        wk:contentHash "sha256:0" ; wk:recordCount 1 ;
        prov:generatedAtTime "2024-01-02T00:00:00Z"^^xsd:dateTime ."""


GRAPHS = {
    # file a: a threshold, a measure addressing it and an actor
    GA: provenance(GA, FILE_A) + f"""
        <{iri("threshold", "t-kosten")}> a wk:Threshold ; dct:identifier "t-kosten" .
        <{iri("measure", "m-fonds")}> a wk:Measure ; dct:identifier "m-fonds" ;
            wk:addresses <{iri("threshold", "t-kosten")}> .
        <{iri("actor", "a-veka")}> a wk:Actor ; dct:identifier "a-veka" ;
            rdfs:label "Vlaams Energieagentschap"@nl ; skos:altLabel "VEKA"@nl .""",
    # file b: records pointing into file a, and a mention of its actor
    GB: provenance(GB, FILE_B) + f"""
        <{iri("lesson", "l-b")}> a wk:Lesson ; dct:identifier "l-b" ;
            wk:addresses <{iri("threshold", "t-kosten")}> ; wk:mentions <{iri("actor", "a-veka")}> .
        <{iri("breakthrough", "b-b")}> a wk:Breakthrough ; dct:identifier "b-b" ;
            wk:related <{iri("measure", "m-fonds")}> .""",
    # a graph without provenance: no source file to name
    GC: f"""
        <{iri("lesson", "l-c")}> a wk:Lesson ; dct:identifier "l-c" ;
            wk:addresses <{iri("threshold", "t-kosten")}> .
        <http://example.org/x> a skos:Concept ; dct:identifier "geen-record" .""",
    reference_graph("schemes"): f"""
        <{FINANCIERING}> skos:inScheme <{scheme_iri("thema")}> ; skos:notation "financiering" ;
            skos:prefLabel "Financiering"@nl , "Funding"@en ; skos:altLabel "Geld"@nl .
        <{FINANCIEEL}> skos:inScheme <{scheme_iri("drempeltype")}> ;
            skos:notation "financieel" ; skos:prefLabel "Financieel"@nl .
        <http://example.org/c> skos:inScheme <{scheme_iri("thema")}> ; skos:notation "vreemd" .
        <{CONCEPT_ROOT}ander/x> skos:inScheme <http://example.org/scheme> ;
            skos:notation "x" .""",
    reference_graph("municipalities"): f"""
        <{GENT}> a wk:Municipality ; rdfs:label "Gent"@nl ; wk:nisCode "44021" .""",
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = Store(tmp_path_factory.mktemp("lookups"))
    store.replace_graphs({g: Graph().parse(data=sparql_prefixes() + ttl, format="turtle")
                          for g, ttl in GRAPHS.items()})
    yield store
    store.close()


def known(record_type: str, graph: str) -> KnownItem:
    return KnownItem(record_type, graph, {GA: FILE_A, GB: FILE_B}.get(graph, graph))


def test_known_items_are_the_records_with_type_graph_and_file(store: Store) -> None:
    assert lookups.known_items(store) == {
        "t-kosten": known("threshold", GA),
        "m-fonds": known("measure", GA),
        "a-veka": known("actor", GA),
        "l-b": known("lesson", GB),
        "b-b": known("breakthrough", GB),
        "l-c": KnownItem("lesson", GC, GC),  # no provenance: the graph names itself
    }


def test_scheme_notations_are_the_wijken_concepts_by_scheme(store: Store) -> None:
    # concepts outside the wijken concept IRIs or schemes are left out
    assert lookups.scheme_notations(store) == {
        "thema": {"financiering": FINANCIERING},
        "drempeltype": {"financieel": FINANCIEEL},
    }
    assert lookups.theme_notations(store) == {"financiering": FINANCIERING}


def test_notations_of_an_empty_store_are_empty() -> None:
    empty = Store(None)
    assert lookups.scheme_notations(empty) == {}
    assert lookups.theme_notations(empty) == {}


def test_referrers_are_records_in_other_graphs_by_file(store: Store) -> None:
    removed = {"t-kosten": known("threshold", GA), "m-fonds": known("measure", GA)}
    found = lookups.referrers(store, BASE, removed, exclude={GA})
    assert {rid: sorted(pairs) for rid, pairs in found.items()} == {
        "t-kosten": [(FILE_B, "l-b"), (GC, "l-c")],
        "m-fonds": [(FILE_B, "b-b")],
    }
    # without excluding file a, its measure refers to the threshold too
    found = lookups.referrers(store, BASE, removed, exclude=set())
    assert (FILE_A, "m-fonds") in found["t-kosten"]
    assert lookups.referrers(store, BASE, removed, exclude={GA, GB, GC}) == {}


def test_a_mention_does_not_make_a_referrer(store: Store) -> None:
    assert lookups.referrers(store, BASE, {"a-veka": known("actor", GA)}, exclude={GA}) == {}


def test_referrers_of_nothing_is_empty(store: Store) -> None:
    assert lookups.referrers(store, BASE, {}, exclude=set()) == {}


def test_mentions_of_removed_records_in_other_graphs(store: Store) -> None:
    removed = {"a-veka": known("actor", GA)}
    assert lookups.mentions_of(store, BASE, removed, exclude={GA}) == [ox.Quad(
        ox.NamedNode(iri("lesson", "l-b")), ox.NamedNode(f"{WK}mentions"),
        ox.NamedNode(iri("actor", "a-veka")), ox.NamedNode(GB))]
    assert lookups.mentions_of(store, BASE, removed, exclude={GA, GB}) == []
    # only wk:mentions: the threshold is pointed at, never mentioned
    assert lookups.mentions_of(store, BASE, {"t-kosten": known("threshold", GA)},
                               exclude=set()) == []
    assert lookups.mentions_of(store, BASE, {}, exclude=set()) == []


def test_mention_terms_name_actors_municipalities_and_themes(store: Store) -> None:
    terms = lookups.mention_terms(store, exclude_graphs=set())
    assert sorted(terms, key=lambda t: (t.kind, t.label)) == [
        Term("VEKA", iri("actor", "a-veka"), "actor"),
        Term("Vlaams Energieagentschap", iri("actor", "a-veka"), "actor"),
        Term("Gent", GENT, "municipality"),
        Term("Financiering", FINANCIERING, "theme"),  # Dutch labels only
        Term("Geld", FINANCIERING, "theme"),
    ]


def test_mention_terms_leave_out_actors_of_excluded_graphs(store: Store) -> None:
    terms = lookups.mention_terms(store, exclude_graphs={GA})
    assert {t.kind for t in terms} == {"municipality", "theme"}
