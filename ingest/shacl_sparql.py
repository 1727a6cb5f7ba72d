"""Fast SHACL Core validation: each constraint of a shapes graph becomes one set-at-a-time SPARQL
query, run by pyoxigraph over an in-memory store that holds the data graph.

pyshacl stays the reference (inference "none"). This engine reads any shapes graph, gives the
same results for the constructs it supports and raises `UnsupportedShapeError` for any other
SHACL construct. Shape-based constraints (sh:node, sh:or, sh:and, sh:not, sh:xone and sh:property
below a property shape) compute the failing nodes of each nested shape with queries and combine
them as Python sets; nested results are not reported, as in pyshacl's top-level results.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD
from rdflib.plugins.stores.memory import Memory
from rdflib.term import Node

_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
_NON_VALIDATING = {SH.name, SH.description, SH.order, SH.group, SH.defaultValue, SH.message,
                   SH.severity, SH.deactivated, SH.path, SH.property, SH.flags, *_TARGETS}
_FILTERS = {SH.datatype, SH.nodeKind, SH.pattern, SH.languageIn, SH.minLength, SH.maxLength,
            SH.minInclusive, SH.maxInclusive, SH.minExclusive, SH.maxExclusive, SH["in"],
            SH["class"]}
_OTHERS = {SH.minCount, SH.maxCount, SH.hasValue, SH.uniqueLang, SH.node, SH["not"], SH["and"],
           SH["or"], SH.xone}
_SHAPE_KINDS = (SH.NodeShape, SH.PropertyShape)
_NODE_KINDS = {
    SH.IRI: "isIRI(?v)", SH.BlankNode: "isBlank(?v)", SH.Literal: "isLiteral(?v)",
    SH.BlankNodeOrIRI: "!isLiteral(?v)", SH.BlankNodeOrLiteral: "!isIRI(?v)",
    SH.IRIOrLiteral: "!isBlank(?v)",
}
_COMPARE = {SH.minInclusive: ">=", SH.maxInclusive: "<=", SH.minExclusive: ">",
            SH.maxExclusive: "<"}
# datatypes whose lexical forms SPARQL casts check (ill-typed literals fail sh:datatype)
_XSD_STRING = str(XSD.string)
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
    severity: URIRef
    message: str


@dataclass(frozen=True)
class ValidationReport:
    """Outcome of a validation: conforms when there is no result of any severity."""

    conforms: bool
    results: list[Result]


@dataclass(frozen=True)
class _Constraint:
    param: URIRef  # the parameter predicate, e.g. sh:minCount
    value: Node | tuple[Node, ...] | tuple[str, str]
    component: URIRef


@dataclass
class _Shape:
    node: Node
    path: str | None  # SPARQL property path
    path_node: Node | None
    severity: URIRef
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

    def _shape(self, node: Node) -> _Shape:
        if node in self.shapes:
            return self.shapes[node]
        sg = self.sg
        path_node = sg.value(node, SH.path)
        messages = sorted(str(m) for m in sg.objects(node, SH.message))
        shape = _Shape(
            node=node, path=_path(sg, path_node) if path_node is not None else None,
            path_node=path_node, severity=sg.value(node, SH.severity) or SH.Violation,
            message=messages[0] if messages else None,
            targets=[(t, o) for t in _TARGETS for o in sg.objects(node, t)], constraints=[],
            properties=list(sg.objects(node, SH.property)),
            deactivated=sg.value(node, SH.deactivated) == Literal(True))
        self.shapes[node] = shape
        for predicate in sorted(set(sg.predicates(node, None)), key=str):
            if not str(predicate).startswith(str(SH)) or predicate in _NON_VALIDATING:
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
        component = SH[local[0].upper() + local[1:] + "ConstraintComponent"]
        if param in (SH.minCount, SH.maxCount, SH.uniqueLang) and shape.path is None:
            raise UnsupportedShapeError(f"{param} needs a property shape ({shape.node!r})")
        if param == SH.pattern:
            flags = sg.value(shape.node, SH.flags)
            return _Constraint(param, (str(value), str(flags or "")), component)
        if param in (SH.languageIn, SH["in"], SH["and"], SH["or"], SH.xone):
            members = _list(sg, value)
            if param in (SH["and"], SH["or"], SH.xone):
                for member in members:
                    self._shape(member)
            return _Constraint(param, members, component)
        if param in (SH.node, SH["not"]):
            self._shape(value)
        if param == SH.nodeKind and value not in _NODE_KINDS:
            raise UnsupportedShapeError(f"unknown sh:nodeKind {value!r}")
        return _Constraint(param, value, component)

    def validate(self, data: Graph | ox.Store | Iterable[ox.Quad]) -> ValidationReport:
        """Validate a data graph (rdflib Graph, pyoxigraph Store or pyoxigraph quads)."""
        store = data if isinstance(data, ox.Store) else load_store(data)
        run = _Run(self, store)
        results: list[Result] = []
        for shape in self.targeted:
            run.report(shape, _focus_of_targets(shape.targets, run.type_path), results)
        return ValidationReport(conforms=not results, results=results)


def _focus_of_targets(targets: list[tuple[URIRef, Node]], type_path: str) -> str:
    """A SPARQL group pattern binding ?this to every target node, without duplicates."""
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
    return f"{{ SELECT DISTINCT ?this WHERE {{ {' UNION '.join(parts)} }} }}"


def _values_of(focus: str, path: str) -> str:
    """A group pattern binding ?this to the value nodes of the focus nodes of `focus`."""
    return (f"{{ SELECT DISTINCT ?this WHERE {{ {{ SELECT (?this AS ?up) WHERE {{ {focus} }} }} "
            f"?up {path} ?this }} }}")


class _Run:
    """One validation of one store: query helpers and the failing-node cache of nested shapes."""

    def __init__(self, compiled: CompiledShapes, store: ox.Store) -> None:
        self.c = compiled
        self.store = store
        self.nm = compiled.sg.namespace_manager
        has_sub = self.store.query(f"ASK {{ ?a <{RDFS.subClassOf}> ?b }}",
                                   use_default_graph_as_union=True)
        self.type_path = f"<{RDF.type}>/<{RDFS.subClassOf}>*" if has_sub else f"<{RDF.type}>"
        self.failing_cache: dict[tuple[Node, str], set[ox.Term]] = {}

    def select(self, query: str) -> list[tuple[ox.Term | None, ...]]:
        solutions = self.store.query(query, use_default_graph_as_union=True)
        names = [v.value for v in solutions.variables]
        return [tuple(row[n] for n in names) for row in solutions]

    def report(self, shape: _Shape, focus: str, out: list[Result]) -> None:
        """Append the results of one shape (and its property shapes) on the focus pattern."""
        if shape.deactivated:
            return
        for constraint in shape.constraints:
            for this, value in self.violations(shape, constraint, focus):
                out.append(self.result(shape, constraint, this, value))
        inner = focus if shape.path is None else _values_of(focus, shape.path)
        for child in shape.properties:
            self.report(self.c.shapes[child], inner, out)

    def failing(self, node: Node, focus: str) -> set[ox.Term]:
        """The focus nodes (bound by `focus`) that do not conform to the shape `node`."""
        key = (node, focus)
        if key not in self.failing_cache:
            shape = self.c.shapes[node]
            bad: set[ox.Term] = set()
            if not shape.deactivated:
                for constraint in shape.constraints:
                    bad.update(this for this, _ in self.violations(shape, constraint, focus))
                for child in shape.properties:
                    if shape.path is None:
                        bad |= self.failing(child, focus)
                    else:
                        failed = self.failing(child, _values_of(focus, shape.path))
                        bad.update(t for t, _ in self.pairs(focus, shape.path, failed))
            self.failing_cache[key] = bad
        return self.failing_cache[key]

    def pairs(self, focus: str, path: str | None, values: set[ox.Term]) -> list[tuple]:
        """(focus node, value node) pairs whose value is in `values`."""
        if not values:
            return []
        if path is None:  # a node shape: the focus node is its own value node
            return [(v, v) for v in values]
        if any(isinstance(v, ox.BlankNode) for v in values):  # VALUES cannot hold blank nodes
            rows = self.select(f"SELECT DISTINCT ?this ?v WHERE {{ {focus} ?this {path} ?v }}")
            return [r for r in rows if r[1] in values]
        block = " ".join(str(v) for v in values)
        return self.select(f"SELECT DISTINCT ?this ?v WHERE {{ VALUES ?v {{ {block} }} "
                           f"{focus} ?this {path} ?v }}")

    def violations(self, shape: _Shape, c: _Constraint, focus: str) -> list[tuple]:
        """(focus node, value node or None) of every violation of one constraint."""
        p, path = c.param, shape.path
        value_pattern = f"?this {path} ?v ." if path else "BIND(?this AS ?v)"
        if p in _FILTERS:
            query = (f"SELECT DISTINCT ?this ?v WHERE {{ {focus} {value_pattern} "
                     f"{self.condition(c)} }}")
            return self.select(query)
        if p == SH.minCount:
            return [(r[0], None) for r in self.select(
                f"SELECT ?this WHERE {{ {focus} OPTIONAL {{ ?this {path} ?v }} }} "
                f"GROUP BY ?this HAVING (COUNT(DISTINCT ?v) < {int(c.value)})")]
        if p == SH.maxCount:
            return [(r[0], None) for r in self.select(
                f"SELECT ?this WHERE {{ {focus} ?this {path} ?v }} "
                f"GROUP BY ?this HAVING (COUNT(DISTINCT ?v) > {int(c.value)})")]
        if p == SH.hasValue:
            term = _sparql_term(c.value)
            test = (f"FILTER NOT EXISTS {{ ?this {path} {term} }}" if path
                    else f"FILTER(!sameTerm(?this, {term}))")
            return [(r[0], None) for r in self.select(f"SELECT ?this WHERE {{ {focus} {test} }}")]
        if p == SH.uniqueLang:
            if c.value != Literal(True):
                return []
            return [(r[0], None) for r in self.select(
                f"SELECT ?this ?l WHERE {{ {focus} {value_pattern} BIND(LCASE(LANG(?v)) AS ?l) "
                f'FILTER(?l != "") }} GROUP BY ?this ?l HAVING (COUNT(DISTINCT ?v) > 1)')]
        return self.shape_based(shape, c, focus)

    def shape_based(self, shape: _Shape, c: _Constraint, focus: str) -> list[tuple]:
        values = focus if shape.path is None else _values_of(focus, shape.path)
        members = c.value if isinstance(c.value, tuple) else (c.value,)
        failed = [self.failing(m, values) for m in members]
        if c.param == SH.node:
            bad = failed[0]
        elif c.param == SH["and"]:
            bad = set().union(*failed)
        elif c.param == SH["or"]:
            bad = set.intersection(*failed) if failed else self.candidates(values)
        else:  # sh:not and sh:xone need every candidate value node
            cands = self.candidates(values)
            if c.param == SH["not"]:
                bad = cands - failed[0]
            else:
                bad = {v for v in cands if sum(v not in f for f in failed) != 1}
        return self.pairs(focus, shape.path, bad)

    def candidates(self, values: str) -> set[ox.Term]:
        return {r[0] for r in self.select(f"SELECT ?this WHERE {{ {values} }}")}

    def condition(self, c: _Constraint) -> str:
        """A FILTER keeping the value nodes ?v that violate a value-type constraint."""
        p, value = c.param, c.value
        if p == SH["class"]:
            return f"FILTER NOT EXISTS {{ ?v {self.type_path} {_sparql_term(value)} }}"
        if p == SH.datatype:
            if value == RDF.langString:
                ok = 'isLiteral(?v) && LANG(?v) != ""'
            else:
                ok = f"isLiteral(?v) && sameTerm(DATATYPE(?v), <{value}>)"
                if value in _CASTABLE:  # an ill-typed lexical form makes the cast fail
                    ok += f" && isLiteral(<{value}>(STR(?v)))"
        elif p == SH.nodeKind:
            ok = _NODE_KINDS[value]
        elif p == SH.pattern:
            regex, flags = value
            ok = f'!isBlank(?v) && REGEX(STR(?v), "{_escape(regex)}", "{_escape(flags)}")'
        elif p == SH.languageIn:
            tests = " || ".join(f'langMatches(LANG(?v), "{_escape(str(t))}")' for t in value)
            ok = f"isLiteral(?v) && ({tests or 'false'})"
        elif p == SH.minLength:
            ok = f"!isBlank(?v) && STRLEN(STR(?v)) >= {int(value)}"
        elif p == SH.maxLength:
            ok = f"!isBlank(?v) && STRLEN(STR(?v)) <= {int(value)}"
        elif p in _COMPARE:
            ok = f"?v {_COMPARE[p]} {_sparql_term(value)}"
        else:  # sh:in
            ok = " || ".join(f"sameTerm(?v, {_sparql_term(t)})" for t in value) or "false"
        return f"FILTER(!COALESCE({ok}, false))"

    def result(self, shape: _Shape, c: _Constraint, this: ox.Term, value) -> Result:
        return Result(
            focus=from_ox(this), path=shape.path_node,
            value=None if value is None else from_ox(value), shape=shape.node,
            component=c.component, severity=shape.severity,
            message=shape.message or self.generic_message(shape, c))

    def generic_message(self, shape: _Shape, c: _Constraint) -> str:
        """A message in pyshacl's style, for shapes without sh:message."""
        if isinstance(c.value, tuple):
            shown = ", ".join(v.n3(self.nm) if isinstance(v, Node) else v for v in c.value)
        else:
            shown = c.value.n3(self.nm)
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


def to_ox(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """Convert an rdflib term to pyoxigraph (blank node labels are kept)."""
    if isinstance(term, URIRef):
        return ox.NamedNode(term)
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(term, language=term.language)
        if term.datatype:
            return ox.Literal(term, datatype=ox.NamedNode(term.datatype))
        return ox.Literal(term)
    if isinstance(term, BNode):
        return ox.BlankNode(term)
    raise TypeError(f"unsupported term {term!r}")


def from_ox(term: ox.Term) -> Node:
    """Convert a pyoxigraph term to rdflib; xsd:string literals become plain literals."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    if term.datatype.value == _XSD_STRING:
        return Literal(term.value)
    return Literal(term.value, datatype=URIRef(term.datatype.value))


def _nt(term: Node) -> str:
    if type(term) is URIRef:
        return f"<{term}>"
    text = _escape(str.__str__(term))
    if term.language:
        return f'"{text}"@{term.language}'
    if term.datatype:
        return f'"{text}"^^<{term.datatype}>'
    return f'"{text}"'


def _spo(data: Graph) -> Iterable[tuple[Node, Node, Node]]:
    store = data.store
    # rdflib's public triple iterator costs ~4 µs a triple; a Memory store holding one graph
    # can be read from its subject index directly.
    if type(data) is Graph and type(store) is Memory and len(list(store.contexts())) <= 1:
        spo = store._Memory__spo  # type: ignore[attr-defined]
        return ((s, p, o) for s, po in spo.items() for p, objects in po.items() for o in objects)
    return data.triples((None, None, None))


def load_store(data: Graph | Iterable[ox.Quad]) -> ox.Store:
    """An in-memory pyoxigraph store holding the triples of `data` in its default graph."""
    store = ox.Store()
    if not isinstance(data, Graph):
        store.bulk_extend(data)
        return store
    lines: list[str] = []
    with_bnodes = []
    for s, p, o in _spo(data):
        if type(s) is BNode or type(o) is BNode:
            with_bnodes.append(ox.Quad(to_ox(s), to_ox(p), to_ox(o)))
        else:
            lines.append(f"<{s}> <{p}> {_nt(o)} .\n")
    store.load("".join(lines).encode(), format=ox.RdfFormat.N_TRIPLES, lenient=True)
    store.extend(with_bnodes)
    return store


@cache
def package_shapes() -> CompiledShapes:
    """The wijken shapes (ontology/shapes.ttl), compiled once."""
    from ontology import load_shapes

    return CompiledShapes(load_shapes())


def validate(data: Graph | ox.Store | Iterable[ox.Quad],
             shapes: Graph | None = None) -> ValidationReport:
    """Validate `data` against `shapes` (default: the wijken package shapes, compiled once)."""
    compiled = package_shapes() if shapes is None else CompiledShapes(shapes)
    return compiled.validate(data)
