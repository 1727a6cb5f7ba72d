"""Editions of the dynamisch werkboek: each state of the harvest the book is published from.

An edition is recorded whenever the records changed since the last one (`publish`): after an
ingest or a SPARQL update that changed them, and when `wijken werkboek` runs. What counts as a
record's state is every triple it is the subject of, except the derived `wk:mentions` (a new
actor elsewhere should not make every text that names it "changed").

Kept in the data directory, `werkboek/`:
- `editions.jsonl`, the edition log: one line per edition (number, issued, store generation,
  fingerprint, and the records added, changed and removed since the edition before);
- `state.json`, the record digests of the latest edition, to tell what changed since.

And in the graph, named graph `…/graph/werkboek`: the werkboek as a `dcat:Dataset` with a
`dcat:Distribution` per format, and every edition as a `dcat:Dataset` + `prov:Entity` with
`dcat:version`, `dct:issued`, `dct:isVersionOf` the werkboek, and `prov:wasRevisionOf` +
`dcat:previousVersion` the edition before it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox
from rdflib import Namespace
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, XSD

from kg.errors import WijkenError
from kg.store import Store
from kg.werkboek import Change, EditionInfo
from ontology.namespaces import CLASS_TO_TYPE, reference_graph, sparql_prefixes

__all__ = ["EDITION_GRAPH", "FORMATS", "current_edition", "editions", "publish",
           "werkboek_iri"]

P = sparql_prefixes()
DCAT = Namespace("http://www.w3.org/ns/dcat#")  # open: rdflib's closed DCAT lacks DCAT 3's terms
EDITION_GRAPH = reference_graph("werkboek")
# format -> (media type, Dutch description); the werkboek's distributions
FORMATS: dict[str, tuple[str, str]] = {
    "html": ("text/html", "Webpagina"),
    "pdf": ("application/pdf", "PDF om te lezen en af te drukken"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "Word-document om te bewerken"),
    "md": ("text/markdown", "Markdown"),
}
LOG_NAME, STATE_NAME = "editions.jsonl", "state.json"


def werkboek_iri(base_iri: str) -> str:
    """The IRI of the werkboek dataset."""
    return f"{base_iri}werkboek"


def site_root(base_iri: str) -> str:
    """Where the site's pages live for a base IRI: its parent when it ends in `id/` (the
    linked-data pattern `…/id/{type}/{id}` beside the pages), else the base IRI itself."""
    return base_iri[:-3] if base_iri.endswith("/id/") else base_iri


def _edition_iri(base_iri: str, number: int) -> str:
    return f"{base_iri}werkboek/editie/{number}"


def record_state(store: Store) -> dict[str, tuple[str, str, str, str]]:
    """Record IRI -> (digest of its triples, id, title, type)."""
    values = " ".join(f"<{c}>" for c in CLASS_TO_TYPE)
    triples: dict[str, list[str]] = defaultdict(list)
    meta: dict[str, tuple[str, str, str]] = {}
    for r in store.select(P + f"""SELECT ?s ?p ?o ?class ?id ?title WHERE {{
        ?s a ?class ; dct:identifier ?id ; rdfs:label ?title ; ?p ?o .
        VALUES ?class {{ {values} }} FILTER (?p != wk:mentions) }}"""):
        s = str(r["s"])
        triples[s].append(f"{r['p']} {r['o']!r}")
        meta.setdefault(s, (str(r["id"]), str(r["title"]), CLASS_TO_TYPE[r["class"]]))
    return {s: (hashlib.sha256("\n".join(sorted(set(t))).encode()).hexdigest()[:20], *meta[s])
            for s, t in triples.items()}


def _fingerprint(state: dict[str, tuple[str, str, str, str]]) -> str:
    return hashlib.sha256("\n".join(f"{s} {v[0]}" for s, v in sorted(state.items()))
                          .encode()).hexdigest()[:20]


def _diff(old: dict[str, list[str]], new: dict[str, tuple[str, str, str, str]]
          ) -> list[Change]:
    changes = []
    for s, (digest, rid, title, kind) in new.items():
        if s not in old:
            changes.append(Change(id=rid, title=title, iri=s, type=kind, change="nieuw"))
        elif old[s][0] != digest:
            changes.append(Change(id=rid, title=title, iri=s, type=kind, change="gewijzigd"))
    for s, (_, rid, title, kind) in old.items():
        if s not in new:
            changes.append(Change(id=rid, title=title, iri=s, type=kind, change="verwijderd"))
    order = {"nieuw": 0, "gewijzigd": 1, "verwijderd": 2}
    return sorted(changes, key=lambda c: (order[c.change], c.type, c.title.lower()))


def _folder(data_dir: Path) -> Path:
    return data_dir / "werkboek"


def editions(data_dir: Path | None) -> list[dict[str, object]]:
    """The edition log, oldest first (empty without a data directory)."""
    if data_dir is None:
        return []
    log = _folder(data_dir) / LOG_NAME
    if not log.exists():
        return []
    out = []
    for n, line in enumerate(log.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise WijkenError(f"the werkboek edition log {log}:{n} is not a JSON line: "
                              f"{exc.msg}; repair or remove that line") from exc
        out.append(entry)
    return out


def _info(entry: dict[str, object]) -> EditionInfo:
    raw = entry.get("changes", [])
    return EditionInfo(
        number=int(str(entry["number"])), issued=str(entry["issued"]), iri=str(entry["iri"]),
        generation=int(str(entry["generation"])),
        previous=int(str(entry["previous"])) if entry.get("previous") is not None else None,
        changes=[Change.model_validate(c) for c in raw] if isinstance(raw, list) else [])


def current_edition(store: Store, data_dir: Path | None) -> EditionInfo | None:
    """The latest edition; when the records changed since, `current` is false and `changes`
    are those since that edition (the book is then a working version after it)."""
    log = editions(data_dir)
    if not log or data_dir is None:
        return None
    info = _info(log[-1])
    state = record_state(store)
    if _fingerprint(state) != log[-1].get("fingerprint"):
        info.current = False
        info.changes = _diff(_load_state(data_dir), state)
    return info


def _load_state(data_dir: Path) -> dict[str, list[str]]:
    path = _folder(data_dir) / STATE_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def publish(store: Store, data_dir: Path | None, base_iri: str, *,
            now: dt.datetime | None = None) -> EditionInfo | None:
    """Record a new edition when the records changed since the last one; returns it, or None
    when nothing changed (or there is no data directory to keep the log in)."""
    if data_dir is None:
        return None
    state = record_state(store)
    fingerprint = _fingerprint(state)
    log = editions(data_dir)
    if log and log[-1].get("fingerprint") == fingerprint:
        return None
    number = int(str(log[-1]["number"])) + 1 if log else 1
    when = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    entry: dict[str, object] = {
        "number": number, "issued": when.isoformat(), "iri": _edition_iri(base_iri, number),
        "generation": store.generation, "fingerprint": fingerprint,
        "previous": number - 1 if log else None,
        "records": len(state),
        "changes": [c.model_dump() for c in _diff(_load_state(data_dir), state)] if log else [],
    }
    folder = _folder(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    # The graph first: if it fails, neither file changed and the next publish tries again.
    store.replace_graphs({EDITION_GRAPH: _edition_quads(base_iri, [*log, entry])})
    _write_atomic(folder / STATE_NAME, json.dumps(
        {s: [v[0], v[1], v[2], v[3]] for s, v in state.items()}, ensure_ascii=False))
    lines = [json.dumps(e, ensure_ascii=False) for e in [*log, entry]]
    _write_atomic(folder / LOG_NAME, "\n".join(lines) + "\n")
    return _info(entry)


def _edition_quads(base_iri: str, log: list[dict[str, object]]) -> list[ox.Quad]:
    g = ox.NamedNode(EDITION_GRAPH)
    out: list[ox.Quad] = []

    def add(s: str, p: object, o: ox.NamedNode | ox.Literal) -> None:
        out.append(ox.Quad(ox.NamedNode(s), ox.NamedNode(str(p)), o, g))

    def lit(value: str, lang: str | None = None, dtype: object = None) -> ox.Literal:
        if dtype is not None:
            return ox.Literal(value, datatype=ox.NamedNode(str(dtype)))
        return ox.Literal(value, language=lang) if lang else ox.Literal(value)

    book = werkboek_iri(base_iri)
    add(book, RDF.type, ox.NamedNode(str(DCAT.Dataset)))
    add(book, DCTERMS.title, lit("Dynamisch werkboek 100 WIJKEN PLATFORM", "nl"))
    add(book, RDFS.label, lit("Dynamisch werkboek 100 WIJKEN PLATFORM", "nl"))
    add(book, DCTERMS.description, lit(
        "Het werkboek van het 100 WIJKEN PLATFORM, gegenereerd uit de kennisgraaf: per "
        "LEKP-werf en thema de drempels, hoe anderen ze overwonnen en wat nog openligt.", "nl"))
    add(book, DCTERMS.language, ox.NamedNode(
        "http://publications.europa.eu/resource/authority/language/NLD"))
    for fmt, (media, label) in FORMATS.items():
        dist = f"{book}/distributie/{fmt}"
        add(book, DCAT.distribution, ox.NamedNode(dist))
        add(dist, RDF.type, ox.NamedNode(str(DCAT.Distribution)))
        add(dist, DCTERMS.title, lit(f"Dynamisch werkboek ({label})", "nl"))
        add(dist, DCAT.mediaType, ox.NamedNode(
            f"https://www.iana.org/assignments/media-types/{media}"))
        add(dist, DCTERMS.format, lit(fmt))
        page = site_root(base_iri) + "werkboek"
        add(dist, DCAT.accessURL if fmt == "html" else DCAT.downloadURL,
            ox.NamedNode(page if fmt == "html" else f"{page}.{fmt}"))
    for entry in log:
        e = str(entry["iri"])
        add(book, DCAT.hasVersion, ox.NamedNode(e))
        add(e, RDF.type, ox.NamedNode(str(DCAT.Dataset)))
        add(e, RDF.type, ox.NamedNode(str(PROV.Entity)))
        add(e, RDFS.label, lit(f"Dynamisch werkboek, editie {entry['number']}", "nl"))
        add(e, DCTERMS.isVersionOf, ox.NamedNode(book))
        add(e, DCAT.version, lit(str(entry["number"])))
        add(e, DCTERMS.issued, lit(str(entry["issued"]), dtype=XSD.dateTime))
        if entry.get("previous") is not None:
            previous = _edition_iri(base_iri, int(str(entry["previous"])))
            add(e, PROV.wasRevisionOf, ox.NamedNode(previous))
            add(e, DCAT.previousVersion, ox.NamedNode(previous))
    if log:
        add(book, DCAT.hasCurrentVersion, ox.NamedNode(str(log[-1]["iri"])))
    return out
