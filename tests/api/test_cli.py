"""The `wijken` command, run as a real subprocess against real data directories.

`ingest` always brings the search index up to date (it loads the real embedder), so the corpora
here are tiny and one ingested data directory is shared by the module; tests that change it
restore it or run last.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic

from kg.store import Store
from tests.conftest import store_generation

REPO = Path(__file__).resolve().parents[2]
BASE = "https://w3id.org/100wijken/id/"
DCT_ID = "http://purl.org/dc/terms/identifier"

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:rdflib")

RECORDS = [
    {"id": "drempel-kosten", "type": "threshold", "title": "De kosten zijn te hoog",
     "themes": ["renovatie", "financiering"]},
    {"id": "veka", "type": "actor", "title": "Vlaams Energie- en Klimaatagentschap",
     "alt_labels": ["VEKA"]},
    {"id": "les-een", "type": "lesson", "title": "Samen renoveren per bouwblok",
     "text": "VEKA en de stad Gent zochten samen naar financiering.", "themes": ["renovatie"],
     "municipality": "Gent", "thresholds": ["drempel-kosten"]},
    {"id": "doorbraak-een", "type": "breakthrough", "title": "Een rollend fonds",
     "themes": ["financiering"], "thresholds": ["drempel-kosten"]},
]
REFS = [{"id": "les-twee", "type": "lesson", "title": "Een tweede les",
         "themes": ["renovatie"], "municipality": "Leuven", "thresholds": ["drempel-kosten"]}]


@dataclass
class Run:
    code: int
    out: str
    err: str


def wijken(*args: str | Path) -> Run:
    """Run `python -m api.cli ARGS` from the repository, as a user would run `wijken`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIJKEN_")}
    env.update(PYTHONPATH=str(REPO), OMP_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE",
               WIJKEN_THREADS="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    done = subprocess.run([sys.executable, "-m", "api.cli", *map(str, args)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=300,
                          errors="backslashreplace")
    return Run(done.returncode, done.stdout, done.stderr)


def no_traceback(run: Run) -> None:
    assert "Traceback" not in run.err + run.out, run.err


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    return path


def generation(data_dir: Path) -> int:
    return store_generation(data_dir)


def dump(data_dir: Path) -> bytes:
    """The full N-Quads dump, read here through a read-only store (which writes nothing)."""
    store = Store(data_dir, read_only=True)
    try:
        return store.dump(ox.RdfFormat.N_QUADS)
    finally:
        store.close()


def state(data_dir: Path) -> tuple[bytes, int]:
    """Everything a write would change: the full N-Quads dump and the store generation."""
    return dump(data_dir), generation(data_dir)


def store_dataset(data_dir: Path) -> Dataset:
    ds = Dataset()
    ds.parse(data=dump(data_dir), format="nquads")
    return ds


def merged(ds: Dataset) -> Graph:
    g = Graph()
    for s, p, o, _ in ds.quads((None, None, None, None)):
        g.add((s, p, o))
    return g


def select(data_dir: Path, query: str) -> list[dict]:
    run = wijken("sparql", query, "--format", "json", "--data-dir", data_dir)
    assert run.code == 0, run.err
    return json.loads(run.out)["results"]["bindings"]


@dataclass
class Corpus:
    root: Path
    data: Path
    records: Path
    refs: Path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    """RECORDS and REFS ingested by `wijken ingest` into an empty data directory."""
    root = tmp_path_factory.mktemp("cli")
    c = Corpus(root, root / "data", write_jsonl(root / "records.jsonl", RECORDS),
               write_jsonl(root / "refs.jsonl", REFS))
    run = wijken("ingest", c.records, c.refs, "--data-dir", c.data)
    assert run.code == 0, run.err
    assert "2 file(s) changed, 5 added, 0 updated, 0 removed" in run.out
    yield c


# -- ingest, then query --------------------------------------------------------------------

def test_sparql_json_lists_every_record_id(corpus: Corpus) -> None:
    rows = select(corpus.data, f"SELECT ?id WHERE {{ ?s <{DCT_ID}> ?id }}")
    found = {r["id"]["value"] for r in rows}
    assert {r["id"] for r in RECORDS + REFS} <= found
    assert all(r["id"]["type"] == "literal" for r in rows)


def test_threshold_link_and_dutch_titles(corpus: Corpus) -> None:
    rows = select(corpus.data, f"""SELECT ?p WHERE {{
        <{BASE}lesson/les-een> ?p <{BASE}threshold/drempel-kosten> }}""")
    assert [r["p"]["value"] for r in rows] == ["https://w3id.org/100wijken/ns#addresses"]
    rows = select(corpus.data, f"""SELECT ?t WHERE {{
        <{BASE}lesson/les-een> <http://www.w3.org/2000/01/rdf-schema#label> ?t }}""")
    assert rows == [{"t": {"type": "literal", "value": "Samen renoveren per bouwblok",
                           "xml:lang": "nl"}}]


def test_mentions_are_separate_from_curated_links(corpus: Corpus) -> None:
    rows = select(corpus.data, f"""SELECT ?p ?o WHERE {{ <{BASE}lesson/les-een> ?p ?o
        FILTER (?p IN (<https://w3id.org/100wijken/ns#mentions>,
                       <https://w3id.org/100wijken/ns#involves>)) }}""")
    got = {(r["p"]["value"].rsplit("#")[-1], r["o"]["value"]) for r in rows}
    assert ("mentions", f"{BASE}actor/veka") in got
    assert ("mentions", "https://data.vlaanderen.be/id/gemeente/44021") in got
    assert ("mentions", "https://w3id.org/100wijken/id/concept/thema/financiering") in got
    assert not any(p == "involves" for p, _ in got)


def test_sparql_csv_and_table(corpus: Corpus) -> None:
    query = f"SELECT ?id WHERE {{ ?s <{DCT_ID}> ?id ; a ?c FILTER (STRSTARTS(?id, 'les-')) }}"
    run = wijken("sparql", query, "--format", "csv", "--data-dir", corpus.data)
    assert run.code == 0, run.err
    rows = list(csv.reader(io.StringIO(run.out)))
    assert rows[0] == ["id"]
    assert sorted(r[0] for r in rows[1:]) == ["les-een", "les-twee"]
    run = wijken("sparql", query + " ORDER BY ?id", "--data-dir", corpus.data)
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0].split() == ["id"]
    assert set(lines[1]) == {"-"}
    assert [ln.strip() for ln in lines[2:4]] == ["les-een", "les-twee"]
    assert lines[-1] == "(2 rows)"


def test_sparql_query_from_a_file_and_ask(corpus: Corpus) -> None:
    q = corpus.root / "vraag.rq"
    q.write_text(f"ASK {{ <{BASE}actor/veka> ?p ?o }}", encoding="utf-8")
    run = wijken("sparql", f"@{q}", "--format", "json", "--data-dir", corpus.data)
    assert run.code == 0, run.err
    assert json.loads(run.out)["boolean"] is True


def test_sparql_syntax_error_is_clean(corpus: Corpus) -> None:
    run = wijken("sparql", "SELECT * WHERE { ?s ?p }", "--data-dir", corpus.data)
    assert run.code != 0
    no_traceback(run)
    assert "SPARQL syntax error: error at 1:" in run.err
    assert run.out == ""


def test_sparql_service_query_fails_cleanly(corpus: Corpus) -> None:
    """Bug: the CLI runs SERVICE and prints the OSError's traceback (the HTTP endpoint
    refuses SERVICE via kg.sparql.guard.check_query; KnowledgeBase.sparql does not)."""
    run = wijken("sparql", "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
                 "--data-dir", corpus.data)
    assert run.code != 0
    no_traceback(run)
    assert run.err.startswith("error: ")


def test_stats(corpus: Corpus) -> None:
    run = wijken("stats", "--json", "--data-dir", corpus.data)
    assert run.code == 0, run.err
    s = json.loads(run.out)
    assert s["types"] == {"Actor": 1, "Breakthrough": 1, "Lesson": 2, "Threshold": 1}
    assert s["themes"] == {"renovatie": 3, "financiering": 2}
    assert s["municipalities"] == {"Gent": 1, "Leuven": 1}
    assert s["source_graphs"] == 2
    run = wijken("stats", "--data-dir", corpus.data)
    assert run.code == 0, run.err
    assert f"{s['triples']} triples in 2 source file graph(s)" in run.out
    assert "per type:" in run.out and "per municipality:" in run.out


# -- export --------------------------------------------------------------------------------

@pytest.mark.parametrize(("fmt", "rdflib_format"), [
    ("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld")])
def test_merged_exports_parse_back_isomorphic_to_the_store(corpus: Corpus, fmt: str,
                                                           rdflib_format: str) -> None:
    run = wijken("export", "--format", fmt, "--data-dir", corpus.data)
    assert run.code == 0, run.err
    exported = Graph().parse(data=run.out, format=rdflib_format)
    expected = merged(store_dataset(corpus.data))
    assert len(exported) == len(expected) > 3000
    assert isomorphic(exported, expected)


def test_trig_export_keeps_every_quad(corpus: Corpus) -> None:
    trig = corpus.root / "dump.trig"
    run = wijken("export", "--format", "trig", "-o", trig, "--data-dir", corpus.data)
    assert run.code == 0, run.err
    assert f"wrote {trig.stat().st_size} bytes to {trig}" in run.err
    ds = Dataset()
    ds.parse(trig, format="trig")
    store = Store(corpus.data, read_only=True)
    size, graphs = len(store), store.named_graphs()
    store.close()
    quads = list(ds.quads((None, None, None, None)))
    assert len(quads) == size  # every triple in its named graph, none lost or merged
    assert {str(getattr(q[3], "identifier", q[3])) for q in quads} == set(graphs)
    expected = store_dataset(corpus.data)
    for giri in graphs:
        assert isomorphic(ds.graph(URIRef(giri)), expected.graph(URIRef(giri))), giri


def test_nquads_export_is_the_store_dump(corpus: Corpus) -> None:
    run = wijken("export", "--format", "nq", "--data-dir", corpus.data)
    assert run.code == 0, run.err
    exported = Dataset()
    exported.parse(data=run.out, format="nquads")
    expected = store_dataset(corpus.data)
    assert len(list(exported.quads((None, None, None, None)))) == len(
        list(expected.quads((None, None, None, None))))
    assert isomorphic(merged(exported), merged(expected))


# -- invalid input -------------------------------------------------------------------------

def test_invalid_file_names_every_problem_and_writes_nothing(corpus: Corpus) -> None:
    before = state(corpus.data)
    bad = corpus.root / "fouten.jsonl"
    bad.write_text("\n".join([
        json.dumps({"id": "les-a", "type": "lesson", "themes": ["renovatie"]}),
        json.dumps({"id": "les-b", "type": "lesson", "title": "B", "themes": ["klimaat"]}),
        json.dumps({"id": "les-c", "type": "lesson", "title": "C",
                    "thresholds": ["drempel-weg"]}),
        '{"id": "les-d", "type": "lesson", "title": "D"',
        json.dumps({"id": "les-e", "type": "lesson", "title": "E", "municipality": "Gendt"}),
    ]) + "\n", encoding="utf-8")
    run = wijken("ingest", bad, "--data-dir", corpus.data)
    assert run.code != 0
    no_traceback(run)
    name = str(bad.resolve())
    assert "5 problems found; nothing was written:" in run.err
    assert f"{name}:1: title: is required" in run.err
    assert f"{name}:2: themes: unknown theme 'klimaat'; known themes: " in run.err
    assert "energiearmoede, energiegemeenschap" in run.err
    assert f"{name}:3: thresholds: unknown id 'drempel-weg'" in run.err
    assert f"{name}:4: malformed JSON" in run.err
    assert (f"{name}:5: municipality: unknown Flemish municipality 'Gendt'; did you mean: Gent"
            in run.err)
    assert state(corpus.data) == before


def test_reingesting_an_unchanged_file_changes_nothing(corpus: Corpus) -> None:
    before = state(corpus.data)
    run = wijken("ingest", corpus.records, "--data-dir", corpus.data)
    assert run.code == 0, run.err
    assert run.out.split()[:2] == ["unchanged", "4"]
    assert "0 file(s) changed, 0 added, 0 updated, 0 removed" in run.out
    assert state(corpus.data) == before


def test_removing_a_record_still_referenced_elsewhere_is_refused(corpus: Corpus) -> None:
    before = state(corpus.data)
    original = corpus.records.read_bytes()
    write_jsonl(corpus.records, [r for r in RECORDS if r["id"] != "drempel-kosten"]
                + [{"id": "les-een", "type": "lesson", "title": "Zonder drempel"}]
                + [{"id": "doorbraak-een", "type": "breakthrough", "title": "Zonder drempel"}])
    try:
        run = wijken("ingest", corpus.records, "--data-dir", corpus.data)
    finally:
        corpus.records.write_bytes(original)
    assert run.code != 0
    no_traceback(run)
    assert (f"{corpus.records.resolve()}: id: record 'drempel-kosten' is no longer in this "
            f"file, but 'les-twee' in {corpus.refs.resolve()} still points at it") in run.err
    assert state(corpus.data) == before


def test_dry_run_validates_only(corpus: Corpus) -> None:
    before = state(corpus.data)
    new = write_jsonl(corpus.root / "nieuw.jsonl", [
        {"id": "les-drie", "type": "lesson", "title": "Een derde les", "themes": ["water"],
         "thresholds": ["drempel-kosten"]}])
    run = wijken("ingest", new, "--dry-run", "--data-dir", corpus.data)
    assert run.code == 0, run.err
    assert run.out.split()[:2] == ["new", "1"]
    assert "dry run: 1 file(s) would change, 1 added, 0 updated, 0 removed" in run.out
    assert state(corpus.data) == before
    write_jsonl(new, [{"id": "les-drie", "type": "lesson", "title": "X", "themes": ["klimaat"]}])
    run = wijken("ingest", new, "--dry-run", "--data-dir", corpus.data)
    assert run.code != 0
    no_traceback(run)
    assert "themes: unknown theme 'klimaat'" in run.err
    assert state(corpus.data) == before


@pytest.mark.parametrize("args", [
    ("export", "--format", "rdfxml"),
    ("sparql", "SELECT * WHERE { ?s ?p ?o }", "--format", "xml"),
    ("sparql", "@/nergens/vraag.rq"),
    ("ingest", "/nergens/records.jsonl"),
    ("search", "warmtenet", "--batch", "/nergens/vragen.jsonl"),
])
def test_user_errors_are_clean(corpus: Corpus, args: tuple[str, ...]) -> None:
    run = wijken(*args, "--data-dir", corpus.data)
    assert run.code != 0
    no_traceback(run)
    assert run.err.strip()


# -- data directories ----------------------------------------------------------------------

def test_init_twice_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run = wijken("init", "--data-dir", data)
    assert run.code == 0, run.err
    assert run.out.startswith(f"ready: {data} (")
    before = state(data)
    assert wijken("init", "--data-dir", data).code == 0
    assert state(data) == before


def test_search_without_an_index_is_a_clean_error(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert wijken("init", "--data-dir", data).code == 0
    run = wijken("search", "warmtenet", "--data-dir", data)
    assert run.code != 0
    no_traceback(run)
    assert "no search index" in run.err


def test_busy_data_directory_is_a_clean_error(tmp_path: Path) -> None:
    data = tmp_path / "data"
    holder = Store(data)
    try:
        run = wijken("stats", "--data-dir", data)
    finally:
        holder.close()
    assert run.code != 0
    no_traceback(run)
    assert "in use by another wijken process" in run.err


def test_help_is_fast_and_lists_the_commands() -> None:
    run = wijken("--help")
    assert run.code == 0
    for command in ("init", "ingest", "stats", "sparql", "export", "search", "reindex", "eval",
                    "serve"):
        assert command in run.out


# -- last: a change through the CLI (re-embeds) ---------------------------------------------

def test_removing_a_record_from_the_file_removes_it(corpus: Corpus) -> None:
    write_jsonl(corpus.records, [r for r in RECORDS if r["id"] != "doorbraak-een"])
    run = wijken("ingest", corpus.records, corpus.refs, "--data-dir", corpus.data)
    assert run.code == 0, run.err
    assert "(+0 ~3 -1)" in run.out
    assert "1 file(s) changed, 0 added, 3 updated, 1 removed" in run.out
    rows = select(corpus.data, f"""SELECT * WHERE {{
        {{ <{BASE}breakthrough/doorbraak-een> ?p ?o }} UNION
        {{ ?s ?p <{BASE}breakthrough/doorbraak-een> }} }}""")
    assert rows == []
    ids = {r["id"]["value"] for r in select(corpus.data,
                                            f"SELECT ?id WHERE {{ ?s <{DCT_ID}> ?id }}")}
    assert "doorbraak-een" not in ids and "les-een" in ids


# -- the data directory is private, and readers never race a writer --------------------------

def test_the_data_directory_is_its_owners_alone(tmp_path: Path) -> None:
    data_dir = tmp_path / "nieuw"
    run = wijken("init", "--data-dir", data_dir)
    assert run.code == 0, run.err
    assert data_dir.stat().st_mode & 0o777 == 0o700
    for path in data_dir.rglob("*"):
        assert path.stat().st_mode & 0o077 == 0, path  # umask 077 for what wijken writes
    # An existing directory that others could read is tightened on the next open.
    data_dir.chmod(0o755)
    assert wijken("stats", "--data-dir", data_dir).code == 0
    assert data_dir.stat().st_mode & 0o777 == 0o700


def test_sparql_reads_without_writing_and_refuses_a_store_being_written(corpus: Corpus) -> None:
    before = state(corpus.data)
    run = wijken("sparql", "ASK { ?s ?p ?o }", "--format", "json", "--data-dir", corpus.data)
    assert run.code == 0, run.err
    assert state(corpus.data) == before  # opened read-only: not even the reference data
    writer = Store(corpus.data)  # another process holds the store open for writing
    try:
        busy = wijken("sparql", "ASK { ?s ?p ?o }", "--data-dir", corpus.data)
    finally:
        writer.close()
    assert busy.code != 0
    no_traceback(busy)
    assert "open for writing by process" in busy.err


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_serve_runs_without_network_sockets_once_listening(corpus: Corpus, tmp_path: Path) -> None:
    """`wijken serve` binds its port, then it and its SPARQL workers lose the right to open
    network sockets (seccomp): the server still answers on the port it had."""
    import shutil
    import signal
    import time

    import httpx

    from tests.api.conftest import free_port

    data_dir = tmp_path / "data"
    shutil.copytree(corpus.data, data_dir)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIJKEN_")}
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--data-dir",
                               str(data_dir), "--port", str(port)], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None and time.monotonic() < deadline
            try:
                if httpx.get(url + "/api/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        ask = httpx.get(url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=30)
        assert ask.json()["boolean"] is True
        children = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
                    and _parent(p) == server.pid]
        assert len(children) >= 2  # the SPARQL workers
        for pid in [server.pid, *children]:
            status = Path(f"/proc/{pid}/status").read_text()
            assert "Seccomp:\t2" in status, pid  # a filter is in force
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=60)


def _parent(proc: Path) -> int | None:
    try:
        stat = (proc / "stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])
