"""The ingest pipeline: parse → validate → resolve → link mentions → RDF → SHACL → one write.

Each source file becomes one named graph. A file whose content hash is already in the store is
skipped, a changed file replaces its graph (so removed records disappear), and a run with any
problem writes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pyoxigraph as ox
from rdflib import Graph
from rdflib.namespace import DCTERMS, PROV, RDF, XSD

from ingest import lookups, validation
from ingest.mapping import RecordMapper
from ingest.rdf_input import read_rdf
from ingest.readers import RDF_SUFFIXES, READERS, SUPPORTED_SUFFIXES, has_front_matter
from ingest.records import RawRecord, SourceRecord, validate
from ingest.resolve import KnownItem, Resolution, Vocabulary, dangling_after_removal, resolve
from kg.catalogue import source_graphs
from kg.errors import IngestError, Problem
from kg.mentions import MentionLinker, Term
from kg.store import Store
from kg.terms import to_ox_quad
from kg.xmlchars import xml_forbidden_char, xml_forbidden_message
from ontology.namespaces import WK

Progress = Callable[[str, int, int], None]


@dataclass
class FileReport:
    """What an ingest run did (or would do) with one file."""

    path: str
    graph: str
    status: str  # "new", "changed", "unchanged"
    records: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


class PendingFile(NamedTuple):
    """A new or changed file, read: what becomes its named graph."""

    path: Path
    digest: str
    records: list[SourceRecord]
    extra: Graph | None  # the triples an RDF file keeps beside its records


@dataclass
class IngestReport:
    """The outcome of an ingest run."""

    files: list[FileReport]
    dry_run: bool
    timings: dict[str, float] = field(default_factory=dict)  # stage -> seconds

    @property
    def changed(self) -> bool:
        """Whether the run changed (or, dry, would change) the store."""
        return any(f.status != "unchanged" for f in self.files)

    def ids(self, kind: str) -> list[str]:
        """Record ids added, updated or removed over all files."""
        return sorted({i for f in self.files for i in getattr(f, kind)})


def named_path(path: Path) -> Path:
    """The absolute path of a file as the user named it: its directories resolved, but a
    symbolic link keeps its own name (so `x.jsonl -> blob` is read as JSON Lines)."""
    path = path.absolute()
    return path.parent.resolve() / path.name


def _walk(root: Path) -> tuple[list[Path], list[Problem]]:
    """Supported files below a directory: hidden entries are skipped, links to files are
    followed, links to directories are not (no cycles, no leaving the tree)."""
    files: list[Path] = []
    problems: list[Problem] = []

    def unreadable(exc: OSError) -> None:
        problems.append(Problem(str(exc.filename), None, None,
                                f"cannot read the directory: {exc.strerror}"))

    for folder, dirnames, filenames in os.walk(root, onerror=unreadable, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            p = Path(folder, name)
            if name.startswith(".") or p.suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            if not p.is_file():
                problems.append(_not_a_file(p))
                continue
            if p.suffix.lower() in (".md", ".markdown") and not _front_matter_or_unreadable(p):
                continue  # READMEs and notes beside the data are not records
            files.append(p)
    return files, problems


def _front_matter_or_unreadable(path: Path) -> bool:
    try:
        return has_front_matter(path)
    except OSError:
        return True  # reading it reports the problem


def _not_a_file(path: Path) -> Problem:
    if path.is_symlink() and not path.exists():
        return Problem(str(path), None, None, "a symbolic link to a file that does not exist")
    if path.exists():
        return Problem(str(path), None, None, "not a regular file")
    return Problem(str(path), None, None, "no such file or directory")


def discover(paths: Sequence[Path]) -> tuple[list[Path], list[Problem]]:
    """The files to ingest: the paths given and every supported file below a directory.

    Each file keeps the name it was given by (see `named_path`), which decides its format; a
    file reached twice (by two names, or a file and its directory) is read once.
    """
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            found, more = _walk(path)
            files += found
            problems += more
        elif path.is_file():
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                problems.append(Problem(str(path), None, None, "unsupported file type; use "
                                        f"one of {', '.join(SUPPORTED_SUFFIXES)}"))
            else:
                files.append(path)
        else:
            problems.append(_not_a_file(path))
    unique: dict[Path, Path] = {}
    for p in files:
        named = named_path(p)
        # The path is stored (wk:sourceFile) and printed: a name that is not UTF-8 (Python
        # holds its bytes as lone surrogates) or has control characters cannot be.
        char = xml_forbidden_char(str(named))
        if char is not None:
            problems.append(Problem(str(named), None, None, f"{xml_forbidden_message(char)} "
                                    "in the file's path (not UTF-8, or a control character); "
                                    "rename it"))
            continue
        unique.setdefault(p.resolve(), named)
    return list(unique.values()), list(dict.fromkeys(problems))


def graph_iri(base_iri: str, path: Path) -> str:
    """The named graph of a source file: stable for its absolute path (as named, see
    `named_path`)."""
    digest = hashlib.sha256(str(named_path(path)).encode()).hexdigest()[:10]
    stem = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-") or "file"
    return f"{base_iri}graph/{stem}-{digest}"


def _content_hash(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


class Ingestor:
    """Runs the pipeline against one store."""

    def __init__(self, store: Store, *, base_iri: str, progress: Progress | None = None) -> None:
        self.store = store
        self.base_iri = base_iri
        self.progress = progress or (lambda stage, done, total: None)

    def run(self, paths: Sequence[Path], *, dry_run: bool = False, force: bool = False,
            label: Callable[[Path], str] = str) -> IngestReport:
        """Ingest files and directories; raises IngestError (writing nothing) on any problem."""
        clock = _Clock()
        files, problems = discover(paths)
        reports, pending, read_problems = self._read_changed(files, force=force, label=label)
        problems += read_problems
        clock.lap("read")
        if not pending:
            if problems:
                raise IngestError(problems)
            return IngestReport(reports, dry_run, clock.laps)

        known = lookups.known_items(self.store)
        resolution, removed, resolve_problems = self._resolve(pending, known)
        problems += resolve_problems
        if problems:
            raise IngestError(problems)
        clock.lap("resolve")
        graphs = self._build_graphs(pending, resolution, known, clock)
        problems += validation.validate_graphs(self.store, graphs, pending, self.base_iri)
        clock.lap("shacl")
        if problems:
            raise IngestError(problems)
        _report_changes(reports, pending, known)
        if not dry_run:
            self._write(graphs, removed, replaced=set(pending))
            clock.lap("write")
        return IngestReport(reports, dry_run, clock.laps)

    def _read_changed(self, files: list[Path], *, force: bool, label: Callable[[Path], str]
                      ) -> tuple[list[FileReport], dict[str, PendingFile], list[Problem]]:
        """Read and validate every new or changed file; a file whose content hash the store
        already holds is only reported (unless `force`)."""
        existing = {g.iri: g for g in source_graphs(self.store)}
        reports: list[FileReport] = []
        pending: dict[str, PendingFile] = {}
        problems: list[Problem] = []
        for n, path in enumerate(files, start=1):
            self.progress("read", n, len(files))
            giri = graph_iri(self.base_iri, path)
            try:
                digest = _content_hash(path)
            except OSError as exc:
                problems.append(Problem(label(path), None, None,
                                        f"cannot read the file: {exc.strerror}"))
                continue
            old = existing.get(giri)
            if old and old.content_hash == digest and not force:
                reports.append(FileReport(str(path), giri, "unchanged", old.record_count))
                continue
            recs, extra, file_problems = self._read_records(path, label(path))
            problems += file_problems
            pending[giri] = PendingFile(path, digest, recs, extra)
            reports.append(FileReport(str(path), giri, "changed" if old else "new", len(recs)))
        return reports, pending, problems

    def _read_records(self, path: Path, label: str
                      ) -> tuple[list[SourceRecord], Graph | None, list[Problem]]:
        """The valid records of one file, its extra RDF, and the problems of both steps."""
        raws, extra, read_problems = self._read(path, label)
        problems = list(read_problems)
        recs = []
        for raw in raws:
            record, record_problems = validate(raw)
            problems += record_problems
            if record is not None:
                recs.append(SourceRecord(record, raw))
        return recs, extra, problems

    def _resolve(self, pending: dict[str, PendingFile], known: dict[str, KnownItem]
                 ) -> tuple[Resolution, dict[str, KnownItem], list[Problem]]:
        """Resolve the batch against itself and the store; also the records it removes, and
        the problems of those that records in other files still point at."""
        batch = [s for f in pending.values() for s in f.records]
        vocabulary = Vocabulary(lookups.theme_notations(self.store),
                                lookups.scheme_notations(self.store))
        replaced = set(pending)
        resolution = resolve(batch, known=known, replaced_graphs=replaced,
                             vocabulary=vocabulary)
        problems = list(resolution.problems)
        removed = _removed_records(batch, known, replaced)
        if removed:
            referrers = lookups.referrers(self.store, self.base_iri, removed, exclude=replaced)
            problems += dangling_after_removal(removed, referrers)
        return resolution, removed, problems

    def _write(self, graphs: dict[str, list[ox.Quad]], removed: dict[str, KnownItem], *,
               replaced: set[str]) -> None:
        """Replace the graphs in one write."""
        self.progress("write", 0, 1)
        # Mentions are derived: those of removed records in other files go with them.
        stale = lookups.mentions_of(self.store, self.base_iri, removed, exclude=replaced)
        self.store.replace_graphs(graphs, delete=stale)
        self.progress("write", 1, 1)

    def _read(self, path: Path, label: str) -> tuple[list[RawRecord], Graph | None,
                                                     list[Problem]]:
        suffix = path.suffix.lower()  # of the name given, not of a link's target
        if suffix in RDF_SUFFIXES:
            return read_rdf(path, label, RDF_SUFFIXES[suffix], self.base_iri)
        reader = READERS.get(suffix)
        if reader is None:
            return [], None, [Problem(label, None, None, "unsupported file type; use one of "
                                      f"{', '.join(SUPPORTED_SUFFIXES)}")]
        raws, problems = reader(path, label)
        return raws, None, problems

    def _build_graphs(
        self,
        pending: dict[str, PendingFile],
        resolution: Resolution,
        known: dict[str, KnownItem],
        clock: _Clock,
    ) -> dict[str, list[ox.Quad]]:
        batch = [s for _, _, recs, _ in pending.values() for s in recs]
        terms = lookups.mention_terms(self.store, exclude_graphs=set(pending))
        terms += _batch_actor_terms(batch, self.base_iri)
        linker = MentionLinker(terms)
        clock.lap("nlp-setup")
        texts = [f"{s.record.title}\n{s.record.text or ''}" for s in batch]
        mentions: list[set[str]] = []
        chunk = 512
        for start in range(0, len(texts), chunk):
            self.progress("link", start, len(texts))
            mentions += linker.link(texts[start:start + chunk])
        self.progress("link", len(texts), len(texts))
        clock.lap("link")
        mapper = RecordMapper(self.base_iri, resolution.types)
        by_record = {id(s): m for s, m in zip(batch, mentions, strict=True)}
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        graphs: dict[str, list[ox.Quad]] = {}
        for giri, (path, digest, recs, extra) in pending.items():
            g = ox.NamedNode(giri)
            quads: list[ox.Quad] = []
            for s in recs:
                own = mapper.iri(s.record.id).value if s.record.id in resolution.types else ""
                quads.extend(ox.Quad(t.subject, t.predicate, t.object, g) for t in mapper.triples(
                    s.record,
                    municipality_nis=resolution.municipality_nis.get(s.record.id),
                    mentions=by_record[id(s)] - {own},
                ))
            if extra is not None:
                quads.extend(to_ox_quad(a, b, c, g) for a, b, c in extra)
            quads.extend(_provenance(g, path, digest, len(recs), now))
            graphs[giri] = quads
        clock.lap("rdf")
        return graphs


def _removed_records(batch: list[SourceRecord], known: dict[str, KnownItem],
                     replaced: set[str]) -> dict[str, KnownItem]:
    """The store's records that a run replacing `replaced` removes."""
    new_types = {s.record.id: s.record.type for s in batch}
    # A record that leaves its file, or changes type (and so IRI), is gone for its referrers.
    return {rid: item for rid, item in known.items()
            if item.graph in replaced and new_types.get(rid) != item.type}


def _report_changes(reports: list[FileReport], pending: dict[str, PendingFile],
                    known: dict[str, KnownItem]) -> None:
    """Fill in the ids each new or changed file adds, updates and removes."""
    for report in reports:
        if report.graph in pending:
            ids = {s.record.id for s in pending[report.graph].records}
            old_ids = {rid for rid, item in known.items() if item.graph == report.graph}
            report.added = sorted(ids - old_ids)
            report.updated = sorted(ids & old_ids)
            report.removed = sorted(old_ids - ids)


class _Clock:
    """Wall time per pipeline stage, for the report and the benchmark."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps[stage] = round(self.laps.get(stage, 0.0) + now - self._last, 4)
        self._last = now


def _batch_actor_terms(batch: Iterable[SourceRecord], base_iri: str) -> list[Term]:
    terms = []
    for s in batch:
        if s.record.type == "actor":
            iri = f"{base_iri}actor/{s.record.id}"
            terms += [Term(label, iri, "actor") for label in (s.record.title, *s.record.alt_labels)]
    return terms


def _provenance(g: ox.NamedNode, path: Path, digest: str, count: int, when: dt.datetime
                ) -> list[ox.Quad]:
    def quad(p: object, o: ox.NamedNode | ox.Literal) -> ox.Quad:
        return ox.Quad(g, ox.NamedNode(str(p)), o, g)

    return [
        quad(RDF.type, ox.NamedNode(str(PROV.Entity))),
        quad(RDF.type, ox.NamedNode(str(WK.SourceGraph))),
        quad(WK.sourceFile, ox.Literal(str(path))),
        quad(PROV.wasDerivedFrom, ox.NamedNode(path.resolve().as_uri())),
        quad(WK.contentHash, ox.Literal(digest)),
        quad(WK.recordCount, ox.Literal(str(count), datatype=ox.NamedNode(str(XSD.integer)))),
        quad(PROV.generatedAtTime, ox.Literal(when.isoformat(),
                                              datatype=ox.NamedNode(str(XSD.dateTime)))),
        quad(DCTERMS.format, ox.Literal(_media_type(path))),
    ]


def _media_type(path: Path) -> str:
    return {
        ".csv": "text/csv", ".jsonl": "application/jsonl", ".ndjson": "application/jsonl",
        ".md": "text/markdown", ".markdown": "text/markdown", ".ttl": "text/turtle",
        ".jsonld": "application/ld+json", ".json-ld": "application/ld+json",
        ".nt": "application/n-triples",
        ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }.get(path.suffix.lower(), "application/octet-stream")
