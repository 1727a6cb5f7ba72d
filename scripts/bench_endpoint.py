"""Benchmark the SPARQL endpoint's own cost: the same queries in pyoxigraph directly and through
`/sparql` of a real `wijken serve` process on loopback (keep-alive httpx client, JSON results).

The sample corpus is ingested without a search index (the endpoint does not need one), into a
temporary data directory. The difference of the medians is the endpoint's overhead per query:
HTTP, the guard, the worker pipe and serialisation. Prints a Markdown table. Usage:

    PYTHONPATH=. python scripts/bench_endpoint.py [--runs 300]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
from served import served

from api.knowledgebase import KnowledgeBase
from ontology.namespaces import sparql_prefixes

REPO = Path(__file__).resolve().parent.parent
QUERIES = {
    "COUNT of all triples": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "lessons of a theme": sparql_prefixes() + """
        SELECT ?les ?titel WHERE { ?les a wk:Lesson ; rdfs:label ?titel ;
          dct:subject <https://w3id.org/100wijken/id/concept/thema/renovatie> } ORDER BY ?titel""",
}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="wijken-bench-endpoint-"))
    data_dir = work / "data"
    kb = KnowledgeBase(data_dir=data_dir)
    kb.ingest([REPO / "data" / "sample"], sync_index=False)
    triples = len(kb.store)
    direct: dict[str, list[float]] = {}
    for name, query in QUERIES.items():
        times = []
        for _ in range(args.runs + 10):
            started = time.perf_counter()
            list(kb.store.oxigraph.query(query, use_default_graph_as_union=True))
            times.append((time.perf_counter() - started) * 1000)
        direct[name] = times[10:]
    kb.close()

    with served(data_dir) as url, httpx.Client(base_url=url, timeout=30) as http:
        over_http: dict[str, list[float]] = {}
        worker: dict[str, list[float]] = {}
        for name, query in QUERIES.items():
            times, inside = [], []
            for _ in range(args.runs + 10):
                started = time.perf_counter()
                response = http.get("/sparql", params={"query": query},
                                    headers={"Accept": "application/sparql-results+json"})
                response.raise_for_status()
                times.append((time.perf_counter() - started) * 1000)
                inside.append(float(response.headers["server-timing"].split("dur=")[1]))
            over_http[name], worker[name] = times[10:], inside[10:]

    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, pyoxigraph {ox.__version__}; sample corpus, "
          f"{triples} triples; {args.runs} runs per query, one keep-alive client.\n")
    print("| query | pyoxigraph p50 (ms) | in the worker p50 (ms) | /sparql p50 (ms) | "
          "/sparql p95 (ms) | overhead p50 (ms) | outside the worker p50 (ms) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in QUERIES:
        d, s = statistics.median(direct[name]), statistics.median(over_http[name])
        w = statistics.median(worker[name])
        print(f"| {name} | {d:.2f} | {w:.2f} | {s:.2f} | {_percentile(over_http[name], 0.95):.2f} "
              f"| {s - d:.2f} | {s - w:.2f} |")


if __name__ == "__main__":
    main()
