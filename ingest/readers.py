"""Readers that turn a delivered file into raw records, one reader per format.

Every reader returns the raw records it could read and the problems it met, each with its file
and line (the row for CSV/XLSX), so one run reports all problems at once.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from ingest.records import RawRecord
from kg.errors import Problem

Reader = Callable[[Path, str], tuple[list[RawRecord], list[Problem]]]
RDF_SUFFIXES = {".ttl": "turtle", ".jsonld": "json-ld", ".json-ld": "json-ld", ".nt": "nt"}
FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?$\n?", re.DOTALL | re.MULTILINE)


def _decode(path: Path, label: str) -> tuple[str | None, list[Problem]]:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, [Problem(label, line, None, f"not valid UTF-8 (byte {exc.start}): save the "
                                                 "file as UTF-8")]


def read_jsonl(path: Path, label: str) -> tuple[list[RawRecord], list[Problem]]:
    """JSON Lines: one JSON object per line; blank lines are skipped."""
    text, problems = _decode(path, label)
    if text is None:
        return [], problems
    records: list[RawRecord] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem(label, number, None, f"malformed JSON: {exc.msg} "
                                                         f"(column {exc.colno})"))
            continue
        if not isinstance(data, dict):
            problems.append(Problem(label, number, None, "a line must hold one JSON object"))
            continue
        records.append(RawRecord(label, number, data))
    return records, problems


def _normalise_header(header: list[Any]) -> list[str]:
    return [str(h).strip().lower() if h is not None else "" for h in header]


def _rows_to_records(
    label: str, header: list[str], rows: list[tuple[int, list[Any]]]
) -> tuple[list[RawRecord], list[Problem]]:
    problems: list[Problem] = []
    if "id" not in header:
        return [], [Problem(label, 1, None, f"no 'id' column in the header ({', '.join(header)})")]
    dupes = {h for h in header if h and header.count(h) > 1}
    if dupes:
        problems.append(Problem(label, 1, None, f"duplicate columns: {', '.join(sorted(dupes))}"))
    records = []
    for number, row in rows:
        if all(v is None or str(v).strip() == "" for v in row):
            continue
        if len(row) > len(header) and any(str(v).strip() for v in row[len(header):] if v):
            problems.append(Problem(label, number, None, f"{len(row)} cells but the header has "
                                                         f"{len(header)} columns"))
            continue
        # A value under a column without a name would be dropped without a word (an XLSX
        # header is padded to the widest row, so extra cells land here rather than above).
        unnamed = [i + 1 for i, (h, v) in enumerate(zip(header, row, strict=False))
                   if not h and v is not None and str(v).strip()]
        if unnamed:
            problems.append(Problem(label, number, None, f"a value in column {unnamed[0]}, "
                                                         "which has no name in the header row"))
            continue
        data = {h: v for h, v in zip(header, row, strict=False) if h}
        records.append(RawRecord(label, number, data))
    return records, problems


def read_csv(path: Path, label: str) -> tuple[list[RawRecord], list[Problem]]:
    """CSV in UTF-8 with a header row; the delimiter (`,` or `;`) is taken from the header."""
    text, problems = _decode(path, label)
    if text is None:
        return [], problems
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, list[Any]]] = []
    header: list[str] | None = None
    start = 1
    try:
        for row in reader:
            if header is None:
                header = _normalise_header(row)
            else:
                rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        return [], [*problems, Problem(label, start, None, f"malformed CSV: {exc}")]
    if header is None:
        return [], [*problems, Problem(label, None, None, "the file is empty")]
    records, more = _rows_to_records(label, header, rows)
    return records, problems + more


def read_xlsx(path: Path, label: str) -> tuple[list[RawRecord], list[Problem]]:
    """Excel workbook: every sheet whose first row has an `id` column; rows are records."""
    import openpyxl  # slow import, only when a workbook is read

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        return [], [Problem(label, None, None, f"not a readable .xlsx workbook: {exc}")]
    records: list[RawRecord] = []
    problems: list[Problem] = []
    try:
        sheets = workbook.worksheets
        for sheet in sheets:
            rows_iter = sheet.iter_rows(values_only=True)
            first = next(rows_iter, None)
            if first is None:
                continue
            header = _normalise_header(list(first))
            if "id" not in header:
                continue
            sheet_label = label if len(sheets) == 1 else f"{label}[{sheet.title}]"
            rows = [(n, list(r)) for n, r in enumerate(rows_iter, start=2)]
            got, more = _rows_to_records(sheet_label, header, rows)
            records += got
            problems += more
    finally:
        workbook.close()
    if not records and not problems:
        problems.append(Problem(label, None, None, "no sheet with an 'id' column"))
    return records, problems


def has_front_matter(path: Path) -> bool:
    """Whether a Markdown file starts with YAML front matter (`---`)."""
    with path.open("rb") as fh:
        return fh.read(3) == b"---"


def read_markdown(path: Path, label: str) -> tuple[list[RawRecord], list[Problem]]:
    """Markdown with YAML front matter: the front matter holds the fields, the body is `text`."""
    text, problems = _decode(path, label)
    if text is None:
        return [], problems
    match = FRONT_MATTER.match(text)
    if not match:
        return [], [Problem(label, 1, None, "no YAML front matter (a block between '---' lines)")]
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        return [], [Problem(label, line, None, f"malformed YAML front matter: {exc}")]
    if not isinstance(data, dict):
        return [], [Problem(label, 1, None, "the front matter must be a mapping of fields")]
    field_lines = {}
    for number, line in enumerate(match.group(1).splitlines(), start=2):
        key = re.match(r"^([A-Za-z_][\w-]*)\s*:", line)
        if key:
            field_lines[key.group(1).lower()] = number
    data = {str(k).lower(): v for k, v in data.items()}
    body = text[match.end():].strip()
    if body and "text" not in data:
        data["text"] = body
    return [RawRecord(label, 1, data, field_lines)], problems


READERS: dict[str, Reader] = {
    ".jsonl": read_jsonl,
    ".ndjson": read_jsonl,
    ".csv": read_csv,
    ".xlsx": read_xlsx,
    ".md": read_markdown,
    ".markdown": read_markdown,
}
SUPPORTED_SUFFIXES = tuple(sorted([*READERS, *RDF_SUFFIXES]))
