"""Render SPARQL results for the terminal: SPARQL 1.1 JSON, CSV, or an aligned table."""

from __future__ import annotations

import json

import pyoxigraph as ox

from kg.store import OxQueryResults
from ontology.namespaces import PREFIXES


def _short(term: object) -> str:
    if isinstance(term, ox.NamedNode):
        for prefix, iri in PREFIXES.items():
            if term.value.startswith(iri):
                return f"{prefix}:{term.value[len(iri):]}"
        return f"<{term.value}>"
    if isinstance(term, ox.Literal):
        return term.value
    return "" if term is None else str(term)


def _text(serialized: bytes | None) -> str:
    # Oxigraph returns the bytes when no output file is given.
    assert serialized is not None
    return serialized.decode()


def render(result: OxQueryResults, fmt: str) -> str:
    """Text of a query result: `json` (SPARQL 1.1 JSON results), `csv` or `table`.

    CONSTRUCT and DESCRIBE results are Turtle whatever the format.
    """
    if isinstance(result, ox.QueryTriples):
        return _text(ox.serialize(result, format=ox.RdfFormat.TURTLE, prefixes=dict(PREFIXES)))
    if isinstance(result, ox.QueryBoolean):
        if fmt == "json":
            return json.dumps({"head": {}, "boolean": bool(result)}) + "\n"
        return ("true" if bool(result) else "false") + "\n"
    if fmt == "json":
        return _text(result.serialize(format=ox.QueryResultsFormat.JSON)) + "\n"
    if fmt == "csv":
        return _text(result.serialize(format=ox.QueryResultsFormat.CSV))
    names = [v.value for v in result.variables]
    rows = [[_short(solution[n]) for n in names] for solution in result]
    widths = [min(60, max([len(n), *(len(r[i]) for r in rows)])) for i, n in enumerate(names)]
    lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    for r in rows:
        cells = [(c if len(c) <= w else c[: w - 1] + "…").ljust(w)
                 for c, w in zip(r, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines) + "\n"
