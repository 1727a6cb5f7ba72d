"""Graph traversal for development teams: related items and how they connect, who overcame a
threshold elsewhere, and the subgraph around an item for display."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field
from rdflib import URIRef

from kg.items import RELATIONS
from kg.store import Store
from ontology.namespaces import CLASS_TO_TYPE, RECORD_TYPES, WK, sparql_prefixes

P = sparql_prefixes()
# relation -> (weight per connecting resource, Dutch label); strongest evidence weighs most
RELATION_WEIGHTS: dict[str, tuple[float, str]] = {
    "related": (1.5, "expliciet verwant"),
    "direct": (1.2, "rechtstreeks gelinkt"),
    "shared-threshold": (1.0, "deelt drempel"),
    "shared-measure": (0.6, "deelt maatregel"),
    "same-neighbourhood": (0.4, "zelfde wijk"),
    "similar-text": (1.0, "inhoudelijk gelijkaardig"),
    "shared-theme": (0.1, "deelt thema"),
}
# Nearest neighbours asked for similar-text: fixed, so the first n results do not depend on
# `limit` (asking for `limit` neighbours reordered the top when the limit changed).
SIMILAR_NEIGHBOURS = 50
RELATED_TYPES = ("lesson", "threshold", "measure", "breakthrough", "neighbourhood")
_TYPES_VALUES = " ".join(f"wk:{RECORD_TYPES[t][0]}" for t in RELATED_TYPES)

# relation -> graph pattern from the item ?s to a candidate ?o through ?x
_PATTERNS = {
    "shared-threshold": "?s wk:addresses|wk:overcomes ?x . ?o wk:addresses|wk:overcomes ?x .",
    "shared-measure": "?s wk:usesMeasure ?x . ?o wk:usesMeasure ?x .",
    "same-neighbourhood": "?s wk:neighbourhood ?x . ?o wk:neighbourhood ?x .",
    "shared-theme": "?s dct:subject ?x . ?o dct:subject ?x .",
    "related": "{ ?s wk:related ?o } UNION { ?o wk:related ?s } BIND (?o AS ?x)",
    "direct": "{ ?s wk:addresses|wk:overcomes|wk:usesMeasure|wk:neighbourhood ?o } UNION "
              "{ ?o wk:addresses|wk:overcomes|wk:usesMeasure|wk:neighbourhood ?s } BIND (?o AS ?x)",
}


class Via(BaseModel):
    """One way two items connect: the relation and the resources it runs through."""

    relation: str
    label: str
    through: list[str] = Field(default_factory=list, description="Ids (or notations) of the "
                               "connecting resources.")
    score: float | None = Field(default=None, description="Similarity, for similar-text.")


class Related(BaseModel):
    """An item related to another, strongest connections first."""

    id: str
    type: str
    title: str
    score: float
    via: list[Via]


class GraphNode(BaseModel):
    """A node of a displayed subgraph."""

    id: str
    iri: str
    type: str
    label: str


class GraphEdge(BaseModel):
    """A directed edge of a displayed subgraph."""

    source: str
    target: str
    relation: str
    label: str


class Subgraph(BaseModel):
    """The neighbourhood of an item, for display."""

    center: str
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    truncated: bool = False


@dataclass
class _Candidate:
    id: str
    type: str
    title: str
    via: dict[str, set[str]]
    similarity: float | None = None


def _candidate(found: dict[str, _Candidate], row: Mapping[str, Any]) -> _Candidate:
    """The candidate of a result row (with ?oid, ?class and ?title), made on first sight."""
    oid = str(row["oid"])
    return found.setdefault(oid, _Candidate(oid, CLASS_TO_TYPE[row["class"]], str(row["title"]),
                                            {}))


def _scored(cand: _Candidate) -> Related | None:
    """A candidate scored by its connections, listed in the order of their weights."""
    score = 0.0
    vias = []
    for relation, (weight, label) in RELATION_WEIGHTS.items():
        if relation not in cand.via:
            continue
        if relation == "similar-text":
            sim = cand.similarity or 0.0
            score += weight * max(0.0, sim - 0.75) * 4
            vias.append(Via(relation=relation, label=label, score=round(sim, 4)))
            continue
        through = sorted(cand.via[relation])
        score += weight * max(1, len(through))
        vias.append(Via(relation=relation, label=label, through=through))
    if not vias:
        return None
    return Related(id=cand.id, type=cand.type, title=cand.title, score=round(score, 4),
                   via=vias)


class Traversal:
    """Traversal queries over one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def related(self, iri: str, *, types: tuple[str, ...] | None = None, limit: int = 50,
                similar: Callable[[int], list[tuple[str, float]]] | None = None
                ) -> list[Related]:
        """Items connected to `iri`, scored by the kinds and number of their connections.

        `similar(n)` may add the n nearest items by embedding as (id, cosine) pairs.
        """
        found = self._connected(iri)
        if similar is not None:
            self._add_similar(found, iri, similar(SIMILAR_NEIGHBOURS))
        out = [related for cand in found.values() if not types or cand.type in types
               if (related := _scored(cand)) is not None]
        out.sort(key=lambda r: (-r.score, r.title.lower(), r.id))
        return out[:limit]

    def _connected(self, iri: str) -> dict[str, _Candidate]:
        """The items each relation's pattern reaches from `iri`, with the ids of the resources
        they connect through."""
        found: dict[str, _Candidate] = {}
        for relation, pattern in _PATTERNS.items():
            rows = self.store.select(P + f"""
                SELECT DISTINCT ?o ?oid ?class ?title ?xid WHERE {{
                  BIND (<{iri}> AS ?s) {pattern}
                  FILTER (?o != ?s)
                  VALUES ?class {{ {_TYPES_VALUES} }}
                  ?o a ?class ; dct:identifier ?oid ; rdfs:label ?title .
                  OPTIONAL {{ ?x dct:identifier|skos:notation ?xid }} }}""")
            for r in rows:
                through = _candidate(found, r).via.setdefault(relation, set())
                if relation not in ("related", "direct") and "xid" in r:
                    through.add(str(r["xid"]))
        return found

    def _add_similar(self, found: dict[str, _Candidate], iri: str,
                     neighbours: list[tuple[str, float]]) -> None:
        """Mark the nearest items by embedding (id, cosine) as similar-text candidates."""
        ids = {oid: cos for oid, cos in neighbours}
        if not ids:
            return
        for r in self.store.select(P + f"""
            SELECT ?oid ?class ?title WHERE {{ VALUES ?oid {{ {" ".join(
                '"' + i.replace('"', '') + '"' for i in ids)} }}
              VALUES ?class {{ {_TYPES_VALUES} }}
              ?o dct:identifier ?oid ; a ?class ; rdfs:label ?title
              FILTER (?o != <{iri}>) }}"""):
            cand = _candidate(found, r)
            cand.via.setdefault("similar-text", set())
            cand.similarity = ids[cand.id]

    def subgraph(self, iri: str, *, depth: int = 1, max_nodes: int = 150) -> Subgraph:
        """Nodes and edges within `depth` hops of `iri` over the typed relations."""
        preds = " ".join(f"<{p}>" for p in RELATIONS if p != WK.mentions)
        nodes: dict[str, GraphNode] = {}
        edges: dict[tuple[str, str, str], GraphEdge] = {}
        frontier = [iri]
        truncated = False
        self._add_nodes(nodes, [iri])
        for _ in range(depth):
            if not frontier:
                break
            values = " ".join(f"<{f}>" for f in frontier)
            rows = self.store.select(P + f"""
                SELECT DISTINCT ?a ?p ?b WHERE {{ VALUES ?n {{ {values} }} VALUES ?p {{ {preds} }}
                  {{ ?n ?p ?b BIND (?n AS ?a) }} UNION {{ ?a ?p ?n BIND (?n AS ?b) }}
                  FILTER (isIRI(?a) && isIRI(?b)) }}""")
            new: list[str] = []
            for r in rows:
                a, b = str(r["a"]), str(r["b"])
                for n in (a, b):
                    if n not in nodes and n not in new:
                        if len(nodes) + len(new) >= max_nodes:
                            truncated = True
                            continue
                        new.append(n)
                if (a in nodes or a in new) and (b in nodes or b in new):
                    name, label, _ = RELATIONS[URIRef(str(r["p"]))]
                    edges[(a, b, name)] = GraphEdge(source=a, target=b, relation=name,
                                                    label=label)
            self._add_nodes(nodes, new)
            frontier = new
        return Subgraph(center=iri, nodes=list(nodes.values()),
                        edges=[e for e in edges.values()
                               if e.source in nodes and e.target in nodes], truncated=truncated)

    def _add_nodes(self, nodes: dict[str, GraphNode], iris: list[str]) -> None:
        if not iris:
            return
        values = " ".join(f"<{i}>" for i in iris)
        info: dict[str, dict[str, str]] = {i: {} for i in iris}
        for r in self.store.select(P + f"""
            SELECT ?n ?id ?class ?label WHERE {{ VALUES ?n {{ {values} }}
              OPTIONAL {{ ?n dct:identifier|skos:notation ?id }}
              OPTIONAL {{ ?n a ?class }}
              OPTIONAL {{ ?n rdfs:label|skos:prefLabel ?label FILTER (lang(?label) = "nl") }}
            }}"""):
            d = info[str(r["n"])]
            if "id" in r:
                d.setdefault("id", str(r["id"]))
            if "label" in r:
                d.setdefault("label", str(r["label"]))
            cls = r.get("class")
            if cls is not None:
                kind = CLASS_TO_TYPE.get(cls)
                if kind:
                    d["type"] = kind
                elif str(cls).endswith("#Concept") and "type" not in d:
                    d["type"] = "concept"
                elif str(cls).endswith("#Municipality"):
                    d["type"] = "municipality"
        for i in iris:
            d = info[i]
            nodes[i] = GraphNode(id=d.get("id", i.rsplit("/", 1)[-1]), iri=i,
                                 type=d.get("type", "resource"),
                                 label=d.get("label", i.rsplit("/", 1)[-1]))


class Ref(BaseModel):
    """A linked resource: id (notation, NIS code) and Dutch title."""

    id: str
    title: str


class BreakthroughPath(BaseModel):
    """A breakthrough that overcame a threshold, and how: measures, places and actors."""

    id: str
    title: str
    text: str | None = None
    measures: list[Ref] = []
    neighbourhoods: list[Ref] = []
    municipalities: list[Ref] = []
    actors: list[Ref] = []
    other_thresholds: list[Ref] = Field(default_factory=list,
                                        description="Other thresholds it overcomes too.")


class ThresholdAnswer(BaseModel):
    """Who overcame this threshold elsewhere, and how."""

    threshold: Ref
    text: str | None = None
    breakthroughs: list[BreakthroughPath]
    lessons: list[Ref] = Field(default_factory=list, description="Lessons about the threshold.")
    measures: list[Ref] = Field(default_factory=list, description="Measures addressing it.")


def _refs(store: Store, query: str) -> dict[str, list[Ref]]:
    out: dict[str, list[Ref]] = {}
    for r in store.select(P + query):
        ref = Ref(id=str(r["rid"]), title=str(r["rl"]))
        bucket = out.setdefault(str(r["b"]), [])
        if ref not in bucket:
            bucket.append(ref)
    return {k: sorted(v, key=lambda x: x.title.lower()) for k, v in out.items()}


def threshold_breakthroughs(store: Store, iri: str, threshold_id: str) -> ThresholdAnswer:
    """The breakthroughs that overcome a threshold, with their measures, neighbourhoods,
    municipalities and actors; plus the lessons and measures that address it."""
    t = f"<{iri}>"
    head = store.select(P + f"""SELECT ?l ?d WHERE {{ {t} rdfs:label ?l
        OPTIONAL {{ {t} dct:description ?d }} }}""")
    rows = store.select(P + f"""SELECT ?b ?id ?l ?d WHERE {{ ?b wk:overcomes {t} ;
        a wk:Breakthrough ; dct:identifier ?id ; rdfs:label ?l OPTIONAL {{ ?b dct:description ?d }}
        }} ORDER BY ?l""")
    base = f"?b wk:overcomes {t} ; a wk:Breakthrough ."
    link = {
        "measures": "?b wk:usesMeasure ?r . ?r dct:identifier ?rid ; rdfs:label ?rl",
        "neighbourhoods": "{ ?b wk:neighbourhood ?r } UNION { ?b wk:usesMeasure ?m . "
                          "?m wk:neighbourhood ?r } ?r dct:identifier ?rid ; rdfs:label ?rl",
        "municipalities": "{ ?b wk:municipality ?r } UNION { ?b wk:usesMeasure ?m . "
                          "?m wk:municipality ?r } UNION { ?b wk:neighbourhood ?n . "
                          "?n wk:municipality ?r } ?r wk:nisCode ?rid ; rdfs:label ?rl",
        "actors": "{ ?b wk:involves ?r } UNION { ?b wk:usesMeasure ?m . ?m wk:involves ?r } "
                  "?r dct:identifier ?rid ; rdfs:label ?rl",
        "other_thresholds": f"?b wk:overcomes ?r FILTER (?r != {t}) "
                            "?r dct:identifier ?rid ; rdfs:label ?rl",
    }
    found = {name: _refs(store, f"SELECT DISTINCT ?b ?rid ?rl WHERE {{ {base} {q} }}")
             for name, q in link.items()}
    paths = [BreakthroughPath(
        id=str(r["id"]), title=str(r["l"]), text=str(r["d"]) if "d" in r else None,
        **{name: found[name].get(str(r["b"]), []) for name in link}) for r in rows]
    others = {
        kind: [Ref(id=str(r["id"]), title=str(r["l"])) for r in store.select(P + f"""
            SELECT ?id ?l WHERE {{ ?x wk:addresses {t} ; a wk:{cls} ; dct:identifier ?id ;
            rdfs:label ?l }} ORDER BY ?l""")]
        for kind, cls in (("lessons", "Lesson"), ("measures", "Measure"))}
    title = str(head[0]["l"]) if head else threshold_id
    text = str(head[0]["d"]) if head and "d" in head[0] else None
    return ThresholdAnswer(threshold=Ref(id=threshold_id, title=title), text=text,
                           breakthroughs=paths, **others)


@dataclass
class SimilarNeighbourhood:
    """A neighbourhood like this one, and the thresholds and themes they share."""

    id: str
    title: str
    thresholds: list[tuple[str, str]]
    themes: list[str]


class MetThreshold(BaseModel):
    """A threshold a neighbourhood met: through the links of its own items, not its location."""

    id: str
    title: str
    iri: str
    items: list[Ref] = Field(default_factory=list, description="The neighbourhood's items that "
                             "address or overcome it.")
    overcome_here: bool = Field(description="One of those items is a breakthrough that "
                                "overcomes it.")
    elsewhere: int = Field(description="Other neighbourhoods whose items link it.")


def neighbourhood_thresholds(store: Store, iri: str) -> list[MetThreshold]:
    """The thresholds a neighbourhood's own lessons, measures and breakthroughs address or
    overcome (and the threshold records located there), most linked first."""
    n = f"<{iri}>"
    rows = store.select(P + f"""SELECT ?t ?tid ?tl ?i ?iid ?il ?how WHERE {{
        {{ ?i wk:neighbourhood {n} ; wk:addresses ?t . BIND ("addresses" AS ?how) }}
        UNION {{ ?i wk:neighbourhood {n} ; wk:overcomes ?t . BIND ("overcomes" AS ?how) }}
        UNION {{ ?t wk:neighbourhood {n} . BIND (?t AS ?i) BIND ("located" AS ?how) }}
        ?t a wk:Threshold ; dct:identifier ?tid ; rdfs:label ?tl .
        ?i dct:identifier ?iid ; rdfs:label ?il }}""")
    found: dict[str, MetThreshold] = {}
    for r in rows:
        t = str(r["t"])
        met = found.setdefault(t, MetThreshold(id=str(r["tid"]), title=str(r["tl"]), iri=t,
                                               overcome_here=False, elsewhere=0))
        if str(r["i"]) != t and all(ref.id != str(r["iid"]) for ref in met.items):
            met.items.append(Ref(id=str(r["iid"]), title=str(r["il"])))
        if str(r["how"]) == "overcomes":
            met.overcome_here = True
    if found:
        values = " ".join(f"<{t}>" for t in found)
        for r in store.select(P + f"""SELECT ?t (COUNT(DISTINCT ?w) AS ?n) WHERE {{
                VALUES ?t {{ {values} }} ?j wk:addresses|wk:overcomes ?t ;
                wk:neighbourhood ?w FILTER (?w != {n}) }} GROUP BY ?t"""):
            found[str(r["t"])].elsewhere = int(str(r["n"]))
    for met in found.values():
        met.items.sort(key=lambda ref: ref.title.lower())
    return sorted(found.values(), key=lambda m: (-len(m.items), not m.overcome_here,
                                                 m.title.lower()))


class WijkSummary(BaseModel):
    """One neighbourhood side by side with the others (`/wijken`)."""

    id: str
    title: str
    iri: str
    pioneer: bool
    municipality: Ref | None = None
    themes: list[Ref] = Field(default_factory=list)
    items: dict[str, int] = Field(default_factory=dict, description="Its own lessons, "
                                  "measures and breakthroughs, by type.")
    thresholds: int = Field(description="Drempels its items address or overcome.")
    overcome: int = Field(description="Of those, the drempels a breakthrough here overcomes.")
    top_thresholds: list[Ref] = Field(default_factory=list, description="The drempels most of "
                                      "its items link, up to three.")


def compare_neighbourhoods(store: Store) -> list[WijkSummary]:
    """Every neighbourhood with its municipality, themes, own items and the drempels it met;
    the pioneers first, then by name."""
    heads = store.select(P + """SELECT ?w ?id ?title ?pioneer ?nis ?mun WHERE {
        ?w a wk:Neighbourhood ; dct:identifier ?id ; rdfs:label ?title .
        OPTIONAL { ?w wk:pioneer ?pioneer }
        OPTIONAL { ?w wk:municipality ?m . ?m wk:nisCode ?nis ; rdfs:label ?mun } }""")
    out: dict[str, WijkSummary] = {}
    for r in heads:
        municipality = (Ref(id=str(r["nis"]), title=str(r["mun"]))
                        if r.get("nis") is not None else None)
        out.setdefault(str(r["w"]), WijkSummary(
            id=str(r["id"]), title=str(r["title"]), iri=str(r["w"]),
            pioneer=str(r.get("pioneer") or "") == "true", municipality=municipality,
            thresholds=0, overcome=0))
    for r in store.select(P + """SELECT ?w ?n ?label WHERE { ?w a wk:Neighbourhood ;
            dct:subject ?t . ?t skos:notation ?n ; skos:prefLabel ?label
            FILTER (lang(?label) = "nl") } ORDER BY ?label"""):
        if str(r["w"]) in out:
            out[str(r["w"])].themes.append(Ref(id=str(r["n"]), title=str(r["label"])))
    for r in store.select(P + """SELECT ?w ?c (COUNT(DISTINCT ?i) AS ?n) WHERE {
            ?i wk:neighbourhood ?w ; a ?c . ?w a wk:Neighbourhood
            VALUES ?c { wk:Lesson wk:Measure wk:Breakthrough wk:Threshold } } GROUP BY ?w ?c"""):
        kind = CLASS_TO_TYPE.get(r["c"])
        if str(r["w"]) in out and kind:
            out[str(r["w"])].items[kind] = int(str(r["n"]))
    for summary in out.values():
        met = neighbourhood_thresholds(store, summary.iri)
        summary.thresholds = len(met)
        summary.overcome = sum(1 for m in met if m.overcome_here)
        summary.top_thresholds = [Ref(id=m.id, title=m.title) for m in met[:3] if m.items]
    return sorted(out.values(), key=lambda s: (not s.pioneer, s.title.lower()))


class TimelineEntry(BaseModel):
    """A dated event of a neighbourhood: one of its items, or an activity it was harvested in."""

    date: str
    type: str
    id: str
    title: str
    activity: Ref | None = Field(default=None, description="Where the item was harvested.")


def neighbourhood_timeline(store: Store, iri: str) -> list[TimelineEntry]:
    """The neighbourhood's own dated items (their date, else their activity's) and the
    activities they came from, oldest first."""
    n = f"<{iri}>"
    rows = store.select(P + f"""SELECT ?i ?c ?id ?title ?date ?aid ?atitle ?adate WHERE {{
        ?i wk:neighbourhood {n} ; a ?c ; dct:identifier ?id ; rdfs:label ?title .
        OPTIONAL {{ ?i dct:date ?own }}
        OPTIONAL {{ ?i prov:wasGeneratedBy ?a . ?a dct:identifier ?aid ; rdfs:label ?atitle .
                   OPTIONAL {{ ?a dct:date ?adate }} }}
        BIND (COALESCE(?own, ?adate) AS ?date) FILTER (BOUND(?date)) }}""")
    entries: dict[tuple[str, str], TimelineEntry] = {}
    for r in rows:
        kind = CLASS_TO_TYPE.get(r["c"])
        if kind is None:
            continue
        activity = (Ref(id=str(r["aid"]), title=str(r["atitle"]))
                    if r.get("aid") is not None else None)
        entries.setdefault(("item", str(r["id"])), TimelineEntry(
            date=str(r["date"])[:10], type=kind, id=str(r["id"]), title=str(r["title"]),
            activity=activity))
        if activity is not None and r.get("adate") is not None:
            entries.setdefault(("activity", activity.id), TimelineEntry(
                date=str(r["adate"])[:10], type="activity", id=activity.id,
                title=activity.title))
    return sorted(entries.values(), key=lambda e: (e.date, e.type != "activity",
                                                   e.title.lower()))
