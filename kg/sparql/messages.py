"""What the SPARQL worker pool and its worker processes say to each other (all picklable).

Extension functions reach the workers by registration: a `FunctionSpec` names a factory by its
import path, and the worker imports and calls it. So this floor (`kg`) never imports the
packages that provide functions (`search` provides `wk:similarity`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class FunctionSpec:
    """A SPARQL extension function for the workers: its IRI, and `factory` (`module:name`)
    that the worker calls with `config` to build it. The built object is called by Oxigraph;
    it may have `prepare()` (called before a query that names the function) and
    `take_error() -> WijkenError | None` (called after it, to report a failure that Oxigraph
    would otherwise turn into an unbound value)."""

    iri: str
    factory: str
    config: Any = None
    label: tuple[tuple[str, str], ...] = ()
    """Its name per language tag, for the service description: (("nl", "…"), ("en", "…"))."""
    description: str = ""
    """What it answers, in English, for the service description."""


@dataclass(frozen=True)
class WorkerConfig:
    """What a worker process needs to answer queries (picklable)."""

    data_dir: Path
    max_rows: int = 10_000
    sandbox: bool = True
    """Deny the worker network sockets (see `kg.sandbox`)."""
    in_memory_quads: int = 1_000_000
    """Checkpoints with at most this many quads are copied into memory by each worker."""
    live_store: bool = True
    """Whether requests may read the store in `data_dir` itself (a read-only server); a pool
    with checkpoints sets it False and every request names its checkpoint."""
    functions: tuple[FunctionSpec, ...] = field(default=())
    """Extension functions registered from above (e.g. `wk:similarity` by the app)."""


@dataclass(frozen=True)
class QueryRequest:
    """One query, with the protocol's dataset and the negotiated formats (media types).

    `results_format` serves SELECT/ASK and `rdf_format` CONSTRUCT/DESCRIBE; the endpoint
    negotiates both because it only guesses the form before Oxigraph parses the query.
    """

    query: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    results_format: str | None = "application/sparql-results+json"
    rdf_format: str | None = "text/turtle"
    snapshot: str | None = None
    """The checkpoint to read (set by the pool); None reads the store in `data_dir`, which is
    only defined while no other process writes it (a read-only server)."""


@dataclass(frozen=True)
class QueryResult:
    """A serialised result: `count` rows or triples, `truncated` when the row cap cut it."""

    body: bytes
    media_type: str
    count: int
    truncated: bool
    seconds: float


@dataclass(frozen=True)
class QueryFailure:
    code: str
    message: str
