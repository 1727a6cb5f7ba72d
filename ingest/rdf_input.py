"""Read records delivered as RDF (Turtle, JSON-LD, N-Triples) that follow the ontology.

The triples are mapped back to record fields so an RDF delivery goes through the same
validation, reference resolution and SHACL checks as a spreadsheet. Triples about a record with
predicates the mapping does not know are kept as they are; triples about anything else are
refused, so a file cannot rewrite records it does not deliver.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import rdflib.plugins.shared.jsonld.context as jsonld_context
import rdflib.plugins.shared.jsonld.util as jsonld_util
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS
from rdflib.term import Identifier, Node

from ingest.limits import json_too_deep, nesting_message, turtle_too_deep
from ingest.readers import decode_utf8
from ingest.records import RawRecord
from kg.errors import Problem
from kg.terms import to_ox
from kg.xmlchars import escape_xml_forbidden, xml_forbidden_char, xml_forbidden_message
from ontology.namespaces import (
    ADMS,
    CLASS_TO_TYPE,
    CONCEPT_ROOT,
    MUNICIPALITY_ROOT,
    RECORD_TYPES,
    SCHEMA,
    WK,
)

_LIST: dict[Node, str] = {
    DCTERMS.subject: "themes", WK.involves: "actors", WK.addresses: "thresholds",
    WK.overcomes: "thresholds", WK.usesMeasure: "measures", WK.related: "related",
    SKOS.altLabel: "alt_labels",
}
_SINGLE: dict[Node, str] = {
    RDFS.label: "title", DCTERMS.description: "text", DCTERMS.identifier: "id",
    WK.municipality: "municipality", WK.neighbourhood: "neighbourhood",
    PROV.wasGeneratedBy: "source", DCTERMS.source: "source", DCTERMS.date: "date",
    DCTERMS.type: "subtype", SCHEMA.url: "url", WK.pioneer: "pioneer",
    WK.policyLevel: "policy_level", WK.priority: "priority", ADMS.status: "status",
}
_DERIVED = {WK.mentions}  # recomputed by the pipeline


def _value(term: Any, field: str, base_iri: str) -> tuple[Any, str | None]:
    """A field value from an RDF object, or an error message."""
    if field in ("themes", "subtype", "policy_level", "status"):
        if isinstance(term, URIRef) and str(term).startswith(CONCEPT_ROOT):
            return str(term).rsplit("/", 1)[1], None
        return None, f"{term} is not a wijken concept IRI"
    if field == "municipality":
        if isinstance(term, URIRef) and str(term).startswith(MUNICIPALITY_ROOT):
            return str(term).removeprefix(MUNICIPALITY_ROOT), None
        return None, f"{term} is not a municipality IRI ({MUNICIPALITY_ROOT}{{NIS}})"
    if field in ("actors", "thresholds", "measures", "related", "neighbourhood", "source"):
        if isinstance(term, URIRef) and str(term).startswith(base_iri):
            parts = str(term).removeprefix(base_iri).split("/")
            if len(parts) == 2 and parts[0] in RECORD_TYPES:
                return parts[1], None
        return None, f"{term} is not a record IRI under the base IRI {base_iri}"
    if field == "url":
        return str(term), None
    if isinstance(term, Literal):
        return term.toPython() if field in ("pioneer", "priority", "date") else str(term), None
    return None, f"{term} must be a literal"


class RemoteContextRefused(Exception):
    """rdflib tried to load a JSON-LD context from a URL or a file during our parse."""

    def __init__(self, source: object) -> None:
        super().__init__(f"loading the context {str(source)[:200]!r} is not allowed")


# Set while read_rdf parses (per thread and task), so the guards below touch nothing else.
_in_our_parse: ContextVar[bool] = ContextVar("wijken_rdf_parse", default=False)


def _install_fetch_guard() -> None:
    """Make rdflib's JSON-LD context loading raise instead of fetching during our parse.

    rdflib loads a remote `@context` or `@import` through `source_to_json` of its context
    module, which opens URLs and local files alike (`create_input_source`). Both are wrapped
    once per process; outside our parse (`_in_our_parse` unset) they behave as before.
    """
    for module, name in ((jsonld_context, "source_to_json"), (jsonld_util, "create_input_source")):
        original = getattr(module, name)
        if getattr(original, "_wijken_guard", False):
            continue

        def guarded(source: Any = None, *args: Any, _original: Any = original,
                    **kwargs: Any) -> Any:
            if _in_our_parse.get():
                raise RemoteContextRefused(source)
            return _original(source, *args, **kwargs)

        guarded._wijken_guard = True  # type: ignore[attr-defined]  # a marker on a function
        setattr(module, name, guarded)


_install_fetch_guard()


class _QuietDuringOurParse(logging.Filter):
    """Drops rdflib's log warnings (an odd IRI, an ill-typed literal) during our parse: they
    echo the input, control characters and all, to the terminal; the terms the store cannot
    hold are reported as problems by `_triple_problems` instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _in_our_parse.get()


for _name in ("rdflib.term", "rdflib.graph", "rdflib"):
    logging.getLogger(_name).addFilter(_QuietDuringOurParse())


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return repr(text if len(text) <= 200 else text[:200] + "…")


def remote_contexts(document: Any) -> list[tuple[str, Any]]:
    """(keyword, value) of every context reference in a JSON-LD document that is not embedded.

    A `@context` may be an object (or null) written in the file; a string (an IRI, or a path
    relative to the file), or a list holding one, would make the processor load it from
    elsewhere, and so would any `@import`. Every object is looked at, so scoped contexts in term
    definitions and contexts of nested nodes are found too.
    """
    found: list[tuple[str, Any]] = []
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "@context":
                    items = [value]
                    while items:  # rdflib flattens nested lists of contexts
                        item = items.pop(0)
                        if isinstance(item, list):
                            items[:0] = item
                        elif item is not None and not isinstance(item, dict):
                            found.append((key, item))
                elif key == "@import":
                    found.append((key, value))
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))
    return found


def _line_of(text: str, value: Any) -> int | None:
    """The line of the first place `value` is written in `text` (best effort)."""
    for ascii_only in (False, True):
        index = text.find(json.dumps(value, ensure_ascii=ascii_only))
        if index >= 0:
            return text.count("\n", 0, index) + 1
    return None


def _context_problems(label: str, text: str, document: Any) -> list[Problem]:
    problems = []
    for keyword, value in remote_contexts(document):
        line = _line_of(text, value)
        if keyword == "@import":
            message = f"importing the context {_short(value)} is not allowed"
        elif isinstance(value, str):
            kind = "remote" if value.lower().startswith(("http:", "https:")) else "external"
            message = f"{kind} context {_short(value)} is not allowed"
        else:
            message = f"a context must be an object, not {_short(value)}"
        problems.append(Problem(label, line, keyword, f"{message}; embed the context in the file"))
    return problems


def _parse(graph: Graph, text: str, fmt: str, base: str, label: str) -> list[Problem]:
    """Parse `text` into `graph` without letting the parser read anything but `text`."""
    if fmt == "json-ld":
        deep = json_too_deep(text)
        if deep is not None:
            return [Problem(label, deep, None, nesting_message())]
        try:
            document = json.loads(text)
        except ValueError as exc:  # JSONDecodeError, or an integer too long to convert
            return [Problem(label, getattr(exc, "lineno", None), None,
                            f"malformed json-ld: {getattr(exc, 'msg', exc)}")]
        if not isinstance(document, dict | list):
            return [Problem(label, 1, None, "malformed json-ld: the document must be a JSON "
                                            "object or array")]
        problems = _context_problems(label, text, document)
        if problems:
            return problems
        # The parsed document, not the path: rdflib never opens a source of its own.
        data = document if isinstance(document, dict) else {"@graph": document}
        parse_json_ld(graph, data, base)
    else:
        deep = turtle_too_deep(text)
        if deep is not None:
            return [Problem(label, deep, None, nesting_message())]
        token = _in_our_parse.set(True)
        try:
            graph.parse(data=text, format=fmt, publicID=base)
        finally:
            _in_our_parse.reset(token)
    return []


def parse_json_ld(graph: Graph, document: dict[str, Any], base: str) -> None:
    """Parse a JSON-LD document into `graph`; loading any context from elsewhere raises.

    `RemoteContextRefused` is raised for a remote or file context even if it was not caught
    by `remote_contexts` first (defence in depth).
    """
    token = _in_our_parse.set(True)
    try:
        # rdflib reads a dict as JSON-LD (`create_input_source`); `parse` annotates str | bytes
        graph.parse(data=document, format="json-ld", publicID=base)  # type: ignore[arg-type]
    finally:
        _in_our_parse.reset(token)


def _term_problem(term: Node) -> str | None:
    """Why a parsed term cannot be stored, or None: a forbidden character, an invalid IRI."""
    texts = [str(term)]
    if isinstance(term, Literal):
        texts += [term.language or "", str(term.datatype or "")]
    for text in texts:
        char = xml_forbidden_char(text)
        if char is not None:
            return xml_forbidden_message(char)
    try:
        to_ox(term)
        if isinstance(term, Literal) and term.datatype is not None:
            to_ox(term.datatype)
    except (ValueError, TypeError) as exc:
        return f"not a valid RDF term: {exc}"
    return None


def _triple_problems(graph: Graph, label: str) -> list[Problem]:
    """Terms the store could not hold, or should not, each problem reported once.

    A literal of a record field is named like the field's other problems (`file <iri>: title:
    ...`); anything else is named by its triple.
    """
    found: dict[str, Problem] = {}
    for triple in graph:
        for position, term in enumerate(triple):
            error = _term_problem(term)
            if error is None:
                continue
            s, p, _ = (escape_xml_forbidden(str(t))[:200] for t in triple)
            field = _LIST.get(triple[1]) or _SINGLE.get(triple[1])
            if position == 2 and field is not None:
                problem = Problem(f"{label} <{s}>", None, field, error)
            else:
                problem = Problem(label, None, None, f"{error} (in a triple <{s}> <{p}> ...)")
            found.setdefault(str(problem), problem)
    return list(found.values())


def read_rdf(path: Path, label: str, fmt: str, base_iri: str
             ) -> tuple[list[RawRecord], Graph, list[Problem]]:
    """Records, the extra triples to keep, and problems of one RDF file."""
    text, problems = decode_utf8(path, label)
    if text is None:
        return [], Graph(), problems
    graph = Graph()
    try:
        problems = _parse(graph, text, fmt, path.absolute().as_uri(), label)
    except RemoteContextRefused as exc:
        problems = [Problem(label, None, "@context", f"{exc}; embed the context in the file")]
    except RecursionError:
        problems = [Problem(label, None, None, nesting_message())]
    except Exception as exc:  # rdflib raises parser-specific types
        problems = [Problem(label, None, None, f"malformed {fmt}: {exc}")]
    if not problems:
        problems = _triple_problems(graph, label)
    if problems:
        return [], Graph(), problems
    extra = Graph()
    records: list[RawRecord] = []
    items = {s: CLASS_TO_TYPE[o] for s, o in graph.subject_objects(RDF.type)
             if o in CLASS_TO_TYPE}
    # Parsed terms are Identifiers (ordered); rdflib annotates subjects as Node.
    for other in sorted({s for s in graph.subjects()
                         if isinstance(s, Identifier) and s not in items}):
        problems.append(Problem(label, None, None, f"triples about {other}, which is not a "
                                "record of this file (records need a wijken class)"))
    for subject, rtype in sorted(items.items()):
        data: dict[str, Any] = {"type": rtype}
        where = f"record {subject}"
        for p, o in graph.predicate_objects(subject):
            if p == RDF.type:
                if o not in CLASS_TO_TYPE:
                    extra.add((subject, p, o))
                continue
            if p in _DERIVED:
                continue
            field = _LIST.get(p) or _SINGLE.get(p)
            if field is None:
                extra.add((subject, p, o))
                continue
            value, error = _value(o, field, base_iri)
            if error:
                problems.append(Problem(label, None, field, f"{where}: {error}"))
                continue
            if p in _LIST:
                data.setdefault(field, []).append(value)
            elif field in data:
                problems.append(Problem(label, None, field, f"{where}: more than one value"))
            else:
                data[field] = value
        expected = f"{base_iri}{rtype}/{data.get('id')}"
        if "id" in data and str(subject) != expected:
            problems.append(Problem(label, None, "id", f"{where}: IRI must be {expected}"))
        records.append(RawRecord(f"{label} <{subject}>", None, data))
    return records, extra, problems
