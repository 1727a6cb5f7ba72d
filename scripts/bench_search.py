"""Search latency benchmark: p50/p95 with one client and with 4 concurrent clients, in process
and over HTTP (`/api/search` of `wijken serve`), plus ingest time, index size, peak RSS and,
for an HNSW index, recall@10 against exact search.

    python scripts/bench_search.py --data-dir wijken-data            # an indexed data dir
    python scripts/bench_search.py --synthetic 10000 --work /tmp/b   # builds a 10k-item one

Queries are the 76 Dutch questions of data/eval/questions.jsonl, cycled. In process, the
query-embedding cache is cleared before every query; over HTTP each request carries a question
made new by a counter, so every request embeds its question (warm = the model and indexes are
loaded). With --synthetic, records come from scripts/synthetic.py and are ingested for real and
embedded with the configured embedder (`--fake-vectors`: deterministic pseudo-random unit
vectors instead, as before the fast engine, when only the index's cost is of interest).
Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _fake_vector(text: str, dim: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    v = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return v / np.linalg.norm(v)


def build_synthetic(n: int, work: Path, *, fake_vectors: bool) -> Path:
    """Ingest n synthetic records and index them (real embeddings unless `fake_vectors`);
    the ingest's wall time is kept in `build.json` beside the data directory."""
    if not fake_vectors:
        return _build_real(n, work)
    return _build_fake(n, work)


def _records(n: int, work: Path) -> Path:
    import synthetic

    records = work / f"synthetic-{n}.jsonl"
    if not records.exists():
        with records.open("w", encoding="utf-8") as fh:
            for rec in synthetic.records(n):
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return records


def _build_real(n: int, work: Path) -> Path:
    from api.knowledgebase import KnowledgeBase

    data_dir = work / f"data-{n}-real"
    if (data_dir / "index" / "state.json").exists():
        return data_dir
    records = _records(n, work)
    started = time.perf_counter()
    kb = KnowledgeBase(data_dir=data_dir, threads=os.cpu_count() or 1)
    kb.ingest([records])
    embedder = kb.search_engine.embedder.model_id
    kb.close()
    seconds = time.perf_counter() - started
    (work / f"build-{n}-real.json").write_text(json.dumps(
        {"items": n, "seconds": seconds, "embedder": embedder,
         "load_average": os.getloadavg()[0]}), encoding="utf-8")
    return data_dir


def _build_fake(n: int, work: Path) -> Path:
    """Ingest n synthetic records and index them with seeded vectors."""
    from api.knowledgebase import KnowledgeBase
    from search.chunking import chunk_text
    from search.documents import load_documents
    from search.embeddingcache import EmbeddingCache

    data_dir = work / f"data-{n}"
    if (data_dir / "index" / "state.json").exists():
        return data_dir
    records = _records(n, work)
    kb = KnowledgeBase(data_dir=data_dir)
    kb.ingest([records], sync_index=False)
    embedder = kb.search_engine.embedder
    cache = EmbeddingCache(embedder.model_id, embedder.dim)
    for doc in load_documents(kb.store).values():
        for chunk in chunk_text(doc.passage, embedder):
            cache.put(chunk, _fake_vector(chunk, embedder.dim))
    (data_dir / "index" / "vectors").mkdir(parents=True, exist_ok=True)
    cache.save(data_dir / "index" / "vectors")
    kb.search_engine.sync()
    kb.close()
    return data_dir


def measure(data_dir: Path, *, n_queries: int, clients: int, threads: int) -> dict[str, float]:
    """Latencies (ms) of n_queries searches spread over `clients` threads."""
    from api.knowledgebase import KnowledgeBase
    from search.evaluate import load_questions

    kb = KnowledgeBase(data_dir=data_dir, read_only=True, threads=threads)
    engine = kb.search_engine
    questions = [q.query for q in load_questions(REPO / "data" / "eval" / "questions.jsonl")]
    engine.search(questions[0], k=10)  # warm: model, indexes, documents loaded
    latencies: list[float] = []
    lock = threading.Lock()

    def client(offset: int) -> None:
        for i in range(n_queries // clients):
            query = questions[(offset + i * clients) % len(questions)]
            engine._query_cache.clear()
            start = time.perf_counter()
            engine.search(query, k=10)
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                latencies.append(elapsed)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    items = len(engine.documents())
    kb.close()
    return {"items": items, "n": len(latencies), "p50": _percentile(latencies, 0.5),
            "p95": _percentile(latencies, 0.95), "max": max(latencies),
            "mean": statistics.fmean(latencies), "qps": len(latencies) / wall}


def measure_http(data_dir: Path, *, n_queries: int, clients: int, threads: int
                 ) -> dict[str, float]:
    """Latencies (ms) of `/api/search` over HTTP, `clients` keep-alive clients at once."""
    import httpx
    from served import served

    from search.evaluate import load_questions

    questions = [q.query for q in load_questions(REPO / "data" / "eval" / "questions.jsonl")]
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    with served(data_dir, {"WIJKEN_THREADS": str(threads)}) as url:
        with httpx.Client(base_url=url, timeout=60) as http:
            http.get("/api/search", params={"q": questions[0], "k": 10}).raise_for_status()

        def client(offset: int) -> None:
            nonlocal errors
            with httpx.Client(base_url=url, timeout=60) as http:
                for i in range(n_queries // clients):
                    n = offset + i * clients
                    query = f"{questions[n % len(questions)]} ({n})"  # never cached
                    start = time.perf_counter()
                    response = http.get("/api/search", params={"q": query, "k": 10})
                    elapsed = (time.perf_counter() - start) * 1000
                    with lock:
                        latencies.append(elapsed)
                        errors += response.status_code != 200

        workers = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
        started = time.perf_counter()
        for t in workers:
            t.start()
        for t in workers:
            t.join()
        wall = time.perf_counter() - started
    return {"n": len(latencies), "errors": errors, "p50": _percentile(latencies, 0.5),
            "p95": _percentile(latencies, 0.95), "max": max(latencies),
            "qps": len(latencies) / wall}


def hnsw_recall(data_dir: Path, *, k: int = 10) -> tuple[float, float]:
    """Recall@k of an HNSW index over the data directory's vectors against exact search, for
    the evaluation questions embedded with the index's engine (an HNSW copy is built when the
    index is flat, below the threshold); and the HNSW search p50 in ms."""
    from search.embedders import load_embedder
    from search.evaluate import load_questions
    from search.vectorindex import VectorIndex

    vectors = data_dir / "index" / "vectors"
    built_with = json.loads((vectors / "config.json").read_text(encoding="utf-8"))["model_id"]
    embedder = load_embedder()
    exact = VectorIndex.load(vectors, expected_model_id=built_with, expected_dim=embedder.dim,
                             hnsw_threshold=10**9)
    exact.rebuild()
    hnsw = VectorIndex.load(vectors, expected_model_id=built_with, expected_dim=embedder.dim,
                            hnsw_threshold=1)
    hnsw.rebuild()
    assert (exact.kind, hnsw.kind) == ("flat", "hnsw")
    questions = [q.query for q in load_questions(REPO / "data" / "eval" / "questions.jsonl")]
    hits, latencies = 0, []
    for vector in embedder.embed_queries(questions):
        truth = {key for key, _ in exact.search(vector, k=k)}
        start = time.perf_counter()
        found = {key for key, _ in hnsw.search(vector, k=k)}
        latencies.append((time.perf_counter() - start) * 1000)
        hits += len(truth & found)
    return hits / (k * len(questions)), _percentile(latencies, 0.5)


def main() -> None:
    """Run the benchmark and print Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, action="append", default=[])
    parser.add_argument("--synthetic", type=int, default=0)
    parser.add_argument("--work", type=Path, default=Path("/tmp/wijken-bench"))
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2, help="OpenMP threads (one process "
                        "loads its engines once, so run once per setting)")
    parser.add_argument("--fake-vectors", action="store_true",
                        help="seeded random vectors instead of real embeddings (--synthetic)")
    parser.add_argument("--no-http", action="store_true", help="skip the /api/search runs")
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    dirs = list(args.data_dir)
    if args.synthetic:
        args.work.mkdir(parents=True, exist_ok=True)
        dirs.append(build_synthetic(args.synthetic, args.work, fake_vectors=args.fake_vectors))
        build = args.work / f"build-{args.synthetic}-real.json"
        if build.exists():
            b = json.loads(build.read_text(encoding="utf-8"))
            print(f"ingest of {b['items']} synthetic records with {b['embedder']}: "
                  f"{b['seconds']:.0f} s ({b['items'] / b['seconds']:.1f} records/s; load "
                  f"average {b['load_average']:.2f} at the end)\n")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}, "
          f"threads={args.threads}, "
          f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}\n")
    print("| items | clients | requests | p50 ms | p95 ms | max ms | req/s "
          "| max / one-client p50 |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for d in dirs:
        one = measure(d, n_queries=args.queries, clients=1, threads=args.threads)
        four = measure(d, n_queries=args.queries, clients=4, threads=args.threads)
        for clients, m in ((1, one), (4, four)):
            print(f"| {m['items']} | {clients} | {m['n']} | {m['p50']:.1f} | {m['p95']:.1f} | "
                  f"{m['max']:.1f} | {m['qps']:.1f} | {m['max'] / one['p50']:.1f}x |")
        if not args.no_http:
            print(f"\nover HTTP (`wijken serve`, WIJKEN_THREADS={args.threads}):\n")
            print("| items | clients | requests | errors | p50 ms | p95 ms | max ms | req/s "
                  "| p95 / one-client p50 |")
            print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
            h1 = measure_http(d, n_queries=args.queries, clients=1, threads=args.threads)
            h4 = measure_http(d, n_queries=args.queries, clients=4, threads=args.threads)
            for clients, m in ((1, h1), (4, h4)):
                print(f"| {one['items']} | {clients} | {m['n']} | {m['errors']} | "
                      f"{m['p50']:.1f} | {m['p95']:.1f} | {m['max']:.1f} | {m['qps']:.1f} | "
                      f"{m['p95'] / h1['p50']:.1f}x |")
        recall, hnsw_p50 = hnsw_recall(d)
        print(f"\nHNSW recall@10 against exact search (76 questions): {recall:.3f}; "
              f"HNSW search p50 {hnsw_p50:.2f} ms")
        index = d / "index"
        sizes = {p.name: p.stat().st_size for p in [index / "vectors" / "index.faiss",
                                                     index / "bm25.json.gz"] if p.exists()}
        print(f"\nindex files for {one['items']} items: "
              + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sizes.items()))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {rss:.0f} MB")


if __name__ == "__main__":
    main()
