"""The KnowledgeBase facade: reference data, stats, SPARQL and export over a real store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic

from api.knowledgebase import KnowledgeBase
from kg.errors import UserError
from kg.store import Store
from ontology.namespaces import reference_graph

# rdflib 7.6 warns about its own ConjunctiveGraph use when it parses JSON-LD, TriG, N-Quads
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:rdflib")

RECORDS = [
    {"id": "veka", "type": "actor", "title": "Vlaams Energie- en Klimaatagentschap",
     "alt_labels": ["VEKA"]},
    {"id": "drempel-a", "type": "threshold", "title": "Drempel A", "themes": ["renovatie"],
     "municipality": "Gent"},
    {"id": "drempel-b", "type": "threshold", "title": "Drempel B \"met quotes\"\nen regels",
     "themes": ["renovatie", "water"]},
    {"id": "les-a", "type": "lesson", "title": "Les A", "themes": ["renovatie"],
     "municipality": "Gent", "thresholds": ["drempel-a"], "text": "VEKA in Gent."},
    {"id": "les-b", "type": "lesson", "title": "Les B", "themes": ["water"],
     "municipality": "Leuven", "thresholds": ["drempel-a", "drempel-b"]},
]


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    root = tmp_path_factory.mktemp("kb")
    a, b = root / "a.jsonl", root / "b.jsonl"
    a.write_text("".join(json.dumps(r) + "\n" for r in RECORDS[:3]), encoding="utf-8")
    b.write_text("".join(json.dumps(r) + "\n" for r in RECORDS[3:]), encoding="utf-8")
    base = KnowledgeBase(data_dir=root / "data")
    base.ingest([a, b], sync_index=False)
    yield base
    base.close()


def test_a_new_data_directory_holds_the_reference_graphs(tmp_path: Path) -> None:
    kb = KnowledgeBase(data_dir=tmp_path / "d")
    assert kb.store.named_graphs() == sorted(
        reference_graph(n) for n in ("municipalities", "ontology", "schemes", "thesaurus"))
    stats = kb.stats()
    assert stats.types == {} and stats.source_graphs == 0
    assert stats.triples == len(kb.store) > 3000
    kb.close()


def test_reopening_in_a_new_process_does_not_rewrite_the_reference_data(tmp_path: Path
                                                                        ) -> None:
    """Opening a data directory again must not write (a write makes the search index stale).

    (Found earlier: the fingerprint hashed the reference graphs' N-Triples, blank node labels
    included, so every new process reloaded the ontology, bumped the generation and made the
    search index stale.) Clearing the parse cache stands in for a new process.
    """
    import ontology

    KnowledgeBase(data_dir=tmp_path / "d").close()
    store = Store(tmp_path / "d", read_only=True)
    before = (store.dump(ox.RdfFormat.N_QUADS), store.generation)
    store.close()
    ontology._parsed.cache_clear()
    again = KnowledgeBase(data_dir=tmp_path / "d")
    try:
        assert (again.store.dump(ox.RdfFormat.N_QUADS), again.store.generation) == before
    finally:
        again.close()


def test_stats_count_per_type_theme_and_municipality(kb: KnowledgeBase) -> None:
    s = kb.stats()
    assert s.types == {"Actor": 1, "Lesson": 2, "Threshold": 2}
    assert s.themes == {"renovatie": 3, "water": 2}
    assert s.municipalities == {"Gent": 2, "Leuven": 1}
    assert s.source_graphs == 2
    assert s.triples == len(kb.store)


def test_sparql_over_the_union(kb: KnowledgeBase) -> None:
    result = kb.sparql("""PREFIX wk: <https://w3id.org/100wijken/ns#>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?t WHERE { ?l wk:addresses ?d . ?d rdfs:label ?t } ORDER BY ?t""")
    titles = [s["t"].value for s in result]
    assert titles == ["Drempel A", "Drempel A", 'Drempel B "met quotes"\nen regels']


def test_sparql_syntax_error_is_a_user_error(kb: KnowledgeBase) -> None:
    with pytest.raises(UserError, match=r"SPARQL syntax error: error at 1:\d+"):
        kb.sparql("SELECT * WHERE { ?s ?p }")
    with pytest.raises(UserError):
        kb.sparql("DELETE WHERE { ?s ?p ?o }")  # an update is not a query
    assert kb.stats().types == {"Actor": 1, "Lesson": 2, "Threshold": 2}


def store_dataset(kb: KnowledgeBase) -> Dataset:
    """The store as rdflib sees it: its N-Quads dump parsed by rdflib."""
    ds = Dataset()
    ds.parse(data=kb.store.dump(ox.RdfFormat.N_QUADS), format="nquads")
    return ds


def merged(ds: Dataset) -> Graph:
    g = Graph()
    for s, p, o, _ in ds.quads((None, None, None, None)):
        g.add((s, p, o))
    return g


@pytest.mark.parametrize(("fmt", "rdflib_format"), [
    ("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld")])
def test_merged_exports_are_isomorphic_to_the_store(kb: KnowledgeBase, fmt: str,
                                                    rdflib_format: str) -> None:
    parsed = Graph().parse(data=kb.export(fmt), format=rdflib_format)
    expected = merged(store_dataset(kb))
    assert len(parsed) == len(expected) > 3000
    assert isomorphic(parsed, expected)


def test_trig_and_nquads_keep_the_named_graphs(kb: KnowledgeBase) -> None:
    expected = store_dataset(kb)
    for fmt, rdflib_format in (("trig", "trig"), ("nq", "nquads")):
        ds = Dataset()
        ds.parse(data=kb.export(fmt), format=rdflib_format)
        quads = list(ds.quads((None, None, None, None)))
        assert len(quads) == len(kb.store), fmt
        graphs = {str(q[3].identifier if hasattr(q[3], "identifier") else q[3])
                  for q in quads}
        assert graphs == set(kb.store.named_graphs()), fmt
        for giri in graphs:
            got, want = ds.graph(URIRef(giri)), expected.graph(URIRef(giri))
            assert len(got) == len(want) == len(kb.store.graph(giri)), (fmt, giri)
            assert isomorphic(got, want), (fmt, giri)


def test_unknown_export_format(kb: KnowledgeBase) -> None:
    with pytest.raises(UserError, match="use one of ttl, nt, jsonld, trig, nq"):
        kb.export("rdfxml")


def test_read_only_knowledge_base_reads_but_does_not_load(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        KnowledgeBase(data_dir=tmp_path / "leeg", read_only=True)
    KnowledgeBase(data_dir=tmp_path / "d").close()
    ro = KnowledgeBase(data_dir=tmp_path / "d", read_only=True)
    assert ro.stats().triples > 3000
    with pytest.raises(PermissionError):
        ro.store.replace_graphs({}, drop=[reference_graph("ontology")])
    ro.close()


def test_export_in_memory_matches_dump(kb: KnowledgeBase) -> None:
    assert kb.export("nq") == kb.store.dump(ox.RdfFormat.N_QUADS)
