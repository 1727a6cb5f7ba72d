"""The dynamisch werkboek: the harvest arranged as a guide for LEKP local governments.

Structure: LEKP werf → theme → drempel. Every drempel sits once in the book, in its *home*
werf and theme. Its home werf: each of its themes votes for its werf (or werven), with weight
one plus the number of linked lessons, measures and breakthroughs that share the theme; the
most votes win (ties: the lower werf). Its home theme: of its themes in that werf, the one its
linked items share most (ties: the theme with fewer drempels, the more specific one, then the
notation). The drempel's other themes are listed as "ook onder".

Per drempel: what it is (its own text); where it occurs (the municipalities and wijken of the
drempel and its linked items, the number of lessons, first and last date: the same numbers as
`kg.signals`); how others overcame it (breakthroughs with their measures, actors and places,
and the lessons behind them: lessons linked to the breakthrough or its measures that address
the same drempel); the measures and lessons that address it; its status. Drempels nobody
overcame yet are listed again under "Wat nog openligt". Every entry names its source (the
activity or document it came from, with its date) and its record IRI.

Editorial chapters are documents of the `werkboekhoofdstuk` documenttype; each opens the part of
the werf most of its themes belong to. The book closes with indexes of measures, actors and
wijken, each pointing at the drempels they occur with.

A partial werkboek (`WerkboekScope`) keeps the drempels of one werf, one theme or one
municipality (a drempel occurs in a municipality when it or an item linked to it is located
there, directly or through its wijk).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import BaseModel, Field

from kg.errors import UserError
from kg.signals import Signal, build_signals
from kg.store import Store
from ontology.namespaces import CLASS_TO_TYPE, sparql_prefixes

__all__ = ["CHAPTER_SUBTYPE", "Werkboek", "WerkboekScope", "build_werkboek"]

P = sparql_prefixes()
CHAPTER_SUBTYPE = "werkboekhoofdstuk"  # the documenttype of editorial chapters
TEXT_TYPES = ("lesson", "measure", "breakthrough", "threshold", "document")


class Ref(BaseModel):
    """A record the book points at."""

    id: str
    title: str
    iri: str
    type: str = ""


class SourceRef(BaseModel):
    """Where a statement comes from: the activity or document of a record."""

    id: str
    title: str
    iri: str
    kind: str = Field(description="activiteit or brondocument.")
    date: str | None = None


class Entry(BaseModel):
    """A lesson, measure or breakthrough as the book quotes it."""

    id: str
    title: str
    iri: str
    type: str
    text: str = ""
    municipalities: list[str] = Field(default_factory=list)
    neighbourhoods: list[str] = Field(default_factory=list)
    actors: list[Ref] = Field(default_factory=list)
    date: str | None = None
    source: SourceRef | None = None
    change: str | None = Field(default=None, description="nieuw or gewijzigd since the "
                               "previous edition.")
    record_status: str | None = Field(default=None, description="The record's status "
                                      "(recordstatus notation: voorbeeld, ingediend, "
                                      "gevalideerd, afgewezen).")
    measures: list[Ref] = Field(default_factory=list, description="A breakthrough's measures.")
    lessons: list[Ref] = Field(default_factory=list, description="The lessons behind a "
                               "breakthrough.")
    shown_at: Ref | None = Field(default=None, description="The drempel whose section gives "
                                 "this item in full (an item linked to several drempels is "
                                 "written out once, at the first; later ones refer to it).")


class DrempelSection(BaseModel):
    """One drempel: what it is, where it occurs, how others overcame it, what is open."""

    id: str
    title: str
    iri: str
    text: str = ""
    subtype: str | None = None
    policy_level: str | None = None
    priority: bool = False
    status: str
    municipalities: list[str] = Field(default_factory=list)
    neighbourhoods: list[str] = Field(default_factory=list)
    lessons_count: int = 0
    activities_count: int = 0
    first_date: str | None = None
    last_date: str | None = None
    also_under: list[str] = Field(default_factory=list, description="The drempel's other "
                                  "themes (labels).")
    breakthroughs: list[Entry] = Field(default_factory=list)
    measures: list[Entry] = Field(default_factory=list)
    lessons: list[Entry] = Field(default_factory=list)
    source: SourceRef | None = None
    change: str | None = None
    record_status: str | None = None


class Chapter(BaseModel):
    """An editorial chapter (a document of the werkboekhoofdstuk documenttype)."""

    id: str
    title: str
    iri: str
    text: str = ""
    date: str | None = None
    change: str | None = None


class ThemeSection(BaseModel):
    notation: str
    label: str
    definition: str = ""
    drempels: list[DrempelSection] = Field(default_factory=list)


class WerfPart(BaseModel):
    notation: str
    label: str
    definition: str = ""
    chapters: list[Chapter] = Field(default_factory=list)
    themes: list[ThemeSection] = Field(default_factory=list)


class IndexEntry(BaseModel):
    """A measure, actor or wijk and the drempels (ids, titles) it occurs with."""

    id: str
    label: str
    iri: str
    drempels: list[Ref] = Field(default_factory=list)


class Change(BaseModel):
    """A record added, changed or removed since the previous edition."""

    id: str
    title: str
    iri: str
    type: str
    change: str = Field(description="nieuw, gewijzigd or verwijderd.")


class EditionInfo(BaseModel):
    """The edition a werkboek reflects, and what is new since the one before."""

    number: int
    issued: str
    iri: str
    generation: int
    previous: int | None = None
    current: bool = Field(default=True, description="Whether the graph still equals this "
                          "edition (else the book is a working version after it).")
    changes: list[Change] = Field(default_factory=list)


class Werkboek(BaseModel):
    """The whole (or a partial) werkboek, ready for any output format."""

    title: str
    subtitle: str
    scope: dict[str, str] = Field(default_factory=dict, description="werf, theme or "
                                  "municipality: label, when partial.")
    edition: EditionInfo | None = None
    parts: list[WerfPart] = Field(default_factory=list)
    open_drempels: list[Ref] = Field(default_factory=list)
    measures_index: list[IndexEntry] = Field(default_factory=list)
    actors_index: list[IndexEntry] = Field(default_factory=list)
    neighbourhoods_index: list[IndexEntry] = Field(default_factory=list)
    statuses: dict[str, int] = Field(default_factory=dict, description="Records in the book "
                                     "per status (recordstatus notation); the cover warns "
                                     "when it holds sample data (voorbeeld).")

    @property
    def drempels(self) -> list[DrempelSection]:
        return [d for p in self.parts for t in p.themes for d in t.drempels]


@dataclass(frozen=True)
class WerkboekScope:
    """What a partial werkboek keeps; empty strings mean everything."""

    werf: str = ""
    theme: str = ""
    municipality: str = ""  # NIS code or name


@dataclass
class _Record:
    iri: str
    id: str
    type: str
    title: str
    text: str = ""
    date: str | None = None
    subtype: str | None = None
    status: str | None = None


def _s(value: object) -> str:
    return "" if value is None else str(value)


class _Graph:
    """What the book needs from the store, read in a few queries."""

    def __init__(self, store: Store) -> None:
        values = " ".join(f"<{c}>" for c, t in CLASS_TO_TYPE.items() if t in TEXT_TYPES)
        self.records: dict[str, _Record] = {}
        for r in store.select(P + f"""
            SELECT ?s ?class ?id ?title ?text ?date ?sub ?status WHERE {{
              ?s a ?class ; dct:identifier ?id ; rdfs:label ?title . VALUES ?class {{ {values} }}
              OPTIONAL {{ ?s dct:description ?text }} OPTIONAL {{ ?s dct:date ?date }}
              OPTIONAL {{ ?s dct:type/skos:notation ?sub }}
              OPTIONAL {{ ?s adms:status/skos:notation ?status }} }}"""):
            s = str(r["s"])
            self.records.setdefault(s, _Record(
                s, str(r["id"]), CLASS_TO_TYPE[r["class"]], str(r["title"]), _s(r.get("text")),
                _s(r.get("date"))[:10] or None, _s(r.get("sub")) or None,
                _s(r.get("status")) or None))
        self.places: dict[str, dict[str, str]] = defaultdict(dict)  # item -> nis -> label
        self.nis_of_wijk: dict[str, str] = {}
        for r in store.select(P + """
            SELECT ?s ?nis ?label WHERE {
              { ?s wk:municipality ?m } UNION { ?s wk:neighbourhood/wk:municipality ?m }
              ?m dct:identifier ?nis ; rdfs:label ?label }"""):
            self.places[str(r["s"])][str(r["nis"])] = str(r["label"])
        self.wijken: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)  # item -> wijk
        for r in store.select(P + """
            SELECT ?s ?w ?wid ?label WHERE { ?s wk:neighbourhood ?w .
              ?w dct:identifier ?wid ; rdfs:label ?label }"""):
            self.wijken[str(r["s"])][str(r["w"])] = (str(r["wid"]), str(r["label"]))
        self.sources: dict[str, SourceRef] = {}
        for r in store.select(P + """
            SELECT ?s ?src ?id ?title ?class ?date WHERE {
              { ?s prov:wasGeneratedBy ?src } UNION { ?s dct:source ?src }
              ?src a ?class ; dct:identifier ?id ; rdfs:label ?title .
              OPTIONAL { ?src dct:date ?date } }"""):
            kind = CLASS_TO_TYPE.get(r["class"])
            if kind not in ("activity", "document"):
                continue
            self.sources.setdefault(str(r["s"]), SourceRef(
                id=str(r["id"]), title=str(r["title"]), iri=str(r["src"]),
                kind="activiteit" if kind == "activity" else "brondocument",
                date=_s(r.get("date"))[:10] or None))
        self.links: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        # addresses/overcomes the other way: drempel -> the items linked to it
        self.linked_to: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for r in store.select(P + """
            SELECT ?s ?p ?o WHERE { ?s ?p ?o .
              VALUES ?p { wk:addresses wk:overcomes wk:usesMeasure wk:involves wk:related } }"""):
            p = str(r["p"]).rsplit("#", 1)[-1]
            self.links[p][str(r["s"])].add(str(r["o"]))
            if p == "related":
                self.links[p][str(r["o"])].add(str(r["s"]))
            elif p in ("addresses", "overcomes"):
                self.linked_to[p][str(r["o"])].add(str(r["s"]))
        self.actors: dict[str, Ref] = {str(r["a"]): Ref(id=str(r["id"]), title=str(r["label"]),
                                                        iri=str(r["a"]), type="actor")
                                       for r in store.select(P + """
            SELECT ?a ?id ?label WHERE { ?a a wk:Actor ; dct:identifier ?id ; rdfs:label ?label }
            """)}
        self.themes_of: dict[str, set[str]] = defaultdict(set)
        for r in store.select(P + "SELECT ?s ?n WHERE { ?s dct:subject/skos:notation ?n }"):
            self.themes_of[str(r["s"])].add(str(r["n"]))
        self.theme_meta: dict[str, tuple[str, str]] = {}
        self.theme_werven: dict[str, set[str]] = defaultdict(set)
        self.werf_meta: dict[str, tuple[str, str]] = {}
        for r in store.select(P + """
            SELECT ?n ?label ?def ?wn ?wlabel ?wdef WHERE {
              ?t skos:notation ?n ; skos:prefLabel ?label FILTER (lang(?label) = "nl")
              OPTIONAL { ?t skos:definition ?def FILTER (lang(?def) = "nl") }
              ?t wk:lekpWerf ?w . ?w skos:notation ?wn ; skos:prefLabel ?wlabel
              FILTER (lang(?wlabel) = "nl")
              OPTIONAL { ?w skos:definition ?wdef FILTER (lang(?wdef) = "nl") } }"""):
            n = str(r["n"])
            self.theme_meta[n] = (str(r["label"]), _s(r.get("def")))
            self.theme_werven[n].add(str(r["wn"]))
            wn = str(r["wn"])
            number = wn.rsplit("-", 1)[-1]
            self.werf_meta[wn] = (f"Werf {number}: {r['wlabel']}" if number.isdigit()
                                  else str(r["wlabel"]), _s(r.get("wdef")))

    def of_type(self, kind: str) -> list[_Record]:
        return [r for r in self.records.values() if r.type == kind]

    def refs(self, iris: Iterable[str], kind: str | None = None) -> list[Ref]:
        out = []
        for i in iris:
            rec = self.records.get(i)
            if rec is not None and (kind is None or rec.type == kind):
                out.append(Ref(id=rec.id, title=rec.title, iri=rec.iri, type=rec.type))
            elif rec is None and i in self.actors and kind in (None, "actor"):
                out.append(self.actors[i])
        return sorted(out, key=lambda r: r.title.lower())

    def date_of(self, iri: str) -> str | None:
        """A record's own date, else its source's."""
        source = self.sources.get(iri)
        return self.records[iri].date or (source.date if source else None)

    def entry(self, iri: str, changes: dict[str, str]) -> Entry:
        rec = self.records[iri]
        return Entry(
            id=rec.id, title=rec.title, iri=rec.iri, type=rec.type, text=rec.text,
            municipalities=sorted(self.places.get(iri, {}).values()),
            neighbourhoods=sorted(label for _, label in self.wijken.get(iri, {}).values()),
            actors=self.refs(self.links["involves"].get(iri, ()), "actor"),
            date=self.date_of(iri),
            source=self.sources.get(iri), change=changes.get(iri),
            record_status=rec.status)


def _resolve_municipality(store: Store, value: str) -> tuple[str, str]:
    """A municipality given by NIS code or (case-insensitive) name: (NIS code, label)."""
    rows = store.select(P + """SELECT ?nis ?label WHERE { ?m a wk:Municipality ;
        dct:identifier ?nis ; rdfs:label ?label }""")
    wanted = value.strip().casefold()
    for r in rows:
        if str(r["nis"]) == value.strip() or str(r["label"]).casefold() == wanted:
            return str(r["nis"]), str(r["label"])
    raise UserError(f"municipality {value!r} is not a Flemish municipality name or NIS code "
                    "(e.g. Leuven or 24062)")


def build_werkboek(store: Store, scope: WerkboekScope | None = None, *,
                   edition: EditionInfo | None = None) -> Werkboek:
    """The werkboek of the graph as it is now, for the whole harvest or one scope.

    `edition` (see `kg.editions`) dates the book and marks what changed since the edition
    before it; raises `UserError` for a werf, theme or municipality the graph does not know."""
    scope = scope or WerkboekScope()
    g = _Graph(store)
    signals = {s.iri: s for s in build_signals(store)}
    scope_labels, nis = _check_scope(store, scope, g)
    changes = ({c.iri: c.change for c in edition.changes if c.change != "verwijderd"}
               if edition else {})
    drempel_count = Counter(n for t in g.of_type("threshold") for n in g.themes_of[t.iri])

    parts: dict[str, WerfPart] = {}
    sections: dict[tuple[str, str], ThemeSection] = {}
    for rec in sorted(g.of_type("threshold"), key=lambda r: r.title.lower()):
        signal = signals.get(rec.iri)
        if signal is None or not _in_scope(rec.iri, signal, scope, nis, g):
            continue
        werf, theme = _home(rec.iri, g, drempel_count, scope)
        if not werf:
            werf, theme = "", theme or ""
        part = parts.get(werf)
        if part is None:
            label, definition = g.werf_meta.get(werf, ("Overkoepelend", ""))
            part = parts[werf] = WerfPart(notation=werf, label=label, definition=definition)
        key = (werf, theme)
        if key not in sections:
            tlabel, tdef = g.theme_meta.get(theme, ("Zonder thema", ""))
            sections[key] = ThemeSection(notation=theme, label=tlabel, definition=tdef)
            part.themes.append(sections[key])
        sections[key].drempels.append(_drempel(rec, signal, theme, g, changes))

    for part in parts.values():
        part.themes.sort(key=lambda t: (-len(t.drempels), t.label.lower()))
    for chapter in sorted(g.of_type("document"), key=lambda r: r.title.lower()):
        if chapter.subtype != CHAPTER_SUBTYPE:
            continue
        werf = _majority_werf(g.themes_of[chapter.iri], g)
        if werf in parts and (not scope.theme or scope.theme in g.themes_of[chapter.iri]):
            parts[werf].chapters.append(Chapter(
                id=chapter.id, title=chapter.title, iri=chapter.iri, text=chapter.text,
                date=chapter.date, change=changes.get(chapter.iri)))
    ordered = [parts[w] for w in sorted(parts, key=lambda w: (w == "", w))]
    book = Werkboek(
        title="Dynamisch werkboek 100 WIJKEN PLATFORM",
        subtitle="Drempels, doorbraken en lessen uit de wijkaanpak van de LEKP-besturen",
        scope=scope_labels, edition=edition, parts=ordered)
    _write_out_once(book)
    book.open_drempels = [Ref(id=d.id, title=d.title, iri=d.iri, type="threshold")
                          for d in sorted(book.drempels, key=lambda d: d.title.lower())
                          if d.status == "open"]
    book.measures_index, book.actors_index, book.neighbourhoods_index = _indexes(book, g)
    shown = {d.iri for d in book.drempels} | {e.iri for d in book.drempels for e in (
        *d.breakthroughs, *d.measures, *d.lessons)} | {c.iri for p in book.parts
                                                        for c in p.chapters}
    book.statuses = dict(sorted(Counter(g.records[i].status or "zonder status"
                                        for i in shown if i in g.records).items()))
    return book


def _check_scope(store: Store, scope: WerkboekScope, g: _Graph) -> tuple[dict[str, str], str]:
    """The scope's Dutch labels and its municipality's NIS code; unknown values are errors."""
    labels, nis = {}, ""
    if scope.werf:
        if scope.werf not in g.werf_meta:
            raise UserError(f"werf {scope.werf!r} is not a LEKP werf; use one of "
                            f"{', '.join(sorted(g.werf_meta))}")
        labels["werf"] = f"{scope.werf}: {g.werf_meta[scope.werf][0]}"
    if scope.theme:
        if scope.theme not in g.theme_meta:
            raise UserError(f"theme {scope.theme!r} is not a theme; use one of "
                            f"{', '.join(sorted(g.theme_meta))}")
        labels["theme"] = g.theme_meta[scope.theme][0]
    if scope.municipality:
        nis, labels["municipality"] = _resolve_municipality(store, scope.municipality)
    return labels, nis


def _in_scope(iri: str, signal: Signal, scope: WerkboekScope, nis: str, g: _Graph) -> bool:
    themes = g.themes_of[iri]
    if scope.theme and scope.theme not in themes:
        return False
    if scope.werf and not any(scope.werf in g.theme_werven.get(t, ()) for t in themes):
        return False
    return not nis or any(p.id == nis for p in signal.places)


def _home(iri: str, g: _Graph, drempel_count: Counter[str], scope: WerkboekScope
          ) -> tuple[str, str]:
    """The drempel's home werf and theme (see the module docstring)."""
    themes = [t for t in g.themes_of[iri] if t in g.theme_meta]
    if scope.theme:
        themes = [scope.theme]
    elif scope.werf:
        themes = [t for t in themes if scope.werf in g.theme_werven[t]]
    if not themes:
        return "", ""
    evidence = g.linked_to["addresses"][iri] | g.linked_to["overcomes"][iri]
    shared = Counter(t for i in evidence for t in g.themes_of[i] if t in themes)
    if scope.werf:
        werf = scope.werf
    else:  # each theme votes for its werven, weighted by the evidence that shares it
        votes = Counter({w: 0 for t in themes for w in g.theme_werven[t]})
        for t in themes:
            for w in g.theme_werven[t]:
                votes[w] += 1 + shared[t]
        werf = min(votes, key=lambda w: (-votes[w], w))
    theme = min((t for t in themes if werf in g.theme_werven[t]),
                key=lambda t: (-shared[t], drempel_count[t], t))
    return werf, theme


def _majority_werf(themes: set[str], g: _Graph) -> str:
    votes = Counter(w for t in themes for w in g.theme_werven.get(t, ()))
    return min(votes, key=lambda w: (-votes[w], w)) if votes else ""


def _drempel(rec: _Record, signal: Signal, home: str, g: _Graph, changes: dict[str, str]
             ) -> DrempelSection:
    addressing = g.linked_to["addresses"][rec.iri]
    overcoming = g.linked_to["overcomes"][rec.iri]
    breakthroughs = []
    used_measures: set[str] = set()
    for b in sorted(overcoming, key=lambda i: g.records[i].title.lower()):
        entry = g.entry(b, changes)
        measures = g.links["usesMeasure"].get(b, set())
        used_measures |= measures
        entry.measures = g.refs(measures, "measure")
        # The lessons behind it: linked to the breakthrough or to one of its measures, and
        # about the same drempel when they name one.
        behind = {i for i in g.links["related"].get(b, set()) | {
            i for m in measures for i in g.links["related"].get(m, set())}
            if i in g.records and g.records[i].type == "lesson"
            and (not g.links["addresses"].get(i) or rec.iri in g.links["addresses"][i])}
        entry.lessons = g.refs(behind, "lesson")
        breakthroughs.append(entry)
    wijken = {label for i in {rec.iri} | addressing | overcoming
              for _, label in g.wijken.get(i, {}).values()}
    return DrempelSection(
        id=rec.id, title=rec.title, iri=rec.iri, text=rec.text, subtype=signal.subtype,
        policy_level=signal.policy_level.label if signal.policy_level else None,
        priority=signal.priority, status=signal.status,
        municipalities=[p.label for p in signal.places], neighbourhoods=sorted(wijken),
        lessons_count=signal.lessons, activities_count=signal.activities,
        first_date=signal.first_date, last_date=signal.last_date,
        also_under=sorted(g.theme_meta[t][0] for t in g.themes_of[rec.iri]
                          if t != home and t in g.theme_meta),
        breakthroughs=breakthroughs,
        measures=[g.entry(i, changes) for i in sorted(addressing - used_measures,
                                                      key=lambda i: g.records[i].title.lower())
                  if g.records[i].type == "measure"],
        lessons=[g.entry(i, changes) for i in sorted(
            addressing, key=lambda i: (g.date_of(i) or "", g.records[i].title.lower()))
                 if g.records[i].type == "lesson"],
        source=g.sources.get(rec.iri), change=changes.get(rec.iri),
        record_status=rec.status)


def _write_out_once(book: Werkboek) -> None:
    """Mark every repeat of an item with the drempel where the book first gives it in full."""
    first: dict[str, Ref] = {}
    for d in book.drempels:
        here = Ref(id=d.id, title=d.title, iri=d.iri, type="threshold")
        for e in [*d.breakthroughs, *d.measures, *d.lessons]:
            if e.iri in first:
                e.shown_at = first[e.iri]
            else:
                first[e.iri] = here


def _indexes(book: Werkboek, g: _Graph
             ) -> tuple[list[IndexEntry], list[IndexEntry], list[IndexEntry]]:
    measures: dict[str, IndexEntry] = {}
    actors: dict[str, IndexEntry] = {}
    wijken: dict[str, IndexEntry] = {}

    def add(index: dict[str, IndexEntry], key: str, rid: str, label: str,
            d: DrempelSection) -> None:
        entry = index.setdefault(key, IndexEntry(id=rid, label=label, iri=key))
        if all(r.id != d.id for r in entry.drempels):
            entry.drempels.append(Ref(id=d.id, title=d.title, iri=d.iri, type="threshold"))

    for d in book.drempels:
        items = [*d.breakthroughs, *d.measures, *d.lessons]
        for e in items:
            if e.type == "measure":
                add(measures, e.iri, e.id, e.title, d)
            for m in e.measures:
                add(measures, m.iri, m.id, m.title, d)
            for a in e.actors:
                add(actors, a.iri, a.id, a.title, d)
        for i in [d.iri, *(e.iri for e in items)]:
            for w, (wid, label) in g.wijken.get(i, {}).items():
                add(wijken, w, wid, label, d)

    def ordered(index: dict[str, IndexEntry]) -> list[IndexEntry]:
        for e in index.values():
            e.drempels.sort(key=lambda r: r.title.lower())
        return sorted(index.values(), key=lambda e: e.label.lower())

    return ordered(measures), ordered(actors), ordered(wijken)
