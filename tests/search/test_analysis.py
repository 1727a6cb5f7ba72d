"""Tests for the Dutch analyzer: folding, stopwords, stemming and compound splitting."""

from __future__ import annotations

import unicodedata

import pytest

from search.analysis import (
    STOPWORDS,
    DutchAnalyzer,
    analyze,
    build_lexicon,
    core_lexicon,
    default_analyzer,
    fold,
)

CORPUS = [
    "De gemeente Gent begeleidt eigenaars bij de collectieve renovatie van hun rijwoningen.",
    "Het hemelwater van de daken gaat naar een wadi; hemelwater opvangen kost weinig ruimte.",
    "Op de Hoppinpunten in Mechelen staan deelfietsen en deelwagens; elk Hoppinpunt heeft "
    "een laadpaal.",
    "Bewoners vragen meer participatie bij de heraanleg van het openbaar domein.",
    "De energiegemeenschap verkoopt stroom van zonnepanelen aan kwetsbare gezinnen.",
    "Een warmtenet in de sociale woonwijk vraagt een investering van de huisvestingsmaatschappij.",
]

NON_COMPOUNDS = [
    "gemeente",
    "energie",
    "participatie",
    "organisatie",
    "bewoners",
    "financiering",
    "klimaat",
    "vereniging",
    "investering",
    "overheid",
    "eigenaar",
    "verwarming",
    "ondersteuning",
]


@pytest.fixture(scope="module")
def corpus_analyzer() -> DutchAnalyzer:
    return DutchAnalyzer.from_corpus(CORPUS)


def test_fold_strips_accents_and_case() -> None:
    assert fold("Coöperatie") == "cooperatie"
    assert fold("één") == "een"
    assert fold(unicodedata.normalize("NFD", "Coöperatie")) == "cooperatie"
    assert fold("ﬁetsstraat") == "fietsstraat"  # compatibility ligature


def test_accented_and_plain_spellings_give_the_same_terms() -> None:
    plain = analyze("cooperatie")
    assert plain
    assert analyze("Coöperatie") == plain
    assert analyze(unicodedata.normalize("NFD", "COÖPERATIE")) == plain
    assert analyze("één coöperatie") == plain  # "een" folds to a stopword


def test_hyphenated_compounds_keep_their_parts() -> None:
    assert analyze("openbaar-domein") == analyze("openbaar domein")
    assert analyze("Energie- en klimaatpact") == analyze("energie klimaatpact")


def test_numbers_are_kept_and_single_letters_dropped() -> None:
    a = default_analyzer()
    assert analyze("100 wijken") == ["100", a.stem("wijken")]
    assert analyze("auto's") == [a.stem("auto")]
    assert analyze("CO2-uitstoot") == ["co2", a.stem("uitstoot")]


def test_stopwords_list_is_real_and_covers_question_words() -> None:
    assert len(STOPWORDS) >= 100
    assert {"hoe", "wat", "welke", "waar", "wie", "hebben", "anderen", "de", "het"} <= STOPWORDS
    assert not STOPWORDS & {"renovatie", "energie", "wijk", "drempel", "water"}


def test_stopwords_drop_from_questions() -> None:
    terms = analyze("Hoe hebben anderen collectieve renovatie gefinancierd?")
    a = default_analyzer()
    assert a.stem("renovatie") in terms
    assert a.stem("collectief") in terms
    assert len(terms) == 3
    assert analyze("Wat is het en waar zijn ze?") == []


@pytest.mark.parametrize(
    ("plural", "singular"),
    [
        ("renovaties", "renovatie"),
        ("wagens", "wagen"),
        ("drempels", "drempel"),
        ("woningen", "woning"),
        ("subsidies", "subsidie"),
        ("bedrijven", "bedrijf"),
        ("gezinnen", "gezin"),
        ("speelplaatsen", "speelplaats"),
        ("collectieve", "collectief"),
        ("ontharden", "ontharding"),
    ],
)
def test_stemming_conflates_inflections(plural: str, singular: str) -> None:
    a = default_analyzer()
    assert a.stem(plural) == a.stem(singular)
    assert analyze(plural)[0] == analyze(singular)[0]


def test_stemming_keeps_unrelated_words_apart() -> None:
    a = default_analyzer()
    assert a.stem("begeleiding") != a.stem("beleid")
    assert a.stem("gezin") != a.stem("zin")
    assert a.stem("gemeente") != a.stem("mening")


@pytest.mark.parametrize(
    ("word", "parts"),
    [
        ("renovatiebegeleiding", ["renovatie", "begeleiding"]),
        ("warmtenet", ["warmte", "net"]),
        ("deelwagens", ["deel", "wagens"]),
        ("speelplaatsen", ["speel", "plaatsen"]),
        ("hemelwateropvang", ["hemel", "water", "opvang"]),
        ("stadsvernieuwing", ["stad", "vernieuwing"]),  # linking -s-
        ("gemeentebestuur", ["gemeente", "bestuur"]),
        ("woningenbouw", ["woningen", "bouw"]),
    ],
)
def test_compounds_split_into_known_parts(word: str, parts: list[str]) -> None:
    a = default_analyzer()
    assert a.split_compound(word) == parts
    terms = a.analyze(word)
    assert terms[0] == a.stem(word)  # the whole word is kept
    assert {a.stem(p) for p in parts} <= set(terms)


def test_compound_parts_match_their_standalone_forms() -> None:
    a = default_analyzer()
    assert {a.stem("wagen"), a.stem("delen")} <= set(a.analyze("deelwagens"))
    assert {a.stem("speel"), a.stem("plaats")} <= set(a.analyze("speelplaatsen"))
    assert a.stem("woning") in a.analyze("woningenbouw")


@pytest.mark.parametrize("word", NON_COMPOUNDS)
def test_plain_words_are_not_split(word: str, corpus_analyzer: DutchAnalyzer) -> None:
    assert default_analyzer().split_compound(word) == []
    assert corpus_analyzer.split_compound(word) == []
    assert analyze(word) == [default_analyzer().stem(word)]


def test_corpus_lexicon_prefers_longest_parts_and_splits_them_again(
    corpus_analyzer: DutchAnalyzer,
) -> None:
    assert "hemelwater" in corpus_analyzer.lexicon
    assert corpus_analyzer.split_compound("hemelwateropvang") == [
        "hemelwater",
        "opvang",
        "hemel",
        "water",
    ]


def test_build_lexicon_learns_frequent_corpus_words() -> None:
    lexicon = build_lexicon(CORPUS)
    assert core_lexicon() <= lexicon
    assert "hemelwater" in lexicon  # seen twice
    assert "laadpaal" not in lexicon  # seen once
    assert "hoppin" not in lexicon  # never seen alone
    assert "het" not in lexicon and "een" not in lexicon
    # A part that only the corpus knows makes a new compound splittable.
    learned = DutchAnalyzer.from_corpus([*CORPUS, "De hoppin aanpak en hoppin werkt."])
    assert default_analyzer().split_compound("hoppinpunten") == []
    assert learned.split_compound("hoppinpunten") == ["hoppin", "punten"]


def test_core_lexicon_file_is_clean() -> None:
    words = core_lexicon()
    assert 300 <= len(words) <= 600
    assert all(w == fold(w) and w.isalpha() for w in words)
    assert not words & STOPWORDS


def test_analyze_words_keeps_surface_forms() -> None:
    words = default_analyzer().analyze_words("Hoe werken de Deelwagens?")
    assert [w for w, _ in words] == ["Hoe", "werken", "de", "Deelwagens"]
    assert words[0][1] == ()
    assert default_analyzer().stem("wagen") in words[3][1]


def test_config_round_trip_and_fingerprint(corpus_analyzer: DutchAnalyzer) -> None:
    rebuilt = DutchAnalyzer.from_config(corpus_analyzer.config())
    assert rebuilt.fingerprint() == corpus_analyzer.fingerprint()
    assert rebuilt.analyze(CORPUS[1]) == corpus_analyzer.analyze(CORPUS[1])
    assert corpus_analyzer.fingerprint() != default_analyzer().fingerprint()
