"""Query understanding from the graph: what a Dutch question names and what it asks for.

Built from the store's own labels, so it knows what the knowledge base knows and nothing else:
themes, threshold and measure types (prefLabel, altLabel, hiddenLabel), actors, municipalities,
neighbourhoods, and the concepts of the practitioners' thesaurus (`cs:praktijkterm`, see
ontology/thesaurus.ttl). Mentions are found by `kg.mentions.MentionLinker` on lemmas and
inflected forms; a lowercase name in a typed question counts too ("warmtenet gent").

The result feeds ranking only softly (boosts, BM25 expansion at a lower weight than the user's
own words) and the interface as suggestions ("Bedoelt u thema financiering?"): nothing here
ever filters what the user did not choose.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from kg.mentions import Mention, MentionLinker, Term
from kg.store import Store
from ontology.namespaces import (
    MUNICIPALITY_ROOT,
    SCHEME_ROOT,
    SUBTYPE_SCHEMES,
    THEME_SCHEME,
    sparql_prefixes,
)
from search.analysis import fold

THESAURUS_SCHEME = "praktijkterm"
# What a mention of each kind narrows by: the search filter, and the Dutch word for it.
FACETS = {
    "theme": ("theme", "thema"),
    "municipality": ("municipality", "gemeente"),
    "neighbourhood": ("neighbourhood", "wijk"),
    "actor": ("actor", "actor"),
    "threshold-type": ("subtype", "drempeltype"),
    "measure-type": ("subtype", "maatregeltype"),
    "threshold": ("threshold", "drempel"),
}
_SCHEME_KINDS = {THEME_SCHEME: "theme", SUBTYPE_SCHEMES["threshold"]: "threshold-type",
                 SUBTYPE_SCHEMES["measure"]: "measure-type", THESAURUS_SCHEME: "concept"}


@dataclass(frozen=True)
class Intent:
    """What kind of answer a question asks for."""

    name: str  # how | which-threshold | who | where
    label: str  # Dutch, for the interface
    types: tuple[str, ...]  # record types that answer it (none: the answer is not an item)


# Dutch question forms, matched on the folded question. Order matters: the first match wins.
INTENTS: tuple[tuple[re.Pattern[str], Intent], ...] = (
    (re.compile(r"\b(welke|wat zijn (de|typische)?|veel ?voorkomende)\s*(\w+\s+){0,2}"
                r"(drempels?|knelpunten|obstakels|hindernissen|barrieres|struikelblokken|"
                r"problemen|moeilijkheden)\b|\bwat (houdt|hindert|belemmert|remt|blokkeert)\b|"
                r"\bwaarom (lukt|loopt|gaat|slaagt|werkt)\b.*\bniet\b|\bwaar loop\w* .* vast\b"),
     Intent("which-threshold", "drempels", ("threshold",))),
    (re.compile(r"^(wie|met wie|bij wie)\b|\bwelke (partners?|actoren|organisaties|partijen|"
                r"diensten|spelers)\b"),
     Intent("who", "actoren", ())),
    (re.compile(r"^(hoe|op welke (manier|wijze)|wat (kan|kunnen|moet|moeten|kun|doe|doen)\b|"
                r"welke (aanpak|maatregelen|oplossingen|instrumenten)|tips?\b|manieren om)"),
     Intent("how", "een aanpak: maatregelen en doorbraken", ("measure", "breakthrough"))),
    (re.compile(r"^(waar|in welke (gemeenten|gemeente|wijken|wijk|steden|stad))\b"),
     Intent("where", "plaatsen", ())),
)


def intent_of(query: str) -> Intent | None:
    """The intent of a Dutch question, from its form; None for a plain topic query."""
    q = " ".join(fold(query).replace("?", " ").split())
    for pattern, intent in INTENTS:
        if pattern.search(q):
            return intent
    return None


@dataclass(frozen=True)
class Named:
    """A graph resource a question names: what it is, its id (notation, NIS code, record id) and
    Dutch label, and the words of the question that name it."""

    kind: str
    id: str
    label: str
    text: str


@dataclass(frozen=True)
class Expansion:
    """A thesaurus group a question's words fall in: the other labels search adds."""

    concept: str  # notation
    label: str  # the concept's Dutch prefLabel
    text: str  # the words of the question
    terms: tuple[str, ...]  # the group's other labels


@dataclass(frozen=True)
class Understanding:
    """What a question names and asks for."""

    intent: Intent | None = None
    named: tuple[Named, ...] = ()
    expansions: tuple[Expansion, ...] = ()

    def facets(self) -> dict[str, set[str]]:
        """Facet -> the values the question names (for soft boosts)."""
        out: dict[str, set[str]] = {}
        for n in self.named:
            if n.kind in FACETS:
                out.setdefault(n.kind, set()).add(n.id)
        return out


_CACHE: dict[tuple[object, ...], QueryUnderstanding] = {}
_CACHE_LOCK = threading.Lock()


@dataclass
class _Resource:
    kind: str
    id: str
    label: str
    labels: set[str] = field(default_factory=set)


class QueryUnderstanding:
    """Recognises graph resources and thesaurus groups in questions (built once per graph)."""

    def __init__(self, resources: Iterable[_Resource]) -> None:
        self._resources: dict[str, _Resource] = {}
        terms = []
        for r in resources:
            key = f"{r.kind}|{r.id}"
            self._resources[key] = r
            for label in r.labels | {r.label}:
                inflect = r.kind in ("theme", "threshold-type", "measure-type") or (
                    r.kind == "concept" and not _is_name(label))
                terms.append(Term(label, key, r.kind, inflect=inflect))
        self._linker = MentionLinker(terms, fold_names=True, lemmas=True) if terms else None

    @classmethod
    def from_store(cls, store: Store) -> QueryUnderstanding:
        """Read the labels of every recognisable resource from the store (built once per set
        of labels in a process: every engine over the same graph shares it)."""
        resources = _read_resources(store)
        key = tuple((r.kind, r.id, r.label, tuple(sorted(r.labels))) for r in resources)
        with _CACHE_LOCK:
            cached = _CACHE.get(key)
        if cached is None:
            cached = cls(resources)
            with _CACHE_LOCK:
                _CACHE[key] = cached
                while len(_CACHE) > 4:
                    _CACHE.pop(next(iter(_CACHE)))
        return cached

    def __len__(self) -> int:
        return len(self._resources)

    def understand(self, query: str) -> Understanding:
        """The intent, the named resources and the thesaurus groups of one question."""
        mentions: Sequence[Mention] = self._linker.mentions(query) if self._linker else ()
        named: dict[str, Named] = {}
        expansions: dict[str, Expansion] = {}
        for m in mentions:
            r = self._resources[m.iri]
            if r.kind == "concept":
                if r.id not in expansions:
                    said = fold(m.text)
                    distinct = {fold(x): x for x in sorted(r.labels | {r.label}, reverse=True)}
                    others = sorted((x for f, x in distinct.items() if f != said),
                                    key=str.lower)
                    expansions[r.id] = Expansion(r.id, r.label, m.text, tuple(others))
            elif m.iri not in named:
                named[m.iri] = Named(r.kind, r.id, r.label, m.text)
        return Understanding(intent_of(query), tuple(named.values()), tuple(expansions.values()))


def _is_name(label: str) -> bool:
    """An abbreviation or proper name (matched as written), not a concept word."""
    words = label.split()
    return any(w[:1].isupper() for w in words) or label.isupper()


def _read_resources(store: Store) -> list[_Resource]:
    p = sparql_prefixes()
    found: dict[tuple[str, str], _Resource] = {}

    def add(kind: str, rid: str, label: str, alt: str | None) -> None:
        r = found.setdefault((kind, rid), _Resource(kind, rid, label))
        if alt:
            r.labels.add(alt)

    for r in store.select(p + """
        SELECT ?scheme ?notation ?label ?alt WHERE {
          ?c skos:inScheme ?scheme ; skos:notation ?notation ; skos:prefLabel ?label .
          FILTER (lang(?label) = "nl")
          OPTIONAL { ?c skos:altLabel|skos:hiddenLabel|skos:prefLabel ?alt
                     FILTER (lang(?alt) = "nl" || lang(?alt) = "") }
        }"""):
        scheme = str(r["scheme"]).removeprefix(SCHEME_ROOT)
        kind = _SCHEME_KINDS.get(scheme)
        if kind is not None and str(r["scheme"]).startswith(SCHEME_ROOT):
            add(kind, str(r["notation"]), str(r["label"]), str(r.get("alt") or "") or None)
    for r in store.select(p + f"""
        SELECT ?m ?nis ?label WHERE {{
          ?m a wk:Municipality ; wk:nisCode ?nis ; rdfs:label ?label .
          FILTER (STRSTARTS(STR(?m), "{MUNICIPALITY_ROOT}")) }}"""):
        add("municipality", str(r["nis"]), str(r["label"]), None)
    for cls, kind in (("Actor", "actor"), ("Neighbourhood", "neighbourhood"),
                      ("Threshold", "threshold")):
        for r in store.select(p + f"""
            SELECT ?id ?label ?alt WHERE {{
              ?s a wk:{cls} ; dct:identifier ?id ; rdfs:label ?label .
              OPTIONAL {{ ?s skos:altLabel ?alt }} }}"""):
            add(kind, str(r["id"]), str(r["label"]), str(r.get("alt") or "") or None)
    return sorted(found.values(), key=lambda r: (r.kind, r.id))
