"""Query execution and result serialisation inside a SPARQL worker process.

The row cap truncates: the first `max_rows` solutions (or triples) are returned and the result
is marked truncated, which the endpoint reports in the `X-Wijken-Truncated` header. Truncated
solutions are written as SPARQL JSON here and converted by Oxigraph to the other result formats,
so every format carries exactly the same rows.
"""

from __future__ import annotations

import importlib
import itertools
import json
import logging
import re
import time
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.errors import NotAcceptableError, WijkenError
from kg.sparql.guard import decode_codepoints, shape
from kg.sparql.messages import FunctionSpec, QueryFailure, QueryRequest, QueryResult, WorkerConfig
from kg.store import Store
from kg.terms import OxTerm, bound_values
from kg.xmlchars import xml_forbidden_in_utf8, xml_unacceptable
from ontology.namespaces import PREFIXES

logger = logging.getLogger(__name__)
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_XML_MEDIA_TYPES = {ox.QueryResultsFormat.XML.media_type, ox.RdfFormat.RDF_XML.media_type}
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
# Formats whose Oxigraph serialiser writes @prefix lines (or a JSON-LD @context) from a map.
_PREFIXED = {ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.N3, ox.RdfFormat.RDF_XML}


def term_json(term: OxTerm) -> dict[str, Any]:
    """A term in the SPARQL 1.1 Query Results JSON format (with SPARQL 1.2 triple terms)."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value not in (XSD_STRING, RDF_LANG_STRING):
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):
        return {
            "type": "triple",
            "value": {
                "subject": term_json(term.subject),
                "predicate": term_json(term.predicate),
                "object": term_json(term.object),
            },
        }
    raise TypeError(f"unsupported term {term!r}")


def solutions_json(variables: list[str], rows: list[ox.QuerySolution]) -> bytes:
    """SELECT solutions as SPARQL JSON results (unbound variables left out of a binding)."""
    bindings = [{name: term_json(value) for name, value in bound_values(row, variables).items()}
                for row in rows]
    doc = {"head": {"vars": variables}, "results": {"bindings": bindings}}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Executor:
    """Runs queries on a read-only checkpoint of the store, switching when a request names a
    newer one."""

    def __init__(self, config: WorkerConfig) -> None:
        self.config = config
        self._store: Store | None = None
        self._snapshot: str | None = None
        self._functions = [_Function(spec) for spec in config.functions]

    def ensure_store(self, snapshot: str | None) -> Store:
        """The store to query: the checkpoint `snapshot` (copied into memory when it holds at
        most `in_memory_quads` quads), or the data directory's store."""
        if self._store is None or snapshot != self._snapshot:
            self._store = None  # release the old one first
            if snapshot is None:
                self._store = Store(self.config.data_dir, read_only=True)
            else:
                self._store = _open_checkpoint(Path(snapshot), self.config.in_memory_quads)
            self._snapshot = snapshot
        return self._store

    def answer(self, request: QueryRequest) -> QueryResult | QueryFailure:
        """Run one request; failures come back as values so the worker keeps serving."""
        try:
            return self.execute(request)
        except SyntaxError as exc:
            return QueryFailure("query-syntax", str(exc))
        except WijkenError as exc:
            return QueryFailure(exc.code, str(exc))
        except PermissionError:
            # Only the network sandbox refuses anything here: the query tried to connect out.
            logger.warning("a SPARQL query tried to open a network connection; refused")
            return QueryFailure("query-forbidden", "the query tried to fetch remote data, which "
                                "this endpoint never does")
        except (OSError, RuntimeError):
            # Not retried: the checkpoint does not change under us, so a second try would
            # only repeat whatever failed (a remote SERVICE, for one, would connect twice).
            logger.exception("SPARQL worker failed to answer")
            return QueryFailure("internal-error", "the query failed; see the server log")

    def execute(self, request: QueryRequest) -> QueryResult:
        """Run a query and serialise at most `max_rows` solutions or triples."""
        started = time.monotonic()
        store = self.ensure_store(request.snapshot)
        text = decode_codepoints(request.query).lower()
        called = [f for f in self._functions if f.named_in(text)]
        for function in called:
            function.prepare()
        result = store.oxigraph.query(
            request.query, **_dataset(request),
            custom_functions={ox.NamedNode(f.spec.iri): f.function for f in called},
        )
        cap = self.config.max_rows
        if isinstance(result, ox.QueryBoolean):
            fmt = _results_format(request, "an ASK")
            body, count, truncated = _bytes(result.serialize(format=fmt)), 1, False
            media_type = fmt.media_type
        elif isinstance(result, ox.QuerySolutions):
            fmt = _results_format(request, "a SELECT")
            variables = [v.value for v in result.variables]
            rows = list(itertools.islice(result, cap + 1))
            truncated, rows = len(rows) > cap, rows[:cap]
            body = solutions_json(variables, rows)
            if fmt != ox.QueryResultsFormat.JSON:
                parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
                body = _bytes(parsed.serialize(format=fmt))
            count, media_type = len(rows), fmt.media_type
        else:
            if request.rdf_format is None:
                raise NotAcceptableError(_unacceptable("a CONSTRUCT or DESCRIBE"))
            rdf = ox.RdfFormat.from_media_type(request.rdf_format)
            if rdf is None:
                raise NotAcceptableError(f"unknown RDF format {request.rdf_format!r}")
            triples = list(itertools.islice(result, cap + 1))
            truncated, triples = len(triples) > cap, triples[:cap]
            prefixes = PREFIXES if rdf in _PREFIXED else None
            body = _bytes(ox.serialize(triples, format=rdf, prefixes=prefixes))
            count, media_type = len(triples), rdf.media_type
        for function in called:
            function.raise_error()
        bad = xml_forbidden_in_utf8(body) if media_type in _XML_MEDIA_TYPES else None
        if bad is not None:  # a string the query computed, or older data, would break XML
            raise NotAcceptableError(xml_unacceptable(bad))
        return QueryResult(body, media_type, count, truncated, time.monotonic() - started)



def _dataset(request: QueryRequest) -> dict[str, Any]:
    """Oxigraph's dataset arguments: the protocol's graphs win over FROM / FROM NAMED in the
    query (SPARQL 1.1 Protocol §2.1.4), which win over the default, the union of all graphs."""
    dataset: dict[str, Any] = {}
    if request.default_graphs:
        dataset["default_graph"] = [ox.NamedNode(g) for g in request.default_graphs]
    if request.named_graphs:
        dataset["named_graphs"] = [ox.NamedNode(g) for g in request.named_graphs]
    if not dataset and "FROM" not in shape(request.query).keywords:
        dataset["use_default_graph_as_union"] = True
    return dataset


def _open_checkpoint(path: Path, in_memory_quads: int) -> Store:
    """A checkpoint, read from memory when it is small enough: Oxigraph's in-memory store
    answers typical queries several times faster than RocksDB (0.4 against 3.3 ms for the
    sample's lessons of a theme), and copying 10,000 quads takes about 30 ms."""
    on_disk = Store.open_checkpoint(path)
    if len(on_disk) > in_memory_quads:
        return on_disk
    data = on_disk.dump(ox.RdfFormat.N_QUADS)
    on_disk.close()
    memory = Store(None)
    memory.oxigraph.bulk_load(data, format=ox.RdfFormat.N_QUADS)
    memory.read_only = True
    return memory


class _Function:
    """A registered extension function, built in the worker from its spec."""

    def __init__(self, spec: FunctionSpec) -> None:
        module, _, name = spec.factory.partition(":")
        self.spec = spec
        self.function = getattr(importlib.import_module(module), name)(spec.config)
        # Any query that calls the function names it: its IRI or a prefixed name ends in this.
        self.local_name = re.split(r"[#/:]", spec.iri)[-1].lower()

    def named_in(self, lowered_query: str) -> bool:
        return self.local_name in lowered_query

    def prepare(self) -> None:
        take_error = getattr(self.function, "take_error", None)
        if take_error is not None:
            take_error()  # forget one left over from a failed query
        prepare = getattr(self.function, "prepare", None)
        if prepare is not None:
            prepare()

    def raise_error(self) -> None:
        take_error = getattr(self.function, "take_error", None)
        error = take_error() if take_error is not None else None
        if error is not None:
            raise error


def _results_format(request: QueryRequest, form: str) -> ox.QueryResultsFormat:
    fmt = None
    if request.results_format is not None:
        fmt = ox.QueryResultsFormat.from_media_type(request.results_format)
    if fmt is None:
        raise NotAcceptableError(_unacceptable(form))
    return fmt


def _bytes(serialized: bytes | None) -> bytes:
    # Oxigraph returns the bytes when no output file is given.
    assert serialized is not None
    return serialized


def _unacceptable(form: str) -> str:
    return f"none of the formats in the Accept header can represent the result of {form} query"
