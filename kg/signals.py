"""Drempel signals, the policy view: which thresholds recur, how widely, and whether anyone
overcame them yet.

A threshold's evidence is what the curators linked to it — lessons and measures that address
it (`wk:addresses`), breakthroughs that overcome it (`wk:overcomes`) — together with the
threshold record itself. Counted per threshold: the distinct municipalities and wijken of that
evidence (a wijk's municipality counts when an item only names its wijk), the lessons, all
linked items, the harvest activities they came from (`prov:wasGeneratedBy`), the first and
last date (an item's own `dct:date`, else its activity's), and a trend: linked items per year.
Status: *overwonnen* (breakthroughs in two or more municipalities), *deels* (one), *open*
(none yet) — the same rule as the answer card.

Filters narrow the thresholds (`werf`, `theme`: by the threshold's themes; `level`: its
beleidsniveau, who can remove it) or the evidence
(`province`: only items located in that province count, so the ranking answers "what recurs
in Limburg"). Ranked by municipalities, then wijken, lessons and linked items.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from kg.errors import UserError
from kg.store import Store
from ontology.namespaces import CLASS_TO_TYPE, sparql_prefixes

__all__ = ["SIGNAL_COLUMNS", "Signal", "SignalFilters", "build_signals", "curated_links",
           "signal_options", "signal_rows", "with_mentions"]

P = sparql_prefixes()
STATUS_RULE = {"overwonnen": 2, "deels": 1}  # breakthrough municipalities needed, at least


class NamedRef(BaseModel):
    """A linked resource: id (or notation, NIS code) and Dutch label."""

    id: str
    label: str


class Signal(BaseModel):
    """One threshold and how widely it recurs."""

    id: str
    title: str
    iri: str
    subtype: str | None = Field(default=None, description="The drempeltype label.")
    policy_level: NamedRef | None = Field(default=None, description="Who can remove it "
                                          "(beleidsniveau: notation and label).")
    priority: bool = Field(default=False, description="A priority of the work programme, set "
                           "by curators.")
    themes: list[NamedRef] = Field(default_factory=list)
    werven: list[str] = Field(default_factory=list, description="LEKP werf notations.")
    municipalities: int = Field(description="Distinct municipalities of the threshold and the "
                                "items linked to it.")
    neighbourhoods: int = Field(description="Distinct wijken of the threshold and its items.")
    lessons: int = Field(description="Lessons linked to the threshold.")
    linked_items: int = Field(description="Lessons, measures and breakthroughs linked to it.")
    activities: int = Field(description="Distinct activities the threshold and its items were "
                            "harvested in.")
    breakthroughs: int
    status: str = Field(description="overwonnen (breakthroughs in >= 2 municipalities), deels "
                        "(1) or open (none).")
    places: list[NamedRef] = Field(default_factory=list, description="The municipalities.")
    first_date: str | None = None
    last_date: str | None = None
    trend: dict[str, int] = Field(default_factory=dict, description="Linked items per year.")
    mentions: int = Field(default=0, description="Lessons, measures and breakthroughs about the "
                          "drempel without a curated link (found by the embeddings: see "
                          "`mentioned_in`); counted apart from the linked evidence.")
    mentioned_in: list[NamedRef] = Field(default_factory=list, description="Those items, "
                                         "closest first.")


@dataclass(frozen=True)
class SignalFilters:
    """What the signals are narrowed to; empty strings mean no filter."""

    werf: str = ""
    theme: str = ""
    level: str = ""
    province: str = ""


@dataclass
class _Acc:
    municipalities: dict[str, str] = field(default_factory=dict)
    neighbourhoods: set[str] = field(default_factory=set)
    items: dict[str, str] = field(default_factory=dict)  # id -> type
    activities: set[str] = field(default_factory=set)
    dates: set[str] = field(default_factory=set)
    breakthrough_places: set[str] = field(default_factory=set)


_EVIDENCE = P + """
SELECT ?t ?item ?class ?nis ?mlabel ?wijk ?activity ?date ?province WHERE {
  { ?t a wk:Threshold . BIND (?t AS ?item) }
  UNION { ?t a wk:Threshold . ?item wk:addresses|wk:overcomes ?t }
  ?item a ?class .
  OPTIONAL { ?item wk:neighbourhood ?n . ?n dct:identifier ?wijk }
  OPTIONAL { { ?item wk:municipality ?m } UNION { ?item wk:neighbourhood/wk:municipality ?m }
             ?m dct:identifier ?nis ; rdfs:label ?mlabel . OPTIONAL { ?m wk:province ?pv .
             ?pv dct:identifier ?province } }
  OPTIONAL { ?item prov:wasGeneratedBy ?act . ?act dct:identifier ?activity .
             OPTIONAL { ?act dct:date ?actdate } }
  OPTIONAL { ?item dct:date ?own }
  BIND (COALESCE(?own, ?actdate) AS ?date)
}"""

_THRESHOLDS = P + """
SELECT ?t ?id ?title ?sublabel ?level ?levellabel ?priority WHERE {
  ?t a wk:Threshold ; dct:identifier ?id ; rdfs:label ?title .
  OPTIONAL { ?t dct:type ?sub . ?sub skos:prefLabel ?sublabel FILTER (lang(?sublabel) = "nl") }
  OPTIONAL { ?t wk:policyLevel ?l . ?l skos:notation ?level ; skos:prefLabel ?levellabel
             FILTER (lang(?levellabel) = "nl") }
  OPTIONAL { ?t wk:priority ?priority }
}"""

_THEMES = P + """
SELECT ?t ?notation ?label ?werf WHERE {
  ?t a wk:Threshold ; dct:subject ?theme .
  ?theme skos:notation ?notation ; skos:prefLabel ?label FILTER (lang(?label) = "nl")
  OPTIONAL { ?theme wk:lekpWerf/skos:notation ?werf }
}"""


def _str(value: object) -> str:
    return "" if value is None else str(value)


def build_signals(store: Store, filters: SignalFilters | None = None) -> list[Signal]:
    """Every threshold (that passes the filters) with its evidence counted, most widely
    recurring first."""
    filters = filters or SignalFilters()
    meta: dict[str, tuple[str, str, str | None, NamedRef | None, bool]] = {}
    for r in store.select(_THRESHOLDS):
        level = (NamedRef(id=str(r["level"]), label=str(r["levellabel"]))
                 if r.get("level") is not None else None)
        meta.setdefault(str(r["t"]), (str(r["id"]), str(r["title"]),
                                      _str(r.get("sublabel")) or None, level,
                                      _str(r.get("priority")) == "true"))
    themes: dict[str, dict[str, str]] = {}
    werven: dict[str, set[str]] = {}
    for r in store.select(_THEMES):
        themes.setdefault(str(r["t"]), {})[str(r["notation"])] = str(r["label"])
        if r.get("werf") is not None:
            werven.setdefault(str(r["t"]), set()).add(str(r["werf"]))
    _check(filters, themes, werven, store, {m[3].id for m in meta.values() if m[3]})
    acc: dict[str, _Acc] = {t: _Acc() for t in meta}
    years: dict[str, str] = {}
    for r in store.select(_EVIDENCE):
        t = str(r["t"])
        if t not in acc:
            continue
        kind = CLASS_TO_TYPE.get(r["class"])
        if kind is None:
            continue
        if filters.province and _str(r.get("province")) != filters.province:
            continue
        a = acc[t]
        item = str(r["item"])
        if item != t:
            a.items[item] = kind
        nis = _str(r.get("nis"))
        if nis:
            a.municipalities[nis] = _str(r.get("mlabel"))
            if kind == "breakthrough":
                a.breakthrough_places.add(nis)
        if r.get("wijk") is not None:
            a.neighbourhoods.add(str(r["wijk"]))
        if r.get("activity") is not None:
            a.activities.add(str(r["activity"]))
        date = _str(r.get("date"))[:10]
        if date:
            a.dates.add(date)
            years[item] = date[:4]  # a linked item's year: its own date, else its activity's
    out = []
    for t, (rid, title, sub, level, priority) in meta.items():
        own = themes.get(t, {})
        if filters.theme and filters.theme not in own:
            continue
        if filters.level and (level is None or level.id != filters.level):
            continue
        if filters.werf and filters.werf not in werven.get(t, set()):
            continue
        a = acc[t]
        if filters.province and not a.municipalities:
            continue
        places = len(a.breakthrough_places)
        status = ("overwonnen" if places >= STATUS_RULE["overwonnen"] else
                  "deels" if places >= STATUS_RULE["deels"] else "open")
        trend = Counter(years[i] for i in a.items if i in years)
        out.append(Signal(
            id=rid, title=title, iri=t, subtype=sub, policy_level=level, priority=priority,
            themes=[NamedRef(id=k, label=v) for k, v in sorted(own.items())],
            werven=sorted(werven.get(t, set())),
            municipalities=len(a.municipalities), neighbourhoods=len(a.neighbourhoods),
            lessons=sum(1 for k in a.items.values() if k == "lesson"),
            linked_items=len(a.items), activities=len(a.activities),
            breakthroughs=sum(1 for k in a.items.values() if k == "breakthrough"),
            status=status,
            places=[NamedRef(id=k, label=v) for k, v in sorted(a.municipalities.items(),
                                                                 key=lambda kv: kv[1])],
            first_date=min(a.dates) if a.dates else None,
            last_date=max(a.dates) if a.dates else None,
            trend=dict(sorted(trend.items()))))
    out.sort(key=lambda s: (-s.municipalities, -s.neighbourhoods, -s.lessons, -s.linked_items,
                            s.title.lower()))
    return out


def _check(filters: SignalFilters, themes: dict[str, dict[str, str]],
           werven: dict[str, set[str]], store: Store, levels: set[str]) -> None:
    """Unknown filter values are user errors that name the parameter and what exists."""
    if filters.level and filters.level not in levels:
        raise UserError(f"level {filters.level!r} is not the beleidsniveau of any drempel; use "
                        f"one of {', '.join(sorted(levels))}")
    if filters.theme:
        known = {n for per in themes.values() for n in per}
        if filters.theme not in known:
            raise UserError(f"theme {filters.theme!r} is not a theme of any drempel; use one of "
                            f"{', '.join(sorted(known))}")
    if filters.werf:
        known = {w for per in werven.values() for w in per}
        if filters.werf not in known:
            raise UserError(f"werf {filters.werf!r} is not a LEKP werf of any drempel; use one "
                            f"of {', '.join(sorted(known))}")
    if filters.province:
        provinces = {str(r["id"]): str(r["label"]) for r in store.select(
            P + "SELECT ?id ?label WHERE { ?p a wk:Province ; dct:identifier ?id ; "
                "rdfs:label ?label }")}
        if filters.province not in provinces:
            raise UserError(f"province {filters.province!r} is not a Flemish province NIS code; "
                            "use one of " + ", ".join(f"{k} ({v})" for k, v in
                                                       sorted(provinces.items())))


def curated_links(store: Store) -> dict[str, set[str]]:
    """Threshold id -> the ids of the lessons, measures and breakthroughs linked to it."""
    out: dict[str, set[str]] = {}
    for r in store.select(P + """SELECT ?tid ?iid WHERE { ?i wk:addresses|wk:overcomes ?t .
            ?t a wk:Threshold ; dct:identifier ?tid . ?i dct:identifier ?iid }"""):
        out.setdefault(str(r["tid"]), set()).add(str(r["iid"]))
    return out


def with_mentions(store: Store, signals: list[Signal], found: dict[str, list[NamedRef]],
                  filters: SignalFilters | None = None) -> list[Signal]:
    """The signals with their uncurated mentions (`found`: threshold id -> items, closest
    first); with a province filter only items located in that province count."""
    if filters is not None and filters.province:
        inside = {str(r["id"]) for r in store.select(P + f"""SELECT ?id WHERE {{
            ?i dct:identifier ?id ; wk:municipality|wk:neighbourhood/wk:municipality ?m .
            ?m wk:province/dct:identifier "{_literal(filters.province)}" }}""")}
        found = {t: [r for r in refs if r.id in inside] for t, refs in found.items()}
    return [s.model_copy(update={"mentions": len(found.get(s.id, [])),
                                 "mentioned_in": found.get(s.id, [])}) for s in signals]


def _literal(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


SIGNAL_COLUMNS = ("drempel", "id", "drempeltype", "beleidsniveau", "prioriteit", "thema's",
                  "LEKP-werven", "gemeenten",
                  "wijken", "lessen", "gelinkte items", "activiteiten", "doorbraken", "status",
                  "eerste datum", "laatste datum", "plaatsen", "vermeldingen zonder link",
                  "IRI")


def signal_rows(signals: Iterable[Signal]) -> list[list[str | int]]:
    """The signals as table rows under `SIGNAL_COLUMNS` (CSV and XLSX exports)."""
    return [[s.title, s.id, s.subtype or "", s.policy_level.label if s.policy_level else "",
             "ja" if s.priority else "", ", ".join(t.label for t in s.themes),
             ", ".join(s.werven), s.municipalities, s.neighbourhoods, s.lessons, s.linked_items,
             s.activities, s.breakthroughs, s.status, s.first_date or "", s.last_date or "",
             ", ".join(p.label for p in s.places), s.mentions, s.iri] for s in signals]


def signal_options(store: Store) -> dict[str, list[tuple[str, str]]]:
    """The values each filter takes, with Dutch labels (for the page's selects)."""
    werven = [(str(r["n"]), f"{r['n']}: {r['label']}") for r in store.select(P + """
        SELECT DISTINCT ?n ?label WHERE { ?t a wk:Threshold ; dct:subject/wk:lekpWerf ?w .
        ?w skos:notation ?n ; skos:prefLabel ?label FILTER (lang(?label) = "nl") }
        ORDER BY ?n""")]
    themes = [(str(r["n"]), str(r["label"])) for r in store.select(P + """
        SELECT DISTINCT ?n ?label WHERE { ?t a wk:Threshold ; dct:subject ?theme .
        ?theme skos:notation ?n ; skos:prefLabel ?label FILTER (lang(?label) = "nl") }
        ORDER BY ?label""")]
    levels = [(str(r["n"]), str(r["label"])) for r in store.select(P + """
        SELECT DISTINCT ?n ?label WHERE { ?t a wk:Threshold ; wk:policyLevel ?l .
        ?l skos:notation ?n ; skos:prefLabel ?label FILTER (lang(?label) = "nl") }""")]
    order = ["lokaal", "intergemeentelijk", "vlaams", "federaal", "europees"]  # small to large
    levels.sort(key=lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), kv[0]))
    provinces = [(str(r["id"]), str(r["label"])) for r in store.select(P + """
        SELECT ?id ?label WHERE { ?p a wk:Province ; dct:identifier ?id ; rdfs:label ?label }
        ORDER BY ?label""")]
    return {"werf": werven, "theme": themes, "level": levels, "province": provinces}
