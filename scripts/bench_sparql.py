"""Benchmark representative partner SPARQL queries: this store (Oxigraph on disk, through
`kg.store.Store`) against rdflib's in-memory `Dataset(default_union=True)` holding the same quads,
on the sample corpus and on synthetic records (≥ 100,000 triples), in one run.

Each query runs warm (one untimed run first) `--runs` times per store; both stores must return
the same number of rows (triples for CONSTRUCT). An in-memory Oxigraph copy of the same quads
is timed too, for reference (same engine without RocksDB). Prints a Markdown table with the
machine and data sizes. Usage (from the repository root; the first run ingests, later runs
reuse `--work`):

    OMP_NUM_THREADS=1 PYTHONPATH=. python scripts/bench_sparql.py [--records 10000] [--runs 20]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Dataset

from api.knowledgebase import KnowledgeBase
from ontology.namespaces import sparql_prefixes

REPO = Path(__file__).resolve().parent.parent
P = sparql_prefixes()
CONCEPT = "https://w3id.org/100wijken/id/concept/"


@dataclass(frozen=True)
class Query:
    """One partner question as SPARQL; `{item}` and `{neighbourhood}` are replaced by the IRIs
    of a breakthrough of the data set and of its neighbourhood."""

    name: str
    text: str


QUERIES = [
    Query("lessons of a theme + municipality", f"""
        SELECT ?les ?titel ?gemeente WHERE {{
          ?les a wk:Lesson ; rdfs:label ?titel ; dct:subject <{CONCEPT}thema/renovatie> .
          OPTIONAL {{ ?les wk:municipality ?m . ?m rdfs:label ?gemeente
                      FILTER (lang(?gemeente) = "nl") }}
        }} ORDER BY ?titel"""),
    Query("breakthroughs over thresholds of a type + measures", f"""
        SELECT ?doorbraak ?titel ?drempel ?maatregel WHERE {{
          ?drempel a wk:Threshold ; dct:type <{CONCEPT}drempeltype/organisatorisch> .
          ?doorbraak a wk:Breakthrough ; wk:overcomes ?drempel ; rdfs:label ?titel .
          OPTIONAL {{ ?doorbraak wk:usesMeasure ?maatregel }}
        }}"""),
    Query("count per municipality and theme", """
        SELECT ?gemeente ?thema (COUNT(DISTINCT ?s) AS ?n) WHERE {
          ?s dct:identifier ?id ; wk:municipality ?m ; dct:subject ?c .
          ?m wk:nisCode ?gemeente . ?c skos:notation ?thema
        } GROUP BY ?gemeente ?thema ORDER BY DESC(?n) ?gemeente ?thema"""),
    Query("neighbourhoods sharing thresholds with one (join)", """
        SELECT ?wijk (COUNT(DISTINCT ?t) AS ?gedeeld) WHERE {
          ?a wk:neighbourhood {neighbourhood} ; wk:addresses|wk:overcomes ?t .
          ?b wk:neighbourhood ?wijk ; wk:addresses|wk:overcomes ?t .
          FILTER (?wijk != {neighbourhood})
        } GROUP BY ?wijk ORDER BY DESC(?gedeeld) ?wijk"""),
    Query("CONSTRUCT one item's description", """
        CONSTRUCT { {item} ?p ?o . ?o rdfs:label ?l . ?s ?q {item} } WHERE {
          { {item} ?p ?o OPTIONAL { ?o rdfs:label ?l } } UNION { ?s ?q {item} }
        }"""),
]


def machine() -> str:
    """nproc, CPU model and load average, for the table's caption."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} × {model}; load average {load}; Python {platform.python_version()}"


def synthetic_records(n: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """`scripts/synthetic.py` records plus neighbourhoods (it has none, and query 4 joins on
    them): n // 50 neighbourhood records, and each lesson, measure and breakthrough in one."""
    spec = importlib.util.spec_from_file_location("synthetic", REPO / "scripts" / "synthetic.py")
    assert spec is not None and spec.loader is not None
    synthetic = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(synthetic)
    rng = random.Random(seed)
    wijken = [f"syn-wijk-{i:04d}" for i in range(max(10, n // 50))]
    for w in wijken:
        yield {"id": w, "type": "neighbourhood", "title": f"Synthetische wijk {w[-4:]}",
               "municipality": rng.choice(synthetic.MUNICIPALITIES)}
    for rec in synthetic.records(n - len(wijken)):
        if rec["type"] in ("lesson", "measure", "breakthrough"):
            rec["neighbourhood"] = rng.choice(wijken)
        yield rec


def build(data_dir: Path, source: Path) -> KnowledgeBase:
    """A knowledge base with `source` ingested (no search index: SPARQL only)."""
    kb = KnowledgeBase(data_dir=data_dir, threads=os.cpu_count() or 1)
    started = time.perf_counter()
    report = kb.ingest([source], sync_index=False)
    if report.changed:
        print(f"ingested {source} in {time.perf_counter() - started:.1f} s")
    return kb


def copies(kb: KnowledgeBase) -> tuple[Dataset, float, ox.Store]:
    """The store's quads in an rdflib Dataset whose default graph is the union (and its load
    seconds), and in an in-memory Oxigraph store (for reference: same engine, no disk)."""
    nquads = kb.store.dump(ox.RdfFormat.N_QUADS)
    started = time.perf_counter()
    ds = Dataset(default_union=True)
    ds.parse(data=nquads.decode("utf-8"), format="nquads")
    load_s = time.perf_counter() - started
    memory = ox.Store()
    memory.load(nquads, format=ox.RdfFormat.N_QUADS)
    return ds, load_s, memory


def run_oxigraph(kb: KnowledgeBase, query: str) -> int:
    """Run on the Oxigraph store (union default graph); rows, or distinct triples."""
    return _count(kb.store.query(query))


def run_memory(store: ox.Store, query: str) -> int:
    """Run on an in-memory Oxigraph copy of the store (union default graph)."""
    return _count(store.query(query, use_default_graph_as_union=True))


def _count(result: Any) -> int:
    if isinstance(result, ox.QueryTriples):
        return len({(t.subject, t.predicate, t.object) for t in result})
    return sum(1 for _ in result)


def run_rdflib(ds: Dataset, query: str) -> int:
    """Run on the rdflib Dataset; rows, or triples of the CONSTRUCT graph."""
    result = ds.query(query)
    if result.type == "CONSTRUCT":
        assert result.graph is not None
        return len(result.graph)
    return sum(1 for _ in result)


def timed(run: Callable[[], int], runs: int) -> tuple[int, list[float]]:
    """Rows of a warm-up run, then the wall time of `runs` runs in milliseconds."""
    rows = run()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return rows, times


def pct(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench(label: str, kb: KnowledgeBase, runs: int) -> list[dict[str, Any]]:
    """Every query on both stores of one data set."""
    ds, load_s, memory = copies(kb)
    first = kb.store.select(P + """SELECT ?b ?w WHERE { ?b a wk:Breakthrough ; wk:overcomes ?t ;
        wk:neighbourhood ?w } ORDER BY ?b LIMIT 1""")[0]
    out = []
    for q in QUERIES:
        text = P + q.text.replace("{item}", f"<{first['b']}>").replace(
            "{neighbourhood}", f"<{first['w']}>")
        ox_rows, ox_ms = timed(partial(run_oxigraph, kb, text), runs)
        mem_rows, mem_ms = timed(partial(run_memory, memory, text), runs)
        rl_rows, rl_ms = timed(partial(run_rdflib, ds, text), runs)
        assert mem_rows == ox_rows, (q.name, mem_rows, ox_rows)
        out.append({"data": label, "query": q.name, "rows_oxigraph": ox_rows,
                    "rows_rdflib": rl_rows, "oxigraph_ms": ox_ms, "rdflib_ms": rl_ms,
                    "memory_ms": mem_ms})
        print(f"  {label}: {q.name}: {ox_rows} rows, oxigraph p50 {pct(ox_ms, .5):.1f} ms, "
              f"in memory {pct(mem_ms, .5):.1f} ms, rdflib p50 {pct(rl_ms, .5):.1f} ms",
              flush=True)
    out.append({"data": label, "triples": len(kb.store), "rdflib_load_s": load_s,
                "records": sum(kb.stats().types.values())})
    return out


def markdown(results: list[dict[str, Any]], runs: int, header: str) -> str:
    lines = [header, "", f"Warm: one untimed run, then {runs} timed runs per query and store "
             "(wall time including iterating all rows in Python).", "",
             "| data | triples | records | rdflib load |", "| --- | ---: | ---: | ---: |"]
    for r in results:
        if "triples" in r:
            lines.append(f"| {r['data']} | {r['triples']:,} | {r['records']:,} | "
                         f"{r['rdflib_load_s']:.1f} s |")
    lines += ["", "| data | query | rows | this store (Oxigraph on disk) p50 / p95 (ms) | "
              "rdflib Dataset p50 / p95 (ms) | rdflib / store (p50) | same rows | "
              "Oxigraph in memory p50 (ms) |",
              "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: |"]
    for r in results:
        if "query" not in r:
            continue
        o50, o95 = pct(r["oxigraph_ms"], .5), pct(r["oxigraph_ms"], .95)
        r50, r95 = pct(r["rdflib_ms"], .5), pct(r["rdflib_ms"], .95)
        same = "yes" if r["rows_oxigraph"] == r["rows_rdflib"] else (
            f"**no** ({r['rows_oxigraph']} vs {r['rows_rdflib']})")
        lines.append(f"| {r['data']} | {r['query']} | {r['rows_oxigraph']:,} | "
                     f"{o50:.2f} / {o95:.2f} | {r50:.1f} / {r95:.1f} | "
                     f"{r50 / max(o50, 1e-6):.0f}× | {same} | "
                     f"{pct(r['memory_ms'], .5):.2f} |")
    return "\n".join(lines)


def main() -> None:
    """Build (or reuse) both data sets, run every query on both stores, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000, help="Synthetic records.")
    parser.add_argument("--runs", type=int, default=20, help="Timed runs per query and store.")
    parser.add_argument("--work", type=Path, default=Path("/tmp/wijken-bench-sparql"),
                        help="Work directory (data directories are reused between runs).")
    parser.add_argument("--json", type=Path, help="Also write the raw timings here.")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    args.work.mkdir(parents=True, exist_ok=True)
    records = args.work / f"synthetic-{args.records}.jsonl"
    if not records.exists():
        with records.open("w", encoding="utf-8") as fh:
            for rec in synthetic_records(args.records):
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    header = (f"Machine: {machine()}; pyoxigraph {version('pyoxigraph')}, rdflib "
              f"{version('rdflib')}.")
    results: list[dict[str, Any]] = []
    for label, source in (("sample corpus", REPO / "data" / "sample"),
                          (f"synthetic ({args.records:,} records)", records)):
        kb = build(args.work / ("sample" if source.is_dir() else f"syn-{args.records}"), source)
        try:
            results += bench(label, kb, args.runs)
        finally:
            kb.close()
    table = markdown(results, args.runs, header)
    print()
    print(table)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    mismatched = [r["query"] for r in results if "query" in r
                  and r["rows_oxigraph"] != r["rows_rdflib"]]
    if mismatched:
        raise SystemExit(f"row counts differ for: {', '.join(mismatched)}")


if __name__ == "__main__":
    main()
