"""Hostile input is refused with a clean problem and leaves the store exactly as it was:
deep nesting, symbolic links, unreadable entries and characters XML forbids, in every format."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from api.knowledgebase import KnowledgeBase
from ingest.limits import MAX_NESTING
from ingest.pipeline import discover
from ingest.rdf_input import read_rdf
from ingest.readers import read_csv, read_jsonl, read_markdown, read_xlsx
from ingest.records import RawRecord, validate
from kg import catalogue
from kg.errors import IngestError, Problem
from ontology.namespaces import DEFAULT_BASE_IRI, WK

pytestmark = pytest.mark.filterwarnings(
    "ignore:ConjunctiveGraph is deprecated:DeprecationWarning")

BASE = DEFAULT_BASE_IRI
DEEP = 10_000
NESTING = f"nesting deeper than {MAX_NESTING} levels"
ACTOR = {"id": "een-actor", "type": "actor", "title": "Een actor"}
TTL_PREFIXES = f"""@prefix wk: <{WK}> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""


def snapshot(kb: KnowledgeBase) -> tuple[bytes, int, list[str]]:
    """Everything a write would change: the N-Quads dump, the generation, the source graphs."""
    return (kb.export("nq"), kb.store.generation,
            sorted(g.iri for g in catalogue.source_graphs(kb.store)))


def refused(kb: KnowledgeBase, *paths: Path, dry_run: bool = False) -> list[str]:
    """Ingest (or dry-run) paths that must be refused; the store must not change."""
    before = snapshot(kb)
    with pytest.raises(IngestError) as exc:
        kb.ingest(list(paths), dry_run=dry_run, sync_index=False)
    assert snapshot(kb) == before
    return [str(p) for p in exc.value.problems]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- deep nesting ------------------------------------------------------------------------------

def deep_files(folder: Path) -> dict[Path, int]:
    """One file per format nested DEEP levels, with the line where it gets too deep."""
    ok = json.dumps(ACTOR)
    files = {
        write(folder / "deep.jsonl", ok + "\n" + json.dumps({**ACTOR, "id": "b"})[:-1]
              + ', "x": ' + "[" * DEEP + "]" * DEEP + "}\n"): 2,
        write(folder / "deep-object.jsonl", '{"a": ' * DEEP + "1" + "}" * DEEP + "\n"): 1,
        write(folder / "deep.jsonld", '{"@context": {},\n "@graph": ' + "[" * DEEP
              + "]" * DEEP + "}"): 2,
        write(folder / "deep-flow.md", "---\nid: x\ntitle: " + "[" * DEEP + "]" * DEEP
              + "\n---\ntekst\n"): 3,
        write(folder / "deep-block.md", "---\nid: x\ntitle:\n" + "".join(
            " " * i + "- \n" for i in range(1, 2000)) + "---\n"): 4 + MAX_NESTING - 1,
        write(folder / "deep.ttl", TTL_PREFIXES + "<https://example.org/s> <https://example.org/p>"
              + " [ <https://example.org/p>" * DEEP + " ]" * DEEP + " .\n"): 4,
        write(folder / "deep-list.ttl", TTL_PREFIXES + "<https://example.org/s> "
              "<https://example.org/p> " + "(" * DEEP + ")" * DEEP + " .\n"): 4,
    }
    return files


@pytest.mark.parametrize("dry_run", [False, True], ids=["ingest", "dry-run"])
def test_deep_nesting_is_a_clean_problem_in_every_format(kb: KnowledgeBase, tmp_path: Path,
                                                          dry_run: bool) -> None:
    files = deep_files(tmp_path)
    problems = refused(kb, *files, dry_run=dry_run)
    for f, line in files.items():
        assert f"{f.resolve()}:{line}: {NESTING}" in problems, (f, problems)
    assert len(problems) == len(files)


def test_deep_block_yaml_is_caught_even_without_the_scan(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The composer's own RecursionError is a problem too, should the scan miss a case."""
    import ingest.readers

    monkeypatch.setattr(ingest.readers, "yaml_too_deep", lambda text: None)
    f = write(tmp_path / "deep.md", "---\nid: x\ntitle:\n" + "".join(
        " " * i + "- \n" for i in range(1, 3000)) + "---\n")
    records, problems = read_markdown(f, "deep.md")
    assert records == []
    assert [str(p) for p in problems] == [f"deep.md:1: {NESTING}"]


def test_nesting_up_to_the_limit_is_read(tmp_path: Path) -> None:
    inner = "[" * (MAX_NESTING - 2) + '"a"' + "]" * (MAX_NESTING - 2)
    f = write(tmp_path / "r.jsonl", json.dumps(ACTOR)[:-1] + f', "alt_labels": [{inner}]}}\n')
    records, problems = read_jsonl(f, "r.jsonl")
    assert problems == [] and len(records) == 1
    _, problems = validate(records[0])
    assert [p.field for p in problems] == ["alt_labels"]  # a list of strings, not a nest


# -- symbolic links and other entries -------------------------------------------------------

def test_a_link_is_read_by_its_own_name(kb: KnowledgeBase, tmp_path: Path) -> None:
    blob = tmp_path / "elders" / "blob"
    blob.parent.mkdir()
    blob.write_text(json.dumps(ACTOR) + "\n", encoding="utf-8")
    link = tmp_path / "invoer" / "x.jsonl"
    link.parent.mkdir()
    link.symlink_to(blob)
    report = kb.ingest([link], sync_index=False)
    (fr,) = report.files
    assert (fr.path, fr.status, fr.records) == (str(link), "new", 1)
    assert kb.item("een-actor").title == "Een actor"
    assert kb.ingest([link.parent], sync_index=False).files[0].status == "unchanged"


def test_a_link_with_an_unknown_suffix_is_named(kb: KnowledgeBase, tmp_path: Path) -> None:
    target = write(tmp_path / "echt.jsonl", json.dumps(ACTOR) + "\n")
    link = tmp_path / "x.weird"
    link.symlink_to(target)
    no_suffix = tmp_path / "zonder"
    no_suffix.symlink_to(target)
    problems = refused(kb, link, no_suffix)
    assert all("unsupported file type; use one of" in p for p in problems)
    assert [p.split(":")[0] for p in problems] == [str(link), str(no_suffix)]


def test_dangling_links_and_special_files_are_named(kb: KnowledgeBase, tmp_path: Path) -> None:
    folder = tmp_path / "invoer"
    folder.mkdir()
    (folder / "weg.jsonl").symlink_to(tmp_path / "bestaat-niet")
    fifo = folder / "pijp.jsonl"
    os.mkfifo(fifo)
    (folder / "negeer-mij").symlink_to(tmp_path / "bestaat-ook-niet")  # no supported suffix
    problems = refused(kb, folder, tmp_path / "los.jsonl", fifo)
    assert problems == sorted([
        f"{tmp_path / 'los.jsonl'}: no such file or directory",
        f"{folder / 'pijp.jsonl'}: not a regular file",  # found in the walk and named: once
        f"{folder / 'weg.jsonl'}: a symbolic link to a file that does not exist",
    ])


def test_directory_links_are_not_followed(tmp_path: Path) -> None:
    """No loop on a link cycle, and no leaving the tree through a link to a directory."""
    root = tmp_path / "data"
    (root / "sub").mkdir(parents=True)
    write(root / "sub" / "a.jsonl", json.dumps(ACTOR) + "\n")
    (root / "sub" / "lus").symlink_to(root, target_is_directory=True)
    (root / "zelf").symlink_to(root / "sub", target_is_directory=True)
    outside = tmp_path / "buiten"
    outside.mkdir()
    write(outside / "b.jsonl", json.dumps(ACTOR) + "\n")
    (root / "buiten").symlink_to(outside, target_is_directory=True)
    files, problems = discover([root])
    assert (files, problems) == ([root / "sub" / "a.jsonl"], [])
    # a directory link given by name is walked: the user named it
    files, _ = discover([root / "buiten"])
    assert files == [outside / "b.jsonl"]


def test_one_file_reached_by_two_names_is_read_once(tmp_path: Path) -> None:
    f = write(tmp_path / "a.jsonl", json.dumps(ACTOR) + "\n")
    (tmp_path / "b.jsonl").symlink_to(f)
    files, problems = discover([tmp_path, f])
    assert (files, problems) == ([f], [])


def test_an_unreadable_file_is_named(kb: KnowledgeBase, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    f = write(tmp_path / "geheim.jsonl", json.dumps(ACTOR) + "\n")
    f.chmod(0)
    try:
        problems = refused(kb, f)
    finally:
        f.chmod(0o644)
    assert problems == [f"{f}: cannot read the file: Permission denied"]


# -- characters XML forbids ----------------------------------------------------------------

BAD_CHARS = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\ufffe", "\uffff"]


def char_files(folder: Path, char: str) -> dict[Path, str]:
    """One file per format with `char` in a field value; the problem expected for each."""
    code = f"U+{ord(char):04X} is not allowed"
    esc = json.dumps(char)[1:-1]  # JSON/Turtle escape of the character
    wb = openpyxl.Workbook()
    wb.active.append(["id", "type", "title"])
    wb.active.append(["x-actor", "actor", "Gewoon"])
    wb.save(folder / "c.xlsx")
    files = {
        write(folder / "c.jsonl", json.dumps({**ACTOR, "title": f"A{char}B"}) + "\n"):
            f"c.jsonl:1: title: {'control ' if ord(char) < 32 else ''}character {code}",
        write(folder / "c-key.jsonl", json.dumps({**ACTOR, f"ti{char}tle": "x"}) + "\n"):
            f"c-key.jsonl:1: ti\\u{ord(char):04x}tle: ",
        write(folder / "c-id.jsonl", json.dumps({**ACTOR, "id": f"a{char}"}) + "\n"):
            f"c-id.jsonl:1: id: {'control ' if ord(char) < 32 else ''}character {code}",
        write(folder / "c-list.jsonl", json.dumps({**ACTOR, "alt_labels": ["a", f"b{char}"]})
              + "\n"): "c-list.jsonl:1: alt_labels: ",
        write(folder / "c.md", f'---\nid: md-actor\ntype: actor\ntitle: "A{esc}"\n---\n'):
            "c.md:4: title: ",
        write(folder / "c-body.md", f"---\nid: md-body\ntype: actor\ntitle: A\n---\nT{char}U\n"):
            "c-body.md:1: text: ",
        write(folder / "c.ttl", TTL_PREFIXES + f'<{BASE}actor/ttl-actor> a wk:Actor ; '
              f'dct:identifier "ttl-actor" ; rdfs:label "A{esc}" .\n'):
            f"c.ttl <{BASE}actor/ttl-actor>: title: ",
        write(folder / "c-extra.ttl", TTL_PREFIXES + f'<{BASE}actor/ttl-extra> a wk:Actor ; '
              f'dct:identifier "ttl-extra" ; rdfs:label "A" ; rdfs:comment "B{esc}" .\n'):
            "c-extra.ttl: ",
        write(folder / "c.jsonld", json.dumps({
            "@context": {"wk": str(WK), "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
                         "dct": "http://purl.org/dc/terms/"},
            "@id": f"{BASE}actor/ld-actor", "@type": "wk:Actor", "dct:identifier": "ld-actor",
            "rdfs:label": f"A{char}"})): f"c.jsonld <{BASE}actor/ld-actor>: title: ",
    }
    if char != "\x00":  # the csv module refuses NUL itself; any other control reaches us
        files[write(folder / "c.csv", f"id,type,title\nc-actor,actor,A{char}\n")] = \
            "c.csv:2: title: "
    return files


@pytest.mark.parametrize("char", BAD_CHARS, ids=lambda c: f"U+{ord(c):04X}")
def test_forbidden_characters_are_refused_in_every_format(kb: KnowledgeBase, tmp_path: Path,
                                                          char: str) -> None:
    files = char_files(tmp_path, char)
    problems = refused(kb, *files)
    for f, expected in files.items():
        line = expected.replace(f.name, str(f.resolve()), 1)
        matching = [p for p in problems if p.startswith(line)]
        assert matching, (expected, problems)
        assert all(f"U+{ord(char):04X} is not allowed" in p for p in matching), matching
    assert all(xml_safe(p) for p in problems)


def xml_safe(text: str) -> bool:
    from kg.xmlchars import xml_forbidden_char

    return xml_forbidden_char(text) is None


def test_lone_surrogates_are_refused(tmp_path: Path) -> None:
    f = write(tmp_path / "s.jsonl", '{"id": "a", "type": "actor", "title": "x\\ud800y"}\n'
              '{"id": "b", "type": "actor", "title": "x", "\\udfff": 1}\n')
    records, problems = read_jsonl(f, "s.jsonl")
    assert problems == []
    got = [str(p) for r in records for p in validate(r)[1]]
    assert got == ["s.jsonl:1: title: character U+D800 is not allowed",
                   "s.jsonl:2: \\udfff: character U+DFFF is not allowed in a field name"]


def test_a_csv_nul_and_header_controls_are_problems(tmp_path: Path) -> None:
    f = write(tmp_path / "n.csv", "id,type,title,ti\x01tel\na,actor,A\x00B,x\n")
    records, problems = read_csv(f, "n.csv")
    got = [str(p) for r in records for p in validate(r)[1]] + [str(p) for p in problems]
    assert "n.csv:2: title: control character U+0000 is not allowed" in got
    assert "n.csv:2: ti\\u0001tel: control character U+0001 is not allowed in a field name" in got


def test_yaml_binary_values_are_checked_after_decoding(tmp_path: Path) -> None:
    f = write(tmp_path / "b.md", "---\nid: b\ntype: actor\ntitle: !!binary QQBC\n---\n")
    (record,), problems = read_markdown(f, "b.md")
    assert problems == []
    assert [str(p) for p in validate(record)[1]] == [
        "b.md:4: title: control character U+0000 is not allowed"]


def test_a_workbook_cannot_carry_control_characters(tmp_path: Path) -> None:
    """XML 1.0 has no way to write them (not even `&#1;`): such a sheet is not readable."""
    buffer = io.BytesIO()
    wb = openpyxl.Workbook()
    wb.active.append(["id", "type", "title"])
    wb.active.append(["a", "actor", "PLACEHOLDER"])
    wb.save(buffer)
    f = tmp_path / "x.xlsx"
    rewrite_part(buffer.getvalue(), f, "xl/worksheets/sheet1.xml",
                 lambda xml: xml.replace(b"PLACEHOLDER", b"A&#1;B"))
    records, problems = read_xlsx(f, "x.xlsx")
    assert records == []
    assert [p.message.split(":")[0] for p in problems] == ["not a readable .xlsx workbook"]


def rewrite_part(workbook: bytes, target: Path, part: str, change: Callable[[bytes], bytes]
                 ) -> None:
    with zipfile.ZipFile(io.BytesIO(workbook)) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, change(data) if info.filename == part else data)


@pytest.mark.parametrize("padding", [b"", b"<!-- x -->" + b" " * 3_000_000], ids=["", "far"])
@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/workbook.xml",
                                  "[Content_Types].xml"])
def test_workbook_entities_are_never_resolved(tmp_path: Path, part: str, padding: bytes) -> None:
    """XXE: an external entity that reads a local file, or a billion-laughs expansion."""
    secret = write(tmp_path / "geheim.txt", "GEHEIM")
    buffer = io.BytesIO()
    wb = openpyxl.Workbook()
    wb.active.append(["id", "type", "title"])
    wb.active.append(["a", "actor", "PLACEHOLDER"])
    wb.save(buffer)
    f = tmp_path / "x.xlsx"
    dtd = (f'<!DOCTYPE x [<!ENTITY e SYSTEM "{secret.as_uri()}"><!ENTITY a "aaaaaaaaaa">'
           '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>').encode()

    def inject(xml: bytes) -> bytes:
        head, sep, rest = xml.partition(b"?>")
        xml = head + sep + padding + dtd + rest if sep else padding + dtd + xml
        return xml.replace(b"PLACEHOLDER", b"&e;&b;")

    rewrite_part(buffer.getvalue(), f, part, inject)
    records, problems = read_xlsx(f, "x.xlsx")
    assert records == []
    assert [str(p) for p in problems] == [
        f"x.xlsx: not a readable .xlsx workbook: {part} declares XML entities (a DTD), which "
        "is not allowed"]


def test_broken_sheet_xml_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    wb = openpyxl.Workbook()
    wb.active.append(["id", "type", "title"])
    wb.save(buffer)
    f = tmp_path / "x.xlsx"
    rewrite_part(buffer.getvalue(), f, "xl/worksheets/sheet1.xml", lambda xml: xml[:-40])
    records, problems = read_xlsx(f, "x.xlsx")
    assert records == []
    assert problems[0].message.startswith("not a readable .xlsx workbook: ")


def test_problems_print_forbidden_characters_escaped() -> None:
    p = Problem("a\x1b[2Jb.jsonl", 1, "ti\x00tle", "'\x00' is not a valid id")
    assert str(p) == "a\\u001b[2Jb.jsonl:1: ti\\u0000tle: '\\u0000' is not a valid id"
    raw = RawRecord("x", 1, {"id": "a", "type": "actor", "title": "A", "text": "\x07"})
    assert [str(q) for q in validate(raw)[1]] == [
        "x:1: text: control character U+0007 is not allowed"]


def test_odd_rdf_terms_are_problems_and_rdflib_logs_nothing(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """rdflib would log 'does not look like a valid URI' with the IRI, escapes and all."""
    f = write(tmp_path / "x.ttl", TTL_PREFIXES + f'<{BASE}actor/a> a wk:Actor ; '
              'dct:identifier "a" ; rdfs:label "A" ; rdfs:seeAlso <https://x/\\u001b[2J y> .\n')
    g = write(tmp_path / "g.jsonld", json.dumps({
        "@context": {"wk": str(WK), "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
                     "dct": "http://purl.org/dc/terms/"},
        "@id": f"{BASE}actor/a", "@type": "wk:Actor", "dct:identifier": "a", "rdfs:label": "A",
        "rdfs:seeAlso": {"@id": "_:not valid"}}))
    with caplog.at_level(logging.DEBUG):
        _, _, problems = read_rdf(f, "x.ttl", "turtle", BASE)
        _, _, more = read_rdf(g, "g.jsonld", "json-ld", BASE)
    assert [r for r in caplog.records if r.name.startswith("rdflib")] == []
    assert [p.message.split(" (in")[0] for p in problems] == [
        "control character U+001B is not allowed"]
    assert [p.message.split(":")[0] for p in more] == ["not a valid RDF term"]


def test_file_names_that_are_not_utf8_or_hold_controls_are_named(kb: KnowledgeBase,
                                                                 tmp_path: Path) -> None:
    folder = tmp_path / "invoer"
    folder.mkdir()
    for name in (b"x\xff.jsonl", b"esc\x1b[2J.jsonl"):
        (Path(os.fsdecode(bytes(folder))) / os.fsdecode(name)).write_text(
            json.dumps(ACTOR) + "\n", encoding="utf-8")
    problems = refused(kb, folder)
    assert sorted(problems) == sorted([
        f"{folder}/esc\\u001b[2J.jsonl: control character U+001B is not allowed in the file's "
        "path (not UTF-8, or a control character); rename it",
        f"{folder}/x\\udcff.jsonl: character U+DCFF is not allowed in the file's path (not "
        "UTF-8, or a control character); rename it",
    ])


def test_json_lines_split_at_cr_lf_and_crlf_only(tmp_path: Path) -> None:
    a, b, c = (json.dumps({**ACTOR, "id": i, "title": f"T\u2028\u0085{i}"}, ensure_ascii=False)
               for i in "abc")
    f = write(tmp_path / "r.jsonl", f"{a}\r{b}\r\n\n{c}\n")
    records, problems = read_jsonl(f, "r.jsonl")
    assert problems == []
    assert [(r.line, r.data["id"]) for r in records] == [(1, "a"), (2, "b"), (4, "c")]


def small_workbook(rows: int = 1) -> bytes:
    buffer = io.BytesIO()
    wb = openpyxl.Workbook()
    wb.active.append(["id", "type", "title"])
    for n in range(rows):
        wb.active.append([f"a-{n}", "actor", f"A{n}"])
    wb.save(buffer)
    return buffer.getvalue()


def test_a_workbook_declaring_a_huge_sheet_is_read_quickly(tmp_path: Path) -> None:
    """A1:XFD1048576 made openpyxl pad every row to 16,384 cells: a hang from a tiny file."""
    f = tmp_path / "x.xlsx"
    rewrite_part(small_workbook(), f, "xl/worksheets/sheet1.xml", lambda xml: re.sub(
        rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', xml).replace(
        b"</sheetData>", b'<row r="5000"><c r="XFD5000" t="inlineStr"><is><t>z</t></is></c>'
                         b"</row></sheetData>"))
    assert f.stat().st_size < 10_000
    records, problems = read_xlsx(f, "x.xlsx")
    assert [r.data["id"] for r in records] == ["a-0"]
    assert [str(p) for p in problems] == [
        "x.xlsx:5000: a value in column 16384, which has no name in the header row"]


def test_a_sheet_declaring_too_few_rows_loses_none(tmp_path: Path) -> None:
    f = tmp_path / "x.xlsx"
    rewrite_part(small_workbook(3), f, "xl/worksheets/sheet1.xml", lambda xml: re.sub(
        rb'<dimension ref="[^"]*"', b'<dimension ref="A1:B2"', xml))
    records, problems = read_xlsx(f, "x.xlsx")
    assert problems == []
    assert [(r.line, r.data) for r in records] == [
        (n + 2, {"id": f"a-{n}", "type": "actor", "title": f"A{n}"}) for n in range(3)]


def test_a_workbook_with_too_many_cells_is_refused(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import ingest.readers

    monkeypatch.setattr(ingest.readers, "MAX_XLSX_CELLS", 10)
    f = tmp_path / "x.xlsx"
    f.write_bytes(small_workbook(5))
    records, problems = read_xlsx(f, "x.xlsx")
    assert records == []
    assert [str(p) for p in problems] == ["x.xlsx:4: more than 10 cells; split the workbook"]


def test_a_zip_bomb_workbook_is_refused_before_unpacking(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import ingest.readers

    assert ingest.readers.MAX_XLSX_BYTES == 512 * 2**20
    monkeypatch.setattr(ingest.readers, "MAX_XLSX_BYTES", 2**20)  # the same rule, smaller
    f = tmp_path / "bom.xlsx"
    with zipfile.ZipFile(io.BytesIO(small_workbook())) as src, \
            zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info), zipfile.ZIP_DEFLATED)
        dst.writestr("xl/padding.xml", b" " * 2**21, zipfile.ZIP_DEFLATED)
    assert f.stat().st_size < 20_000
    records, problems = read_xlsx(f, "bom.xlsx")
    assert records == []
    assert [str(p) for p in problems] == [
        "bom.xlsx: not a readable .xlsx workbook: unpacks to more than 1 MiB"]


def test_wide_headers_and_long_lists_take_linear_time(tmp_path: Path) -> None:
    """Both were quadratic: 200,000 columns or list items would run for hours."""
    n = 200_000
    f = write(tmp_path / "w.csv", ",".join(["id", "type", "title", *(f"c{i}" for i in range(n))])
              + "\na,actor,A\n")
    records, problems = read_csv(f, "w.csv")
    assert len(records) == 1 and problems == []
    raw = RawRecord("x", 1, {**ACTOR, "alt_labels": [f"l{i % (n // 2)}" for i in range(n)]})
    record, problems = validate(raw)
    assert record is not None and len(record.alt_labels) == n // 2
