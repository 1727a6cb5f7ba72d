"""RDF terms between rdflib and pyoxigraph: the one place that converts them."""

from __future__ import annotations

from typing import TypeAlias

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

# A pyoxigraph term: what a query solution binds (an RDF-star triple included).
OxTerm: TypeAlias = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


def to_ox(term: Node) -> ox.NamedNode | ox.Literal | ox.BlankNode:
    """Convert an rdflib term to its pyoxigraph twin."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    raise TypeError(f"unsupported term {term!r}")


def to_ox_quad(s: Node, p: Node, o: Node, graph: ox.NamedNode | None = None) -> ox.Quad:
    """Convert an rdflib triple to a pyoxigraph quad in `graph` (None: the default graph)."""
    subject, predicate = to_ox(s), to_ox(p)
    if isinstance(subject, ox.Literal) or not isinstance(predicate, ox.NamedNode):
        raise TypeError(f"not an RDF triple: {s!r} {p!r} {o!r}")
    return ox.Quad(subject, predicate, to_ox(o), graph)


def from_ox(term: OxTerm) -> Node:
    """Convert a pyoxigraph term to its rdflib twin."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == XSD_STRING:  # RDF 1.1 plain literal: rdflib keeps it untyped
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    raise TypeError(f"unsupported term {term!r}")


def bound_values(solution: ox.QuerySolution, variables: list[str]) -> dict[str, OxTerm]:
    """One SELECT solution as {variable: Oxigraph term}, unbound variables left out."""
    values: dict[str, OxTerm] = {}
    for name in variables:
        value = solution[name]
        if value is not None:
            values[name] = value
    return values
