"""The sample corpus in data/sample: it ingests, conforms to the shapes and is rich enough.

The corpus is ingested once into a fresh data directory without the search index (the index is
not what these tests are about; `sample_data_dir` builds it, at twice the cost).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
from rdflib import Dataset, Graph

from api.knowledgebase import KnowledgeBase
from ingest.readers import SUPPORTED_SUFFIXES, has_front_matter
from ontology import load_shapes
from ontology.namespaces import RECORD_TYPES, sparql_prefixes

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
P = sparql_prefixes()

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:rdflib")


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    base = KnowledgeBase(data_dir=tmp_path_factory.mktemp("sample") / "data")
    base.ingest([SAMPLE], sync_index=False)
    yield base
    base.close()


def count(kb: KnowledgeBase, sparql: str) -> int:
    return int(kb.store.select(P + sparql)[0]["n"])


def ids(kb: KnowledgeBase, sparql: str) -> list[str]:
    return sorted(str(r["id"]) for r in kb.store.select(P + sparql))


def test_every_data_file_is_one_source_graph(kb: KnowledgeBase) -> None:
    files = [p for p in SAMPLE.rglob("*") if p.is_file() and p.suffix in SUPPORTED_SUFFIXES
             and not (p.suffix == ".md" and not has_front_matter(p))]
    assert (SAMPLE / "README.md").exists() and SAMPLE / "README.md" not in files
    assert kb.stats().source_graphs == len(files) > 20


def test_the_readme_counts_are_the_corpus(kb: KnowledgeBase) -> None:
    import re

    text = " ".join((SAMPLE / "README.md").read_text(encoding="utf-8").split())
    found = re.search(r"In all: (\d+) records \(([^)]*)\)", text)
    assert found, "data/sample/README.md states the record counts"
    stated = {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", found.group(2))}
    names = {"lessons": "Lesson", "thresholds": "Threshold", "measures": "Measure",
             "breakthroughs": "Breakthrough", "actors": "Actor",
             "neighbourhoods": "Neighbourhood", "activities": "Activity",
             "documents": "SourceDocument"}
    types = kb.stats().types
    assert {word: types.get(cls, 0) for word, cls in names.items()} == stated
    assert int(found.group(1)) == sum(stated.values())


def test_the_corpus_has_enough_of_every_type(kb: KnowledgeBase) -> None:
    types = kb.stats().types
    assert types["Lesson"] >= 120
    assert types["Threshold"] >= 40
    assert types["Measure"] >= 60
    assert types["Breakthrough"] >= 30
    assert types["Actor"] >= 30
    assert types["Neighbourhood"] == 10


def test_the_ten_pioneer_neighbourhoods(kb: KnowledgeBase) -> None:
    rows = kb.store.select(P + """SELECT ?id ?m WHERE { ?w a wk:Neighbourhood ;
        dct:identifier ?id ; wk:pioneer true ; wk:municipality ?g . ?g rdfs:label ?m }""")
    assert len(rows) == 10
    assert {str(r["m"]) for r in rows} == {
        "Antwerpen", "Turnhout", "Brugge", "Zoersel", "Temse", "Mortsel", "Gent", "Mechelen",
        "Beringen", "Leuven"}


@pytest.mark.parametrize(("rid", "date", "place"), [
    ("oogstsessie-2023-03-08", "2023-03-08", "Antwerpen"),
    ("warmtenetsessie-2023-06-14", "2023-06-14", "Leuven"),
    ("atelier-pioniers-2023-10-12", "2023-10-12", "Mechelen"),
])
def test_the_three_named_activities(kb: KnowledgeBase, rid: str, date: str, place: str) -> None:
    item = kb.item(rid)
    assert item.type == "activity"
    assert item.date == date
    assert [m.title for m in item.linked("municipality")] == [place]
    assert item.linked("harvested-in", "in"), "lessons were harvested in it"


# When each pioneer wijk was chosen: the earliest atelier activity that names it (either way).
PIONEER_CHOSEN = """
    SELECT ?w (MIN(?d) AS ?chosen) WHERE {
      ?w a wk:Neighbourhood ; wk:pioneer true .
      ?a a wk:Activity ; dct:type/skos:notation "atelier" ; dct:date ?d .
      { ?a wk:related ?w } UNION { ?w wk:related ?a } } GROUP BY ?w"""


def test_every_pioneer_wijk_was_chosen_in_an_atelier(kb: KnowledgeBase) -> None:
    rows = kb.store.select(P + PIONEER_CHOSEN)
    assert len(rows) == count(kb, "SELECT (COUNT(*) AS ?n) WHERE { ?w wk:pioneer true }") == 10


def test_pioneer_wijk_items_come_from_activities_after_the_wijk_was_chosen(
        kb: KnowledgeBase) -> None:
    # An activity without a date cannot show that it came after the choice, so it fails too.
    too_early = ids(kb, f"""SELECT ?id WHERE {{
        ?s dct:identifier ?id ; wk:neighbourhood ?w ; prov:wasGeneratedBy ?a .
        {{ {PIONEER_CHOSEN} }}
        OPTIONAL {{ ?a dct:date ?held }}
        FILTER (!BOUND(?held) || ?held < ?chosen) }}""")
    assert too_early == []
    assert count(kb, f"""SELECT (COUNT(*) AS ?n) WHERE {{
        ?s wk:neighbourhood ?w ; prov:wasGeneratedBy ?a . {{ {PIONEER_CHOSEN} }} }}""") > 50


def test_no_item_is_dated_before_its_source(kb: KnowledgeBase) -> None:
    before = ids(kb, """SELECT ?id WHERE {
        ?s dct:identifier ?id ; dct:date ?d ; prov:wasGeneratedBy|dct:source ?src .
        ?src dct:date ?held FILTER (?d < ?held) }""")
    assert before == []


def test_the_guide_vijf_doorbraakprojecten_is_a_cited_document(kb: KnowledgeBase) -> None:
    guide = kb.item("gids-vijf-doorbraakprojecten")
    assert guide.type == "document"
    citing = ids(kb, """SELECT DISTINCT ?id WHERE {
        ?g dct:identifier "gids-vijf-doorbraakprojecten" .
        ?b a wk:Breakthrough ; dct:identifier ?id ; dct:source|wk:related ?g }""")
    assert len(citing) >= 15
    # its cases are no longer pinned on sessions their municipality did not attend
    assert "doorbraak-buurtbatterij" in citing and "doorbraak-gedeelde-investering" in citing


def test_every_sample_record_is_marked_as_sample_data(kb: KnowledgeBase) -> None:
    classes = " ".join(f"wk:{cls}" for cls, _, _ in RECORD_TYPES.values())
    unmarked = ids(kb, f"""SELECT ?id WHERE {{
        ?s dct:identifier ?id ; a ?c VALUES ?c {{ {classes} }}
        FILTER NOT EXISTS {{ ?s adms:status/skos:notation "voorbeeld" }} }}""")
    assert unmarked == []


def test_every_knowledge_item_links_a_threshold_and_a_theme(kb: KnowledgeBase) -> None:
    no_threshold = ids(kb, """SELECT ?id WHERE { ?s dct:identifier ?id ; a ?c
        VALUES ?c { wk:Lesson wk:Measure wk:Breakthrough }
        FILTER NOT EXISTS { ?s wk:addresses|wk:overcomes ?t . ?t a wk:Threshold } }""")
    assert no_threshold == []
    no_theme = ids(kb, """SELECT ?id WHERE { ?s dct:identifier ?id ; a ?c
        VALUES ?c { wk:Lesson wk:Measure wk:Breakthrough }
        FILTER NOT EXISTS { ?s dct:subject ?t . ?t skos:inScheme ?scheme } }""")
    assert no_theme == []
    assert count(kb, "SELECT (COUNT(*) AS ?n) WHERE { ?b a wk:Breakthrough ; wk:overcomes ?t }"
                 ) >= 30


def test_thresholds_are_shared_across_neighbourhoods(kb: KnowledgeBase) -> None:
    shared = kb.store.select(P + """
        SELECT ?t (COUNT(DISTINCT ?w) AS ?n) WHERE {
          ?item wk:addresses|wk:overcomes ?t ; wk:neighbourhood ?w . ?t a wk:Threshold }
        GROUP BY ?t HAVING (COUNT(DISTINCT ?w) > 1)""")
    assert len(shared) >= 5


def test_no_link_dangles(kb: KnowledgeBase) -> None:
    dangling = kb.store.select(P + """SELECT DISTINCT ?o WHERE {
        ?s dct:identifier ?id ; ?p ?o . FILTER (isIRI(?o))
        FILTER (?p NOT IN (rdf:type, schema:url))
        FILTER NOT EXISTS { ?o a ?any } }""")
    assert dangling == []


def test_mentions_were_found(kb: KnowledgeBase) -> None:
    by_kind = {str(r["c"]).rsplit("#", 1)[-1]: int(r["n"]) for r in kb.store.select(P + """
        SELECT ?c (COUNT(*) AS ?n) WHERE { ?s wk:mentions ?o . ?o a ?c
          VALUES ?c { wk:Actor wk:Municipality skos:Concept } } GROUP BY ?c""")}
    assert by_kind.get("Actor", 0) > 50
    assert by_kind.get("Municipality", 0) > 50
    assert by_kind.get("Concept", 0) > 100


def test_the_whole_store_conforms_to_the_shapes(kb: KnowledgeBase) -> None:
    ds = Dataset()
    ds.parse(data=kb.store.dump(ox.RdfFormat.N_QUADS), format="nquads")
    data = Graph()
    for s, p, o, _ in ds.quads((None, None, None, None)):
        data.add((s, p, o))
    conforms, _, text = pyshacl.validate(data, shacl_graph=load_shapes(), inference="none",
                                         advanced=True, allow_warnings=True)
    assert conforms, text[:3000]


def test_reingesting_the_sample_changes_nothing(kb: KnowledgeBase) -> None:
    before = (kb.export("nq"), kb.store.generation)
    report = kb.ingest([SAMPLE], sync_index=False)
    assert {f.status for f in report.files} == {"unchanged"}
    assert (kb.export("nq"), kb.store.generation) == before
