"""Property tests: every reader, and the record validator after it, returns records and problems
for any input (arbitrary bytes, near-miss syntax, wrong records, deep nesting, huge fields) and
raises nothing but wijken's own errors.

The runs are bounded and deterministic (`derandomize=True`, no deadline), so a result never
depends on the machine's speed; `FUZZ_EXAMPLES` sums what they run.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from ingest.rdf_input import read_rdf
from ingest.readers import read_csv, read_jsonl, read_markdown, read_xlsx
from ingest.records import FIELD_NAMES, RawRecord, Record, validate
from kg.errors import Problem, WijkenError
from kg.xmlchars import XML_FORBIDDEN, xml_forbidden_char
from ontology.namespaces import DEFAULT_BASE_IRI, WK

pytestmark = pytest.mark.filterwarnings(
    "ignore:ConjunctiveGraph is deprecated:DeprecationWarning",
    # rdflib warns (UserWarning) about ill-typed literals and odd IRIs it still accepts
    "ignore::UserWarning:rdflib.*",
)

BASE = DEFAULT_BASE_IRI


def fuzz(n: int) -> Callable[[Any], Any]:
    """Bounded, deterministic settings: n examples, no deadline, same examples every run."""
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def check_records(raws: list[RawRecord], problems: list[Problem]) -> None:
    """The reader's answer is well-formed, and validating each record raises nothing either."""
    assert all(isinstance(p, Problem) for p in problems)
    for raw in raws:
        assert isinstance(raw, RawRecord) and isinstance(raw.data, dict)
        record, more = validate(raw)
        assert all(isinstance(p, Problem) for p in more)
        assert (record is None) == bool(more)
        if record is not None:
            assert isinstance(record, Record)
            for value in record.model_dump(exclude_none=True).values():
                for text in value if isinstance(value, tuple) else [value]:
                    assert not isinstance(text, str) or xml_forbidden_char(text) is None
        problems = [*problems, *more]
    for p in problems:
        assert xml_forbidden_char(str(p)) is None  # printable as it is


def run_reader(reader: Callable[[Path, str], tuple[list[RawRecord], list[Problem]]],
               path: Path, data: bytes) -> None:
    path.write_bytes(data)
    try:
        raws, problems = reader(path, path.name)
    except WijkenError:
        return
    check_records(raws, problems)


def run_rdf(path: Path, data: bytes, fmt: str) -> None:
    path.write_bytes(data)
    try:
        raws, extra, problems = read_rdf(path, path.name, fmt, BASE)
    except WijkenError:
        return
    if problems:
        assert raws == [] and len(extra) == 0
    check_records(raws, problems)


# -- strategies ----------------------------------------------------------------------------

SPECIAL = "\x00\x01\x0b\x1b\x7f\x85\u2028\ufeff\ufffe\uffff\ud800é😀"
texts = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=60)
awkward = st.text(alphabet=st.sampled_from(list("ab -|,;\"'\\\n\r\t:[]{}#") + list(SPECIAL)),
                  max_size=40)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), texts, awkward)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(texts, inner, max_size=4), max_leaves=12)
field_names = st.one_of(st.sampled_from(FIELD_NAMES), texts)
RECORD_TYPES = ["lesson", "threshold", "measure", "breakthrough", "actor", "neighbourhood",
                "activity", "document"]
ids = st.one_of(st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True), awkward)
near_records = st.fixed_dictionaries(
    {"id": ids, "type": st.one_of(st.sampled_from(RECORD_TYPES), texts),
     "title": st.one_of(texts, awkward, st.integers())},
    optional={name: st.one_of(json_values, awkward, st.lists(awkward, max_size=3))
              for name in FIELD_NAMES if name not in ("id", "type", "title")},
)
wrong_records = st.one_of(near_records, st.dictionaries(field_names, json_values, max_size=8))


def nested(depth: int, kind: str) -> str:
    if kind == "list":
        return "[" * depth + "]" * depth
    return '{"a": ' * depth + "1" + "}" * depth


deep_json = st.builds(nested, st.integers(0, 3000), st.sampled_from(["list", "object"]))
huge = st.builds(lambda n, c: c * n, st.integers(0, 300_000), st.sampled_from(["x", "[", "é"]))


# -- JSON Lines ----------------------------------------------------------------------------

@fuzz(150)
@given(data=st.binary(max_size=400))
@example(data=b'{"id": 1' + b"1" * 5000 + b"}")  # more digits than Python converts
@example(data=b'\xef\xbb\xbf{"title": "\\ud800"}\r\n\x00')
def test_jsonl_bytes(scratch: Path, data: bytes) -> None:
    run_reader(read_jsonl, scratch / "f.jsonl", data)


@fuzz(150)
@given(lines=st.lists(st.one_of(wrong_records.map(json.dumps), deep_json, awkward,
                                json_values.map(json.dumps)), max_size=6))
def test_jsonl_structured(scratch: Path, lines: list[str]) -> None:
    run_reader(read_jsonl, scratch / "f.jsonl", "\n".join(lines).encode("utf-8", "surrogatepass"))


@fuzz(10)
@given(title=huge)
def test_jsonl_huge_fields(scratch: Path, title: str) -> None:
    record = {"id": "a", "type": "actor", "title": title, "text": title}
    run_reader(read_jsonl, scratch / "f.jsonl", json.dumps(record).encode())


# -- CSV -----------------------------------------------------------------------------------

@fuzz(120)
@given(data=st.binary(max_size=400))
def test_csv_bytes(scratch: Path, data: bytes) -> None:
    run_reader(read_csv, scratch / "f.csv", data)


@fuzz(120)
@given(header=st.lists(st.one_of(st.sampled_from(FIELD_NAMES), awkward), max_size=6),
       rows=st.lists(st.lists(st.one_of(awkward, texts), max_size=7), max_size=5),
       delimiter=st.sampled_from([",", ";"]), raw=st.booleans())
def test_csv_structured(scratch: Path, header: list[str], rows: list[list[str]],
                        delimiter: str, raw: bool) -> None:
    if raw:  # unquoted: quotes and delimiters inside cells make a malformed file
        text = "\n".join(delimiter.join(r) for r in [header, *rows])
    else:
        buffer = io.StringIO()
        import csv

        csv.writer(buffer, delimiter=delimiter).writerows([header, *rows])
        text = buffer.getvalue()
    run_reader(read_csv, scratch / "f.csv", text.encode("utf-8", "surrogatepass"))


# -- XLSX ----------------------------------------------------------------------------------

def workbook(rows: list[list[Any]]) -> bytes:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _xlsx_text(text: str) -> str:
    """Text an XLSX file can hold: openpyxl's illegal characters and what XML 1.0 forbids
    (lone surrogates, U+FFFE/U+FFFF; openpyxl refuses them when it writes through lxml)."""
    return XML_FORBIDDEN.sub("", ILLEGAL_CHARACTERS_RE.sub("", text))


cells = st.one_of(st.none(), st.booleans(), st.integers(-10**15, 10**15),
                  st.floats(allow_nan=False, allow_infinity=False), st.dates(),
                  st.datetimes(), texts.map(_xlsx_text), awkward.map(_xlsx_text))


@fuzz(40)
@given(data=st.binary(max_size=300))
@example(data=workbook([["id", "type", "title"], ["a", "actor", "A"]])[:700])  # truncated zip
def test_xlsx_bytes(scratch: Path, data: bytes) -> None:
    run_reader(read_xlsx, scratch / "f.xlsx", data)


@fuzz(25)
@given(header=st.lists(st.one_of(st.sampled_from(FIELD_NAMES), cells), max_size=5),
       rows=st.lists(st.lists(cells, max_size=6), max_size=4))
def test_xlsx_structured(scratch: Path, header: list[Any], rows: list[list[Any]]) -> None:
    header = [h.strip() if isinstance(h, str) else h for h in header]
    run_reader(read_xlsx, scratch / "f.xlsx", workbook([["id", *header], *rows]))


BASE_WORKBOOK = workbook([["id", "type", "title"], ["a", "actor", "A"]])


@fuzz(40)
@given(part=st.sampled_from(["xl/worksheets/sheet1.xml", "xl/workbook.xml",
                             "[Content_Types].xml", "xl/styles.xml"]),
       start=st.integers(0, 2000), length=st.integers(0, 50), junk=st.binary(max_size=30))
def test_xlsx_corrupted_parts(scratch: Path, part: str, start: int, length: int,
                              junk: bytes) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(BASE_WORKBOOK)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == part:
                data = data[:start] + junk + data[start + length:]
            dst.writestr(info, data)
    run_reader(read_xlsx, scratch / "f.xlsx", out.getvalue())


# -- Markdown with YAML front matter -------------------------------------------------------

yamlish = st.lists(st.sampled_from([*"ab1 -:[]{}'\"!&*#|>%@`,?\\\n\t.", "!!binary ",
                                    "!!set ", "2024-02-30", "&x ", "*x", "<<: ", "\\0",
                                    "\\ud800", "0x1f", "\n  - ", ": "]), max_size=40).map("".join)
yaml_values = st.recursive(
    st.one_of(scalars, st.dates(), st.datetimes(), st.binary(max_size=8)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.one_of(st.sampled_from(FIELD_NAMES), texts), inner, max_size=4), max_leaves=10)


@fuzz(120)
@given(front=yamlish, body=st.one_of(texts, awkward))
@example(front="id: 2024-02-30\ntitle: " + "1" * 5000, body="")
@example(front="a: &x [*x]\ntitle: *x", body="")
def test_markdown_near_yaml(scratch: Path, front: str, body: str) -> None:
    data = f"---\n{front}\n---\n{body}".encode("utf-8", "surrogatepass")
    run_reader(read_markdown, scratch / "f.md", data)


@fuzz(100)
@given(fields=st.one_of(st.dictionaries(st.sampled_from(FIELD_NAMES), yaml_values, max_size=8),
                        near_records), body=awkward, flow=st.booleans())
def test_markdown_structured(scratch: Path, fields: dict[str, Any], body: str,
                             flow: bool) -> None:
    try:
        front = yaml.safe_dump(fields, allow_unicode=True, default_flow_style=flow)
    except yaml.YAMLError:
        return  # a value PyYAML cannot write (a lone surrogate)
    run_reader(read_markdown, scratch / "f.md", f"---\n{front}---\n{body}".encode(
        "utf-8", "surrogatepass"))


@fuzz(15)
@given(depth=st.integers(0, 3000), flow=st.booleans())
def test_markdown_deep(scratch: Path, depth: int, flow: bool) -> None:
    if flow:
        front = "title: " + "[" * depth + "]" * depth
    else:
        front = "title:\n" + "".join(" " * i + "- \n" for i in range(1, depth + 1))
    run_reader(read_markdown, scratch / "f.md", f"---\n{front}\n---\n".encode())


@fuzz(60)
@given(data=st.binary(max_size=300))
def test_markdown_bytes(scratch: Path, data: bytes) -> None:
    run_reader(read_markdown, scratch / "f.md", b"---\n" + data)


# -- RDF: Turtle, N-Triples, JSON-LD -------------------------------------------------------

turtle_tokens = st.sampled_from([
    f"<{BASE}actor/a>", f"<{WK}Actor>", "a", "<http://purl.org/dc/terms/identifier>",
    "<http://www.w3.org/2000/01/rdf-schema#label>", '"a"', '"A\\u0000"', "'x'", '"""y"""',
    "[", "]", "(", ")", ";", ",", ".", "_:b", "@prefix", "@base", "p:", "p:x", "<rel>",
    '"1"^^<http://www.w3.org/2001/XMLSchema#date>', '"x"@nl', '"x"@', "<a b>", "<\\u0000>",
    "#", "\n", "true", "1.5e3", "<<", ">>", "\\", '"', "'",
])
turtle = st.lists(turtle_tokens, max_size=40).map(" ".join)


@fuzz(150)
@given(text=st.one_of(turtle, texts, awkward))
@example(text=f"<{BASE}actor/a> a <{WK}Actor> ; <http://x/p> " + "[ <http://x/p> " * 5000)
@example(text="<http://x/s> <http://x/p> " + "(" * 5000 + ")" * 5000 + " .")
def test_turtle(scratch: Path, text: str) -> None:
    run_rdf(scratch / "f.ttl", text.encode("utf-8", "surrogatepass"), "turtle")


@fuzz(80)
@given(text=st.one_of(turtle, awkward, st.binary(max_size=200).map(
    lambda b: b.decode("latin-1"))))
def test_ntriples(scratch: Path, text: str) -> None:
    run_rdf(scratch / "f.nt", text.encode("utf-8", "surrogatepass"), "nt")


KEYWORDS = ["@context", "@id", "@type", "@graph", "@value", "@language", "@list", "@set",
            "@reverse", "@index", "@base", "@vocab", "@nest", "@included", "@json", "@none",
            "@import", "@propagate", "@protected", "@version", "@container", "@direction"]
ld_keys = st.one_of(st.sampled_from(KEYWORDS), st.sampled_from(
    ["wk", "wk:Actor", "dct:identifier", "rdfs:label", "x", "x:y", "_:b", ""]), texts)
ld_scalars = st.one_of(scalars, st.sampled_from(
    [f"{BASE}actor/a", str(WK), "wk:Actor", "@id", "@vocab", "@json", 1.1, "_:b", "x:y",
     "http://127.0.0.1:9/c", "file:///etc/passwd", "wk:"]))
ld_values = st.recursive(ld_scalars, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(ld_keys, inner, max_size=5), max_leaves=25)


@fuzz(200)
@given(document=ld_values)
def test_jsonld_structured(scratch: Path, document: Any) -> None:
    data = json.dumps(document).encode()
    run_rdf(scratch / "f.jsonld", data, "json-ld")


@fuzz(60)
@given(text=st.one_of(awkward, deep_json, texts), depth=st.integers(0, 2000))
def test_jsonld_text_and_depth(scratch: Path, text: str, depth: int) -> None:
    data = ('{"@context": {"a": "http://x/"}, "a": ' + "[" * depth + json.dumps(text)
            + "]" * depth + "}")
    run_rdf(scratch / "f.jsonld", data.encode("utf-8", "surrogatepass"), "json-ld")
    run_rdf(scratch / "g.jsonld", text.encode("utf-8", "surrogatepass"), "json-ld")


# -- the record validator --------------------------------------------------------------------

validator_values = st.one_of(json_values, yaml_values, st.dates(), st.datetimes(),
                             st.binary(max_size=10), st.sets(st.integers(), max_size=3),
                             st.just(dt.time(1, 2)), st.floats(), huge)


@fuzz(300)
@given(data=st.one_of(wrong_records, st.dictionaries(field_names, validator_values,
                                                     max_size=10)),
       lines=st.dictionaries(st.sampled_from(FIELD_NAMES), st.integers(1, 99), max_size=3))
def test_validator(data: dict[Any, Any], lines: dict[str, int]) -> None:
    check_records([RawRecord("f.jsonl", 1, data, lines)], [])


@fuzz(30)
@given(value=st.sampled_from([None, 1]))
def test_validator_recursive_structures(value: Any) -> None:
    """YAML aliases can build a list that holds itself."""
    loop: list[Any] = [value]
    loop.append(loop)
    check_records([RawRecord("f.md", 1, {"id": "a", "type": "actor", "title": loop,
                                         "themes": loop, "actors": [loop]})], [])
