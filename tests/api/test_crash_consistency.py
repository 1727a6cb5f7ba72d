"""Crash consistency: `kill -9` of `ingest`, of `serve` during a SPARQL update and of `reindex`
at seeded random moments. After each kill the store holds the old or the new state, never a
mix; the next ordinary command reconciles the search index, and search and SPARQL then answer
exactly as a clean build of that state does.

The moments are random (seeded), the assertions are not: whatever instant the kill hits, the
outcome must be one of the two clean ones. Bounded: a few runs per command on a small corpus.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.knowledgebase import KnowledgeBase
from kg.store import Store
from tests.api.conftest import free_port
from tests.conftest import REPO

RECORDS = REPO / "tests" / "search" / "engine_records.jsonl"
QUERIES = ["fietsstraat", "warmtenet in de wijk", "renovatie samen aanpakken", "buurtfeest"]
# Per command; each run is a kill and a recovery. WIJKEN_CRASH_RUNS=20 for a longer soak.
RUNS = int(os.environ.get("WIJKEN_CRASH_RUNS", "3"))
TOKEN = "crash-test-token"
REWRITE = (  # a SPARQL update that changes every lesson's title: every passage re-embeds
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX wk: "
    "<https://w3id.org/100wijken/ns#> DELETE { GRAPH ?g { ?s rdfs:label ?l } } INSERT { GRAPH ?g "
    "{ ?s rdfs:label ?nieuw } } WHERE { GRAPH ?g { ?s a wk:Lesson ; rdfs:label ?l } "
    'BIND(CONCAT("Herzien: ", ?l) AS ?nieuw) }'
)

pytestmark = pytest.mark.slow


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "WIJKEN_DATA_DIR": str(data_dir), "OMP_WAIT_POLICY": "PASSIVE",
            "WIJKEN_THREADS": "1", **extra}


def _cli(data_dir: Path, *args: str, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "api.cli", *args], cwd=REPO,
                            env=_env(data_dir, **extra), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _run(data_dir: Path, *args: str) -> str:
    proc = _cli(data_dir, *args)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return out


def _kill_after(proc: subprocess.Popen[str], seconds: float) -> None:
    time.sleep(seconds)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)


def content(data_dir: Path) -> frozenset[tuple[str, str, str]]:
    """Every triple about a record (identified by its id), as text: the state to compare."""
    store = Store(data_dir, read_only=True)
    try:
        rows = store.select("SELECT ?id ?p ?o WHERE { ?s <http://purl.org/dc/terms/identifier> "
                            "?id ; ?p ?o }")
    finally:
        store.close()
    return frozenset((str(r["id"]), str(r["p"]), str(r["o"])) for r in rows)


def answers(data_dir: Path) -> dict[str, list[tuple[str, float]]]:
    """Search answers (ids and scores) from a read-only open: it refuses a stale index."""
    kb = KnowledgeBase(data_dir=data_dir, read_only=True)
    try:
        return {q: [(h.id, round(h.score, 5)) for h in kb.search(q, k=9).hits] for q in QUERIES}
    finally:
        kb.close()


def _version_b() -> str:
    """Version B of the corpus: texts changed, one record gone, one new."""
    records = [json.loads(line) for line in RECORDS.read_text(encoding="utf-8").splitlines()]
    changed = []
    for r in records:
        if r["id"] == "les-gent-buurtfeest":
            continue
        if r.get("type") == "lesson":
            r = {**r, "text": r.get("text", "") + " Tweede versie, na de werktafel herschreven."}
        changed.append(r)
    changed.append({"id": "les-nieuw-deelauto", "type": "lesson", "title": "Deelauto's per straat",
                    "text": "Een straat deelt drie auto's; de parkeerdruk daalt.",
                    "themes": ["mobiliteit"]})
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in changed)


class Source:
    """The one delivered file (its path is its identity in the store), in version A or B."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.versions = {"a": RECORDS.read_text(encoding="utf-8"), "b": _version_b()}

    def as_version(self, name: str) -> str:
        self.path.write_text(self.versions[name], encoding="utf-8")
        return str(self.path)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Clean builds: A (the corpus), B (its next version ingested over A), A + the rewrite."""
    tmp = tmp_path_factory.mktemp("crash")
    source = Source(tmp / "source" / "records.jsonl")
    a = tmp / "clean-a"
    _run(a, "ingest", source.as_version("a"))
    b = tmp / "clean-b"
    shutil.copytree(a, b)
    started = time.monotonic()
    _run(b, "ingest", source.as_version("b"))
    ingest_seconds = time.monotonic() - started
    rewritten = tmp / "clean-rewritten"
    shutil.copytree(a, rewritten)
    kb = KnowledgeBase(data_dir=rewritten)
    try:
        kb.sparql_update(REWRITE)
    finally:
        kb.close()
    yield {
        "tmp": tmp, "a": a, "source": source, "ingest_seconds": ingest_seconds,
        "states": {"a": (content(a), answers(a)), "b": (content(b), answers(b)),
                   "rewritten": (content(rewritten), answers(rewritten))},
    }


def _which(states: dict[str, Any], data_dir: Path, allowed: tuple[str, str]) -> str:
    now = content(data_dir)
    found = [name for name in allowed if states[name][0] == now]
    assert found, f"after the kill the store is neither {allowed[0]} nor {allowed[1]}"
    return found[0]


def test_kill_ingest(corpus: dict[str, Any]) -> None:
    rng = random.Random(20261203)
    states, seen = corpus["states"], set()
    for run in range(RUNS):
        data_dir = corpus["tmp"] / f"ingest-{run}"
        shutil.copytree(corpus["a"], data_dir)
        b = corpus["source"].as_version("b")
        proc = _cli(data_dir, "ingest", b)
        _kill_after(proc, rng.uniform(0.5, corpus["ingest_seconds"]))
        state = _which(states, data_dir, ("a", "b"))
        seen.add(state)
        print(f"ingest run {run}: killed in state {state}")
        _run(data_dir, "ingest", b)  # the next command reconciles
        assert content(data_dir) == states["b"][0]
        assert answers(data_dir) == states["b"][1]
    assert seen  # which states the kills hit is chance; each was checked above


def test_kill_serve_during_an_update(corpus: dict[str, Any]) -> None:
    rng = random.Random(8)
    states = corpus["states"]
    for run in range(RUNS):
        data_dir = corpus["tmp"] / f"serve-{run}"
        shutil.copytree(corpus["a"], data_dir)
        port = free_port()
        server = _cli(data_dir, "serve", WIJKEN_PORT=str(port), WIJKEN_UPDATE_TOKEN=TOKEN)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(url, server)
            update = threading.Thread(target=_post_update, args=(url,), daemon=True)
            started = time.monotonic()
            update.start()
            # Half the kills aim at the commit itself (the first tens of milliseconds), half
            # at the re-embedding that follows it.
            _kill_after(server, rng.choice([rng.uniform(0.0, 0.08), rng.uniform(0.08, 3.0)]))
            update.join(60)
            elapsed = time.monotonic() - started
        finally:
            if server.poll() is None:
                server.kill()
                server.communicate(timeout=60)
        state = _which(states, data_dir, ("a", "rewritten"))
        print(f"serve run {run}: killed after {elapsed:.2f} s in state {state}")
        # Restart: the server reconciles the index with the store before it answers.
        port = free_port()
        server = _cli(data_dir, "serve", WIJKEN_PORT=str(port))
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(url, server)
            with httpx.Client(base_url=url, timeout=60) as http:
                health = http.get("/api/health").json()
                assert health["index"]["state"] == "ready", (elapsed, health)
                for query, expected in states[state][1].items():
                    hits = http.get("/api/search", params={"q": query, "k": 9}).json()["hits"]
                    assert [(h["id"], round(h["score"], 5)) for h in hits] == expected
                count = http.get("/sparql", params={"query": (
                    "SELECT (COUNT(*) AS ?n) WHERE { ?s <http://purl.org/dc/terms/identifier> "
                    "?id ; ?p ?o }")}).json()["results"]["bindings"][0]["n"]["value"]
                assert int(count) == len(states[state][0])
        finally:
            server.terminate()
            server.communicate(timeout=60)


def test_kill_reindex(corpus: dict[str, Any]) -> None:
    rng = random.Random(13)
    states = corpus["states"]
    for run in range(RUNS):
        data_dir = corpus["tmp"] / f"reindex-{run}"
        shutil.copytree(corpus["a"], data_dir)
        proc = _cli(data_dir, "reindex")
        _kill_after(proc, rng.uniform(0.5, corpus["ingest_seconds"]))
        assert content(data_dir) == states["a"][0]  # reindex never changes the store
        # The next command that writes reconciles; a read-only one then finds it fresh.
        _run(data_dir, "ingest", corpus["source"].as_version("a"))
        assert answers(data_dir) == states["a"][1]


def _wait_ready(url: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the server stopped: {server.communicate()[1]}")
        try:
            if httpx.get(url + "/api/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("the server did not start")


def _post_update(url: str) -> None:
    with contextlib.suppress(httpx.TransportError):  # killed under it: that is the point
        httpx.post(url + "/sparql", data={"update": REWRITE},
                   headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120)
