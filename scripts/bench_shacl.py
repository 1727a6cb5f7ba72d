"""Benchmark SHACL validation of ingest data: the SPARQL engine (ingest.shacl_engine) against
pyshacl on synthetic records mapped to triples the way ingest/mapping.py maps them.

Prints a Markdown table. Usage (from the repository root):

    PYTHONPATH=. python scripts/bench_shacl.py [--records 10000] [--pyshacl-records 500]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time
from importlib.metadata import version

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SH, SKOS

import ontology
from ingest.mapping import RecordMapper, add_all
from ingest.records import Record
from ingest.shacl_engine import CompiledShapes, load_store
from ontology.namespaces import DEFAULT_BASE_IRI, SUBTYPE_SCHEMES, WK, municipality_iri

# share of each type among the records (sums to 1)
MIX = {"lesson": 0.3, "threshold": 0.15, "measure": 0.15, "breakthrough": 0.1, "actor": 0.1,
       "neighbourhood": 0.05, "activity": 0.1, "document": 0.05}
NIS = ("44021", "11002", "24062", "31005", "71022", "12025", "46021", "34022")


def records(n: int) -> list[Record]:
    """n synthetic records of every type with links between them (~15 triples each)."""
    ids: dict[str, list[str]] = {t: [] for t in MIX}
    order = []
    for t, share in MIX.items():
        for i in range(max(1, round(n * share))):
            ids[t].append(f"{t}-{i}")
            order.append((t, i))
    themes = sorted(ontology.theme_notations())
    subtypes = {t: sorted(ontology.scheme_notations(s)) for t, s in SUBTYPE_SCHEMES.items()}
    out = []
    for k, (t, i) in enumerate(order[:n]):
        def pick(kind: str, j: int = 0, i: int = i) -> str:
            pool = ids[kind]
            return pool[(i * 7 + j) % len(pool)]

        out.append(Record(
            id=f"{t}-{i}", type=t, title=f"Titel {t} {i}",
            text=f"Tekst over {themes[k % len(themes)]} in de wijk." if t != "actor" else None,
            themes=(themes[k % len(themes)], themes[(k + 3) % len(themes)]),
            municipality=NIS[k % len(NIS)],
            neighbourhood=pick("neighbourhood") if t != "neighbourhood" else None,
            actors=(pick("actor", 1),) if t != "actor" else (),
            thresholds=(pick("threshold"),) if t in ("lesson", "breakthrough") else (),
            measures=(pick("measure"),) if t == "lesson" else (),
            related=(pick("lesson", 2), pick("breakthrough", 3)),
            source=pick("activity") if t in ("lesson", "threshold") else None,
            date=dt.date(2023, 1 + k % 12, 1 + k % 28),
            alt_labels=(f"alias {i}",) if k % 3 == 0 else (),
            subtype=subtypes[t][k % len(subtypes[t])] if t in subtypes else None,
            url=f"https://www.example.org/{t}/{i}" if k % 2 == 0 else None,
            pioneer=(k % 2 == 0) if t == "neighbourhood" else None,
        ))
    return out


def build_graph(recs: list[Record], invalid_every: int = 0) -> Graph:
    """The records' triples (with mentions) plus the reference context the ingest adds; every
    `invalid_every`-th record gets a bad id and a wk:related literal (0: all valid)."""
    types = {r.id: r.type for r in recs}
    mapper = RecordMapper(DEFAULT_BASE_IRI, types)
    themes = ontology.theme_notations()
    actors = [mapper.iri(r.id) for r in recs if r.type == "actor"]
    g = Graph()
    for k, rec in enumerate(recs):
        mentions = [str(actors[k % len(actors)]), themes[rec.themes[0]],
                    municipality_iri(NIS[(k + 1) % len(NIS)])]
        add_all(g, mapper.triples(rec, municipality_nis=rec.municipality, mentions=mentions))
        if invalid_every and k % invalid_every == 0:
            s = mapper.iri(rec.id)
            g.set((s, DCTERMS.identifier, Literal(f"Bad_{rec.id}")))
            g.add((s, WK.related, Literal(rec.id)))
    schemes = ontology.load_schemes()  # types and schemes of concepts, as ingest/validation.py adds
    for s, p, o in schemes.triples((None, None, None)):
        if p in (RDF.type, SKOS.inScheme):
            g.add((s, p, o))
    for nis in NIS:
        g.add((URIRef(municipality_iri(nis)), RDF.type, WK.Municipality))
    return g


def _best(fn, repeat: int) -> tuple[float, float, object]:
    """Best wall-clock and process CPU seconds over `repeat` runs, and the last output.

    CPU time is reported too because the 2 cores are shared: wall time grows with other load.
    """
    wall, cpu, out = float("inf"), float("inf"), None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = fn()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return wall, cpu, out


def main() -> None:
    """Time the SPARQL engine on N records and pyshacl on a subset; print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--pyshacl-records", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--invalid-every", type=int, default=100,
                        help="break every n-th record (bad id, literal wk:related); 0: none")
    args = parser.parse_args()

    compiled = CompiledShapes(ontology.load_shapes())
    rows = []
    agreement = "not compared"
    for n, engines in ((args.records, ("sparql",)), (args.pyshacl_records, ("sparql", "pyshacl"))):
        graph = build_graph(records(n), args.invalid_every)
        if "sparql" in engines:
            t_load = _best(lambda g=graph: load_store(g, compiled.predicates), args.repeat)
            t_query = _best(lambda s=t_load[2]: compiled.validate(s), args.repeat)
            t_all = _best(lambda g=graph: compiled.validate(g), args.repeat)
            rows.append((n, len(graph), "shacl_engine (rdflib Graph in)", *t_all[:2],
                         len(t_all[2].results)))
            rows.append((n, len(graph), "  of which load into pyoxigraph", *t_load[:2], None))
            rows.append((n, len(graph), "  of which queries (Store in)", *t_query[:2], None))
        if "pyshacl" in engines:
            import pyshacl

            shapes = ontology.load_shapes()
            t_py = _best(lambda g=graph, sg=shapes: pyshacl.validate(
                g, shacl_graph=sg, inference="none", allow_warnings=True), 1)
            report = t_py[2][1]
            theirs = {(report.value(r, SH.focusNode), report.value(r, SH.resultPath),
                       report.value(r, SH.sourceConstraintComponent))
                      for r in report.objects(None, SH.result)}
            rows.append((n, len(graph), "pyshacl", *t_py[:2], len(theirs)))
            ours = {(r.focus, r.path, r.component) for r in compiled.validate(graph).results}
            agreement = "same" if ours == theirs else f"DIFFERENT ({len(ours ^ theirs)})"

    print(f"Python {platform.python_version()}, pyoxigraph {version('pyoxigraph')}, "
          f"pyshacl {version('pyshacl')}, rdflib {version('rdflib')}; best of {args.repeat}\n")
    print("| records | triples | engine | wall s | CPU s | records/s (wall) | results |")
    print("| ---: | ---: | --- | ---: | ---: | ---: | ---: |")
    for n, triples, engine, wall, cpu, results in rows:
        shown = "" if results is None else results
        print(f"| {n} | {triples} | {engine} | {wall:.3f} | {cpu:.3f} | {n / wall:,.0f} "
              f"| {shown} |")
    print(f"\nresults of shacl_engine vs pyshacl on {args.pyshacl_records} records: {agreement}")
    print(f"load average while running: {os.getloadavg()[0]:.2f} (2 cores)")

if __name__ == "__main__":
    main()
