"""The store look-ups of the ingest pipeline: known records, concept notations, who refers to
a record, and the terms that mention linking matches."""

from __future__ import annotations

from collections.abc import Mapping

import pyoxigraph as ox

from ingest.resolve import KnownItem
from kg.catalogue import source_graphs
from kg.mentions import Term
from kg.store import Store
from ontology.namespaces import (
    CLASS_TO_TYPE,
    CONCEPT_ROOT,
    SCHEME_ROOT,
    THEME_SCHEME,
    WK,
    sparql_prefixes,
)

P = sparql_prefixes()


def known_items(store: Store) -> dict[str, KnownItem]:
    """Every record in the store by id: its type, graph and source file."""
    files = {g.iri: g.source_file for g in source_graphs(store)}
    values = " ".join(f"<{c}>" for c in CLASS_TO_TYPE)
    rows = store.select(
        P
        + f"""
        SELECT ?id ?class ?g WHERE {{ GRAPH ?g {{ ?s a ?class ; dct:identifier ?id }}
          VALUES ?class {{ {values} }} }}"""
    )
    out = {}
    for r in rows:
        g = str(r["g"])
        out[str(r["id"])] = KnownItem(CLASS_TO_TYPE[r["class"]], g, files.get(g, g))
    return out


def scheme_notations(store: Store) -> dict[str, dict[str, str]]:
    """scheme name -> notation -> concept IRI, for every wijken concept scheme in the store."""
    rows = store.select(
        P
        + """
        SELECT ?scheme ?notation ?c WHERE { ?c skos:inScheme ?scheme ; skos:notation ?notation }"""
    )
    out: dict[str, dict[str, str]] = {}
    for r in rows:
        scheme = str(r["scheme"])
        if scheme.startswith(SCHEME_ROOT) and str(r["c"]).startswith(CONCEPT_ROOT):
            out.setdefault(scheme.removeprefix(SCHEME_ROOT), {})[str(r["notation"])] = str(r["c"])
    return out


def theme_notations(store: Store) -> dict[str, str]:
    """Theme notation -> concept IRI."""
    return scheme_notations(store).get(THEME_SCHEME, {})


def referrers(
    store: Store, base_iri: str, removed: Mapping[str, KnownItem], *, exclude: set[str]
) -> dict[str, list[tuple[str, str]]]:
    """For ids about to be removed: (source file, id) of records elsewhere that point at them."""
    if not removed:
        return {}
    files = {g.iri: g.source_file for g in source_graphs(store)}
    targets = " ".join(f"<{base_iri}{item.type}/{rid}>" for rid, item in removed.items())
    rows = store.select(
        P
        + f"""
        SELECT ?target ?rid ?g WHERE {{ GRAPH ?g {{ ?s ?p ?target ; dct:identifier ?rid }}
          VALUES ?target {{ {targets} }} FILTER (?p != wk:mentions) }}"""
    )
    out: dict[str, list[tuple[str, str]]] = {}
    for r in rows:
        g = str(r["g"])
        if g in exclude:
            continue
        rid = str(r["target"]).rsplit("/", 1)[1]
        out.setdefault(rid, []).append((files.get(g, g), str(r["rid"])))
    return out


def mentions_of(store: Store, base_iri: str, removed: Mapping[str, KnownItem], *,
                exclude: set[str]) -> list[ox.Quad]:
    """`wk:mentions` quads in other graphs that point at records about to be removed."""
    if not removed:
        return []
    targets = " ".join(f"<{base_iri}{item.type}/{rid}>" for rid, item in removed.items())
    result = store.query(P + f"""SELECT ?s ?o ?g WHERE {{ GRAPH ?g {{ ?s wk:mentions ?o }}
        VALUES ?o {{ {targets} }} }}""")
    assert isinstance(result, ox.QuerySolutions)
    mentions = ox.NamedNode(f"{WK}mentions")
    return [ox.Quad(row["s"], mentions, row["o"], row["g"]) for row in result
            if row["g"].value not in exclude]


def mention_terms(store: Store, *, exclude_graphs: set[str]) -> list[Term]:
    """Labels that name actors, municipalities and themes, for the mention linker."""
    terms: list[Term] = []
    rows = store.select(
        P
        + """
        SELECT ?s ?label ?g WHERE { GRAPH ?g { ?s a wk:Actor .
          { ?s rdfs:label ?label } UNION { ?s skos:altLabel ?label } } }"""
    )
    terms += [
        Term(str(r["label"]), str(r["s"]), "actor")
        for r in rows
        if str(r["g"]) not in exclude_graphs
    ]
    rows = store.select(
        P
        + """
        SELECT ?s ?label WHERE { ?s a wk:Municipality ; rdfs:label ?label }"""
    )
    terms += [Term(str(r["label"]), str(r["s"]), "municipality") for r in rows]
    rows = store.select(
        P
        + f"""
        SELECT ?s ?label WHERE {{ ?s skos:inScheme <{SCHEME_ROOT}{THEME_SCHEME}> .
          {{ ?s skos:prefLabel ?label }} UNION {{ ?s skos:altLabel ?label }}
          FILTER (lang(?label) = "nl") }}"""
    )
    terms += [Term(str(r["label"]), str(r["s"]), "theme") for r in rows]
    return terms
