"""What the store holds, as the layers above need it: the named graphs that came from ingested
files, and the record ids per type."""

from __future__ import annotations

from dataclasses import dataclass

from kg.store import Store
from ontology.namespaces import CLASS_TO_TYPE, sparql_prefixes

P = sparql_prefixes()


@dataclass(frozen=True)
class SourceGraphInfo:
    """A named graph from one ingested file, as its provenance triples describe it."""

    iri: str
    source_file: str
    content_hash: str
    record_count: int
    generated_at: str


def source_graphs(store: Store) -> list[SourceGraphInfo]:
    """Every named graph that came from an ingested file."""
    rows = store.select(
        P
        + """
        SELECT ?g ?file ?hash ?n ?at WHERE { GRAPH ?g {
          ?g a wk:SourceGraph ; wk:sourceFile ?file ; wk:contentHash ?hash ;
             wk:recordCount ?n ; prov:generatedAtTime ?at } } ORDER BY ?file"""
    )
    return [
        SourceGraphInfo(str(r["g"]), str(r["file"]), str(r["hash"]), int(str(r["n"])),
                        str(r["at"]))
        for r in rows
    ]


def record_ids_by_type(store: Store) -> dict[str, set[str]]:
    """Record type -> the ids of every record of that type in the store."""
    values = " ".join(f"<{c}>" for c in CLASS_TO_TYPE)
    rows = store.select(
        P + f"SELECT ?id ?class WHERE {{ ?s a ?class ; dct:identifier ?id "
        f"VALUES ?class {{ {values} }} }}"
    )
    out: dict[str, set[str]] = {}
    for r in rows:
        out.setdefault(CLASS_TO_TYPE[r["class"]], set()).add(str(r["id"]))
    return out
