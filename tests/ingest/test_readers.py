"""Readers per format: records with their lines, and every problem with its file and row."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl

from ingest.readers import (
    has_front_matter,
    read_csv,
    read_jsonl,
    read_markdown,
    read_xlsx,
)


def write(path: Path, text: str, *, encoding: str = "utf-8", newline: str = "\n") -> Path:
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


# -- JSON Lines ----------------------------------------------------------------------------

def test_jsonl_records_carry_their_line(tmp_path: Path) -> None:
    p = write(tmp_path / "r.jsonl", "\n".join([
        json.dumps({"id": "a", "type": "actor", "title": "A"}),
        "",
        json.dumps({"id": "b", "type": "actor", "title": "B", "alt_labels": ["BB"]}),
    ]) + "\n")
    records, problems = read_jsonl(p, "r.jsonl")
    assert problems == []
    assert [(r.line, r.data["id"]) for r in records] == [(1, "a"), (3, "b")]
    assert records[1].data["alt_labels"] == ["BB"]
    assert all(r.file == "r.jsonl" for r in records)


def test_jsonl_malformed_and_non_object_lines_are_named(tmp_path: Path) -> None:
    p = write(tmp_path / "r.jsonl", '{"id": "a", "type": "actor", "title": "A"}\n'
                                    '{"id": "b", "type": \n'
                                    '["not", "an", "object"]\n'
                                    '{"id": "c", "type": "actor", "title": "C"}\n')
    records, problems = read_jsonl(p, "r.jsonl")
    assert [r.data["id"] for r in records] == ["a", "c"]
    assert [(p.line, p.field) for p in problems] == [(2, None), (3, None)]
    assert problems[0].message.startswith("malformed JSON")
    assert "column" in problems[0].message
    assert problems[1].message == "a line must hold one JSON object"


def test_jsonl_with_bom_and_crlf(tmp_path: Path) -> None:
    p = write(tmp_path / "r.jsonl", '{"id": "a", "type": "actor", "title": "Één"}\n'
                                    '{"id": "b", "type": "actor", "title": "B"}\n',
              encoding="utf-8-sig", newline="\r\n")
    records, problems = read_jsonl(p, "r.jsonl")
    assert problems == []
    assert [r.data["title"] for r in records] == ["Één", "B"]


def test_non_utf8_file_names_the_line(tmp_path: Path) -> None:
    p = write(tmp_path / "r.jsonl", '{"id": "a", "type": "actor", "title": "A"}\n'
                                    '{"id": "b", "type": "actor", "title": "Caf\u00e9"}\n',
              encoding="latin-1")
    records, problems = read_jsonl(p, "r.jsonl")
    assert records == []
    assert len(problems) == 1
    assert problems[0].line == 2
    assert "UTF-8" in problems[0].message


# -- CSV -----------------------------------------------------------------------------------

def test_csv_with_commas_and_quoted_cells(tmp_path: Path) -> None:
    p = write(tmp_path / "d.csv", 'id,type,title,themes\n'
                                  'd-1,threshold,"Kosten, te hoog",renovatie|financiering\n'
                                  'd-2,threshold,Tweede,\n')
    records, problems = read_csv(p, "d.csv")
    assert problems == []
    assert [(r.line, r.data["id"], r.data["title"]) for r in records] == [
        (2, "d-1", "Kosten, te hoog"), (3, "d-2", "Tweede")]
    assert records[0].data["themes"] == "renovatie|financiering"


def test_csv_semicolon_with_bom_and_crlf(tmp_path: Path) -> None:
    """The Excel "CSV UTF-8" export: BOM, `;`, CRLF, upper-case headers."""
    p = write(tmp_path / "a.csv", 'ID;Type;Title;alt_labels\n'
                                  'veka;actor;Vlaams Energie- en Klimaatagentschap;VEKA|EKA\n'
                                  'abb;actor;Agentschap, Binnenlands Bestuur;ABB\n',
              encoding="utf-8-sig", newline="\r\n")
    records, problems = read_csv(p, "a.csv")
    assert problems == []
    assert list(records[0].data) == ["id", "type", "title", "alt_labels"]
    assert records[0].data["id"] == "veka"  # no BOM glued to the first header
    assert records[0].data["alt_labels"] == "VEKA|EKA"  # no trailing \r
    assert records[1].data["title"] == "Agentschap, Binnenlands Bestuur"
    assert [r.line for r in records] == [2, 3]


def test_csv_row_numbers_follow_multiline_cells(tmp_path: Path) -> None:
    p = write(tmp_path / "d.csv", 'id,type,title,text\n'
                                  'd-1,threshold,Een,"regel 1\nregel 2\nregel 3"\n'
                                  'd-2,threshold,Twee,kort\n'
                                  '\n'
                                  'd-3,threshold,Drie,kort\n')
    records, problems = read_csv(p, "d.csv")
    assert problems == []
    assert [(r.line, r.data["id"]) for r in records] == [(2, "d-1"), (5, "d-2"), (7, "d-3")]
    assert records[0].data["text"] == "regel 1\nregel 2\nregel 3"


def test_csv_row_with_too_many_cells_is_named(tmp_path: Path) -> None:
    p = write(tmp_path / "d.csv", 'id,type,title\n'
                                  'd-1,threshold,Een\n'
                                  'd-2,threshold,Twee,extra\n'
                                  'd-3,threshold,Drie,,\n')
    records, problems = read_csv(p, "d.csv")
    assert [r.data["id"] for r in records] == ["d-1", "d-3"]
    assert [(p.line, p.message) for p in problems] == [
        (3, "4 cells but the header has 3 columns")]


def test_csv_value_under_a_nameless_column_is_named(tmp_path: Path) -> None:
    p = write(tmp_path / "d.csv", "id,,title,type\nd-1,,Een,threshold\nd-2,x,Twee,threshold\n")
    records, problems = read_csv(p, "d.csv")
    assert [r.data for r in records] == [{"id": "d-1", "title": "Een", "type": "threshold"}]
    assert [(p.line, p.message) for p in problems] == [
        (3, "a value in column 2, which has no name in the header row")]


def test_csv_without_id_column_or_empty(tmp_path: Path) -> None:
    records, problems = read_csv(write(tmp_path / "x.csv", "naam,type\nA,actor\n"), "x.csv")
    assert records == []
    assert [(p.line, p.message) for p in problems] == [
        (1, "no 'id' column in the header (naam, type)")]
    records, problems = read_csv(write(tmp_path / "e.csv", ""), "e.csv")
    assert records == [] and [p.message for p in problems] == ["the file is empty"]


def test_csv_duplicate_columns_are_a_problem(tmp_path: Path) -> None:
    _, problems = read_csv(write(tmp_path / "d.csv", "id,title,Title,type\na,A,B,actor\n"),
                           "d.csv")
    assert [(p.line, p.message) for p in problems] == [(1, "duplicate columns: title")]


def test_malformed_csv_names_the_row(tmp_path: Path) -> None:
    p = write(tmp_path / "d.csv", 'id,type,title\n'
                                  'd-1,threshold,Een\n'
                                  'd-2,threshold,"Twee"x\n')
    records, problems = read_csv(p, "d.csv")
    assert records == []
    assert len(problems) == 1
    assert problems[0].line == 3
    assert problems[0].message.startswith("malformed CSV")


# -- XLSX ----------------------------------------------------------------------------------

def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def test_xlsx_rows_are_records_with_their_row_number(tmp_path: Path) -> None:
    p = _workbook(tmp_path / "m.xlsx", {"maatregelen": [
        ["id", "Type", "title", "thresholds", "date"],
        ["m-1", "measure", "Een maatregel", "d-1|d-2", dt.datetime(2024, 5, 1)],
        [None, None, None, None, None],
        ["m-2", "measure", "Tweede", None, "2024-06-01"],
    ]})
    records, problems = read_xlsx(p, "m.xlsx")
    assert problems == []
    assert [(r.line, r.data["id"]) for r in records] == [(2, "m-1"), (4, "m-2")]
    assert records[0].data["thresholds"] == "d-1|d-2"
    assert records[0].data["type"] == "measure"
    assert records[0].file == "m.xlsx"


def test_xlsx_sheets_without_id_are_skipped_and_labels_name_the_sheet(tmp_path: Path) -> None:
    p = _workbook(tmp_path / "m.xlsx", {
        "uitleg": [["Dit blad is uitleg"], ["geen records"]],
        "maatregelen": [["id", "type", "title"], ["m-1", "measure", "Een"],
                        ["m-2", "measure", "Twee", "te veel"]],
    })
    records, problems = read_xlsx(p, "m.xlsx")
    assert [r.file for r in records] == ["m.xlsx[maatregelen]"]
    # the extra cell is reported, not silently dropped (openpyxl pads the header row)
    assert [(p.file, p.line, p.message) for p in problems] == [
        ("m.xlsx[maatregelen]", 3, "a value in column 4, which has no name in the header row")]


def test_xlsx_without_records_or_broken(tmp_path: Path) -> None:
    p = _workbook(tmp_path / "m.xlsx", {"blad": [["naam"], ["x"]]})
    records, problems = read_xlsx(p, "m.xlsx")
    assert records == [] and [p.message for p in problems] == ["no sheet with an 'id' column"]
    broken = write(tmp_path / "b.xlsx", "dit is geen werkboek")
    records, problems = read_xlsx(broken, "b.xlsx")
    assert records == []
    assert problems[0].message.startswith("not a readable .xlsx workbook")


# -- Markdown ------------------------------------------------------------------------------

def test_markdown_front_matter_and_body(tmp_path: Path) -> None:
    p = write(tmp_path / "w.md", "---\n"
                                 "id: wijk-1\n"
                                 "type: neighbourhood\n"
                                 'Title: "Wijk één"\n'
                                 "themes:\n"
                                 "  - warmte\n"
                                 "date: 2024-03-01\n"
                                 "---\n"
                                 "\n"
                                 "# Wijk één\n\nDe tekst.\n")
    records, problems = read_markdown(p, "w.md")
    assert problems == []
    (rec,) = records
    assert rec.line == 1
    assert rec.data["title"] == "Wijk één"
    assert rec.data["themes"] == ["warmte"]
    assert rec.data["date"] == dt.date(2024, 3, 1)
    assert rec.data["text"] == "# Wijk één\n\nDe tekst."
    assert rec.field_lines == {"id": 2, "type": 3, "title": 4, "themes": 5, "date": 7}


def test_markdown_with_crlf_and_bom(tmp_path: Path) -> None:
    p = write(tmp_path / "w.md", "---\nid: a\ntype: actor\ntitle: A\n---\nTekst\n",
              encoding="utf-8-sig", newline="\r\n")
    records, problems = read_markdown(p, "w.md")
    assert problems == []
    assert records[0].data["id"] == "a"
    assert records[0].data["text"] == "Tekst"


def test_markdown_text_field_wins_over_body(tmp_path: Path) -> None:
    p = write(tmp_path / "w.md", "---\nid: a\ntype: actor\ntitle: A\ntext: kort\n---\nLang\n")
    records, _ = read_markdown(p, "w.md")
    assert records[0].data["text"] == "kort"


def test_markdown_problems(tmp_path: Path) -> None:
    _, problems = read_markdown(write(tmp_path / "a.md", "# Geen front matter\n"), "a.md")
    assert [(p.line, p.message) for p in problems] == [
        (1, "no YAML front matter (a block between '---' lines)")]
    _, problems = read_markdown(
        write(tmp_path / "b.md", "---\nid: a\ntype: actor\ntitle: [kapot\n---\n"), "b.md")
    assert len(problems) == 1
    assert problems[0].message.startswith("malformed YAML front matter")
    assert problems[0].line is not None and problems[0].line >= 4
    _, problems = read_markdown(write(tmp_path / "c.md", "---\n- een\n- lijst\n---\n"), "c.md")
    assert [p.message for p in problems] == ["the front matter must be a mapping of fields"]


def test_has_front_matter(tmp_path: Path) -> None:
    assert has_front_matter(write(tmp_path / "a.md", "---\nid: a\n---\n"))
    assert not has_front_matter(write(tmp_path / "README.md", "# Lees mij\n---\n"))
