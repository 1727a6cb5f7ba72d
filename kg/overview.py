"""Figures for the overview page: records per theme (by type) and per LEKP werf.

Themes map to werven with `wk:lekpWerf` (ontology/schemes.ttl; a theme may belong to several); a
record counts once for a werf even when several of its themes belong to it. Records none of
whose themes has a werf are counted under "geen LEKP-werf".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib.term import Node

from kg.store import Store
from ontology.namespaces import CLASS_TO_TYPE, KNOWLEDGE_TYPES, RECORD_TYPES, sparql_prefixes

NO_WERF = "geen LEKP-werf"


@dataclass
class Bar:
    """One row of a chart: a label, a link, the total and the parts per record type."""

    key: str
    label: str
    total: int
    parts: dict[str, int] = field(default_factory=dict)
    note: str = ""


@dataclass
class Overview:
    """Everything the overview page shows."""

    types: dict[str, int]
    themes: list[Bar]
    werven: list[Bar]

    @property
    def max_theme(self) -> int:
        """The longest theme bar (scales the chart)."""
        return max((b.total for b in self.themes), default=1) or 1

    @property
    def max_werf(self) -> int:
        """The longest werf bar."""
        return max((b.total for b in self.werven), default=1) or 1


def _type(class_iri: Node) -> str | None:
    return CLASS_TO_TYPE.get(class_iri)


def _add(bars: dict[str, Bar], key: str, label: str, class_iri: Node, n: Node) -> None:
    bar = bars.setdefault(key, Bar(key, label, 0))
    kind = _type(class_iri) or "resource"
    bar.parts[kind] = bar.parts.get(kind, 0) + int(str(n))
    bar.total += int(str(n))


def build_overview(store: Store) -> Overview:
    """Count the knowledge items (lessons, thresholds, measures, breakthroughs) per theme and
    per werf, split by type, and all records per type."""
    p = sparql_prefixes()
    classes = "VALUES ?c { " + " ".join(f"wk:{RECORD_TYPES[t][0]}" for t in KNOWLEDGE_TYPES) + " }"
    types: dict[str, int] = {}
    for r in store.select(p + """SELECT ?c (COUNT(?s) AS ?n) WHERE {
            ?s dct:identifier ?id ; a ?c } GROUP BY ?c"""):
        kind = _type(r["c"])
        if kind:
            types[kind] = int(str(r["n"]))
    werf_of: dict[str, list[str]] = {}
    for r in store.select(p + """SELECT ?notation ?werf WHERE { ?theme wk:lekpWerf ?w ;
            skos:notation ?notation . ?w skos:notation ?werf } ORDER BY ?werf"""):
        werf_of.setdefault(str(r["notation"]), []).append(str(r["werf"]))
    themes: dict[str, Bar] = {}
    for r in store.select(p + f"""SELECT ?notation ?label ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{
            {classes} ?s a ?c ; dct:subject ?theme .
            ?theme skos:notation ?notation ; skos:prefLabel ?label FILTER (lang(?label) = "nl")
            }} GROUP BY ?notation ?label ?c"""):
        _add(themes, str(r["notation"]), str(r["label"]), r["c"], r["n"])
    for bar in themes.values():
        bar.note = ", ".join(werf_of.get(bar.key, [])) or NO_WERF
    werven: dict[str, Bar] = {}
    for r in store.select(p + f"""SELECT ?notation ?label ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{
            {classes} ?s a ?c ; dct:subject/wk:lekpWerf ?werf .
            ?werf skos:notation ?notation ; skos:prefLabel ?label FILTER (lang(?label) = "nl")
            }} GROUP BY ?notation ?label ?c"""):
        _add(werven, str(r["notation"]), f"{r['notation']}: {r['label']}", r["c"], r["n"])
    for r in store.select(p + f"""SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{
            {classes} ?s a ?c FILTER NOT EXISTS {{ ?s dct:subject/wk:lekpWerf ?w }}
            }} GROUP BY ?c"""):
        _add(werven, "", NO_WERF, r["c"], r["n"])
    return Overview(
        types=dict(sorted(types.items(), key=lambda kv: -kv[1])),
        themes=sorted(themes.values(), key=lambda b: (-b.total, b.label)),
        werven=sorted(werven.values(), key=lambda b: (b.key == "", b.key)),
    )
