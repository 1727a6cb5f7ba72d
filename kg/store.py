"""The persistent RDF store: Oxigraph on disk, with atomic named-graph replacement."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeAlias

import pyoxigraph as ox
from rdflib import Graph
from rdflib.term import Node

from kg.errors import StoreBusyError
from kg.terms import OxTerm, bound_values, from_ox, to_ox_quad
from ontology.namespaces import reference_graph

STORE_DIRNAME = "store"
LEGACY_STATE_FILENAME = "state.json"  # where the generation lived before it moved into the store
# The generation is the name of an empty named graph, `…/graph/generation/N`, created in the
# same transaction as the data it counts, so a crash can never leave one without the other. An
# empty graph adds no triple: counts and query answers are the same as without it.
GENERATION_GRAPH_ROOT = reference_graph("generation/")
JOURNAL_DIRNAME = "journal"
# From this many triples on, a write is bulk-loaded under an undo journal instead of being one
# transaction (measured: a transaction writes ~25k quads/s here, a bulk load ~4x as many).
BULK_THRESHOLD = 20_000

# What a query answers: solutions (SELECT), a boolean (ASK) or triples (CONSTRUCT, DESCRIBE).
OxQueryResults: TypeAlias = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _lock_holder(lock_file: Path) -> int | None:
    """The id of another process holding RocksDB's lock on `lock_file`, read from /proc/locks.

    Opening the file to test its lock is not an option: closing any descriptor of a file drops
    every POSIX lock this process holds on it, RocksDB's own included.
    """
    try:
        info = lock_file.stat()
        table = Path("/proc/locks").read_text(encoding="ascii")
    except OSError:
        return None  # no lock file yet, or not Linux: nothing to go by
    wanted = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    for line in table.splitlines():
        fields = line.split()
        # "1: POSIX  ADVISORY  WRITE 1234 08:01:5678 0 EOF" (blocked waiters add "->")
        if "->" in fields or len(fields) < 6:
            continue
        pid, inode = fields[4], fields[5]
        if inode == wanted and pid.isdigit() and int(pid) != os.getpid():
            return int(pid)
    return None


def private_dir(path: Path) -> None:
    """Create a directory only its owner can read (or tighten one that we own): the store holds
    contributors' data and, later, secrets such as curator sessions."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    if info.st_uid == os.getuid() and info.st_mode & 0o077:
        os.chmod(path, info.st_mode & ~0o077 & 0o7777)


def _returned(serialized: bytes | None) -> bytes:
    # Oxigraph returns the bytes when no output file is given.
    assert serialized is not None
    return serialized


def _as_quads(iri: str, g: Graph | Sequence[ox.Quad]) -> Sequence[ox.Quad]:
    """The content of a named graph as quads in that graph."""
    if not isinstance(g, Graph):
        return g
    name = ox.NamedNode(iri)
    return [to_ox_quad(s, p, o, name) for s, p, o in g]


class Store:
    """An Oxigraph dataset in `data_dir/store`, or in memory when `data_dir` is None.

    Every write goes through `replace_graphs`, one SPARQL update, so it is atomic: either all
    named graphs of an ingest run change, or none do. Each write bumps a generation counter (the
    name of an empty graph under `GENERATION_GRAPH_ROOT`, changed in the same transaction) that
    derived indexes use to notice they are stale.
    """

    def __init__(self, data_dir: Path | None = None, *, read_only: bool = False) -> None:
        self.data_dir = data_dir
        self.read_only = read_only
        self.recovered = False
        if data_dir is None:
            self._ox = ox.Store()
            return
        path = data_dir / STORE_DIRNAME
        try:
            if read_only:
                if not path.exists():
                    raise FileNotFoundError(f"no store in {data_dir}: run `wijken init` first")
                writer = _lock_holder(path / "LOCK")
                if writer is not None:
                    # pyoxigraph: reading while another process writes is undefined behaviour.
                    raise StoreBusyError(
                        f"the data directory {data_dir} is open for writing by process {writer} "
                        "(`wijken serve`?): ask its SPARQL endpoint or API, or stop it first"
                    )
                self._ox = ox.Store.read_only(str(path))
            else:
                private_dir(data_dir)
                self._ox = ox.Store(str(path))
                self.recovered = self._recover()
        except OSError as exc:
            if "lock" in str(exc).lower():
                raise StoreBusyError(
                    f"the data directory {data_dir} is in use by another wijken process "
                    "(stop `wijken serve` or the other command, or use another --data-dir)"
                ) from exc
            raise

    # -- reading ---------------------------------------------------------------------------

    @property
    def oxigraph(self) -> ox.Store:
        """The underlying pyoxigraph store, for the SPARQL endpoint."""
        return self._ox

    def query(
        self,
        sparql: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        custom_functions: Mapping[str, Callable[..., OxTerm | None]] | None = None,
    ) -> OxQueryResults:
        """Run a SPARQL query. Without `default_graphs` the default graph is the union of all."""
        kwargs: dict[str, Any] = {}
        if default_graphs:
            kwargs["default_graph"] = [ox.NamedNode(g) for g in default_graphs]
        else:
            kwargs["use_default_graph_as_union"] = True
        if named_graphs:
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
        if custom_functions:
            kwargs["custom_functions"] = {ox.NamedNode(k): v for k, v in custom_functions.items()}
        return self._ox.query(sparql, **kwargs)

    def select(self, sparql: str, **kwargs: Any) -> list[dict[str, Node]]:
        """A SELECT query's solutions as dicts of rdflib terms (unbound variables left out)."""
        result = self.query(sparql, **kwargs)
        if not isinstance(result, ox.QuerySolutions):
            raise TypeError("not a SELECT query")
        names = [v.value for v in result.variables]
        return [{name: from_ox(value) for name, value in bound_values(solution, names).items()}
                for solution in result]

    def named_graphs(self) -> list[str]:
        """IRIs of every named graph in the store (but the empty one that holds the
        generation)."""
        return sorted(g.value for g in self._ox.named_graphs() if isinstance(g, ox.NamedNode)
                      and not g.value.startswith(GENERATION_GRAPH_ROOT))

    def graph(self, iri: str) -> Graph:
        """A copy of one named graph as an rdflib Graph."""
        g = Graph()
        for quad in self._ox.quads_for_pattern(None, None, None, ox.NamedNode(iri)):
            g.add((from_ox(quad.subject), from_ox(quad.predicate), from_ox(quad.object)))
        return g

    def has_graph(self, iri: str) -> bool:
        """Whether a named graph with this IRI exists."""
        return bool(self._ox.contains_named_graph(ox.NamedNode(iri)))

    def __len__(self) -> int:
        return len(self._ox)

    def dump(self, fmt: ox.RdfFormat, *, graph: str | None = None) -> bytes:
        """Serialise the dataset (or one graph) in an Oxigraph RDF format."""
        if graph is not None:
            return _returned(self._ox.dump(format=fmt, from_graph=ox.NamedNode(graph)))
        return _returned(self._ox.dump(format=fmt))

    # -- writing ---------------------------------------------------------------------------

    def replace_graphs(self, graphs: Mapping[str, Graph | Sequence[ox.Quad]], *,
                       drop: Iterable[str] = (), delete: Sequence[ox.Quad] = ()) -> None:
        """Replace named graphs with new content and drop others, all or nothing.

        Small writes are one SPARQL update (one RocksDB transaction). Large ones are bulk-loaded
        under an undo journal, several times faster: the old content of every graph they touch
        is saved first, and if the write does not complete, the next open of the store puts it
        back (see `_recover`), so a failed write never leaves a half-written graph. `delete`
        removes single quads from other graphs in the same write.
        """
        if self.read_only:
            raise PermissionError("the store is open read-only")
        drop = list(drop)
        quads = {iri: _as_quads(iri, g) for iri, g in graphs.items()}
        total = sum(len(q) for q in quads.values())
        if self.data_dir is not None and total >= BULK_THRESHOLD:
            self._bulk_replace(quads, drop, delete)
        else:
            self._update_replace(quads, drop, delete)

    def _update_replace(self, graphs: Mapping[str, Sequence[ox.Quad]], drop: list[str],
                        delete: Sequence[ox.Quad]) -> None:
        parts = [f"DROP SILENT GRAPH <{iri}>" for iri in [*graphs, *drop]]
        if delete:
            body = "\n".join(f"GRAPH {q.graph_name} {{ {q.subject} {q.predicate} {q.object} }}"
                             for q in delete)
            parts.append(f"DELETE DATA {{ {body} }}")
        for iri, quads in graphs.items():
            if not quads:
                continue
            body = "\n".join(f"{q.subject} {q.predicate} {q.object} ." for q in quads)
            parts.append(f"INSERT DATA {{ GRAPH <{iri}> {{\n{body}\n}} }}")
        parts.append(self._bump())
        self._ox.update(" ;\n".join(parts))
        self._ox.flush()

    def _bulk_replace(self, graphs: Mapping[str, Sequence[ox.Quad]], drop: list[str],
                      delete: Sequence[ox.Quad]) -> None:
        assert self.data_dir is not None
        journal = self.data_dir / JOURNAL_DIRNAME
        shutil.rmtree(journal, ignore_errors=True)
        journal.mkdir()
        touched = [*graphs, *drop]
        saved = {}
        for n, iri in enumerate(touched):
            if self.has_graph(iri):
                name = f"undo-{n}.nt"
                (journal / name).write_bytes(self.dump(ox.RdfFormat.N_TRIPLES, graph=iri))
                saved[iri] = name
        if delete:
            (journal / "undo-deleted.nq").write_bytes(
                _returned(ox.serialize(delete, format=ox.RdfFormat.N_QUADS)))
        marker = journal / "pending.json"
        marker.write_text(json.dumps({"graphs": touched, "undo": saved,
                                      "deleted": bool(delete),
                                      "generation": self.generation + 1}), encoding="utf-8")
        _fsync_dir(journal)
        for iri in touched:
            self._ox.remove_graph(ox.NamedNode(iri))
        for q in delete:
            self._ox.remove(q)
        self._ox.bulk_extend(q for quads in graphs.values() for q in quads)
        self._ox.update(self._bump())  # before the journal goes: a crash here is rolled back
        self._ox.flush()
        shutil.rmtree(journal, ignore_errors=True)

    def _recover(self) -> bool:
        """Undo a bulk write that did not complete (its journal is still there)."""
        assert self.data_dir is not None
        journal = self.data_dir / JOURNAL_DIRNAME
        marker = journal / "pending.json"
        if not marker.exists():
            shutil.rmtree(journal, ignore_errors=True)
            return False
        pending = json.loads(marker.read_text(encoding="utf-8"))
        for iri in pending["graphs"]:
            self._ox.remove_graph(ox.NamedNode(iri))
        for iri, name in pending["undo"].items():
            self._ox.bulk_load(path=str(journal / name), format=ox.RdfFormat.N_TRIPLES,
                               to_graph=ox.NamedNode(iri))
        if pending.get("deleted"):
            self._ox.bulk_load(path=str(journal / "undo-deleted.nq"),
                               format=ox.RdfFormat.N_QUADS)
        # The generation may or may not have been bumped by the interrupted write; either way
        # the content differs from what an index built in between saw.
        self._ox.update(self._bump(at_least=int(pending.get("generation", 0))))
        self._ox.flush()
        shutil.rmtree(journal, ignore_errors=True)
        return True

    def update(self, sparql: str) -> None:
        """Run a SPARQL update and bump the generation, in one transaction."""
        if self.read_only:
            raise PermissionError("the store is open read-only")
        before = self.generation
        # A newline first: the update may end in a comment. The bump comes last, so whatever
        # the update did to the generation graph is overwritten.
        self._ox.update(f"{sparql}\n;\n{self._bump()}")
        self._ox.flush()
        if self.generation <= before:  # the update text swallowed the bump somehow
            self._ox.update(self._bump())
            self._ox.flush()

    # -- generation ------------------------------------------------------------------------

    @property
    def generation(self) -> int:
        """A counter bumped by every write; derived indexes remember the one they reflect."""
        found = self._generation_graphs()
        return max(found.values()) if found else self._legacy_generation()

    def _generation_graphs(self) -> dict[str, int]:
        found = {}
        for graph in self._ox.named_graphs():
            name = graph.value
            if name.startswith(GENERATION_GRAPH_ROOT):
                with contextlib.suppress(ValueError):
                    found[name] = int(name[len(GENERATION_GRAPH_ROOT):])
        return found

    def _legacy_generation(self) -> int:
        """The counter of a data directory written before the generation moved into the store."""
        if self.data_dir is None:
            return 0
        try:
            state = json.loads((self.data_dir / LEGACY_STATE_FILENAME).read_text("utf-8"))
        except (OSError, ValueError):
            return 0
        value = state.get("generation", 0) if isinstance(state, dict) else 0
        return value if isinstance(value, int) else 0

    def _bump(self, *, at_least: int = 0) -> str:
        """The update operations that set the generation to one more than now (monotonic even
        if the write being counted deleted the old value): call while holding the writer."""
        old = self._generation_graphs()
        new = max([*old.values(), self._legacy_generation(), at_least]) + 1
        drops = "".join(f"DROP SILENT GRAPH <{name}> ;\n" for name in old)
        return f"{drops}CREATE SILENT GRAPH <{GENERATION_GRAPH_ROOT}{new}>"

    def backup(self, target: Path) -> None:
        """A consistent checkpoint of the on-disk store in `target` (which must not exist), to
        be read with :meth:`open_checkpoint`: hard links, so it costs milliseconds."""
        if self.data_dir is None:
            raise ValueError("only an on-disk store can be checkpointed")
        self._ox.flush()
        self._ox.backup(str(target))

    @classmethod
    def open_checkpoint(cls, path: Path) -> Store:
        """Open a checkpoint made by :meth:`backup` read-only."""
        store = cls.__new__(cls)
        store.data_dir = None
        store.read_only = True
        store.recovered = False
        store._ox = ox.Store.read_only(str(path))
        return store

    def close(self) -> None:
        """Flush and release the store (the RocksDB lock goes when the object is freed)."""
        if not self.read_only:
            self._ox.flush()
        del self._ox
