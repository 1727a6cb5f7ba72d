"""Search latency benchmark: p50/p95 with one client and with 4 concurrent clients.

    python scripts/bench_search.py --data-dir wijken-data            # an indexed data dir
    python scripts/bench_search.py --synthetic 10000 --work /tmp/b   # builds a 10k-item one

Queries are the 76 Dutch questions of data/eval/questions.jsonl, cycled; the query-embedding
cache is cleared before every query, so every request embeds its question (warm = the model and
indexes are loaded). With --synthetic, records come from scripts/synthetic.py and are ingested
for real; their passages get deterministic pseudo-random unit vectors instead of model
embeddings (embedding 10,000 passages takes ~20 min here and does not change query cost: the
index is exact inner product either way). Prints Markdown tables.
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


def build_synthetic(n: int, work: Path) -> Path:
    """Ingest n synthetic records and index them with seeded vectors."""
    import synthetic

    from api.knowledgebase import KnowledgeBase
    from search.chunking import chunk_text
    from search.documents import load_documents
    from search.embeddingcache import EmbeddingCache

    data_dir = work / f"data-{n}"
    if (data_dir / "index" / "state.json").exists():
        return data_dir
    records = work / f"synthetic-{n}.jsonl"
    with records.open("w", encoding="utf-8") as fh:
        for rec in synthetic.records(n):
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
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


def main() -> None:
    """Run the benchmark and print Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, action="append", default=[])
    parser.add_argument("--synthetic", type=int, default=0)
    parser.add_argument("--work", type=Path, default=Path("/tmp/wijken-bench"))
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2, help="OpenMP threads (one process "
                        "loads its engines once, so run once per setting)")
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    dirs = list(args.data_dir)
    if args.synthetic:
        args.work.mkdir(parents=True, exist_ok=True)
        dirs.append(build_synthetic(args.synthetic, args.work))
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
        index = d / "index"
        sizes = {p.name: p.stat().st_size for p in [index / "vectors" / "index.faiss",
                                                     index / "bm25.json.gz"] if p.exists()}
        print(f"\nindex files for {one['items']} items: "
              + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sizes.items()))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {rss:.0f} MB")


if __name__ == "__main__":
    main()
