"""`wijken ingest` and `wijken search --batch` on hostile input, run as a user runs them: a clean
`file:line: message`, a non-zero exit, no traceback, no connection anywhere, and a store that
is byte for byte what it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.store import Store
from tests.api.test_cli import Run, wijken
from tests.conftest import Listener

REPO = Path(__file__).resolve().parents[2]
BASE = "https://w3id.org/100wijken/id/"
WK = "https://w3id.org/100wijken/def/"
DEEP = 10_000
NESTING = "nesting deeper than 64 levels"
ACTOR = {"id": "een-actor", "type": "actor", "title": "Een actor"}
CONTEXT = {"wk": WK, "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
           "dct": "http://purl.org/dc/terms/"}


def state(data_dir: Path) -> tuple[bytes, int]:
    """Everything a write would change: the N-Quads dump and the store's generation."""
    store = Store(data_dir, read_only=True)
    try:
        return store.dump(ox.RdfFormat.N_QUADS), store.generation
    finally:
        store.close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with the reference data (nothing hostile is ever written to it)."""
    data = tmp_path_factory.mktemp("hostile") / "data"
    run = wijken("init", "--data-dir", data)
    assert run.code == 0, run.err
    return data


def jsonld(**more: object) -> str:
    return json.dumps({"@id": BASE + "actor/een-actor", "@type": "wk:Actor",
                       "dct:identifier": "een-actor", "rdfs:label": "Een actor", **more},
                      indent=1)


def deep(n: int = DEEP) -> str:
    return "[" * n + "]" * n


# name -> (writes the file into a folder and returns it, the expected `:line: message` part)
Maker = Callable[[Path, Listener], Path]
BAD: dict[str, tuple[Maker, str]] = {
    "deep-jsonl": (lambda d, _: write(d / "deep.jsonl", json.dumps(ACTOR) + "\n" + '{"a": '
                                      + deep() + "}\n"), f":2: {NESTING}"),
    "deep-jsonld": (lambda d, _: write(d / "deep.jsonld", '{\n"@graph": ' + deep() + "}"),
                    f":2: {NESTING}"),
    "deep-markdown-flow": (lambda d, _: write(d / "deep.md", "---\nid: x\ntitle: " + deep()
                                              + "\n---\n"), f":3: {NESTING}"),
    "deep-markdown-block": (lambda d, _: write(d / "deep.md", "---\ntitle:\n" + "".join(
        " " * i + "- \n" for i in range(1, 3000)) + "---\n"), f":66: {NESTING}"),
    "deep-turtle": (lambda d, _: write(d / "deep.ttl", "<https://example.org/s> "
                                       "<https://example.org/p> " + "[ <https://example.org/p> "
                                       * DEEP + "]" * DEEP + " .\n"), f":1: {NESTING}"),
    "deep-turtle-list": (lambda d, _: write(d / "deep.ttl", "<https://example.org/s> "
                                            "<https://example.org/p> " + "(" * DEEP + ")" * DEEP
                                            + " .\n"), f":1: {NESTING}"),
    "remote-context": (lambda d, srv: write(d / "ctx.jsonld", jsonld(**{"@context": [
        CONTEXT, srv.url()]})), ":12: @context: remote context 'http://127.0.0.1:"),
    "scoped-context": (lambda d, srv: write(d / "ctx.jsonld", jsonld(**{"@context": {
        **CONTEXT, "wk:Actor": {"@context": srv.url()}}})),
        ":11: @context: remote context 'http://127.0.0.1:"),
    "import": (lambda d, srv: write(d / "ctx.jsonld", jsonld(**{"@context": {
        **CONTEXT, "@import": srv.url()}})), ":10: @import: importing the context 'http://127.0.0.1:"),
    "file-context": (lambda d, _: write(d / "ctx.jsonld", jsonld(**{"@context": Path(
        "/etc/hostname").as_uri()})), ":6: @context: external context 'file:///etc/hostname'"),
    "link-unknown-suffix": (lambda d, _: link(d / "x.weird", write(d.parent / "blob-a",
                                                                   json.dumps(ACTOR))),
                            ": unsupported file type; use one of"),
    "dangling-link": (lambda d, _: link(d / "x.jsonl", d.parent / "nergens"),
                      ": a symbolic link to a file that does not exist"),
    "nul-jsonl": (lambda d, _: write(d / "nul.jsonl", json.dumps({**ACTOR, "title": "A\x00"})
                                     + "\n"), ":1: title: control character U+0000 is not allowed"),
    "surrogate-jsonl": (lambda d, _: write(d / "nul.jsonl", json.dumps({**ACTOR, "text": "\ud800"})
                                           + "\n"), ":1: text: character U+D800 is not allowed"),
    "control-csv": (lambda d, _: write(d / "nul.csv", "id,type,title\na,actor,A\x1b[2J\n"),
                    ":2: title: control character U+001B is not allowed"),
    "nul-markdown": (lambda d, _: write(d / "nul.md", "---\nid: a\ntype: actor\ntitle: \"A\\0\"\n"
                                        "---\n"), ":4: title: control character U+0000 is not "
                                                  "allowed"),
    "nul-key": (lambda d, _: write(d / "nul.jsonl", json.dumps({**ACTOR, "ti\x00tle": "A"}) + "\n"),
                ":1: ti\\u0000tle: control character U+0000 is not allowed in a field name"),
    "nul-turtle": (lambda d, _: write(d / "nul.ttl", f"<{BASE}actor/a> a <{WK}Actor> ; "
                                      '<http://purl.org/dc/terms/identifier> "a" ; '
                                      '<http://www.w3.org/2000/01/rdf-schema#label> "A\\u0000" .'),
                   f" <{BASE}actor/a>: title: control character U+0000 is not allowed"),
}


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    return path


def link(path: Path, target: Path) -> Path:
    path.symlink_to(target)
    return path


def expect_refusal(run: Run, *messages: str) -> None:
    assert run.code == 1, (run.code, run.out, run.err)
    assert "Traceback" not in run.err + run.out, run.err
    assert "nothing was written" in run.err
    for message in messages:
        assert message in run.err, (message, run.err)


@pytest.mark.parametrize("name", sorted(BAD))
def test_each_hostile_file_is_refused_cleanly(data_dir: Path, listener: Listener,
                                              tmp_path: Path, name: str) -> None:
    folder = tmp_path / "invoer"
    folder.mkdir()
    make, message = BAD[name]
    f = make(folder, listener)
    before = state(data_dir)
    run = wijken("ingest", f, "--data-dir", data_dir)
    expect_refusal(run, f"{f.parent.resolve() / f.name}{message}")
    assert state(data_dir) == before
    assert listener.connections == []


def test_all_of_them_at_once_in_a_directory_and_dry(data_dir: Path, listener: Listener,
                                                    tmp_path: Path) -> None:
    expected = []
    for name, (make, message) in sorted(BAD.items()):
        folder = tmp_path / name
        folder.mkdir()
        f = make(folder, listener)
        if name != "link-unknown-suffix":  # a walk passes over unsupported names
            expected.append(f"{f.parent.resolve() / f.name}{message}")
    before = state(data_dir)
    for args in (("--dry-run",), ()):
        run = wijken("ingest", tmp_path, "--data-dir", data_dir, *args)
        expect_refusal(run, f"{len(expected)} problems found", *expected)
    assert state(data_dir) == before
    assert listener.connections == []


def test_a_link_to_a_file_without_suffix_is_read_by_the_link_name(data_dir: Path,
                                                                 tmp_path: Path) -> None:
    blob = write(tmp_path / "blob", json.dumps(ACTOR) + "\n")
    x = link(tmp_path / "x.jsonl", blob)
    before = state(data_dir)
    run = wijken("ingest", x, "--dry-run", "--data-dir", data_dir)
    assert run.code == 0, run.err
    assert run.out.split()[:4] == ["new", "1", "records", str(x)]
    assert state(data_dir) == before


@pytest.mark.parametrize(("line", "message"), [
    ('{"query": ' + deep() + "}", f":2: {NESTING}"),
    ("[" * DEEP, f":2: {NESTING}"),
    (json.dumps({"query": "warm\x00te"}), ":2: query: control character U+0000 is not allowed"),
    ('{"query": "x", "k": 1' + "0" * 5000 + "}", ":2: malformed JSON: "),
])
def test_hostile_batch_lines_are_named(data_dir: Path, tmp_path: Path, line: str,
                                       message: str) -> None:
    questions = write(tmp_path / "vragen.jsonl", json.dumps({"query": "warmte"}) + "\n" + line
                      + "\n")
    run = wijken("search", "--batch", questions, "--json", "--data-dir", data_dir)
    assert run.code == 2, (run.code, run.err)
    assert "Traceback" not in run.err, run.err
    assert f"{questions}{message}" in run.err
    assert run.out == ""
