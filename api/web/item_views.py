"""What a record's page shows: its links grouped by relation, related breakthroughs and why,
the graph around it, and per type the threshold's breakthroughs or the neighbourhood's case.

Similar neighbourhoods are found by **shared thresholds**: two neighbourhoods are alike when
the lessons, measures and breakthroughs recorded in them address or overcome the same
thresholds (`wk:addresses`/`wk:overcomes`), ranked by the number of shared thresholds, then by
shared themes (`kb.related`, which only sees themes for a neighbourhood).
"""

from __future__ import annotations

import contextlib
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from rdflib import Literal

from api.knowledgebase import KnowledgeBase
from api.web.templating import kind_colour
from kg.errors import WijkenError
from kg.items import RELATIONS, Item, Link
from kg.traversal import Related
from ontology.namespaces import KNOWLEDGE_TYPES, THEME_SCHEME, concept_iri, sparql_prefixes
from search.snippets import shorten

# relations shown first, in this order; the rest follow alphabetically
_ORDER = [name for name, _, _ in RELATIONS.values()]
# via relation -> record type of the resources it runs through (for links)
THROUGH_TYPE = {"shared-threshold": "threshold", "shared-measure": "measure",
                 "same-neighbourhood": "neighbourhood", "shared-theme": "theme"}
GRAPH_DEPTHS = (1, 2)
SYMMETRIC = {"related"}


@dataclass
class LinkGroup:
    """Linked resources under one Dutch relation label."""

    relation: str
    direction: str
    label: str
    links: list[Link] = field(default_factory=list)


def link_groups(item: Item, *, skip: frozenset[tuple[str, str]] = frozenset()
                ) -> list[LinkGroup]:
    """The item's links grouped by (relation, direction): outgoing first, mentions last."""
    groups: dict[tuple[str, str], LinkGroup] = {}
    seen: set[tuple[str, str]] = set()
    for link in item.links:
        if (link.relation, link.direction) in skip:
            continue
        # wk:related is symmetric: one group, each item once, whichever way it was stated
        direction = "out" if link.relation in SYMMETRIC else link.direction
        if (link.relation, link.target.iri) in seen and link.relation in SYMMETRIC:
            continue
        seen.add((link.relation, link.target.iri))
        groups.setdefault((link.relation, direction),
                          LinkGroup(link.relation, direction, link.label)).links.append(link)
    for group in groups.values():
        group.links.sort(key=lambda ln: (ln.target.title or ln.target.iri).lower())

    def order(g: LinkGroup) -> tuple[int, int, int]:
        return (g.relation == "mentions", g.direction != "out", _ORDER.index(g.relation)
                if g.relation in _ORDER else 99)

    return sorted(groups.values(), key=order)


def through_labels(kb: KnowledgeBase, related: list[Related]) -> dict[str, str]:
    """Dutch labels of the record ids and theme notations related items connect through
    (notations are looked up in the theme scheme only: other schemes reuse them)."""
    ids = sorted({t for r in related for v in r.via if v.relation != "shared-theme"
                  for t in v.through})
    themes = sorted({t for r in related for v in r.via if v.relation == "shared-theme"
                     for t in v.through})
    labels: dict[str, str] = {}
    if ids:
        values = " ".join(Literal(i).n3() for i in ids)
        for r in kb.store.select(sparql_prefixes() + f"""SELECT ?id ?l WHERE {{
                VALUES ?id {{ {values} }} ?x dct:identifier ?id ; rdfs:label ?l }}"""):
            labels[str(r["id"])] = str(r["l"])
    if themes:
        values = " ".join(f"<{concept_iri(THEME_SCHEME, t)}>" for t in themes)
        for r in kb.store.select(sparql_prefixes() + f"""SELECT ?id ?l WHERE {{
                VALUES ?c {{ {values} }} ?c skos:notation ?id ; skos:prefLabel ?l
                FILTER (lang(?l) = "nl") }}"""):
            labels["theme:" + str(r["id"])] = str(r["l"])
    return labels


def related_breakthroughs(kb: KnowledgeBase, item: Item, limit: int = 8) -> list[Related]:
    """Breakthroughs connected to the item, strongest first, each with its `via`."""
    try:
        return kb.related(item.id, types=("breakthrough",), limit=limit)
    except WijkenError:
        return []


def neighbourhood_case(kb: KnowledgeBase, item: Item) -> dict[str, list[Any]]:
    """The items recorded in this neighbourhood, by type (lessons, thresholds, measures…)."""
    by_type: dict[str, list[Any]] = {t: [] for t in KNOWLEDGE_TYPES}
    texts: dict[str, str] = {}
    with contextlib.suppress(WijkenError):  # no index: titles without snippets
        texts = {d.id: d.text for d in kb.search_engine.documents().values()}
    for target in item.linked("neighbourhood", "in"):
        if target.type and target.id:
            by_type.setdefault(target.type, []).append(
                {"ref": target, "text": shorten(texts.get(target.id, ""), 220)})
    for refs in by_type.values():
        refs.sort(key=lambda r: (r["ref"].title or "").lower())
    return {t: refs for t, refs in by_type.items() if refs}


def graph_payload(kb: KnowledgeBase, item: Item, depth: int, href: Any) -> dict[str, Any]:
    """The subgraph around the item as cytoscape elements, each node with its local link."""
    sub = kb.subgraph(item.id, depth=depth)
    level = _levels(sub.center, [(e.source, e.target) for e in sub.edges])
    nodes = [{"data": {"id": n.iri, "label": n.label, "type": n.type, "colour": kind_colour(n.type),
                       "href": href(n.iri, n.type), "center": n.iri == sub.center,
                       "level": level.get(n.iri, depth + 1)}}
             for n in sub.nodes]
    edges = [{"data": {"id": f"e{i}", "source": e.source, "target": e.target,
                       "label": e.label}} for i, e in enumerate(sub.edges)]
    return {"elements": nodes + edges, "truncated": sub.truncated, "nodes": len(nodes),
            "edges": len(edges), "types": sorted({n.type for n in sub.nodes})}


def _levels(center: str, edges: list[tuple[str, str]]) -> dict[str, int]:
    """Hops from the centre of every node (undirected), for the concentric graph layout."""
    around: dict[str, set[str]] = {}
    for a, b in edges:
        around.setdefault(a, set()).add(b)
        around.setdefault(b, set()).add(a)
    level = {center: 0}
    queue = deque([center])
    while queue:
        node = queue.popleft()
        for nxt in around.get(node, ()):
            if nxt not in level:
                level[nxt] = level[node] + 1
                queue.append(nxt)
    return level
