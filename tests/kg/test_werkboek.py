"""The dynamisch werkboek (`kg.werkboek`) on the sample corpus: its structure checked against
independent SPARQL queries (every drempel once, under a werf of its themes; breakthroughs,
measures, lessons and sources as the graph links them; what is open), partial werkboeken, and
clean errors for an unknown scope."""

from __future__ import annotations

from collections import Counter

import pytest

from kg.errors import UserError
from kg.store import Store
from kg.werkboek import CHAPTER_SUBTYPE, Werkboek, WerkboekScope, build_werkboek
from ontology.namespaces import sparql_prefixes

P = sparql_prefixes()


@pytest.fixture(scope="module")
def book(sample_store: Store) -> Werkboek:
    return build_werkboek(sample_store)


def pairs(sample_store: Store, query: str) -> set[tuple[str, str]]:
    return {(str(r["a"]), str(r["b"])) for r in sample_store.select(P + query)}


def test_every_drempel_once_under_a_werf_and_theme_of_its_own(sample_store: Store,
                                                              book: Werkboek) -> None:
    thresholds = {str(r["t"]) for r in sample_store.select(
        P + "SELECT ?t WHERE { ?t a wk:Threshold }")}
    placed = Counter(d.iri for d in book.drempels)
    assert set(placed) == thresholds and set(placed.values()) == {1}
    theme_werf = pairs(sample_store, """SELECT ?a ?b WHERE { ?t a wk:Threshold ; dct:subject ?c .
        ?c skos:notation ?n ; wk:lekpWerf/skos:notation ?w BIND (STR(?t) AS ?a)
        BIND (CONCAT(?n, " ", ?w) AS ?b) }""")
    for part in book.parts:
        assert part.label.startswith("Werf ")
        for theme in part.themes:
            for d in theme.drempels:
                assert (d.iri, f"{theme.notation} {part.notation}") in theme_werf, d.id
                assert theme.label not in d.also_under


def test_breakthroughs_measures_and_lessons_are_the_linked_ones(sample_store: Store,
                                                                book: Werkboek) -> None:
    overcomes = pairs(sample_store, "SELECT ?a ?b WHERE { ?a a wk:Breakthrough ; wk:overcomes ?b }")
    addresses = pairs(sample_store, """SELECT ?a ?b WHERE { ?a wk:addresses ?b ; a ?c
        VALUES ?c { wk:Lesson wk:Measure } }""")
    uses = pairs(sample_store, "SELECT ?a ?b WHERE { ?a wk:usesMeasure ?b }")
    for d in book.drempels:
        assert {b.iri for b in d.breakthroughs} == {a for a, b in overcomes if b == d.iri}
        lessons = {e.iri for e in d.lessons}
        measures = {e.iri for e in d.measures}
        assert all(e.type == "lesson" for e in d.lessons)
        assert lessons | measures <= {a for a, b in addresses if b == d.iri}
        # A measure that addresses it is listed either on its own or under a breakthrough.
        via = {m.iri for b in d.breakthroughs for m in b.measures}
        assert measures | via >= {a for a, b in addresses if b == d.iri} - lessons
        for b in d.breakthroughs:
            assert {m.iri for m in b.measures} == {m for a, m in uses if a == b.iri}
        if not d.breakthroughs:
            assert d.status == "open", d.id
    assert {r.iri for r in book.open_drempels} == {d.iri for d in book.drempels
                                                   if d.status == "open"}
    assert book.open_drempels, "the sample has drempels nobody overcame yet"


def test_every_entry_names_its_source_as_the_graph_records_it(sample_store: Store,
                                                              book: Werkboek) -> None:
    sources = pairs(sample_store, """SELECT ?a ?b WHERE {
        ?a prov:wasGeneratedBy|dct:source ?b }""")
    entries = [e for d in book.drempels for e in (*d.breakthroughs, *d.measures, *d.lessons)]
    assert entries
    with_source = [e for e in entries if e.source is not None]
    assert len(with_source) >= 0.9 * len(entries)
    for e in with_source:
        assert (e.iri, e.source.iri) in sources, e.id
    for e in entries:
        assert (e.source is None) == all(a != e.iri for a, _ in sources), e.id


def test_each_item_is_written_out_once_and_repeats_point_there(book: Werkboek) -> None:
    full: Counter[str] = Counter()
    where: dict[str, str] = {}
    for d in book.drempels:
        for e in (*d.breakthroughs, *d.measures, *d.lessons):
            if e.shown_at is None:
                full[e.iri] += 1
                where[e.iri] = d.id
    assert full and set(full.values()) == {1}
    for d in book.drempels:
        for e in (*d.breakthroughs, *d.measures, *d.lessons):
            if e.shown_at is not None:
                assert e.shown_at.id == where[e.iri]


def test_where_it_occurs_matches_the_drempel_signals(sample_store: Store, book: Werkboek) -> None:
    municipalities = {str(r["t"]): int(str(r["n"])) for r in sample_store.select(P + """
        SELECT ?t (COUNT(DISTINCT ?m) AS ?n) WHERE { ?t a wk:Threshold .
          OPTIONAL { ?i (wk:addresses|wk:overcomes)? ?t .
                     ?i wk:municipality|wk:neighbourhood/wk:municipality ?m } } GROUP BY ?t""")}
    for d in book.drempels:
        assert len(d.municipalities) == municipalities[d.iri], d.id
        if d.first_date:
            assert d.last_date is not None and d.first_date <= d.last_date


def test_chapters_open_their_werf(sample_store: Store, book: Werkboek) -> None:
    chapters = {str(r["d"]) for r in sample_store.select(P + f"""SELECT ?d WHERE {{
        ?d a wk:SourceDocument ; dct:type/skos:notation "{CHAPTER_SUBTYPE}" }}""")}
    placed = [c.iri for p in book.parts for c in p.chapters]
    assert chapters and sorted(placed) == sorted(chapters)


def test_indexes_point_at_drempels_in_the_book(book: Werkboek) -> None:
    ids = {d.id for d in book.drempels}
    for index in (book.measures_index, book.actors_index, book.neighbourhoods_index):
        assert index and all(e.drempels and {r.id for r in e.drempels} <= ids for e in index)
        labels = [e.label.lower() for e in index]
        assert labels == sorted(labels)


def test_partial_werkboeken(sample_store: Store, book: Werkboek) -> None:
    werf = build_werkboek(sample_store, WerkboekScope(werf="werf-4"))
    assert [p.notation for p in werf.parts] == ["werf-4"] and werf.scope["werf"].startswith(
        "werf-4")
    in_werf = {str(r["t"]) for r in sample_store.select(P + """SELECT ?t WHERE { ?t a wk:Threshold ;
        dct:subject/wk:lekpWerf/skos:notation "werf-4" }""")}
    assert {d.iri for d in werf.drempels} == in_werf
    theme = build_werkboek(sample_store, WerkboekScope(theme="renovatie"))
    assert theme.drempels and all(t.notation == "renovatie" for p in theme.parts
                                  for t in p.themes)
    by_name = build_werkboek(sample_store, WerkboekScope(municipality="leuven"))
    by_nis = build_werkboek(sample_store, WerkboekScope(municipality="24062"))
    assert [d.id for d in by_name.drempels] == [d.id for d in by_nis.drempels]
    assert 0 < len(by_nis.drempels) < len(book.drempels)
    assert all("Leuven" in d.municipalities for d in by_nis.drempels)
    assert by_nis.scope == {"municipality": "Leuven"}


@pytest.mark.parametrize(("scope", "named"), [
    (WerkboekScope(werf="werf-9"), "werf-9"), (WerkboekScope(theme="geen-thema"), "renovatie"),
    (WerkboekScope(municipality="Atlantis"), "Atlantis")])
def test_an_unknown_scope_is_a_user_error(sample_store: Store, scope: WerkboekScope,
                                          named: str) -> None:
    with pytest.raises(UserError, match=named):
        build_werkboek(sample_store, scope)
