"""Readers that turn a delivered file into raw records, one reader per format.

Every reader returns the raw records it could read and the problems it met, each with its file
and line (the row for CSV/XLSX), so one run reports all problems at once.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from ingest.limits import MAX_NESTING, json_too_deep, nesting_message, yaml_too_deep
from ingest.records import RawRecord
from kg.errors import Problem

Reader = Callable[[Path, str], tuple[list[RawRecord], list[Problem]]]
RDF_SUFFIXES = {".ttl": "turtle", ".jsonld": "json-ld", ".json-ld": "json-ld", ".nt": "nt"}
MAX_XLSX_CELLS = 10_000_000
"""The most cells (empty rows count one) a workbook may have: a zip of repetitive XML is tiny."""
FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?$\n?", re.DOTALL | re.MULTILINE)


def decode_utf8(path: Path, label: str) -> tuple[str | None, list[Problem]]:
    """The text of a UTF-8 file (a BOM is dropped), or the problem naming the first bad line."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, [Problem(label, None, None, f"cannot read the file: {exc.strerror}")]
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, [Problem(label, line, None, f"not valid UTF-8 (byte {exc.start}): save the "
                                                 "file as UTF-8")]


_LINE_END = re.compile(r"\r\n|\r|\n")


def json_lines(text: str) -> list[tuple[int, str]]:
    """The numbered lines of a JSON Lines text, split at LF, CRLF or CR.

    Not `str.splitlines()`: that also splits at U+2028, U+0085 and other characters a JSON
    string may hold as they are, which would cut a valid record in two.
    """
    return list(enumerate(_LINE_END.split(text), start=1))


def parse_json_line(line: str, limit: int = MAX_NESTING) -> tuple[Any, str | None]:
    """One JSON value, or the reason it cannot be read (bounded nesting, no exception)."""
    if json_too_deep(line, limit) is not None:
        return None, nesting_message(limit)
    try:
        return json.loads(line), None
    except json.JSONDecodeError as exc:
        return None, f"malformed JSON: {exc.msg} (column {exc.colno})"
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        return None, f"malformed JSON: {exc}"


def read_jsonl(path: Path, label: str) -> tuple[list[RawRecord], list[Problem]]:
    """JSON Lines: one JSON object per line; blank lines are skipped."""
    text, problems = decode_utf8(path, label)
    if text is None:
        return [], problems
    records: list[RawRecord] = []
    for number, line in json_lines(text):
        if not line.strip():
            continue
        data, error = parse_json_line(line)
        if error is not None:
            problems.append(Problem(label, number, None, error))
            continue
        if not isinstance(data, dict):
            problems.append(Problem(label, number, None, "a line must hold one JSON object"))
            continue
        records.append(RawRecord(label, number, data))
    return records, problems


def _normalise_header(header: list[Any]) -> list[str]:
    return [str(h).strip().lower() if h is not None else "" for h in header]


def _rows_to_records(
    label: str, header: list[str], rows: list[tuple[int, list[Any]]], key: str = "id"
) -> tuple[list[RawRecord], list[Problem]]:
    problems: list[Problem] = []
    if key not in header:
        return [], [Problem(label, 1, None,
                            f"no {key!r} column in the header ({', '.join(header)})")]
    dupes = {h for h, n in Counter(header).items() if h and n > 1}  # linear: wide headers
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
    text, problems = decode_utf8(path, label)
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


_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
MAX_XLSX_BYTES = 512 * 1024 * 1024
"""The most a workbook may unpack to (a zip bomb of a few KiB unpacks to gigabytes)."""


def _unsafe_workbook(path: Path) -> str | None:
    """Why a workbook must not be handed to openpyxl, or None.

    A workbook is XML in a zip. A DTD in any part can only serve entity tricks (an external
    entity that reads a local file, or a billion-laughs expansion): the standard library parser
    openpyxl uses resolves neither, but openpyxl switches to lxml when that is installed, so
    every part is searched (comments or blanks can push a DTD far down the prolog). The zip
    directory's sizes bound what each part unpacks to, so their sum stops a zip bomb.
    """
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        if sum(info.file_size for info in infos) > MAX_XLSX_BYTES:
            return f"unpacks to more than {MAX_XLSX_BYTES // 2**20} MiB"
        for info in infos:
            with archive.open(info) as member:
                tail = b""
                while chunk := member.read(1 << 20):
                    if _DTD.search(tail + chunk):
                        return f"{info.filename} declares XML entities (a DTD), which is not " \
                               "allowed"
                    tail = chunk[-16:]
    return None


def read_xlsx(path: Path, label: str, *, key: str = "id"
              ) -> tuple[list[RawRecord], list[Problem]]:
    """Excel workbook: every sheet whose first row has a `key` column (`id`; a harvest
    session's contributions have `title`, they get their ids later); rows are records."""
    import openpyxl  # slow import, only when a workbook is read

    try:
        unsafe = _unsafe_workbook(path)
        if unsafe is not None:
            return [], [Problem(label, None, None, f"not a readable .xlsx workbook: {unsafe}")]
        # The file is ours to close: when openpyxl fails half-way it leaves its own handle to
        # the garbage collector, whose ResourceWarning would then surface at a random moment.
        with path.open("rb") as fh:
            workbook = openpyxl.load_workbook(fh, read_only=True, data_only=True,
                                              keep_links=False)  # links to other workbooks
            try:
                several = len(workbook.worksheets) > 1
                sheets = _workbook_sheets(workbook, label, key)
            finally:
                workbook.close()
    except Exception as exc:  # zipfile and openpyxl raise many types for a broken file
        return [], [Problem(label, None, None, f"not a readable .xlsx workbook: {exc}")]
    if isinstance(sheets, Problem):
        return [], [sheets]
    records: list[RawRecord] = []
    problems: list[Problem] = []
    for title, header, rows in sheets:
        sheet_label = f"{label}[{title}]" if several else label
        got, more = _rows_to_records(sheet_label, _normalise_header(header), rows, key)
        records += got
        problems += more
    if not records and not problems:
        problems.append(Problem(label, None, None, f"no sheet with an {key!r} column"))
    return records, problems


Sheet = tuple[str, list[Any], list[tuple[int, list[Any]]]]


def _workbook_sheets(workbook: Any, label: str, key: str = "id") -> list[Sheet] | Problem:
    """The title, header and rows of every sheet with a `key` column, or the problem that stops
    the workbook. Read-only mode parses a sheet only while it is iterated, so a broken sheet
    raises here, not in `load_workbook`."""
    sheets: list[Sheet] = []
    cells = 0
    for sheet in workbook.worksheets:
        # The size a sheet declares may lie: openpyxl would cut the rows below it, or pad
        # every row to it (A1:XFD1048576 is 17 billion cells from a few bytes).
        sheet.reset_dimensions()
        rows_iter = sheet.iter_rows(values_only=True)
        first = next(rows_iter, None)
        if first is None:
            continue
        header = list(first)
        if key not in _normalise_header(header):
            continue
        rows = []
        for n, r in enumerate(rows_iter, start=2):
            cells += len(r) + 1  # an empty row between two far apart costs too
            if cells > MAX_XLSX_CELLS:
                return Problem(label, n, None, f"more than {MAX_XLSX_CELLS:,} cells; split the "
                               "workbook")
            rows.append((n, list(r)))
        # Pad the header to the widest row, so a value right of it is named by column.
        width = max([len(header), *(len(r) for _, r in rows)])
        sheets.append((str(sheet.title), header + [None] * (width - len(header)), rows))
    return sheets


def has_front_matter(path: Path) -> bool:
    """Whether a Markdown file starts with YAML front matter (`---`)."""
    with path.open("rb") as fh:
        return fh.read(3) == b"---"


def read_markdown(path: Path, label: str) -> tuple[list[RawRecord], list[Problem]]:
    """Markdown with YAML front matter: the front matter holds the fields, the body is `text`."""
    text, problems = decode_utf8(path, label)
    if text is None:
        return [], problems
    match = FRONT_MATTER.match(text)
    if not match:
        return [], [Problem(label, 1, None, "no YAML front matter (a block between '---' lines)")]
    front = match.group(1)
    try:
        deep = yaml_too_deep(front)
        if deep is not None:
            return [], [Problem(label, deep + 1, None, nesting_message())]
        data = yaml.safe_load(front)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        return [], [Problem(label, line, None, f"malformed YAML front matter: {exc}")]
    except ValueError as exc:  # a scalar that looks like a date or int but is none
        return [], [Problem(label, 1, None, f"malformed YAML front matter: {exc}")]
    except RecursionError:  # not expected after the depth check; never a traceback
        return [], [Problem(label, 1, None, nesting_message())]
    if not isinstance(data, dict):
        return [], [Problem(label, 1, None, "the front matter must be a mapping of fields")]
    field_lines = {}
    for number, line in enumerate(front.split("\n"), start=2):
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
