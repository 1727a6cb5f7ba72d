"""Fast SHACL Core validation: each constraint of a shapes graph becomes one set-at-a-time SPARQL
query, run by pyoxigraph over an in-memory store that holds the data graph.

pyshacl stays the reference (inference "none"). This engine reads any shapes graph, gives the
same results for the constructs it supports and raises `UnsupportedShapeError` for any other
SHACL construct. Shape-based constraints (sh:node, sh:or, sh:and, sh:not, sh:xone and sh:property
below a property shape) compute the failing nodes of each nested shape with queries and combine
them as Python sets; nested results are not reported, as in pyshacl's top-level results.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD
from rdflib.plugins.stores.memory import Memory
from rdflib.term import Node

from kg.terms import OxTerm, from_ox, to_ox_quad
from ontology import load_shapes

_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
_NON_VALIDATING = {SH.name, SH.description, SH.order, SH.group, SH.defaultValue, SH.message,
                   SH.severity, SH.deactivated, SH.path, SH.property, SH.flags, *_TARGETS}
_FILTERS = {SH.datatype, SH.nodeKind, SH.pattern, SH.languageIn, SH.minLength, SH.maxLength,
            SH.minInclusive, SH.maxInclusive, SH.minExclusive, SH.maxExclusive, SH["in"],
            SH["class"]}
_OTHERS = {SH.minCount, SH.maxCount, SH.hasValue, SH.uniqueLang, SH.node, SH["not"], SH["and"],
           SH["or"], SH.xone}
_SHAPE_KINDS = (SH.NodeShape, SH.PropertyShape)
_NODE_KINDS: dict[Node, str] = {
    SH.IRI: "isIRI(?v)", SH.BlankNode: "isBlank(?v)", SH.Literal: "isLiteral(?v)",
    SH.BlankNodeOrIRI: "!isLiteral(?v)", SH.BlankNodeOrLiteral: "!isIRI(?v)",
    SH.IRIOrLiteral: "!isBlank(?v)",
}
_COMPARE = {SH.minInclusive: ">=", SH.maxInclusive: "<=", SH.minExclusive: ">",
            SH.maxExclusive: "<"}
# above this many focus nodes a value query scans the whole path and filters in Python
_SMALL = 200
# datatypes whose lexical forms SPARQL casts check (ill-typed literals fail sh:datatype)
_CASTABLE = {XSD.integer, XSD.decimal, XSD.float, XSD.double, XSD.boolean, XSD.dateTime,
             XSD.date, XSD.time}


class UnsupportedShapeError(ValueError):
    """The shapes graph uses a SHACL construct this engine does not implement."""


@dataclass(frozen=True)
class Result:
    """One validation result, as in pyshacl's results graph (top-level results only)."""

    focus: Node
    path: Node | None
    value: Node | None
    shape: Node
    component: URIRef
    severity: Node
    message: str


@dataclass(frozen=True)
class ValidationReport:
    """Outcome of a validation: conforms when there is no result of any severity."""

    conforms: bool
    results: list[Result]


class _Pattern(NamedTuple):
    regex: str  # sh:pattern
    flags: str  # sh:flags


@dataclass(frozen=True)
class _Constraint:
    param: URIRef  # the parameter predicate, e.g. sh:minCount
    value: Node | tuple[Node, ...] | _Pattern
    component: URIRef

    @property
    def term(self) -> Node:
        """The value of a parameter that takes one term (sh:minCount, sh:class, ...)."""
        assert not isinstance(self.value, tuple)
        return self.value

    @property
    def terms(self) -> tuple[Node, ...]:
        """The values of a parameter that takes a list (sh:in, sh:and, ...), or its one term."""
        value = self.value
        if not isinstance(value, tuple):
            return (value,)
        assert not isinstance(value, _Pattern)
        return value

    @property
    def pattern(self) -> _Pattern:
        assert isinstance(self.value, _Pattern)
        return self.value


@dataclass
class _Shape:
    node: Node
    path: str | None  # SPARQL property path
    path_node: Node | None
    bounded: bool  # the path cannot have zero length, so it never yields every node
    severity: Node
    message: str | None
    targets: list[tuple[URIRef, Node]]
    constraints: list[_Constraint]
    properties: list[Node]
    deactivated: bool


def _sparql_term(term: Node) -> str:
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, Literal):
        text = _escape(str(term))
        if term.language:
            return f'"{text}"@{term.language}'
        return f'"{text}"^^<{term.datatype or XSD.string}>'
    raise UnsupportedShapeError(f"blank node {term!r} used as a constant in the shapes graph")


def _escape(text: str) -> str:
    if '"' in text or "\\" in text or "\n" in text or "\r" in text:
        text = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
                .replace("\r", "\\r"))
    return text


def _list(sg: Graph, node: Node) -> tuple[Node, ...]:
    return tuple(Collection(sg, node))


def _path(sg: Graph, node: Node) -> str:
    if isinstance(node, URIRef):
        return f"<{node}>"
    if (node, RDF.first, None) in sg:
        return "(" + "/".join(_path(sg, p) for p in _list(sg, node)) + ")"
    for predicate, template in ((SH.inversePath, "^({})"), (SH.zeroOrMorePath, "({})*"),
                                (SH.oneOrMorePath, "({})+"), (SH.zeroOrOnePath, "({})?")):
        inner = sg.value(node, predicate)
        if inner is not None:
            return template.format(_path(sg, inner))
    alternatives = sg.value(node, SH.alternativePath)
    if alternatives is not None:
        return "(" + "|".join(_path(sg, p) for p in _list(sg, alternatives)) + ")"
    raise UnsupportedShapeError(f"unsupported sh:path {node!r}")


def _check_regex(pattern: str, flags: str) -> None:
    """Oxigraph evaluates sh:pattern with Rust's regex crate (no look-around, no
    back-references); refuse a pattern it cannot compile instead of failing every value."""
    query = f'SELECT (REGEX("", "{_escape(pattern)}", "{_escape(flags)}") AS ?ok) {{}}'
    try:
        solutions = ox.Store().query(query)
        assert isinstance(solutions, ox.QuerySolutions)
        [row] = list(solutions)
    except SyntaxError as exc:
        raise UnsupportedShapeError(f"sh:pattern {pattern!r} is not supported: {exc}") from exc
    if row[0] is None:
        raise UnsupportedShapeError(f"sh:pattern {pattern!r} (flags {flags!r}) is not supported "
                                    "by Oxigraph's regex engine")


def _bounded(sg: Graph, node: Node) -> bool:
    if isinstance(node, URIRef):
        return True
    if (node, SH.zeroOrMorePath, None) in sg or (node, SH.zeroOrOnePath, None) in sg:
        return False
    if (node, RDF.first, None) in sg:
        return all(_bounded(sg, p) for p in _list(sg, node))
    alternatives = sg.value(node, SH.alternativePath)
    if alternatives is not None:
        return all(_bounded(sg, p) for p in _list(sg, alternatives))
    return all(_bounded(sg, o) for p in (SH.inversePath, SH.oneOrMorePath)
               for o in sg.objects(node, p))


class CompiledShapes:
    """A shapes graph read once into shapes and constraints; `validate` runs them on data."""

    def __init__(self, shapes: Graph) -> None:
        self.sg = shapes
        self.shapes: dict[Node, _Shape] = {}
        roots = {s for kind in _SHAPE_KINDS for s in shapes.subjects(RDF.type, kind)}
        roots |= {s for t in _TARGETS for s in shapes.subjects(t, None)}
        roots |= set(shapes.subjects(SH.path, None))
        implicit = {s for s in shapes.subjects(RDF.type, SH.NodeShape)
                    if {RDFS.Class, OWL.Class} & set(shapes.objects(s, RDF.type))}
        for node in sorted(roots, key=str):
            self._shape(node)
        for node in implicit:  # a shape that is also a class targets its own instances
            self.shapes[node].targets.append((SH.targetClass, node))
        self.targeted = [s for s in self.shapes.values() if s.targets and not s.deactivated]
        # only triples with these predicates can change a result; the others are not loaded
        self.predicates = {str(RDF.type), str(RDFS.subClassOf)}
        for shape in self.shapes.values():
            self.predicates.update(re.findall(r"<([^>]*)>", shape.path or ""))
            self.predicates.update(str(t) for kind, t in shape.targets
                                   if kind in (SH.targetSubjectsOf, SH.targetObjectsOf))

    def _shape(self, node: Node) -> _Shape:
        if node in self.shapes:
            return self.shapes[node]
        sg = self.sg
        path_node = sg.value(node, SH.path)
        messages = sorted(str(m) for m in sg.objects(node, SH.message))
        shape = _Shape(
            node=node, path=_path(sg, path_node) if path_node is not None else None,
            path_node=path_node, bounded=path_node is not None and _bounded(sg, path_node),
            severity=sg.value(node, SH.severity) or SH.Violation,
            message=messages[0] if messages else None,
            targets=[(t, o) for t in _TARGETS for o in sg.objects(node, t)], constraints=[],
            properties=list(sg.objects(node, SH.property)),
            deactivated=sg.value(node, SH.deactivated) == Literal(True))
        self.shapes[node] = shape
        for predicate in sorted(set(sg.predicates(node, None)), key=str):
            if (not isinstance(predicate, URIRef) or not str(predicate).startswith(str(SH))
                    or predicate in _NON_VALIDATING):
                continue
            if predicate == SH.closed and sg.value(node, predicate) == Literal(False):
                continue
            if predicate not in _FILTERS and predicate not in _OTHERS:
                raise UnsupportedShapeError(f"{predicate.n3(sg.namespace_manager)} on shape "
                                            f"{node.n3(sg.namespace_manager)} is not supported")
            for value in sg.objects(node, predicate):
                shape.constraints.append(self._constraint(shape, predicate, value))
        for child in shape.properties:
            if sg.value(child, SH.path) is None:
                raise UnsupportedShapeError(f"sh:property {child!r} has no sh:path")
            self._shape(child)
        return shape

    def _constraint(self, shape: _Shape, param: URIRef, value: Node) -> _Constraint:
        sg = self.sg
        local = str(param)[len(str(SH)):]
        component: URIRef = SH[local[0].upper() + local[1:] + "ConstraintComponent"]
        if param in (SH.minCount, SH.maxCount, SH.uniqueLang) and shape.path is None:
            raise UnsupportedShapeError(f"{param} needs a property shape ({shape.node!r})")
        if param == SH.pattern:
            flags = str(sg.value(shape.node, SH.flags) or "")
            _check_regex(str(value), flags)
            return _Constraint(param, _Pattern(str(value), flags), component)
        if param in (SH.languageIn, SH["in"], SH["and"], SH["or"], SH.xone):
            members = _list(sg, value)
            if param in (SH["and"], SH["or"], SH.xone):
                for member in members:
                    self._shape(member)
            return _Constraint(param, members, component)
        if param in (SH.hasValue, SH["in"], *_COMPARE):
            for term in _list(sg, value) if param == SH["in"] else (value,):
                _sparql_term(term)  # raises for blank nodes
        if param in (SH.node, SH["not"]):
            self._shape(value)
        if param == SH.nodeKind and value not in _NODE_KINDS:
            raise UnsupportedShapeError(f"unknown sh:nodeKind {value!r}")
        return _Constraint(param, value, component)

    def validate(self, data: Graph | ox.Store | Iterable[ox.Quad]) -> ValidationReport:
        """Validate a data graph (rdflib Graph, pyoxigraph Store or pyoxigraph quads)."""
        store = data if isinstance(data, ox.Store) else load_store(data, self.predicates)
        run = _Run(self, store)
        results: list[Result] = []
        for shape in self.targeted:
            pattern = _target_pattern(shape.targets, run.type_path)
            nodes = {r[0] for r in run.select(f"SELECT DISTINCT ?this WHERE {{ {pattern} }}")}
            run.report(shape, _Focus(frozenset(nodes), pattern), results)
        return ValidationReport(conforms=not results, results=results)


@dataclass(frozen=True)
class _Focus:
    """A set of focus nodes, materialized, and a SPARQL group pattern binding ?this to them."""

    nodes: frozenset[OxTerm]
    pattern: str


def _target_pattern(targets: list[tuple[URIRef, Node]], type_path: str) -> str:
    """A SPARQL group pattern binding ?this to every target node (maybe more than once)."""
    parts = []
    classes = [t for kind, t in targets if kind == SH.targetClass]
    if classes:
        values = " ".join(_sparql_term(c) for c in classes)
        parts.append(f"{{ VALUES ?tc {{ {values} }} ?this {type_path} ?tc }}")
    nodes = [t for kind, t in targets if kind == SH.targetNode]
    if nodes:
        parts.append(f"{{ VALUES ?this {{ {' '.join(_sparql_term(n) for n in nodes)} }} }}")
    for kind, t in targets:
        if kind == SH.targetSubjectsOf:
            parts.append(f"{{ ?this {_sparql_term(t)} ?any }}")
        elif kind == SH.targetObjectsOf:
            parts.append(f"{{ ?any {_sparql_term(t)} ?this }}")
    return f"{{ {' UNION '.join(parts)} }}"


def _values_block(nodes: Iterable[OxTerm], var: str = "this") -> str | None:
    """`VALUES ?var { … }` for the nodes, or None when one is a blank node (VALUES cannot)."""
    if any(isinstance(n, ox.BlankNode) for n in nodes):
        return None
    return f"VALUES ?{var} {{ {' '.join(str(n) for n in nodes)} }}"


class _Run:
    """One validation of one store: the queries and the failing-node cache of nested shapes."""

    def __init__(self, compiled: CompiledShapes, store: ox.Store) -> None:
        self.c = compiled
        self.store = store
        self.nm = compiled.sg.namespace_manager
        has_sub = self.store.query(f"ASK {{ ?a <{RDFS.subClassOf}> ?b }}",
                                   use_default_graph_as_union=True)
        self.type_path = f"<{RDF.type}>/<{RDFS.subClassOf}>*" if has_sub else f"<{RDF.type}>"
        self.failing_cache: dict[tuple[Node, frozenset[OxTerm]], set[OxTerm]] = {}
        self.values_cache: dict[tuple[str, str | None], _Focus] = {}

    def select(self, query: str) -> list[tuple[OxTerm, ...]]:
        """Run a SELECT over the union of all graphs; rows as tuples in variable order (the
        queries here bind every variable)."""
        solutions = self.store.query(query, use_default_graph_as_union=True)
        assert isinstance(solutions, ox.QuerySolutions)
        return [tuple(row) for row in solutions]

    def report(self, shape: _Shape, focus: _Focus, out: list[Result]) -> None:
        """Append the results of one shape (and its property shapes) on the focus nodes."""
        if shape.deactivated or not focus.nodes:
            return
        value: OxTerm | None
        for constraint, this, value in self.filter_violations(shape, focus):
            out.append(self.result(shape, constraint, this, value))
        for constraint in shape.constraints:
            if constraint.param not in _FILTERS:
                for this, value in self.violations(shape, constraint, focus):
                    out.append(self.result(shape, constraint, this, value))
        if shape.properties:
            inner = focus if shape.path is None else self.values(focus, shape)
            for child in shape.properties:
                self.report(self.c.shapes[child], inner, out)

    def values(self, focus: _Focus, shape: _Shape, *, exact: bool = True) -> _Focus:
        """The value nodes of the focus nodes through the shape's path, as a focus of their own.

        With `exact=False` it may hold more nodes (the path's objects of any subject, cheaper
        to find for a large focus); callers then pair failing values back to the focus nodes.
        """
        path = shape.path
        loose = not exact and shape.bounded and len(focus.nodes) > _SMALL
        key = ("" if loose else focus.pattern, path)
        if key not in self.values_cache:
            start = "" if loose else focus.pattern
            rows = self.select(f"SELECT DISTINCT ?v WHERE {{ {start} ?this {path} ?v }}")
            self.values_cache[key] = self.focus_of({r[0] for r in rows}, focus, path)
        return self.values_cache[key]

    def focus_of(self, nodes: AbstractSet[OxTerm], parent: _Focus, path: str | None
                 ) -> _Focus:
        block = _values_block(nodes)
        if block is None:  # blank nodes: re-derive them from the parent's pattern
            block = (f"{{ SELECT DISTINCT ?this WHERE {{ {{ SELECT (?this AS ?up) WHERE "
                     f"{{ {parent.pattern} }} }} ?up {path} ?this }} }}") if path else (
                parent.pattern)
        return _Focus(frozenset(nodes), block)

    def failing(self, node: Node, focus: _Focus) -> set[OxTerm]:
        """The focus nodes that do not conform to the shape `node`."""
        key = (node, focus.nodes)
        if key not in self.failing_cache:
            shape = self.c.shapes[node]
            bad: set[OxTerm] = set()
            if not shape.deactivated and focus.nodes:
                bad.update(this for _, this, _ in self.filter_violations(shape, focus))
                for constraint in shape.constraints:
                    if constraint.param not in _FILTERS:
                        bad.update(this for this, _ in self.violations(shape, constraint, focus))
                inner = focus if shape.path is None or not shape.properties else (
                    self.values(focus, shape, exact=False))
                for child in shape.properties:
                    failed = self.failing(child, inner)
                    bad.update(t for t, _ in self.pairs(shape, focus, failed))
            self.failing_cache[key] = bad & focus.nodes
        return self.failing_cache[key]

    def pairs(self, shape: _Shape, focus: _Focus, values: AbstractSet[OxTerm]
              ) -> list[tuple[OxTerm, OxTerm]]:
        """(focus node, value node) pairs of the shape whose value node is in `values`."""
        if not values:
            return []
        if shape.path is None:  # a node shape: the focus node is its own value node
            return [(v, v) for v in values]
        block = _values_block(values, "v")
        if block and shape.bounded and len(focus.nodes) > _SMALL:  # start from the values
            rows = self.select(
                f"SELECT DISTINCT ?this ?v WHERE {{ {block} ?this {shape.path} ?v }}")
            return [(r[0], r[1]) for r in rows if r[0] in focus.nodes]
        rows = self.select(f"SELECT DISTINCT ?this ?v WHERE {{ {block or ''} "
                           f"{focus.pattern} ?this {shape.path} ?v }}")
        return [(r[0], r[1]) for r in rows if block or r[1] in values]

    def scan(self, shape: _Shape, focus: _Focus) -> str:
        """The pattern a value query starts from: the path alone when the focus is large (its
        rows are filtered in Python then), else the focus joined with the path."""
        if shape.path is None:
            return f"{focus.pattern} BIND(?this AS ?v)"
        if shape.bounded and len(focus.nodes) > _SMALL:
            return f"?this {shape.path} ?v ."
        return f"{focus.pattern} ?this {shape.path} ?v ."

    def filter_violations(self, shape: _Shape, focus: _Focus
                          ) -> list[tuple[_Constraint, OxTerm, OxTerm]]:
        """(constraint, focus node, value node) of the value-type constraints of a shape, all
        tested in one pass over the value nodes."""
        filters = [c for c in shape.constraints if c.param in _FILTERS]
        if not filters:
            return []
        binds = " ".join(f"BIND(COALESCE({self.condition(c)}, false) AS ?ok{i})"
                         for i, c in enumerate(filters))
        failed = " || ".join(f"!?ok{i}" for i in range(len(filters)))
        oks = " ".join(f"?ok{i}" for i in range(len(filters)))
        rows = self.select(f"SELECT DISTINCT ?this ?v {oks} WHERE {{ "
                           f"{self.scan(shape, focus)} {binds} FILTER({failed}) }}")
        return [(c, r[0], r[1]) for r in rows if r[0] in focus.nodes
                for c, ok in zip(filters, r[2:], strict=True)
                if not (isinstance(ok, ox.Literal) and ok.value == "true")]

    def violations(self, shape: _Shape, c: _Constraint, focus: _Focus
                   ) -> Sequence[tuple[OxTerm, OxTerm | None]]:
        """(focus node, value node or None) of every violation of one constraint."""
        p, path, nodes = c.param, shape.path, focus.nodes
        if p == SH.minCount:
            n = int(str(c.term))
            query = (f"SELECT DISTINCT ?this WHERE {{ {focus.pattern} FILTER NOT EXISTS "
                     f"{{ ?this {path} ?v }} }}") if n == 1 else (
                f"SELECT ?this WHERE {{ {focus.pattern} OPTIONAL {{ ?this {path} ?v }} }} "
                f"GROUP BY ?this HAVING (COUNT(DISTINCT ?v) < {n})")
            return [(r[0], None) for r in self.select(query)] if n > 0 else []
        if p == SH.maxCount:
            rows = self.select(f"SELECT ?this WHERE {{ {self.scan(shape, focus)} }} "
                               f"GROUP BY ?this HAVING (COUNT(DISTINCT ?v) > {int(str(c.term))})")
            return [(r[0], None) for r in rows if r[0] in nodes]
        if p == SH.hasValue:
            term = _sparql_term(c.term)
            test = (f"FILTER NOT EXISTS {{ ?this {path} {term} }}" if path
                    else f"FILTER(!sameTerm(?this, {term}))")
            return [(r[0], None) for r in self.select(
                f"SELECT DISTINCT ?this WHERE {{ {focus.pattern} {test} }}")]
        if p == SH.uniqueLang:
            if c.value != Literal(True):
                return []
            rows = self.select(
                f"SELECT ?this ?l WHERE {{ {self.scan(shape, focus)} BIND(LCASE(LANG(?v)) AS ?l)"
                f' FILTER(?l != "") }} GROUP BY ?this ?l HAVING (COUNT(DISTINCT ?v) > 1)')
            return [(r[0], None) for r in rows if r[0] in nodes]
        return self.shape_based(shape, c, focus)

    def shape_based(self, shape: _Shape, c: _Constraint, focus: _Focus
                    ) -> Sequence[tuple[OxTerm, OxTerm | None]]:
        values = focus if shape.path is None else self.values(focus, shape, exact=False)
        members = c.terms
        bad: AbstractSet[OxTerm]
        if c.param == SH["or"]:  # short-circuit: test each member on the nodes still failing
            bad = set(values.nodes)
            for member in members:
                if not bad:
                    break
                subset = values if bad == values.nodes else self.focus_of(bad, focus, shape.path)
                bad &= self.failing(member, subset)
        else:
            failed = [self.failing(m, values) for m in members]
            if c.param in (SH.node, SH["and"]):
                bad = set().union(*failed)
            elif c.param == SH["not"]:
                bad = values.nodes - failed[0]
            else:  # sh:xone
                bad = {v for v in values.nodes if sum(v not in f for f in failed) != 1}
        return self.pairs(shape, focus, bad)

    def condition(self, c: _Constraint) -> str:
        """A SPARQL expression true when the value node ?v meets a value-type constraint."""
        p = c.param
        if p == SH["class"]:
            ok = f"EXISTS {{ ?v {self.type_path} {_sparql_term(c.term)} }}"
        elif p == SH.datatype:
            value = c.term
            if value == RDF.langString:
                ok = 'isLiteral(?v) && LANG(?v) != ""'
            else:
                ok = f"isLiteral(?v) && sameTerm(DATATYPE(?v), <{value}>)"
                if value in _CASTABLE:  # an ill-typed lexical form makes the cast fail
                    ok += f" && isLiteral(<{value}>(STR(?v)))"
        elif p == SH.nodeKind:
            ok = _NODE_KINDS[c.term]
        elif p == SH.pattern:
            regex, flags = c.pattern
            ok = f'!isBlank(?v) && REGEX(STR(?v), "{_escape(regex)}", "{_escape(flags)}")'
        elif p == SH.languageIn:
            tests = " || ".join(f'langMatches(LANG(?v), "{_escape(str(t))}")' for t in c.terms)
            ok = f"isLiteral(?v) && ({tests or 'false'})"
        elif p == SH.minLength:
            ok = f"!isBlank(?v) && STRLEN(STR(?v)) >= {int(str(c.term))}"
        elif p == SH.maxLength:
            ok = f"!isBlank(?v) && STRLEN(STR(?v)) <= {int(str(c.term))}"
        elif p in _COMPARE:
            ok = f"?v {_COMPARE[p]} {_sparql_term(c.term)}"
        else:  # sh:in
            ok = " || ".join(f"sameTerm(?v, {_sparql_term(t)})" for t in c.terms) or "false"
        return ok

    def result(self, shape: _Shape, c: _Constraint, this: OxTerm, value: OxTerm | None
               ) -> Result:
        return Result(
            focus=from_ox(this), path=shape.path_node,
            value=None if value is None else from_ox(value), shape=shape.node,
            component=c.component, severity=shape.severity,
            message=shape.message or self.generic_message(shape, c))

    def generic_message(self, shape: _Shape, c: _Constraint) -> str:
        """A message in pyshacl's style, for shapes without sh:message."""
        items = c.value if isinstance(c.value, tuple) else (c.value,)
        shown = ", ".join(v.n3(self.nm) if isinstance(v, URIRef) else str(v) for v in items)
        name = str(c.param)[len(str(SH)):]
        path = shape.path_node.n3(self.nm) if isinstance(shape.path_node, URIRef) else "path"
        special = {
            SH.minCount: f"Less than {shown} values on {path}",
            SH.maxCount: f"More than {shown} values on {path}",
            SH.datatype: f"Value is not Literal with datatype {shown}",
            SH["class"]: f"Value does not have class {shown}",
            SH.node: f"Value does not conform to Shape {shown}",
        }
        return special.get(c.param, f"Value does not satisfy sh:{name} {shown}")


def _nt(term: Literal) -> str:
    text = _escape(str.__str__(term))
    if term.language:
        return f'"{text}"@{term.language}'
    if term.datatype:
        return f'"{text}"^^<{term.datatype}>'
    return f'"{text}"'


def _by_subject(data: Graph) -> Iterable[tuple[Node, Mapping[Node, Iterable[Node]]]]:
    """(subject, {predicate: objects}) of every subject of a graph."""
    store = data.store
    # rdflib's public triple iterator costs ~4 µs a triple; a Memory store holding one graph
    # can be read from its subject index directly.
    if type(data) is Graph and type(store) is Memory and len(list(store.contexts())) <= 1:
        spo: dict[Node, dict[Node, dict[Node, int]]] = (
            store._Memory__spo)  # type: ignore[attr-defined]  # rdflib's private (mangled) index
        return spo.items()
    grouped: dict[Node, dict[Node, list[Node]]] = {}
    for s, p, o in data.triples((None, None, None)):
        grouped.setdefault(s, {}).setdefault(p, []).append(o)
    return grouped.items()


def load_store(data: Graph | Iterable[ox.Quad], predicates: set[str] | None = None) -> ox.Store:
    """An in-memory pyoxigraph store holding the triples of `data` in its default graph (only
    those whose predicate is in `predicates`, when given). An rdflib graph goes in as N-Triples
    text, which pyoxigraph parses faster than Python builds its term objects."""
    store = ox.Store()
    if not isinstance(data, Graph):
        store.bulk_extend(q for q in data if predicates is None or q.predicate.value in predicates)
        return store
    wanted: dict[int, bool] = {}  # id(predicate term) -> load it (rdflib's __eq__ is slow)
    lines: list[str] = []
    out = lines.append
    with_bnodes = []
    for s, po in _by_subject(data):
        head = f"<{s}> <"
        for p, objects in po.items():
            keep = wanted.get(id(p))
            if keep is None:
                keep = wanted[id(p)] = predicates is None or str(p) in predicates
            if not keep:
                continue
            line = f"{head}{p}> "
            for o in objects:
                if type(o) is URIRef and type(s) is URIRef:
                    out(f"{line}<{o}> .\n")
                elif type(o) is Literal and type(s) is URIRef:
                    out(f"{line}{_nt(o)} .\n")
                else:  # blank nodes keep their labels only when added as terms
                    with_bnodes.append(to_ox_quad(s, p, o))
    try:
        store.load("".join(lines).encode(), format=ox.RdfFormat.N_TRIPLES, lenient=True)
    except SyntaxError as exc:  # e.g. an IRI holding '>', which Oxigraph cannot represent
        raise ValueError(f"the data graph cannot be loaded into pyoxigraph: {exc}") from exc
    store.extend(with_bnodes)
    return store


@cache
def package_shapes() -> CompiledShapes:
    """The wijken shapes (ontology/shapes.ttl), compiled once."""
    return CompiledShapes(load_shapes())


def validate(data: Graph | ox.Store | Iterable[ox.Quad],
             shapes: Graph | None = None) -> ValidationReport:
    """Validate `data` against `shapes` (default: the wijken package shapes, compiled once)."""
    compiled = package_shapes() if shapes is None else CompiledShapes(shapes)
    return compiled.validate(data)
