"""Facet counts over the candidate set (no browser: plain documents)."""

from __future__ import annotations

from api.web.facets import facet_counts, parse_filters, passes
from search.documents import Document, Ref

DOCS = [
    Document("a", "lesson", "iri:a", "A", "", themes=[Ref("water", "water")],
             municipality=Ref("44021", "Gent")),
    Document("b", "lesson", "iri:b", "B", "", themes=[Ref("water", "water"),
             Ref("renovatie", "renovatie")], municipality=Ref("11002", "Antwerpen")),
    Document("c", "measure", "iri:c", "C", "", themes=[Ref("renovatie", "renovatie")],
             municipality=Ref("44021", "Gent"), neighbourhood=Ref("muide", "Muide")),
]


def counts(facets: list, name: str) -> dict[str, int]:  # type: ignore[type-arg]
    facet = next(f for f in facets if f.name == name)
    return {v.value: v.count for v in facet.values}


def test_parse_filters_accepts_repeats_and_commas() -> None:
    params = [("q", "x"), ("type", "lesson,measure"), ("type", "lesson"), ("theme", " water "),
              ("actor", "x"), ("municipality", "")]
    assert parse_filters(params) == {"type": ["lesson", "measure"], "theme": ["water"]}


def test_counts_without_filters_cover_the_corpus() -> None:
    facets = facet_counts(DOCS, {})
    assert counts(facets, "type") == {"lesson": 2, "measure": 1}
    assert counts(facets, "theme") == {"water": 2, "renovatie": 2}
    assert counts(facets, "municipality") == {"44021": 2, "11002": 1}
    assert counts(facets, "neighbourhood") == {"muide": 1}


def test_counts_are_disjunctive_within_a_facet() -> None:
    selected = {"type": ["lesson"]}
    facets = facet_counts(DOCS, selected)
    assert counts(facets, "type") == {"lesson": 2, "measure": 1}  # own facet unaffected
    assert counts(facets, "theme") == {"water": 2, "renovatie": 1}
    assert counts(facets, "municipality") == {"44021": 1, "11002": 1}
    type_facet = next(f for f in facets if f.name == "type")
    assert [v.value for v in type_facet.selected] == ["lesson"]


def test_selected_value_without_matches_stays_visible() -> None:
    facets = facet_counts(DOCS, {"type": ["measure"], "theme": ["water"]})
    assert counts(facets, "theme") == {"renovatie": 1, "water": 0}
    assert counts(facets, "type") == {"lesson": 2, "measure": 0}


def test_passes_matches_names_and_codes_like_the_engine() -> None:
    assert passes(DOCS[0], {"municipality": ["Gent"]})
    assert passes(DOCS[0], {"municipality": ["44021"], "type": ["les", "measure"]})
    assert not passes(DOCS[2], {"theme": ["water"]})
