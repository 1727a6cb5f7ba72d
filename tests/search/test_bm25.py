"""Tests for the Dutch BM25 index: ranking, compounds, filters, updates, persistence."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.analysis import DutchAnalyzer
from search.bm25 import BM25Index

RECORDS: dict[str, dict[str, str]] = {
    "les-deelwagens": {
        "title": "Buurtbewoners beheren samen elektrische deelwagens",
        "text": "In de wijk Ledeberg gebruiken twintig gezinnen drie elektrische deelwagens. "
        "De bewoners regelen de reservaties via een app en betalen per kilometer. "
        "Een vrijwilliger volgt het onderhoud op.",
    },
    "les-collectieve-renovatie": {
        "title": "Collectieve renovatie gefinancierd met een renteloze lening",
        "text": "Vijftig eigenaars in een naoorlogse tuinwijk renoveerden samen hun daken en "
        "gevels. De gemeente combineerde de Mijn VerbouwLening met een eigen premie, zodat "
        "ook gezinnen met een laag inkomen de renovatie konden financieren.",
    },
    "drempel-ontharding-speelplaatsen": {
        "title": "Ontharding van speelplaatsen botst op onderhoudskosten",
        "text": "Scholen willen hun speelplaatsen vergroenen, maar het schoolbestuur vreest "
        "hogere kosten voor het onderhoud van gras en bomen. Ook modder in de klaslokalen "
        "is een drempel.",
    },
    "maatregel-warmtenet": {
        "title": "Een warmtenet voor de sociale woonwijk",
        "text": "De huisvestingsmaatschappij sluit tweehonderd sociale woningen aan op een "
        "warmtenet dat restwarmte van een nabij bedrijf gebruikt.",
    },
    "les-hemelwater": {
        "title": "Hemelwateropvang in het openbaar domein",
        "text": "Bij de heraanleg van de straat leidt de stad het regenwater van de daken naar "
        "een wadi op het plein. Zo infiltreert het water in de bodem.",
    },
    "maatregel-renovatiebegeleiding": {
        "title": "Renovatiebegeleiding via het Energiehuis",
        "text": "Het Energiehuis biedt gratis renovatiebegeleiding aan eigenaars: een "
        "renovatieadviseur komt langs, maakt een stappenplan en zoekt aannemers.",
    },
    "les-begeleiding": {
        "title": "Begeleiding op maat bij de renovatie van rijwoningen",
        "text": "Een coach van de intercommunale volgt elke eigenaar op, van de eerste "
        "energiescan tot de oplevering van de werken.",
    },
    "doorbraak-energiegemeenschap": {
        "title": "Een energiegemeenschap in de wijk",
        "text": "Bewoners en de gemeente richten een coöperatie op die zonnestroom van de "
        "daken van de school deelt met de buren.",
    },
}


def build(records: dict[str, dict[str, str]] = RECORDS, **kwargs: object) -> BM25Index:
    index = BM25Index(**kwargs)  # type: ignore[arg-type]
    for key, fields in records.items():
        index.add(key, fields)
    return index


@pytest.fixture()
def index() -> BM25Index:
    return build()


def keys(hits: list[tuple[str, float]]) -> list[str]:
    return [key for key, _ in hits]


def test_len_and_contains(index: BM25Index) -> None:
    assert len(index) == len(RECORDS)
    assert "les-hemelwater" in index
    assert "onbekend" not in index


def test_query_parts_match_document_compound(index: BM25Index) -> None:
    hits = index.search("wagen delen", k=3)
    assert keys(hits)[0] == "les-deelwagens"
    assert hits[0][1] > 0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Hoe hebben anderen collectieve renovatie gefinancierd?", "les-collectieve-renovatie"),
        ("drempels bij het ontharden van speelplaatsen", "drempel-ontharding-speelplaatsen"),
        ("opvang van regenwater op straat", "les-hemelwater"),
        ("warmtenetten en restwarmte", "maatregel-warmtenet"),
    ],
)
def test_expert_questions_find_the_right_record(
    index: BM25Index, query: str, expected: str
) -> None:
    assert keys(index.search(query, k=3))[0] == expected


def test_query_compound_matches_document_parts(index: BM25Index) -> None:
    hits = keys(index.search("renovatiebegeleiding", k=5))
    # The exact compound ranks first, a record with "begeleiding ... renovatie" still matches.
    assert hits[0] == "maatregel-renovatiebegeleiding"
    assert "les-begeleiding" in hits


def test_title_weighs_more_than_text() -> None:
    index = BM25Index()
    index.add("in-titel", {"title": "Warmtenet", "text": "Een project in Kortrijk."})
    index.add("in-tekst", {"title": "Een project in Kortrijk", "text": "Warmtenet."})
    hits = index.search("warmtenet", k=2)
    assert keys(hits) == ["in-titel", "in-tekst"]
    assert hits[0][1] > hits[1][1]


def test_stopword_query_returns_nothing(index: BM25Index) -> None:
    assert index.search("hoe hebben anderen dat gedaan?", k=5) == []
    assert index.search("renovatie", k=0) == []


def test_allowed_ranks_only_among_allowed_keys() -> None:
    records = {
        f"les-{i:02d}": {
            "title": f"Les {i} over wijkrenovatie",
            "text": "De renovatie van de wijk liep vlot. " * (1 + i % 5)
            + "Bewoners waren tevreden.",
        }
        for i in range(30)
    }
    index = build(records)
    full = index.search("renovatie", k=30)
    assert len(full) == 30
    # Filter to the twelve lowest-ranked keys: a post-filter of the top 5 would return nothing.
    allowed = {key for key, _ in full[-12:]}
    hits = index.search("renovatie", k=5, allowed=allowed)
    assert len(hits) == 5
    assert set(keys(hits)) <= allowed
    assert hits == [hit for hit in full if hit[0] in allowed][:5]
    # Unknown keys in the filter are ignored; an empty filter yields nothing.
    assert index.search("renovatie", k=5, allowed=[*allowed, "bestaat-niet"]) == hits
    assert index.search("renovatie", k=5, allowed=[]) == []


def test_remove_updates_statistics(index: BM25Index) -> None:
    query = "renovatie van woningen met begeleiding"
    extra = {
        "title": "Renovatie van woningen",
        "text": "Renovatie, renovatie en nog eens renovatie van sociale woningen.",
    }
    before = index.search(query, k=10)
    index.add("extra", extra)
    assert len(index) == len(RECORDS) + 1
    with_extra = index.search(query, k=10)
    assert keys(with_extra)[0] == "extra"
    assert dict(with_extra)["les-begeleiding"] != dict(before)["les-begeleiding"]  # idf moved
    index.remove("extra")
    assert len(index) == len(RECORDS)
    assert index.search(query, k=10) == before
    assert index.search(query, k=10) == build().search(query, k=10)
    with pytest.raises(KeyError):
        index.remove("extra")


def test_add_existing_key_replaces_document(index: BM25Index) -> None:
    index.add("les-deelwagens", {"title": "Fietsstraten", "text": "Een fietsstraat in Gent."})
    assert len(index) == len(RECORDS)
    assert "les-deelwagens" not in keys(index.search("deelwagens", k=5))
    assert keys(index.search("fietsstraat", k=1)) == ["les-deelwagens"]


def test_explain_names_matched_query_words(index: BM25Index) -> None:
    assert index.explain("wagen delen", "les-deelwagens") == ["wagen", "delen"]
    assert index.explain("Hoe financieren anderen de renovatie?", "les-collectieve-renovatie") == [
        "financieren",
        "renovatie",
    ]
    # "zonnepanelen" matches through its part "zonne" (the record says "zonnestroom").
    explained = index.explain(
        "Coöperatie, warmtepompen en zonnepanelen", "doorbraak-energiegemeenschap"
    )
    assert explained == ["Coöperatie", "zonnepanelen"]
    assert index.explain("warmtenet", "les-deelwagens") == []
    assert index.explain("warmtenet", "onbekend") == []


def test_save_load_round_trip(tmp_path: Path) -> None:
    texts = [f"{r['title']} {r['text']}" for r in RECORDS.values()]
    analyzer = DutchAnalyzer.from_corpus(texts)
    index = build(analyzer=analyzer, k1=1.5, b=0.6, weights={"title": 3.0, "text": 1.0})
    index.remove("les-begeleiding")
    path = tmp_path / "bm25.json.gz"
    index.save(path)

    loaded = BM25Index.load(path)
    assert len(loaded) == len(index)
    assert (loaded.k1, loaded.b, loaded.weights) == (1.5, 0.6, {"title": 3.0, "text": 1.0})
    assert loaded.analyzer.fingerprint() == analyzer.fingerprint()
    for query in ["wagen delen", "renovatiebegeleiding", "hemelwater en regenwater", "wijk"]:
        assert loaded.search(query, k=10) == index.search(query, k=10)
        assert loaded.explain(query, "les-hemelwater") == index.explain(query, "les-hemelwater")
    # Incremental updates keep working after a load.
    loaded.add("les-begeleiding", RECORDS["les-begeleiding"])
    assert "les-begeleiding" in keys(loaded.search("begeleiding", k=3))


def test_load_refuses_other_analyzer(tmp_path: Path) -> None:
    path = tmp_path / "bm25.json.gz"
    build().save(path)
    other = DutchAnalyzer.from_corpus(["deelmobiliteit deelmobiliteit hoppin hoppin"])
    with pytest.raises(ValueError, match="another analyzer"):
        BM25Index.load(path, analyzer=other)
    assert len(BM25Index.load(path, analyzer=DutchAnalyzer())) == len(RECORDS)


def test_load_refuses_foreign_file(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "andere.json.gz"
    path.write_bytes(gzip.compress(b'{"format": "iets-anders"}'))
    with pytest.raises(ValueError, match="not a wijken-bm25"):
        BM25Index.load(path)
