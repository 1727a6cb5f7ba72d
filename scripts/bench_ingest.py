"""Ingest benchmark: records/s for N synthetic records (no embeddings), per pipeline stage.

    python scripts/bench_ingest.py [N] [--work DIR]

Ingests N records from scripts/synthetic.py into a fresh data directory with the search index
sync switched off (the embedding cost is measured separately by scripts/bench_embed.py), then
re-ingests the unchanged file and a copy with 1 % of the records edited. Prints Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))


def main() -> None:
    """Run the benchmark."""
    import synthetic

    from api.knowledgebase import KnowledgeBase

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", type=int, nargs="?", default=10_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/wijken-bench-ingest"))
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    records = list(synthetic.records(args.n))
    path = args.work / "records.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    kb = KnowledgeBase(data_dir=args.work / "data")
    start = time.perf_counter()
    report = kb.ingest([path], sync_index=False)
    first = time.perf_counter() - start
    triples = len(kb.store)
    start = time.perf_counter()
    again = kb.ingest([path], sync_index=False)
    unchanged = time.perf_counter() - start
    for rec in records[-(args.n // 100):]:
        if rec["type"] in ("lesson", "measure", "breakthrough"):
            rec["title"] = str(rec["title"]) + " (herzien)"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    start = time.perf_counter()
    edited = kb.ingest([path], sync_index=False)
    changed = time.perf_counter() - start
    kb.close()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}\n")
    print("| run | records | seconds | records/s |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| first ingest | {args.n} | {first:.2f} | {args.n / first:.0f} |")
    print(f"| unchanged file again | {args.n} | {unchanged:.2f} | — |")
    print(f"| 1 % of records edited | {args.n} | {changed:.2f} | {args.n / changed:.0f} |")
    print(f"\nstore after the first ingest: {triples} triples; "
          f"unchanged run status: {again.files[0].status}; edited run updated "
          f"{len(edited.ids('updated'))} ids\n")
    print("| stage (first ingest) | seconds |")
    print("| --- | ---: |")
    for stage, seconds in report.timings.items():
        print(f"| {stage} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
