"""Query understanding (search/understanding.py): intents from the question's form, named graph
resources on lemmas, inflections and lowercase names, thesaurus groups, and the suggestions
and answer card built from them (search/answers.py)."""

from __future__ import annotations

import pytest

from search.answers import answer_card, suggestions
from search.documents import Document, Ref
from search.hybrid import Fused, LinkGraph
from search.understanding import QueryUnderstanding, Understanding, _Resource, intent_of


@pytest.mark.parametrize(("question", "intent"), [
    ("hoe hebben anderen collectieve renovatie gefinancierd?", "how"),
    ("Hoe pak je een warmtenet aan in een oude wijk", "how"),
    ("op welke manier betrek je huurders", "how"),
    ("welke drempels zijn er bij collectieve renovatie?", "which-threshold"),
    ("Welke typische knelpunten bij deelmobiliteit", "which-threshold"),
    ("wat houdt eigenaars tegen om te isoleren", "which-threshold"),
    ("waarom lukt renovatie in appartementen niet", "which-threshold"),
    ("wie kan helpen bij een groepsaankoop", "who"),
    ("met welke partners werk je samen voor een warmtenet", "who"),
    ("waar werd al een rollend fonds opgezet?", "where"),
    ("in welke gemeenten loopt een burenpremie", "where"),
    ("warmtenet gent", None),
    ("renovatiebegeleiding voor kwetsbare eigenaars", None),
])
def test_intent_from_the_question_form(question: str, intent: str | None) -> None:
    found = intent_of(question)
    assert (found.name if found else None) == intent


def test_intents_name_the_types_that_answer_them() -> None:
    how = intent_of("hoe hebben anderen dat gedaan")
    assert how is not None and set(how.types) == {"measure", "breakthrough"}
    which = intent_of("welke drempels zijn er")
    assert which is not None and which.types == ("threshold",)


@pytest.fixture(scope="module")
def understanding() -> QueryUnderstanding:
    resources = [
        _Resource("theme", "financiering", "financiering", {"rollend fonds"}),
        _Resource("theme", "renovatie", "renovatie", {"woningrenovatie"}),
        _Resource("theme", "mobiliteit", "mobiliteit", {"deelwagen"}),
        _Resource("municipality", "44021", "Gent"),
        _Resource("municipality", "11005", "Boom"),
        _Resource("actor", "fluvius", "Fluvius", {"netbeheerder"}),
        _Resource("neighbourhood", "rabot", "Rabot"),
        _Resource("concept", "voorfinanciering", "voorfinanciering",
                  {"prefinanciering", "voorschot"}),
        _Resource("concept", "vme", "vereniging van mede-eigenaars", {"VME"}),
    ]
    return QueryUnderstanding(resources)


def test_named_resources_on_inflections_and_lowercase_names(
        understanding: QueryUnderstanding) -> None:
    u = understanding.understand("deelwagens en een rollend fonds in gent")
    named = {(n.kind, n.id, n.text) for n in u.named}
    assert ("theme", "mobiliteit", "deelwagens") in named
    assert ("theme", "financiering", "rollend fonds") in named
    assert ("municipality", "44021", "gent") in named
    assert u.facets() == {"theme": {"mobiliteit", "financiering"}, "municipality": {"44021"}}


def test_verb_forms_meet_their_infinitive(understanding: QueryUnderstanding) -> None:
    u = understanding.understand("hoe hebben anderen dat gefinancierd?")
    assert [(n.id, n.text) for n in u.named] == [("financiering", "gefinancierd")]
    u = understanding.understand("wie renoveerde er samen?")
    assert [(n.id, n.text) for n in u.named] == [("renovatie", "renoveerde")]


def test_a_name_that_is_a_dutch_word_needs_its_capital(
        understanding: QueryUnderstanding) -> None:
    assert not understanding.understand("een boom planten in de straat").named
    assert [n.id for n in understanding.understand("bomen planten in Boom").named] == ["11005"]


def test_thesaurus_groups_give_the_other_labels(understanding: QueryUnderstanding) -> None:
    u = understanding.understand("hoe regelen andere steden de prefinanciering voor een vme?")
    by = {e.concept: e for e in u.expansions}
    assert set(by) == {"voorfinanciering", "vme"}
    assert by["voorfinanciering"].text == "prefinanciering"
    assert set(by["voorfinanciering"].terms) == {"voorfinanciering", "voorschot"}
    assert "VME" not in by["vme"].terms and "vereniging van mede-eigenaars" in by["vme"].terms
    assert u.intent is not None and u.intent.name == "how"
    assert not u.named  # thesaurus groups are expansions, not facets


def test_nothing_named_in_an_unrelated_question(understanding: QueryUnderstanding) -> None:
    u = understanding.understand("zomaar een zin zonder bekende termen")
    assert u == Understanding(intent=None, named=(), expansions=())


def _doc(rid: str, type_: str, **links: object) -> Document:
    return Document(id=rid, type=type_, iri=f"https://example.org/{rid}", title=f"Titel {rid}",
                    text="", **links)  # type: ignore[arg-type]


def test_suggestions_offer_named_facets_not_yet_chosen(
        understanding: QueryUnderstanding) -> None:
    u = understanding.understand("hoe financieren ze deelwagens in Gent?")
    got = {(s.filter, s.value, s.label) for s in suggestions(u, {})}
    assert ("theme", "mobiliteit", "thema mobiliteit") in got
    assert ("municipality", "44021", "gemeente Gent") in got
    assert ("type", "measure,breakthrough", "alleen maatregelen en doorbraken") in got
    chosen = {(s.filter, s.value) for s in suggestions(u, {"municipality": "Gent",
                                                            "type": "lesson"})}
    assert ("municipality", "44021") not in chosen and not any(f == "type" for f, _ in chosen)


def test_answer_card_lists_who_overcame_the_touched_thresholds_where_and_how() -> None:
    gent, genk = Ref("44021", "Gent"), Ref("71016", "Genk")
    docs = {
        "t1": _doc("t1", "threshold"),
        "t2": _doc("t2", "threshold"),
        "l1": _doc("l1", "lesson", thresholds=[Ref("t1", "Titel t1")]),
        "b1": _doc("b1", "breakthrough", thresholds=[Ref("t1", "Titel t1")],
                   measures=[Ref("m1", "Titel m1")], municipality=gent,
                   actors=[Ref("fluvius", "Fluvius")]),
        "b2": _doc("b2", "breakthrough", thresholds=[Ref("t1", "Titel t1")],
                   municipality=genk),
        "m1": _doc("m1", "measure", thresholds=[Ref("t2", "Titel t2")]),
        "x": _doc("x", "lesson"),
    }
    ranked = [Fused("l1", score=1.0), Fused("x", score=0.9), Fused("m1", score=0.5),
              Fused("b2", score=0.4)]
    card = answer_card(ranked, docs, LinkGraph(docs), Understanding())
    assert card is not None
    assert [t.id for t in card.thresholds] == ["t1", "t2"]
    t1 = card.thresholds[0]
    assert t1.status == "overwonnen" and [p.title for p in t1.places] == ["Genk", "Gent"]
    assert [b.id for b in t1.breakthroughs] == ["b2", "b1"]  # the ranked one first
    b1 = t1.breakthroughs[1]
    assert b1.municipality is not None and b1.municipality.title == "Gent"
    assert [m.id for m in b1.measures] == ["m1"] and [a.id for a in b1.actors] == ["fluvius"]
    t2 = card.thresholds[1]
    assert t2.status == "open" and not t2.breakthroughs and [m.id for m in t2.measures] == ["m1"]
    assert answer_card([Fused("x", score=1.0)], docs, LinkGraph(docs), Understanding()) is None
    # Filtered to Gent (the user's filters, type aside): only what is in Gent is listed, while
    # the status still counts every place that overcame the threshold.
    scoped = answer_card(ranked, docs, LinkGraph(docs), Understanding(),
                         within={"t1", "t2", "l1", "b1"})
    assert scoped is not None
    t1 = scoped.thresholds[0]
    assert [b.id for b in t1.breakthroughs] == ["b1"] and [p.title for p in t1.places] == ["Gent"]
    assert t1.status == "overwonnen"
    assert not scoped.thresholds[1].measures  # m1 is outside the filter
