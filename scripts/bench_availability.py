"""Benchmark search and related-item latency while a SPARQL update rewrites every lesson.

Ingests the sample corpus (with the real embedder) into a temporary data directory, starts
`wijken serve` with an update token, and measures `/api/search` (new question texts each time, so
every request embeds its question) and `/api/items/{id}/related` from one client: first idle,
then while an update rewrites the title of every lesson, which makes the server re-embed ~150
passages. Prints a Markdown table with p50, p95 and the slowest request of each phase, and how
long the update took. Usage:

    PYTHONPATH=. python scripts/bench_availability.py [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
from served import served

from api.knowledgebase import KnowledgeBase

REPO = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"
REWRITE = (
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX wk: "
    "<https://w3id.org/100wijken/ns#> DELETE { GRAPH ?g { ?s rdfs:label ?l } } INSERT { GRAPH ?g "
    "{ ?s rdfs:label ?nieuw } } WHERE { GRAPH ?g { ?s a wk:Lesson ; rdfs:label ?l } "
    'BIND(CONCAT("Herzien: ", ?l) AS ?nieuw) }'
)
WORDS = ["warmtenet", "renovatie", "fietsstraat", "ontharding", "deelauto", "zonnepanelen",
         "regenwater", "buurtbudget", "energiecoach", "isolatie", "groendak", "laadpaal"]


def _measure(http: httpx.Client, stop: threading.Event, out: list[tuple[str, float]],
             item: str, phase: str) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        question = f"{WORDS[n % len(WORDS)]} in de wijk {phase} {n}"  # never cached
        started = time.perf_counter()
        response = http.get("/api/search", params={"q": question, "k": 10})
        out.append(("search", (time.perf_counter() - started) * 1000))
        assert response.status_code == 200, response.text
        started = time.perf_counter()
        response = http.get(f"/api/items/{item}/related")
        out.append(("related", (time.perf_counter() - started) * 1000))
        assert response.status_code == 200, response.text


def _row(phase: str, kind: str, values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (f"| {phase} | {kind} | {len(values)} | {statistics.median(values):.0f} | {p95:.0f} "
            f"| {ordered[-1]:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="wijken-bench-avail-")) / "data"
    if not (data_dir / "index").exists():
        kb = KnowledgeBase(data_dir=data_dir, threads=os.cpu_count() or 1)
        kb.ingest([REPO / "data" / "sample"])
        kb.close()
    with served(data_dir, {"WIJKEN_UPDATE_TOKEN": TOKEN}) as url, \
            httpx.Client(base_url=url, timeout=120) as http:
        item = http.get("/api/search", params={"q": "renovatie", "k": 1}).json()["hits"][0]
        phases: dict[str, list[tuple[str, float]]] = {"idle": [], "during the update": []}
        stop = threading.Event()
        reader = threading.Thread(target=_measure,
                                  args=(http, stop, phases["idle"], item["id"], "a"))
        reader.start()
        time.sleep(15)
        stop.set()
        reader.join()
        stop = threading.Event()
        reader = threading.Thread(target=_measure, args=(
            httpx.Client(base_url=url, timeout=120), stop, phases["during the update"],
            item["id"], "b"))
        reader.start()
        time.sleep(1)
        started = time.perf_counter()
        update = http.post("/sparql", data={"update": REWRITE},
                           headers={"Authorization": f"Bearer {TOKEN}"})
        update_seconds = time.perf_counter() - started
        stop.set()
        reader.join()
        assert update.status_code == 200, update.text
        lessons = http.get("/api/search", params={"q": "Herzien", "k": 1}).json()
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores; sample corpus; one client "
          f"(new question each request) while one update rewrote every lesson title: the "
          f"update (commit + re-embedding) took {update_seconds:.1f} s; afterwards the top hit "
          f"for 'Herzien' is {lessons['hits'][0]['title']!r}.\n")
    print("| phase | request | n | p50 (ms) | p95 (ms) | slowest (ms) |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for phase, samples in phases.items():
        for kind in ("search", "related"):
            print(_row(phase, kind, [ms for k, ms in samples if k == kind]))


if __name__ == "__main__":
    main()
