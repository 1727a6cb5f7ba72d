"""The practitioners' thesaurus (ontology/thesaurus.ttl): its shape as data, and that the store
serves it over SPARQL and search reads curators' additions from the store."""

from __future__ import annotations

from collections import Counter

from rdflib import RDF, SKOS, Literal, URIRef

from api.knowledgebase import KnowledgeBase
from ontology import load_thesaurus
from ontology.namespaces import reference_graph, scheme_iri, sparql_prefixes
from search.understanding import QueryUnderstanding

SCHEME = URIRef(scheme_iri("praktijkterm"))
KINDS = {"jargon", "programma", "component", "actor", "plaats", "probleem", "geld", "aanpak"}


def _concepts() -> list[URIRef]:
    g = load_thesaurus()
    return [c for c in g.subjects(SKOS.inScheme, SCHEME) if isinstance(c, URIRef)]


def test_at_least_150_small_groups_in_the_required_kinds() -> None:
    g = load_thesaurus()
    concepts = _concepts()
    assert len(concepts) >= 150
    membership = Counter(m for c in g.subjects(RDF.type, SKOS.Collection)
                         for m in g.objects(c, SKOS.member))
    assert all(membership[c] == 1 for c in concepts)  # each in exactly one collection
    collections = {str(c).rsplit("collectie-", 1)[-1]
                   for c in g.subjects(RDF.type, SKOS.Collection)}
    assert collections >= KINDS
    for c in concepts:
        labels = {str(o) for p in (SKOS.prefLabel, SKOS.altLabel) for o in g.objects(c, p)
                  if isinstance(o, Literal) and o.language == "nl"}
        assert 2 <= len(labels) <= 7, (c, labels)  # near-equivalents, not a bag
        assert any(o.language == "en" for o in g.objects(c, SKOS.prefLabel)
                   if isinstance(o, Literal)), c


def test_no_label_belongs_to_two_groups() -> None:
    g = load_thesaurus()
    owner: dict[str, URIRef] = {}
    for c in _concepts():
        own = {str(o).casefold() for p in (SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel)
               for o in g.objects(c, p) if isinstance(o, Literal) and o.language == "nl"}
        for label in own:
            assert owner.setdefault(label, c) == c, (label, owner[label], c)


def test_the_field_examples_of_the_brief_are_groups() -> None:
    """Jargon ↔ policy terms and brand ↔ generic, as the issue names them."""
    g = load_thesaurus()
    groups = [{str(o).casefold() for p in (SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel)
               for o in g.objects(c, p) if isinstance(o, Literal) and o.language == "nl"}
              for c in _concepts()]

    def together(*labels: str) -> bool:
        return any({x.casefold() for x in labels} <= group for group in groups)

    assert together("ESCO", "energiedienstenbedrijf")
    assert together("EPC", "energieprestatiecertificaat")
    assert together("wateroverlast", "overstroming")
    assert together("cofinanciering", "eigen inbreng")


def test_store_serves_the_thesaurus_and_search_reads_curated_additions() -> None:
    kb = KnowledgeBase(data_dir=None)
    try:
        rows = kb.store.select(sparql_prefixes() + f"""
            SELECT (COUNT(?c) AS ?n) WHERE {{ GRAPH <{reference_graph("thesaurus")}> {{
              ?c skos:inScheme <{SCHEME}> }} }}""")
        assert int(rows[0]["n"]) == len(_concepts())
        # a curator adds a group with SPARQL Update: search's understanding picks it up
        kb.store.update(sparql_prefixes() + f"""INSERT DATA {{
            <https://w3id.org/100wijken/id/concept/praktijkterm/kangoeroewonen>
              skos:inScheme <{SCHEME}> ; skos:notation "kangoeroewonen" ;
              skos:prefLabel "kangoeroewonen"@nl ; skos:altLabel "zorgwonen"@nl . }}""")
        u = QueryUnderstanding.from_store(kb.store).understand("regels voor zorgwonen")
        assert [(e.concept, e.terms) for e in u.expansions] == [
            ("kangoeroewonen", ("kangoeroewonen",))]
    finally:
        kb.close()
