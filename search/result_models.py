"""The search result payload, shared by the CLI (`--json`), the Python API and HTTP."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from pydantic import BaseModel, Field


class ItemRef(BaseModel):
    """A linked record, concept or municipality: id (notation, NIS code) and Dutch title."""

    id: str
    title: str


class Titled(Protocol):
    """Anything with an id and a title (a document's links, a document)."""

    @property
    def id(self) -> str: ...

    @property
    def title(self) -> str: ...


def item_ref(ref: Titled | None) -> ItemRef | None:
    """The payload form of a link (None stays None)."""
    return None if ref is None else ItemRef(id=ref.id, title=ref.title)


def item_refs(refs: Iterable[Titled]) -> list[ItemRef]:
    """The payload form of links, in order."""
    return [ItemRef(id=r.id, title=r.title) for r in refs]


class Rank(BaseModel):
    """One retriever's view of a hit."""

    rank: int | None = Field(default=None, description="1-based rank; null when not retrieved.")
    score: float | None = Field(default=None, description="The retriever's own score.")
    normalised: float | None = Field(
        default=None, description="The score min-max normalised over the question's candidates "
                                  "(what the fusion weighs).")


class GraphSignal(BaseModel):
    """The graph component: what a curated link to a strong candidate added."""

    score: float = Field(default=0.0, description="Added to the fused score.")
    edge: str | None = Field(
        default=None, description="Kind of link: threshold-of, addresses, measure-of, "
                                  "uses-measure, related, shared-threshold.")
    source: ItemRef | None = Field(default=None, description="The strong candidate it links to.")
    via: list[ItemRef] = Field(default_factory=list,
                               description="The threshold a shared-threshold link goes through.")


class Boost(BaseModel):
    """A soft boost: the item is about something the question names, or of the asked type."""

    kind: str = Field(description="theme, municipality, neighbourhood, actor, threshold-type, "
                                  "measure-type or intent.")
    value: str
    label: str
    score: float


class Components(BaseModel):
    """Per-component ranks and scores of a hit."""

    dense: Rank
    bm25: Rank
    dense2: Rank = Field(default_factory=Rank, description="The second embedding model, if on.")
    graph: GraphSignal
    boosts: list[Boost] = []


class Synonym(BaseModel):
    """A thesaurus word found in the hit for a word of the question."""

    found: str = Field(description="The thesaurus label found in the item.")
    query_word: str = Field(description="The question's words it stands for.")
    concept: str = Field(description="Notation of the thesaurus concept.")


class Hit(BaseModel):
    """One search hit, enriched with its context in the graph."""

    id: str
    type: str
    type_label: str = Field(description="Dutch name of the type (les, drempel, ...).")
    title: str
    score: float
    iri: str
    snippet: str
    municipality: ItemRef | None = None
    neighbourhood: ItemRef | None = None
    themes: list[ItemRef] = []
    thresholds: list[ItemRef] = []
    measures: list[ItemRef] = []
    breakthroughs: list[ItemRef] = []
    actors: list[ItemRef] = []
    status: ItemRef | None = Field(default=None, description="The record's status: voorbeeld "
                                   "(sample data) or gevalideerd (checked by a curator).")
    matched_terms: list[str] = []
    synonyms: list[Synonym] = []
    explanation: str = Field(description="Why this matched, in Dutch.")
    components: Components


class Named(BaseModel):
    """A graph resource the question names."""

    kind: str
    id: str
    label: str
    text: str = Field(description="The question's words that name it.")


class Expansion(BaseModel):
    """A thesaurus group the question's words fall in; its other labels were searched too (at a
    lower weight than the question's own words)."""

    concept: str
    label: str
    text: str
    terms: list[str]


class Understanding(BaseModel):
    """What the question names and asks for, as search understood it."""

    intent: str | None = Field(default=None,
                               description="how, which-threshold, who, where, or null.")
    intent_label: str | None = None
    named: list[Named] = []
    expansions: list[Expansion] = []


class FilterSuggestion(BaseModel):
    """A filter the question seems to ask for ("Bedoelt u thema financiering?"): offered, never
    applied unless chosen."""

    filter: str
    value: str
    label: str = Field(description="Dutch, e.g. `thema financiering`.")
    text: str = Field(description="The question's words it comes from.")


class AnswerBreakthrough(BaseModel):
    """A breakthrough that overcame a threshold: where, with what and with whom."""

    id: str
    title: str
    iri: str
    municipality: ItemRef | None = None
    neighbourhood: ItemRef | None = None
    measures: list[ItemRef] = []
    actors: list[ItemRef] = []


class AnswerThreshold(BaseModel):
    """A threshold the question touches, and how others overcame it."""

    id: str
    title: str
    iri: str
    status: str = Field(description="overwonnen (breakthroughs in 2 or more municipalities), "
                                    "deels (1) or open (none).")
    breakthroughs: list[AnswerBreakthrough] = []
    measures: list[ItemRef] = Field(default=[],
                                    description="Measures that address it directly.")
    places: list[ItemRef] = Field(default=[], description="Municipalities where it was overcome.")


class AnswerCard(BaseModel):
    """The graph's answer to "hoe hebben anderen …": the thresholds the question touches and,
    for each, who overcame it where and how."""

    thresholds: list[AnswerThreshold] = []
    actors: list[ItemRef] = Field(default=[],
                                  description="Actors involved in the strongest hits.")


class SearchResult(BaseModel):
    """The answer to one question."""

    query: str
    qid: str | None = None
    filters: dict[str, str] = {}
    total_candidates: int = Field(default=0, description="Items that pass the filters.")
    understanding: Understanding = Field(default_factory=Understanding)
    suggestions: list[FilterSuggestion] = []
    answer: AnswerCard | None = None
    hits: list[Hit]
