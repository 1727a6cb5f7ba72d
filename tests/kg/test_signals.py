"""Drempel signals (`kg.signals`) on the sample corpus, each count checked against an
independent SPARQL query written another way (property paths instead of unions, one count per
query), and the filters."""

from __future__ import annotations

import pytest

from api.sparql.examples import SIGNALS_QUERY
from kg.errors import UserError
from kg.signals import SignalFilters, build_signals, signal_options, signal_rows
from kg.store import Store

PREFIXES = SIGNALS_QUERY.split("SELECT", 1)[0]


def counts(sample_store: Store, query: str) -> dict[str, int]:
    """{threshold IRI: n} from a query selecting ?drempel and ?n."""
    return {str(r["drempel"]): int(str(r["n"])) for r in sample_store.select(PREFIXES + query)}


def test_every_count_agrees_with_an_independent_query(sample_store: Store) -> None:
    signals = build_signals(sample_store)
    thresholds = counts(sample_store, "SELECT ?drempel (1 AS ?n) WHERE { ?drempel a wk:Threshold }")
    assert {s.iri for s in signals} == set(thresholds) and len(signals) >= 40
    # The published example query: municipalities and lessons.
    example = {str(r["drempel"]): (int(str(r["gemeenten"])), int(str(r["lessen"])))
               for r in sample_store.select(SIGNALS_QUERY.replace("LIMIT 20", ""))}
    evidence = "?item (wk:addresses|wk:overcomes)? ?drempel . ?drempel a wk:Threshold ."
    wijken = counts(sample_store, f"""SELECT ?drempel (COUNT(DISTINCT ?w) AS ?n) WHERE {{
        {evidence} OPTIONAL {{ ?item wk:neighbourhood ?w }} }} GROUP BY ?drempel""")
    linked = counts(sample_store, """SELECT ?drempel (COUNT(DISTINCT ?item) AS ?n) WHERE {
        ?drempel a wk:Threshold . OPTIONAL { ?item wk:addresses|wk:overcomes ?drempel }
        } GROUP BY ?drempel""")
    activities = counts(sample_store, f"""SELECT ?drempel (COUNT(DISTINCT ?a) AS ?n) WHERE {{
        {evidence} OPTIONAL {{ ?item <http://www.w3.org/ns/prov#wasGeneratedBy> ?a }} }}
        GROUP BY ?drempel""")
    places = counts(sample_store, """SELECT ?drempel (COUNT(DISTINCT ?m) AS ?n) WHERE {
        ?drempel a wk:Threshold . OPTIONAL { ?b a wk:Breakthrough ; wk:overcomes ?drempel ;
        wk:municipality|wk:neighbourhood/wk:municipality ?m } } GROUP BY ?drempel""")
    for s in signals:
        assert (s.municipalities, s.lessons) == example[s.iri], s.id
        assert s.neighbourhoods == wijken[s.iri], s.id
        assert s.linked_items == linked[s.iri], s.id
        assert s.activities == activities[s.iri], s.id
        expected = "overwonnen" if places[s.iri] >= 2 else "deels" if places[s.iri] else "open"
        assert s.status == expected, s.id
        assert len(s.places) == s.municipalities
        assert sum(s.trend.values()) <= s.linked_items
        if s.first_date:
            assert s.last_date and s.first_date <= s.last_date
    levels = {str(r["drempel"]): (str(r["level"]), str(r.get("priority") or "false"))
              for r in sample_store.select(PREFIXES + """SELECT ?drempel ?level ?priority WHERE {
        ?drempel a wk:Threshold ; wk:policyLevel/skos:notation ?level .
        OPTIONAL { ?drempel wk:priority ?priority } }""")}
    for s in signals:
        level, priority = levels.get(s.iri, ("", "false"))
        assert (s.policy_level.id if s.policy_level else "") == level, s.id
        assert s.priority == (priority == "true"), s.id
    assert any(s.priority for s in signals) and len(levels) == len(signals)
    # Most widely recurring first; the statuses occur as the sample has them.
    assert [s.municipalities for s in signals] == sorted((s.municipalities for s in signals),
                                                         reverse=True)
    assert {s.status for s in signals} >= {"overwonnen", "open"}


def test_filters_narrow_drempels_or_evidence(sample_store: Store) -> None:
    everything = {s.id: s for s in build_signals(sample_store)}
    options = signal_options(sample_store)
    theme = options["theme"][0][0]
    themed = build_signals(sample_store, SignalFilters(theme=theme))
    assert themed and all(theme in {t.id for t in s.themes} for s in themed)
    assert len(themed) < len(everything)
    werf = options["werf"][0][0]
    assert all(werf in s.werven for s in build_signals(sample_store, SignalFilters(werf=werf)))
    federal = build_signals(sample_store, SignalFilters(level="federaal"))
    assert federal and all(s.policy_level and s.policy_level.id == "federaal" for s in federal)
    assert options["level"][0][0] == "lokaal"
    limburg = build_signals(sample_store, SignalFilters(province="70000"))
    provinces = {str(r["nis"]): str(r["p"]) for r in sample_store.select(
        PREFIXES + "SELECT ?nis ?p WHERE { ?m a wk:Municipality ; dct:identifier ?nis ; "
                   "wk:province/dct:identifier ?p }")}
    assert limburg
    for s in limburg:
        assert s.places and all(provinces[p.id] == "70000" for p in s.places)
        assert s.municipalities <= everything[s.id].municipalities
        assert s.linked_items <= everything[s.id].linked_items


@pytest.mark.parametrize(("filters", "message"), [
    (SignalFilters(theme="geen-thema"), "theme 'geen-thema'"),
    (SignalFilters(werf="werf-99"), "werf 'werf-99'"),
    (SignalFilters(province="Limburg"), "province 'Limburg'"),
    (SignalFilters(level="gemeentelijk"), "level 'gemeentelijk'"),
])
def test_unknown_filter_values_name_the_parameter_and_the_known_ones(
        sample_store: Store, filters: SignalFilters, message: str) -> None:
    with pytest.raises(UserError, match=message) as info:
        build_signals(sample_store, filters)
    assert "use one of" in str(info.value)


def test_rows_follow_the_columns(sample_store: Store) -> None:
    from kg.signals import SIGNAL_COLUMNS

    signals = build_signals(sample_store)[:3]
    rows = signal_rows(signals)
    assert all(len(r) == len(SIGNAL_COLUMNS) for r in rows)
    assert rows[0][0] == signals[0].title and rows[0][-1] == signals[0].iri


def test_a_wijk_meets_the_drempels_its_own_items_link(sample_store: Store) -> None:
    from kg.traversal import neighbourhood_thresholds

    wijken = [str(r["w"]) for r in sample_store.select(
        PREFIXES + "SELECT ?w WHERE { ?w a wk:Neighbourhood } ORDER BY ?w")]
    assert len(wijken) >= 8
    seen_located_only = 0
    for w in wijken:
        met = neighbourhood_thresholds(sample_store, w)
        linked = {str(r["t"]): int(str(r["n"])) for r in sample_store.select(PREFIXES + f"""
            SELECT ?t (COUNT(DISTINCT ?i) AS ?n) WHERE {{ ?i wk:neighbourhood <{w}> ;
            wk:addresses|wk:overcomes ?t . ?t a wk:Threshold }} GROUP BY ?t""")}
        located = {str(r["t"]) for r in sample_store.select(PREFIXES + f"""
            SELECT ?t WHERE {{ ?t a wk:Threshold ; wk:neighbourhood <{w}> }}""")}
        assert {m.iri for m in met} == set(linked) | located, w
        for m in met:
            assert len(m.items) == linked.get(m.iri, 0), (w, m.id)
        overcome = {str(r["t"]) for r in sample_store.select(PREFIXES + f"""
            SELECT ?t WHERE {{ ?b a wk:Breakthrough ; wk:neighbourhood <{w}> ;
            wk:overcomes ?t }}""")}
        assert {m.iri for m in met if m.overcome_here} == overcome, w
        assert [len(m.items) for m in met] == sorted((len(m.items) for m in met), reverse=True)
        seen_located_only += sum(1 for m in met if m.iri not in located)
    # The point of it: far more drempels than the one located in a wijk.
    assert seen_located_only > 20


def test_wijken_side_by_side_count_what_the_graph_holds(sample_store: Store) -> None:
    from kg.traversal import compare_neighbourhoods, neighbourhood_thresholds

    wijken = compare_neighbourhoods(sample_store)
    pioneers = {str(r["w"]) for r in sample_store.select(
        PREFIXES + "SELECT ?w WHERE { ?w a wk:Neighbourhood ; wk:pioneer true }")}
    assert len(pioneers) >= 8
    assert [w.pioneer for w in wijken] == sorted((w.pioneer for w in wijken), reverse=True)
    assert {w.iri for w in wijken if w.pioneer} == pioneers
    lessons = counts(sample_store, """SELECT ?drempel (COUNT(DISTINCT ?l) AS ?n) WHERE {
        ?drempel a wk:Neighbourhood . ?l a wk:Lesson ; wk:neighbourhood ?drempel }
        GROUP BY ?drempel""")
    for w in wijken:
        assert w.items.get("lesson", 0) == lessons.get(w.iri, 0), w.id
        met = neighbourhood_thresholds(sample_store, w.iri)
        assert w.thresholds == len(met) and w.overcome == sum(m.overcome_here for m in met)
        assert w.municipality is not None, w.id
    assert sum(w.thresholds for w in wijken if w.pioneer) > len(pioneers)


def test_a_wijk_timeline_lists_its_dated_items_and_their_activities(sample_store: Store) -> None:
    from kg.traversal import neighbourhood_timeline

    w = "https://w3id.org/100wijken/id/neighbourhood/mijncite-beringen"
    timeline = neighbourhood_timeline(sample_store, w)
    dates = {str(r["id"]): str(r["date"])[:10] for r in sample_store.select(PREFIXES + f"""
        SELECT ?id ?date WHERE {{ ?i wk:neighbourhood <{w}> ; dct:identifier ?id .
        OPTIONAL {{ ?i dct:date ?own }} OPTIONAL {{ ?i <http://www.w3.org/ns/prov#wasGeneratedBy>
        /dct:date ?act }} BIND (COALESCE(?own, ?act) AS ?date) FILTER (BOUND(?date)) }}""")}
    items = {e.id: e.date for e in timeline if e.type != "activity"}
    assert items == dates and len(items) >= 5
    assert [e.date for e in timeline] == sorted(e.date for e in timeline)
    activities = {e.id for e in timeline if e.type == "activity"}
    assert activities == {e.activity.id for e in timeline if e.activity is not None}
