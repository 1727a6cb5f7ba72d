"""The sample corpus's Dutch texts for model tests and the embedder benchmark (no side effects:
`scripts/bench_embedders.py` imports it too)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def sample_records() -> list[dict[str, str]]:
    """Title and text of every record in the sample corpus that has both (CSV and JSONL)."""
    rows: list[dict[str, str]] = []
    for name in ("drempels.csv", "doorbraken.csv", "lessen-a.csv", "actoren.csv"):
        with (SAMPLE / name).open(encoding="utf-8-sig", newline="") as fh:
            dialect = csv.Sniffer().sniff(fh.readline(), delimiters=",;")
            fh.seek(0)
            rows += csv.DictReader(fh, dialect=dialect)
    for name in ("lessen.jsonl", "werkboek.jsonl", "activiteiten.jsonl"):
        rows += [json.loads(line) for line in (SAMPLE / name).read_text("utf-8").splitlines()
                 if line.strip()]
    return [{"title": r["title"], "text": r["text"]}
            for r in rows if r.get("title") and r.get("text")]
